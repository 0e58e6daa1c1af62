//! The slow part of an update, done before its transaction opens: downloading a photo from
//! Telegram, checking it, and putting its bytes in storage. A transaction (and, on SQLite, the
//! one connection) is never held across a download.

use bytes::Bytes;
use studio_bot_ui::{Dialog, Intent, Update, UploadedFile, intent};
use studio_domain::ChatId;
use studio_domain::photo::{self, InspectedPhoto, MAX_PHOTO_BYTES, PhotoRejection};
use studio_persistence::DatabaseConnection;
use studio_persistence::RepoError;
use studio_persistence::repos::chat_state;
use studio_providers::telegram::{DownloadError, TelegramClient};

use super::Services;
use crate::imaging::ImagingError;

/// A photo after its checks.
#[derive(Debug, Clone)]
pub enum PhotoOutcome {
    /// Passed the checks and is in storage under `key`.
    Stored {
        inspected: InspectedPhoto,
        key: String,
        file_id: String,
        /// `file_id` again when it is a photo's; `None` for a file (a document's id).
        photo_file_id: Option<String>,
        size: u64,
    },
    Rejected(PhotoRejection),
    /// Telegram did not give us the file (network, expired id); the person may resend.
    DownloadFailed,
}

#[derive(Clone)]
pub struct Prepared {
    pub update: Option<Update>,
    pub photo: Option<PhotoOutcome>,
}

pub async fn prepare(
    db: &DatabaseConnection,
    services: &Services,
    payload: &str,
) -> Result<Prepared, RepoError> {
    let Ok(update) = Update::parse(payload) else {
        return Ok(Prepared {
            update: None,
            photo: None,
        });
    };
    let photo = match (update.chat_id(), update.message.as_ref()) {
        (Some(chat), Some(message)) if message.photo.is_some() || message.document.is_some() => {
            let dialog = Dialog::from_stored(chat_state::load(db, ChatId(chat)).await?.as_deref());
            match intent(&dialog, &update) {
                Intent::Photo(file) => Some(fetch(services, &file).await),
                _ => None,
            }
        }
        _ => None,
    };
    Ok(Prepared {
        update: Some(update),
        photo,
    })
}

async fn fetch(services: &Services, file: &UploadedFile) -> PhotoOutcome {
    if file
        .declared_size
        .is_some_and(|size| size > MAX_PHOTO_BYTES)
    {
        return PhotoOutcome::Rejected(PhotoRejection::TooLarge);
    }
    let bytes = match download(&services.telegram, &file.file_id).await {
        Ok(bytes) => bytes,
        Err(Download::TooLarge) => return PhotoOutcome::Rejected(PhotoRejection::TooLarge),
        Err(Download::Failed | Download::Refused) => return PhotoOutcome::DownloadFailed,
    };
    let inspected = match photo::inspect(&bytes) {
        Ok(inspected) => inspected,
        Err(why) => return PhotoOutcome::Rejected(why),
    };
    // The training decodes every photo: one it could not decode within a pod's memory is
    // refused now, from its header, not when the training runs.
    match crate::imaging::decode_cost(&bytes) {
        Ok(_) => {}
        Err(ImagingError::TooLarge { width, height, .. }) => {
            return PhotoOutcome::Rejected(PhotoRejection::TooManyPixels { width, height });
        }
        Err(ImagingError::Unreadable(_)) => {
            return PhotoOutcome::Rejected(PhotoRejection::NotAnImage);
        }
    }
    // Keyed by content: the same bytes sent twice land on the same key, so refusing a
    // duplicate never needs to delete anything.
    let key = format!(
        "avatars/{}/{}.{}",
        file.avatar,
        inspected.sha256,
        inspected.format.extension()
    );
    let size = bytes.len() as u64;
    if let Err(err) = services.storage.put(&key, bytes).await {
        tracing::error!(error = %err, key, "cannot store photo");
        return PhotoOutcome::DownloadFailed;
    }
    PhotoOutcome::Stored {
        inspected,
        key,
        file_id: file.file_id.clone(),
        photo_file_id: file.as_photo.then(|| file.file_id.clone()),
        size,
    }
}

/// Why a file did not come from Telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    /// Over 20 MB: the Bot API does not hand such files to bots.
    TooLarge,
    /// Network or Telegram trouble; a later try may work.
    Failed,
    /// Telegram refused the file id (expired, or not ours): trying again cannot help.
    Refused,
}

/// A photo's bytes from Telegram, at most `MAX_PHOTO_BYTES`, and what a failure means.
pub async fn download(telegram: &TelegramClient, file_id: &str) -> Result<Bytes, Download> {
    match telegram.fetch_file(file_id, MAX_PHOTO_BYTES).await {
        Ok(bytes) => Ok(bytes),
        Err(DownloadError::TooLarge(_)) => Err(Download::TooLarge),
        Err(DownloadError::Telegram(err)) if err.is_retryable() => {
            tracing::warn!(error = %err, "file download failed");
            Err(Download::Failed)
        }
        Err(DownloadError::Telegram(err)) => {
            tracing::warn!(error = %err, "Telegram refused the file id");
            Err(Download::Refused)
        }
    }
}

//! Photos from our storage: read before a call's slot comes, sent as `multipart/form-data`,
//! and the photo id Telegram answers with kept on its row, so the next time uploads nothing.
//! A single photo is the part `photo`; an album's are `p0`, `p1`, … in the order of `media`.

use serde_json::Value;
use studio_bot_ui::{ALBUM_FIELD, Remember, UPLOAD_FIELD, Upload};
use studio_persistence::repos::outbox::ClaimedCall;
use studio_persistence::repos::{generations, photos};
use studio_providers::telegram::TelegramError;

use super::Sender;

impl Sender {
    /// The stored photos a call uploads, if it is such a call.
    pub(super) async fn load_upload(
        &self,
        call: &ClaimedCall,
    ) -> Result<Option<LoadedUpload>, TelegramError> {
        if !call.payload.contains(UPLOAD_FIELD) && !call.payload.contains(ALBUM_FIELD) {
            return Ok(None);
        }
        let mut payload: Value = serde_json::from_str(&call.payload).unwrap_or_default();
        let Some(object) = payload.as_object_mut() else {
            return Ok(None);
        };
        let wanted: Vec<(String, Upload)> = if let Some(one) = object.remove(UPLOAD_FIELD) {
            let upload = serde_json::from_value(one).map_err(|_| rejected("malformed upload"))?;
            vec![("photo".to_owned(), upload)]
        } else if let Some(album) = object.remove(ALBUM_FIELD) {
            let uploads: Vec<Upload> =
                serde_json::from_value(album).map_err(|_| rejected("malformed album"))?;
            let parts = (0..uploads.len()).map(|i| format!("p{i}"));
            parts.zip(uploads).collect()
        } else {
            return Ok(None);
        };
        let mut files = Vec::with_capacity(wanted.len());
        for (part, upload) in wanted {
            let bytes = self.storage.get(&upload.key).await.map_err(|err| {
                tracing::warn!(key = upload.key, error = %err, "photo to upload is not in storage");
                rejected("stored photo is missing")
            })?;
            files.push(LoadedFile {
                part,
                bytes,
                remember: upload.remember(),
            });
        }
        let fields = object
            .iter()
            .map(|(k, v)| match v {
                Value::String(text) => (k.clone(), text.clone()),
                other => (k.clone(), other.to_string()),
            })
            .collect();
        Ok(Some(LoadedUpload { fields, files }))
    }

    /// Stored photos, sent as `multipart/form-data`; the `file_id` Telegram gives each (in the
    /// sent or edited message, or the album's messages in order) is remembered on its row, so
    /// showing it again uploads nothing.
    pub(super) async fn upload(
        &self,
        call: &ClaimedCall,
        upload: LoadedUpload,
    ) -> Result<(), TelegramError> {
        let remember: Vec<Option<Remember>> = upload.files.iter().map(|f| f.remember).collect();
        let files = upload
            .files
            .into_iter()
            .map(|f| (f.part, f.bytes, "image.jpg".to_owned()))
            .collect();
        let sent = self
            .telegram
            .upload_files(&call.method, upload.fields, files)
            .await?;
        let messages = match sent {
            Value::Array(messages) => messages,
            message => vec![message],
        };
        for (message, remember) in messages.iter().zip(remember) {
            if let (Some(remember), Some(file_id)) = (remember, largest_photo(message)) {
                self.remember(remember, file_id).await;
            }
        }
        Ok(())
    }

    async fn remember(&self, remember: Remember, file_id: &str) {
        let remembered = match remember {
            Remember::Generation(id) => generations::set_file_id(&self.db, id, file_id).await,
            Remember::AvatarPhoto(id) => photos::set_photo_file_id(&self.db, id, file_id).await,
        };
        if let Err(err) = remembered {
            tracing::warn!(error = %err, "photo's file_id not remembered; the next view uploads");
        }
    }
}

fn largest_photo(message: &Value) -> Option<&str> {
    message
        .get("photo")
        .and_then(Value::as_array)
        .and_then(|sizes| sizes.last())
        .and_then(|size| size.get("file_id"))
        .and_then(Value::as_str)
}

pub(super) fn rejected(description: &str) -> TelegramError {
    TelegramError::Rejected {
        code: 400,
        description: description.to_owned(),
    }
}

/// A file read from storage, and the multipart part it goes in.
pub(super) struct LoadedFile {
    part: String,
    bytes: bytes::Bytes,
    remember: Option<Remember>,
}

/// Stored photos read and ready to upload with the call's other parameters.
pub(super) struct LoadedUpload {
    fields: Vec<(String, String)>,
    files: Vec<LoadedFile>,
}

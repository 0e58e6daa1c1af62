//! Photos from our storage: read before a call's slot comes, sent as `multipart/form-data`,
//! and the photo id Telegram answers with kept on its row, so the next time uploads nothing.

use studio_bot_ui::{Remember, UPLOAD_FIELD, Upload};
use studio_persistence::repos::outbox::ClaimedCall;
use studio_persistence::repos::{generations, photos};
use studio_providers::telegram::TelegramError;

use super::Sender;

impl Sender {
    /// The stored photo a call uploads, if it is such a call.
    pub(super) async fn load_upload(
        &self,
        call: &ClaimedCall,
    ) -> Result<Option<LoadedUpload>, TelegramError> {
        if !call.payload.contains(UPLOAD_FIELD) {
            return Ok(None);
        }
        let mut payload: serde_json::Value =
            serde_json::from_str(&call.payload).unwrap_or_default();
        let Some(upload) = payload.as_object_mut().and_then(|o| o.remove(UPLOAD_FIELD)) else {
            return Ok(None);
        };
        let upload: Upload =
            serde_json::from_value(upload).map_err(|_| rejected("malformed upload"))?;
        let bytes = self.storage.get(&upload.key).await.map_err(|err| {
            tracing::warn!(key = upload.key, error = %err, "photo to upload is not in storage");
            rejected("stored photo is missing")
        })?;
        let fields = payload
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| match v {
                serde_json::Value::String(text) => (k.clone(), text.clone()),
                other => (k.clone(), other.to_string()),
            })
            .collect();
        Ok(Some(LoadedUpload {
            fields,
            bytes,
            remember: upload.remember(),
        }))
    }

    /// A photo from our storage, sent as `multipart/form-data`; the `file_id` Telegram gives
    /// it (in the sent or edited message) is remembered on its row, so showing it again
    /// uploads nothing.
    pub(super) async fn upload(
        &self,
        call: &ClaimedCall,
        upload: LoadedUpload,
    ) -> Result<(), TelegramError> {
        let sent = self
            .telegram
            .upload_photo(&call.method, upload.fields, upload.bytes, "image.jpg")
            .await?;
        let file_id = sent
            .get("photo")
            .and_then(serde_json::Value::as_array)
            .and_then(|sizes| sizes.last())
            .and_then(|size| size.get("file_id"))
            .and_then(serde_json::Value::as_str);
        let (Some(remember), Some(file_id)) = (upload.remember, file_id) else {
            return Ok(());
        };
        let remembered = match remember {
            Remember::Generation(id) => generations::set_file_id(&self.db, id, file_id).await,
            Remember::AvatarPhoto(id) => photos::set_photo_file_id(&self.db, id, file_id).await,
        };
        if let Err(err) = remembered {
            tracing::warn!(error = %err, "photo's file_id not remembered; the next view uploads");
        }
        Ok(())
    }
}

pub(super) fn rejected(description: &str) -> TelegramError {
    TelegramError::Rejected {
        code: 400,
        description: description.to_owned(),
    }
}

/// A stored photo read and ready to upload with the call's other parameters.
pub(super) struct LoadedUpload {
    fields: Vec<(String, String)>,
    bytes: bytes::Bytes,
    remember: Option<Remember>,
}

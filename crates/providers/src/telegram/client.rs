use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::TelegramError;

/// Bot API client. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct TelegramClient {
    http: reqwest::Client,
    /// `{api}/bot{token}/`: kept private and never logged.
    base: SecretString,
    /// `{api}/file/bot{token}/`: where `getFile` paths download from.
    files: SecretString,
}

impl std::fmt::Debug for TelegramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramClient").finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct Envelope {
    ok: bool,
    result: Option<Value>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Debug, Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    pub id: i64,
    pub username: Option<String>,
}

/// `getFile`'s answer: where to download a file from, valid for about an hour.
#[derive(Debug, Clone, Deserialize)]
pub struct TelegramFile {
    pub file_id: String,
    pub file_size: Option<u64>,
    pub file_path: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("file is larger than {0} bytes")]
    TooLarge(u64),
    #[error(transparent)]
    Telegram(#[from] TelegramError),
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookInfo {
    pub url: String,
    #[serde(default)]
    pub pending_update_count: u64,
    pub last_error_message: Option<String>,
}

impl TelegramClient {
    pub fn new(http: reqwest::Client, api_url: &str, token: &SecretString) -> Self {
        let api = api_url.trim_end_matches('/');
        let base = format!("{api}/bot{}/", token.expose_secret());
        let files = format!("{api}/file/bot{}/", token.expose_secret());
        Self {
            http,
            base: SecretString::from(base),
            files: SecretString::from(files),
        }
    }

    /// Calls `method` with a JSON body as stored in the outbox; returns `result`.
    pub async fn call_raw(&self, method: &str, body: &str) -> Result<Value, TelegramError> {
        let url = format!("{}{method}", self.base.expose_secret());
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        interpret(status, &bytes)
    }

    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &Value,
    ) -> Result<T, TelegramError> {
        let result = self.call_raw(method, &body.to_string()).await?;
        serde_json::from_value(result).map_err(|e| TelegramError::Server {
            code: 200,
            description: format!("unexpected {method} result: {e}"),
        })
    }

    pub async fn get_me(&self) -> Result<Me, TelegramError> {
        self.call("getMe", &json!({})).await
    }

    pub async fn set_webhook(
        &self,
        url: &str,
        secret_token: &SecretString,
        allowed_updates: &[&str],
        max_connections: u8,
    ) -> Result<bool, TelegramError> {
        let body = json!({
            "url": url,
            "secret_token": secret_token.expose_secret(),
            "allowed_updates": allowed_updates,
            "max_connections": max_connections,
        });
        self.call("setWebhook", &body).await
    }

    /// Polling and webhooks exclude each other; pending updates are kept.
    pub async fn delete_webhook(&self) -> Result<bool, TelegramError> {
        self.call("deleteWebhook", &json!({"drop_pending_updates": false}))
            .await
    }

    pub async fn get_webhook_info(&self) -> Result<WebhookInfo, TelegramError> {
        self.call("getWebhookInfo", &json!({})).await
    }

    /// Long-polls for updates after `offset`, returned as raw JSON objects.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout: Duration,
        allowed_updates: &[&str],
    ) -> Result<Vec<Value>, TelegramError> {
        let body = json!({
            "offset": offset,
            "timeout": timeout.as_secs(),
            "allowed_updates": allowed_updates,
        });
        self.call("getUpdates", &body).await
    }
}

impl TelegramClient {
    /// `sendPhoto` or `editMessageMedia` with the image uploaded as the `multipart/form-data`
    /// part `photo` (`editMessageMedia`'s media names it `attach://photo`): `fields` are the
    /// call's other parameters (objects as JSON text). Returns the sent `Message`.
    pub async fn upload_photo(
        &self,
        method: &str,
        fields: Vec<(String, String)>,
        photo: bytes::Bytes,
        file_name: &str,
    ) -> Result<Value, TelegramError> {
        let files = vec![("photo".to_owned(), photo, file_name.to_owned())];
        self.upload_files(method, fields, files).await
    }

    /// A call with several files as `multipart/form-data` parts, each `(part name, bytes,
    /// file name)`: `sendMediaGroup` names them `attach://<part name>` in its `media`.
    /// Returns the call's result (for an album, the array of sent messages).
    pub async fn upload_files(
        &self,
        method: &str,
        fields: Vec<(String, String)>,
        files: Vec<(String, bytes::Bytes, String)>,
    ) -> Result<Value, TelegramError> {
        let url = format!("{}{method}", self.base.expose_secret());
        let mut form = fields
            .into_iter()
            .fold(reqwest::multipart::Form::new(), |form, (k, v)| {
                form.text(k, v)
            });
        for (name, bytes, file_name) in files {
            let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name(file_name)
                .mime_str("image/jpeg")
                .map_err(TelegramError::from)?;
            form = form.part(name, part);
        }
        let response = self.http.post(url).multipart(form).send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        interpret(status, &bytes)
    }
}

impl TelegramClient {
    pub async fn get_file(&self, file_id: &str) -> Result<TelegramFile, TelegramError> {
        self.call("getFile", &json!({"file_id": file_id})).await
    }

    /// A file someone sent, by its id (`getFile`, then the download), refusing more than
    /// `max_bytes`. Telegram does not hand bots files over 20 MB: it omits their path or says
    /// "file is too big", and both count as too large.
    pub async fn fetch_file(
        &self,
        file_id: &str,
        max_bytes: u64,
    ) -> Result<bytes::Bytes, DownloadError> {
        let path = match self.get_file(file_id).await {
            Ok(found) => found.file_path,
            Err(TelegramError::Rejected { description, .. }) if description.contains("too big") => {
                return Err(DownloadError::TooLarge(max_bytes));
            }
            Err(err) => return Err(err.into()),
        };
        let path = path.ok_or(DownloadError::TooLarge(max_bytes))?;
        self.download(&path, max_bytes).await
    }

    /// Downloads a file by its `getFile` path. The link holds the token, so it is used here and
    /// never handed to anyone else.
    async fn download(
        &self,
        file_path: &str,
        max_bytes: u64,
    ) -> Result<bytes::Bytes, DownloadError> {
        let url = format!(
            "{}{}",
            self.files.expose_secret(),
            file_path.trim_start_matches('/')
        );
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(TelegramError::from)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(classify(status, format!("download failed with {status}"), None).into());
        }
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(DownloadError::TooLarge(max_bytes));
        }
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(TelegramError::from)? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(DownloadError::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

fn interpret(status: u16, body: &[u8]) -> Result<Value, TelegramError> {
    let envelope: Envelope = match serde_json::from_slice(body) {
        Ok(envelope) => envelope,
        Err(_) => {
            let description = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            return Err(classify(status, description, None));
        }
    };
    if envelope.ok {
        return Ok(envelope.result.unwrap_or(Value::Null));
    }
    let code = envelope.error_code.unwrap_or(status);
    let description = envelope.description.unwrap_or_default();
    let retry_after = envelope.parameters.and_then(|p| p.retry_after);
    Err(classify(code, description, retry_after))
}

fn classify(code: u16, description: String, retry_after: Option<u64>) -> TelegramError {
    match code {
        429 => TelegramError::RetryAfter(Duration::from_secs(retry_after.unwrap_or(1).max(1))),
        403 => TelegramError::Forbidden(description),
        400..=499 => TelegramError::Rejected { code, description },
        _ => TelegramError::Server { code, description },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{TelegramError, interpret};

    #[test]
    fn classifies_the_documented_errors() {
        let body = br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}"#;
        assert!(
            matches!(interpret(429, body), Err(TelegramError::RetryAfter(d)) if d == Duration::from_secs(35))
        );
        let body = br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#;
        assert!(matches!(
            interpret(403, body),
            Err(TelegramError::Forbidden(_))
        ));
        let body = br#"{"ok":false,"error_code":400,"description":"Bad Request: message is not modified"}"#;
        assert!(matches!(
            interpret(400, body),
            Err(TelegramError::Rejected { code: 400, .. })
        ));
        assert!(matches!(
            interpret(502, b"<html>bad gateway</html>"),
            Err(TelegramError::Server { code: 502, .. })
        ));
        assert_eq!(
            interpret(200, br#"{"ok":true,"result":true}"#).unwrap(),
            serde_json::json!(true)
        );
    }
}

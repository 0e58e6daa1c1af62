use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::FalError;
use super::models::ModelInput;
use super::types::{QueuedRequest, RequestStatus, StatusBody};

/// How long FAL keeps a file we upload, or the files a request outputs: FAL's CDN honours
/// this header on uploads and submissions.
const LIFECYCLE_HEADER: &str = "x-fal-object-lifecycle-preference";

/// FAL queue client. Cheap to clone. The key goes only to the queue's own URLs, never to the
/// CDN links of results.
#[derive(Clone)]
pub struct FalClient {
    http: reqwest::Client,
    queue_url: String,
    rest_url: String,
    /// `None` when FAL_KEY is not configured: every submission is then refused.
    key: Option<SecretString>,
}

impl std::fmt::Debug for FalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FalClient")
            .field("queue_url", &self.queue_url)
            .finish_non_exhaustive()
    }
}

impl FalClient {
    pub fn new(
        http: reqwest::Client,
        queue_url: &str,
        rest_url: &str,
        key: Option<SecretString>,
    ) -> Self {
        Self {
            http,
            queue_url: queue_url.trim_end_matches('/').to_owned(),
            rest_url: rest_url.trim_end_matches('/').to_owned(),
            key,
        }
    }

    /// Uploads a file through FAL's storage (`initiate`, then `PUT` to the signed URL it
    /// returns) and returns the URL models read it from. With `expires_after`, FAL's CDN
    /// deletes the file then (people's photos should not stay public longer than a training
    /// needs them); without, the account's default applies.
    pub async fn upload(
        &self,
        body: impl Into<reqwest::Body>,
        length: u64,
        content_type: &str,
        file_name: &str,
        expires_after: Option<std::time::Duration>,
    ) -> Result<String, FalError> {
        let initiated = self
            .initiate(content_type, file_name, expires_after)
            .await?;
        // The upload URL is signed: our key does not go there.
        let response = self
            .http
            .put(&initiated.upload_url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            // Signed upload URLs want the length up front, also for a streamed body.
            .header(reqwest::header::CONTENT_LENGTH, length)
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(FalError::from_status(status, &response.bytes().await?));
        }
        Ok(initiated.file_url)
    }

    /// Whether FAL accepts the key for billable calls, for operators' checks: starts an upload
    /// (nothing is uploaded, nothing is billed). A bad key answers 401; an account FAL has
    /// locked (an exhausted balance) answers 403, as every billable call then does.
    pub async fn check_key(&self) -> Result<(), FalError> {
        self.initiate("text/plain", "check.txt", None)
            .await
            .map(drop)
    }

    /// Starts an upload to FAL's storage: where to `PUT` the bytes, and where models read them.
    async fn initiate(
        &self,
        content_type: &str,
        file_name: &str,
        expires_after: Option<std::time::Duration>,
    ) -> Result<Initiated, FalError> {
        let url = format!("{}/storage/upload/initiate", self.rest_url);
        let mut request = self
            .authorised(self.http.post(url))
            .query(&[("storage_type", "fal-cdn-v3")])
            .json(&serde_json::json!({"content_type": content_type, "file_name": file_name}));
        if let Some(ttl) = expires_after {
            let preference = serde_json::json!({"expiration_duration_seconds": ttl.as_secs()});
            request = request.header(LIFECYCLE_HEADER, preference.to_string());
        }
        read_json(request.send().await?).await
    }

    fn require_key(&self) -> Result<(), FalError> {
        match self.key {
            Some(_) => Ok(()),
            None => Err(FalError::Refused {
                status: 401,
                detail: "FAL_KEY is not set".into(),
            }),
        }
    }

    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.key {
            Some(key) => request.header(
                reqwest::header::AUTHORIZATION,
                format!("Key {}", key.expose_secret()),
            ),
            None => request,
        }
    }

    /// Queues `input` for the model that takes it; FAL posts the result to `webhook` when
    /// given.
    pub async fn submit<I: ModelInput>(
        &self,
        input: &I,
        webhook: Option<&str>,
    ) -> Result<QueuedRequest, FalError> {
        self.require_key()?;
        let url = format!("{}/{}", self.queue_url, input.model_id());
        let mut request = self.authorised(self.http.post(url)).json(input);
        if let Some(webhook) = webhook {
            request = request.query(&[("fal_webhook", webhook)]);
        }
        read_json(request.send().await?).await
    }

    pub async fn status(&self, status_url: &str) -> Result<RequestStatus, FalError> {
        let body: StatusBody =
            read_json(self.authorised(self.http.get(status_url)).send().await?).await?;
        match body.status.as_str() {
            "IN_QUEUE" => Ok(RequestStatus::InQueue {
                position: body.queue_position,
            }),
            "IN_PROGRESS" => Ok(RequestStatus::InProgress),
            "COMPLETED" => Ok(RequestStatus::Completed),
            other => Err(FalError::Malformed(format!("unknown status {other:?}"))),
        }
    }

    /// The output of a completed request. A failed request answers with the model's own error
    /// and status, final after `COMPLETED`: only a validation error (422) is `Rejected`, our
    /// key or account refused is `Refused`, a 429 or a broken connection is transient, and
    /// anything else `Failed`.
    pub async fn result(&self, response_url: &str) -> Result<Value, FalError> {
        let response = self.authorised(self.http.get(response_url)).send().await?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) || matches!(status, 401 | 403 | 422 | 429) {
            return read_json(response).await;
        }
        let body = response.bytes().await?;
        let detail = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
        Err(FalError::Failed { status, detail })
    }

    /// Asks FAL to cancel. Cancel is a signal: a running request may still finish (its late
    /// result is then discarded on purpose). A request already finished (400
    /// `ALREADY_COMPLETED`) or unknown (404 `NOT_FOUND`) has nothing to cancel: not an error.
    pub async fn cancel(&self, cancel_url: &str) -> Result<(), FalError> {
        let response = self.authorised(self.http.put(cancel_url)).send().await?;
        let status = response.status().as_u16();
        match status {
            200..=299 | 400 | 404 => Ok(()),
            _ => Err(FalError::from_status(status, &response.bytes().await?)),
        }
    }

    /// Downloads a result file from its (public, expiring) URL, refusing more than `max_bytes`.
    pub async fn download(&self, url: &str, max_bytes: u64) -> Result<Bytes, FalError> {
        let mut download = self.open(url, max_bytes).await?;
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = download.chunk().await? {
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// Starts reading a file from FAL's CDN (public: no key goes there), to take it piece by
    /// piece; more than `max_bytes` is refused. An expired file answers 404.
    pub async fn open(&self, url: &str, max_bytes: u64) -> Result<Download, FalError> {
        let response = self.http.get(url).send().await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(FalError::from_status(status, b"download failed"));
        }
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(FalError::TooLarge(max_bytes));
        }
        Ok(Download {
            response,
            max: max_bytes,
            read: 0,
        })
    }

    /// Whether FAL's CDN still has a file: files expire by the account's or the upload's
    /// lifecycle, and an expired one is gone for good. Without a key nothing could use the
    /// file, so nothing is asked.
    pub async fn is_available(&self, url: &str) -> Result<bool, FalError> {
        self.require_key()?;
        let response = self.http.head(url).send().await?;
        match response.status().as_u16() {
            200..=299 => Ok(true),
            403 | 404 | 410 => Ok(false),
            status => Err(FalError::from_status(status, b"file check failed")),
        }
    }
}

/// A file being read from FAL's CDN; see `FalClient::open`.
pub struct Download {
    response: reqwest::Response,
    max: u64,
    read: u64,
}

impl Download {
    /// The next piece, or `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, FalError> {
        let Some(chunk) = self.response.chunk().await? else {
            return Ok(None);
        };
        self.read += chunk.len() as u64;
        if self.read > self.max {
            return Err(FalError::TooLarge(self.max));
        }
        Ok(Some(chunk))
    }
}

#[derive(serde::Deserialize)]
struct Initiated {
    upload_url: String,
    file_url: String,
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, FalError> {
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    if !(200..300).contains(&status) {
        return Err(FalError::from_status(status, &body));
    }
    serde_json::from_slice(&body).map_err(|e| FalError::Malformed(e.to_string()))
}

//! A fake FAL on 127.0.0.1: the queue API (submit, status, result, cancel), result files, the
//! JWKS, and signed webhooks posted back like FAL does. Each submission ends as the next
//! scripted `FalOutcome` (an image, by default).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::recorder::{self, Recorder};

/// How the next submission ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FalOutcome {
    Image,
    /// The safety checker flags the image.
    Nsfw,
    /// The request fails: `ERROR` webhook, and the result URL answers this status.
    Error(u16),
    /// Never finishes.
    Pending,
    /// An image, but the webhook says `OK` with `payload: null` and `payload_error` (FAL could
    /// not serialise it); the result URL has it.
    UnsentPayload,
    /// Runs until cancelled, then finishes with an image anyway (and is billed): cancel is a
    /// signal a running request may not heed.
    FinishesDespiteCancel,
    /// A file the input points at (a LoRA, a zip of photos) could not be downloaded: FAL
    /// fails the request with 422 `file_download_error`. Decided by the fake at submission.
    InputFileMissing,
}

/// One submission as FAL received it.
#[derive(Debug, Clone)]
pub struct FalSubmission {
    pub request_id: String,
    pub model: String,
    pub input: Value,
    pub webhook: Option<String>,
    pub authorization: Option<String>,
}

struct Request {
    outcome: FalOutcome,
    ready_at: tokio::time::Instant,
    /// Status polls answered so far while not done.
    polls: usize,
    /// Where the webhook goes, if anywhere.
    webhook: Option<String>,
}

/// A file on the fake CDN: results, and what was uploaded through storage.
struct CdnFile {
    bytes: Vec<u8>,
    content_type: String,
    /// Gone from this moment (of the fake's clock), as FAL's lifecycle settings delete files.
    expires_at: Option<tokio::time::Instant>,
}

/// One file uploaded through FAL storage.
#[derive(Debug, Clone)]
pub struct FalUpload {
    pub bytes: Vec<u8>,
    pub url: String,
    /// The lifecycle asked for in `X-Fal-Object-Lifecycle-Preference`, in seconds.
    pub expires_after_secs: Option<u64>,
}

#[derive(Default)]
struct Inner {
    submissions: Vec<FalSubmission>,
    submit_failures: VecDeque<u16>,
    outcomes: VecDeque<FalOutcome>,
    requests: HashMap<String, Request>,
    status_polls: usize,
    result_fetches: usize,
    cancels: usize,
    /// Uploads initiated (their file URL and lifecycle), by number; the PUT fills them in.
    initiated: Vec<(String, Option<u64>)>,
    uploads: Vec<FalUpload>,
    /// The CDN's files by name (the last part of their URL).
    files: HashMap<String, CdnFile>,
    /// How far the CDN's clock is ahead of the real one (see `advance_clock`).
    clock_ahead: Duration,
    latency: Duration,
    /// The account is locked: billable calls answer 403 (see `lock_account`).
    locked: bool,
    /// The JWKS answers 503 (see `fail_jwks`); fetches so far.
    jwks_down: bool,
    jwks_fetches: usize,
    /// Where webhooks go: the origin replacing the one in `fal_webhook` (the app behind its
    /// proxy). `None`: no webhooks, so nothing ever leaves 127.0.0.1.
    webhook_origin: Option<String>,
}

#[derive(Clone)]
struct Shared {
    record: Recorder<Inner>,
    key: Arc<Ed25519KeyPair>,
    url: Arc<str>,
    http: reqwest::Client,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.record.lock()
    }
}

impl Inner {
    fn now(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.clock_ahead
    }

    fn host(&mut self, name: &str, bytes: Vec<u8>, content_type: &str, ttl: Option<Duration>) {
        let expires_at = ttl.map(|ttl| self.now() + ttl);
        let file = CdnFile {
            bytes,
            content_type: content_type.to_owned(),
            expires_at,
        };
        self.files.insert(name.to_owned(), file);
    }

    /// The live file behind a URL of this CDN, if any.
    fn live_file(&self, base: &str, url: &str) -> Option<&CdnFile> {
        let name = url.strip_prefix(base)?.strip_prefix("/files/")?;
        let file = self.files.get(name)?;
        file.expires_at
            .is_none_or(|at| self.now() < at)
            .then_some(file)
    }
}

pub struct FakeFal {
    pub url: String,
    shared: Shared,
    _server: tokio::task::JoinHandle<()>,
}

/// The FAL user id the fake signs webhooks for.
pub const FAL_USER_ID: &str = "fal-user-1";

impl FakeFal {
    pub async fn start() -> Self {
        let (listener, url) = recorder::bind("fake FAL").await;
        // The process's TLS provider, as the application installs it; whoever is first wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shared = Shared {
            record: Recorder::default(),
            key: Arc::new(Ed25519KeyPair::from_seed_unchecked(&[42; 32]).expect("test key")),
            url: url.as_str().into(),
            http: reqwest::Client::new(),
        };
        // The API needs `Authorization: Key …`; the keys, CDN files and signed upload URLs
        // do not, as on FAL.
        let api = Router::new()
            .route("/storage/upload/initiate", post(initiate))
            .route("/{owner}/{alias}/requests/{id}/status", get(status))
            .route("/{owner}/{alias}/requests/{id}", get(result))
            .route("/{owner}/{alias}/requests/{id}/cancel", put(cancel))
            .route("/{owner}/{alias}", post(submit))
            .route_layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                authorise,
            ));
        let app = Router::new()
            .route("/.well-known/jwks.json", get(jwks))
            .route("/files/{name}", get(file))
            .route("/uploads/{n}", put(upload))
            .merge(api)
            .with_state(shared.clone());
        Self {
            url,
            shared,
            _server: recorder::serve(listener, app),
        }
    }

    /// Results become ready (and webhooks go out) this long after submission.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Posts webhooks to `origin` (e.g. `http://127.0.0.1:1234`) with the path of the
    /// submission's `fal_webhook`; `None` stops them, so only polling finds results.
    pub fn route_webhooks_to(&self, origin: Option<&str>) {
        self.shared.lock().webhook_origin = origin.map(str::to_owned);
    }

    /// From now on every billable call (submissions and uploads) answers 403, as FAL does
    /// for an account whose balance ran out.
    pub fn lock_account(&self) {
        self.shared.lock().locked = true;
    }

    /// While `down`, the JWKS answers 503.
    pub fn fail_jwks(&self, down: bool) {
        self.shared.lock().jwks_down = down;
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.lock().jwks_fetches
    }

    /// The next submission answers `status` instead of queuing.
    pub fn fail_next_submit(&self, status: u16) {
        self.shared.lock().submit_failures.push_back(status);
    }

    pub fn push_outcome(&self, outcome: FalOutcome) {
        self.shared.lock().outcomes.push_back(outcome);
    }

    pub fn submissions(&self) -> Vec<FalSubmission> {
        self.shared.lock().submissions.clone()
    }

    /// Files uploaded through FAL storage so far.
    pub fn uploads(&self) -> Vec<FalUpload> {
        self.shared.lock().uploads.clone()
    }

    /// Puts a file on the CDN (as if an earlier run had left it there) and returns its URL.
    pub fn host(&self, name: &str, bytes: Vec<u8>) -> String {
        let mut inner = self.shared.lock();
        inner.host(name, bytes, "application/octet-stream", None);
        format!("{}/files/{name}", self.shared.url)
    }

    /// Moves the CDN's clock ahead: files whose lifecycle ends within `by` are gone.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.lock().clock_ahead += by;
    }

    /// Deletes every file on the CDN, as an account's retention setting does in time.
    pub fn expire_all_files(&self) {
        self.shared.lock().files.clear();
    }

    /// Whether the CDN still serves `url`.
    pub fn serves(&self, url: &str) -> bool {
        self.shared
            .lock()
            .live_file(&self.shared.url, url)
            .is_some()
    }

    /// (status polls, result fetches, cancels) so far.
    pub fn counters(&self) -> (usize, usize, usize) {
        let inner = self.shared.lock();
        (inner.status_polls, inner.result_fetches, inner.cancels)
    }

    /// Waits until `n` submissions arrived; panics after `within`.
    pub async fn wait_for_submissions(&self, n: usize, within: Duration) -> Vec<FalSubmission> {
        self.shared
            .record
            .until(within, || {
                let all = self.submissions();
                if all.len() >= n {
                    return Ok(all);
                }
                Err(format!("{n} FAL submissions, got {}", all.len()))
            })
            .await
    }

    /// The hex signature FAL would send for these values.
    pub fn sign(&self, request_id: &str, timestamp: i64, body: &[u8]) -> String {
        sign(&self.shared.key, FAL_USER_ID, request_id, timestamp, body)
    }

    /// The signature FAL sends another account's webhook with: the same keys sign for every
    /// FAL user.
    pub fn sign_for_user(
        &self,
        user_id: &str,
        request_id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> String {
        sign(&self.shared.key, user_id, request_id, timestamp, body)
    }

    /// The webhook body FAL sends for a finished request.
    pub fn webhook_body(&self, request_id: &str) -> Option<String> {
        let inner = self.shared.lock();
        let request = inner.requests.get(request_id)?;
        webhook_body(&self.shared.url, request_id, request.outcome).map(|v| v.to_string())
    }
}

fn sign(
    key: &Ed25519KeyPair,
    user_id: &str,
    request_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let digest = hex::encode(Sha256::digest(body));
    let message = format!("{request_id}\n{user_id}\n{timestamp}\n{digest}");
    hex::encode(key.sign(message.as_bytes()).as_ref())
}

/// The files a finished request leaves on the CDN.
fn host_outputs(inner: &mut Inner, request_id: &str) {
    if request_id.starts_with("train-") {
        let weights = format!("LoRA weights of {request_id}").into_bytes();
        inner.host(
            &format!("{request_id}.safetensors"),
            weights,
            "application/octet-stream",
            None,
        );
    } else {
        inner.host(&format!("{request_id}.jpg"), jpeg(), "image/jpeg", None);
    }
}

fn output(url: &str, request_id: &str, nsfw: bool) -> Value {
    if request_id.starts_with("train-") {
        return json!({
            "diffusers_lora_file": {"url": format!("{url}/files/{request_id}.safetensors")},
            "config_file": {"url": format!("{url}/files/{request_id}.json")},
        });
    }
    json!({
        "images": [{"url": format!("{url}/files/{request_id}.jpg"), "width": 64, "height": 64,
                    "content_type": "image/jpeg"}],
        "seed": 42,
        "has_nsfw_concepts": [nsfw],
        "timings": {"inference": 1.5},
    })
}

fn webhook_body(url: &str, request_id: &str, outcome: FalOutcome) -> Option<Value> {
    let base = |status: &str| json!({"request_id": request_id, "gateway_request_id": request_id, "status": status});
    match outcome {
        FalOutcome::Image | FalOutcome::Nsfw | FalOutcome::FinishesDespiteCancel => {
            let mut body = base("OK");
            body["payload"] = output(url, request_id, outcome == FalOutcome::Nsfw);
            Some(body)
        }
        FalOutcome::Error(_) | FalOutcome::InputFileMissing => {
            let (status, payload) = error_body(outcome);
            let mut body = base("ERROR");
            body["error"] = json!(format!("Invalid status code: {status}"));
            body["payload"] = payload;
            Some(body)
        }
        FalOutcome::UnsentPayload => {
            let mut body = base("OK");
            body["payload"] = Value::Null;
            body["payload_error"] = json!("Failed to serialize the payload");
            Some(body)
        }
        FalOutcome::Pending => None,
    }
}

/// A failed request's status and body as FAL words them: a validation error (422) lists what
/// was wrong in `detail`; FAL's own failures say it in a string, with an `error_type`.
fn error_body(outcome: FalOutcome) -> (u16, Value) {
    match outcome {
        FalOutcome::InputFileMissing => (
            422,
            json!({"detail": [{"loc": ["body", "loras", 0, "path"],
                "msg": "Failed to download the file. Please check if the URL is accessible.",
                "type": "file_download_error"}]}),
        ),
        FalOutcome::Error(422) => (
            422,
            json!({"detail": [{"loc": ["body", "prompt"], "msg": "model failed", "type": "value_error"}]}),
        ),
        FalOutcome::Error(status) => (
            status,
            json!({"detail": "Internal server error", "error_type": "runner_server_error"}),
        ),
        _ => (500, json!({"detail": "no error"})),
    }
}

async fn jwks(State(shared): State<Shared>) -> Response {
    let down = {
        let mut inner = shared.lock();
        inner.jwks_fetches += 1;
        inner.jwks_down
    };
    shared.record.changed();
    if down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let x =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(shared.key.public_key().as_ref());
    Json(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "test"}]})).into_response()
}

/// A small valid JPEG, the same for every request.
fn jpeg() -> Vec<u8> {
    static JPEG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    JPEG.get_or_init(|| {
        let img =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("encode JPEG");
        out.into_inner()
    })
    .clone()
}

/// A CDN file, public; one past its lifecycle (or never there) is 404.
async fn file(State(shared): State<Shared>, Path(name): Path<String>) -> Response {
    let inner = shared.lock();
    let url = format!("{}/files/{name}", shared.url);
    match inner.live_file(&shared.url, &url) {
        Some(file) => (
            [("content-type", file.content_type.clone())],
            file.bytes.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

async fn submit(
    State(shared): State<Shared>,
    Path((owner, alias)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(input): Json<Value>,
) -> Response {
    let model = format!("{owner}/{alias}");
    let Some(schema) = crate::fal_schema::of(&model) else {
        let detail = format!("Application '{alias}' not found");
        return (StatusCode::NOT_FOUND, Json(json!({"detail": detail}))).into_response();
    };
    if let Err(errors) = schema.check(&input) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"detail": errors})),
        )
            .into_response();
    }
    let (request_id, webhook, outcome, latency) = {
        let mut inner = shared.lock();
        if let Some(status) = inner.submit_failures.pop_front() {
            drop(inner);
            shared.record.changed();
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (code, Json(json!({"detail": "scripted failure"}))).into_response();
        }
        // Trainings and images have different outputs; the id says which this is.
        let kind = if schema.trains { "train" } else { "req" };
        let request_id = format!("{kind}-{}", inner.submissions.len() + 1);
        let mut outcome = inner.outcomes.pop_front().unwrap_or(FalOutcome::Image);
        // The runner downloads the files the input points at; a missing one fails the request.
        let files = schema.file_urls(&input);
        if files
            .iter()
            .any(|url| inner.live_file(&shared.url, url).is_none())
        {
            outcome = FalOutcome::InputFileMissing;
        }
        host_outputs(&mut inner, &request_id);
        let webhook = query.get("fal_webhook").cloned();
        inner.submissions.push(FalSubmission {
            request_id: request_id.clone(),
            model,
            input,
            webhook: webhook.clone(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        });
        let target = webhook
            .zip(inner.webhook_origin.clone())
            .map(|(url, origin)| {
                let path = url.split_once("://").map_or("", |(_, rest)| rest);
                let path = path.find('/').map_or("/", |i| &path[i..]);
                format!("{}{path}", origin.trim_end_matches('/'))
            });
        // A request that waits for its cancel is not ready until then.
        let runs_for = match outcome {
            FalOutcome::FinishesDespiteCancel => Duration::from_secs(365 * 24 * 3600),
            _ => inner.latency,
        };
        inner.requests.insert(
            request_id.clone(),
            Request {
                outcome,
                ready_at: tokio::time::Instant::now() + runs_for,
                polls: 0,
                webhook: target.clone(),
            },
        );
        (request_id, target, outcome, inner.latency)
    };
    shared.record.changed();
    let finishes_alone = outcome != FalOutcome::FinishesDespiteCancel;
    if let Some(webhook) = webhook.filter(|_| finishes_alone) {
        let shared = shared.clone();
        let id = request_id.clone();
        // Simulated provider latency, not test synchronisation: tests wait on what it causes.
        tokio::spawn(async move {
            tokio::time::sleep(latency).await;
            post_webhook(&shared, &webhook, &id, outcome).await;
        });
    }
    let base = format!("{}/{owner}/{alias}/requests/{request_id}", shared.url);
    Json(json!({
        "request_id": request_id, "gateway_request_id": request_id,
        "status_url": format!("{base}/status"), "response_url": base,
        "cancel_url": format!("{base}/cancel"),
    }))
    .into_response()
}

async fn post_webhook(shared: &Shared, url: &str, request_id: &str, outcome: FalOutcome) {
    let Some(body) = webhook_body(&shared.url, request_id, outcome) else {
        return;
    };
    let body = body.to_string();
    let timestamp = chrono_now();
    let signature = sign(
        &shared.key,
        FAL_USER_ID,
        request_id,
        timestamp,
        body.as_bytes(),
    );
    let sent = shared
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("x-fal-webhook-request-id", request_id)
        .header("x-fal-webhook-user-id", FAL_USER_ID)
        .header("x-fal-webhook-timestamp", timestamp.to_string())
        .header("x-fal-webhook-signature", signature)
        .body(body)
        .send()
        .await;
    if let Err(err) = sent {
        eprintln!("fake FAL: webhook to {url} failed: {err}");
    }
}

pub(crate) fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

async fn status(
    State(shared): State<Shared>,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Response {
    let mut inner = shared.lock();
    inner.status_polls += 1;
    let Some(request) = inner.requests.get(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let done =
        request.outcome != FalOutcome::Pending && tokio::time::Instant::now() >= request.ready_at;
    if done {
        return Json(json!({"status": "COMPLETED", "request_id": id})).into_response();
    }
    // As FAL: 202 while waiting, first in the queue (with a position), then running.
    let polls = request.polls;
    if let Some(request) = inner.requests.get_mut(&id) {
        request.polls += 1;
    }
    let body = match polls {
        0 => json!({"status": "IN_QUEUE", "queue_position": 0, "request_id": id}),
        _ => json!({"status": "IN_PROGRESS", "request_id": id}),
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

async fn result(
    State(shared): State<Shared>,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Response {
    let mut inner = shared.lock();
    inner.result_fetches += 1;
    let Some(request) = inner.requests.get(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if request.outcome == FalOutcome::Pending || tokio::time::Instant::now() < request.ready_at {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"detail": "Request is still in progress"})),
        )
            .into_response();
    }
    match request.outcome {
        FalOutcome::Image
        | FalOutcome::Nsfw
        | FalOutcome::UnsentPayload
        | FalOutcome::FinishesDespiteCancel => Json(output(
            &shared.url,
            &id,
            request.outcome == FalOutcome::Nsfw,
        ))
        .into_response(),
        FalOutcome::Error(_) | FalOutcome::InputFileMissing => {
            let (status, body) = error_body(request.outcome);
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let mut response = (code, Json(body.clone())).into_response();
            if let Some(kind) = body["error_type"].as_str().and_then(|k| k.parse().ok()) {
                response.headers_mut().insert("x-fal-error-type", kind);
            }
            response
        }
        FalOutcome::Pending => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// Cancel is a signal: a queued or running request is asked to stop (202), which a running one
/// may not heed; a finished one cannot be (400), an unknown one is 404.
async fn cancel(
    State(shared): State<Shared>,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Response {
    let finished_anyway = {
        let mut inner = shared.lock();
        inner.cancels += 1;
        let Some(request) = inner.requests.get_mut(&id) else {
            return (StatusCode::NOT_FOUND, Json(json!({"status": "NOT_FOUND"}))).into_response();
        };
        let done = request.outcome != FalOutcome::Pending
            && tokio::time::Instant::now() >= request.ready_at;
        if done {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"status": "ALREADY_COMPLETED"})),
            )
                .into_response();
        }
        let finishes = request.outcome == FalOutcome::FinishesDespiteCancel;
        if finishes {
            request.ready_at = tokio::time::Instant::now();
        }
        finishes.then(|| request.webhook.clone()).flatten()
    };
    shared.record.changed();
    if let Some(webhook) = finished_anyway {
        let shared = shared.clone();
        tokio::spawn(async move {
            post_webhook(&shared, &webhook, &id, FalOutcome::FinishesDespiteCancel).await;
        });
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"status": "CANCELLATION_REQUESTED"})),
    )
        .into_response()
}

/// FAL's answers to a call without a key (401) and to billable calls of a locked account (403).
async fn authorise(
    State(shared): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let has_key = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Key "))
        .is_some_and(|key| !key.trim().is_empty());
    if !has_key {
        let detail = "Authentication is required to access this application.";
        return (StatusCode::UNAUTHORIZED, Json(json!({"detail": detail}))).into_response();
    }
    let billable = request.method() == axum::http::Method::POST;
    if billable && shared.lock().locked {
        let detail = "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.";
        return (StatusCode::FORBIDDEN, Json(json!({"detail": detail}))).into_response();
    }
    next.run(request).await
}

async fn initiate(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (Some(_), Some(file_name)) = (
        body.get("content_type").and_then(Value::as_str),
        body.get("file_name").and_then(Value::as_str),
    ) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let lifecycle = headers
        .get("x-fal-object-lifecycle-preference")
        .and_then(|v| v.to_str().ok());
    let expires_after_secs = match lifecycle.map(serde_json::from_str::<Value>) {
        None => None,
        Some(Ok(preference)) => preference["expiration_duration_seconds"].as_u64(),
        Some(Err(_)) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let mut inner = shared.lock();
    let n = inner.initiated.len();
    let file_url = format!("{}/files/upload-{n}-{file_name}", shared.url);
    inner.initiated.push((file_url.clone(), expires_after_secs));
    Json(json!({
        "upload_url": format!("{}/uploads/{n}", shared.url),
        "file_url": file_url,
    }))
    .into_response()
}

/// The signed upload URL: like a storage bucket's, it wants the body's length up front.
async fn upload(
    State(shared): State<Shared>,
    Path(n): Path<usize>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    if headers.get("content-length").is_none() {
        return StatusCode::LENGTH_REQUIRED;
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    {
        let mut inner = shared.lock();
        let Some((url, expires_after_secs)) = inner.initiated.get(n).cloned() else {
            return StatusCode::NOT_FOUND;
        };
        let name = url.rsplit('/').next().unwrap_or_default().to_owned();
        let ttl = expires_after_secs.map(Duration::from_secs);
        inner.host(&name, body.to_vec(), &content_type, ttl);
        inner.uploads.push(FalUpload {
            bytes: body.to_vec(),
            url,
            expires_after_secs,
        });
    }
    shared.record.changed();
    StatusCode::OK
}

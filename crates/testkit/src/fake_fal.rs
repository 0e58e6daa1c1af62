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
    /// Files PUT through the storage upload, by upload number.
    uploads: Vec<Vec<u8>>,
    latency: Duration,
    /// The account is locked: billable calls answer 403 (see `lock_account`).
    locked: bool,
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
    pub fn uploads(&self) -> Vec<Vec<u8>> {
        self.shared.lock().uploads.clone()
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
        sign(&self.shared.key, request_id, timestamp, body)
    }

    /// The webhook body FAL sends for a finished request.
    pub fn webhook_body(&self, request_id: &str) -> Option<String> {
        let inner = self.shared.lock();
        let request = inner.requests.get(request_id)?;
        webhook_body(&self.shared.url, request_id, request.outcome).map(|v| v.to_string())
    }
}

fn sign(key: &Ed25519KeyPair, request_id: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(body));
    let message = format!("{request_id}\n{FAL_USER_ID}\n{timestamp}\n{digest}");
    hex::encode(key.sign(message.as_bytes()).as_ref())
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
        FalOutcome::Image | FalOutcome::Nsfw => {
            let mut body = base("OK");
            body["payload"] = output(url, request_id, outcome == FalOutcome::Nsfw);
            Some(body)
        }
        FalOutcome::Error(status) => {
            let mut body = base("ERROR");
            body["error"] = json!(format!("Invalid status code: {status}"));
            body["payload"] = error_body(status);
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

/// A failed request's body as FAL words it: a validation error (422) lists what was wrong in
/// `detail`; FAL's own failures say it in a string, with an `error_type`.
fn error_body(status: u16) -> Value {
    if status == 422 {
        json!({"detail": [{"loc": ["body", "prompt"], "msg": "model failed", "type": "value_error"}]})
    } else {
        json!({"detail": "Internal server error", "error_type": "runner_server_error"})
    }
}

async fn jwks(State(shared): State<Shared>) -> Json<Value> {
    let x =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(shared.key.public_key().as_ref());
    Json(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "test"}]}))
}

/// A small valid JPEG, the same for every request.
async fn file() -> Response {
    static JPEG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let bytes = JPEG.get_or_init(|| {
        let img =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("encode JPEG");
        out.into_inner()
    });
    ([("content-type", "image/jpeg")], bytes.clone()).into_response()
}

async fn submit(
    State(shared): State<Shared>,
    Path((owner, alias)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(input): Json<Value>,
) -> Response {
    let (request_id, webhook, outcome, latency) = {
        let mut inner = shared.lock();
        if let Some(status) = inner.submit_failures.pop_front() {
            drop(inner);
            shared.record.changed();
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (code, Json(json!({"detail": "scripted failure"}))).into_response();
        }
        // Trainings and images have different outputs; the id says which this is.
        let kind = if alias.contains("trainer") {
            "train"
        } else {
            "req"
        };
        let request_id = format!("{kind}-{}", inner.submissions.len() + 1);
        let outcome = inner.outcomes.pop_front().unwrap_or(FalOutcome::Image);
        let webhook = query.get("fal_webhook").cloned();
        inner.submissions.push(FalSubmission {
            request_id: request_id.clone(),
            model: format!("{owner}/{alias}"),
            input,
            webhook: webhook.clone(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        });
        let ready_at = tokio::time::Instant::now() + inner.latency;
        inner.requests.insert(
            request_id.clone(),
            Request {
                outcome,
                ready_at,
                polls: 0,
            },
        );
        let target = webhook
            .zip(inner.webhook_origin.clone())
            .map(|(url, origin)| {
                let path = url.split_once("://").map_or("", |(_, rest)| rest);
                let path = path.find('/').map_or("/", |i| &path[i..]);
                format!("{}{path}", origin.trim_end_matches('/'))
            });
        (request_id, target, outcome, inner.latency)
    };
    shared.record.changed();
    if let Some(webhook) = webhook {
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
    let signature = sign(&shared.key, request_id, timestamp, body.as_bytes());
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
        FalOutcome::Image | FalOutcome::Nsfw | FalOutcome::UnsentPayload => Json(output(
            &shared.url,
            &id,
            request.outcome == FalOutcome::Nsfw,
        ))
        .into_response(),
        FalOutcome::Error(status) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let body = error_body(status);
            let mut response = (code, Json(body.clone())).into_response();
            if let Some(kind) = body["error_type"].as_str().and_then(|k| k.parse().ok()) {
                response.headers_mut().insert("x-fal-error-type", kind);
            }
            response
        }
        FalOutcome::Pending => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn cancel(
    State(shared): State<Shared>,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Response {
    let mut inner = shared.lock();
    inner.cancels += 1;
    match inner.requests.get_mut(&id) {
        Some(request) => {
            request.outcome = FalOutcome::Pending;
            Json(json!({"status": "CANCELLATION_REQUESTED"})).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
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

async fn initiate(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    if body.get("content_type").and_then(Value::as_str).is_none() {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    let n = shared.lock().uploads.len();
    Json(json!({
        "upload_url": format!("{}/uploads/{n}", shared.url),
        "file_url": format!("{}/files/upload-{n}.zip", shared.url),
    }))
    .into_response()
}

async fn upload(State(shared): State<Shared>, body: axum::body::Bytes) -> StatusCode {
    shared.lock().uploads.push(body.to_vec());
    shared.record.changed();
    StatusCode::OK
}

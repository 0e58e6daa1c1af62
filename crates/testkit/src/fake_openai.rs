//! A fake OpenAI-compatible chat completions API on 127.0.0.1. It checks each request's shape
//! the way the real one would fail it (a 400 for a missing model, an image that is not a
//! data URL, or a Telegram file link anywhere in the body) and answers with the next scripted
//! `OpenAiReply`, or, with none scripted, a description (vision) or a fixed translation.

use std::collections::VecDeque;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::recorder::{self, Recorder};

/// The prompt the fake proposes for a photo when nothing else is scripted.
pub const VISION_PROMPT: &str =
    "half-body portrait of the person in a red raincoat on a rainy night street, neon light, 85mm";
/// The translation the fake answers when nothing else is scripted.
pub const TRANSLATION: &str = "portrait in a leather jacket on a night street";

/// How the fake answers the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenAiReply {
    /// A vision answer in the schema, proposing this prompt.
    Describe(String),
    /// A plain text answer (a translation).
    Text(String),
    /// `content: null` with `refusal` set.
    Refusal(String),
    /// `finish_reason: content_filter`.
    ContentFilter,
    /// Content that is not the requested JSON.
    Malformed,
    /// 429 `rate_limit_exceeded`, with `retry-after-ms` when given; without, only the
    /// `x-ratelimit-reset-*` headers, as OpenAI often answers.
    RateLimited { retry_after_ms: Option<u64> },
    /// 429 `insufficient_quota`.
    InsufficientQuota,
    /// This 5xx status, with `retry-after-ms` when given.
    ServerError {
        status: u16,
        retry_after_ms: Option<u64>,
    },
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub authorization: Option<String>,
    pub body: Value,
    /// The status the fake answered.
    pub status: u16,
}

impl ChatRequest {
    /// The image part's URL, for vision requests.
    pub fn image_url(&self) -> Option<&str> {
        image_urls(&self.body).into_iter().next()
    }

    /// The image a vision request carries, decoded from its data URL.
    pub fn image_bytes(&self) -> Option<Vec<u8>> {
        let (_, encoded) = self.image_url()?.split_once(";base64,")?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
    }
}

#[derive(Default)]
struct Inner {
    replies: VecDeque<OpenAiReply>,
    requests: Vec<ChatRequest>,
}

type Shared = Recorder<Inner>;

pub struct FakeOpenAi {
    /// The base URL, as `OPENAI_BASE_URL` takes it (`…/v1`).
    pub url: String,
    shared: Shared,
    _server: tokio::task::JoinHandle<()>,
}

impl FakeOpenAi {
    pub async fn start() -> Self {
        let (listener, origin) = recorder::bind("fake OpenAI").await;
        let url = format!("{origin}/v1");
        // The process's TLS provider, as the application installs it; whoever is first wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shared = Shared::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .route("/v1/models/{model}", get(model))
            .with_state(shared.clone());
        Self {
            url,
            shared,
            _server: recorder::serve(listener, app),
        }
    }

    /// Answers the next requests with these, in order.
    pub fn push(&self, replies: impl IntoIterator<Item = OpenAiReply>) {
        self.shared.lock().replies.extend(replies);
    }

    pub fn requests(&self) -> Vec<ChatRequest> {
        self.shared.lock().requests.clone()
    }

    /// Waits until `n` requests arrived; panics after `within`.
    pub async fn wait_for_requests(&self, n: usize, within: Duration) -> Vec<ChatRequest> {
        self.shared
            .until(within, || {
                let all = self.requests();
                if all.len() >= n {
                    return Ok(all);
                }
                Err(format!("{n} model requests, got {}", all.len()))
            })
            .await
    }
}

fn image_urls(body: &Value) -> Vec<&str> {
    let parts = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_array())
        .flatten();
    parts
        .filter(|p| p["type"] == "image_url")
        .map(|p| p["image_url"]["url"].as_str().unwrap_or(""))
        .collect()
}

/// Reasoning models (o-series, the gpt-5 family) take only the default temperature.
fn is_reasoning_model(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    let o_series = name
        .strip_prefix('o')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    o_series || name.starts_with("gpt-5")
}

/// Why the real API would refuse this request, if it would.
fn shape_error(headers: &HeaderMap, body: &Value) -> Option<&'static str> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7);
    if !bearer {
        return Some("missing bearer key");
    }
    if body["model"].as_str().is_none_or(str::is_empty) {
        return Some("missing model");
    }
    if !body["messages"].is_array() {
        return Some("missing messages");
    }
    let temperature = body.get("temperature").and_then(Value::as_f64);
    if is_reasoning_model(body["model"].as_str().unwrap_or_default())
        && temperature.is_some_and(|t| (t - 1.0).abs() > f64::EPSILON)
    {
        return Some(
            "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.",
        );
    }
    // A Telegram file link (`…/file/bot<token>/…`), wherever the Bot API lives.
    let text = body.to_string();
    if text.contains("api.telegram.org") || text.contains("/file/bot") {
        return Some("a Telegram link in the request");
    }
    if image_urls(body)
        .iter()
        .any(|url| !url.starts_with("data:image/") || !url.contains(";base64,"))
    {
        return Some("image is not a base64 data URL");
    }
    None
}

async fn complete(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (status, response) = match shape_error(&headers, &body) {
        Some(why) => error(
            400,
            ("invalid_request_error", "invalid_request_error"),
            why,
            None,
        ),
        None => {
            let scripted = shared.lock().replies.pop_front();
            let vision = !image_urls(&body).is_empty();
            answer(scripted.unwrap_or_else(|| default_reply(vision)))
        }
    };
    shared.lock().requests.push(ChatRequest {
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body,
        status,
    });
    shared.changed();
    response
}

/// `GET /models/{model}`: any model exists for a request with a bearer key.
async fn model(headers: HeaderMap, Path(model): Path<String>) -> Response {
    if headers.get("authorization").is_none() {
        return error(
            401,
            ("invalid_request_error", "invalid_api_key"),
            "no key",
            None,
        )
        .1;
    }
    axum::Json(json!({"id": model, "object": "model", "owned_by": "fake"})).into_response()
}

fn default_reply(vision: bool) -> OpenAiReply {
    if vision {
        OpenAiReply::Describe(VISION_PROMPT.into())
    } else {
        OpenAiReply::Text(TRANSLATION.into())
    }
}

fn answer(reply: OpenAiReply) -> (u16, Response) {
    match reply {
        OpenAiReply::Describe(prompt) => {
            let description = json!({"shot_type": "half_body", "pose": "standing, hands in pockets",
                "lighting": "neon, rain reflections", "setting": "night street", "clothing":
                "red raincoat", "camera": "85mm, shallow depth of field", "prompt": prompt});
            completion(Some(&description.to_string()), None, "stop")
        }
        OpenAiReply::Text(text) => completion(Some(&text), None, "stop"),
        OpenAiReply::Refusal(why) => completion(None, Some(&why), "stop"),
        OpenAiReply::ContentFilter => completion(None, None, "content_filter"),
        OpenAiReply::Malformed => completion(Some("Sure! Here is {\"shot_type\": "), None, "stop"),
        OpenAiReply::RateLimited { retry_after_ms } => {
            let (status, mut response) = error(
                429,
                ("requests", "rate_limit_exceeded"),
                "Rate limit reached for requests",
                retry_after_ms,
            );
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-remaining-requests", 0.into());
            headers.insert(
                "x-ratelimit-reset-requests",
                axum::http::HeaderValue::from_static("1s"),
            );
            headers.insert(
                "x-ratelimit-reset-tokens",
                axum::http::HeaderValue::from_static("6m0s"),
            );
            (status, response)
        }
        OpenAiReply::InsufficientQuota => error(
            429,
            ("insufficient_quota", "insufficient_quota"),
            "You exceeded your current quota",
            None,
        ),
        OpenAiReply::ServerError {
            status,
            retry_after_ms,
        } => error(
            status,
            ("server_error", "server_error"),
            "overloaded",
            retry_after_ms,
        ),
    }
}

fn completion(content: Option<&str>, refusal: Option<&str>, finish: &str) -> (u16, Response) {
    let body = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                     "refusal": refusal}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    });
    (200, axum::Json(body).into_response())
}

/// OpenAI's error envelope; `type` is a category (`requests`, `invalid_request_error`), not
/// the code.
fn error(
    status: u16,
    (kind, code): (&str, &str),
    message: &str,
    retry_after_ms: Option<u64>,
) -> (u16, Response) {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status_code, axum::Json(body)).into_response();
    if let Some(ms) = retry_after_ms {
        response.headers_mut().insert("retry-after-ms", ms.into());
    }
    (status, response)
}

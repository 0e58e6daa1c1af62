//! A fake Telegram Bot API on 127.0.0.1: records every call, answers like Telegram, and can be
//! told to fail the next calls of a method (429, 403, 500…) to exercise the sender's paths.

use std::collections::VecDeque;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::recorder::{self, Recorder};

/// One recorded Bot API call.
#[derive(Debug, Clone)]
pub struct Call {
    pub token: String,
    pub method: String,
    pub body: Value,
    /// When the call arrived, for end-to-end latency in benchmarks.
    pub at: std::time::Instant,
    /// The message the call sent or edited, once Telegram accepted it: what a button on it
    /// is pressed on.
    pub message_id: Option<i64>,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    failures: VecDeque<(String, u16, Value)>,
    updates: VecDeque<Value>,
    files: std::collections::HashMap<String, Vec<u8>>,
    next_message_id: i64,
    limits: Option<Limits>,
    /// When recent messages went out, globally and per chat (for `Limits`).
    recent: VecDeque<std::time::Instant>,
    last_in_chat: std::collections::HashMap<i64, std::time::Instant>,
    rate_limited: usize,
    /// Callback queries answered so far: Telegram takes one answer per query.
    answered_queries: std::collections::HashSet<String>,
    /// File ids of documents: Telegram's file ids are typed, and a document's cannot be sent
    /// as a photo.
    documents: std::collections::HashSet<String>,
    /// Messages the person deleted, by chat and id: they can be neither edited nor deleted.
    deleted: std::collections::HashSet<(i64, i64)>,
    /// How far this Telegram's clock is ahead of the real one (see `advance_clock`).
    clock_ahead: Duration,
    /// When each query (callback or pre-checkout) reached the bot, by id (see `issue_query`).
    issued: std::collections::HashMap<String, std::time::Instant>,
    /// When each message was sent, by chat and id: one older than 48 h cannot be deleted.
    sent_at: std::collections::HashMap<(i64, i64), std::time::Instant>,
    /// Calls refused with 400, by method.
    refusals: std::collections::HashMap<String, usize>,
    /// The id of the last message sent.
    last_sent: i64,
    /// The bot's Stars transactions, oldest first (`getStarTransactions`).
    star_transactions: Vec<Value>,
    /// Files whose next download is this slow (a slow network), by file id.
    stalls: std::collections::HashMap<String, Duration>,
}

/// How long Telegram waits for the answer to a pre-checkout query before it cancels the
/// payment, and for a callback query's answer.
const PRE_CHECKOUT_WINDOW: Duration = Duration::from_secs(10);
const CALLBACK_WINDOW: Duration = Duration::from_secs(15);
/// A bot can delete its messages for everyone for this long.
const DELETE_WINDOW: Duration = Duration::from_secs(48 * 3600);
const TOO_OLD: &str = "query is too old and response timeout expired or query ID is invalid";

impl Limits {
    /// No limits, for tests that drive the bot faster than Telegram allows on purpose.
    pub const NONE: Self = Self {
        per_second: usize::MAX,
        chat_gap: Duration::ZERO,
    };
}

impl Default for Limits {
    /// Telegram's 30 messages a second across chats; between two messages to one chat, the
    /// gap the tests' configuration paces (`TELEGRAM_CHAT_RATE=100`), so a bot that paces
    /// itself as configured never sees a 429 and one that does not, does.
    fn default() -> Self {
        Self {
            per_second: 30,
            chat_gap: Duration::from_millis(10),
        }
    }
}

/// Telegram's sending limits, enforced with 429 `retry_after` like Telegram does.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Messages in any one-second window, across chats.
    pub per_second: usize,
    /// Least time between two messages to one chat.
    pub chat_gap: Duration,
}

/// Calls that send or change a message, which Telegram's limits count.
fn is_message(method: &str) -> bool {
    matches!(
        method,
        "sendMessage"
            | "sendPhoto"
            | "sendMediaGroup"
            | "editMessageText"
            | "editMessageMedia"
            | "sendInvoice"
    )
}

impl Inner {
    /// What Telegram refuses outright, as it words it.
    fn refuse(&mut self, method: &str, body: &Value) -> Option<Response> {
        let photo = match method {
            "sendPhoto" => body.get("photo"),
            "editMessageMedia" => body.get("media").and_then(|m| m.get("media")),
            _ => None,
        };
        if photo
            .and_then(Value::as_str)
            .is_some_and(|id| self.documents.contains(id))
        {
            return Some(bad_request("can't use file of type Document as Photo"));
        }
        if let Some(refusal) = too_long(method, body) {
            return Some(bad_request(refusal));
        }
        if method == "sendMediaGroup"
            && let Err(refusal) = album_items(body, &self.documents)
        {
            return Some(bad_request(refusal));
        }
        let target = (
            body.get("chat_id").and_then(Value::as_i64).unwrap_or(0),
            body.get("message_id").and_then(Value::as_i64).unwrap_or(0),
        );
        // Telegram knows only the messages it sent in that chat, minus those deleted since.
        if self.deleted.contains(&target) || !self.sent_at.contains_key(&target) {
            match method {
                "editMessageText" | "editMessageMedia" | "editMessageReplyMarkup" => {
                    return Some(bad_request("message to edit not found"));
                }
                "deleteMessage" => return Some(bad_request("message to delete not found")),
                _ => {}
            }
        }
        if method == "deleteMessage"
            && self
                .sent_at
                .get(&target)
                .is_some_and(|at| self.now().duration_since(*at) >= DELETE_WINDOW)
        {
            return Some(bad_request("message can't be deleted for everyone"));
        }
        let (field, window) = match method {
            "answerCallbackQuery" => ("callback_query_id", CALLBACK_WINDOW),
            "answerPreCheckoutQuery" => ("pre_checkout_query_id", PRE_CHECKOUT_WINDOW),
            _ => return None,
        };
        let id = body.get(field).and_then(Value::as_str)?;
        let late = self
            .issued
            .get(id)
            .is_some_and(|at| self.now().duration_since(*at) > window);
        if late || !self.answered_queries.insert(id.to_owned()) {
            return Some(bad_request(TOO_OLD));
        }
        None
    }

    fn now(&self) -> std::time::Instant {
        std::time::Instant::now() + self.clock_ahead
    }

    /// `Some(retry_after)` if this call breaks a limit; records it otherwise.
    fn over_limit(&mut self, method: &str, body: &Value) -> Option<u64> {
        let limits = self.limits?;
        if !is_message(method) {
            return None;
        }
        let now = std::time::Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        let chat = body.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
        let too_soon = self
            .last_in_chat
            .get(&chat)
            .is_some_and(|t| now.duration_since(*t) < limits.chat_gap);
        if too_soon || self.recent.len() >= limits.per_second {
            self.rate_limited += 1;
            return Some(1);
        }
        self.recent.push_back(now);
        self.last_in_chat.insert(chat, now);
        None
    }
}

type Shared = Recorder<Inner>;

pub struct FakeTelegram {
    pub url: String,
    shared: Shared,
    _server: tokio::task::JoinHandle<()>,
}

impl FakeTelegram {
    /// A fake that enforces `Limits::default()`.
    pub async fn start() -> Self {
        let shared = Shared::default();
        shared.lock().limits = Some(Limits::default());
        let app = Router::new()
            .route("/{bot}/{method}", post(answer))
            .route("/file/{bot}/{*path}", axum::routing::get(download))
            .with_state(shared.clone());
        let (listener, url) = recorder::bind("fake Telegram").await;
        Self {
            url,
            shared,
            _server: recorder::serve(listener, app),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// How many calls of `method` arrived so far, without copying them.
    pub fn count(&self, method: &str) -> usize {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .count()
    }

    /// The next call of `method` gets this status and body instead of success.
    pub fn fail_next(&self, method: &str, status: u16, body: Value) {
        self.shared
            .lock()
            .failures
            .push_back((method.to_owned(), status, body));
    }

    /// Makes `bytes` downloadable as the file `file_id` (`getFile`, then `/file/bot…/path`).
    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>) {
        self.shared.lock().files.insert(file_id.to_owned(), bytes);
    }

    /// As `add_file`, for a file sent as a document: its id is a document's, which Telegram
    /// refuses to send as a photo.
    pub fn add_document(&self, file_id: &str, bytes: Vec<u8>) {
        let mut inner = self.shared.lock();
        inner.files.insert(file_id.to_owned(), bytes);
        inner.documents.insert(file_id.to_owned());
    }

    /// The person deletes message `message_id` of `chat`: from now on Telegram refuses to edit
    /// or delete it.
    pub fn delete_by_person(&self, chat: i64, message_id: i64) {
        self.shared.lock().deleted.insert((chat, message_id));
    }

    /// A query (callback or pre-checkout) with this id reaches the bot now: its answer is
    /// taken only within Telegram's window (10 s for a pre-checkout query, about 15 s for a
    /// callback query).
    pub fn issue_query(&self, id: &str) {
        let mut inner = self.shared.lock();
        let now = inner.now();
        inner.issued.insert(id.to_owned(), now);
    }

    /// Moves this Telegram's clock ahead: query windows close, messages age.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.lock().clock_ahead += by;
    }

    /// The next download of `file_id` takes `stall` before its first byte.
    pub fn stall_next_download(&self, file_id: &str, stall: Duration) {
        self.shared.lock().stalls.insert(file_id.to_owned(), stall);
    }

    /// A Stars transaction Telegram lists for the bot (a `StarTransaction`).
    pub fn add_star_transaction(&self, transaction: Value) {
        self.shared.lock().star_transactions.push(transaction);
    }

    /// The id Telegram gave the last message sent.
    pub fn last_sent_message_id(&self) -> i64 {
        self.shared.lock().last_sent
    }

    /// Calls of `method` refused with 400 so far.
    pub fn refusals(&self, method: &str) -> usize {
        self.shared
            .lock()
            .refusals
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// Messages beyond `limits` get 429 with `retry_after`, as Telegram's do; `Limits::default()`
    /// applies from the start.
    pub fn enforce(&self, limits: Limits) {
        self.shared.lock().limits = Some(limits);
    }

    /// 429s answered because of `enforce`d limits.
    pub fn rate_limited(&self) -> usize {
        self.shared.lock().rate_limited
    }

    /// Queues an update for `getUpdates` (polling mode).
    pub fn push_update(&self, update: Value) {
        self.shared.lock().updates.push_back(update);
        self.shared.changed();
    }

    /// Waits until `method` was called at least `n` times; panics after `within`.
    pub async fn wait_for(&self, method: &str, n: usize, within: Duration) -> Vec<Call> {
        self.shared
            .until(within, || {
                let calls = self.calls_to(method);
                if calls.len() >= n {
                    return Ok(calls);
                }
                let seen = format!("{n} × {method}, got {}: {:?}", calls.len(), self.calls());
                Err(seen)
            })
            .await
    }
}

/// Reads a call's parameters: a JSON body, or a `multipart/form-data` upload whose file parts
/// are recorded as `"upload:<bytes>"` (other fields holding JSON are parsed).
async fn parameters(request: Request) -> Result<Value, Response> {
    let multipart = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Json(body) = Json::<Value>::from_request(request, &())
            .await
            .map_err(IntoResponse::into_response)?;
        return Ok(body);
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    let mut body = serde_json::Map::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some();
        let bytes = field.bytes().await.unwrap_or_default();
        let value = if is_file {
            json!(format!("upload:{}", bytes.len()))
        } else {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            serde_json::from_str::<Value>(&text)
                .ok()
                .filter(|v| v.is_object() || v.is_array() || v.is_number())
                .unwrap_or(Value::String(text))
        };
        body.insert(name, value);
    }
    Ok(Value::Object(body))
}

async fn answer(
    State(shared): State<Shared>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    let body = match parameters(request).await {
        Ok(body) => body,
        Err(rejection) => return rejection,
    };
    if method == "getUpdates" {
        return get_updates(&shared, &body).await;
    }
    let response = {
        let mut inner = shared.lock();
        let token = bot.strip_prefix("bot").unwrap_or(&bot).to_owned();
        inner.calls.push(Call {
            token,
            method: method.clone(),
            body: body.clone(),
            at: std::time::Instant::now(),
            message_id: None,
        });
        let call = inner.calls.len() - 1;
        if method == "getFile" {
            return get_file(&inner, &body);
        }
        if method == "getStarTransactions" {
            let offset = body["offset"].as_u64().unwrap_or(0) as usize;
            let limit = body["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
            let page: Vec<Value> = inner
                .star_transactions
                .iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect();
            return Json(json!({"ok": true, "result": {"transactions": page}})).into_response();
        }
        if let Some(refusal) = inner.refuse(&method, &body) {
            *inner.refusals.entry(method.clone()).or_default() += 1;
            drop(inner);
            shared.changed();
            return refusal;
        }
        if let Some(retry_after) = inner.over_limit(&method, &body) {
            let body = json!({"ok": false, "error_code": 429,
                "description": format!("Too Many Requests: retry after {retry_after}"),
                "parameters": {"retry_after": retry_after}});
            return (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
        }
        let failure = inner.failures.iter().position(|(m, _, _)| *m == method);
        match failure.and_then(|i| inner.failures.remove(i)) {
            Some((_, status, body)) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, Json(body)).into_response()
            }
            None => {
                // An edit answers with the message it edited; a send makes a new one (an
                // album, one per item).
                let sent = match method.as_str() {
                    "sendMediaGroup" => album_items(&body, &inner.documents).unwrap_or(0),
                    _ => 1,
                };
                let message_id = match body.get("message_id").and_then(Value::as_i64) {
                    Some(edited) if method.starts_with("edit") => edited,
                    _ => {
                        inner.next_message_id += sent as i64;
                        inner.next_message_id - sent as i64 + 1
                    }
                };
                if method.starts_with("send") {
                    let chat = body.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
                    let now = inner.now();
                    for id in message_id..message_id + sent as i64 {
                        inner.sent_at.insert((chat, id), now);
                        inner.last_sent = id;
                    }
                }
                if method.starts_with("send") || method.starts_with("edit") {
                    inner.calls[call].message_id = Some(message_id);
                }
                if method == "deleteMessage" {
                    let chat = body.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
                    let gone = body.get("message_id").and_then(Value::as_i64).unwrap_or(0);
                    inner.deleted.insert((chat, gone));
                }
                Json(json!({"ok": true, "result": success(&method, &body, message_id)}))
                    .into_response()
            }
        }
    };
    shared.changed();
    response
}

/// Telegram's length limits: 4096 for a text, 1024 for a caption, counted in UTF-16 code
/// units after entity parsing (an emoji outside the BMP counts twice; `&lt;` and tags do not
/// count as written).
fn too_long(method: &str, body: &Value) -> Option<&'static str> {
    let (text, limit, refusal) = match method {
        "sendMessage" | "editMessageText" => (body.get("text"), 4096, "message is too long"),
        "sendPhoto" => (body.get("caption"), 1024, "message caption is too long"),
        "editMessageMedia" => (
            body.get("media").and_then(|m| m.get("caption")),
            1024,
            "message caption is too long",
        ),
        _ => return None,
    };
    let text = text.and_then(Value::as_str)?;
    let html = body.get("parse_mode").and_then(Value::as_str) == Some("HTML")
        || body.pointer("/media/parse_mode").and_then(Value::as_str) == Some("HTML");
    let length = if html {
        shown_length(text)
    } else {
        text.encode_utf16().count()
    };
    (length > limit).then_some(refusal)
}

/// The UTF-16 length of HTML as the person sees it: tags take none, an entity one unit.
fn shown_length(html: &str) -> usize {
    let (mut length, mut in_tag, mut in_entity) = (0, false, false);
    for c in html.chars() {
        match c {
            '<' if !in_entity => in_tag = true,
            '>' if in_tag => in_tag = false,
            '&' if !in_tag => {
                in_entity = true;
                length += 1;
            }
            ';' if in_entity => in_entity = false,
            _ if in_tag || in_entity => {}
            c => length += c.len_utf16(),
        }
    }
    length
}

fn bad_request(description: &str) -> Response {
    let body = json!({"ok": false, "error_code": 400,
        "description": format!("Bad Request: {description}")});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn download(
    State(shared): State<Shared>,
    Path((_bot, path)): Path<(String, String)>,
) -> Response {
    let file_id = path.strip_prefix("files/").unwrap_or(&path).to_owned();
    let stall = shared.lock().stalls.remove(&file_id);
    if let Some(stall) = stall {
        // Simulated network slowness, not test synchronisation: tests wait on what it causes.
        tokio::time::sleep(stall).await;
    }
    match shared.lock().files.get(&file_id) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn get_file(inner: &Inner, body: &Value) -> Response {
    let file_id = body
        .get("file_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match inner.files.get(file_id) {
        Some(bytes) => Json(json!({"ok": true, "result": {
            "file_id": file_id, "file_unique_id": file_id, "file_size": bytes.len(),
            "file_path": format!("files/{file_id}")}}))
        .into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"})),
        )
            .into_response(),
    }
}

/// Checks an album as Telegram does: 2–10 photos, each an uploaded part named by
/// `attach://<part>` or a photo's file id, captions within 1024 units. Returns its size.
fn album_items(
    body: &Value,
    documents: &std::collections::HashSet<String>,
) -> Result<usize, &'static str> {
    let media = body
        .get("media")
        .and_then(Value::as_array)
        .ok_or("parameter \"media\" is required")?;
    if !(2..=10).contains(&media.len()) {
        return Err("wrong number of media in the group: 2 to 10 expected");
    }
    for item in media {
        if item.get("type").and_then(Value::as_str) != Some("photo") {
            return Err("unsupported media type in the group");
        }
        let reference = item
            .get("media")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match reference.strip_prefix("attach://") {
            Some(part) => {
                let uploaded = body.get(part).and_then(Value::as_str);
                if !uploaded.is_some_and(|v| v.starts_with("upload:")) {
                    return Err("can't find attached file");
                }
            }
            None if documents.contains(reference) => {
                return Err("can't use file of type Document as Photo");
            }
            None if reference.is_empty() => return Err("wrong file identifier specified"),
            None => {}
        }
        if let Some(caption) = item.get("caption").and_then(Value::as_str) {
            let html = item.get("parse_mode").and_then(Value::as_str) == Some("HTML");
            let length = if html {
                shown_length(caption)
            } else {
                caption.encode_utf16().count()
            };
            if length > 1024 {
                return Err("message caption is too long");
            }
        }
    }
    Ok(media.len())
}

/// One sent photo message, as Telegram answers with it.
fn photo_message(body: &Value, message_id: i64, caption: Option<&Value>) -> Value {
    json!({
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": {"id": body.get("chat_id").cloned().unwrap_or(Value::Null), "type": "private"},
        "caption": caption.cloned().unwrap_or(Value::Null),
        "photo": [
            {"file_id": format!("photo-{message_id}-small"), "file_unique_id": format!("u{message_id}s"), "width": 90, "height": 90},
            {"file_id": format!("photo-{message_id}"), "file_unique_id": format!("u{message_id}"), "width": 1024, "height": 1024},
        ],
    })
}

fn success(method: &str, body: &Value, message_id: i64) -> Value {
    match method {
        "sendMediaGroup" => {
            let media = body.get("media").and_then(Value::as_array);
            let items = media.map(Vec::as_slice).unwrap_or_default();
            Value::Array(
                items
                    .iter()
                    .zip(message_id..)
                    .map(|(item, id)| photo_message(body, id, item.get("caption")))
                    .collect(),
            )
        }
        "getMe" => {
            json!({"id": 1, "is_bot": true, "first_name": "Avatar Studio", "username": "AvatarStudioBot"})
        }
        "getWebhookInfo" => json!({"url": "", "pending_update_count": 0}),
        "sendMessage" | "editMessageText" => json!({
            "message_id": message_id,
            "date": 1_700_000_000,
            "chat": {"id": body.get("chat_id").cloned().unwrap_or(Value::Null), "type": "private"},
            "text": body.get("text").cloned().unwrap_or(Value::Null),
        }),
        // `editMessageMedia` answers with the edited message, its new photo's ids included.
        "sendPhoto" => photo_message(body, message_id, body.get("caption")),
        "editMessageMedia" => photo_message(body, message_id, body.pointer("/media/caption")),
        _ => json!(true),
    }
}

async fn get_updates(shared: &Shared, body: &Value) -> Response {
    let offset = body.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let wait = Duration::from_secs(
        body.get("timeout")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(1),
    );
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let changed = shared.notified();
        let mut changed = std::pin::pin!(changed);
        changed.as_mut().enable();
        let ready: Vec<Value> = {
            let mut inner = shared.lock();
            inner
                .updates
                .retain(|u| u.get("update_id").and_then(Value::as_i64).unwrap_or(0) >= offset);
            inner.updates.iter().cloned().collect()
        };
        if !ready.is_empty() || tokio::time::timeout_at(deadline, changed).await.is_err() {
            return Json(json!({"ok": true, "result": ready})).into_response();
        }
    }
}

mod photos;
mod studio;

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use clap::Parser;
use sea_orm::DatabaseConnection;
use serde_json::Value;
use studio_persistence::repos::{inbox, outbox};
use studio_server::Config;
use studio_server::app::{Application, Workers};
use studio_testkit::{Backend, FakeTelegram, TestDb};
use tokio_util::sync::CancellationToken;

pub const TOKEN: &str = "123456:TEST-token-never-in-logs";
pub const SECRET: &str = "webhook-secret_42-0123456789abcdef";
/// A safety net against hangs, not a synchronisation: tests wait for conditions.
pub const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: Config,
}

pub fn config(db_url: &str, telegram_url: &str) -> Config {
    // Each application stores files in its own directory, kept for the test's inspection.
    let storage = tempfile::tempdir().expect("storage directory").keep();
    let storage_url = format!("file://{}", storage.display());
    Args::try_parse_from([
        "test",
        "--storage-url",
        storage_url.as_str(),
        "--database-url",
        db_url,
        "--listen-addr",
        "127.0.0.1:0",
        "--telegram-bot-token",
        TOKEN,
        "--telegram-api-url",
        telegram_url,
        "--telegram-webhook-secret",
        SECRET,
        "--public-url",
        "https://bot.example.test",
        "--database-max-connections",
        "8",
        "--shutdown-timeout-secs",
        "10",
        // The fake Bot API has no per-chat limit; one person's burst should not slow tests.
        "--telegram-chat-rate",
        "100",
    ])
    .expect("test config parses")
    .config
}

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    /// The local directory behind `STORAGE_URL`.
    pub storage: PathBuf,
    pub db: DatabaseConnection,
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub async fn spawn(db: &TestDb, telegram: &FakeTelegram, workers: Workers) -> Self {
        Self::spawn_with(config(&db.url, &telegram.url), workers).await
    }

    pub async fn spawn_with(config: Config, workers: Workers) -> Self {
        let storage = PathBuf::from(config.storage_url.trim_start_matches("file://"));
        let app = Application::build(config, workers)
            .await
            .expect("application builds");
        let (addr, db, shutdown) = (app.local_addr(), app.db().clone(), app.shutdown_token());
        let server = tokio::spawn(app.run_until_stopped());
        Self {
            addr,
            storage,
            db,
            http: studio_server::app::http_client().expect("HTTP client"),
            shutdown,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn post_raw(
        &self,
        body: impl Into<reqwest::Body>,
        secret: Option<&str>,
    ) -> reqwest::StatusCode {
        let mut request = self
            .http
            .post(self.url("/telegram/webhook"))
            .header("content-type", "application/json");
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request
            .body(body)
            .send()
            .await
            .expect("webhook answers")
            .status()
    }

    pub async fn post_update(&self, update: &Value) -> reqwest::StatusCode {
        self.post_raw(update.to_string(), Some(SECRET)).await
    }

    /// Posts every update at once, each on its own task, as Telegram delivers an album.
    pub async fn post_concurrently(&self, updates: &[Value]) -> Vec<reqwest::StatusCode> {
        let mut posts = tokio::task::JoinSet::new();
        for update in updates {
            let request = self
                .http
                .post(self.url("/telegram/webhook"))
                .header("content-type", "application/json")
                .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                .body(update.to_string());
            posts.spawn(async move { request.send().await.expect("webhook answers").status() });
        }
        posts.join_all().await
    }

    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self.http.get(self.url(path)).send().await.expect("answers");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Posts an update (expecting 200) and waits until it and its replies are done.
    pub async fn send(&self, update: &Value) {
        assert_eq!(self.post_update(update).await, 200);
        self.settle().await;
    }

    /// Waits until every stored update is processed and every decided call is sent.
    pub async fn settle(&self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let (updates, _) = inbox::backlog(&self.db).await.expect("inbox backlog");
            let (calls, _) = outbox::backlog(&self.db).await.expect("outbox backlog");
            if updates == 0 && calls == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{updates} updates and {calls} calls still pending"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.server
            .await
            .expect("server task")
            .expect("server stops cleanly");
    }
}

pub async fn fresh(backend: Backend) -> (TestDb, FakeTelegram) {
    (TestDb::fresh(backend).await, FakeTelegram::start().await)
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/telegram")
}

/// The captured updates in `tests/fixtures/telegram` (copied from the team's shared captures, so
/// a clone of the project alone runs its tests), by file name.
pub fn fixtures() -> Vec<(String, Value)> {
    let dir = fixtures_dir();
    let mut found: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures at {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("fixture readable");
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).expect("fixture is JSON"))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        found.len() >= 6,
        "expected the six fixtures, found {}",
        found.len()
    );
    found
}

pub fn fixture(prefix: &str) -> Value {
    fixtures()
        .into_iter()
        .find(|(name, _)| name.starts_with(prefix))
        .expect("fixture exists")
        .1
}

/// Fixture 01 (a private text message) saying `text`, as update `update_id` from `user`.
pub fn text_update(update_id: i64, user: i64, text: &str) -> Value {
    let mut update = fixture("01_");
    update["update_id"] = update_id.into();
    update["message"]["text"] = text.into();
    update["message"]["from"]["id"] = user.into();
    update["message"]["chat"]["id"] = user.into();
    update
}

/// The text (or photo caption) of the last call that had one.
pub fn last_text(telegram: &FakeTelegram) -> String {
    telegram
        .calls()
        .iter()
        .rev()
        .find_map(|c| {
            c.body
                .get("text")
                .or(c.body.get("caption"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

pub fn person(user: i64, language: &str) -> Value {
    serde_json::json!({"id": user, "is_bot": false, "first_name": "Pay", "language_code": language})
}

/// A button found in a keyboard the fake Bot API received.
struct Found {
    data: String,
    /// The message it is on, as the fake Bot API numbered it.
    message_id: Option<i64>,
    /// Whether that message is a photo.
    photo: bool,
}

/// The button whose label contains `label` in the newest keyboard (sent or edited) for `chat`
/// (any chat when `None`) that has one: a person presses the nearest such button in the chat,
/// even when a message without it (an image that arrived meanwhile) came after.
fn find_button(telegram: &FakeTelegram, chat: Option<i64>, label: &str) -> Found {
    try_find_button(telegram, chat, label)
        .unwrap_or_else(|| panic!("no button {label:?} was sent to {chat:?}"))
}

/// Whether any keyboard sent so far had a button whose label contains `label`.
pub fn ever_had_button(telegram: &FakeTelegram, label: &str) -> bool {
    try_find_button(telegram, None, label).is_some()
}

fn try_find_button(telegram: &FakeTelegram, chat: Option<i64>, label: &str) -> Option<Found> {
    let calls = telegram.calls();
    let to_chat = |c: &&studio_testkit::Call| {
        chat.is_none_or(|chat| c.body["chat_id"].to_string().trim_matches('"') == chat.to_string())
    };
    calls.iter().rev().filter(to_chat).find_map(|c| {
        let markup = &c.body["reply_markup"];
        let markup: Value = match markup.as_str() {
            Some(text) => serde_json::from_str(text).ok()?,
            None => markup.clone(),
        };
        let rows = markup["inline_keyboard"].as_array().cloned()?;
        let data = rows
            .iter()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .find(|b| b["text"].as_str().is_some_and(|t| t.contains(label)))
            .and_then(|b| b["callback_data"].as_str().map(str::to_owned))?;
        Some(Found {
            data,
            message_id: c.message_id,
            photo: matches!(c.method.as_str(), "sendPhoto" | "editMessageMedia"),
        })
    })
}

/// The callback data of the button whose label contains `label` in the newest keyboard that
/// has one: what a person pressing that button sends.
pub fn button(telegram: &FakeTelegram, label: &str) -> String {
    find_button(telegram, None, label).data
}

static NEXT_PRESS: AtomicI64 = AtomicI64::new(800_000_000);

/// `user` pressing the button labelled `label` (or containing it), the newest their chat
/// received, as Telegram delivers the press. Tests press what a person sees, so they survive
/// changes of the wire format (one codec test keeps that).
pub fn press(telegram: &FakeTelegram, user: i64, label: &str) -> Value {
    let found = find_button(telegram, Some(user), label);
    let id = NEXT_PRESS.fetch_add(1, Ordering::Relaxed);
    let mut update = tap(id, user, &found.data);
    let message = &mut update["callback_query"]["message"];
    message["message_id"] = found.message_id.unwrap_or(1).into();
    if found.photo {
        // Telegram edits a photo message photo into photo; the bot must know which it is.
        message["photo"] = serde_json::json!([{"file_id": "shown", "file_unique_id": "s", "width": 90, "height": 90}]);
    }
    update
}

/// `/start` and the main menu's button `label`: how a person gets anywhere.
pub async fn from_main_menu(app: &TestApp, telegram: &FakeTelegram, user: i64, label: &str) {
    let id = NEXT_PRESS.fetch_add(1, Ordering::Relaxed);
    app.send(&text(id, user, "en", "/start")).await;
    app.send(&press(telegram, user, label)).await;
}

/// A button press on a text message of the bot's, with hand-written callback data: for
/// buttons a person could not have (forged, stale, another person's).
pub fn tap(id: i64, user: i64, data: &str) -> Value {
    serde_json::json!({"update_id": id, "callback_query": {"id": format!("q{id}"), "from": person(user, "en"),
        "message": {"message_id": 1, "date": 1_700_000_000, "chat": {"id": user, "type": "private"}, "text": "x"},
        "chat_instance": "1", "data": data}})
}

pub fn text(id: i64, user: i64, language: &str, text: &str) -> Value {
    serde_json::json!({"update_id": id, "message": {"message_id": id, "date": 1_700_000_000, "text": text,
        "from": person(user, language), "chat": {"id": user, "type": "private"}}})
}

pub use photos::*;
pub use studio::*;

/// Our user id of the person with Telegram id `telegram_id`, registered by their first update.
pub async fn user_id(app: &TestApp, telegram_id: i64) -> studio_domain::UserId {
    studio_persistence::repos::users::find_by_telegram(
        &app.db,
        studio_domain::TelegramUserId(telegram_id),
    )
    .await
    .unwrap()
    .expect("user registered")
    .id
}

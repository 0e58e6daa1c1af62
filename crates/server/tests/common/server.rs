//! The release-shaped binary as a process: started on a port of its own against a database and
//! a fake Bot API, posted updates as Telegram would. Each test binary uses a part of it.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const TOKEN: &str = "777001:SECRET-token-must-not-leak";
pub const WEBHOOK_SECRET: &str = "webhook-secret-must-not-leak-0123456789";
pub const FAL_KEY: &str = "fal-key-must-not-leak";
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The server process; killed if a test fails before stopping it.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The process's stderr (its logs), in a file: a pipe nobody reads would fill and stall it.
    pub log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn(db_url: &str, telegram_url: &str, extra: &[(&str, &str)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let storage = tempfile::tempdir().unwrap().keep();
    let log = storage.join("stderr.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_avatar-studio"));
    command
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", db_url)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", telegram_url)
        .env("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("PUBLIC_URL", "https://bot.example.test")
        .env("FAL_KEY", FAL_KEY)
        // Nothing leaves 127.0.0.1: tests with a fake FAL point these at it.
        .env("FAL_QUEUE_URL", "http://127.0.0.1:9")
        .env("FAL_REST_URL", "http://127.0.0.1:9")
        .env("STORAGE_URL", format!("file://{}", storage.display()))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    for (key, value) in extra {
        command.env(key, value);
    }
    Server {
        child: command.spawn().expect("binary starts"),
        base: format!("http://127.0.0.1:{port}"),
        log,
    }
}

pub fn client() -> reqwest::Client {
    studio_server::app::http_client().unwrap()
}

pub async fn wait_ready(http: &reqwest::Client, server: &Server) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(response) = http.get(format!("{}/readyz", server.base)).send().await
            && response.status() == 200
        {
            return;
        }
        let log = || std::fs::read_to_string(&server.log).unwrap_or_default();
        assert!(Instant::now() < deadline, "never ready: {}", log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn start(update_id: i64, user: i64) -> Value {
    json!({"update_id": update_id, "message": {"message_id": update_id, "date": 1_700_000_000, "text": "/start",
        "chat": {"id": user, "type": "private"}, "from": {"id": user, "is_bot": false, "first_name": "P", "language_code": "en"}}})
}

pub async fn post(
    http: &reqwest::Client,
    base: &str,
    update: &Value,
) -> Result<u16, reqwest::Error> {
    let response = http
        .post(format!("{base}/telegram/webhook"))
        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
        .header("content-type", "application/json")
        .body(update.to_string())
        .send()
        .await?;
    Ok(response.status().as_u16())
}

/// Migrates once, as the migration Job does, so replicas started after do not race on it.
pub fn migrate(db_url: &str) {
    let migrated = Command::new(env!("CARGO_BIN_EXE_avatar-studio"))
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", db_url)
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
}

//! What both benchmarks need: the release server's lifecycle and its memory.
#![allow(dead_code)] // each benchmark uses its own subset

pub mod cpu;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The backends `BENCH_BACKENDS` names (default `sqlite,postgres`), in order.
pub fn backends() -> Vec<studio_testkit::Backend> {
    let names = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    names
        .split(',')
        .map(|name| match name.trim() {
            "sqlite" => studio_testkit::Backend::Sqlite,
            "postgres" => studio_testkit::Backend::Postgres,
            other => panic!("unknown backend {other}"),
        })
        .collect()
}

/// The webhook secret the benchmarks' servers run with.
pub const SECRET: &str = "bench-secret-0123456789abcdef0123456789";

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "server never became ready");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A panicking benchmark must not leave a server running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn stop(server: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    let _ = server.wait();
}

pub fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A button press on a bot message, as update `id`.
pub fn tap(id: i64, user: i64, data: &str) -> String {
    serde_json::json!({"update_id": id, "callback_query": {"id": format!("q{id}"),
        "from": {"id": user, "is_bot": false, "first_name": "U", "language_code": "en"},
        "message": {"message_id": 1, "date": 1_700_000_000, "chat": {"id": user, "type": "private"}, "text": "x"},
        "chat_instance": "1", "data": data}})
    .to_string()
}

/// Posts an update to the webhook and insists on its 200.
pub async fn post(http: &reqwest::Client, base: &str, body: &str) {
    let status = http
        .post(format!("{base}/telegram/webhook"))
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert_eq!(status, 200);
}

/// The release server in webhook mode on `port`, quiet, with what every benchmark sets; each
/// adds its own settings and spawns it.
pub fn server(db_url: &str, telegram_url: &str, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_avatar-studio"));
    command
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", db_url)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("TELEGRAM_BOT_TOKEN", "1:bench")
        .env("TELEGRAM_API_URL", telegram_url)
        .env("PUBLIC_URL", "https://bench.example")
        .env("TELEGRAM_WEBHOOK_SECRET", SECRET)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    command
}

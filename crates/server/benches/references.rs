//! Reference-photo benchmark: many people send a 12 MP photo for "Prompt from photo" at once,
//! through the release binary, with a fake model API. Each photo decodes to ~46 MB of pixels;
//! the server must keep its peak memory under the pod's 256 MiB limit while it turns every
//! photo into a proposal.
//!
//! `scripts/bench.sh references` runs it; `BENCH_PEOPLE` tunes it (default 32, twice the
//! default OPENAI_CONCURRENCY). Reports the time until every proposal is delivered and the
//! server's peak RSS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

#[path = "../tests/common/seed.rs"]
mod seed;

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::json;
use studio_bot_ui::{Callback, PhotoPromptAction};
use studio_testkit::{FakeOpenAi, FakeTelegram, Limits, TestDb, VISION_PROMPT};
use support::{KillOnDrop, free_port, post, rss_kib, stop, tap, wait_ready};

/// What `deploy/k8s/deployment.yaml` gives a replica.
const POD_LIMIT_MIB: f64 = 256.0;

#[tokio::main]
async fn main() {
    let people: usize = std::env::var("BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    // Measures the bot, not Telegram's pace: the bot runs above it (TELEGRAM_GLOBAL_RATE).
    telegram.enforce(Limits::NONE);
    let openai = FakeOpenAi::start().await;
    let port = free_port();
    let mut server = KillOnDrop(spawn_server(&db.url, &telegram.url, &openai.url, port));
    let http = studio_server::app::http_client().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&http, &base).await;
    let idle_rss = rss_kib(server.0.id(), "VmRSS");

    let users: Vec<i64> = (0..people as i64).map(|i| 30_000_000 + i).collect();
    for (i, user) in users.iter().enumerate() {
        post(
            &http,
            &base,
            &message(i as i64 + 1, *user, json!({"text": "/start"})),
        )
        .await;
    }
    wait_for(&telegram, |t| t.count("sendMessage") >= people).await;
    let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();
    // No FAL here (no key): the weights' URL is never read.
    seed::ready_to_generate(&conn, &users, 10, "https://lora.invalid/kim.safetensors").await;
    for (i, user) in users.iter().enumerate() {
        post(
            &http,
            &base,
            &tap(
                1_000_000 + i as i64,
                *user,
                &Callback::PhotoPrompt(PhotoPromptAction::Start(None)).encode(),
            ),
        )
        .await;
    }
    let photo = phone_photo();
    for (i, _) in users.iter().enumerate() {
        telegram.add_file(&format!("reference-{i}"), photo.clone());
    }
    wait_for(&telegram, |t| t.count("editMessageText") >= people).await;

    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for (i, user) in users.iter().copied().enumerate() {
        let (http, base, size) = (http.clone(), base.clone(), photo.len());
        clients.spawn(async move {
            let file = json!({"document": {"file_id": format!("reference-{i}"),
                "file_unique_id": format!("r{i}"), "file_name": "IMG.jpg",
                "mime_type": "image/jpeg", "file_size": size}});
            post(&http, &base, &message(2_000_000 + i as i64, user, file)).await;
        });
    }
    clients.join_all().await;
    wait_for(&telegram, |t| proposals(t) >= people).await;
    let elapsed = started.elapsed();
    let peak = rss_kib(server.0.id(), "VmHWM");
    stop(&mut server.0);

    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "== {people} people send a {:.1} MB 12 MP photo at once",
        photo.len() as f64 / 1e6
    );
    println!(
        "all proposals delivered in {:>8.1} s",
        elapsed.as_secs_f64()
    );
    println!("model requests             {:>8}", openai.requests().len());
    println!("RSS idle                   {:>8.1} MiB", mib(idle_rss));
    println!(
        "peak RSS                   {:>8.1} MiB (pod limit {POD_LIMIT_MIB} MiB)",
        mib(peak)
    );
}

/// A 4032×3024 JPEG with enough detail to cost what a phone photo costs to decode.
fn phone_photo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(4032, 3024, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 239) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn proposals(telegram: &FakeTelegram) -> usize {
    telegram
        .calls_to("sendMessage")
        .iter()
        .filter(|c| {
            c.body["text"]
                .as_str()
                .unwrap_or("")
                .contains(VISION_PROMPT)
        })
        .count()
}

async fn wait_for(telegram: &FakeTelegram, done: impl Fn(&FakeTelegram) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !done(telegram) {
        assert!(Instant::now() < deadline, "not done in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn message(id: i64, user: i64, body: serde_json::Value) -> String {
    let mut message = json!({"message_id": id, "date": 1_700_000_000,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": false, "first_name": "U", "language_code": "en"}});
    message
        .as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    json!({"update_id": id, "message": message}).to_string()
}

fn spawn_server(db_url: &str, telegram_url: &str, openai_url: &str, port: u16) -> Child {
    support::server(db_url, telegram_url, port)
        .env("TELEGRAM_GLOBAL_RATE", "1000")
        .env("TELEGRAM_CHAT_RATE", "100")
        .env("OPENAI_API_KEY", "bench")
        .env("OPENAI_BASE_URL", openai_url)
        .env(
            "STORAGE_URL",
            format!("file://{}", tempfile::tempdir().unwrap().keep().display()),
        )
        .spawn()
        .expect("release binary starts")
}

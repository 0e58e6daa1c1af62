//! Generation benchmark: 1,000 images for 200 people (five each, quick mode) through the
//! release binary on PostgreSQL, against a fake FAL answering in 2 s and a fake Bot API that
//! enforces Telegram's limits (30 messages/s, one per second per chat) with 429s.
//!
//! `scripts/bench.sh generation` runs it; `BENCH_PEOPLE` and `BENCH_IMAGES_EACH` tune it.
//! Reports the time until every photo is delivered against the bound Telegram's limits set
//! for the messages the run sends, the 429s received, and the server's peak RSS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

#[path = "../tests/common/seed.rs"]
mod seed;

use std::process::Child;
use std::time::{Duration, Instant};

use studio_bot_ui::{Callback, GenerateAction};
use studio_testkit::{FakeFal, FakeTelegram, Limits, TestDb};
use support::{KillOnDrop, free_port, post, rss_kib, stop, tap, wait_ready};

/// Telegram's global limit; the server runs at its default, 28/s with a burst of 3.
const TELEGRAM_PER_SECOND: f64 = 30.0;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let people = env_or("BENCH_PEOPLE", 200);
    let each = env_or("BENCH_IMAGES_EACH", 5);
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    telegram.enforce(Limits {
        per_second: TELEGRAM_PER_SECOND as usize,
        chat_gap: Duration::from_millis(950),
    });
    let fal = FakeFal::start().await;
    fal.set_latency(Duration::from_secs(2));
    let port = free_port();
    let mut server = KillOnDrop(spawn_server(&db.url, &telegram.url, &fal.url, port));
    let http = studio_server::app::http_client().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&http, &base).await;
    fal.route_webhooks_to(Some(&base));

    let users: Vec<i64> = (0..people as i64).map(|i| 20_000_000 + i).collect();
    for (i, user) in users.iter().enumerate() {
        post(&http, &base, &update(i as i64 + 1, *user, "/start")).await;
    }
    wait_for(&telegram, "sendMessage", people).await;
    let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();
    let lora = fal.host("kim.safetensors", b"LoRA weights of Kim".to_vec());
    seed::ready_to_generate(&conn, &users, (each * 5) as u32, &lora).await;
    let before = telegram.calls().len();

    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for (i, user) in users.iter().copied().enumerate() {
        let (http, base) = (http.clone(), base.clone());
        clients.spawn(async move {
            for n in 0..each {
                let id = 1_000_000 + (i * each + n) as i64 * 2;
                post(
                    &http,
                    &base,
                    &tap(
                        id,
                        user,
                        &Callback::Generate(GenerateAction::CustomPrompt(None)).encode(),
                    ),
                )
                .await;
                post(
                    &http,
                    &base,
                    &update(id + 1, user, &format!("portrait {n}")),
                )
                .await;
            }
        });
    }
    clients.join_all().await;
    let images = people * each;
    wait_for(&telegram, "sendPhoto", images).await;
    let elapsed = started.elapsed();
    let peak_rss = rss_kib(server.0.id(), "VmHWM");
    stop(&mut server.0);

    // The bound: every message the run sent, at Telegram's pace, or one chat's messages at
    // one per second, whichever is longer.
    let calls = telegram.calls();
    let messages = calls[before..]
        .iter()
        .filter(|c| {
            matches!(
                c.method.as_str(),
                "sendMessage" | "sendPhoto" | "editMessageText"
            )
        })
        .count();
    // Messages per 10 s of the run: a steady pace, or gaps where the pipeline starved.
    let mut buckets = Vec::new();
    for call in &calls[before..] {
        if !matches!(
            call.method.as_str(),
            "sendMessage" | "sendPhoto" | "editMessageText"
        ) {
            continue;
        }
        let bucket = call.at.saturating_duration_since(started).as_secs() as usize / 10;
        if buckets.len() <= bucket {
            buckets.resize(bucket + 1, 0);
        }
        buckets[bucket] += 1;
    }
    let per_chat = messages as f64 / people as f64;
    let bound = (messages as f64 / TELEGRAM_PER_SECOND).max(per_chat);
    println!("== {images} images for {people} people, FAL latency 2 s, Telegram limits enforced");
    println!(
        "all photos delivered in    {:>10.1} s",
        elapsed.as_secs_f64()
    );
    println!("messages sent in the run   {messages:>10} (photos, queue notices, prompt screens)");
    println!("Telegram's bound           {bound:>10.1} s");
    println!(
        "over the bound             {:>10.1} %",
        (elapsed.as_secs_f64() / bound - 1.0) * 100.0
    );
    println!("429s received              {:>10}", telegram.rate_limited());
    println!("messages per 10 s          {buckets:?}");
    println!("FAL submissions            {:>10}", fal.submissions().len());
    println!("peak RSS                   {:>10} KiB", peak_rss);
}

async fn wait_for(telegram: &FakeTelegram, method: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(900);
    while telegram.count(method) < n {
        assert!(
            Instant::now() < deadline,
            "{method}: {} of {n}",
            telegram.count(method)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn update(id: i64, user: i64, text: &str) -> String {
    serde_json::json!({"update_id": id, "message": {"message_id": id, "date": 1_700_000_000,
        "text": text, "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": false, "first_name": "U", "language_code": "en"}}})
    .to_string()
}

fn spawn_server(db_url: &str, telegram_url: &str, fal_url: &str, port: u16) -> Child {
    support::server(db_url, telegram_url, port)
        .env("TELEGRAM_GLOBAL_RATE", "28")
        .env("FAL_KEY", "bench")
        .env("FAL_QUEUE_URL", fal_url)
        .env("FAL_REST_URL", fal_url)
        .env(
            "STORAGE_URL",
            format!("file://{}", tempfile::tempdir().unwrap().keep().display()),
        )
        .spawn()
        .expect("release binary starts")
}

//! Pre-checkout benchmark: how long a payment waits for its answer while the bot has a long
//! queue of messages held to Telegram's pace. Telegram cancels the payment after 10 s.
//!
//! `scripts/bench.sh pre_checkout` runs it: `BENCH_QUEUED` (default 1000) people write
//! `/start`, and while their replies leave at 28/s (a fake Bot API enforcing 30/s and 1/s per
//! chat), five people pay, a second apart. Reports each answer's delay from the webhook's 200
//! to the fake Bot API, and how many messages were still waiting then.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use studio_testkit::{Backend, FakeTelegram, Limits, TestDb};
use support::{KillOnDrop, free_port, ms, post, wait_ready};

const PAYERS: i64 = 5;

#[tokio::main]
async fn main() {
    let queued: i64 = std::env::var("BENCH_QUEUED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    for backend in support::backends() {
        run(backend, queued).await;
    }
}

async fn run(backend: Backend, queued: i64) {
    let db = TestDb::fresh(backend).await;
    let telegram = FakeTelegram::start().await;
    telegram.enforce(Limits {
        per_second: 30,
        chat_gap: Duration::from_secs(1),
    });
    let port = free_port();
    let _server = KillOnDrop(
        support::server(&db.url, &telegram.url, port)
            .spawn()
            .expect("release binary starts"),
    );
    let http = studio_server::app::http_client().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&http, &base).await;

    for i in 0..queued {
        post(&http, &base, &start(i + 1, 7_000_000 + i)).await;
    }
    let mut delays = Vec::new();
    for payer in 0..PAYERS {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let posted = Instant::now();
        post(
            &http,
            &base,
            &pre_checkout(1_000_000 + payer, 9_000_000 + payer),
        )
        .await;
        let n = usize::try_from(payer + 1).unwrap();
        let answers = telegram
            .wait_for("answerPreCheckoutQuery", n, Duration::from_secs(60))
            .await;
        let answered = answers.last().unwrap().at;
        let waiting = usize::try_from(queued).unwrap() - telegram.count("sendMessage");
        let delay = answered.saturating_duration_since(posted);
        println!(
            "{backend:?}: payment {} answered in {:.1} ms, {waiting} messages still waiting",
            payer + 1,
            ms(delay)
        );
        delays.push(delay);
    }
    let worst = delays.iter().max().copied().unwrap_or_default();
    println!(
        "{backend:?}: worst pre-checkout answer {:.1} ms behind {queued} queued messages; 429s: {}",
        ms(worst),
        telegram.rate_limited()
    );
}

fn start(id: i64, user: i64) -> String {
    serde_json::json!({"update_id": id, "message": {"message_id": id, "date": 1_700_000_000,
        "text": "/start", "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": false, "first_name": "U", "language_code": "en"}}})
    .to_string()
}

fn pre_checkout(id: i64, user: i64) -> String {
    serde_json::json!({"update_id": id, "pre_checkout_query": {"id": format!("pc{id}"),
        "from": {"id": user, "is_bot": false, "first_name": "U", "language_code": "en"},
        "currency": "XTR", "total_amount": 50, "invoice_payload": "topup:100:50"}})
    .to_string()
}

//! Ingress benchmark: N distinct `/start` updates from many users, posted over 64 connections
//! to the release binary, replies received by a fake Bot API with no rate limit.
//!
//! `scripts/bench.sh` runs it; `BENCH_UPDATES` (default 20000) and `BENCH_BACKENDS`
//! (default `sqlite,postgres`) tune it. Reports acknowledged updates/s, webhook answer p50/p99,
//! replies delivered per second end to end, drain time, idle and peak RSS, start-up time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use studio_testkit::{Backend, FakeTelegram, Limits, TestDb};
use support::{KillOnDrop, SECRET, free_port, ms, rss_kib, stop, wait_ready};
use tokio::sync::Mutex;

const CONNECTIONS: usize = 64;

#[tokio::main]
async fn main() {
    let updates: usize = std::env::var("BENCH_UPDATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    for backend in support::backends() {
        run(backend, updates).await;
    }
}

async fn run(backend: Backend, updates: usize) {
    let db = TestDb::fresh(backend).await;
    let telegram = FakeTelegram::start().await;
    // Measures the bot, not Telegram's pace: the bot runs above it (TELEGRAM_GLOBAL_RATE).
    telegram.enforce(Limits::NONE);
    let port = free_port();
    let started = Instant::now();
    let mut server = KillOnDrop(spawn_server(&db.url, &telegram.url, port));
    let http = studio_server::app::http_client().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&http, &base).await;
    let ready_in = started.elapsed();
    println!("server at {base} (metrics at {base}/metrics)");
    let idle_rss = rss_kib(server.0.id(), "VmRSS");

    let next = Arc::new(Mutex::new(0usize));
    let load_started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        let (http, next, url) = (
            http.clone(),
            Arc::clone(&next),
            format!("{base}/telegram/webhook"),
        );
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = {
                    let mut n = next.lock().await;
                    if *n >= updates {
                        break;
                    }
                    *n += 1;
                    *n
                };
                let body = start_update(i);
                let sent = Instant::now();
                let status = http
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                assert_eq!(status, 200, "update {i} not acknowledged");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(updates);
    for client in clients {
        latencies.extend(client.await.unwrap());
    }
    let acked_in = load_started.elapsed();
    let delivered_during_load = telegram.count("sendMessage");
    let drain_started = Instant::now();
    while telegram.count("sendMessage") < updates {
        assert!(
            drain_started.elapsed() < Duration::from_secs(600),
            "replies stopped arriving"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drained_in = drain_started.elapsed();
    let last_reply = telegram
        .calls_to("sendMessage")
        .iter()
        .map(|c| c.at)
        .max()
        .unwrap();
    let end_to_end = last_reply.duration_since(load_started);
    let peak_rss = rss_kib(server.0.id(), "VmHWM");
    stop(&mut server.0);

    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("== {backend:?}: {updates} updates, {CONNECTIONS} connections");
    println!("ready after start          {:>10.0} ms", ms(ready_in));
    println!(
        "acknowledged               {:>10.0} updates/s ({:.2} s)",
        updates as f64 / acked_in.as_secs_f64(),
        acked_in.as_secs_f64()
    );
    println!(
        "webhook answer p50 / p99   {:>10.2} / {:.2} ms",
        ms(pct(0.50)),
        ms(pct(0.99))
    );
    println!("delivered during the load  {:>10}", delivered_during_load);
    println!(
        "delivered end to end       {:>10.0} replies/s ({:.2} s)",
        updates as f64 / end_to_end.as_secs_f64(),
        end_to_end.as_secs_f64()
    );
    println!("drain after the load       {:>10.0} ms", ms(drained_in));
    println!(
        "RSS idle / peak            {:>10} / {} KiB",
        idle_rss, peak_rss
    );
}

fn start_update(i: usize) -> String {
    let user = 10_000_000 + i;
    format!(
        r#"{{"update_id":{i},"message":{{"message_id":1,"date":1700000000,"text":"/start","chat":{{"id":{user},"type":"private","first_name":"U"}},"from":{{"id":{user},"is_bot":false,"first_name":"U","language_code":"en"}}}}}}"#
    )
}

fn spawn_server(db_url: &str, telegram_url: &str, port: u16) -> Child {
    support::server(db_url, telegram_url, port)
        .env("DATABASE_MAX_CONNECTIONS", "16")
        .env("TELEGRAM_GLOBAL_RATE", "1000000")
        .spawn()
        .expect("release binary starts")
}

//! Ingress benchmark, the peer benchmark's workload (`../shared/bench`, shared mode): `/start`
//! from a pool of 10,000 people over 64 keep-alive connections for 20 s, to the release binary,
//! replies taken by a fake Bot API with no rate limit; a 3 s warm-up first.
//!
//! `scripts/bench.sh` runs it; `BENCH_SECONDS`, `BENCH_PEOPLE` and `BENCH_BACKENDS` (default
//! `sqlite,postgres`) tune it. Reports the peer benchmark's figures: acknowledged and delivered
//! per second (during the load and overall), webhook p50/p99, lost updates, the bot's and
//! PostgreSQL's CPU per update, idle and peak RSS, start-up time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use studio_testkit::{Backend, FakeTelegram, Limits, TestDb};
use support::{KillOnDrop, SECRET, cpu, free_port, ms, rss_kib, stop, wait_ready};

const CONNECTIONS: usize = 64;
const WARM_UP: Duration = Duration::from_secs(3);

struct Load {
    people: u64,
    next_update: Arc<AtomicU64>,
}

#[tokio::main]
async fn main() {
    let seconds: u64 = setting("BENCH_SECONDS", 20);
    let people: u64 = setting("BENCH_PEOPLE", 10_000);
    for backend in support::backends() {
        run(backend, Duration::from_secs(seconds), people).await;
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run(backend: Backend, duration: Duration, people: u64) {
    let db = TestDb::fresh(backend).await;
    let telegram = FakeTelegram::start().await;
    // Measures the bot, not Telegram's pace: the bot runs above it (TELEGRAM_GLOBAL_RATE).
    telegram.enforce(Limits::NONE);
    let port = free_port();
    let started = Instant::now();
    let mut server = KillOnDrop(spawn_server(&db.url, &telegram.url, port));
    let pid = server.0.id();
    let http = studio_server::app::http_client().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&http, &base).await;
    let ready_in = started.elapsed();
    println!("server at {base} (metrics at {base}/metrics)");
    let idle_rss = rss_kib(pid, "VmRSS");
    let load = Load {
        people,
        next_update: Arc::new(AtomicU64::new(1)),
    };

    let warmed = load.post_for(&http, &base, WARM_UP).await.len();
    wait_for_replies(&telegram, warmed).await;
    let before = telegram.count("sendMessage");

    let (bot0, db0) = (cpu::process(pid), cpu::postgres());
    let load_started = Instant::now();
    let mut latencies = load.post_for(&http, &base, duration).await;
    let loaded_for = load_started.elapsed();
    let during_load = telegram.count("sendMessage") - before;
    let acked = latencies.len();
    let drain_started = Instant::now();
    wait_for_replies(&telegram, before + acked).await;
    let drained_in = drain_started.elapsed();
    let (bot1, db1) = (cpu::process(pid), cpu::postgres());
    let replies = telegram.calls_to("sendMessage");
    let handled = replies.len() - before;
    let measured: Vec<Instant> = replies.iter().skip(before).map(|c| c.at).collect();
    let span = measured
        .iter()
        .max()
        .unwrap()
        .duration_since(*measured.iter().min().unwrap());
    let peak_rss = rss_kib(pid, "VmHWM");
    stop(&mut server.0);

    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let per_update = |secs: f64| 1e6 * secs / handled as f64;
    let per_second = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "== {backend:?}: {CONNECTIONS} connections, {people} people, {:.0} s",
        duration.as_secs_f64()
    );
    println!("ready after start          {:>10.0} ms", ms(ready_in));
    println!(
        "acknowledged               {:>10.0} updates/s ({acked})",
        per_second(acked, loaded_for)
    );
    println!(
        "webhook answer p50 / p99   {:>10.2} / {:.2} ms",
        ms(pct(0.50)),
        ms(pct(0.99))
    );
    println!(
        "delivered during the load  {:>10.0} replies/s",
        per_second(during_load, loaded_for)
    );
    println!(
        "delivered overall          {:>10.0} replies/s",
        per_second(handled, span)
    );
    println!(
        "lost                       {:>10}",
        acked.saturating_sub(handled)
    );
    println!("drain after the load       {:>10.0} ms", ms(drained_in));
    println!(
        "bot CPU per update         {:>10.1} µs",
        per_update(bot1 - bot0)
    );
    if backend == Backend::Postgres {
        println!(
            "PostgreSQL CPU per update  {:>10.1} µs",
            per_update(db1 - db0)
        );
    }
    println!(
        "RSS idle / peak            {:>10} / {} KiB",
        idle_rss, peak_rss
    );
}

impl Load {
    /// Posts `/start` from random people over every connection until `duration` is up; returns
    /// each acknowledged update's answer time.
    async fn post_for(
        &self,
        http: &reqwest::Client,
        base: &str,
        duration: Duration,
    ) -> Vec<Duration> {
        let until = Instant::now() + duration;
        let mut clients = Vec::new();
        for seed in 0..CONNECTIONS as u64 {
            let (http, url) = (http.clone(), format!("{base}/telegram/webhook"));
            let (next, people) = (Arc::clone(&self.next_update), self.people);
            clients.push(tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(seed);
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let id = next.fetch_add(1, Ordering::Relaxed);
                    let body = start_update(id, 10_000_000 + rng.u64(0..people));
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
                    assert_eq!(status, 200, "update {id} not acknowledged");
                    latencies.push(sent.elapsed());
                }
                latencies
            }));
        }
        let mut latencies = Vec::new();
        for client in clients {
            latencies.extend(client.await.unwrap());
        }
        latencies
    }
}

/// Waits until the fake Bot API has had `replies` messages; a bot that stops replying fails.
async fn wait_for_replies(telegram: &FakeTelegram, replies: usize) {
    let started = Instant::now();
    while telegram.count("sendMessage") < replies {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "replies stopped arriving"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn start_update(id: u64, user: u64) -> String {
    format!(
        r#"{{"update_id":{id},"message":{{"message_id":{id},"date":1700000000,"text":"/start","entities":[{{"offset":0,"length":6,"type":"bot_command"}}],"chat":{{"id":{user},"type":"private","first_name":"U"}},"from":{{"id":{user},"is_bot":false,"first_name":"U","language_code":"en"}}}}}}"#
    )
}

fn spawn_server(db_url: &str, telegram_url: &str, port: u16) -> Child {
    support::server(db_url, telegram_url, port)
        .env("DATABASE_MAX_CONNECTIONS", "16")
        .env("TELEGRAM_GLOBAL_RATE", "1000000")
        .env("TELEGRAM_CHAT_RATE", "1000000")
        .spawn()
        .expect("release binary starts")
}

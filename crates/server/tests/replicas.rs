//! Replicas behave as one bot: Telegram's limits are per bot, so three processes on one
//! database keep one pace between them, globally and per chat.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use studio_testkit::{FakeTelegram, Limits, TestDb};

#[path = "common/server.rs"]
mod server;

use server::{client, post, spawn, start, wait_ready};

/// 300 people at the bot's default 28 messages a second take about 11 s to answer.
const WITHIN: Duration = Duration::from_secs(15);

#[tokio::test]
async fn three_replicas_keep_telegrams_limits_together() {
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    telegram.enforce(Limits {
        per_second: 30,
        chat_gap: Duration::from_secs(1),
    });
    server::migrate(&db.url);
    let settings = [("RUST_LOG", "warn"), ("RUN_MIGRATIONS", "false")];
    let replicas: Vec<_> = (0..3)
        .map(|_| spawn(&db.url, &telegram.url, &settings))
        .collect();
    let http = client();
    for replica in &replicas {
        wait_ready(&http, replica).await;
    }

    // 300 people write to whichever replica the load balancer picks; ten of them write again
    // to another replica, whose reply must still keep a second after the first one.
    let people: Vec<i64> = (0..300).map(|i| 3_000_000 + i).collect();
    let started = Instant::now();
    let mut update_id = 0;
    let mut expected = HashMap::new();
    for (i, person) in people.iter().enumerate() {
        let writes = if i < 10 { 2 } else { 1 };
        for write in 0..writes {
            update_id += 1;
            let replica = &replicas[(i + write) % replicas.len()];
            let status = post(&http, &replica.base, &start(update_id, *person)).await;
            assert_eq!(status.unwrap(), 200);
        }
        expected.insert(*person, writes);
    }
    let total: usize = expected.values().sum();
    while telegram.count("sendMessage") < total && started.elapsed() < WITHIN {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    assert_eq!(
        telegram.rate_limited(),
        0,
        "the replicas together stayed within Telegram's limits"
    );
    let mut replies = HashMap::<i64, usize>::new();
    for call in telegram.calls_to("sendMessage") {
        *replies
            .entry(call.body["chat_id"].as_i64().unwrap())
            .or_default() += 1;
    }
    assert_eq!(
        replies, expected,
        "every person answered once per message within {WITHIN:?}"
    );
}

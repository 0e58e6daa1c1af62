//! The release-shaped binary as operators run it: JSON logs without secrets, and a SIGTERM
//! under load that loses no acknowledged update.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use studio_bot_ui::{Callback, GenerateAction, PhotoPromptAction};
use studio_testkit::{FakeTelegram, Limits, TestDb};

#[path = "common/seed.rs"]
mod seed;
#[path = "common/server.rs"]
mod server;

use server::{
    FAL_KEY, PATIENCE, Server, TOKEN, WEBHOOK_SECRET, client, post, spawn, start, wait_ready,
};

fn sigterm(server: &Server) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn json_logs_carry_ids_and_never_a_secret() {
    let db = TestDb::sqlite();
    let telegram = FakeTelegram::start().await;
    // One failing path too: a 429 and a 500 make the sender log errors.
    telegram.fail_next(
        "sendMessage",
        429,
        json!({"ok": false, "error_code": 429,
        "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
    );
    let mut server = spawn(&db.url, &telegram.url, &[]);
    let http = client();
    wait_ready(&http, &server).await;
    assert_eq!(post(&http, &server.base, &start(1, 42)).await.unwrap(), 200);
    assert_eq!(post(&http, &server.base, &start(2, 43)).await.unwrap(), 200);
    let wrong = http
        .post(format!("{}/telegram/webhook", server.base))
        .header("X-Telegram-Bot-Api-Secret-Token", "nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    telegram.wait_for("sendMessage", 3, PATIENCE).await;
    sigterm(&server);
    server.child.wait().unwrap();
    let logs = std::fs::read_to_string(&server.log).unwrap();
    assert!(!logs.is_empty());
    for line in logs.lines() {
        let record: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(record.get("level").is_some(), "{line}");
    }
    assert!(
        logs.contains("\"update_id\":\"1\"") || logs.contains("\"update_id\":1"),
        "spans carry update ids"
    );
    for secret in [TOKEN, "SECRET-token", WEBHOOK_SECRET, FAL_KEY] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

#[tokio::test]
async fn sigterm_under_load_loses_no_acknowledged_update() {
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    // The bot runs far above Telegram's pace here (TELEGRAM_GLOBAL_RATE) to test recovery,
    // not pacing, which `replicas.rs` tests against the limits.
    telegram.enforce(Limits::NONE);
    // Distinct users and no global limit: the drain is measured, not Telegram's pacing.
    let fast = ("TELEGRAM_GLOBAL_RATE", "100000");
    let first = spawn(
        &db.url,
        &telegram.url,
        &[("DRAIN_DELAY_SECS", "1"), ("RUST_LOG", "warn"), fast],
    );
    let http = client();
    wait_ready(&http, &first).await;

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut load = tokio::task::JoinSet::new();
    for worker in 0..8i64 {
        let (http, base, acknowledged) =
            (http.clone(), first.base.clone(), Arc::clone(&acknowledged));
        load.spawn(async move {
            // Each worker posts until the server stops answering.
            for i in 0..10_000i64 {
                let id = worker * 100_000 + i + 1;
                match post(&http, &base, &start(id, 1_000_000 + id)).await {
                    Ok(200) => acknowledged.lock().unwrap().push(id),
                    Ok(503) => {}
                    Ok(other) => panic!("unexpected status {other}"),
                    Err(_) => return,
                }
            }
        });
    }
    // Let the load run until some updates are in, then ask the server to stop.
    while acknowledged.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sigterm(&first);
    let deadline = Instant::now() + PATIENCE;
    let mut saw_draining = false;
    while Instant::now() < deadline {
        match http.get(format!("{}/readyz", first.base)).send().await {
            Ok(response) if response.status() == 503 => saw_draining = true,
            Ok(_) => {}
            Err(_) => break,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        saw_draining,
        "readiness turned 503 before the listener closed"
    );
    while load.join_next().await.is_some() {}
    let acknowledged = acknowledged.lock().unwrap().clone();

    // A new process on the same database finishes whatever the first left.
    let second = spawn(&db.url, &telegram.url, &[("RUST_LOG", "warn"), fast]);
    wait_ready(&http, &second).await;
    let deadline = Instant::now() + PATIENCE;
    while telegram.count("sendMessage") < acknowledged.len() {
        assert!(
            Instant::now() < deadline,
            "{} of {} replies",
            telegram.count("sendMessage"),
            acknowledged.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let replies = telegram.calls_to("sendMessage").len();
    assert!(
        replies >= acknowledged.len(),
        "every acknowledged update was answered"
    );
    drop(second);
}

#[tokio::test]
async fn two_replicas_share_the_work_and_survive_one_being_killed() {
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    // The bot runs far above Telegram's pace here (TELEGRAM_GLOBAL_RATE) to test recovery,
    // not pacing, which `replicas.rs` tests against the limits.
    telegram.enforce(Limits::NONE);
    server::migrate(&db.url);
    let settings = [
        ("TELEGRAM_GLOBAL_RATE", "100000"),
        ("RUST_LOG", "warn"),
        ("LEASE_SECS", "2"),
        ("RUN_MIGRATIONS", "false"),
    ];
    let mut a = spawn(&db.url, &telegram.url, &settings);
    let b = spawn(&db.url, &telegram.url, &settings);
    let http = client();
    wait_ready(&http, &a).await;
    wait_ready(&http, &b).await;

    // 400 users, two updates each, posted alternately to both replicas; A is killed halfway.
    let users: Vec<i64> = (0..400).map(|i| 2_000_000 + i).collect();
    let mut expected = 0;
    for (round, update_base) in [(0, 0), (1, 10_000)] {
        for (i, user) in users.iter().enumerate() {
            let update = start(update_base + i as i64 + 1, *user);
            let target = if i % 2 == 0 && round == 0 {
                &a.base
            } else {
                &b.base
            };
            // Telegram re-delivers what a dead replica did not acknowledge: so does this test.
            if !matches!(post(&http, target, &update).await, Ok(200)) {
                assert_eq!(post(&http, &b.base, &update).await.unwrap(), 200);
            }
            expected += 1;
            if round == 0 && i == users.len() / 2 {
                a.child.kill().unwrap();
                a.child.wait().unwrap();
            }
        }
    }
    let deadline = Instant::now() + PATIENCE * 2;
    while telegram.count("sendMessage") < expected {
        assert!(
            Instant::now() < deadline,
            "{} of {expected} replies",
            telegram.count("sendMessage")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Handled exactly once: one decided reply per update, whichever replica ran it.
    let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();
    use sea_orm::ConnectionTrait;
    let count = |sql: &'static str| {
        let conn = &conn;
        async move {
            let row = conn
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM inbox WHERE state = 'done'").await,
        expected as i64
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM outbox").await,
        expected as i64
    );
    // Delivered at least once each; a call the killed replica made but could not record as
    // sent goes out again (Telegram has no idempotency key), so a few repeats are allowed.
    let mut per_user = std::collections::HashMap::<i64, usize>::new();
    for call in telegram.calls_to("sendMessage") {
        *per_user
            .entry(call.body["chat_id"].as_i64().unwrap())
            .or_default() += 1;
    }
    for user in &users {
        assert!(
            per_user.get(user).copied().unwrap_or(0) >= 2,
            "user {user} missed a reply"
        );
    }
    let repeats = telegram.count("sendMessage") - expected;
    assert!(
        repeats <= 64,
        "{repeats} repeats: more than the killed replica had in flight"
    );
    drop(b);
}

/// The generation menu's "Custom prompt" (for the main avatar), as its button sends it.
fn custom_prompt() -> String {
    Callback::Generate(GenerateAction::CustomPrompt(None)).encode()
}

/// The generation menu's "Prompt from photo" (for the main avatar).
fn prompt_from_photo() -> String {
    Callback::PhotoPrompt(PhotoPromptAction::Start(None)).encode()
}

fn tap_update(update_id: i64, user: i64, data: &str) -> Value {
    json!({"update_id": update_id, "callback_query": {"id": format!("q{update_id}"),
        "from": {"id": user, "is_bot": false, "first_name": "P", "language_code": "en"},
        "message": {"message_id": 1, "date": 1_700_000_000, "chat": {"id": user, "type": "private"}, "text": "x"},
        "chat_instance": "1", "data": data}})
}

fn text_update(update_id: i64, user: i64, text: &str) -> Value {
    let mut update = start(update_id, user);
    update["message"]["text"] = text.into();
    update
}

/// Generation across two replicas, one killed while jobs run: every job ends exactly once,
/// nothing is charged twice, and every person gets their images.
#[tokio::test]
async fn generation_jobs_survive_a_killed_replica() {
    use sea_orm::ConnectionTrait;
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    // The bot runs far above Telegram's pace here (TELEGRAM_GLOBAL_RATE) to test recovery,
    // not pacing, which `replicas.rs` tests against the limits.
    telegram.enforce(Limits::NONE);
    let fal = studio_testkit::FakeFal::start().await;
    // Slow enough that the kill lands while jobs wait on FAL.
    fal.set_latency(Duration::from_millis(1500));
    let shared_storage = format!("file://{}", tempfile::tempdir().unwrap().keep().display());
    server::migrate(&db.url);
    let settings = [
        ("TELEGRAM_GLOBAL_RATE", "100000"),
        ("TELEGRAM_CHAT_RATE", "100"),
        ("RUST_LOG", "warn"),
        ("LEASE_SECS", "2"),
        ("RUN_MIGRATIONS", "false"),
        ("FAL_QUEUE_URL", fal.url.as_str()),
        ("FAL_REST_URL", fal.url.as_str()),
        ("FAL_POLL_SECS", "1"),
        // One object store for all replicas, as S3 is in production: the replica that sends a
        // photo is not always the one that stored it.
        ("STORAGE_URL", shared_storage.as_str()),
    ];
    let mut a = spawn(&db.url, &telegram.url, &settings);
    let b = spawn(&db.url, &telegram.url, &settings);
    let http = client();
    wait_ready(&http, &a).await;
    wait_ready(&http, &b).await;
    // FAL's webhooks reach the surviving replica, as through the load balancer.
    fal.route_webhooks_to(Some(&b.base));

    let users: Vec<i64> = (0..20).map(|i| 3_000_000 + i).collect();
    let mut id = 50_000;
    for user in &users {
        id += 1;
        assert_eq!(post(&http, &b.base, &start(id, *user)).await.unwrap(), 200);
    }
    let deadline = Instant::now() + PATIENCE;
    while telegram.count("sendMessage") < users.len() {
        assert!(Instant::now() < deadline, "greetings not sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();
    let lora = fal.host("kim.safetensors", b"LoRA weights of Kim".to_vec());
    seed::ready_to_generate(&conn, &users, 10, &lora).await;

    // Two images per person, half of the requests through A.
    for round in 0..2 {
        for (i, user) in users.iter().enumerate() {
            let target = if i % 2 == 0 { &a.base } else { &b.base };
            for update in [
                tap_update(id + 1, *user, &custom_prompt()),
                text_update(id + 2, *user, &format!("portrait {round} of {user}")),
            ] {
                assert_eq!(post(&http, target, &update).await.unwrap(), 200);
            }
            id += 2;
        }
    }
    fal.wait_for_submissions(8, PATIENCE).await;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    // What A had accepted but not handled is redone once its leases expire, by B or by A
    // started again.
    let restarted = spawn(&db.url, &telegram.url, &settings);
    wait_ready(&http, &restarted).await;

    let count = |sql: String| {
        let conn = &conn;
        async move {
            let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql);
            let row = conn.query_one_raw(statement).await.unwrap().unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    let deadline = Instant::now() + PATIENCE * 2;
    loop {
        let done =
            count("SELECT COUNT(*) AS n FROM generations WHERE status = 'completed'".into()).await;
        if done == 40 {
            break;
        }
        assert!(Instant::now() < deadline, "{done} of 40 images done");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM generations".into()).await,
        40
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM ledger WHERE kind = 'generation_debit'".into()).await,
        40
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM ledger WHERE kind = 'generation_refund'".into()).await,
        0
    );
    assert_eq!(
        count("SELECT CAST(SUM(amount) AS BIGINT) AS n FROM ledger".into()).await,
        20 * 10 - 40 * 5
    );
    let deadline = Instant::now() + PATIENCE;
    loop {
        let per_user = photos_per_chat(&telegram);
        if users
            .iter()
            .all(|u| per_user.get(u).copied().unwrap_or(0) >= 2)
        {
            break;
        }
        assert!(Instant::now() < deadline, "photos missing: {per_user:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A submission A made but had not recorded is made again; a photo A sent but had not
    // recorded as sent goes out again. Both are bounded by what A had in flight.
    assert!(
        fal.submissions().len() <= 40 + 8,
        "{} submissions",
        fal.submissions().len()
    );
    assert!(
        telegram.count("sendPhoto") <= 40 + 8,
        "{} photos",
        telegram.count("sendPhoto")
    );
    for server in [&a, &b, &restarted] {
        let log = std::fs::read_to_string(&server.log).unwrap();
        for secret in [TOKEN, FAL_KEY, WEBHOOK_SECRET] {
            assert!(!log.contains(secret), "a secret in the logs");
        }
    }
    drop((b, restarted));
}

fn photos_per_chat(telegram: &FakeTelegram) -> std::collections::HashMap<i64, usize> {
    let mut per_chat = std::collections::HashMap::new();
    for call in telegram.calls_to("sendPhoto") {
        let chat = call.body["chat_id"].as_i64().unwrap_or_default();
        *per_chat.entry(chat).or_default() += 1;
    }
    per_chat
}

/// A prompt from a photo through the binary with debug logs: the model gets the image as
/// data, never the Telegram file link (it holds the bot token), and no key reaches the logs.
#[tokio::test]
async fn a_photo_prompt_keeps_the_token_out_of_the_model_and_the_logs() {
    const OPENAI_KEY: &str = "sk-openai-key-must-not-leak";
    let db = TestDb::sqlite();
    let telegram = FakeTelegram::start().await;
    let openai = studio_testkit::FakeOpenAi::start().await;
    let user = 4_000_001;
    let (mut server, http) = with_model_and_member(&db, &telegram, &openai, OPENAI_KEY, user).await;

    let tap = tap_update(2, user, &prompt_from_photo());
    assert_eq!(post(&http, &server.base, &tap).await.unwrap(), 200);
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(64, 48, image::Rgb([9, 99, 199]))
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    telegram.add_file("reference-1", jpeg.into_inner());
    let mut photo = start(3, user);
    photo["message"].as_object_mut().unwrap().remove("text");
    photo["message"]["photo"] = json!([{"file_id": "reference-1", "file_unique_id": "r1",
        "width": 64, "height": 48, "file_size": 1000}]);
    assert_eq!(post(&http, &server.base, &photo).await.unwrap(), 200);

    let [request] = openai
        .wait_for_requests(1, PATIENCE)
        .await
        .try_into()
        .unwrap();
    assert_eq!(request.status, 200);
    let body = request.body.to_string();
    assert!(
        !body.contains(TOKEN) && !body.contains("/file/bot"),
        "a file link reached the model"
    );
    let deadline = Instant::now() + PATIENCE;
    while !telegram.calls_to("sendMessage").iter().any(|c| {
        c.body["text"]
            .as_str()
            .unwrap_or("")
            .contains(studio_testkit::VISION_PROMPT)
    }) {
        assert!(Instant::now() < deadline, "the proposal never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sigterm(&server);
    server.child.wait().unwrap();
    let logs = std::fs::read_to_string(&server.log).unwrap();
    assert!(logs.contains("language model request queued"));
    for secret in [TOKEN, OPENAI_KEY, WEBHOOK_SECRET, FAL_KEY] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

/// The largest decode accepted, a 16-bit RGBA PNG at the cap, sent as the reference of a
/// prompt from a photo, and one past the cap: the process stays under 200 MiB at its peak
/// (the pod's limit is 256 MiB), and the one past the cap is refused from its header.
#[tokio::test]
async fn the_heaviest_image_a_person_can_send_stays_under_200_mib() {
    let db = TestDb::sqlite();
    let telegram = FakeTelegram::start().await;
    let openai = studio_testkit::FakeOpenAi::start().await;
    let user = 4_000_002;
    let (server, http) = with_model_and_member(&db, &telegram, &openai, "sk-test", user).await;

    // Real pixels in both: the one past the cap is the file that once took a pod to 374 MiB.
    let references = [
        ("at-cap", deep_png(3546, 3546)),
        ("past-cap", deep_png(6480, 6470)),
    ];
    for (i, (file_id, bytes)) in references.into_iter().enumerate() {
        let id = 10 + 2 * i64::try_from(i).unwrap();
        let tap = tap_update(id, user, &prompt_from_photo());
        assert_eq!(post(&http, &server.base, &tap).await.unwrap(), 200);
        let size = bytes.len();
        telegram.add_document(file_id, bytes);
        let mut document = start(id + 1, user);
        document["message"].as_object_mut().unwrap().remove("text");
        document["message"]["document"] = json!({"file_id": file_id, "file_unique_id": file_id,
            "file_name": "deep.png", "mime_type": "image/png", "file_size": size});
        assert_eq!(post(&http, &server.base, &document).await.unwrap(), 200);
    }
    // The first reached the model (decoded, shrunk); the second was refused.
    openai.wait_for_requests(1, PATIENCE).await;
    let deadline = Instant::now() + PATIENCE;
    while !telegram.calls().iter().any(|c| {
        c.body["text"]
            .as_str()
            .is_some_and(|t| t.contains("too large"))
    }) {
        assert!(
            Instant::now() < deadline,
            "the past-cap image was not refused"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(openai.requests().len(), 1);
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    eprintln!("peak RSS {} MiB", peak_kib / 1024);
    assert!(peak_kib < 200 * 1024, "peak RSS {} MiB", peak_kib / 1024);
}

/// A 16-bit RGBA PNG with real (varying) pixels.
fn deep_png(width: u32, height: u32) -> Vec<u8> {
    let deep = image::ImageBuffer::from_fn(width, height, |x, y| {
        image::Rgba([(x * 10) as u16, (y * 10) as u16, 40_000u16, u16::MAX])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba16(deep)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    png.into_inner()
}

/// 20 SIGKILLs under a stream of updates, each process replaced at once. Leases are ten
/// minutes here, so the replies can only come by the new process taking over the dead one's
/// claims as soon as its heartbeat stops, not by waiting the leases out: every acknowledged
/// update is answered (some twice: at least once is the contract), none lost. The time from
/// the last restart to the last reply is printed (docs/performance.md).
#[tokio::test]
async fn twenty_sigkills_under_load_lose_nothing_and_wait_out_no_lease() {
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    // Recovery is measured here, not Telegram's pace.
    telegram.enforce(Limits::NONE);
    let settings = [
        ("RUST_LOG", "warn"),
        ("TELEGRAM_GLOBAL_RATE", "100000"),
        ("LEASE_SECS", "600"),
    ];
    let http = client();
    let mut server = spawn(&db.url, &telegram.url, &settings);
    wait_ready(&http, &server).await;
    let base = Arc::new(Mutex::new(server.base.clone()));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = tokio_util::sync::CancellationToken::new();
    let mut load = tokio::task::JoinSet::new();
    for worker in 0..4i64 {
        let (http, base, acknowledged, stop) = (
            http.clone(),
            Arc::clone(&base),
            Arc::clone(&acknowledged),
            stop.clone(),
        );
        load.spawn(async move {
            let mut i = 0;
            while !stop.is_cancelled() {
                i += 1;
                let id = worker * 1_000_000 + i;
                let target = base.lock().unwrap().clone();
                match post(&http, &target, &start(id, 5_000_000 + id)).await {
                    Ok(200) => acknowledged.lock().unwrap().push(id),
                    // Between a kill and the next process: not acknowledged, Telegram retries.
                    _ => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        });
    }
    for _ in 0..20 {
        let before = acknowledged.lock().unwrap().len();
        while acknowledged.lock().unwrap().len() < before + 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        server = spawn(&db.url, &telegram.url, &settings);
        wait_ready(&http, &server).await;
        *base.lock().unwrap() = server.base.clone();
    }
    let restarted = Instant::now();
    stop.cancel();
    while load.join_next().await.is_some() {}
    let acknowledged = acknowledged.lock().unwrap().clone();
    let chats: Vec<i64> = acknowledged.iter().map(|id| 5_000_000 + id).collect();
    wait_until_answered(&telegram, &chats, &server).await;
    eprintln!(
        "{} updates acknowledged across 20 SIGKILLs; all answered {:.1} s after the last \
         restart ({} replies)",
        acknowledged.len(),
        restarted.elapsed().as_secs_f64(),
        telegram.count("sendMessage")
    );
    drop(server);
}

/// PostgreSQL goes away under load and comes back (through a proxy, so no other test's
/// database is touched): while it is down `/readyz` answers 503 and the webhook 503 (Telegram
/// retries those), nothing acknowledged is lost, and the bot recovers on its own.
#[tokio::test]
async fn a_database_outage_is_answered_503_and_recovered_from() {
    let db = TestDb::postgres().await;
    let proxy = studio_testkit::TcpProxy::start(studio_testkit::postgres_addr(&db.url)).await;
    let url = studio_testkit::via(&db.url, proxy.addr);
    let telegram = FakeTelegram::start().await;
    let server = spawn(&url, &telegram.url, &[("RUST_LOG", "warn")]);
    let http = client();
    wait_ready(&http, &server).await;
    let mut acknowledged = Vec::new();
    let mut id = 0;
    let mut send = |n: usize| {
        let batch: Vec<i64> = (0..n)
            .map(|_| {
                id += 1;
                id
            })
            .collect();
        batch
    };
    for update in send(10) {
        if post(&http, &server.base, &start(update, 6_000_000 + update))
            .await
            .unwrap()
            == 200
        {
            acknowledged.push(update);
        }
    }

    proxy.down();
    let ready = |http: &reqwest::Client| {
        let url = format!("{}/readyz", server.base);
        let http = http.clone();
        async move { http.get(url).send().await.map(|r| r.status().as_u16()) }
    };
    let deadline = Instant::now() + PATIENCE;
    while ready(&http).await.unwrap() != 503 {
        assert!(
            Instant::now() < deadline,
            "/readyz never reported the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let during = send(3);
    for update in &during {
        let status = post(&http, &server.base, &start(*update, 6_000_000 + update))
            .await
            .unwrap();
        assert_eq!(status, 503, "Telegram retries what we could not store");
    }

    proxy.up().await;
    let deadline = Instant::now() + PATIENCE;
    while ready(&http).await.unwrap() != 200 {
        assert!(Instant::now() < deadline, "/readyz never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Telegram delivers the refused updates again; they and new ones go through.
    for update in during.into_iter().chain(send(10)) {
        assert_eq!(
            post(&http, &server.base, &start(update, 6_000_000 + update))
                .await
                .unwrap(),
            200
        );
        acknowledged.push(update);
    }
    let chats: Vec<i64> = acknowledged.iter().map(|id| 6_000_000 + id).collect();
    wait_until_answered(&telegram, &chats, &server).await;
    drop(server);
}

/// Waits until each of `chats` got a reply; past the patience, fails with the tail of the
/// server's log.
async fn wait_until_answered(telegram: &FakeTelegram, chats: &[i64], server: &Server) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let answered: std::collections::HashSet<i64> = telegram
            .calls_to("sendMessage")
            .iter()
            .filter_map(|c| c.body["chat_id"].as_i64())
            .collect();
        let missing = chats.iter().filter(|c| !answered.contains(c)).count();
        if missing == 0 {
            return;
        }
        if Instant::now() > deadline {
            let logs = std::fs::read_to_string(&server.log).unwrap_or_default();
            let tail: Vec<&str> = logs.lines().rev().take(30).collect();
            panic!(
                "{missing} of {} acknowledged updates unanswered; last logs: {tail:#?}",
                chats.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The binary with a language model (the fake at `openai`, key `key`) and `user` registered
/// with a trained avatar; no FAL, so the avatar's weights are never read.
async fn with_model_and_member(
    db: &TestDb,
    telegram: &FakeTelegram,
    openai: &studio_testkit::FakeOpenAi,
    key: &str,
    user: i64,
) -> (Server, reqwest::Client) {
    let settings = [
        ("OPENAI_API_KEY", key),
        ("OPENAI_BASE_URL", openai.url.as_str()),
        ("TELEGRAM_CHAT_RATE", "100"),
    ];
    let server = spawn(&db.url, &telegram.url, &settings);
    let http = client();
    wait_ready(&http, &server).await;
    assert_eq!(
        post(&http, &server.base, &start(1, user)).await.unwrap(),
        200
    );
    telegram.wait_for("sendMessage", 1, PATIENCE).await;
    let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();
    seed::ready_to_generate(&conn, &[user], 10, "https://lora.invalid/kim.safetensors").await;
    (server, http)
}

//! The webhook: authentication, limits, storage, and the fixtures captured from real bots.

use studio_persistence::repos::inbox;
use studio_server::app::Workers;
use studio_testkit::{Backend, on_both_backends};

use crate::support::{SECRET, TestApp, fixtures, fresh, text_update};

#[tokio::test]
async fn every_fixture_is_accepted_and_the_server_stays_healthy() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    for (name, update) in fixtures() {
        assert_eq!(app.post_update(&update).await, 200, "{name}");
    }
    app.settle().await;
    assert_eq!(app.get("/healthz").await.0, 200);
    assert_eq!(app.get("/readyz").await.0, 200);
    for (name, update) in fixtures() {
        let id = studio_domain::UpdateId(update["update_id"].as_i64().unwrap());
        let row = inbox::find(&app.db, id).await.unwrap().expect(&name);
        assert!(
            row.last_error.is_none(),
            "{name} failed: {:?}",
            row.last_error
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn wrong_or_missing_secret_is_401_and_stores_nothing() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::IngressOnly).await;
    let update = text_update(1, 10, "/start");
    assert_eq!(app.post_raw(update.to_string(), Some("wrong")).await, 401);
    assert_eq!(
        app.post_raw(update.to_string(), Some(&SECRET[..SECRET.len() - 1]))
            .await,
        401
    );
    assert_eq!(app.post_raw(update.to_string(), None).await, 401);
    assert_eq!(inbox::backlog(&app.db).await.unwrap().0, 0);
    app.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_clear_statuses() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::IngressOnly).await;
    let huge = format!(
        "{{\"update_id\":1,\"pad\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    assert_eq!(app.post_raw(huge, Some(SECRET)).await, 413);
    assert_eq!(app.post_raw("not json", Some(SECRET)).await, 400);
    assert_eq!(app.post_raw("{\"message\":{}}", Some(SECRET)).await, 400);
    assert_eq!(app.post_raw("[1,2]", Some(SECRET)).await, 400);
    assert_eq!(app.post_raw(vec![0xff_u8, 0xfe], Some(SECRET)).await, 400);
    // An authenticated update of a kind we do not handle is stored and acknowledged.
    assert_eq!(
        app.post_raw("{\"update_id\":9,\"message_reaction\":{}}", Some(SECRET))
            .await,
        200
    );
    assert_eq!(inbox::backlog(&app.db).await.unwrap().0, 1);
    app.stop().await;
}

#[tokio::test]
async fn database_outage_answers_503_so_telegram_retries() {
    use sea_orm::ConnectionTrait;
    let (db, telegram) = fresh(Backend::Postgres).await;
    let app = TestApp::spawn(&db, &telegram, Workers::IngressOnly).await;
    assert_eq!(app.post_update(&text_update(1, 10, "/start")).await, 200);
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| studio_testkit::DEFAULT_POSTGRES_URL.to_owned());
    let admin = sea_orm::Database::connect(admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
    assert_eq!(app.post_update(&text_update(2, 10, "/start")).await, 503);
    // One word names the failing check; the driver's error (host, database name) is logged.
    let (status, body) = app.get("/readyz").await;
    assert_eq!((status.as_u16(), body.as_str()), (503, "database"));
    assert_eq!(app.get("/healthz").await.0, 200, "alive, just not ready");
    app.shutdown.cancel();
}

/// `/readyz` is reachable by anything that can reach the pod: its body names the failing check
/// in one word and never carries the error (migration names, labels, the driver's text).
#[tokio::test]
async fn readiness_names_the_failing_check_and_nothing_more() {
    use sea_orm::ConnectionTrait;
    let (db, telegram) = fresh(Backend::Postgres).await;
    let app = TestApp::spawn(&db, &telegram, Workers::IngressOnly).await;
    let (status, body) = app.get("/readyz").await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "ready"));
    let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();

    conn.execute_unprepared("ALTER TYPE avatar_status ADD VALUE 'drifted_label_sentinel'")
        .await
        .unwrap();
    let (status, body) = app.get("/readyz").await;
    assert_eq!((status.as_u16(), body.as_str()), (503, "enum_labels"));

    // A newer release's migration (the migration Job ran before this pod was replaced).
    conn.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) \
         VALUES ('m29990101_000001_from_a_newer_release', 0)",
    )
    .await
    .unwrap();
    let (status, body) = app.get("/readyz").await;
    assert_eq!((status.as_u16(), body.as_str()), (503, "migrations"));

    conn.execute_unprepared(
        "DELETE FROM seaql_migrations WHERE version = \
         (SELECT MAX(version) FROM seaql_migrations)",
    )
    .await
    .unwrap();
    conn.execute_unprepared(
        "DELETE FROM seaql_migrations WHERE version = \
         (SELECT MAX(version) FROM seaql_migrations)",
    )
    .await
    .unwrap();
    let (status, body) = app.get("/readyz").await;
    assert_eq!((status.as_u16(), body.as_str()), (503, "migrations"));
    app.stop().await;
}

on_both_backends!(a_repeated_start_is_answered_once);

async fn a_repeated_start_is_answered_once(db: studio_testkit::TestDb) {
    let telegram = studio_testkit::FakeTelegram::start().await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let update = text_update(100, 555, "/start");
    assert_eq!(app.post_update(&update).await, 200);
    assert_eq!(app.post_update(&update).await, 200);
    app.settle().await;
    let sent = telegram.calls_to("sendMessage");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].body["chat_id"], 555);
    let keyboard = &sent[0].body["reply_markup"]["inline_keyboard"];
    assert_eq!(
        keyboard.as_array().map(Vec::len),
        Some(3),
        "menu rows: {keyboard}"
    );
    assert!(sent[0].body["text"].as_str().unwrap().contains("Waffle"));
    app.stop().await;
}

#[tokio::test]
async fn draining_turns_readiness_off_while_still_answering() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let mut config = crate::support::config(&db.url, &telegram.url);
    config.drain_delay_secs = 60;
    let app = TestApp::spawn_with(config, Workers::All).await;
    assert_eq!(app.get("/readyz").await.0, 200);
    app.shutdown.cancel();
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    while app.get("/readyz").await.0 != 503 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "readiness never turned off"
        );
        tokio::task::yield_now().await;
    }
    // Updates that still arrive during the drain are stored, not refused. Its workers stopped
    // at the signal, so another replica handles them (or the next start).
    assert_eq!(app.post_update(&text_update(1, 10, "/start")).await, 200);
    let config = crate::support::config(&db.url, &telegram.url);
    let replica = TestApp::spawn_with(config, Workers::All).await;
    let sent = telegram
        .wait_for("sendMessage", 1, crate::support::PATIENCE)
        .await;
    assert_eq!(sent[0].body["chat_id"], 10);
    replica.stop().await;
}

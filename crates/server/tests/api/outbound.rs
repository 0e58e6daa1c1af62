//! The sender: Telegram's 429 and 403 answers.

use serde_json::json;
use studio_domain::{ChatId, TelegramUserId};
use studio_persistence::OutboxState;
use studio_persistence::repos::{outbox, users};
use studio_server::app::Workers;
use studio_testkit::Backend;

use crate::support::{PATIENCE, TestApp, fresh, text_update};

#[tokio::test]
async fn a_429_delays_and_retries_the_same_message() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    telegram.fail_next(
        "sendMessage",
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
               "parameters": {"retry_after": 1}}),
    );
    assert_eq!(app.post_update(&text_update(1, 600, "/start")).await, 200);
    let calls = telegram.wait_for("sendMessage", 2, PATIENCE).await;
    assert_eq!(
        calls[0].body, calls[1].body,
        "the same message is sent again"
    );
    app.settle().await;
    let rows = outbox::for_chat(&app.db, ChatId(600)).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, OutboxState::Sent);
    assert_eq!(rows[0].attempts, 2);
    let (_, metrics) = app.get("/metrics").await;
    assert!(metrics.contains("telegram_429_total"), "{metrics}");
    app.stop().await;
}

/// Waiting out Telegram's 429s is not failing: a message held back eight times still has all
/// its retries for a real failure after.
#[tokio::test]
async fn waiting_out_429s_leaves_the_retries_for_real_failures() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let slow_down = json!({"ok": false, "error_code": 429,
        "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}});
    for _ in 0..8 {
        telegram.fail_next("sendMessage", 429, slow_down.clone());
    }
    telegram.fail_next(
        "sendMessage",
        500,
        json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}),
    );
    assert_eq!(app.post_update(&text_update(1, 601, "/start")).await, 200);
    telegram.wait_for("sendMessage", 10, PATIENCE * 2).await;
    app.settle().await;
    let rows = outbox::for_chat(&app.db, ChatId(601)).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, OutboxState::Sent, "{:?}", rows[0].last_error);
    assert_eq!((rows[0].attempts, rows[0].failures), (10, 1));
    app.stop().await;
}

#[tokio::test]
async fn a_403_marks_the_user_blocked_and_stops_sending() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    telegram.fail_next(
        "sendMessage",
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    );
    assert_eq!(app.post_update(&text_update(1, 601, "/start")).await, 200);
    app.settle().await;
    assert!(
        users::is_blocked(&app.db, TelegramUserId(601))
            .await
            .unwrap()
    );
    let rows = outbox::for_chat(&app.db, ChatId(601)).await.unwrap();
    assert_eq!(rows[0].state, OutboxState::Dead);
    assert_eq!(telegram.calls_to("sendMessage").len(), 1, "not retried");
    app.stop().await;
}

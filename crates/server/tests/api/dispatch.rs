//! From stored update to decided effects: order, restarts, buttons, blocking, polling.

use serde_json::json;
use studio_domain::TelegramUserId;
use studio_persistence::repos::users;
use studio_server::app::Workers;
use studio_testkit::{Backend, FakeTelegram, TestDb, on_both_backends};

use studio_bot_ui::{Callback, Menu};

use crate::support::{PATIENCE, TestApp, config, fixture, fresh, text, text_update};

on_both_backends!(updates_stored_before_a_crash_are_processed_after_restart);

async fn updates_stored_before_a_crash_are_processed_after_restart(db: TestDb) {
    let telegram = FakeTelegram::start().await;
    // The first server stores updates but stops before any dispatch.
    let first = TestApp::spawn(&db, &telegram, Workers::IngressOnly).await;
    for (id, user) in [(1, 501), (2, 502), (3, 501)] {
        assert_eq!(
            first.post_update(&text_update(id, user, "/start")).await,
            200
        );
    }
    first.stop().await;
    assert!(
        telegram.calls().is_empty(),
        "nothing was processed before the stop"
    );

    let second = TestApp::spawn(&db, &telegram, Workers::All).await;
    second.settle().await;
    let sent = telegram.calls_to("sendMessage");
    let mut chats: Vec<i64> = sent
        .iter()
        .map(|c| c.body["chat_id"].as_i64().unwrap())
        .collect();
    chats.sort_unstable();
    assert_eq!(chats, [501, 501, 502]);
    second.stop().await;
}

#[tokio::test]
async fn menu_buttons_answer_the_query_then_edit_in_place() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    // The menu the button is on: Telegram edits only messages it has.
    app.send(&text(6, 42, "ru", "/start")).await;
    let menu = telegram.last_sent_message_id();
    let before = telegram.calls().len();
    let tap = json!({"update_id": 7, "callback_query": {"id": "q-1",
        "from": {"id": 42, "is_bot": false, "first_name": "Ann", "language_code": "ru"},
        "message": {"message_id": menu, "date": 1_700_000_000, "chat": {"id": 42, "type": "private"}, "text": "menu"},
        "chat_instance": "1", "data": help()}});
    assert_eq!(app.post_update(&tap).await, 200);
    app.settle().await;
    let methods: Vec<String> = telegram.calls()[before..]
        .iter()
        .map(|c| c.method.clone())
        .collect();
    assert_eq!(methods, ["answerCallbackQuery", "editMessageText"]);
    let edit = &telegram.calls_to("editMessageText")[0].body;
    assert_eq!(edit["message_id"], menu);
    assert!(
        edit["text"].as_str().unwrap().contains("Как это работает"),
        "Russian for ru: {edit}"
    );
    app.stop().await;
}

/// The person deleted the message whose button they pressed (or it is too old to edit): the
/// screen that was to replace it comes as a new message instead of vanishing.
#[tokio::test]
async fn a_screen_for_a_deleted_message_comes_as_a_new_one() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    telegram.delete_by_person(44, 777);
    let tap = json!({"update_id": 9, "callback_query": {"id": "q-3",
        "from": {"id": 44, "is_bot": false, "first_name": "Cy", "language_code": "en"},
        "message": {"message_id": 777, "date": 1_700_000_000, "chat": {"id": 44, "type": "private"}, "text": "menu"},
        "chat_instance": "1", "data": help()}});
    assert_eq!(app.post_update(&tap).await, 200);
    app.settle().await;
    assert_eq!(telegram.count("editMessageText"), 1, "the edit was tried");
    let sent = telegram.calls_to("sendMessage");
    assert_eq!(sent.len(), 1, "{:?}", telegram.calls());
    assert!(sent[0].body.get("message_id").is_none());
    assert!(sent[0].body["reply_markup"]["inline_keyboard"].is_array());
    app.stop().await;
}

#[tokio::test]
async fn a_stale_button_on_an_old_message_gets_a_fresh_menu() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let tap = json!({"update_id": 8, "callback_query": {"id": "q-2",
        "from": {"id": 43, "is_bot": false, "first_name": "Bo", "language_code": "en"},
        "message": {"message_id": 5, "date": 0, "chat": {"id": 43, "type": "private"}},
        "chat_instance": "1", "data": "0:old:format"}});
    assert_eq!(app.post_update(&tap).await, 200);
    app.settle().await;
    let answer = &telegram.calls_to("answerCallbackQuery")[0].body;
    assert_eq!(answer["text"], "Outdated button");
    let sent = telegram.calls_to("sendMessage");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body["reply_markup"]["inline_keyboard"].is_array());
    app.stop().await;
}

#[tokio::test]
async fn a_button_in_a_channel_is_answered_without_posting_there() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    assert_eq!(app.post_update(&fixture("03_")).await, 200);
    app.settle().await;
    let methods: Vec<String> = telegram.calls().into_iter().map(|c| c.method).collect();
    assert_eq!(methods, ["answerCallbackQuery"]);
    app.stop().await;
}

#[tokio::test]
async fn blocking_and_unblocking_is_recorded() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let mut blocked = fixture("06_");
    assert_eq!(app.post_update(&blocked).await, 200);
    app.settle().await;
    assert!(
        users::is_blocked(&app.db, TelegramUserId(2_000_000))
            .await
            .unwrap()
    );
    blocked["update_id"] = 276_740_006.into();
    blocked["my_chat_member"]["new_chat_member"]["status"] = "member".into();
    assert_eq!(app.post_update(&blocked).await, 200);
    app.settle().await;
    assert!(
        !users::is_blocked(&app.db, TelegramUserId(2_000_000))
            .await
            .unwrap()
    );
    assert!(
        telegram.calls().is_empty(),
        "no message to someone who just (un)blocked us"
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_input_gets_a_hint_and_the_menu() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    assert_eq!(app.post_update(&fixture("10_")).await, 200);
    app.settle().await;
    let sent = telegram.calls_to("sendMessage");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["chat_id"], 1_111_111);
    assert!(
        sent[0].body["text"].as_str().unwrap().contains("не понял"),
        "Russian by default"
    );
    app.stop().await;
}

#[tokio::test]
async fn polling_mode_feeds_the_same_inbox() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let mut config = config(&db.url, &telegram.url);
    config.public_url = None;
    let app = TestApp::spawn_with(config, Workers::All).await;
    telegram.push_update(text_update(300, 777, "/start"));
    let sent = telegram.wait_for("sendMessage", 1, PATIENCE).await;
    assert_eq!(sent[0].body["chat_id"], 777);
    assert_eq!(
        telegram.calls_to("deleteWebhook").len(),
        1,
        "webhook removed before polling"
    );
    // The webhook route does not exist in polling mode.
    assert_eq!(app.post_update(&text_update(301, 777, "/start")).await, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_failing_update_is_retried_alone_while_its_batch_goes_through() {
    use sea_orm::ConnectionTrait;
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let first = TestApp::spawn(&db, &telegram, Workers::IngressOnly).await;
    // Writing a reply to chat 666 fails, as a broken database constraint would.
    first
        .db
        .execute_unprepared(
            "CREATE TRIGGER fail_666 BEFORE INSERT ON outbox WHEN NEW.chat_id = 666 \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .await
        .unwrap();
    for (id, user) in [(1, 665), (2, 666), (3, 667)] {
        assert_eq!(
            first.post_update(&text_update(id, user, "/start")).await,
            200
        );
    }
    first.stop().await;

    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let sent = telegram.wait_for("sendMessage", 2, PATIENCE).await;
    let mut chats: Vec<i64> = sent
        .iter()
        .map(|c| c.body["chat_id"].as_i64().unwrap())
        .collect();
    chats.sort_unstable();
    assert_eq!(chats, [665, 667]);
    let failing = studio_persistence::repos::inbox::find(&app.db, studio_domain::UpdateId(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        failing.state,
        studio_persistence::InboxState::Pending,
        "kept for a retry"
    );
    assert!(failing.last_error.unwrap().contains("injected failure"));
    app.stop().await;
}

/// The data of the main menu's Help button.
fn help() -> String {
    Callback::Menu(Menu::Help).encode()
}

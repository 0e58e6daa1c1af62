//! Profile, history, language, promo codes and Telegram Stars payments through the webhook;
//! operator commands run as the real binary against the same database.

use std::process::Command;

use serde_json::{Value, json};
use studio_domain::{Credits, TelegramUserId};
use studio_persistence::repos::{ledger, users};
use studio_server::app::Workers;
use studio_testkit::{Backend, FakeTelegram, TestDb};

use crate::support::{
    PATIENCE, TOKEN, TestApp, fresh, from_main_menu, last_text, person, press, text,
};

fn pre_checkout(id: i64, user: i64, payload: &str, stars: u32) -> Value {
    json!({"update_id": id, "pre_checkout_query": {"id": format!("pc{id}"), "from": person(user, "en"),
        "currency": "XTR", "total_amount": stars, "invoice_payload": payload}})
}

fn paid(id: i64, user: i64, charge: &str, payload: &str, stars: u32) -> Value {
    json!({"update_id": id, "message": {"message_id": id, "date": 1_700_000_000,
        "from": person(user, "en"), "chat": {"id": user, "type": "private"},
        "successful_payment": {"currency": "XTR", "total_amount": stars, "invoice_payload": payload,
            "telegram_payment_charge_id": charge, "provider_payment_charge_id": ""}}})
}

/// The service message Telegram sends when a Stars payment was refunded.
fn refunded(id: i64, user: i64, charge: &str) -> Value {
    json!({"update_id": id, "message": {"message_id": id, "date": 1_700_000_000,
        "from": person(user, "en"), "chat": {"id": user, "type": "private"},
        "refunded_payment": {"currency": "XTR", "total_amount": 50, "invoice_payload": "topup:100:50",
            "telegram_payment_charge_id": charge}}})
}

async fn balance(app: &TestApp, telegram_id: i64) -> Credits {
    let user = users::find_by_telegram(&app.db, TelegramUserId(telegram_id))
        .await
        .unwrap()
        .unwrap();
    ledger::balance(&app.db, user.id).await.unwrap()
}

#[tokio::test]
async fn stars_top_up_credits_once_and_declines_removed_packages() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 950;
    app.send(&text(1, user, "en", "/start")).await;
    app.send(&press(&telegram, user, "Profile")).await;
    assert!(
        last_text(&telegram).contains("Balance: <b>0</b>"),
        "{}",
        last_text(&telegram)
    );
    app.send(&press(&telegram, user, "Top up")).await;
    app.send(&press(&telegram, user, "100 credits — 50 ⭐"))
        .await;
    let invoice = telegram.calls_to("sendInvoice").pop().expect("an invoice");
    assert_eq!(invoice.body["currency"], "XTR");
    assert_eq!(invoice.body["provider_token"], "");
    assert_eq!(invoice.body["prices"][0]["amount"], 50);
    let payload = invoice.body["payload"].as_str().unwrap().to_owned();

    app.send(&pre_checkout(5, user, &payload, 50)).await;
    app.send(&pre_checkout(6, user, "topup:999:1", 1)).await;
    let answers = telegram.calls_to("answerPreCheckoutQuery");
    assert_eq!(answers[0].body["ok"], true);
    assert_eq!(
        answers[1].body["ok"], false,
        "a package no longer on sale is declined"
    );
    assert!(
        answers[1].body["error_message"]
            .as_str()
            .unwrap()
            .contains("no longer on sale")
    );

    // Telegram redelivers the payment (another update id, the same charge): credited once.
    app.send(&paid(7, user, "charge-1", &payload, 50)).await;
    app.send(&paid(8, user, "charge-1", &payload, 50)).await;
    assert_eq!(balance(&app, user).await, Credits::new(100));
    let receipts = telegram
        .calls_to("sendMessage")
        .iter()
        .filter(|c| {
            c.body["text"]
                .as_str()
                .unwrap()
                .contains("Payment received")
        })
        .count();
    assert_eq!(receipts, 1);
    from_main_menu(&app, &telegram, user, "Profile").await;
    app.send(&press(&telegram, user, "History")).await;
    assert!(
        last_text(&telegram).contains("Top-up · +100 → 100"),
        "{}",
        last_text(&telegram)
    );
    app.stop().await;
}

/// Telegram cancels a payment whose pre-checkout query is not answered within 10 s, however
/// many messages the bot has queued: the answer leaves when decided, not after the queue.
#[tokio::test]
async fn a_payment_is_answered_before_the_queued_messages() {
    // Telegram's limits are on in the fake. The bot is held to 5 messages a second, so the
    // queue below takes a minute: however slow the machine is at handling the 300 updates
    // first, an answer that waited behind the queue would come after half of it.
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let mut config = crate::support::config(&db.url, &telegram.url);
    config.telegram_global_rate = std::num::NonZeroU32::new(5).unwrap();
    let app = TestApp::spawn_with(config, Workers::All).await;
    let queued = 300;
    for i in 0..queued {
        assert_eq!(
            app.post_update(&text(100 + i, 5_000 + i, "en", "/start"))
                .await,
            200
        );
    }
    let payer = 960;
    // The fake refuses an answer that comes later than Telegram's 10 s.
    telegram.issue_query("pc99999");
    app.post_update(&pre_checkout(99_999, payer, "topup:100:50", 50))
        .await;
    let [answer] = telegram
        .wait_for("answerPreCheckoutQuery", 1, PATIENCE)
        .await
        .try_into()
        .unwrap();
    assert_eq!(answer.body["ok"], true);
    let sent_before = telegram
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.at < answer.at)
        .count();
    // The answer came before half of the queue.
    assert!(
        sent_before < usize::try_from(queued / 2).unwrap(),
        "{sent_before} of {queued} messages went before the payment's answer"
    );
    assert_eq!(
        telegram.refusals("answerPreCheckoutQuery"),
        0,
        "answered in time"
    );
    assert_eq!(telegram.rate_limited(), 0);
    app.stop().await;
}

/// Past Telegram's 10 s the payment is cancelled and the answer refused: it is not retried,
/// and nothing is credited.
#[tokio::test]
async fn a_pre_checkout_answered_too_late_is_not_retried() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let payer = 961;
    app.send(&text(1, payer, "en", "/start")).await;
    let before = balance(&app, payer).await;
    telegram.issue_query("pc2");
    telegram.advance_clock(std::time::Duration::from_secs(11));
    app.send(&pre_checkout(2, payer, "topup:100:50", 50)).await;
    assert_eq!(telegram.count("answerPreCheckoutQuery"), 1, "not retried");
    assert_eq!(telegram.refusals("answerPreCheckoutQuery"), 1);
    assert_eq!(balance(&app, payer).await, before);
    app.stop().await;
}

/// A refund, ours or Telegram support's, arrives as a `refunded_payment` service message: the
/// credits go back once, and the person is told, not answered "I did not understand".
#[tokio::test]
async fn a_refund_from_telegram_takes_the_credits_back_once() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 970;
    app.send(&text(1, user, "en", "/start")).await;
    app.send(&paid(2, user, "charge-r", "topup:100:50", 50))
        .await;
    assert_eq!(balance(&app, user).await, Credits::new(100));
    app.send(&refunded(3, user, "charge-r")).await;
    assert_eq!(balance(&app, user).await, Credits::new(0));
    let told = last_text(&telegram);
    assert!(told.contains("50 ⭐ were refunded to you"), "{told}");
    // Telegram may deliver it again; an unknown charge is no one's credits.
    app.send(&refunded(4, user, "charge-r")).await;
    app.send(&refunded(5, user, "charge-unknown")).await;
    assert_eq!(balance(&app, user).await, Credits::new(0));
    let refund_notes = telegram
        .calls_to("sendMessage")
        .iter()
        .filter(|c| {
            c.body["text"]
                .as_str()
                .unwrap_or("")
                .contains("refunded to you")
        })
        .count();
    assert_eq!(refund_notes, 1);
    assert!(
        !last_text(&telegram).contains("understand"),
        "{}",
        last_text(&telegram)
    );
    app.stop().await;
}

#[tokio::test]
async fn the_chosen_language_wins_over_telegrams() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 951;
    app.send(&text(1, user, "ru", "/start")).await;
    assert!(last_text(&telegram).contains("Привет"));
    app.send(&press(&telegram, user, "💳")).await;
    app.send(&press(&telegram, user, "⚙️")).await;
    app.send(&press(&telegram, user, "English")).await;
    let settings = telegram.calls().last().unwrap().body.clone();
    assert_eq!(
        settings["reply_markup"]["inline_keyboard"][0][1]["text"], "✓ English",
        "{settings}"
    );
    app.send(&text(4, user, "ru", "/start")).await;
    assert!(
        last_text(&telegram).contains("Hi, <b>Pay</b>"),
        "{}",
        last_text(&telegram)
    );
    app.stop().await;
}

fn operator(db_url: &str, telegram_url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_avatar-studio"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", db_url)
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", telegram_url)
        .output()
        .expect("binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

async fn run(
    db: &TestDb,
    telegram: &FakeTelegram,
    args: &'static [&'static str],
) -> (bool, String) {
    let (url, api) = (db.url.clone(), telegram.url.clone());
    tokio::task::spawn_blocking(move || operator(&url, &api, args))
        .await
        .unwrap()
}

#[tokio::test]
async fn operator_commands_change_what_the_bot_shows() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let telegram = FakeTelegram::start().await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 952;
    app.send(&text(1, user, "en", "/start")).await;

    let (ok, out) = run(
        &db,
        &telegram,
        &["credit", "952", "40", "--reason", "support"],
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("balance of 952: 40 credits"), "{out}");
    let (ok, out) = run(
        &db,
        &telegram,
        &["credit", "952", "-50", "--reason", "oops"],
    )
    .await;
    assert!(!ok && out.contains("lacks 10 credits"), "{out}");
    app.send(&press(&telegram, user, "Profile")).await;
    assert!(
        last_text(&telegram).contains("Balance: <b>40</b>"),
        "{}",
        last_text(&telegram)
    );

    let (ok, out) = run(
        &db,
        &telegram,
        &[
            "promo",
            "create",
            "Winter",
            "--credits",
            "15",
            "--max-uses",
            "2",
        ],
    )
    .await;
    assert!(ok, "{out}");
    app.send(&press(&telegram, user, "Promo code")).await;
    app.send(&text(4, user, "en", "winter")).await;
    assert!(
        last_text(&telegram).contains("+15 credits"),
        "{}",
        last_text(&telegram)
    );
    from_main_menu(&app, &telegram, user, "Profile").await;
    app.send(&press(&telegram, user, "Promo code")).await;
    app.send(&text(6, user, "en", "WINTER")).await;
    assert!(
        last_text(&telegram).contains("already used"),
        "{}",
        last_text(&telegram)
    );
    let (ok, out) = run(&db, &telegram, &["promo", "list"]).await;
    assert!(ok && out.contains("WINTER: 15 credits, 1/2 used"), "{out}");

    // A payment, then its refund through Telegram's refundStarPayment.
    app.send(&paid(7, user, "charge-9", "topup:100:50", 50))
        .await;
    let (ok, out) = run(&db, &telegram, &["user", "show", "952"]).await;
    assert!(ok && out.contains("balance: 155 credits"), "{out}");
    let (ok, out) = run(&db, &telegram, &["refund", "charge-9"]).await;
    assert!(ok, "{out}");
    let refund = telegram
        .calls_to("refundStarPayment")
        .pop()
        .expect("refund call");
    assert_eq!(refund.body["user_id"], 952);
    assert_eq!(balance(&app, user).await, Credits::new(55));
    let (ok, out) = run(&db, &telegram, &["refund", "charge-9"]).await;
    assert!(!ok && out.contains("refunded already"), "{out}");
    app.stop().await;
}

#[tokio::test]
async fn the_welcome_bonus_is_booked_once() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let mut config = crate::support::config(&db.url, &telegram.url);
    config.welcome_bonus = 25;
    let app = TestApp::spawn_with(config, Workers::All).await;
    app.send(&text(1, 953, "en", "/start")).await;
    app.send(&text(2, 953, "en", "/start")).await;
    assert_eq!(balance(&app, 953).await, Credits::new(25));
    app.stop().await;
}

/// A payment whose update never reached us is in Telegram's transactions: reconciling credits
/// it once; one we have, and a refunded one, are left alone.
#[tokio::test]
async fn reconciling_credits_a_payment_we_never_heard_of_once() {
    let db = TestDb::fresh(Backend::Sqlite).await;
    let telegram = FakeTelegram::start().await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 981;
    app.send(&text(1, user, "en", "/start")).await;
    app.send(&paid(2, user, "charge-seen", "topup:100:50", 50))
        .await;
    let before = balance(&app, user).await;
    let now = chrono::Utc::now().timestamp();
    let paid_by = |id: &str| {
        json!({"id": id, "amount": 50, "date": now - 60, "source": {"type": "user",
            "user": {"id": user, "is_bot": false, "first_name": "Anna"},
            "invoice_payload": "topup:100:50"}})
    };
    telegram.add_star_transaction(paid_by("charge-seen"));
    telegram.add_star_transaction(paid_by("charge-lost"));
    telegram.add_star_transaction(paid_by("charge-refunded"));
    telegram.add_star_transaction(json!({"id": "charge-refunded", "amount": 50, "date": now,
        "receiver": {"type": "user", "user": {"id": user, "is_bot": false, "first_name": "Anna"}}}));

    for credited in [1, 0] {
        let (ok, out) = run(&db, &telegram, &["reconcile-payments"]).await;
        assert!(ok, "{out}");
        assert!(
            out.contains(&format!("{credited} credited now, 1 refunded")),
            "{out}"
        );
    }
    assert_eq!(balance(&app, user).await, before.credit(Credits::new(100)));
    // The lost update arriving after all changes nothing.
    app.send(&paid(3, user, "charge-lost", "topup:100:50", 50))
        .await;
    assert_eq!(balance(&app, user).await, before.credit(Credits::new(100)));
    app.stop().await;
}

/// Guessing promo codes: a few wrong ones an hour, then a wait, without even looking the next
/// one up.
#[tokio::test]
async fn promo_code_guessing_is_limited() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let mut config = crate::support::config(&db.url, &telegram.url);
    config.promo_attempts_per_hour = 2;
    let app = TestApp::spawn_with(config, Workers::All).await;
    let user = 982;
    app.send(&text(1, user, "en", "/start")).await;
    for (i, code) in ["GUESS1", "GUESS2", "GUESS3"].into_iter().enumerate() {
        let id = 10 + 2 * i64::try_from(i).unwrap();
        from_main_menu(&app, &telegram, user, "Profile").await;
        app.send(&press(&telegram, user, "Promo code")).await;
        app.send(&text(id + 1, user, "en", code)).await;
    }
    let told = last_text(&telegram);
    assert!(
        told.contains("Too many wrong codes (2 in an hour)"),
        "{told}"
    );
    app.stop().await;
}

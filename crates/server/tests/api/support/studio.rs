//! A studio: the server with fake Telegram and FAL, and people with trained avatars and
//! credits in it, for the tests that start at generation.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait};
use secrecy::SecretString;
use studio_domain::{AspectRatio, AvatarId, AvatarStatus, Credits, LedgerKind, UserId};
use studio_persistence::entities::{avatars as avatar_rows, generations as generation_rows};
use studio_persistence::repos::{jobs, ledger};
use studio_server::Config;
use studio_server::app::Workers;
use studio_testkit::{FakeFal, FakeTelegram, TestDb};

use super::{PATIENCE, TestApp, from_main_menu, press, text, user_id};

pub const FAL_KEY: &str = "fal-test-key-never-in-logs";
pub const TRIGGER: &str = "ohwx_ann";
/// The LoRA weights of every `member`'s avatar, on the fake FAL's CDN.
pub const LORA_FILE: &str = "ann.safetensors";

static NEXT_UPDATE: AtomicI64 = AtomicI64::new(10_000);

pub fn next_id() -> i64 {
    NEXT_UPDATE.fetch_add(1, Ordering::Relaxed)
}

pub struct Studio {
    /// Kept for the test's length: dropping it removes a SQLite database.
    pub db: TestDb,
    pub telegram: FakeTelegram,
    pub fal: FakeFal,
    pub app: TestApp,
}

/// The app with FAL pointed at a fake whose webhooks reach the app, as through its proxy.
pub async fn studio(db: TestDb, tune: impl FnOnce(&mut Config)) -> Studio {
    let telegram = FakeTelegram::start().await;
    let fal = FakeFal::start().await;
    let mut config = super::config(&db.url, &telegram.url);
    config.fal_key = Some(SecretString::from(FAL_KEY));
    config.fal_queue_url = fal.url.clone();
    config.fal_rest_url = fal.url.clone();
    config.fal_poll_secs = 1;
    tune(&mut config);
    let app = TestApp::spawn_with(config, Workers::All).await;
    fal.route_webhooks_to(Some(&app.url("")));
    Studio {
        db,
        telegram,
        fal,
        app,
    }
}

/// Registers `user` with a main avatar in `status` (trained when `Completed`, its weights on
/// FAL's CDN) and `credits`.
pub async fn member(s: &Studio, user: i64, status: AvatarStatus, credits: u32) -> AvatarId {
    let app = &s.app;
    let lora = s.fal.host(LORA_FILE, b"LoRA weights of Ann".to_vec());
    app.send(&text(next_id(), user, "en", "/start")).await;
    let owner = user_id(app, user).await;
    let trained = status == AvatarStatus::Completed;
    let row = avatar_rows::ActiveModel {
        user_id: Set(owner.0),
        name: Set("Ann".into()),
        gender: Set(studio_domain::Gender::Female.into()),
        status: Set(status.into()),
        is_main: Set(true),
        trigger_phrase: Set(trained.then(|| TRIGGER.into())),
        lora_url: Set(trained.then_some(lora)),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        training_started_at: Set(Some(Utc::now())),
        ..Default::default()
    };
    let avatar = avatar_rows::Entity::insert(row)
        .exec(&app.db)
        .await
        .unwrap();
    if credits > 0 {
        let key = format!("test-credit:{user}");
        let entry = ledger::Entry {
            user: owner,
            kind: LedgerKind::AdminCredit,
            amount: Credits::new(credits),
            key: &key,
            note: None,
        };
        ledger::book(&app.db, entry).await.unwrap();
    }
    AvatarId(avatar.last_insert_id)
}

/// Waits until no job is queued or running, then until every message is sent.
pub async fn settle_jobs(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let open: u64 = jobs::depth(&app.db)
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        if open == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} jobs still open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.settle().await;
}

pub async fn generations_of(app: &TestApp, owner: UserId) -> Vec<generation_rows::Model> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    generation_rows::Entity::find()
        .filter(generation_rows::Column::UserId.eq(owner.0))
        .order_by_asc(generation_rows::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

pub async fn balance(app: &TestApp, owner: UserId) -> Credits {
    ledger::balance(&app.db, owner).await.unwrap()
}

/// Entries of `kind` in the user's history.
pub async fn entries(app: &TestApp, owner: UserId, kind: LedgerKind) -> usize {
    ledger::history(&app.db, owner, None, 100)
        .await
        .unwrap()
        .iter()
        .filter(|line| line.kind == kind)
        .count()
}

/// The generation menu's button `label` ("Custom prompt", "Prompt from photo"), reached from
/// the main menu.
pub async fn from_generation_menu(s: &Studio, user: i64, label: &str) {
    from_main_menu(&s.app, &s.telegram, user, "Create image").await;
    s.app.send(&press(&s.telegram, user, label)).await;
}

/// From the main menu, a custom prompt and the ratio's button: the way a person queues an
/// image.
pub async fn generate(s: &Studio, user: i64, prompt: &str, ratio: AspectRatio) {
    from_generation_menu(s, user, "Custom prompt").await;
    s.app.send(&text(next_id(), user, "en", prompt)).await;
    s.app.send(&press(&s.telegram, user, ratio.label())).await;
}

/// Every call of `method` to `chat`, oldest first.
pub fn calls_to(telegram: &FakeTelegram, chat: i64, method: &str) -> Vec<serde_json::Value> {
    telegram
        .calls_to(method)
        .into_iter()
        .filter(|c| c.body["chat_id"] == chat)
        .map(|c| c.body)
        .collect()
}

/// Texts of the messages sent to `chat`, in order.
pub fn texts_to(telegram: &FakeTelegram, chat: i64) -> Vec<String> {
    telegram
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| c.body["chat_id"] == chat)
        .filter_map(|c| c.body["text"].as_str().map(str::to_owned))
        .collect()
}

/// Posts a FAL webhook as FAL would, signed at `timestamp` (or with `signature` instead).
pub async fn post_webhook(
    app: &TestApp,
    request_id: &str,
    body: &str,
    timestamp: i64,
    signature: &str,
) -> u16 {
    app.http
        .post(app.url("/webhooks/fal"))
        .header("content-type", "application/json")
        .header("x-fal-webhook-request-id", request_id)
        .header("x-fal-webhook-user-id", studio_testkit::FAL_USER_ID)
        .header("x-fal-webhook-timestamp", timestamp.to_string())
        .header("x-fal-webhook-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

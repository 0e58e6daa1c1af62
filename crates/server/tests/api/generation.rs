//! Generation end to end: the webhook in, the queue, the fake FAL, the photo out. Avatars are
//! made trained through the repositories (training has its own issue).

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait};
use secrecy::SecretString;
use serde_json::Value;
use studio_domain::{
    AspectRatio, AvatarId, AvatarStatus, ChatId, Credits, GenerationStatus, LedgerKind,
    TelegramUserId, UserId,
};
use studio_persistence::entities::{avatars as avatar_rows, generations as generation_rows};
use studio_persistence::repos::{jobs, ledger, users};
use studio_server::Config;
use studio_server::app::Workers;
use studio_testkit::{FakeFal, FakeTelegram, TestDb};

use crate::support::{self, PATIENCE, TestApp, last_text, tap, text};

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
    let mut config = support::config(&db.url, &telegram.url);
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

pub async fn user_id(app: &TestApp, telegram_id: i64) -> UserId {
    let user = users::find_by_telegram(&app.db, TelegramUserId(telegram_id))
        .await
        .unwrap()
        .expect("user registered");
    UserId(user.id)
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
        gender: Set("female".into()),
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
        .filter(|line| line.kind == Some(kind))
        .count()
}

/// Prompt, then the ratio button: the way a person queues an image.
pub async fn generate(app: &TestApp, user: i64, prompt: &str, ratio: AspectRatio) {
    app.send(&tap(next_id(), user, "1:g:txt")).await;
    app.send(&text(next_id(), user, "en", prompt)).await;
    let code = AspectRatio::ALL.iter().position(|r| *r == ratio).unwrap();
    app.send(&tap(next_id(), user, &format!("1:g:r:{code}")))
        .await;
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

fn photos_to(telegram: &FakeTelegram, chat: i64) -> Vec<Value> {
    telegram
        .calls_to("sendPhoto")
        .into_iter()
        .filter(|c| c.body["chat_id"] == chat)
        .map(|c| c.body)
        .collect()
}

studio_testkit::on_both_backends!(each_ratio_is_generated_at_its_size_with_the_trigger_and_lora);

async fn each_ratio_is_generated_at_its_size_with_the_trigger_and_lora(db: TestDb) {
    let s = studio(db, |_| {}).await;
    let user = 7001;
    member(&s, user, AvatarStatus::Completed, 100).await;
    let owner = user_id(&s.app, user).await;
    s.app.send(&tap(next_id(), user, "1:m:gen")).await;
    assert!(
        last_text(&s.telegram).contains("Balance: <b>100</b>"),
        "{}",
        last_text(&s.telegram)
    );
    for (i, ratio) in AspectRatio::ALL.into_iter().enumerate() {
        generate(
            &s.app,
            user,
            &format!("portrait number {i} <in> a garden"),
            ratio,
        )
        .await;
        let queued = texts_to(&s.telegram, user)
            .iter()
            .filter(|t| t.contains("Queued, position"))
            .count();
        assert_eq!(queued, i + 1);
        let submitted = s.fal.wait_for_submissions(i + 1, PATIENCE).await;
        let request = &submitted[i];
        assert_eq!(request.model, "fal-ai/flux-lora");
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Key {FAL_KEY}").as_str())
        );
        assert_eq!(request.input["image_size"], ratio.fal_image_size());
        assert_eq!(
            request.input["loras"][0]["path"],
            format!("{}/files/{LORA_FILE}", s.fal.url)
        );
        assert_eq!(request.input["enable_safety_checker"], true);
        let prompt = request.input["prompt"].as_str().unwrap();
        assert!(prompt.starts_with(TRIGGER), "{prompt}");
        assert!(prompt.contains(&format!("portrait number {i} <in> a garden")));
        assert_eq!(
            request.webhook.as_deref(),
            Some("https://bot.example.test/webhooks/fal")
        );
        s.telegram.wait_for("sendPhoto", i + 1, PATIENCE).await;
    }
    settle_jobs(&s.app).await;
    let photos = photos_to(&s.telegram, user);
    assert_eq!(photos.len(), 5, "one photo per image");
    assert!(
        photos
            .iter()
            .all(|p| p["photo"] == "upload:{}"
                || p["photo"].as_str().unwrap().starts_with("upload:"))
    );
    assert!(
        photos[0]["caption"]
            .as_str()
            .unwrap()
            .contains("&lt;in&gt;"),
        "prompt escaped"
    );
    let rows = generations_of(&s.app, owner).await;
    assert_eq!(rows.len(), 5);
    for (row, ratio) in rows.iter().zip(AspectRatio::ALL) {
        assert_eq!(row.aspect_ratio, ratio.label());
        assert_eq!(
            GenerationStatus::from(row.status),
            GenerationStatus::Completed
        );
        let key = row.result_key.as_deref().expect("stored result");
        assert!(s.app.storage.join(key).exists(), "{key} in storage");
        assert!(
            row.telegram_file_id
                .as_deref()
                .unwrap()
                .starts_with("photo-")
        );
    }
    assert_eq!(entries(&s.app, owner, LedgerKind::GenerationDebit).await, 5);
    assert_eq!(
        entries(&s.app, owner, LedgerKind::GenerationRefund).await,
        0
    );
    assert_eq!(balance(&s.app, owner).await, Credits::new(75));
    s.app.stop().await;
}

#[tokio::test]
async fn every_unready_status_explains_itself_and_charges_nothing() {
    let mut seen = std::collections::HashSet::new();
    for (i, status) in AvatarStatus::ALL.into_iter().enumerate() {
        if status == AvatarStatus::Completed {
            continue;
        }
        let s = studio(TestDb::sqlite(), |_| {}).await;
        let user = 7100 + i64::try_from(i).unwrap();
        member(&s, user, status, 50).await;
        let owner = user_id(&s.app, user).await;
        s.app.send(&tap(next_id(), user, "1:m:gen")).await;
        let menu = last_text(&s.telegram);
        assert!(menu.contains("Ann"), "{status:?}: {menu}");
        assert!(
            seen.insert(menu.clone()),
            "{status:?} has its own text: {menu}"
        );
        // The prompt button of an older menu is guarded the same way.
        s.app.send(&tap(next_id(), user, "1:g:txt")).await;
        assert_eq!(last_text(&s.telegram), menu);
        assert!(generations_of(&s.app, owner).await.is_empty());
        assert_eq!(balance(&s.app, owner).await, Credits::new(50));
        s.app.stop().await;
    }
    assert_eq!(seen.len(), 6);
}

studio_testkit::on_both_backends!(twenty_requests_with_credits_for_seven_queue_seven);

async fn twenty_requests_with_credits_for_seven_queue_seven(db: TestDb) {
    let s = studio(db, |_| {}).await;
    let user = 7201;
    member(&s, user, AvatarStatus::Completed, 40).await;
    let owner = user_id(&s.app, user).await;
    generate(&s.app, user, "a first portrait", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    let first = generations_of(&s.app, owner).await[0].id;
    assert_eq!(
        balance(&s.app, owner).await,
        Credits::new(35),
        "credits for seven more"
    );

    let again: Vec<Value> = (0..20)
        .map(|_| tap(next_id(), user, &format!("1:g:again:{first}")))
        .collect();
    let statuses = s.app.post_concurrently(&again).await;
    assert!(statuses.iter().all(|status| *status == 200));
    s.app.settle().await;
    settle_jobs(&s.app).await;
    let rows = generations_of(&s.app, owner).await;
    assert_eq!(rows.len(), 8, "the first and seven more");
    assert_eq!(balance(&s.app, owner).await, Credits::ZERO);
    let refused = texts_to(&s.telegram, user)
        .iter()
        .filter(|t| t.contains("Not enough credits"))
        .count();
    assert_eq!(refused, 13);
    assert_eq!(entries(&s.app, owner, LedgerKind::GenerationDebit).await, 8);
    assert_eq!(photos_to(&s.telegram, user).len(), 8);
    s.app.stop().await;
}

/// Telegram counts a caption's 1024 in UTF-16 units: a prompt of emoji (two units each) must
/// still leave room for its photo's caption, or the image is made and never delivered.
#[tokio::test]
async fn an_emoji_prompt_still_gets_its_photo() {
    use studio_persistence::entities::active_enums::OutboxState;
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7410;
    member(&s, user, AvatarStatus::Completed, 10).await;
    generate(&s.app, user, &"😀".repeat(800), AspectRatio::Square).await;
    s.telegram.wait_for("sendPhoto", 1, PATIENCE).await;
    settle_jobs(&s.app).await;
    let calls = studio_persistence::repos::outbox::for_chat(&s.app.db, ChatId(user))
        .await
        .unwrap();
    let refused: Vec<_> = calls
        .iter()
        .filter(|c| c.state == OutboxState::Dead)
        .map(|c| (&c.method, &c.last_error))
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    s.app.stop().await;
}

/// A menu opened for one avatar acts on it when pressed, even after another avatar became
/// main meanwhile: its buttons carry the avatar.
#[tokio::test]
async fn a_menu_acts_on_the_avatar_it_was_opened_for() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7011;
    let first = member(&s, user, AvatarStatus::Completed, 50).await;
    let owner = user_id(&s.app, user).await;
    s.app.send(&tap(next_id(), user, "1:m:gen")).await;
    let write = support::button(&s.telegram, "Custom prompt");

    // Another trained avatar becomes main before the person presses.
    let row = avatar_rows::ActiveModel {
        user_id: Set(owner.0),
        name: Set("Bea".into()),
        gender: Set("female".into()),
        status: Set(AvatarStatus::Completed.into()),
        is_main: Set(false),
        trigger_phrase: Set(Some("ohwx_bea".into())),
        lora_url: Set(Some(s.fal.host("bea.safetensors", b"Bea".to_vec()))),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let second = AvatarId(
        avatar_rows::Entity::insert(row)
            .exec(&s.app.db)
            .await
            .unwrap()
            .last_insert_id,
    );
    assert!(
        studio_persistence::repos::avatars::set_main(&s.app.db, owner, second)
            .await
            .unwrap()
    );

    s.app.send(&tap(next_id(), user, &write)).await;
    s.app
        .send(&text(next_id(), user, "en", "a portrait in the rain"))
        .await;
    let square = support::button(&s.telegram, "1:1");
    s.app.send(&tap(next_id(), user, &square)).await;
    let queued = generations_of(&s.app, owner).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(AvatarId(queued[0].avatar_id), first, "not {second}");
    s.app.stop().await;
}

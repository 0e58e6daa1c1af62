//! Generation end to end: the webhook in, the queue, the fake FAL, the photo out. Avatars are
//! made trained through the repositories (training has its own issue).

use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::Value;
use studio_bot_ui::{Callback, GenerateAction};
use studio_domain::{
    AspectRatio, AvatarId, AvatarStatus, ChatId, Credits, GenerationStatus, LedgerKind,
};
use studio_persistence::entities::avatars as avatar_rows;
use studio_testkit::{FakeTelegram, TestDb};

use crate::support::{
    self, FAL_KEY, LORA_FILE, PATIENCE, TRIGGER, balance, entries, generate, generations_of,
    last_text, member, next_id, press, settle_jobs, studio, tap, text, texts_to, user_id,
};

fn photos_to(telegram: &FakeTelegram, chat: i64) -> Vec<Value> {
    crate::support::calls_to(telegram, chat, "sendPhoto")
}

studio_testkit::on_both_backends!(each_ratio_is_generated_at_its_size_with_the_trigger_and_lora);

async fn each_ratio_is_generated_at_its_size_with_the_trigger_and_lora(db: TestDb) {
    let s = studio(db, |_| {}).await;
    let user = 7001;
    member(&s, user, AvatarStatus::Completed, 100).await;
    let owner = user_id(&s.app, user).await;
    s.app.send(&press(&s.telegram, user, "Create image")).await;
    assert!(
        last_text(&s.telegram).contains("Balance: <b>100</b>"),
        "{}",
        last_text(&s.telegram)
    );
    for (i, ratio) in AspectRatio::ALL.into_iter().enumerate() {
        generate(
            &s,
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
        assert_eq!(AspectRatio::from(row.aspect_ratio), ratio);
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
        s.app.send(&press(&s.telegram, user, "Create image")).await;
        let menu = last_text(&s.telegram);
        assert!(menu.contains("Ann"), "{status:?}: {menu}");
        assert!(
            seen.insert(menu.clone()),
            "{status:?} has its own text: {menu}"
        );
        // The prompt button of a menu from before buttons carried the avatar is guarded the
        // same way.
        let older = Callback::Generate(GenerateAction::CustomPrompt(None)).encode();
        s.app.send(&tap(next_id(), user, &older)).await;
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
    generate(&s, user, "a first portrait", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    assert_eq!(
        balance(&s.app, owner).await,
        Credits::new(35),
        "credits for seven more"
    );

    let again = support::button(&s.telegram, "Again");
    let again: Vec<Value> = (0..20).map(|_| tap(next_id(), user, &again)).collect();
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
    generate(&s, user, &"😀".repeat(800), AspectRatio::Square).await;
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
    s.app.send(&press(&s.telegram, user, "Create image")).await;
    let write = support::button(&s.telegram, "Custom prompt");

    // Another trained avatar becomes main before the person presses.
    let row = avatar_rows::ActiveModel {
        user_id: Set(owner.0),
        name: Set("Bea".into()),
        gender: Set(studio_domain::Gender::Female.into()),
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

//! Avatar training end to end: the wizard's photos zipped and uploaded to a fake FAL, the
//! trainer's signed webhook (or polling), failures, deadline, cancel, and a restart between
//! submission and result. Each ends with one debit and at most one refund.

use studio_domain::{AspectRatio, AvatarId, AvatarStatus, Credits, LedgerKind, UserId};
use studio_persistence::repos::{avatars, ledger};
use studio_server::app::Workers;
use studio_testkit::{FalOutcome, TestDb};

use crate::support::{
    PATIENCE, Studio, TestApp, balance, entries, generate, image, last_text, photo_message,
    post_webhook, press, settle_jobs, start_draft, stored_files, studio, texts_to, user_id,
};

const COST: u32 = 150;

/// A draft with ten photos, through the wizard, and credits for one training.
async fn ready_draft(s: &Studio, user: i64) -> (UserId, AvatarId) {
    let avatar = start_draft(&s.app, &s.telegram, user).await;
    for i in 0..10u8 {
        let bytes = image(image::ImageFormat::Jpeg, 600, 800, i);
        let update = photo_message(&s.telegram, user, &format!("ph-{user}-{i}"), bytes);
        s.app.send(&update).await;
    }
    let owner = user_id(&s.app, user).await;
    let key = format!("credit:{user}");
    let entry = ledger::Entry {
        user: owner,
        kind: LedgerKind::AdminCredit,
        amount: Credits::new(200),
        key: &key,
        note: None,
    };
    ledger::book(&s.app.db, entry).await.unwrap();
    (owner, avatar)
}

async fn avatar_row(app: &TestApp, owner: UserId, id: AvatarId) -> avatars::Avatar {
    avatars::find_owned(&app.db, owner, id)
        .await
        .unwrap()
        .unwrap()
}

/// Waits until the avatar leaves `training`.
async fn finished(app: &TestApp, owner: UserId, id: AvatarId) -> avatars::Avatar {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let row = avatar_row(app, owner, id).await;
        if row.status != AvatarStatus::Training {
            app.settle().await;
            return row;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "training never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Review and start the training, as the person does from the upload screen.
async fn start(s: &Studio, user: i64) {
    s.app
        .send(&press(&s.telegram, user, "Review and train"))
        .await;
    s.app
        .send(&press(&s.telegram, user, "Start training"))
        .await;
    assert!(
        last_text(&s.telegram).contains("has started"),
        "{}",
        last_text(&s.telegram)
    );
}

studio_testkit::on_both_backends!(a_training_completes_through_upload_submit_and_webhook);

async fn a_training_completes_through_upload_submit_and_webhook(db: TestDb) {
    let s = studio(db, |_| {}).await;
    let user = 7501;
    let (owner, avatar) = ready_draft(&s, user).await;
    start(&s, user).await;
    let submitted = s.fal.wait_for_submissions(1, PATIENCE).await;
    let done = finished(&s.app, owner, avatar).await;

    assert_eq!(done.status, AvatarStatus::Completed);
    assert!(done.is_main, "the first trained avatar becomes main");
    let trigger = done.lora.clone().unwrap().trigger_phrase;
    let request = &submitted[0];
    assert_eq!(request.model, "fal-ai/flux-lora-portrait-trainer");
    assert_eq!(request.input["trigger_phrase"], trigger.as_str());
    assert_eq!(request.input["steps"], 2500);
    let zip = &s.fal.uploads()[0];
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes.clone())).unwrap();
    assert_eq!(archive.len(), 10, "every photo in the archive");
    assert_eq!(request.input["images_data_url"], zip.url.as_str());
    // People's photos leave FAL's CDN when the training can no longer need them.
    assert_eq!(zip.expires_after_secs, Some(3600));
    s.fal.advance_clock(std::time::Duration::from_secs(3600));
    assert!(!s.fal.serves(&zip.url));
    assert_eq!(
        done.lora.as_ref().map(|l| l.lora_url.as_str()),
        Some(format!("{}/files/{}.safetensors", s.fal.url, request.request_id).as_str())
    );
    // The weights the person paid for are ours, byte for byte.
    let kept = std::fs::read(
        s.app
            .storage
            .join(format!("avatars/{avatar}/lora.safetensors")),
    );
    assert_eq!(
        kept.unwrap(),
        format!("LoRA weights of {}", request.request_id).into_bytes()
    );
    assert!(
        texts_to(&s.telegram, user)
            .iter()
            .any(|t| t.contains("is ready"))
    );
    assert_eq!(entries(&s.app, owner, LedgerKind::TrainingDebit).await, 1);
    assert_eq!(entries(&s.app, owner, LedgerKind::TrainingRefund).await, 0);
    assert_eq!(balance(&s.app, owner).await, Credits::new(200 - COST));
    assert_eq!(
        stored_files(&s.app, avatar),
        2,
        "the preview and the weights kept"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn the_fast_trainer_gets_its_own_input() {
    let s = studio(TestDb::sqlite(), |c| {
        c.training_model = "fal-ai/flux-lora-fast-training".parse().unwrap();
    })
    .await;
    let user = 7509;
    let (owner, avatar) = ready_draft(&s, user).await;
    start(&s, user).await;
    let submitted = s.fal.wait_for_submissions(1, PATIENCE).await;
    let done = finished(&s.app, owner, avatar).await;
    assert_eq!(done.status, AvatarStatus::Completed);
    let request = &submitted[0];
    assert_eq!(request.model, "fal-ai/flux-lora-fast-training");
    let trigger = done.lora.clone().unwrap().trigger_phrase;
    assert_eq!(request.input["trigger_word"], trigger.as_str());
    assert!(request.input.get("learning_rate").is_none());
    s.app.stop().await;
}

/// FAL's copy of the weights expired: the next image uploads ours again and uses that.
#[tokio::test]
async fn expired_weights_on_fal_are_uploaded_again_from_ours() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7510;
    let (owner, avatar) = ready_draft(&s, user).await;
    start(&s, user).await;
    let trained = s.fal.wait_for_submissions(1, PATIENCE).await[0].clone();
    assert_eq!(
        finished(&s.app, owner, avatar).await.status,
        AvatarStatus::Completed
    );
    s.fal.expire_all_files();

    generate(&s, user, "a portrait in a park", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    assert_eq!(
        s.telegram.count("sendPhoto"),
        1,
        "{:?}",
        texts_to(&s.telegram, user)
    );
    let again = s.fal.uploads().pop().unwrap();
    let weights = format!("LoRA weights of {}", trained.request_id).into_bytes();
    assert_eq!(again.bytes, weights);
    let image = &s.fal.submissions()[1];
    assert_eq!(image.input["loras"][0]["path"], again.url.as_str());
    let row = avatar_row(&s.app, owner, avatar).await;
    assert_eq!(
        row.lora.as_ref().map(|l| l.lora_url.as_str()),
        Some(again.url.as_str())
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_provider_error_fails_the_training_and_refunds_once() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7502;
    let (owner, avatar) = ready_draft(&s, user).await;
    s.fal.push_outcome(FalOutcome::Error(500));
    start(&s, user).await;
    let done = finished(&s.app, owner, avatar).await;
    assert_eq!(done.status, AvatarStatus::Error);
    assert!(done.lora.is_none(), "no fake success");
    assert!(
        texts_to(&s.telegram, user)
            .iter()
            .any(|t| t.contains("failed"))
    );
    assert_eq!(entries(&s.app, owner, LedgerKind::TrainingRefund).await, 1);
    assert_eq!(balance(&s.app, owner).await, Credits::new(200));
    s.app.stop().await;
}

#[tokio::test]
async fn without_a_webhook_polling_completes_the_training() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    s.fal.route_webhooks_to(None);
    let user = 7503;
    let (owner, avatar) = ready_draft(&s, user).await;
    start(&s, user).await;
    let done = finished(&s.app, owner, avatar).await;
    assert_eq!(done.status, AvatarStatus::Completed);
    assert!(s.fal.counters().0 >= 1, "found by a status poll");
    assert_eq!(balance(&s.app, owner).await, Credits::new(200 - COST));
    s.app.stop().await;
}

#[tokio::test]
async fn a_training_past_its_deadline_fails_and_refunds() {
    let s = studio(TestDb::sqlite(), |c| c.training_deadline_secs = 2).await;
    s.fal.push_outcome(FalOutcome::Pending);
    let user = 7504;
    let (owner, avatar) = ready_draft(&s, user).await;
    start(&s, user).await;
    let done = finished(&s.app, owner, avatar).await;
    assert_eq!(done.status, AvatarStatus::Error);
    assert!(
        texts_to(&s.telegram, user)
            .iter()
            .any(|t| t.contains("took too long"))
    );
    assert_eq!(s.fal.counters().2, 1, "FAL was asked to cancel");
    assert_eq!(entries(&s.app, owner, LedgerKind::TrainingRefund).await, 1);
    assert_eq!(balance(&s.app, owner).await, Credits::new(200));
    s.app.stop().await;
}

studio_testkit::on_both_backends!(a_cancelled_training_stays_cancelled_after_a_late_result);

async fn a_cancelled_training_stays_cancelled_after_a_late_result(db: TestDb) {
    let s = studio(db, |_| {}).await;
    s.fal.route_webhooks_to(None);
    s.fal.set_latency(std::time::Duration::from_secs(3600));
    let user = 7505;
    let (owner, avatar) = ready_draft(&s, user).await;
    start(&s, user).await;
    let request = s.fal.wait_for_submissions(1, PATIENCE).await[0]
        .request_id
        .clone();
    s.app
        .send(&press(&s.telegram, user, "Cancel training"))
        .await;
    assert!(last_text(&s.telegram).contains("Cancel the training"));
    s.app
        .send(&press(&s.telegram, user, "Yes, cancel it"))
        .await;
    assert!(
        last_text(&s.telegram).contains("Training cancelled"),
        "{}",
        last_text(&s.telegram)
    );
    assert_eq!(
        avatar_row(&s.app, owner, avatar).await.status,
        AvatarStatus::Cancelled
    );

    // FAL finishes anyway and reports it: nothing changes.
    let body = serde_json::json!({"request_id": request, "status": "OK", "payload": {
        "diffusers_lora_file": {"url": "https://late.invalid/lora"}}})
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let signature = s.fal.sign(&request, now, body.as_bytes());
    assert_eq!(
        post_webhook(&s.app, &request, &body, now, &signature).await,
        200
    );
    s.app.settle().await;
    let row = avatar_row(&s.app, owner, avatar).await;
    assert_eq!(row.status, AvatarStatus::Cancelled);
    assert!(row.lora.is_none());
    assert_eq!(s.fal.counters().2, 1, "FAL was asked to cancel");
    assert_eq!(entries(&s.app, owner, LedgerKind::TrainingDebit).await, 1);
    assert_eq!(entries(&s.app, owner, LedgerKind::TrainingRefund).await, 1);
    assert_eq!(balance(&s.app, owner).await, Credits::new(200));
    s.app.stop().await;
}

#[tokio::test]
async fn a_restart_between_submit_and_webhook_still_completes_the_avatar() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    s.fal.route_webhooks_to(None);
    s.fal.set_latency(std::time::Duration::from_secs(3600));
    let user = 7506;
    let (owner, avatar) = ready_draft(&s, user).await;
    start(&s, user).await;
    let request = s.fal.wait_for_submissions(1, PATIENCE).await[0]
        .request_id
        .clone();
    let config = crate::support::config(&s.db.url, &s.telegram.url);
    s.app.stop().await;

    let mut config = config;
    config.fal_key = Some(secrecy::SecretString::from(crate::support::FAL_KEY));
    config.fal_queue_url = s.fal.url.clone();
    config.fal_rest_url = s.fal.url.clone();
    let again = TestApp::spawn_with(config, Workers::All).await;
    s.fal.route_webhooks_to(Some(&again.url("")));
    let weights = format!("{}/files/{request}.safetensors", s.fal.url);
    let body = serde_json::json!({"request_id": request, "status": "OK", "payload": {
        "diffusers_lora_file": {"url": weights}}})
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let signature = s.fal.sign(&request, now, body.as_bytes());
    assert_eq!(
        post_webhook(&again, &request, &body, now, &signature).await,
        200
    );
    let done = finished(&again, owner, avatar).await;
    assert_eq!(done.status, AvatarStatus::Completed);
    assert_eq!(
        done.lora.as_ref().map(|l| l.lora_url.as_str()),
        Some(weights.as_str())
    );
    assert_eq!(s.fal.submissions().len(), 1, "not submitted twice");
    again.stop().await;
}

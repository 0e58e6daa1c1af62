//! FAL's failure paths and its webhook: retries, refusals, flagged images, timeouts, signed
//! callbacks and their replays. Each ends with one debit and at most one refund.

use serde_json::json;
use studio_domain::{AspectRatio, AvatarStatus, Credits, LedgerKind, UserId};
use studio_testkit::{FalOutcome, TestDb};

use crate::support::{
    PATIENCE, Studio, TestApp, balance, entries, from_main_menu, generate, last_text, member,
    post_webhook, press, settle_jobs, studio, texts_to, user_id,
};

/// A person with a trained avatar and 10 credits; their user id.
async fn member_with_ten_credits(s: &Studio, user: i64) -> UserId {
    member(s, user, AvatarStatus::Completed, 10).await;
    user_id(&s.app, user).await
}

/// The person has their 10 credits back, refunded by one ledger entry.
async fn assert_refunded_once(app: &TestApp, owner: UserId) {
    assert_eq!(balance(app, owner).await, Credits::new(10));
    assert_eq!(entries(app, owner, LedgerKind::GenerationRefund).await, 1);
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_500_is_retried_and_the_image_delivered_once() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7301;
    let owner = member_with_ten_credits(&s, user).await;
    s.fal.fail_next_submit(500);
    generate(&s, user, "a portrait by the sea", AspectRatio::Portrait).await;
    s.telegram.wait_for("sendPhoto", 1, PATIENCE).await;
    settle_jobs(&s.app).await;
    assert_eq!(s.fal.submissions().len(), 1, "the retry went through once");
    assert_eq!(balance(&s.app, owner).await, Credits::new(5));
    assert_eq!(
        entries(&s.app, owner, LedgerKind::GenerationRefund).await,
        0
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_422_fails_at_once_and_refunds() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7302;
    let owner = member_with_ten_credits(&s, user).await;
    s.fal.fail_next_submit(422);
    generate(&s, user, "a portrait by the sea", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    assert!(
        texts_to(&s.telegram, user)
            .iter()
            .any(|t| t.contains("refused this request"))
    );
    assert_eq!(s.telegram.count("sendPhoto"), 0);
    assert_refunded_once(&s.app, owner).await;
    s.app.stop().await;
}

/// FAL answers 403 to every billable call of an account whose balance ran out: that is FAL
/// being unavailable, not the person's words, and the operator must hear of it.
#[tokio::test]
async fn a_locked_fal_account_is_the_service_failing_not_the_prompt() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7306;
    let owner = member_with_ten_credits(&s, user).await;
    s.fal.lock_account();
    generate(&s, user, "a portrait by the sea", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    let texts = texts_to(&s.telegram, user);
    assert!(
        texts.iter().any(|t| t.contains("the image service failed")),
        "{texts:?}"
    );
    assert!(!texts.iter().any(|t| t.contains("rewording")), "{texts:?}");
    assert_refunded_once(&s.app, owner).await;
    let (_, metrics) = s.app.get("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("provider_errors_total") && l.contains("kind=\"refused\"")),
        "{metrics}"
    );
    s.app.stop().await;
}

/// After `COMPLETED` the result URL answers the model's own error, already retried by FAL:
/// final, so the job fails and refunds now instead of polling until its deadline.
#[tokio::test]
async fn an_error_result_after_completion_fails_at_once() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    s.fal.route_webhooks_to(None);
    let user = 7308;
    let owner = member_with_ten_credits(&s, user).await;
    s.fal.push_outcome(FalOutcome::Error(500));
    generate(&s, user, "a portrait by the sea", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    let texts = texts_to(&s.telegram, user);
    assert!(
        texts.iter().any(|t| t.contains("the image service failed")),
        "{texts:?}"
    );
    assert_refunded_once(&s.app, owner).await;
    s.app.stop().await;
}

/// FAL's webhook may say `OK` without the payload it could not serialise; the image is still at
/// the result URL, and a success is never refunded.
#[tokio::test]
async fn a_webhook_without_its_payload_still_delivers_the_image() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7307;
    let owner = member_with_ten_credits(&s, user).await;
    s.fal.push_outcome(FalOutcome::UnsentPayload);
    generate(&s, user, "a portrait by the sea", AspectRatio::Square).await;
    s.telegram.wait_for("sendPhoto", 1, PATIENCE).await;
    settle_jobs(&s.app).await;
    assert_eq!(balance(&s.app, owner).await, Credits::new(5));
    assert_eq!(
        entries(&s.app, owner, LedgerKind::GenerationRefund).await,
        0
    );
    s.app.stop().await;
}

studio_testkit::on_both_backends!(a_flagged_image_is_not_sent_and_is_refunded);

async fn a_flagged_image_is_not_sent_and_is_refunded(db: TestDb) {
    let s = studio(db, |_| {}).await;
    let user = 7303;
    let owner = member_with_ten_credits(&s, user).await;
    s.fal.push_outcome(FalOutcome::Nsfw);
    generate(&s, user, "a portrait", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    assert!(
        texts_to(&s.telegram, user)
            .iter()
            .any(|t| t.contains("safety filter"))
    );
    assert_eq!(s.telegram.count("sendPhoto"), 0);
    assert_refunded_once(&s.app, owner).await;
    s.app.stop().await;
}

#[tokio::test]
async fn a_job_past_its_deadline_is_cancelled_and_refunded() {
    let s = studio(TestDb::sqlite(), |c| c.generation_deadline_secs = 2).await;
    let user = 7304;
    let owner = member_with_ten_credits(&s, user).await;
    // Cancel is a signal: this request finishes (and is billed) anyway once asked to stop.
    s.fal.push_outcome(FalOutcome::FinishesDespiteCancel);
    generate(&s, user, "a portrait", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    assert!(
        texts_to(&s.telegram, user)
            .iter()
            .any(|t| t.contains("took too long"))
    );
    assert_eq!(s.fal.counters().2, 1, "FAL was asked to cancel");
    assert_eq!(balance(&s.app, owner).await, Credits::new(10));
    assert_eq!(entries(&s.app, owner, LedgerKind::GenerationDebit).await, 1);
    assert_eq!(
        entries(&s.app, owner, LedgerKind::GenerationRefund).await,
        1
    );
    // Its late result is discarded on purpose, and counted.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (_, metrics) = s.app.get("/metrics").await;
        let late = metrics
            .lines()
            .any(|l| l.starts_with("fal_webhooks_total") && l.contains("outcome=\"late\""));
        if late {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    s.app.settle().await;
    assert_eq!(s.telegram.count("sendPhoto"), 0);
    assert_eq!(balance(&s.app, owner).await, Credits::new(10));
    s.app.stop().await;
}

studio_testkit::on_both_backends!(poll_and_webhook_reporting_one_result_deliver_it_once);

async fn poll_and_webhook_reporting_one_result_deliver_it_once(db: TestDb) {
    let s = studio(db, |_| {}).await;
    // No automatic webhooks: polling finds the result, then the webhook comes late.
    s.fal.route_webhooks_to(None);
    let user = 7305;
    member(&s, user, AvatarStatus::Completed, 10).await;
    generate(&s, user, "a portrait", AspectRatio::Cinema).await;
    let request = s.fal.wait_for_submissions(1, PATIENCE).await[0]
        .request_id
        .clone();
    s.telegram.wait_for("sendPhoto", 1, PATIENCE).await;
    assert!(s.fal.counters().0 >= 1, "the poll found it");
    let body = s.fal.webhook_body(&request).unwrap();
    // One timestamp for signing and sending: a second boundary between them is a 401.
    let at = now();
    let signature = s.fal.sign(&request, at, body.as_bytes());
    assert_eq!(
        post_webhook(&s.app, &request, &body, at, &signature).await,
        200
    );
    assert_eq!(
        post_webhook(&s.app, &request, &body, at, &signature).await,
        200
    );
    settle_jobs(&s.app).await;
    assert_eq!(s.telegram.count("sendPhoto"), 1);
    s.app.stop().await;
}

#[tokio::test]
async fn webhooks_must_be_signed_fresh_and_well_formed() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    s.fal.route_webhooks_to(None);
    s.fal.push_outcome(FalOutcome::Pending);
    let user = 7306;
    let owner = member_with_ten_credits(&s, user).await;
    generate(&s, user, "a portrait", AspectRatio::Square).await;
    let request = s.fal.wait_for_submissions(1, PATIENCE).await[0]
        .request_id
        .clone();
    let gateway = format!("gw-{request}");
    let ok =
        json!({"request_id": request, "gateway_request_id": gateway, "status": "OK", "payload": {
        "images": [{"url": format!("{}/files/{request}.jpg", s.fal.url)}], "has_nsfw_concepts": [false]}})
        .to_string();

    let at = now();
    let fetched = s.fal.jwks_fetches();
    let forged = s.fal.sign("another-request", at, ok.as_bytes());
    assert_eq!(post_webhook(&s.app, &request, &ok, at, &forged).await, 401);
    assert_eq!(post_webhook(&s.app, &request, &ok, at, "zz").await, 401);
    let old = at - 600;
    let stale = s.fal.sign(&request, old, ok.as_bytes());
    assert_eq!(post_webhook(&s.app, &request, &ok, old, &stale).await, 401);
    let tampered = ok.replace("false", "true");
    let signed_ok = s.fal.sign(&request, at, ok.as_bytes());
    assert_eq!(
        post_webhook(&s.app, &request, &tampered, at, &signed_ok).await,
        401
    );
    assert_eq!(
        s.fal.jwks_fetches(),
        fetched,
        "forgeries never make us fetch FAL's keys"
    );
    let garbage = "not json";
    let signed_garbage = s.fal.sign(&request, at, garbage.as_bytes());
    assert_eq!(
        post_webhook(&s.app, &request, garbage, at, &signed_garbage).await,
        400
    );
    let unknown = json!({"request_id": "req-unknown", "status": "OK", "payload": null}).to_string();
    let signed_unknown = s.fal.sign("req-unknown", at, unknown.as_bytes());
    assert_eq!(
        post_webhook(&s.app, "req-unknown", &unknown, at, &signed_unknown).await,
        200
    );
    s.app.settle().await;
    assert_eq!(
        s.telegram.count("sendPhoto"),
        0,
        "nothing refused changed the job"
    );
    assert_eq!(balance(&s.app, owner).await, Credits::new(5));

    // A signature for one request on a body naming another is refused.
    let other = s.fal.sign("req-other", at, ok.as_bytes());
    assert_eq!(
        post_webhook(&s.app, "req-other", &ok, at, &other).await,
        400
    );
    // The genuine callback, its header naming the gateway's id, completes the job; its replay
    // changes nothing.
    let by_gateway = s.fal.sign(&gateway, at, ok.as_bytes());
    assert_eq!(
        post_webhook(&s.app, &gateway, &ok, at, &by_gateway).await,
        200
    );
    s.telegram.wait_for("sendPhoto", 1, PATIENCE).await;
    assert_eq!(
        post_webhook(&s.app, &request, &ok, at, &signed_ok).await,
        200
    );
    settle_jobs(&s.app).await;
    assert_eq!(s.telegram.count("sendPhoto"), 1);
    assert_eq!(balance(&s.app, owner).await, Credits::new(5));
    s.app.stop().await;
}

/// Deleting an avatar with two images at FAL gives their credits back in the same step,
/// cancels both at FAL, and when FAL finishes them anyway nothing is stored or sent.
#[tokio::test]
async fn deleting_an_avatar_refunds_its_open_images_and_cancels_them() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7307;
    member(&s, user, AvatarStatus::Completed, 10).await;
    let owner = user_id(&s.app, user).await;
    for _ in 0..2 {
        s.fal.push_outcome(FalOutcome::FinishesDespiteCancel);
    }
    generate(&s, user, "a portrait", AspectRatio::Square).await;
    generate(&s, user, "another portrait", AspectRatio::Square).await;
    s.fal.wait_for_submissions(2, PATIENCE).await;
    assert_eq!(balance(&s.app, owner).await, Credits::ZERO);

    from_main_menu(&s.app, &s.telegram, user, "My avatars").await;
    s.app.send(&press(&s.telegram, user, "🗑 Delete")).await;
    s.app.send(&press(&s.telegram, user, "Yes, delete")).await;
    let told = last_text(&s.telegram);
    assert!(told.contains("10 credits"), "{told}");
    assert_eq!(balance(&s.app, owner).await, Credits::new(10));
    assert_eq!(
        entries(&s.app, owner, LedgerKind::GenerationRefund).await,
        2
    );
    // Both asked to stop; FAL finishes them anyway, and the results are discarded.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while s.fal.counters().2 < 2 {
        assert!(tokio::time::Instant::now() < deadline, "FAL cancels");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    settle_jobs(&s.app).await;
    assert_eq!(s.telegram.count("sendPhoto"), 0);
    let generated = s.app.storage.join("generations");
    let files = std::fs::read_dir(&generated).map_or(0, |d| d.count());
    assert_eq!(files, 0, "no image kept for a deleted avatar");
    assert_eq!(balance(&s.app, owner).await, Credits::new(10));
    s.app.stop().await;
}

/// Images the safety checker blocks are refunded, so they cost us and not the person: after
/// the day's allowance, generating pauses with a clear word instead of calling FAL again.
#[tokio::test]
async fn blocked_images_pause_generating_for_the_day() {
    let s = studio(TestDb::sqlite(), |c| c.blocked_images_per_day = 1).await;
    let user = 7308;
    let owner = member_with_ten_credits(&s, user).await;
    s.fal.push_outcome(FalOutcome::Nsfw);
    generate(&s, user, "a portrait", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    assert_refunded_once(&s.app, owner).await;
    generate(&s, user, "another portrait", AspectRatio::Square).await;
    settle_jobs(&s.app).await;
    let told = last_text(&s.telegram);
    assert!(told.contains("paused until tomorrow"), "{told}");
    assert_eq!(s.fal.submissions().len(), 1, "FAL is not called again");
    assert_eq!(balance(&s.app, owner).await, Credits::new(10));
    s.app.stop().await;
}

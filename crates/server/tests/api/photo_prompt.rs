//! Prompts from a reference photo and translations, end to end: the webhook in, the prompt
//! queue, a fake OpenAI-compatible API that fails requests of the wrong shape, and on to FAL.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use studio_domain::{AspectRatio, AvatarId, AvatarStatus, Credits, UserId};
use studio_persistence::repos::prompt_jobs;
use studio_server::Config;
use studio_testkit::{FakeOpenAi, OpenAiReply, TRANSLATION, TestDb, VISION_PROMPT};

use crate::support::{
    self, PATIENCE, Studio, TestApp, balance, document_message, from_generation_menu,
    from_main_menu, generations_of, image, last_text, member, message, next_id, photo_message,
    press, settle_jobs, studio, tap, text, texts_to, user_id,
};

const OPENAI_KEY: &str = "sk-test-never-in-logs";
const MODEL: &str = "vision-test-model";

struct Lab {
    s: Studio,
    openai: FakeOpenAi,
}

/// A lab on SQLite with one person (`user`) whose trained main avatar has `credits`: the lab,
/// the person's user id and the avatar.
async fn member_lab(user: i64, credits: u32) -> (Lab, UserId, AvatarId) {
    let lab = lab(TestDb::sqlite()).await;
    let avatar = member(&lab.s, user, AvatarStatus::Completed, credits).await;
    let owner = user_id(&lab.s.app, user).await;
    (lab, owner, avatar)
}

/// The studio with a model behind OPENAI_BASE_URL.
async fn lab(db: TestDb) -> Lab {
    let openai = FakeOpenAi::start().await;
    let url = openai.url.clone();
    let s = studio(db, |config: &mut Config| {
        config.openai_api_key = Some(SecretString::from(OPENAI_KEY));
        config.openai_base_url = url;
        config.openai_model = MODEL.into();
    })
    .await;
    Lab { s, openai }
}

/// Waits until no model request is waiting, then until every message is sent.
async fn settle_prompts(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    app.settle().await;
    loop {
        let (pending, _) = prompt_jobs::backlog(&app.db).await.unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pending} model requests still pending"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.settle().await;
}

/// The text of the last message sent or edited (taps edit the message they were pressed on);
/// each test has one person.
fn last_to(lab: &Lab) -> String {
    last_text(&lab.s.telegram)
}

/// The text of the last text message sent or edited, leaving out photo captions: an image a
/// worker delivers meanwhile arrives whenever FAL finishes, not in step with the dialog.
fn last_text_message(lab: &Lab) -> String {
    lab.s
        .telegram
        .calls()
        .iter()
        .rev()
        .find_map(|c| c.body.get("text").and_then(serde_json::Value::as_str))
        .map(str::to_owned)
        .unwrap_or_default()
}

/// "Prompt from photo", then a reference of `width`×`height`; returns the text the person
/// sees last.
async fn send_reference_of(lab: &Lab, user: i64, width: u32, height: u32) -> String {
    from_generation_menu(&lab.s, user, "Prompt from photo").await;
    assert!(
        last_to(lab).contains("Send a reference photo"),
        "{}",
        last_to(lab)
    );
    let png = image(image::ImageFormat::Png, width, height, user as u8);
    let file_id = format!("ref-{}", next_id());
    lab.s
        .app
        .send(&photo_message(&lab.s.telegram, user, &file_id, png))
        .await;
    settle_prompts(&lab.s.app).await;
    last_to(lab)
}

async fn send_reference(lab: &Lab, user: i64) -> String {
    send_reference_of(lab, user, 640, 480).await
}

studio_testkit::on_both_backends!(a_photo_becomes_a_prompt_and_an_image_of_the_avatar);

async fn a_photo_becomes_a_prompt_and_an_image_of_the_avatar(db: TestDb) {
    let lab = lab(db).await;
    let (app, user) = (&lab.s.app, 8101);
    member(&lab.s, user, AvatarStatus::Completed, 100).await;
    let owner = user_id(app, user).await;

    let proposal = send_reference_of(&lab, user, 3000, 1500).await;
    assert!(proposal.contains(VISION_PROMPT), "{proposal}");
    assert!(
        texts_to(&lab.s.telegram, user)
            .iter()
            .any(|t| t.contains("Looking at your photo")),
        "the person is told the photo is being analysed"
    );
    let [request] = lab.openai.requests().try_into().unwrap();
    assert_eq!(request.status, 200, "the fake accepted the request's shape");
    assert_eq!(request.body["model"], MODEL);
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert!(!request.body.to_string().contains("api.telegram.org"));
    let instructions = request.body["messages"][0]["content"].as_str().unwrap();
    assert!(
        instructions.contains("portrait of a woman"),
        "the avatar's gender: {instructions}"
    );
    assert!(
        request
            .image_url()
            .unwrap()
            .starts_with("data:image/jpeg;base64,")
    );
    let jpeg = request.image_bytes().unwrap();
    let sent = image::load_from_memory(&jpeg).unwrap();
    assert_eq!(
        (sent.width(), sent.height()),
        (2048, 1024),
        "downscaled to 2048 px"
    );
    assert_eq!(stored_files(app), 0, "the reference photo is not stored");
    assert_eq!(
        balance(app, owner).await,
        Credits::new(100),
        "analysis is free"
    );

    app.send(&press(&lab.s.telegram, user, "✨ Generate")).await;
    assert!(last_to(&lab).contains("Choose the frame format"));
    app.send(&press(&lab.s.telegram, user, "1:1")).await;
    assert_eq!(
        only_fal_prompt(&lab).await,
        format!("{}, {VISION_PROMPT}", crate::support::TRIGGER)
    );
    settle_jobs(app).await;
    let [generation] = generations_of(app, owner).await.try_into().unwrap();
    assert_eq!(generation.prompt_original, VISION_PROMPT);
    assert_eq!(
        AspectRatio::from(generation.aspect_ratio),
        AspectRatio::Square
    );
    assert_eq!(balance(app, owner).await, Credits::new(95));
}

/// The prompt of the one image asked of FAL so far.
async fn only_fal_prompt(lab: &Lab) -> String {
    let [submission] = lab
        .s
        .fal
        .wait_for_submissions(1, PATIENCE)
        .await
        .try_into()
        .unwrap();
    submission.input["prompt"].as_str().unwrap().to_owned()
}

fn stored_files(app: &TestApp) -> usize {
    walk(&app.storage)
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn the_proposal_can_be_edited_or_cancelled() {
    let user = 8102;
    let (lab, owner, _) = member_lab(user, 100).await;
    let app = &lab.s.app;

    send_reference(&lab, user).await;
    app.send(&press(&lab.s.telegram, user, "Edit prompt")).await;
    let edit = last_to(&lab);
    assert!(
        edit.contains("Send your version") && edit.contains(VISION_PROMPT),
        "{edit}"
    );
    app.send(&text(
        next_id(),
        user,
        "en",
        "my own version, in a blue suit",
    ))
    .await;
    app.send(&press(&lab.s.telegram, user, "3:4")).await;
    let prompt = only_fal_prompt(&lab).await;
    assert!(
        prompt.ends_with("my own version, in a blue suit"),
        "{prompt}"
    );
    settle_jobs(app).await;

    send_reference(&lab, user).await;
    // The proposal's message keeps its buttons after Cancel; a late press queues nothing.
    let old_generate = support::button(&lab.s.telegram, "✨ Generate");
    app.send(&press(&lab.s.telegram, user, "Cancel")).await;
    assert!(last_to(&lab).contains("Create image"), "{}", last_to(&lab));
    app.send(&tap(next_id(), user, &old_generate)).await;
    assert_eq!(
        generations_of(app, owner).await.len(),
        1,
        "no job after Cancel"
    );
    assert_eq!(
        balance(app, owner).await,
        Credits::new(95),
        "only the edited one paid"
    );
    assert_eq!(lab.openai.requests().len(), 2);
}

#[tokio::test]
async fn vision_failures_are_told_plainly_and_cost_nothing() {
    let user = 8103;
    let (lab, owner, _) = member_lab(user, 100).await;
    let app = &lab.s.app;
    let cases: [(Vec<OpenAiReply>, usize, &str); 6] = [
        (
            vec![OpenAiReply::Refusal("I can't.".into())],
            1,
            "would not describe",
        ),
        (vec![OpenAiReply::ContentFilter], 1, "would not describe"),
        (
            vec![OpenAiReply::Malformed, OpenAiReply::Malformed],
            2,
            "could not make a prompt",
        ),
        (
            // No wait named (OpenAI often names none): the back-off decides.
            vec![OpenAiReply::RateLimited {
                retry_after_ms: None,
            }],
            2,
            "Prompt from your photo",
        ),
        (
            vec![
                OpenAiReply::ServerError {
                    status: 500,
                    retry_after_ms: Some(10)
                };
                4
            ],
            4,
            "overloaded",
        ),
        (
            vec![OpenAiReply::InsufficientQuota],
            1,
            "unavailable right now",
        ),
    ];
    for (replies, requests, answer) in cases {
        let before = lab.openai.requests().len();
        lab.openai.push(replies);
        let seen = send_reference(&lab, user).await;
        assert!(seen.contains(answer), "expected {answer:?}, got {seen}");
        assert_eq!(lab.openai.requests().len() - before, requests, "{answer}");
        if answer != "Prompt from your photo" {
            assert!(seen.contains("Nothing was charged"), "{seen}");
        }
    }
    assert_eq!(balance(app, owner).await, Credits::new(100));
    assert!(generations_of(app, owner).await.is_empty());
}

studio_testkit::on_both_backends!(a_russian_prompt_is_translated_once_and_both_texts_kept);

async fn a_russian_prompt_is_translated_once_and_both_texts_kept(db: TestDb) {
    let lab = lab(db).await;
    let (app, user) = (&lab.s.app, 8104);
    member(&lab.s, user, AvatarStatus::Completed, 100).await;
    let owner = user_id(app, user).await;
    let russian = "портрет в кожаной куртке на ночной улице";

    from_generation_menu(&lab.s, user, "Custom prompt").await;
    app.send(&text(next_id(), user, "ru", russian)).await;
    settle_prompts(app).await;
    let picker = last_to(&lab);
    assert!(
        picker.contains(russian) && picker.contains(TRANSLATION),
        "{picker}"
    );
    let [request] = lab.openai.requests().try_into().unwrap();
    assert_eq!(request.body["model"], MODEL);
    assert!(request.body.to_string().contains(russian));
    assert!(request.image_url().is_none());

    app.send(&press(&lab.s.telegram, user, "16:9")).await;
    let prompt = only_fal_prompt(&lab).await;
    assert!(
        prompt.ends_with(TRANSLATION) && !prompt.contains(russian),
        "{prompt}"
    );
    settle_jobs(app).await;
    let [generation] = generations_of(app, owner).await.try_into().unwrap();
    assert_eq!(
        (
            generation.prompt_original.as_str(),
            generation.prompt_english.as_str()
        ),
        (russian, TRANSLATION)
    );

    // Again and Show prompt use what is stored: no second translation.
    let again = support::button(&lab.s.telegram, "Again");
    app.send(&press(&lab.s.telegram, user, "Show prompt")).await;
    let shown = texts_to(&lab.s.telegram, user).join("\n");
    assert!(shown.contains(russian) && shown.contains(TRANSLATION));
    app.send(&tap(next_id(), user, &again)).await;
    lab.s.fal.wait_for_submissions(2, PATIENCE).await;
    settle_jobs(app).await;
    assert_eq!(lab.openai.requests().len(), 1, "translated once");
    assert_eq!(balance(app, owner).await, Credits::new(90));

    // A failed translation asks to retry or write in English, and charges nothing.
    lab.openai.push([OpenAiReply::InsufficientQuota]);
    from_generation_menu(&lab.s, user, "Custom prompt").await;
    app.send(&text(next_id(), user, "ru", russian)).await;
    settle_prompts(app).await;
    let failed = last_to(&lab);
    assert!(failed.contains("напишите его по-английски"), "{failed}");
    assert_eq!(balance(app, owner).await, Credits::new(90));
}

/// A Russian prompt whose translation the model asks to retry in a minute: the request stays
/// pending for the rest of the test.
async fn translation_held_a_minute(lab: &Lab, user: i64) {
    lab.openai.push([OpenAiReply::RateLimited {
        retry_after_ms: Some(60_000),
    }]);
    let app = &lab.s.app;
    from_generation_menu(&lab.s, user, "Custom prompt").await;
    app.send(&text(next_id(), user, "en", "кот в сапогах"))
        .await;
    lab.openai.wait_for_requests(1, PATIENCE).await;
}

#[tokio::test]
async fn a_chat_waits_while_the_model_works_and_not_after_its_request_is_gone() {
    use sea_orm::EntityTrait;
    let user = 8107;
    let (lab, _, avatar) = member_lab(user, 100).await;
    let app = &lab.s.app;
    translation_held_a_minute(&lab, user).await;
    app.send(&text(next_id(), user, "en", "hello?")).await;
    assert!(last_to(&lab).contains("Still working"), "{}", last_to(&lab));

    // Deleting the avatar takes its requests with it; the chat stops waiting.
    studio_persistence::entities::avatars::Entity::delete_by_id(avatar.0)
        .exec(&app.db)
        .await
        .unwrap();
    app.send(&text(next_id(), user, "en", "hello?")).await;
    let last = last_to(&lab);
    assert!(!last.contains("Still working"), "{last}");
    app.send(&text(next_id(), user, "en", "hello?")).await;
    assert_eq!(last_to(&lab), last, "the same hint: the dialog is idle now");
    assert_eq!(lab.openai.requests().len(), 1);
}

#[tokio::test]
async fn leaving_a_waiting_chat_abandons_its_request_and_frees_the_next() {
    let user = 8108;
    let (lab, _, _) = member_lab(user, 100).await;
    let app = &lab.s.app;
    translation_held_a_minute(&lab, user).await;
    app.send(&press(&lab.s.telegram, user, "Cancel")).await;
    assert!(
        last_to(&lab).contains("Create image"),
        "Cancel shows the menu"
    );

    // The abandoned translation neither waits out its minute nor holds the photo back.
    let proposal = send_reference(&lab, user).await;
    assert!(proposal.contains(VISION_PROMPT), "{proposal}");
    assert_eq!(
        lab.openai.requests().len(),
        2,
        "the translation was not retried"
    );
}

#[tokio::test]
async fn quick_mode_queues_a_translated_prompt_or_asks_again_without_credits() {
    let user = 8109;
    let (lab, owner, _) = member_lab(user, 7).await;
    let app = &lab.s.app;
    app.send(&press(&lab.s.telegram, user, "Profile")).await;
    app.send(&press(&lab.s.telegram, user, "Settings")).await;
    app.send(&press(&lab.s.telegram, user, "Quick mode: off"))
        .await;
    // The menu's button stays in the chat: the second press comes without credits for it.
    from_main_menu(app, &lab.s.telegram, user, "Create image").await;
    let write = support::button(&lab.s.telegram, "Custom prompt");
    for _ in 0..2 {
        app.send(&tap(next_id(), user, &write)).await;
        app.send(&text(next_id(), user, "en", "кот в сапогах"))
            .await;
        settle_prompts(app).await;
    }
    assert!(
        last_text_message(&lab).contains("Not enough credits"),
        "{}",
        last_text_message(&lab)
    );
    let [generation] = generations_of(app, owner).await.try_into().unwrap();
    assert_eq!(generation.prompt_english, TRANSLATION);
    assert_eq!(balance(app, owner).await, Credits::new(2));
    // The chat is not left waiting: the next text is a new prompt.
    app.send(&text(next_id(), user, "en", "a knight")).await;
    assert!(
        last_text_message(&lab).contains("Not enough credits"),
        "{}",
        last_text_message(&lab)
    );
}

#[tokio::test]
async fn a_reference_for_a_deleted_avatar_is_answered_not_failed() {
    use sea_orm::EntityTrait;
    let user = 8110;
    let (lab, _, avatar) = member_lab(user, 100).await;
    let app = &lab.s.app;
    let telegram = &lab.s.telegram;
    from_generation_menu(&lab.s, user, "Prompt from photo").await;
    studio_persistence::entities::avatars::Entity::delete_by_id(avatar.0)
        .exec(&app.db)
        .await
        .unwrap();
    let png = image(image::ImageFormat::Png, 64, 48, 1);
    app.send(&photo_message(telegram, user, "late", png)).await;
    assert!(
        last_to(&lab).contains("no trained avatar"),
        "{}",
        last_to(&lab)
    );
    let (pending, _) = studio_persistence::repos::inbox::backlog(&app.db)
        .await
        .unwrap();
    assert_eq!(pending, 0, "handled, not retried");
    assert!(lab.openai.requests().is_empty());
}

#[tokio::test]
async fn without_a_key_photos_and_other_languages_are_refused_clearly() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let (app, user) = (&s.app, 8105);
    member(&s, user, AvatarStatus::Completed, 100).await;
    from_generation_menu(&s, user, "Prompt from photo").await;
    let last = last_text(&s.telegram);
    assert!(last.contains("not configured"), "{last}");
    from_generation_menu(&s, user, "Custom prompt").await;
    app.send(&text(next_id(), user, "en", "кот в сапогах"))
        .await;
    let last = texts_to(&s.telegram, user).pop().unwrap();
    assert!(last.contains("write the prompt in English"), "{last}");
    app.send(&text(next_id(), user, "en", "a cat in boots"))
        .await;
    let last = texts_to(&s.telegram, user).pop().unwrap();
    assert!(
        last.contains("Choose the frame format"),
        "English still works: {last}"
    );
    app.send(&text(
        next_id(),
        user,
        "en",
        "portrait like Beyoncé in a café",
    ))
    .await;
    let last = texts_to(&s.telegram, user).pop().unwrap();
    assert!(
        last.contains("Beyoncé in a café"),
        "accents go as written: {last}"
    );
}

#[tokio::test]
async fn files_that_cannot_be_references_get_their_own_answers() {
    let user = 8106;
    let (lab, _, _) = member_lab(user, 100).await;
    let app = &lab.s.app;
    let telegram = &lab.s.telegram;
    from_generation_menu(&lab.s, user, "Prompt from photo").await;

    let huge = message(
        user,
        json!({"document": {"file_id": "huge", "file_unique_id": "huge", "file_name":
            "beach.jpg", "mime_type": "image/jpeg", "file_size": 25 * 1024 * 1024}}),
    );
    app.send(&huge).await;
    assert!(last_to(&lab).contains("over 20 MB"));
    let pdf = document_message(
        telegram,
        user,
        "pdf",
        "brief.pdf",
        "application/pdf",
        b"%PDF-1.7".to_vec(),
    );
    app.send(&pdf).await;
    assert!(last_to(&lab).contains("not an image"));
    let sticker: Value = message(
        user,
        json!({"sticker": {"file_id": "st", "file_unique_id": "st",
        "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}}),
    );
    app.send(&sticker).await;
    assert!(last_to(&lab).contains("sticker cannot be a reference"));
    settle_prompts(app).await;
    assert!(
        lab.openai.requests().is_empty(),
        "none of them reached the model"
    );

    // Still waiting for a reference: a real one now works.
    let png = image(image::ImageFormat::Png, 640, 480, 1);
    app.send(&photo_message(telegram, user, "ok", png)).await;
    settle_prompts(app).await;
    assert!(last_to(&lab).contains(VISION_PROMPT));

    // A file id Telegram refuses (this one it never saw) is told at once, not retried.
    from_generation_menu(&lab.s, user, "Prompt from photo").await;
    let get_files = telegram.count("getFile");
    let unknown = message(
        user,
        json!({"photo": [{"file_id": "expired", "file_unique_id": "x", "width": 640,
            "height": 480, "file_size": 1000}]}),
    );
    app.send(&unknown).await;
    settle_prompts(app).await;
    assert!(
        last_to(&lab).contains("could not open this image"),
        "{}",
        last_to(&lab)
    );
    assert_eq!(telegram.count("getFile"), get_files + 1);
    assert_eq!(lab.openai.requests().len(), 1);
}

/// Prompts from photos and translations are free for the person and paid by us: a day's
/// allowance each, then a clear word and no call to the model.
#[tokio::test]
async fn the_language_model_answers_a_days_allowance_then_says_so() {
    let openai = FakeOpenAi::start().await;
    let url = openai.url.clone();
    let s = studio(TestDb::sqlite(), |config: &mut Config| {
        config.openai_api_key = Some(SecretString::from(OPENAI_KEY));
        config.openai_base_url = url;
        config.openai_model = MODEL.into();
        config.model_requests_per_day = 1;
    })
    .await;
    let (app, user) = (&s.app, 8110);
    member(&s, user, AvatarStatus::Completed, 100).await;
    for prompt in ["кот в сапогах", "собака в шляпе"] {
        from_generation_menu(&s, user, "Custom prompt").await;
        app.send(&text(next_id(), user, "ru", prompt)).await;
        settle_prompts(app).await;
    }
    let told = last_text(&s.telegram);
    // The person writes Russian, so the bot answers in Russian.
    assert!(told.contains("сегодняшние 1 бесплатных"), "{told}");
    assert_eq!(
        openai.requests().len(),
        1,
        "the second never reached the model"
    );
    s.app.stop().await;
}

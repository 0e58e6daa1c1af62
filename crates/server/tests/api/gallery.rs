//! The results gallery and the generation settings, through the webhook.

use studio_domain::{AspectRatio, AvatarStatus, Credits, GenerationStatus};
use studio_testkit::TestDb;

use studio_bot_ui::{Callback, GalleryAction, GenerateAction};
use studio_domain::{GalleryFilter, GenerationId};

use crate::support::{
    PATIENCE, balance, from_main_menu, generate, generations_of, last_text, member, next_id, press,
    settle_jobs, studio, tap, text, texts_to, user_id,
};

studio_testkit::on_both_backends!(the_gallery_is_the_owners_alone_and_delete_removes_the_file);

async fn the_gallery_is_the_owners_alone_and_delete_removes_the_file(db: TestDb) {
    let s = studio(db, |_| {}).await;
    let (owner_chat, stranger) = (7401, 7402);
    member(&s, owner_chat, AvatarStatus::Completed, 20).await;
    member(&s, stranger, AvatarStatus::Completed, 0).await;
    let owner = user_id(&s.app, owner_chat).await;
    generate(&s, owner_chat, "first <portrait>", AspectRatio::Square).await;
    generate(&s, owner_chat, "second portrait", AspectRatio::Stories).await;
    s.telegram.wait_for("sendPhoto", 2, PATIENCE).await;
    settle_jobs(&s.app).await;
    let rows = generations_of(&s.app, owner).await;
    let (first, second) = (rows[0].clone(), rows[1].clone());
    assert!(
        rows.iter()
            .all(|r| r.status == GenerationStatus::Completed.into())
    );

    // Newest first, shown by Telegram's file id: nothing is uploaded again.
    from_main_menu(&s.app, &s.telegram, owner_chat, "My gallery").await;
    let shown = s
        .telegram
        .calls_to("sendPhoto")
        .last()
        .unwrap()
        .body
        .clone();
    assert_eq!(shown["photo"].as_str(), second.telegram_file_id.as_deref());
    assert!(shown["caption"].as_str().unwrap().contains("9:16"));
    let nav = shown["reply_markup"]["inline_keyboard"][0].clone();
    assert_eq!(nav[1]["text"], "1/2");
    let (first_id, all) = (GenerationId(first.id), GalleryFilter::All);
    let to_first = Callback::Gallery(GalleryAction::Card(first_id, all)).encode();
    assert_eq!(nav[2]["callback_data"], to_first, "▶ goes to the older one");

    // Favourite the older one, the favourites filter, its prompt, and the figures.
    s.app.send(&press(&s.telegram, owner_chat, "▶")).await;
    s.app
        .send(&press(&s.telegram, owner_chat, "Add to favourites"))
        .await;
    s.app.send(&press(&s.telegram, owner_chat, "Filter")).await;
    s.app
        .send(&press(&s.telegram, owner_chat, "❤️ Favourites"))
        .await;
    assert!(
        last_text(&s.telegram).starts_with("❤️ <b>Ann</b> · 1:1"),
        "{}",
        last_text(&s.telegram)
    );
    s.app
        .send(&press(&s.telegram, owner_chat, "📝 Prompt"))
        .await;
    assert!(last_text(&s.telegram).contains("first &lt;portrait&gt;"));
    s.app.send(&press(&s.telegram, owner_chat, "Stats")).await;
    let stats = last_text(&s.telegram);
    for part in [
        "Images: 2",
        "Favourites: 1",
        "Avatars used: 1",
        "images: 10",
    ] {
        assert!(stats.contains(part), "{part} in {stats}");
    }

    // Another person's ids are "not found", whatever they forge.
    for forged in [
        Callback::Gallery(GalleryAction::Card(first_id, all)),
        Callback::Gallery(GalleryAction::Favourite(first_id, all)),
        Callback::Gallery(GalleryAction::DeleteConfirmed(first_id, all)),
        Callback::Generate(GenerateAction::ShowPrompt(first_id)),
        Callback::Generate(GenerateAction::Again(first_id)),
    ] {
        let data = forged.encode();
        s.app.send(&tap(next_id(), stranger, &data)).await;
        assert!(
            last_text(&s.telegram).contains("was not found"),
            "{data}: {}",
            last_text(&s.telegram)
        );
    }
    assert_eq!(generations_of(&s.app, owner).await.len(), 2);
    assert!(
        generations_of(&s.app, owner).await[0].is_favourite,
        "untouched by the stranger"
    );

    // Delete asks first, then removes the row and the stored file.
    let key = first.result_key.clone().unwrap();
    assert!(s.app.storage.join(&key).exists());
    from_main_menu(&s.app, &s.telegram, owner_chat, "My gallery").await;
    s.app.send(&press(&s.telegram, owner_chat, "▶")).await;
    s.app
        .send(&press(&s.telegram, owner_chat, "🗑 Delete"))
        .await;
    assert!(last_text(&s.telegram).contains("Delete this image?"));
    s.app
        .send(&press(&s.telegram, owner_chat, "Yes, delete"))
        .await;
    assert!(last_text(&s.telegram).contains("Image deleted"));
    assert_eq!(generations_of(&s.app, owner).await.len(), 1);
    assert!(!s.app.storage.join(&key).exists(), "stored file removed");
    s.app.stop().await;
}

#[tokio::test]
async fn quick_mode_skips_the_picker_with_the_default_ratio() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7403;
    member(&s, user, AvatarStatus::Completed, 10).await;
    let owner = user_id(&s.app, user).await;
    s.app.send(&press(&s.telegram, user, "Profile")).await;
    s.app.send(&press(&s.telegram, user, "Settings")).await;
    s.app.send(&press(&s.telegram, user, "16:9")).await;
    s.app
        .send(&press(&s.telegram, user, "Quick mode: off"))
        .await;
    let settings = s.telegram.calls().last().unwrap().body["reply_markup"].to_string();
    assert!(
        settings.contains("✓ 🎬 16:9") && settings.contains("Quick mode: on"),
        "{settings}"
    );
    from_main_menu(&s.app, &s.telegram, user, "Create image").await;
    s.app.send(&press(&s.telegram, user, "Custom prompt")).await;
    s.app
        .send(&text(next_id(), user, "en", "a portrait at dusk"))
        .await;
    assert!(
        !texts_to(&s.telegram, user)
            .iter()
            .any(|t| t.contains("frame format"))
    );
    let submitted = s.fal.wait_for_submissions(1, PATIENCE).await;
    assert_eq!(submitted[0].input["image_size"], "landscape_16_9");
    settle_jobs(&s.app).await;
    assert_eq!(balance(&s.app, owner).await, Credits::new(5));
    s.app.stop().await;
}

#[tokio::test]
async fn prompts_outside_the_bounds_get_a_clear_line() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7404;
    member(&s, user, AvatarStatus::Completed, 10).await;
    s.app.send(&press(&s.telegram, user, "Create image")).await;
    s.app.send(&press(&s.telegram, user, "Custom prompt")).await;
    s.app.send(&text(next_id(), user, "en", "ab")).await;
    assert!(last_text(&s.telegram).contains("too short"));
    s.app
        .send(&text(next_id(), user, "en", &"x".repeat(1001)))
        .await;
    assert!(
        last_text(&s.telegram).contains("1001"),
        "{}",
        last_text(&s.telegram)
    );
    // A stale ratio button (no prompt waiting) queues nothing.
    s.app.send(&text(next_id(), user, "en", "/start")).await;
    let stale = next_id();
    let square = Callback::Generate(GenerateAction::Ratio(AspectRatio::Square)).encode();
    s.app.send(&tap(stale, user, &square)).await;
    assert!(
        last_text(&s.telegram).contains("outdated"),
        "{}",
        last_text(&s.telegram)
    );
    // One answer per press, Telegram takes no second: the toast is in it.
    let answers: Vec<_> = s
        .telegram
        .calls_to("answerCallbackQuery")
        .into_iter()
        .filter(|c| c.body["callback_query_id"] == format!("q{stale}"))
        .collect();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].body["text"], "Outdated button");
    assert!(
        generations_of(&s.app, user_id(&s.app, user).await)
            .await
            .is_empty()
    );
    s.app.stop().await;
}

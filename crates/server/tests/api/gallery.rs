//! The results gallery and the generation settings, through the webhook.

use studio_domain::{AspectRatio, AvatarStatus, Credits, GenerationStatus};
use studio_testkit::TestDb;

use crate::generation::{
    balance, generate, generations_of, member, next_id, settle_jobs, studio, texts_to, user_id,
};
use crate::support::{PATIENCE, last_text, tap, text};

studio_testkit::on_both_backends!(the_gallery_is_the_owners_alone_and_delete_removes_the_file);

async fn the_gallery_is_the_owners_alone_and_delete_removes_the_file(db: TestDb) {
    let s = studio(db, |_| {}).await;
    let (owner_chat, stranger) = (7401, 7402);
    member(&s, owner_chat, AvatarStatus::Completed, 20).await;
    member(&s, stranger, AvatarStatus::Completed, 0).await;
    let owner = user_id(&s.app, owner_chat).await;
    generate(&s.app, owner_chat, "first <portrait>", AspectRatio::Square).await;
    generate(&s.app, owner_chat, "second portrait", AspectRatio::Stories).await;
    s.telegram.wait_for("sendPhoto", 2, PATIENCE).await;
    settle_jobs(&s.app).await;
    let rows = generations_of(&s.app, owner).await;
    let (first, second) = (rows[0].clone(), rows[1].clone());
    assert!(
        rows.iter()
            .all(|r| r.status == GenerationStatus::Completed.into())
    );

    // Newest first, shown by Telegram's file id: nothing is uploaded again.
    s.app.send(&tap(next_id(), owner_chat, "1:m:gal")).await;
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
    assert_eq!(nav[2]["callback_data"], format!("1:r:c:{}:a", first.id));

    // Favourite, the favourites filter, and the figures.
    s.app
        .send(&tap(
            next_id(),
            owner_chat,
            &format!("1:r:fav:{}:a", first.id),
        ))
        .await;
    s.app.send(&tap(next_id(), owner_chat, "1:r:o:f")).await;
    assert!(
        last_text(&s.telegram).starts_with("❤️ <b>Ann</b> · 1:1"),
        "{}",
        last_text(&s.telegram)
    );
    s.app.send(&tap(next_id(), owner_chat, "1:r:st")).await;
    let stats = last_text(&s.telegram);
    for part in [
        "Images: 2",
        "Favourites: 1",
        "Avatars used: 1",
        "images: 10",
    ] {
        assert!(stats.contains(part), "{part} in {stats}");
    }
    s.app
        .send(&tap(next_id(), owner_chat, &format!("1:g:pr:{}", first.id)))
        .await;
    assert!(last_text(&s.telegram).contains("first &lt;portrait&gt;"));

    // Another person's ids are "not found", whatever they try.
    for data in [
        format!("1:r:c:{}:a", first.id),
        format!("1:r:fav:{}:a", first.id),
        format!("1:r:delok:{}:a", first.id),
        format!("1:g:pr:{}", first.id),
        format!("1:g:again:{}", first.id),
    ] {
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
    s.app
        .send(&tap(
            next_id(),
            owner_chat,
            &format!("1:r:del:{}:a", first.id),
        ))
        .await;
    assert!(last_text(&s.telegram).contains("Delete this image?"));
    s.app
        .send(&tap(
            next_id(),
            owner_chat,
            &format!("1:r:delok:{}:a", first.id),
        ))
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
    s.app.send(&tap(next_id(), user, "1:p:set")).await;
    s.app.send(&tap(next_id(), user, "1:p:ratio:4")).await;
    s.app.send(&tap(next_id(), user, "1:p:quick:1")).await;
    let settings = s.telegram.calls().last().unwrap().body["reply_markup"].to_string();
    assert!(
        settings.contains("✓ 🎬 16:9") && settings.contains("Quick mode: on"),
        "{settings}"
    );
    s.app.send(&tap(next_id(), user, "1:g:txt")).await;
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
    s.app.send(&tap(next_id(), user, "1:g:txt")).await;
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
    s.app.send(&tap(next_id(), user, "1:m:main")).await;
    let stale = next_id();
    s.app.send(&tap(stale, user, "1:g:r:0")).await;
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

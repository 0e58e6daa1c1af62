//! The avatar wizard and gallery through the real webhook, with a fake Bot API that serves
//! `getFile` and downloads of images generated here.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};
use studio_bot_ui::{AvatarAction, Callback, CardAction, DraftAction};
use studio_domain::{AvatarId, AvatarStatus, ChatId};
use studio_persistence::OutboxState;
use studio_persistence::repos::{avatars, outbox, photos};
use studio_server::app::Workers;
use studio_testkit::{Backend, FakeTelegram, TestDb, on_both_backends};

use crate::support::{
    TestApp, document_message, fresh, from_main_menu, image, last_text, message, person,
    photo_message, press, start_draft, stored_files, user_id,
};

static NEXT_UPDATE: AtomicI64 = AtomicI64::new(1_000);

fn next_id() -> i64 {
    NEXT_UPDATE.fetch_add(1, Ordering::Relaxed)
}

/// A press of a button the person never received (forged or tampered), by its data.
fn tap(user: i64, data: &str) -> Value {
    json!({"update_id": next_id(), "callback_query": {"id": format!("q{}", next_id()), "from": person(user, "en"),
        "message": {"message_id": 1, "date": 1_700_000_000, "chat": {"id": user, "type": "private"}, "text": "screen"},
        "chat_instance": "1", "data": data}})
}

/// What a completed training writes besides the status: the weights and their phrase.
async fn finish_training(app: &TestApp, avatar: AvatarId) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use studio_persistence::entities::avatars as rows;
    rows::Entity::update_many()
        .col_expr(
            rows::Column::LoraUrl,
            Expr::value("https://lora.invalid/anna"),
        )
        .col_expr(rows::Column::TriggerPhrase, Expr::value("tokanna"))
        .filter(rows::Column::Id.eq(avatar.0))
        .exec(&app.db)
        .await
        .expect("weights recorded");
}

on_both_backends!(the_wizard_takes_good_photos_and_refuses_bad_ones);

async fn the_wizard_takes_good_photos_and_refuses_bad_ones(db: TestDb) {
    use image::ImageFormat::{Jpeg, Png, WebP};
    let telegram = FakeTelegram::start().await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 900;
    let avatar = start_draft(&app, &telegram, user).await;
    let owner = user_id(&app, user).await;

    // Ten good ones: JPEG as compressed photos, PNG and WEBP as files.
    for i in 0..10u8 {
        let update = match i % 3 {
            0 => photo_message(
                &telegram,
                user,
                &format!("good{i}"),
                image(Jpeg, 600, 800, i),
            ),
            1 => document_message(
                &telegram,
                user,
                &format!("good{i}"),
                "a.png",
                "image/png",
                image(Png, 640, 640, i),
            ),
            _ => document_message(
                &telegram,
                user,
                &format!("good{i}"),
                "a.webp",
                "image/webp",
                image(WebP, 800, 600, i),
            ),
        };
        app.send(&update).await;
    }
    let draft = avatars::find_owned(&app.db, owner, avatar)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(draft.status, AvatarStatus::ReadyForTraining);
    assert_eq!(photos::count(&app.db, &draft).await.unwrap(), 10);
    assert!(
        last_text(&telegram).contains("10/20 uploaded"),
        "{}",
        last_text(&telegram)
    );
    // The progress message (not the instructions above it) was sent once, then edited.
    let is_progress = |c: &&studio_testkit::Call| {
        let text = c.body["text"].as_str().unwrap_or("");
        text.contains("/20 uploaded") && !text.contains("Photos for")
    };
    let progress_sends = telegram
        .calls_to("sendMessage")
        .iter()
        .filter(is_progress)
        .count();
    let progress_edits = telegram
        .calls_to("editMessageText")
        .iter()
        .filter(is_progress)
        .count();
    assert_eq!((progress_sends, progress_edits), (1, 9));

    let refusals: [(Value, &str); 5] = [
        (
            photo_message(&telegram, user, "small", image(Png, 300, 300, 1)),
            "too small (300×300)",
        ),
        // Under 1 KB as a file, 335 MB decoded at 16 bits a channel: refused from its header.
        (
            document_message(
                &telegram,
                user,
                "deep",
                "deep.png",
                "image/png",
                studio_testkit::png_header_only(6480, 6470, 16, 6),
            ),
            "too large to process (6480×6470 px)",
        ),
        (
            photo_message(&telegram, user, "dup", image(Jpeg, 600, 800, 0)),
            "already uploaded",
        ),
        (
            document_message(
                &telegram,
                user,
                "pdf",
                "cv.pdf",
                "application/pdf",
                b"%PDF-1.7\n%fake".to_vec(),
            ),
            "not an image",
        ),
        (
            document_message(
                &telegram,
                user,
                "txt",
                "me.jpg",
                "image/jpeg",
                b"just some text, honestly".to_vec(),
            ),
            "not an image",
        ),
    ];
    for (update, expected) in refusals {
        app.send(&update).await;
        let text = last_text(&telegram);
        assert!(text.contains(expected), "expected {expected:?} in {text:?}");
        assert_eq!(text.lines().count(), 1, "one line: {text}");
    }
    assert_eq!(
        photos::count(&app.db, &draft).await.unwrap(),
        10,
        "refused photos are not stored"
    );
    assert_eq!(stored_files(&app, avatar), 10);

    for i in 10..20u8 {
        app.send(&photo_message(
            &telegram,
            user,
            &format!("more{i}"),
            image(Jpeg, 600, 800, i),
        ))
        .await;
    }
    app.send(&photo_message(
        &telegram,
        user,
        "twenty-first",
        image(Jpeg, 600, 800, 99),
    ))
    .await;
    assert!(
        last_text(&telegram).contains("20 photos are uploaded, the maximum"),
        "{}",
        last_text(&telegram)
    );
    assert_eq!(photos::count(&app.db, &draft).await.unwrap(), 20);
    assert_eq!(
        stored_files(&app, avatar),
        20,
        "the 21st photo's bytes are gone again"
    );

    // Review shows the missing credits (balance 0, training costs 150).
    app.send(&press(&telegram, user, "Review and train")).await;
    assert!(
        last_text(&telegram).contains("150 credits missing"),
        "{}",
        last_text(&telegram)
    );
    app.stop().await;
}

/// Telegram's file ids are typed: a photo sent as a file has a document's id, which cannot be
/// shown as a photo. Such photos are shown from our storage once, then by the photo id
/// Telegram gave that upload.
#[tokio::test]
async fn photos_sent_as_files_are_shown_from_our_storage() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 906;
    let avatar = start_draft(&app, &telegram, user).await;
    for i in 0..2u8 {
        let png = image(image::ImageFormat::Png, 640, 640, i);
        let name = format!("file{i}");
        app.send(&document_message(
            &telegram,
            user,
            &name,
            "a.png",
            "image/png",
            png,
        ))
        .await;
    }
    let shown = |telegram: &FakeTelegram| telegram.calls().last().unwrap().clone();
    from_main_menu(&app, &telegram, user, "My avatars").await;
    let card = shown(&telegram);
    assert_eq!(card.method, "sendPhoto");
    assert!(
        card.body["photo"].as_str().unwrap().starts_with("upload:"),
        "the card uploads the stored file: {:?}",
        card.body
    );
    // The photo id Telegram answered with is the one shown from now on.
    app.send(&press(&telegram, user, "Main menu")).await;
    app.send(&press(&telegram, user, "My avatars")).await;
    let again = shown(&telegram);
    let remembered = again.body["photo"].as_str().unwrap();
    assert!(remembered.starts_with("photo-"), "{:?}", again.body);

    // The photo browser shows the first by the id just kept, then edits photo into photo:
    // the second, never shown, uploaded from storage, its photo id kept in turn.
    app.send(&press(&telegram, user, "Continue")).await;
    app.send(&press(&telegram, user, "Uploaded photos")).await;
    let page = shown(&telegram);
    assert_eq!(page.method, "sendPhoto", "{page:?}");
    assert_eq!(page.body["photo"], remembered);
    let draft = avatars::find_owned(&app.db, user_id(&app, user).await, avatar)
        .await
        .unwrap()
        .unwrap();
    app.send(&press(&telegram, user, "▶")).await;
    let page = shown(&telegram);
    assert_eq!(page.method, "editMessageMedia", "{page:?}");
    assert_eq!(page.body["media"]["media"], "attach://photo");
    let caption = page.body["media"]["caption"].as_str().unwrap();
    assert!(caption.contains("Photo 2/2"), "{caption}");
    let kept = photos::list(&app.db, &draft).await.unwrap()[1]
        .photo_file_id
        .clone();
    assert!(kept.is_some_and(|id| id.starts_with("photo-")));
    app.stop().await;
}

/// A bot cannot delete its messages after 48 h. A screen that replaces an older card is sent
/// anyway, and the refused delete is settled, not retried or dead-lettered.
#[tokio::test]
async fn a_card_older_than_two_days_stays_and_the_next_screen_comes() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 907;
    start_draft(&app, &telegram, user).await;
    let jpeg = image(image::ImageFormat::Jpeg, 600, 800, 1);
    app.send(&photo_message(&telegram, user, "old-card", jpeg))
        .await;
    from_main_menu(&app, &telegram, user, "My avatars").await;
    let card = telegram.calls().last().unwrap().clone();
    assert_eq!(card.method, "sendPhoto");
    telegram.advance_clock(std::time::Duration::from_secs(49 * 3600));
    let deletes = telegram.count("deleteMessage");

    let mut main_menu = press(&telegram, user, "Main menu");
    main_menu["callback_query"]["message"]["message_id"] = telegram.last_sent_message_id().into();
    app.send(&main_menu).await;
    assert_eq!(telegram.refusals("deleteMessage"), 1);
    assert_eq!(telegram.count("deleteMessage"), deletes + 1, "not retried");
    let menu = telegram.calls().last().unwrap().clone();
    assert_eq!(menu.method, "sendMessage", "{menu:?}");
    let rows = outbox::for_chat(&app.db, ChatId(user)).await.unwrap();
    let unsent: Vec<_> = rows
        .iter()
        .filter(|r| r.state != OutboxState::Sent)
        .collect();
    assert!(
        unsent.is_empty(),
        "{:?}",
        unsent.iter().map(|r| &r.last_error)
    );
    app.stop().await;
}

#[tokio::test]
async fn an_album_arriving_all_at_once_counts_each_photo_once() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 901;
    let avatar = start_draft(&app, &telegram, user).await;
    let album: Vec<Value> = (0..5u8)
        .map(|i| {
            let mut update = photo_message(
                &telegram,
                user,
                &format!("album{i}"),
                image(image::ImageFormat::Jpeg, 600, 800, i),
            );
            update["message"]["media_group_id"] = "album-1".into();
            update
        })
        .collect();
    for status in app.post_concurrently(&album).await {
        assert_eq!(status, 200);
    }
    app.settle().await;
    let owner = user_id(&app, user).await;
    let draft = avatars::find_owned(&app.db, owner, avatar)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(photos::count(&app.db, &draft).await.unwrap(), 5);
    assert_eq!(draft.status, AvatarStatus::PhotosUploading);
    app.stop().await;
}

#[tokio::test]
async fn another_users_avatar_behaves_like_a_missing_one() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let (alice, mallory) = (902, 903);
    let avatar = start_draft(&app, &telegram, alice).await;
    app.send(&message(mallory, json!({"text": "/start"}))).await;
    // Buttons Mallory never received, forged with Alice's avatar id.
    let forged = [
        AvatarAction::Card(avatar, CardAction::Rename),
        AvatarAction::Card(avatar, CardAction::Delete),
        AvatarAction::Card(avatar, CardAction::DeleteConfirmed),
        AvatarAction::Card(avatar, CardAction::MakeMain),
        AvatarAction::Draft(avatar, DraftAction::Continue),
        AvatarAction::Draft(avatar, DraftAction::Review),
        AvatarAction::Draft(avatar, DraftAction::CancelConfirmed),
        AvatarAction::Card(avatar, CardAction::Show),
    ];
    for action in forged {
        app.send(&tap(mallory, &Callback::Avatar(action).encode()))
            .await;
        assert!(
            last_text(&telegram).contains("Avatar not found"),
            "{action:?}: {}",
            last_text(&telegram)
        );
    }
    // A tampered id that exists nowhere reads the same.
    let nowhere = AvatarAction::Card(AvatarId(987_654_321), CardAction::Show);
    app.send(&tap(mallory, &Callback::Avatar(nowhere).encode()))
        .await;
    assert!(last_text(&telegram).contains("Avatar not found"));
    let owner = user_id(&app, alice).await;
    let still = avatars::find_owned(&app.db, owner, avatar)
        .await
        .unwrap()
        .expect("untouched");
    assert_eq!(still.name, "Anna");
    app.stop().await;
}

#[tokio::test]
async fn deleting_an_avatar_removes_its_rows_and_files() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 904;
    let avatar = start_draft(&app, &telegram, user).await;
    for i in 0..3u8 {
        app.send(&photo_message(
            &telegram,
            user,
            &format!("del{i}"),
            image(image::ImageFormat::Jpeg, 600, 800, i),
        ))
        .await;
    }
    assert_eq!(stored_files(&app, avatar), 3);
    from_main_menu(&app, &telegram, user, "My avatars").await;
    app.send(&press(&telegram, user, "Delete")).await;
    assert!(
        last_text(&telegram).contains("This deletes its 3 photos, 0 generated images"),
        "{}",
        last_text(&telegram)
    );
    app.send(&press(&telegram, user, "Yes, delete")).await;
    assert!(last_text(&telegram).contains("Avatar deleted"));
    let owner = user_id(&app, user).await;
    assert!(
        avatars::find_owned(&app.db, owner, avatar)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stored_files(&app, avatar), 0);
    app.stop().await;
}

#[tokio::test]
async fn the_gallery_pages_by_id_and_renames() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 905;
    let avatar = start_draft(&app, &telegram, user).await;
    app.send(&photo_message(
        &telegram,
        user,
        "g0",
        image(image::ImageFormat::Jpeg, 600, 800, 0),
    ))
    .await;
    from_main_menu(&app, &telegram, user, "My avatars").await;
    let card = telegram.calls().last().unwrap().clone();
    assert_eq!(
        card.method, "sendPhoto",
        "a card with a photo replaces the text screen"
    );
    assert_eq!(card.body["photo"], "g0");
    assert!(
        card.body["caption"]
            .as_str()
            .unwrap()
            .contains("Uploading photos")
    );
    app.send(&press(&telegram, user, "Rename")).await;
    app.send(&message(user, json!({"text": "Anna Two"}))).await;
    assert!(
        last_text(&telegram).contains("now called «<b>Anna Two</b>»"),
        "{}",
        last_text(&telegram)
    );
    // Photos one by one, then delete the only one: the draft goes back to `draft`.
    from_main_menu(&app, &telegram, user, "My avatars").await;
    app.send(&press(&telegram, user, "Continue")).await;
    app.send(&press(&telegram, user, "Uploaded photos")).await;
    assert!(last_text(&telegram).contains("Photo 1/1"));
    app.send(&press(&telegram, user, "Delete photo")).await;
    assert!(last_text(&telegram).contains("No photos uploaded yet"));
    let owner = user_id(&app, user).await;
    let draft = avatars::find_owned(&app.db, owner, avatar)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(draft.status, AvatarStatus::Draft);
    assert_eq!(stored_files(&app, avatar), 0);
    app.stop().await;
}

#[tokio::test]
async fn a_completed_avatar_becomes_main_and_generate_keeps_it_main() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let app = TestApp::spawn(&db, &telegram, Workers::All).await;
    let user = 906;
    let draft = start_draft(&app, &telegram, user).await;
    let owner = user_id(&app, user).await;
    // Trained avatars come from the training issue; here the repositories make one.
    let done = avatars::create_draft(
        &app.db,
        owner,
        &studio_domain::AvatarName::parse("Done").unwrap(),
        studio_domain::Gender::Male,
    )
    .await;
    assert!(done.is_err(), "one open draft per user");
    for status in [
        AvatarStatus::PhotosUploading,
        AvatarStatus::ReadyForTraining,
        AvatarStatus::Training,
        AvatarStatus::Completed,
    ] {
        avatars::change_status(&app.db, owner, draft, status)
            .await
            .unwrap();
    }
    finish_training(&app, draft).await;
    from_main_menu(&app, &telegram, user, "My avatars").await;
    let card = last_text(&telegram);
    assert!(card.contains("Ready") && !card.contains("⭐"), "{card}");
    app.send(&press(&telegram, user, "Make main")).await;
    let toast = telegram
        .calls_to("answerCallbackQuery")
        .last()
        .unwrap()
        .body["text"]
        .clone();
    assert_eq!(toast, "⭐ This is your main avatar now");
    assert!(
        last_text(&telegram).starts_with("⭐ "),
        "{}",
        last_text(&telegram)
    );
    app.send(&press(&telegram, user, "Generate")).await;
    assert!(
        last_text(&telegram).contains("Anna"),
        "the menu is for the avatar whose card it was opened from: {}",
        last_text(&telegram)
    );
    assert!(
        avatars::find_owned(&app.db, owner, draft)
            .await
            .unwrap()
            .unwrap()
            .is_main
    );
    app.stop().await;
}

/// A download that hangs holds neither the other updates of its batch nor its claim: it is
/// given half the lease, then counts as a failed attempt and is tried again.
#[tokio::test]
async fn a_hanging_download_is_timed_out_and_retried_while_others_go_on() {
    let (db, telegram) = fresh(Backend::Sqlite).await;
    let mut config = crate::support::config(&db.url, &telegram.url);
    config.lease_secs = 2;
    let app = TestApp::spawn_with(config, Workers::All).await;
    let (user, other) = (908, 909);
    start_draft(&app, &telegram, user).await;
    let jpeg = image(image::ImageFormat::Jpeg, 600, 800, 3);
    let slow = photo_message(&telegram, user, "slow-photo", jpeg);
    telegram.stall_next_download("slow-photo", std::time::Duration::from_secs(5));
    let hello = message(other, json!({"text": "/start"}));
    for status in app.post_concurrently(&[slow, hello]).await {
        assert_eq!(status, 200);
    }
    app.settle().await;
    // The other chat was answered, and the photo arrived on its second try.
    assert!(
        telegram
            .calls_to("sendMessage")
            .iter()
            .any(|c| c.body["chat_id"] == other)
    );
    let owner = user_id(&app, user).await;
    let draft = avatars::list_owned(&app.db, owner).await.unwrap().remove(0);
    assert_eq!(photos::count(&app.db, &draft).await.unwrap(), 1);
    let downloads = telegram
        .calls_to("getFile")
        .iter()
        .filter(|c| c.body["file_id"] == "slow-photo")
        .count();
    assert_eq!(downloads, 2, "timed out once, then fetched");
    app.stop().await;
}

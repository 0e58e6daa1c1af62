//! People sending photos, files and texts, and the wizard that makes a draft of them.

use std::io::Cursor;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};
use studio_domain::AvatarId;
use studio_persistence::repos::avatars;
use studio_testkit::FakeTelegram;

use super::{TestApp, from_main_menu, last_text, press, user_id};

static NEXT_MESSAGE: AtomicI64 = AtomicI64::new(500_000_000);

fn next_id() -> i64 {
    NEXT_MESSAGE.fetch_add(1, Ordering::Relaxed)
}

fn sender(user: i64) -> Value {
    json!({"id": user, "is_bot": false, "first_name": "Anna", "language_code": "en"})
}

pub fn message(user: i64, body: Value) -> Value {
    let mut message = json!({"message_id": next_id(), "date": 1_700_000_000, "from": sender(user),
        "chat": {"id": user, "type": "private"}});
    message
        .as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    json!({"update_id": next_id(), "message": message})
}

/// A real image of `w`×`h` whose pixels depend on `seed`, so every seed is a different file.
pub fn image(format: image::ImageFormat, w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([seed, (x % 251) as u8, (y % 241) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn photo_message(telegram: &FakeTelegram, user: i64, file_id: &str, bytes: Vec<u8>) -> Value {
    let size = bytes.len();
    telegram.add_file(file_id, bytes);
    message(
        user,
        json!({"photo": [
        {"file_id": format!("{file_id}-thumb"), "file_unique_id": "t", "width": 90, "height": 120},
        {"file_id": file_id, "file_unique_id": file_id, "width": 600, "height": 800, "file_size": size}]}),
    )
}

pub fn document_message(
    telegram: &FakeTelegram,
    user: i64,
    file_id: &str,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> Value {
    let size = bytes.len();
    telegram.add_document(file_id, bytes);
    message(
        user,
        json!({"document": {"file_id": file_id, "file_unique_id": file_id,
        "file_name": name, "mime_type": mime, "file_size": size}}),
    )
}

/// Runs the wizard up to an empty draft named "Anna"; returns its id.
pub async fn start_draft(app: &TestApp, telegram: &FakeTelegram, user: i64) -> AvatarId {
    from_main_menu(app, telegram, user, "My avatars").await;
    app.send(&press(telegram, user, "Create avatar")).await;
    assert!(last_text(telegram).contains("Who is in the photos?"));
    app.send(&press(telegram, user, "Female")).await;
    assert!(last_text(telegram).contains("What shall we call"));
    app.send(&message(user, json!({"text": "x"}))).await;
    assert!(
        last_text(telegram).contains("too short"),
        "{}",
        last_text(telegram)
    );
    app.send(&message(user, json!({"sticker": {"file_id": "s"}})))
        .await;
    assert!(last_text(telegram).contains("as text"));
    app.send(&message(user, json!({"text": "  Anna  "}))).await;
    assert!(
        last_text(telegram).contains("Photos for «Anna»"),
        "{}",
        last_text(telegram)
    );
    let owner = user_id(app, user).await;
    let draft = avatars::find_open_draft(&app.db, owner)
        .await
        .unwrap()
        .expect("draft row");
    assert_eq!(draft.name, "Anna");
    draft.id
}

pub fn stored_files(app: &TestApp, avatar: AvatarId) -> usize {
    std::fs::read_dir(app.storage.join("avatars").join(avatar.to_string())).map_or(0, |d| d.count())
}

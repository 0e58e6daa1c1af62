//! The style library through the webhook: a style generates with the avatar's trigger phrase
//! for the normal price and shows its name; a pack is debited once, arrives in albums, and
//! refunds the share of an image that failed.

use serde_json::Value;
use studio_bot_ui::{Callback, StyleAction};
use studio_domain::styles::StyleKey;
use studio_domain::{AspectRatio, AvatarStatus, Credits, GenerationStatus, LedgerKind};
use studio_persistence::repos::{generations, styles};
use studio_testkit::{FalOutcome, TestDb};

use crate::support::{
    PATIENCE, TRIGGER, balance, calls_to, entries, ever_had_button, from_generation_menu,
    from_main_menu, generations_of, last_text, member, next_id, press, settle_jobs, studio, tap,
    user_id,
};

studio_testkit::on_both_backends!(a_style_generates_with_the_trigger_and_the_gallery_names_it);

async fn a_style_generates_with_the_trigger_and_the_gallery_names_it(db: TestDb) {
    let s = studio(db, |_| {}).await;
    let user = 7801;
    member(&s, user, AvatarStatus::Completed, 100).await;
    let owner = user_id(&s.app, user).await;
    from_generation_menu(&s, user, "Styles").await;
    assert!(last_text(&s.telegram).contains("Style library"));
    s.app.send(&press(&s.telegram, user, "Business")).await;
    s.app
        .send(&press(&s.telegram, user, "Corporate headshot"))
        .await;
    assert!(last_text(&s.telegram).contains("Corporate headshot"));
    s.app
        .send(&press(&s.telegram, user, "Add to My styles"))
        .await;
    assert!(crate::support::button(&s.telegram, "Remove from My styles").starts_with("1:s:fav:"));
    s.app.send(&press(&s.telegram, user, "Generate")).await;

    let submitted = s.fal.wait_for_submissions(1, PATIENCE).await;
    let input = &submitted[0].input;
    let prompt = input["prompt"].as_str().unwrap();
    assert!(
        prompt.contains(&format!("headshot of {TRIGGER}, a woman")),
        "{prompt}"
    );
    assert_eq!(input["image_size"], "portrait_4_3", "the style's ratio");
    assert_eq!(input["guidance_scale"], 4.0, "the style's guidance");
    s.telegram.wait_for("sendPhoto", 1, PATIENCE).await;
    let photo = calls_to(&s.telegram, user, "sendPhoto").remove(0);
    let caption = photo["caption"].as_str().unwrap();
    assert!(
        caption.contains("🎭 <b>Corporate headshot</b>"),
        "{caption}"
    );
    assert!(
        !caption.contains("tailored"),
        "the style's name, not its prompt: {caption}"
    );
    let buttons = photo["reply_markup"].to_string();
    assert!(
        buttons.contains("Again") && !buttons.contains("Prompt"),
        "{buttons}"
    );

    s.app.send(&press(&s.telegram, user, "Again")).await;
    s.telegram.wait_for("sendPhoto", 2, PATIENCE).await;
    settle_jobs(&s.app).await;
    let rows = generations_of(&s.app, owner).await;
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.style_key.as_deref(), Some("business.headshot"));
        assert_eq!(
            GenerationStatus::from(row.status),
            GenerationStatus::Completed
        );
        assert_eq!(row.cost, 5, "the normal price");
    }
    assert_eq!(balance(&s.app, owner).await, Credits::new(90));

    from_main_menu(&s.app, &s.telegram, user, "My gallery").await;
    let card = last_text(&s.telegram);
    assert!(card.contains("🎭 Corporate headshot"), "{card}");

    from_generation_menu(&s, user, "Styles").await;
    s.app.send(&press(&s.telegram, user, "My styles")).await;
    let mine = crate::support::button(&s.telegram, "Corporate headshot");
    assert!(mine.starts_with("1:s:v:business.headshot"), "{mine}");
    s.app.stop().await;
}

studio_testkit::on_both_backends!(a_pack_is_debited_once_arrives_in_albums_and_refunds_a_failure);

async fn a_pack_is_debited_once_arrives_in_albums_and_refunds_a_failure(db: TestDb) {
    let s = studio(db, |config| {
        config.style_pack_prices = "business:18".parse().unwrap();
    })
    .await;
    let user = 7802;
    member(&s, user, AvatarStatus::Completed, 100).await;
    let owner = user_id(&s.app, user).await;
    for outcome in [FalOutcome::Image, FalOutcome::Error(500)] {
        s.fal.push_outcome(outcome);
    }
    from_generation_menu(&s, user, "Styles").await;
    s.app.send(&press(&s.telegram, user, "Packs")).await;
    s.app
        .send(&press(&s.telegram, user, "Business headshots ×6 · 18"))
        .await;
    assert!(last_text(&s.telegram).contains("Price: <b>18</b>"));
    let order = press(&s.telegram, user, "Order for 18");
    s.app.send(&order).await;
    // The same button again (a double tap) orders nothing more.
    let mut again = order.clone();
    again["update_id"] = next_id().into();
    again["callback_query"]["id"] = "second-press".into();
    s.app.send(&again).await;

    settle_jobs(&s.app).await;
    let rows = generations_of(&s.app, owner).await;
    assert_eq!(rows.len(), 6, "one job per style, ordered once");
    assert!(
        rows.iter()
            .all(|r| r.pack_id.is_some() && r.style_key.is_some())
    );
    assert!(rows.iter().all(|r| r.cost == 3), "18 shared by 6");
    let failed = rows
        .iter()
        .filter(|r| GenerationStatus::from(r.status) == GenerationStatus::Failed)
        .count();
    assert_eq!(failed, 1);
    assert_eq!(entries(&s.app, owner, LedgerKind::GenerationDebit).await, 1);
    assert_eq!(
        entries(&s.app, owner, LedgerKind::GenerationRefund).await,
        1
    );
    assert_eq!(
        balance(&s.app, owner).await,
        Credits::new(85),
        "the failed share back"
    );

    let albums = calls_to(&s.telegram, user, "sendMediaGroup");
    let singles: Vec<Value> = calls_to(&s.telegram, user, "sendPhoto");
    assert!(!albums.is_empty(), "images arrive as albums");
    let mut delivered = singles.len();
    for album in &albums {
        let media = album["media"].as_array().unwrap();
        assert!((2..=10).contains(&media.len()), "{album}");
        assert!(
            media[0]["caption"]
                .as_str()
                .unwrap()
                .contains("Business headshots")
        );
        assert!(
            media[1..].iter().all(|m| m.get("caption").is_none()),
            "one caption"
        );
        delivered += media.len();
    }
    assert_eq!(delivered, 5, "every finished image once");
    assert!(
        rows.iter()
            .filter(|r| r.result_key.is_some())
            .all(|r| r.telegram_file_id.is_some()),
        "albums remember their photos' ids"
    );

    let progress = calls_to(&s.telegram, user, "sendMessage")
        .into_iter()
        .filter(|m| m["text"].as_str().unwrap().contains("of 6 ready"))
        .count();
    assert_eq!(progress, 1, "one progress message");
    let last_edit = calls_to(&s.telegram, user, "editMessageText")
        .pop()
        .expect("progress edited in place");
    let text = last_edit["text"].as_str().unwrap();
    assert!(text.contains("is done: 5 of 6"), "{text}");
    assert!(text.contains("1 failed, 3 credits refunded"), "{text}");
    s.app.stop().await;
}

#[tokio::test]
async fn a_disabled_style_is_hidden_with_its_packs_and_its_old_button_is_stale() {
    let s = studio(TestDb::sqlite(), |_| {}).await;
    let user = 7803;
    let avatar = member(&s, user, AvatarStatus::Completed, 100).await;
    let owner = user_id(&s.app, user).await;
    let headshot = StyleKey::parse("business.headshot").unwrap();
    assert!(
        styles::set_disabled(&s.app.db, headshot, true)
            .await
            .unwrap()
    );
    // Someone made an executive portrait this week: it is listed first.
    let executive = generations::NewGeneration {
        user: owner,
        avatar,
        prompt_original: "executive portrait",
        prompt_english: "executive portrait",
        ratio: AspectRatio::Portrait,
        cost: Credits::ZERO,
        deadline: std::time::Duration::from_secs(600),
        style: StyleKey::parse("business.executive"),
    };
    generations::queue(&s.app.db, executive).await.unwrap();
    settle_jobs(&s.app).await;

    from_generation_menu(&s, user, "Styles").await;
    s.app.send(&press(&s.telegram, user, "Business")).await;
    let list = last_text(&s.telegram);
    assert!(list.contains("Business"), "{list}");
    let calls = s.telegram.calls();
    let keyboard = &calls.last().unwrap().body["reply_markup"]["inline_keyboard"];
    assert_eq!(
        keyboard[0][0]["text"], "Executive portrait",
        "popular first"
    );
    assert!(
        !ever_had_button(&s.telegram, "Corporate headshot"),
        "a disabled style is not listed"
    );
    s.app.send(&press(&s.telegram, user, "Styles")).await;
    s.app.send(&press(&s.telegram, user, "Packs")).await;
    assert!(ever_had_button(&s.telegram, "Holiday season"));
    assert!(
        !ever_had_button(&s.telegram, "Business headshots"),
        "a pack holding it is not sold"
    );

    let forged = Callback::Style(StyleAction::Generate(headshot, None)).encode();
    s.app.send(&tap(next_id(), user, &forged)).await;
    settle_jobs(&s.app).await;
    assert_eq!(
        generations_of(&s.app, owner).await.len(),
        1,
        "nothing queued"
    );
    assert!(
        last_text(&s.telegram).contains("outdated"),
        "{}",
        last_text(&s.telegram)
    );
    assert_eq!(balance(&s.app, owner).await, Credits::new(100));
    s.app.stop().await;
}

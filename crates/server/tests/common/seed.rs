//! Rows the training and operator flows would write, for tests and benchmarks that start at
//! generation: a trained main avatar, credits and quick mode per registered person.

use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use studio_domain::{AspectRatio, AvatarStatus, Credits, LedgerKind, TelegramUserId};
use studio_persistence::entities::avatars;
use studio_persistence::repos::{ledger, settings, users};

/// `lora_url` is where FAL finds the avatars' weights (a file on the fake FAL's CDN).
pub async fn ready_to_generate(
    conn: &DatabaseConnection,
    telegram_ids: &[i64],
    credits: u32,
    lora_url: &str,
) {
    for telegram_id in telegram_ids {
        let owner = users::find_by_telegram(conn, TelegramUserId(*telegram_id))
            .await
            .expect("users readable")
            .expect("registered by /start");
        let owner = owner.id;
        let now = chrono::Utc::now();
        let row = avatars::ActiveModel {
            user_id: Set(owner.0),
            name: Set("Kim".into()),
            gender: Set(studio_domain::Gender::Male.into()),
            status: Set(AvatarStatus::Completed.into()),
            is_main: Set(true),
            trigger_phrase: Set(Some(format!("tok{telegram_id}"))),
            lora_url: Set(Some(lora_url.to_owned())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        avatars::Entity::insert(row)
            .exec(conn)
            .await
            .expect("avatar stored");
        let key = format!("credit:{telegram_id}");
        let entry = ledger::Entry {
            user: owner,
            kind: LedgerKind::AdminCredit,
            amount: Credits::new(credits),
            key: &key,
            note: None,
        };
        ledger::book(conn, entry).await.expect("credit booked");
        let quick = settings::Settings {
            default_ratio: AspectRatio::Portrait,
            quick_mode: true,
        };
        settings::save(conn, owner, quick)
            .await
            .expect("settings stored");
    }
}

//! The repository suite, run on SQLite and on PostgreSQL (`TEST_DATABASE_URL`), a module per
//! part of the schema.
#![allow(clippy::unwrap_used)] // integration tests: a panic is the failure report

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use studio_domain::{
    AvatarId, AvatarName, AvatarStatus, ChatId, Credits, Gender, GenerationStatus, LedgerKind,
    TelegramUserId, UpdateId, UserId,
};
use studio_persistence::repos::{avatars, chat_state, inbox, ledger, outbox, users, workers};
use studio_persistence::{DbAvatarStatus, DbGenerationStatus, check_ready, enum_labels};
use studio_testkit::{TestDb, on_both_backends};

mod money;
mod people;
mod queues;
mod schema;

pub(crate) async fn migrated(db: &TestDb) -> DatabaseConnection {
    let conn = studio_persistence::connect(&db.url, 4)
        .await
        .expect("connect");
    studio_persistence::migrate_up(&conn)
        .await
        .expect("migrate up");
    conn
}

pub(crate) fn profile(telegram_id: i64) -> users::TelegramProfile {
    users::TelegramProfile {
        telegram_id: TelegramUserId(telegram_id),
        first_name: format!("User {telegram_id}"),
        last_name: None,
        username: Some(format!("user{telegram_id}")),
        language_code: Some("ru".into()),
        is_premium: false,
    }
}

pub(crate) async fn user(conn: &DatabaseConnection, telegram_id: i64) -> UserId {
    users::upsert(conn, &profile(telegram_id))
        .await
        .expect("upsert")
        .id
}

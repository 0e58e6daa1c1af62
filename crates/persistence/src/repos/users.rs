use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use studio_domain::{Language, TelegramUserId, UserId};

use crate::entities::active_enums::DbLanguage;

use crate::RepoError;
use crate::entities::users::{self, Entity as Users};

/// What Telegram tells us about a person on every update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramProfile {
    pub telegram_id: TelegramUserId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub is_premium: bool,
}

/// A person as use cases see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub telegram_id: TelegramUserId,
    pub first_name: String,
    pub username: Option<String>,
    /// Telegram's `language_code`, as it came.
    pub language_code: Option<String>,
    pub is_premium: bool,
    pub is_blocked: bool,
    /// The language chosen in settings, over Telegram's.
    pub ui_language: Option<Language>,
    pub created_at: chrono::DateTime<Utc>,
}

impl User {
    /// The language to talk to them in: the one chosen, else Telegram's guess.
    pub fn language(&self) -> Language {
        self.ui_language
            .unwrap_or_else(|| Language::from_telegram(self.language_code.as_deref()))
    }
}

impl From<users::Model> for User {
    fn from(row: users::Model) -> Self {
        Self {
            id: UserId(row.id),
            telegram_id: TelegramUserId(row.telegram_id),
            first_name: row.first_name,
            username: row.username,
            language_code: row.language_code,
            is_premium: row.is_premium,
            is_blocked: row.is_blocked,
            ui_language: row.ui_language.map(Language::from),
            created_at: row.created_at,
        }
    }
}

/// Registers the person or refreshes their profile; returns the stored row.
pub async fn upsert(db: &impl ConnectionTrait, p: &TelegramProfile) -> Result<User, RepoError> {
    // One round trip on both backends (SQLite ≥ 3.35 has RETURNING too).
    Ok(Users::insert(row(p, Utc::now()))
        .on_conflict(refresh())
        .exec_with_returning(db)
        .await?
        .into())
}

/// Registers or refreshes several people in one statement (a batch of updates); returns
/// their rows by Telegram id. Rows are written in Telegram-id order, so two batches sharing
/// people lock them in the same order and cannot deadlock.
pub async fn upsert_many(
    db: &impl ConnectionTrait,
    profiles: &[TelegramProfile],
) -> Result<HashMap<TelegramUserId, User>, RepoError> {
    // One row per person: an upsert may not touch a row twice in one statement.
    let mut unique: BTreeMap<i64, &TelegramProfile> = BTreeMap::new();
    for p in profiles {
        unique.insert(p.telegram_id.0, p);
    }
    if unique.is_empty() {
        return Ok(HashMap::new());
    }
    let now = Utc::now();
    let rows = unique.values().map(|p| row(p, now));
    let stored = Users::insert_many(rows)
        .on_conflict(refresh())
        .exec_with_returning(db)
        .await?;
    Ok(stored
        .into_iter()
        .map(|row| (TelegramUserId(row.telegram_id), User::from(row)))
        .collect())
}

fn row(p: &TelegramProfile, now: chrono::DateTime<Utc>) -> users::ActiveModel {
    users::ActiveModel {
        telegram_id: Set(p.telegram_id.0),
        first_name: Set(p.first_name.clone()),
        last_name: Set(p.last_name.clone()),
        username: Set(p.username.clone()),
        language_code: Set(p.language_code.clone()),
        is_premium: Set(p.is_premium),
        is_blocked: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// A message from the person proves they have not blocked the bot, so `is_blocked` resets.
fn refresh() -> OnConflict {
    OnConflict::column(users::Column::TelegramId)
        .update_columns([
            users::Column::FirstName,
            users::Column::LastName,
            users::Column::Username,
            users::Column::LanguageCode,
            users::Column::IsPremium,
            users::Column::IsBlocked,
            users::Column::UpdatedAt,
        ])
        .to_owned()
}

pub async fn find(db: &impl ConnectionTrait, id: UserId) -> Result<Option<User>, RepoError> {
    Ok(Users::find_by_id(id.0).one(db).await?.map(User::from))
}

/// Finds the user and, on PostgreSQL, locks their row until the transaction ends: the lock
/// every update of theirs takes first (its upsert), so work outside updates that takes it
/// first too applies in turn with them and cannot deadlock against them.
pub async fn lock(db: &impl ConnectionTrait, id: UserId) -> Result<Option<User>, RepoError> {
    let query = Users::find_by_id(id.0);
    let query = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => query.lock_exclusive(),
        _ => query,
    };
    Ok(query.one(db).await?.map(User::from))
}

pub async fn find_by_telegram(
    db: &impl ConnectionTrait,
    telegram_id: TelegramUserId,
) -> Result<Option<User>, RepoError> {
    Ok(Users::find()
        .filter(users::Column::TelegramId.eq(telegram_id.0))
        .one(db)
        .await?
        .map(User::from))
}

/// Marks a person as having blocked (or unblocked) the bot; returns whether a row changed.
pub async fn set_blocked(
    db: &impl ConnectionTrait,
    telegram_id: TelegramUserId,
    blocked: bool,
) -> Result<bool, RepoError> {
    let result = Users::update_many()
        .col_expr(users::Column::IsBlocked, blocked.into())
        .col_expr(users::Column::UpdatedAt, Utc::now().into())
        .filter(users::Column::TelegramId.eq(telegram_id.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Whether messages to this chat must be held back. Private chats share the user's id.
pub async fn is_blocked(
    db: &impl ConnectionTrait,
    telegram_id: TelegramUserId,
) -> Result<bool, RepoError> {
    Ok(find_by_telegram(db, telegram_id)
        .await?
        .is_some_and(|user| user.is_blocked))
}

/// Sets (or, with `None`, clears) the language chosen in settings.
pub async fn set_language(
    db: &impl ConnectionTrait,
    id: UserId,
    language: Option<Language>,
) -> Result<(), RepoError> {
    Users::update_many()
        .col_expr(
            users::Column::UiLanguage,
            language.map(DbLanguage::from).into(),
        )
        .col_expr(users::Column::UpdatedAt, Utc::now().into())
        .filter(users::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

//! The ledger: every credit movement is a row, the balance is their sum, and each business
//! event (payment, job, promo use) books at most once through its idempotency key.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TryInsertResult};
use studio_domain::{Credits, LedgerKind, UserId};

use crate::RepoError;
use crate::entities::ledger::{self, Entity as Ledger};
use crate::sql::statement;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booked {
    Booked,
    /// The event behind this key was booked before; nothing changed.
    AlreadyBooked,
}

/// One movement; `amount` is signed by `kind` (debits are negative).
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub user: UserId,
    pub kind: LedgerKind,
    pub amount: Credits,
    pub key: &'a str,
    pub note: Option<&'a str>,
}

pub async fn book(db: &impl ConnectionTrait, entry: Entry<'_>) -> Result<Booked, RepoError> {
    let signed = i64::from(entry.amount.get()) * entry.kind.sign();
    let row = ledger::ActiveModel {
        user_id: Set(entry.user.0),
        amount: Set(signed),
        kind: Set(entry.kind.label().to_owned()),
        idempotency_key: Set(entry.key.to_owned()),
        note: Set(entry.note.map(str::to_owned)),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let result = Ledger::insert(row)
        .on_conflict(
            OnConflict::column(ledger::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .try_insert()
        .exec_without_returning(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(n) if n > 0 => Booked::Booked,
        TryInsertResult::Inserted(_) | TryInsertResult::Conflicted | TryInsertResult::Empty => {
            Booked::AlreadyBooked
        }
    })
}

/// The user's balance: the sum of their rows, computed by the database.
pub async fn balance(db: &impl ConnectionTrait, user: UserId) -> Result<Credits, RepoError> {
    let backend = db.get_database_backend();
    let sql =
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS balance FROM ledger WHERE user_id = $1";
    let row = db
        .query_one_raw(statement(backend, sql, vec![user.0.into()]))
        .await?;
    let sum: i64 = match row {
        Some(row) => row.try_get("", "balance")?,
        None => 0,
    };
    Ok(Credits::from_balance(sum))
}

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
        kind: Set(entry.kind.into()),
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

/// The outcome of a debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Debit {
    Booked,
    AlreadyBooked,
    /// The balance lacks this much; nothing was booked.
    Missing(Credits),
}

/// Books a debit only if the balance covers it. Call it inside a transaction: see
/// `ensure_covers`.
pub async fn debit(db: &impl ConnectionTrait, entry: Entry<'_>) -> Result<Debit, RepoError> {
    if let Err(missing) = ensure_covers(db, entry.user, entry.amount).await? {
        return Ok(Debit::Missing(missing));
    }
    Ok(match book(db, entry).await? {
        Booked::Booked => Debit::Booked,
        Booked::AlreadyBooked => Debit::AlreadyBooked,
    })
}

/// Checks that the balance covers `amount`, or says how much is missing. On PostgreSQL the
/// user's row is locked first and stays locked until the caller's transaction ends, so
/// concurrent debits of one user queue up and the balance can never go below zero; SQLite
/// runs one writer at a time anyway.
pub async fn ensure_covers(
    db: &impl ConnectionTrait,
    user: UserId,
    amount: Credits,
) -> Result<Result<(), Credits>, RepoError> {
    let backend = db.get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        let lock = "SELECT id FROM users WHERE id = $1 FOR UPDATE";
        db.query_one_raw(statement(backend, lock, vec![user.0.into()]))
            .await?;
    }
    let balance = balance(db, user).await?;
    Ok(balance.debit(amount).map(drop).map_err(|missing| missing.0))
}

/// Credits spent on training and images, net of refunds.
pub async fn spent(db: &impl ConnectionTrait, user: UserId) -> Result<Credits, RepoError> {
    let backend = db.get_database_backend();
    let kinds = [
        LedgerKind::TrainingDebit,
        LedgerKind::TrainingRefund,
        LedgerKind::GenerationDebit,
        LedgerKind::GenerationRefund,
    ];
    let list = kinds.map(|k| format!("'{}'", k.label())).join(", ");
    let sql = format!(
        "SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) AS spent FROM ledger \
         WHERE user_id = $1 AND kind IN ({list})"
    );
    let row = db
        .query_one_raw(statement(backend, &sql, vec![user.0.into()]))
        .await?;
    let sum: i64 = match row {
        Some(row) => row.try_get("", "spent")?,
        None => 0,
    };
    Ok(Credits::from_balance(sum))
}

/// One line of the history: newest first, with the balance right after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    pub id: i64,
    pub kind: LedgerKind,
    pub amount: i64,
    pub balance_after: i64,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Up to `limit` entries older than `before` (all when `None`), newest first.
pub async fn history(
    db: &impl ConnectionTrait,
    user: UserId,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<HistoryLine>, RepoError> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut query = Ledger::find().filter(ledger::Column::UserId.eq(user.0));
    if let Some(before) = before {
        query = query.filter(ledger::Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(ledger::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    // The balance after the newest shown row: everything up to it.
    let backend = db.get_database_backend();
    let newest = rows.first().map_or(0, |r| r.id);
    let sql = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS b FROM ledger WHERE user_id = $1 AND id <= $2";
    let row = db
        .query_one_raw(statement(backend, sql, vec![user.0.into(), newest.into()]))
        .await?;
    let mut balance: i64 = match row {
        Some(row) => row.try_get("", "b")?,
        None => 0,
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let line = HistoryLine {
                id: row.id,
                kind: row.kind.into(),
                amount: row.amount,
                balance_after: balance,
                at: row.created_at,
            };
            balance -= row.amount;
            line
        })
        .collect())
}

/// The sum of every entry, per kind, for the operators' dashboards.
pub async fn totals(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, RepoError> {
    let backend = db.get_database_backend();
    let sql = "SELECT kind, CAST(SUM(amount) AS BIGINT) AS total FROM ledger GROUP BY kind";
    let rows = db.query_all_raw(statement(backend, sql, vec![])).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "kind")?, row.try_get("", "total")?)))
        .collect()
}

/// The credits an entry moved (unsigned), found by its idempotency key.
pub async fn amount_of(db: &impl ConnectionTrait, key: &str) -> Result<Option<Credits>, RepoError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let row = Ledger::find()
        .filter(ledger::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?;
    Ok(row.map(|r| Credits::from_balance(r.amount.abs())))
}

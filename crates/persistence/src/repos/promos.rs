//! Promo codes: created by operators, redeemed once per user (or `per_user` times), never more
//! than `max_uses` in total, only inside their validity window.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};
use studio_domain::{Credits, LedgerKind, UserId};

use crate::RepoError;
use crate::repos::ledger::{self, Entry};
use crate::sql::statement;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPromo<'a> {
    pub code: &'a str,
    pub credits: Credits,
    pub max_uses: u32,
    pub per_user: u32,
    pub valid_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promo {
    pub code: String,
    pub credits: Credits,
    pub max_uses: u32,
    pub per_user: u32,
    pub uses: u32,
    pub valid_until: Option<DateTime<Utc>>,
    pub disabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    Credited(Credits),
    Unknown,
    Expired,
    Exhausted,
    AlreadyUsed,
}

/// Codes are matched case-insensitively: stored upper-case.
pub fn normalise(code: &str) -> String {
    code.trim().to_uppercase()
}

pub async fn create(db: &impl ConnectionTrait, promo: NewPromo<'_>) -> Result<bool, RepoError> {
    let backend = db.get_database_backend();
    let sql = "INSERT INTO promo_codes (code, credits, max_uses, per_user, valid_until, disabled, created_at) \
               VALUES ($1, $2, $3, $4, $5, false, $6) ON CONFLICT (code) DO NOTHING";
    let values: Vec<Value> = vec![
        normalise(promo.code).into(),
        i64::from(promo.credits.get()).into(),
        i64::from(promo.max_uses).into(),
        i64::from(promo.per_user).into(),
        promo.valid_until.into(),
        Utc::now().into(),
    ];
    Ok(db
        .execute_raw(statement(backend, sql, values))
        .await?
        .rows_affected()
        == 1)
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Promo>, RepoError> {
    let backend = db.get_database_backend();
    let sql = "SELECT code, credits, max_uses, per_user, uses, valid_until, disabled FROM promo_codes ORDER BY id";
    let rows = db.query_all_raw(statement(backend, sql, vec![])).await?;
    rows.iter()
        .map(|row| {
            let int = |c: &str| {
                row.try_get::<i32>("", c)
                    .map(|v| u32::try_from(v).unwrap_or(0))
            };
            Ok(Promo {
                code: row.try_get("", "code")?,
                credits: Credits::new(int("credits")?),
                max_uses: int("max_uses")?,
                per_user: int("per_user")?,
                uses: int("uses")?,
                valid_until: row.try_get("", "valid_until")?,
                disabled: row.try_get("", "disabled")?,
            })
        })
        .collect()
}

pub async fn disable(db: &impl ConnectionTrait, code: &str) -> Result<bool, RepoError> {
    let backend = db.get_database_backend();
    let sql = "UPDATE promo_codes SET disabled = true WHERE code = $1";
    Ok(db
        .execute_raw(statement(backend, sql, vec![normalise(code).into()]))
        .await?
        .rows_affected()
        == 1)
}

/// Redeems `code` for `user` in the caller's transaction. The use is counted by a conditional
/// `UPDATE … WHERE uses < max_uses`, which the database serialises per code, so concurrent
/// redemptions never exceed `max_uses`.
pub async fn redeem(
    db: &impl ConnectionTrait,
    user: UserId,
    code: &str,
) -> Result<Redeemed, RepoError> {
    let backend = db.get_database_backend();
    let code = normalise(code);
    let sql =
        "SELECT id, credits, per_user, valid_until, disabled FROM promo_codes WHERE code = $1";
    let Some(row) = db
        .query_one_raw(statement(backend, sql, vec![code.as_str().into()]))
        .await?
    else {
        return Ok(Redeemed::Unknown);
    };
    let id: i64 = row.try_get("", "id")?;
    let disabled: bool = row.try_get("", "disabled")?;
    let valid_until: Option<DateTime<Utc>> = row.try_get("", "valid_until")?;
    if disabled {
        return Ok(Redeemed::Unknown);
    }
    if valid_until.is_some_and(|until| until < Utc::now()) {
        return Ok(Redeemed::Expired);
    }
    let claim = "UPDATE promo_codes SET uses = uses + 1 WHERE id = $1 AND uses < max_uses";
    if db
        .execute_raw(statement(backend, claim, vec![id.into()]))
        .await?
        .rows_affected()
        == 0
    {
        return Ok(Redeemed::Exhausted);
    }
    // The code's row is now locked by this transaction: this user's count cannot race either.
    let used = "SELECT COUNT(*) AS n FROM promo_redemptions WHERE promo_id = $1 AND user_id = $2";
    let used_row = db
        .query_one_raw(statement(backend, used, vec![id.into(), user.0.into()]))
        .await?;
    let used: i64 = used_row
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    let per_user: i32 = row.try_get("", "per_user")?;
    if used >= i64::from(per_user) {
        // Give the use back: this redemption does not happen.
        let undo = "UPDATE promo_codes SET uses = uses - 1 WHERE id = $1";
        db.execute_raw(statement(backend, undo, vec![id.into()]))
            .await?;
        return Ok(Redeemed::AlreadyUsed);
    }
    let insert =
        "INSERT INTO promo_redemptions (promo_id, user_id, created_at) VALUES ($1, $2, $3)";
    db.execute_raw(statement(
        backend,
        insert,
        vec![id.into(), user.0.into(), Utc::now().into()],
    ))
    .await?;
    let credits: i32 = row.try_get("", "credits")?;
    let credits = Credits::new(u32::try_from(credits).unwrap_or(0));
    let key = format!("promo:{id}:{}:{}", user.0, used + 1);
    ledger::book(
        db,
        Entry {
            user,
            kind: LedgerKind::Promo,
            amount: credits,
            key: &key,
            note: Some(&code),
        },
    )
    .await?;
    Ok(Redeemed::Credited(credits))
}

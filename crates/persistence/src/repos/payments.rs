//! Telegram Stars payments: each charge credits its package once, and can be refunded once.

use sea_orm::{ConnectionTrait, Value};
use studio_domain::{Credits, LedgerKind, UserId};

use crate::RepoError;
use crate::repos::ledger::{self, Booked, Debit, Entry};
use crate::sql::statement;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credited {
    Credited,
    /// Telegram delivered the same payment again: nothing changes.
    AlreadyCredited,
}

/// Records a successful payment and credits the ledger, in the caller's transaction.
pub async fn credit(
    db: &impl ConnectionTrait,
    user: UserId,
    charge_id: &str,
    stars: u32,
    credits: Credits,
) -> Result<Credited, RepoError> {
    let backend = db.get_database_backend();
    let sql = "INSERT INTO payments (user_id, telegram_charge_id, stars, credits, created_at) \
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (telegram_charge_id) DO NOTHING";
    let values: Vec<Value> = vec![
        user.0.into(),
        charge_id.into(),
        i64::from(stars).into(),
        i64::from(credits.get()).into(),
        chrono::Utc::now().into(),
    ];
    db.execute_raw(statement(backend, sql, values)).await?;
    let key = format!("stars:{charge_id}");
    let entry = Entry {
        user,
        kind: LedgerKind::TopUp,
        amount: credits,
        key: &key,
        note: Some("Telegram Stars"),
    };
    Ok(match ledger::book(db, entry).await? {
        Booked::Booked => Credited::Credited,
        Booked::AlreadyBooked => Credited::AlreadyCredited,
    })
}

/// A payment as an operator refunds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub user: UserId,
    pub telegram_user_id: i64,
    pub stars: u32,
    pub credits: Credits,
    pub refunded: bool,
}

pub async fn find(
    db: &impl ConnectionTrait,
    charge_id: &str,
) -> Result<Option<Payment>, RepoError> {
    let backend = db.get_database_backend();
    let sql = "SELECT p.user_id, u.telegram_id, p.stars, p.credits, p.refunded_at IS NOT NULL AS refunded \
               FROM payments p JOIN users u ON u.id = p.user_id WHERE p.telegram_charge_id = $1";
    let Some(row) = db
        .query_one_raw(statement(backend, sql, vec![charge_id.into()]))
        .await?
    else {
        return Ok(None);
    };
    let stars: i32 = row.try_get("", "stars")?;
    let credits: i32 = row.try_get("", "credits")?;
    Ok(Some(Payment {
        user: UserId(row.try_get("", "user_id")?),
        telegram_user_id: row.try_get("", "telegram_id")?,
        stars: u32::try_from(stars).unwrap_or(0),
        credits: Credits::new(u32::try_from(credits).unwrap_or(0)),
        refunded: row.try_get("", "refunded")?,
    }))
}

/// Takes the payment's credits back and marks it refunded; `Missing` when they were spent.
pub async fn refund(
    db: &impl ConnectionTrait,
    charge_id: &str,
    payment: &Payment,
) -> Result<Debit, RepoError> {
    let key = format!("stars-refund:{charge_id}");
    let entry = Entry {
        user: payment.user,
        kind: LedgerKind::PaymentRefund,
        amount: payment.credits,
        key: &key,
        note: None,
    };
    let outcome = ledger::debit(db, entry).await?;
    if outcome == Debit::Booked {
        let backend = db.get_database_backend();
        let sql = "UPDATE payments SET refunded_at = $1 WHERE telegram_charge_id = $2";
        db.execute_raw(statement(
            backend,
            sql,
            vec![chrono::Utc::now().into(), charge_id.into()],
        ))
        .await?;
    }
    Ok(outcome)
}

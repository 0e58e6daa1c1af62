//! Avatar trainings as a leased job on the avatar row: started with its debit, claimed for one
//! step at a time, settled fenced by the claim's attempt number and the `training` status, so
//! a training completes, fails or is cancelled exactly once, and refunds at most once.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait, UpdateMany,
};
use studio_domain::{AvatarId, AvatarStatus, Credits, LedgerKind, UserId};

use crate::RepoError;
use crate::entities::active_enums::DbAvatarStatus;
use crate::entities::avatars::{self, Entity as Avatars};
use crate::queue::millis;
use crate::repos::jobs::Submission;
use crate::repos::{ledger, photos};
use crate::sql::{now_ms, skip_locked, statement};

fn status_value(status: AvatarStatus) -> sea_orm::sea_query::SimpleExpr {
    ActiveEnum::as_enum(&DbAvatarStatus::from(status))
}

pub fn debit_key(avatar: AvatarId) -> String {
    format!("training:{avatar}:debit")
}

pub fn refund_key(avatar: AvatarId) -> String {
    format!("training:{avatar}:refund")
}

/// The phrase the LoRA learns for this person: unique per avatar, unlikely in any prompt.
pub fn trigger_phrase(avatar: AvatarId) -> String {
    format!("ohwx{:x}", avatar.0)
}

/// A claimed training: the avatar it trains and the queue's own columns, read from the avatar
/// row. Screens never see these; the queue never sees more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Training {
    pub id: AvatarId,
    pub user_id: UserId,
    pub name: String,
    pub trigger_phrase: String,
    /// Claims so far; settling is fenced by it.
    pub attempts: i32,
    pub deadline_ms: Option<i64>,
    pub request_id: Option<String>,
    pub status_url: Option<String>,
    pub response_url: Option<String>,
    pub cancel_url: Option<String>,
}

impl From<avatars::Model> for Training {
    fn from(row: avatars::Model) -> Self {
        let id = AvatarId(row.id);
        Self {
            id,
            user_id: UserId(row.user_id),
            name: row.name,
            // Written with the status change that starts a training; derived the same way.
            trigger_phrase: row.trigger_phrase.unwrap_or_else(|| trigger_phrase(id)),
            attempts: row.training_attempts,
            deadline_ms: row.training_deadline_ms,
            request_id: row.training_request_id,
            status_url: row.training_status_url,
            response_url: row.training_response_url,
            cancel_url: row.training_cancel_url,
        }
    }
}

impl crate::repos::photos::OfAvatar for Training {
    fn avatar_id(&self) -> AvatarId {
        self.id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    Started,
    /// The balance lacks this much; nothing changed.
    Missing(Credits),
    /// The avatar is not (or no longer) ready for training.
    NotReady,
}

/// Debits the training and moves the avatar to `training`, in the caller's transaction.
pub async fn start(
    db: &impl ConnectionTrait,
    owner: UserId,
    avatar: AvatarId,
    cost: Credits,
    deadline: Duration,
) -> Result<Started, RepoError> {
    if let Err(missing) = ledger::ensure_covers(db, owner, cost).await? {
        return Ok(Started::Missing(missing));
    }
    let now = now_ms();
    let moved = Avatars::update_many()
        .col_expr(
            avatars::Column::Status,
            status_value(AvatarStatus::Training),
        )
        .col_expr(
            avatars::Column::TriggerPhrase,
            Expr::value(trigger_phrase(avatar)),
        )
        .col_expr(avatars::Column::TrainingStartedAt, Expr::value(Utc::now()))
        .col_expr(avatars::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(avatars::Column::TrainingAttempts, Expr::value(0))
        .col_expr(avatars::Column::TrainingNextMs, Expr::value(now))
        .col_expr(
            avatars::Column::TrainingDeadlineMs,
            Expr::value(now + millis(deadline)),
        )
        .filter(avatars::Column::Id.eq(avatar.0))
        .filter(avatars::Column::UserId.eq(owner.0))
        .filter(avatars::Column::Status.eq(DbAvatarStatus::from(AvatarStatus::ReadyForTraining)))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(Started::NotReady);
    }
    if cost.get() > 0 {
        let key = debit_key(avatar);
        let entry = ledger::Entry {
            user: owner,
            kind: LedgerKind::TrainingDebit,
            amount: cost,
            key: &key,
            note: None,
        };
        ledger::book(db, entry).await?;
    }
    Ok(Started::Started)
}

/// Claims up to `limit` trainings whose next step is due and whose lease expired.
pub async fn claim(
    db: &DatabaseConnection,
    limit: u32,
    lease: Duration,
) -> Result<Vec<Training>, RepoError> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    let now = now_ms();
    let sql = format!(
        "SELECT id FROM avatars WHERE status = '{training}' AND training_next_ms <= $1 \
           AND (training_lease_until_ms IS NULL OR training_lease_until_ms < $1) \
         ORDER BY id LIMIT $2 {lock}",
        training = AvatarStatus::Training.label(),
        lock = skip_locked(backend),
    );
    let values = vec![now.into(), i64::from(limit).into()];
    let rows = txn.query_all_raw(statement(backend, &sql, values)).await?;
    let ids: Vec<i64> = rows
        .iter()
        .map(|row| row.try_get("", "id"))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Avatars::update_many()
        .col_expr(
            avatars::Column::TrainingLeaseUntilMs,
            Expr::value(now + millis(lease)),
        )
        .col_expr(
            avatars::Column::TrainingAttempts,
            Expr::col(avatars::Column::TrainingAttempts).add(1),
        )
        .filter(avatars::Column::Id.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let claimed = Avatars::find()
        .filter(avatars::Column::Id.is_in(ids))
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(claimed.into_iter().map(Training::from).collect())
}

/// An update of the claimed training, applied only while the claim is still ours.
fn fenced(training: &Training) -> UpdateMany<Avatars> {
    Avatars::update_many()
        .col_expr(
            avatars::Column::TrainingLeaseUntilMs,
            Expr::value(Option::<i64>::None),
        )
        .filter(avatars::Column::Id.eq(training.id.0))
        .filter(avatars::Column::TrainingAttempts.eq(training.attempts))
        .filter(avatars::Column::Status.eq(DbAvatarStatus::from(AvatarStatus::Training)))
}

pub async fn record_submission(
    db: &impl ConnectionTrait,
    avatar: &Training,
    submission: Submission<'_>,
    next_at_ms: i64,
) -> Result<bool, RepoError> {
    let result = fenced(avatar)
        .col_expr(
            avatars::Column::TrainingRequestId,
            Expr::value(submission.request_id),
        )
        .col_expr(
            avatars::Column::TrainingStatusUrl,
            Expr::value(submission.status_url),
        )
        .col_expr(
            avatars::Column::TrainingResponseUrl,
            Expr::value(submission.response_url),
        )
        .col_expr(
            avatars::Column::TrainingCancelUrl,
            Expr::value(submission.cancel_url),
        )
        .col_expr(avatars::Column::TrainingNextMs, Expr::value(next_at_ms))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn reschedule(
    db: &impl ConnectionTrait,
    avatar: &Training,
    at_ms: i64,
) -> Result<bool, RepoError> {
    let result = fenced(avatar)
        .col_expr(avatars::Column::TrainingNextMs, Expr::value(at_ms))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Completes the training with its LoRA; the avatar becomes main if its owner has none. The
/// training photos except the first (the preview) are dropped: their storage keys are
/// returned for deletion after the commit. `None` if the claim was lost.
pub async fn complete(
    db: &impl ConnectionTrait,
    avatar: &Training,
    lora_url: &str,
) -> Result<Option<Vec<String>>, RepoError> {
    let result = fenced(avatar)
        .col_expr(
            avatars::Column::Status,
            status_value(AvatarStatus::Completed),
        )
        .col_expr(avatars::Column::LoraUrl, Expr::value(lora_url))
        .col_expr(
            avatars::Column::TrainingNextMs,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(avatars::Column::FinishedAt, Expr::value(Utc::now()))
        .col_expr(avatars::Column::UpdatedAt, Expr::value(Utc::now()))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(None);
    }
    let backend = db.get_database_backend();
    let main = "UPDATE avatars SET is_main = TRUE WHERE id = $1 AND NOT EXISTS \
                (SELECT 1 FROM avatars m WHERE m.user_id = $2 AND m.is_main)";
    db.execute_raw(statement(
        backend,
        main,
        vec![avatar.id.0.into(), avatar.user_id.0.into()],
    ))
    .await?;
    let mut dropped = Vec::new();
    for photo in photos::list(db, avatar).await?.into_iter().skip(1) {
        dropped.extend(photos::delete(db, avatar, photo.id).await?);
    }
    Ok(Some(dropped))
}

/// Ends a claimed training without a LoRA and refunds it, once.
pub async fn fail(
    db: &impl ConnectionTrait,
    avatar: &Training,
    reason: &str,
) -> Result<bool, RepoError> {
    let result = fenced(avatar)
        .col_expr(avatars::Column::Status, status_value(AvatarStatus::Error))
        .col_expr(avatars::Column::ErrorReason, Expr::value(reason))
        .col_expr(
            avatars::Column::TrainingNextMs,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(avatars::Column::FinishedAt, Expr::value(Utc::now()))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(false);
    }
    refund(db, avatar, reason).await?;
    Ok(true)
}

/// The owner cancels a running training; whatever a worker or a late webhook does after
/// this finds the status changed and does nothing. `None` if it was not training.
pub async fn cancel(
    db: &impl ConnectionTrait,
    owner: UserId,
    avatar: AvatarId,
) -> Result<Option<Training>, RepoError> {
    let result = Avatars::update_many()
        .col_expr(
            avatars::Column::Status,
            status_value(AvatarStatus::Cancelled),
        )
        .col_expr(
            avatars::Column::TrainingNextMs,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            avatars::Column::TrainingLeaseUntilMs,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(avatars::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(avatars::Column::Id.eq(avatar.0))
        .filter(avatars::Column::UserId.eq(owner.0))
        .filter(avatars::Column::Status.eq(DbAvatarStatus::from(AvatarStatus::Training)))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(None);
    }
    let Some(cancelled) = Avatars::find_by_id(avatar.0).one(db).await? else {
        return Ok(None);
    };
    let cancelled = Training::from(cancelled);
    refund(db, &cancelled, "cancelled").await?;
    Ok(Some(cancelled))
}

/// The training's cost back, keyed by the avatar: a second call books nothing. The amount is
/// the debit's, read from the ledger, so a price change meanwhile refunds what was paid.
async fn refund(
    db: &impl ConnectionTrait,
    avatar: &Training,
    reason: &str,
) -> Result<(), RepoError> {
    let id = avatar.id;
    let Some(paid) = ledger::amount_of(db, &debit_key(id)).await? else {
        return Ok(());
    };
    let key = refund_key(id);
    let entry = ledger::Entry {
        user: avatar.user_id,
        kind: LedgerKind::TrainingRefund,
        amount: paid,
        key: &key,
        note: Some(reason),
    };
    ledger::book(db, entry).await?;
    Ok(())
}

/// A result for `request_id` arrived: its training's next step is due now.
pub async fn wake(db: &impl ConnectionTrait, request_id: &str) -> Result<bool, RepoError> {
    let result = Avatars::update_many()
        .col_expr(avatars::Column::TrainingNextMs, Expr::value(0_i64))
        .filter(avatars::Column::TrainingRequestId.eq(request_id))
        .filter(avatars::Column::Status.eq(DbAvatarStatus::from(AvatarStatus::Training)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

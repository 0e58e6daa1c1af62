//! The generation queue as workers see it. A job is claimed for one step (submit, poll,
//! fetch the result) under a lease; the step settles it fenced by the attempt number of its
//! claim, so a job whose lease expired and was claimed elsewhere cannot be settled twice.
//! A job held by a dead replica is claimed again once its lease expires.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait, UpdateMany,
};
use studio_domain::{
    AvatarId, Credits, GenerationFailure, GenerationId, GenerationStatus, LedgerKind, UserId,
};

use crate::RepoError;
use crate::entities::active_enums::{DbGenerationFailure, DbGenerationStatus};
use crate::entities::generations::{self, Entity as Generations};
use crate::queue::millis;
use crate::repos::generations::{Generation, decode_all, refund_key};
use crate::repos::ledger;
use crate::sql::{now_ms, skip_locked, statement};

fn db_status(status: GenerationStatus) -> DbGenerationStatus {
    status.into()
}

/// A status as an assignable expression: `as_enum` casts the label to the native type; a bare
/// value fails on PostgreSQL.
fn status_value(status: GenerationStatus) -> sea_orm::sea_query::SimpleExpr {
    ActiveEnum::as_enum(&db_status(status))
}

/// Claims up to `limit` due jobs: queued ones whose owner runs fewer than `per_user` jobs
/// (they become `running`), and running ones whose next step is due and whose lease expired.
pub async fn claim(
    db: &DatabaseConnection,
    limit: u32,
    lease: Duration,
    per_user: u32,
) -> Result<Vec<Generation>, RepoError> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    let now = now_ms();
    let (queued, running) = (
        GenerationStatus::Queued.label(),
        GenerationStatus::Running.label(),
    );
    // The owner check here is a cheap filter; the one under the owner's lock below is exact.
    let sql = format!(
        "SELECT g.id, g.user_id, CASE WHEN g.status = '{queued}' THEN 1 ELSE 0 END AS is_queued \
         FROM generations g \
         WHERE g.status IN ('{queued}', '{running}') AND g.next_attempt_ms <= $1 \
           AND (g.lease_until_ms IS NULL OR g.lease_until_ms < $1) \
           AND (g.status = '{running}' OR (SELECT COUNT(*) FROM generations r \
                WHERE r.user_id = g.user_id AND r.status = '{running}') < $2) \
         ORDER BY g.id LIMIT $3 {lock}",
        lock = skip_locked(backend),
    );
    let values = vec![
        now.into(),
        i64::from(per_user).into(),
        i64::from(limit).into(),
    ];
    let candidates = txn.query_all_raw(statement(backend, &sql, values)).await?;
    let lease_until = now + millis(lease);
    let mut claimed = Vec::new();
    for row in candidates {
        let id: i64 = row.try_get("", "id")?;
        let user = UserId(row.try_get("", "user_id")?);
        let is_queued = row.try_get::<i32>("", "is_queued")? == 1;
        if is_queued && !may_start(&txn, user, per_user).await? {
            continue;
        }
        Generations::update_many()
            .col_expr(
                generations::Column::Status,
                status_value(GenerationStatus::Running),
            )
            .col_expr(generations::Column::LeaseUntilMs, Expr::value(lease_until))
            .col_expr(
                generations::Column::Attempts,
                Expr::col(generations::Column::Attempts).add(1),
            )
            .col_expr(
                generations::Column::StartedAt,
                Expr::col(generations::Column::StartedAt).if_null(Utc::now()),
            )
            .filter(generations::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if let Some(row) = Generations::find_by_id(id).one(&txn).await? {
            claimed.push(Generation::try_from(row)?);
        }
    }
    txn.commit().await?;
    Ok(claimed)
}

/// Whether the owner may start one more job. On PostgreSQL the owner's row is locked (skipped
/// if another transaction holds it: a debit or another replica's claim), so two replicas
/// cannot both start a job for the same person past the limit.
async fn may_start(
    txn: &impl ConnectionTrait,
    user: UserId,
    per_user: u32,
) -> Result<bool, RepoError> {
    let backend = txn.get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        let lock = "SELECT id FROM users WHERE id = $1 FOR UPDATE SKIP LOCKED";
        let locked = txn
            .query_one_raw(statement(backend, lock, vec![user.0.into()]))
            .await?;
        if locked.is_none() {
            return Ok(false);
        }
    }
    let running = Generations::find()
        .filter(generations::Column::UserId.eq(user.0))
        .filter(generations::Column::Status.eq(db_status(GenerationStatus::Running)))
        .count(txn)
        .await?;
    Ok(running < u64::from(per_user))
}

/// An update of the claimed job, applied only while the claim is still ours.
fn fenced(job: &Generation) -> UpdateMany<Generations> {
    Generations::update_many()
        .col_expr(
            generations::Column::LeaseUntilMs,
            Expr::value(Option::<i64>::None),
        )
        .filter(generations::Column::Id.eq(job.id.0))
        .filter(generations::Column::Attempts.eq(job.attempts))
        .filter(generations::Column::Status.eq(db_status(GenerationStatus::Running)))
}

/// Where FAL put the request, returned by its queue.
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    pub request_id: &'a str,
    pub status_url: &'a str,
    pub response_url: &'a str,
    pub cancel_url: &'a str,
}

/// Records the provider's request; the next step (a poll) is due at `next_at_ms`.
pub async fn record_submission(
    db: &impl ConnectionTrait,
    job: &Generation,
    submission: Submission<'_>,
    next_at_ms: i64,
) -> Result<bool, RepoError> {
    let result = fenced(job)
        .col_expr(
            generations::Column::FalRequestId,
            Expr::value(submission.request_id),
        )
        .col_expr(
            generations::Column::StatusUrl,
            Expr::value(submission.status_url),
        )
        .col_expr(
            generations::Column::ResponseUrl,
            Expr::value(submission.response_url),
        )
        .col_expr(
            generations::Column::CancelUrl,
            Expr::value(submission.cancel_url),
        )
        .col_expr(generations::Column::NextAttemptMs, Expr::value(next_at_ms))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Releases the job until its next step is due; `error` notes why, if a step failed.
pub async fn reschedule(
    db: &impl ConnectionTrait,
    job: &Generation,
    at_ms: i64,
    error: Option<&str>,
) -> Result<bool, RepoError> {
    let mut update = fenced(job).col_expr(generations::Column::NextAttemptMs, Expr::value(at_ms));
    if let Some(error) = error {
        update = update.col_expr(generations::Column::Error, Expr::value(error));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Marks the job done with its stored image. Call it in the transaction that queues the
/// delivery, so the photo is sent exactly when the job completes.
pub async fn complete(
    db: &impl ConnectionTrait,
    job: &Generation,
    result_key: &str,
    seed: Option<i64>,
) -> Result<bool, RepoError> {
    let result = fenced(job)
        .col_expr(
            generations::Column::Status,
            status_value(GenerationStatus::Completed),
        )
        .col_expr(generations::Column::ResultKey, Expr::value(result_key))
        .col_expr(generations::Column::Seed, Expr::value(seed))
        .col_expr(generations::Column::FinishedAt, Expr::value(Utc::now()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Fails the job and refunds its cost, once: the fence stops a second settle and the refund's
/// key a second booking. Call it in the transaction that tells the person.
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &Generation,
    failure: GenerationFailure,
    detail: &str,
) -> Result<bool, RepoError> {
    let result = fenced(job)
        .col_expr(
            generations::Column::Status,
            status_value(GenerationStatus::Failed),
        )
        .col_expr(
            generations::Column::Failure,
            Expr::value(DbGenerationFailure::from(failure)),
        )
        .col_expr(generations::Column::Error, Expr::value(detail))
        .col_expr(generations::Column::FinishedAt, Expr::value(Utc::now()))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(false);
    }
    let cost = job.cost;
    if cost.get() > 0 {
        let key = refund_key(job.id);
        let entry = ledger::Entry {
            user: job.user_id,
            kind: LedgerKind::GenerationRefund,
            amount: cost,
            key: &key,
            note: Some(failure.label()),
        };
        ledger::book(db, entry).await?;
    }
    Ok(true)
}

/// What deleting an avatar gave back: its open generations, refunded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Abandoned {
    pub refunded: Credits,
    /// FAL requests of those generations, to cancel once the deletion has committed.
    pub cancel_urls: Vec<String>,
}

/// Ends every open (queued or running) generation of the owner's `avatar` as failed and
/// refunds each once: call it in the transaction that deletes the avatar, so the person never
/// pays for images that will not come. A step still running for one of them finds its row
/// gone or settled and changes nothing.
pub async fn abandon_for_avatar(
    db: &impl ConnectionTrait,
    owner: UserId,
    avatar: AvatarId,
) -> Result<Abandoned, RepoError> {
    let open = [
        db_status(GenerationStatus::Queued),
        db_status(GenerationStatus::Running),
    ];
    let jobs = Generations::find()
        .filter(generations::Column::UserId.eq(owner.0))
        .filter(generations::Column::AvatarId.eq(avatar.0))
        .filter(generations::Column::Status.is_in(open))
        .all(db)
        .await
        .map_err(RepoError::from)
        .and_then(decode_all)?;
    let mut abandoned = Abandoned::default();
    for job in jobs {
        let ended = Generations::update_many()
            .col_expr(
                generations::Column::Status,
                status_value(GenerationStatus::Failed),
            )
            .col_expr(
                generations::Column::Failure,
                Expr::value(DbGenerationFailure::from(
                    GenerationFailure::AvatarUnavailable,
                )),
            )
            .col_expr(generations::Column::Error, Expr::value("avatar deleted"))
            .col_expr(generations::Column::FinishedAt, Expr::value(Utc::now()))
            .filter(generations::Column::Id.eq(job.id.0))
            .filter(generations::Column::Status.is_in(open))
            .exec(db)
            .await?;
        if ended.rows_affected != 1 {
            continue;
        }
        let cost = job.cost;
        if cost.get() > 0 {
            let key = refund_key(job.id);
            let entry = ledger::Entry {
                user: owner,
                kind: LedgerKind::GenerationRefund,
                amount: cost,
                key: &key,
                note: Some("avatar deleted"),
            };
            if ledger::book(db, entry).await? == ledger::Booked::Booked {
                abandoned.refunded = abandoned.refunded.credit(cost);
            }
        }
        abandoned.cancel_urls.extend(job.cancel_url);
    }
    Ok(abandoned)
}

/// Whether the generation's row still exists (its avatar was not deleted meanwhile).
pub async fn exists(db: &impl ConnectionTrait, id: GenerationId) -> Result<bool, RepoError> {
    Ok(Generations::find_by_id(id.0).count(db).await? == 1)
}

/// A result for `request_id` arrived: its job's next step is due now. Returns whether a
/// running job waits for it.
pub async fn wake(db: &impl ConnectionTrait, request_id: &str) -> Result<bool, RepoError> {
    let result = Generations::update_many()
        .col_expr(generations::Column::NextAttemptMs, Expr::value(0_i64))
        .filter(generations::Column::FalRequestId.eq(request_id))
        .filter(generations::Column::Status.eq(db_status(GenerationStatus::Running)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The job a FAL request belongs to, and its status: a result may come after the job ended
/// (a deadline cancelled it at FAL, which may still finish and bill).
pub async fn find_by_request(
    db: &impl ConnectionTrait,
    request_id: &str,
) -> Result<Option<(GenerationId, GenerationStatus)>, RepoError> {
    let row = Generations::find()
        .filter(generations::Column::FalRequestId.eq(request_id))
        .one(db)
        .await?;
    Ok(row.map(|row| (GenerationId(row.id), GenerationStatus::from(row.status))))
}

/// Jobs per status, for the queue-depth gauge.
pub async fn depth(db: &impl ConnectionTrait) -> Result<Vec<(GenerationStatus, u64)>, RepoError> {
    let mut out = Vec::new();
    for status in [GenerationStatus::Queued, GenerationStatus::Running] {
        let n = Generations::find()
            .filter(generations::Column::Status.eq(db_status(status)))
            .count(db)
            .await?;
        out.push((status, n));
    }
    Ok(out)
}

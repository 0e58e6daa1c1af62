//! Counts behind the per-person limits on what costs us and not them: wrong promo codes
//! (guessing), free requests to the language model, images the safety checker blocked.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};
use studio_domain::{GenerationFailure, UserId};

use crate::RepoError;
use crate::sql::{now_ms, statement};

async fn count(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64, RepoError> {
    let row = db
        .query_one_raw(statement(db.get_database_backend(), sql, values))
        .await?;
    let n = match row {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A wrong promo code tried by `user` now.
pub async fn record_promo_miss(db: &impl ConnectionTrait, user: UserId) -> Result<(), RepoError> {
    let sql = "INSERT INTO promo_misses (user_id, at_ms) VALUES ($1, $2)";
    db.execute_raw(statement(
        db.get_database_backend(),
        sql,
        vec![user.0.into(), now_ms().into()],
    ))
    .await?;
    Ok(())
}

/// Wrong promo codes `user` tried since `since_ms` (unix ms).
pub async fn promo_misses_since(
    db: &impl ConnectionTrait,
    user: UserId,
    since_ms: i64,
) -> Result<u64, RepoError> {
    let sql = "SELECT COUNT(*) AS n FROM promo_misses WHERE user_id = $1 AND at_ms >= $2";
    count(db, sql, vec![user.0.into(), since_ms.into()]).await
}

/// Forgets wrong promo codes tried before `before_ms`; returns how many.
pub async fn purge_promo_misses(
    db: &impl ConnectionTrait,
    before_ms: i64,
) -> Result<u64, RepoError> {
    let sql = "DELETE FROM promo_misses WHERE at_ms < $1";
    let result = db
        .execute_raw(statement(
            db.get_database_backend(),
            sql,
            vec![before_ms.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// Requests to the language model (photos described, prompts translated) `user` made since.
pub async fn model_requests_since(
    db: &impl ConnectionTrait,
    user: UserId,
    since: DateTime<Utc>,
) -> Result<u64, RepoError> {
    let sql = "SELECT COUNT(*) AS n FROM prompt_jobs WHERE user_id = $1 AND created_at >= $2";
    count(db, sql, vec![user.0.into(), since.into()]).await
}

/// `user`'s images the safety checker blocked (and that were refunded) since.
pub async fn blocked_images_since(
    db: &impl ConnectionTrait,
    user: UserId,
    since: DateTime<Utc>,
) -> Result<u64, RepoError> {
    // The label is written into the statement so the partial index on it applies.
    let sql = format!(
        "SELECT COUNT(*) AS n FROM generations \
         WHERE user_id = $1 AND failure = '{nsfw}' AND finished_at >= $2",
        nsfw = GenerationFailure::Nsfw.label()
    );
    count(db, &sql, vec![user.0.into(), since.into()]).await
}

//! Verified FAL webhooks, stored before they are answered; FAL's retries dedupe on the key.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TryInsertResult,
};

use crate::RepoError;
use crate::entities::fal_callbacks::{self, Entity as Callbacks};

/// Stores a callback; `false` when one with this request id was stored before.
pub async fn store(
    db: &impl ConnectionTrait,
    request_id: &str,
    body: &str,
) -> Result<bool, RepoError> {
    let row = fal_callbacks::ActiveModel {
        request_id: Set(request_id.to_owned()),
        body: Set(body.to_owned()),
        received_at: Set(Utc::now()),
    };
    let result = Callbacks::insert(row)
        .on_conflict(
            OnConflict::column(fal_callbacks::Column::RequestId)
                .do_nothing()
                .to_owned(),
        )
        .try_insert()
        .exec_without_returning(db)
        .await?;
    Ok(matches!(result, TryInsertResult::Inserted(n) if n > 0))
}

/// The stored body of the callback for `request_id`, if it came.
pub async fn find(
    db: &impl ConnectionTrait,
    request_id: &str,
) -> Result<Option<String>, RepoError> {
    Ok(Callbacks::find_by_id(request_id.to_owned())
        .one(db)
        .await?
        .map(|row| row.body))
}

/// Forgets callbacks received before `before` (their jobs ended long ago).
pub async fn purge(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<Utc>,
) -> Result<u64, RepoError> {
    let result = Callbacks::delete_many()
        .filter(fal_callbacks::Column::ReceivedAt.lt(before))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Forgets callbacks received before `before` that belong to no generation or training: only
/// FAL signs them (other requests of the account, results of deleted avatars), and they are
/// kept a short while only because a result can arrive before its submission is recorded.
pub async fn purge_orphans(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<Utc>,
) -> Result<u64, RepoError> {
    let sql = "DELETE FROM fal_callbacks WHERE received_at < $1 \
               AND NOT EXISTS (SELECT 1 FROM generations g WHERE g.fal_request_id = fal_callbacks.request_id) \
               AND NOT EXISTS (SELECT 1 FROM avatars a WHERE a.training_request_id = fal_callbacks.request_id)";
    let result = db
        .execute_raw(crate::sql::statement(
            db.get_database_backend(),
            sql,
            vec![before.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

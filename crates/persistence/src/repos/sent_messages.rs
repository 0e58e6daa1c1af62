//! Message ids of tagged messages (one per chat and tag), so a progress message is edited in
//! place instead of piling up new ones.

use sea_orm::{ConnectionTrait, Value};
use studio_domain::ChatId;

use crate::RepoError;
use crate::sql::statement;

pub async fn find(
    db: &impl ConnectionTrait,
    chat: ChatId,
    tag: &str,
) -> Result<Option<i64>, RepoError> {
    let backend = db.get_database_backend();
    let sql = "SELECT message_id FROM sent_messages WHERE chat_id = $1 AND tag = $2";
    let row = db
        .query_one_raw(statement(backend, sql, vec![chat.0.into(), tag.into()]))
        .await?;
    Ok(row.map(|r| r.try_get("", "message_id")).transpose()?)
}

pub async fn remember(
    db: &impl ConnectionTrait,
    chat: ChatId,
    tag: &str,
    message_id: i64,
) -> Result<(), RepoError> {
    let backend = db.get_database_backend();
    let sql = "INSERT INTO sent_messages (chat_id, tag, message_id) VALUES ($1, $2, $3) \
               ON CONFLICT (chat_id, tag) DO UPDATE SET message_id = excluded.message_id";
    let values: Vec<Value> = vec![chat.0.into(), tag.into(), message_id.into()];
    db.execute_raw(statement(backend, sql, values)).await?;
    Ok(())
}

/// The next tagged message starts a new one (a new upload session, say).
pub async fn forget(db: &impl ConnectionTrait, chat: ChatId, tag: &str) -> Result<(), RepoError> {
    let backend = db.get_database_backend();
    let sql = "DELETE FROM sent_messages WHERE chat_id = $1 AND tag = $2";
    db.execute_raw(statement(backend, sql, vec![chat.0.into(), tag.into()]))
        .await?;
    Ok(())
}

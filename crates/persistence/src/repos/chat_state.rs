use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use std::collections::HashMap;

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use studio_domain::ChatId;

use crate::RepoError;
use crate::entities::chat_state::{self, Entity as ChatState};

/// The stored dialog of a chat, as the JSON `bot-ui` wrote.
pub async fn load(db: &impl ConnectionTrait, chat: ChatId) -> Result<Option<String>, RepoError> {
    Ok(ChatState::find_by_id(chat.0)
        .one(db)
        .await?
        .map(|row| row.dialog))
}

pub async fn save(db: &impl ConnectionTrait, chat: ChatId, dialog: &str) -> Result<(), RepoError> {
    save_many(db, &[(chat, dialog.to_owned())]).await
}

/// The stored dialogs of several chats (a batch of updates), by chat; chats without one are
/// absent.
pub async fn load_many(
    db: &impl ConnectionTrait,
    chats: &[ChatId],
) -> Result<HashMap<ChatId, String>, RepoError> {
    if chats.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = chats.iter().map(|c| c.0).collect();
    Ok(ChatState::find()
        .filter(chat_state::Column::ChatId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (ChatId(row.chat_id), row.dialog))
        .collect())
}

/// Saves several chats' dialogs in one statement (the last one given wins for a chat).
pub async fn save_many(
    db: &impl ConnectionTrait,
    dialogs: &[(ChatId, String)],
) -> Result<(), RepoError> {
    let unique: HashMap<ChatId, &String> = dialogs.iter().map(|(c, d)| (*c, d)).collect();
    if unique.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = unique
        .into_iter()
        .map(|(chat, dialog)| chat_state::ActiveModel {
            chat_id: Set(chat.0),
            dialog: Set(dialog.clone()),
            updated_at: Set(now),
        });
    let on_conflict = OnConflict::column(chat_state::Column::ChatId)
        .update_columns([chat_state::Column::Dialog, chat_state::Column::UpdatedAt])
        .to_owned();
    ChatState::insert_many(rows)
        .on_conflict(on_conflict)
        .exec(db)
        .await?;
    Ok(())
}

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
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
    let row = chat_state::ActiveModel {
        chat_id: Set(chat.0),
        dialog: Set(dialog.to_owned()),
        updated_at: Set(Utc::now()),
    };
    let on_conflict = OnConflict::column(chat_state::Column::ChatId)
        .update_columns([chat_state::Column::Dialog, chat_state::Column::UpdatedAt])
        .to_owned();
    ChatState::insert(row)
        .on_conflict(on_conflict)
        .exec(db)
        .await?;
    Ok(())
}

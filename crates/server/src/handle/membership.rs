//! `my_chat_member` in a private chat: the person blocked or unblocked the bot.

use studio_domain::ChatId;
use studio_persistence::DatabaseTransaction;
use studio_persistence::RepoError;
use studio_persistence::repos::{outbox, users};

use super::context::Context;

pub async fn blocked(txn: &DatabaseTransaction, cx: &Context) -> Result<(), RepoError> {
    if let Some(user) = cx.telegram_user() {
        users::set_blocked(txn, user, true).await?;
        let dropped = outbox::drop_pending(txn, ChatId(cx.chat), "user blocked the bot").await?;
        tracing::info!(user_id = %user, dropped, "user blocked the bot");
    }
    Ok(())
}

pub async fn unblocked(txn: &DatabaseTransaction, cx: &Context) -> Result<(), RepoError> {
    if let Some(user) = cx.telegram_user() {
        users::set_blocked(txn, user, false).await?;
        tracing::info!(user_id = %user, "user unblocked the bot");
    }
    Ok(())
}

//! Messages workers send a person outside any update: in their language, to their private
//! chat, through the outbox in the caller's transaction; never to someone who blocked us.

use studio_bot_ui::{Outgoing, Screen};
use studio_domain::{ChatId, Language, UserId};
use studio_persistence::ConnectionTrait;
use studio_persistence::RepoError;
use studio_persistence::repos::{outbox, users};

/// Queues `screen` for the user; `false` if there is no one to tell.
pub async fn person(
    db: &impl ConnectionTrait,
    user: UserId,
    screen: impl FnOnce(Language) -> Screen,
) -> Result<bool, RepoError> {
    calls(db, user, |language, chat| {
        vec![Outgoing::Send {
            chat,
            screen: screen(language),
        }]
    })
    .await
}

/// Queues the calls `make` builds for the user's language and private chat, in order;
/// `false` if there is no one to tell.
pub async fn calls(
    db: &impl ConnectionTrait,
    user: UserId,
    make: impl FnOnce(Language, i64) -> Vec<Outgoing>,
) -> Result<bool, RepoError> {
    let Some(user) = users::find(db, user).await? else {
        return Ok(false);
    };
    if user.is_blocked {
        return Ok(false);
    }
    // A person's private chat has their user id.
    let chat = user.telegram_id.0;
    for call in make(user.language(), chat) {
        let payload = call.payload().to_string();
        let chat = ChatId(call.chat());
        outbox::enqueue_tagged(db, chat, call.method(), &payload, call.tag()).await?;
    }
    Ok(true)
}

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
    let Some(user) = users::find(db, user).await? else {
        return Ok(false);
    };
    if user.is_blocked {
        return Ok(false);
    }
    let language = user.language();
    // A person's private chat has their user id.
    let call = Outgoing::Send {
        chat: user.telegram_id.0,
        screen: screen(language),
    };
    let payload = call.payload().to_string();
    outbox::enqueue(db, ChatId(call.chat()), call.method(), &payload).await?;
    Ok(true)
}

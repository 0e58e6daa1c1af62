//! Messages workers send a person outside any update: in their language, to their private
//! chat, through the outbox in the caller's transaction; never to someone who blocked us.

use sea_orm::ConnectionTrait;
use studio_bot_ui::{Outgoing, Screen};
use studio_domain::{ChatId, Language, UserId};
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
    let language = language(&user);
    // A person's private chat has their user id.
    let call = Outgoing::Send {
        chat: user.telegram_id,
        screen: screen(language),
    };
    let payload = call.payload().to_string();
    outbox::enqueue(db, ChatId(call.chat()), call.method(), &payload).await?;
    Ok(true)
}

/// The language a person reads: the one chosen in settings, else Telegram's.
pub fn language(user: &users::User) -> Language {
    user.ui_language
        .as_deref()
        .and_then(Language::from_code)
        .unwrap_or_else(|| Language::from_telegram(user.language_code.as_deref()))
}

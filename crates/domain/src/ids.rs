//! Ids as newtypes, so a Telegram user id can never be passed where our user id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Our user row id.
    UserId
);
id_type!(
    /// Telegram's user id (`from.id`).
    TelegramUserId
);
id_type!(
    /// Telegram chat id; negative for groups and channels.
    ChatId
);
id_type!(
    /// Telegram's `update_id`: unique per bot, not always increasing.
    UpdateId
);
id_type!(AvatarId);
id_type!(GenerationId);
id_type!(
    /// A style pack a person ordered.
    PackOrderId
);
id_type!(
    /// A queued vision or translation request.
    PromptJobId
);

//! Telegram's sending limits, as facts: about 30 messages per second for the bot, one per
//! second per chat, and 20 per minute per group; over them, 429 with `retry_after`. They are
//! the bot's, not a process's, so the pace that keeps them is shared by every replica (the
//! server keeps it in the database); this module only says what counts and how much.

use std::num::NonZeroU32;
use std::time::Duration;

/// Messages per minute Telegram allows to one group.
pub const GROUP_MESSAGES_PER_MINUTE: u32 = 20;

/// The pace the bot keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    /// Messages per second for the whole bot, across chats and replicas.
    pub global_per_second: NonZeroU32,
    /// Messages per second to one private chat.
    pub chat_per_second: NonZeroU32,
}

impl SendLimits {
    /// Time between two messages of the bot, whatever their chats.
    pub fn spacing(&self) -> Duration {
        Duration::from_secs(1) / self.global_per_second.get()
    }

    /// Time a chat waits after a message to it before the next. Group chats have negative
    /// ids; their per-minute allowance is spread evenly rather than spent in a burst.
    pub fn chat_gap(&self, chat: i64) -> Duration {
        let private = Duration::from_secs(1) / self.chat_per_second.get();
        if chat < 0 {
            private.max(Duration::from_secs(60) / GROUP_MESSAGES_PER_MINUTE)
        } else {
            private
        }
    }
}

/// Whether Telegram's limits count a call. Answering a button or a pre-checkout query and
/// deleting a message are not messages: they go at once, and a payment must be answered
/// within 10 seconds whatever else waits. Anything else is counted, so a method added later
/// is paced until known otherwise.
pub fn counts_as_message(method: &str) -> bool {
    !matches!(
        method,
        "answerCallbackQuery" | "answerPreCheckoutQuery" | "deleteMessage"
    )
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::{SendLimits, counts_as_message};

    #[test]
    fn groups_wait_longer_than_private_chats() {
        let limits = SendLimits {
            global_per_second: NonZeroU32::new(28).unwrap(),
            chat_per_second: NonZeroU32::MIN,
        };
        assert_eq!(limits.chat_gap(42), Duration::from_secs(1));
        assert_eq!(limits.chat_gap(-1_001_234), Duration::from_secs(3));
        assert_eq!(limits.spacing(), Duration::from_secs(1) / 28);
    }

    #[test]
    fn answers_are_not_messages() {
        assert!(!counts_as_message("answerCallbackQuery"));
        assert!(!counts_as_message("answerPreCheckoutQuery"));
        assert!(counts_as_message("sendMessage"));
        assert!(counts_as_message("sendMediaGroup"));
    }
}

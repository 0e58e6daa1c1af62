//! Telegram's sending limits as token buckets: about 30 messages per second for the bot, one
//! per second per chat (short bursts tolerated), and 20 per minute per group. The sender
//! waits here before every call; a 429 that still happens is honoured by the caller.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    pub global_per_second: NonZeroU32,
    pub chat_per_second: NonZeroU32,
    pub group_per_minute: NonZeroU32,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self {
            global_per_second: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            chat_per_second: NonZeroU32::MIN,
            group_per_minute: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
        }
    }
}

pub struct Throttle {
    global: DefaultDirectRateLimiter,
    chats: DefaultKeyedRateLimiter<i64>,
    groups: DefaultKeyedRateLimiter<i64>,
}

impl Throttle {
    pub fn new(limits: SendLimits) -> Self {
        Self {
            global: RateLimiter::direct(Quota::per_second(limits.global_per_second)),
            chats: RateLimiter::keyed(Quota::per_second(limits.chat_per_second)),
            groups: RateLimiter::keyed(Quota::per_minute(limits.group_per_minute)),
        }
    }

    /// Waits until a message to `chat` may go out. Group chats have negative ids. Calls that
    /// are not messages (answering a button) only count against the global limit.
    pub async fn until_ready(&self, chat: i64, is_message: bool) {
        if is_message {
            if chat < 0 {
                self.groups.until_key_ready(&chat).await;
            }
            self.chats.until_key_ready(&chat).await;
        }
        self.global.until_ready().await;
    }

    /// Forgets buckets of chats that have been quiet, so memory does not grow with users.
    pub fn forget_idle(&self) {
        self.chats.retain_recent();
        self.groups.retain_recent();
        self.chats.shrink_to_fit();
        self.groups.shrink_to_fit();
    }

    /// How often `forget_idle` is worth calling.
    pub const FORGET_EVERY: Duration = Duration::from_secs(60);
}

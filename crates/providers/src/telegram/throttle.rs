//! Telegram's sending limits: about 30 messages per second for the bot, one per second per
//! chat, and 20 per minute per group. The sender waits here before every call; a 429 that
//! still happens is honoured by the caller.
//!
//! A chat's spacing is measured from when its last message actually left, after the global
//! wait: reserving the chat's slot first and then queueing for the global one would let two
//! messages to one chat leave closer together than a second.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// Messages the global pace may send back to back after a late wake-up. Without any, a
/// sender that wakes a few milliseconds late loses that slot for good; with 30 at once after
/// a quiet spell Telegram answers 429. At most `rate + GLOBAL_BURST - 1` messages leave in any
/// second: 28/s stays within Telegram's 30 with one to spare for network jitter.
pub const GLOBAL_BURST: NonZeroU32 = match NonZeroU32::new(2) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    pub global_per_second: NonZeroU32,
    pub chat_per_second: NonZeroU32,
    pub group_per_minute: NonZeroU32,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self {
            global_per_second: NonZeroU32::new(28).unwrap_or(NonZeroU32::MIN),
            chat_per_second: NonZeroU32::MIN,
            group_per_minute: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
        }
    }
}

pub struct Throttle {
    global: DefaultDirectRateLimiter,
    groups: DefaultKeyedRateLimiter<i64>,
    chat_gap: Duration,
    /// When each chat's last message left.
    last_sent: Mutex<HashMap<i64, Instant>>,
}

impl Throttle {
    pub fn new(limits: SendLimits) -> Self {
        Self {
            global: RateLimiter::direct(
                Quota::per_second(limits.global_per_second).allow_burst(GLOBAL_BURST),
            ),
            groups: RateLimiter::keyed(Quota::per_minute(limits.group_per_minute)),
            chat_gap: Duration::from_secs(1) / limits.chat_per_second.get(),
            last_sent: Mutex::new(HashMap::new()),
        }
    }

    fn last_sent(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Instant>> {
        self.last_sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until a message to `chat` may go out. Group chats have negative ids. Calls that
    /// are not messages (answering a button, deleting) are not what Telegram's limits count
    /// and go at once: a spinner should stop without queueing behind bulk sends. The sender
    /// has at most one call per chat in flight, so a chat's spacing needs no reservation.
    pub async fn until_ready(&self, chat: i64, is_message: bool) {
        if !is_message {
            return;
        }
        let last = self.last_sent().get(&chat).copied();
        if let Some(last) = last {
            tokio::time::sleep_until(last + self.chat_gap).await;
        }
        if chat < 0 {
            self.groups.until_key_ready(&chat).await;
        }
        self.global.until_ready().await;
        self.last_sent().insert(chat, Instant::now());
    }

    /// Forgets chats that have been quiet, so memory does not grow with users.
    pub fn forget_idle(&self) {
        let gap = self.chat_gap;
        self.last_sent().retain(|_, at| at.elapsed() < gap);
        self.groups.retain_recent();
        self.groups.shrink_to_fit();
    }

    /// How often `forget_idle` is worth calling.
    pub const FORGET_EVERY: Duration = Duration::from_secs(60);
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::{SendLimits, Throttle};

    /// Paused time: the test reads the clock the throttle waits on, it does not measure.
    #[tokio::test(start_paused = true)]
    async fn a_chat_waits_a_full_gap_after_its_last_message_left() {
        let throttle = Throttle::new(SendLimits {
            global_per_second: NonZeroU32::new(1000).unwrap(),
            ..SendLimits::default()
        });
        let start = tokio::time::Instant::now();
        throttle.until_ready(7, true).await;
        throttle.until_ready(8, true).await;
        throttle.until_ready(7, false).await;
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "others do not wait"
        );
        throttle.until_ready(7, true).await;
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "the chat waited its gap"
        );
    }
}

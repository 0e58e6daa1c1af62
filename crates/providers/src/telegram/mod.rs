//! A small typed Telegram Bot API client for the methods the bot uses, and Telegram's sending
//! limits. See `docs/decisions.md` for why this is
//! our own client rather than `teloxide-core` or `frankenstein`.

mod client;
mod error;
mod limits;

pub use client::{DownloadError, Me, TelegramClient, TelegramFile, WebhookInfo};
pub use error::TelegramError;
pub use limits::{GROUP_MESSAGES_PER_MINUTE, SendLimits, counts_as_message};

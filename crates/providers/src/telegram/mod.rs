//! A small typed Telegram Bot API client for the methods the bot uses, and the throttle that
//! keeps outbound traffic within Telegram's limits. See `docs/decisions.md` for why this is
//! our own client rather than `teloxide-core` or `frankenstein`.

mod client;
mod error;
mod throttle;

pub use client::{DownloadError, Me, TelegramClient, TelegramFile, WebhookInfo};
pub use error::TelegramError;
pub use throttle::{SendLimits, Throttle};

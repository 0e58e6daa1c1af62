//! An OpenAI-compatible chat completions client: a prompt from a reference photo (vision,
//! structured JSON) and a prompt's English translation. Images go as base64 data URLs, never
//! as links: a Telegram file link holds the bot token.

mod client;
mod error;
mod types;

pub use client::OpenAiClient;
pub use error::OpenAiError;
pub use types::{PhotoDescription, ShotType};

//! Avatar Studio's rules and types: no I/O, no async runtime, no ORM.
//!
//! Everything a status, an amount of money or an aspect ratio can be is spelled here once, as
//! a type; the other crates translate these types at their edges (database, Telegram, FAL).
#![warn(clippy::wildcard_enum_match_arm)]

mod aspect_ratio;
mod avatar_name;
mod avatar_status;
mod credits;
mod gallery_filter;
mod gender;
mod generation_failure;
mod generation_status;
mod ids;
mod language;
mod ledger_kind;
pub mod photo;
mod prompt;
mod prompt_failure;
pub mod styles;
mod top_up;
mod transition;

pub use aspect_ratio::AspectRatio;
pub use avatar_name::{AvatarName, NameError};
pub use avatar_status::{AvatarStatus, NotReady};
pub use credits::{Credits, Missing};
pub use gallery_filter::GalleryFilter;
pub use gender::Gender;
pub use generation_failure::GenerationFailure;
pub use generation_status::GenerationStatus;
pub use ids::{
    AvatarId, ChatId, GenerationId, PackOrderId, PromptJobId, TelegramUserId, UpdateId, UserId,
};
pub use language::Language;
pub use ledger_kind::LedgerKind;
pub use prompt::{Prompt, PromptError, shorten};
pub use prompt_failure::PromptFailure;
pub use top_up::{PackagesError, TopUpPackage, TopUpPackages};
pub use transition::IllegalTransition;

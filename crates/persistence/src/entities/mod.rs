//! sea-orm entities, one file per table.

pub mod active_enums;
pub mod avatar_photos;
pub mod avatars;
pub mod chat_state;
pub mod fal_callbacks;
pub mod generations;
pub mod inbox;
pub mod ledger;
pub mod outbox;
pub mod prompt_jobs;
pub mod user_settings;
pub mod users;

//! Repositories, one module per aggregate. Functions take any `ConnectionTrait`, so callers
//! decide which calls share a transaction.

pub mod avatars;
pub mod chat_state;
pub mod fal_callbacks;
pub mod generations;
pub mod inbox;
pub mod jobs;
pub mod ledger;
pub mod limits;
pub mod outbox;
pub mod packs;
pub mod payments;
pub mod photos;
pub mod promos;
pub mod prompt_jobs;
pub mod send_pace;
pub mod sent_messages;
pub mod settings;
pub mod styles;
pub mod trainings;
pub mod users;
pub mod workers;

//! The only crate that knows SQL: sea-orm entities, the status enums' storage mapping, and
//! repositories. Every repository function takes a `ConnectionTrait`, so a use case runs the
//! same calls on a pool or inside the transaction that marks its inbox row done.
//!
//! Lookups of a user's things take the owner (`avatars::find_owned(db, user, id)`): another
//! user's id and a missing id are the same `None`.

mod connect;
pub mod entities;
mod error;
mod queue;
mod readiness;
pub mod repos;
mod sql;
pub mod upkeep;

pub use connect::{connect, migrate_down, migrate_up};
pub use entities::active_enums::{DbAvatarStatus, DbGenerationStatus, InboxState, OutboxState};
pub use error::RepoError;
pub use readiness::{EnumColumn, NotReady, check_ready, column_labels, enum_columns, enum_labels};
pub use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};

/// Opens a transaction: the repository calls made with it commit, or roll back, together.
/// The server opens its transactions here, so it needs no ORM of its own.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, RepoError> {
    use sea_orm::TransactionTrait;
    Ok(db.begin().await?)
}

//! The schema, as migrations. `Migrator` is run by `avatar-studio migrate` and, unless
//! disabled, at `serve` start-up; tests run it on SQLite and PostgreSQL alike.
//!
//! The initial schema is written as SQL per backend rather than with the schema builder:
//! native PostgreSQL enums, SQLite CHECK constraints and partial unique indexes are the point
//! of this schema, and plain SQL shows them as the database will see them.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_initial;
mod m20261125_000002_generation_jobs;
mod m20261125_000003_training_jobs;
mod m20261125_000004_prompt_jobs;
mod m20261130_000005_send_pace;
mod m20261130_000006_photo_file_ids;
mod m20261130_000007_outbox_failures;
mod m20261201_000008_lease_owners;
mod m20261201_000009_abuse_limits;
mod m20261201_000010_style_library;
mod sql_files;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_initial::Migration),
            Box::new(m20261125_000002_generation_jobs::Migration),
            Box::new(m20261125_000003_training_jobs::Migration),
            Box::new(m20261125_000004_prompt_jobs::Migration),
            Box::new(m20261130_000005_send_pace::Migration),
            Box::new(m20261130_000006_photo_file_ids::Migration),
            Box::new(m20261130_000007_outbox_failures::Migration),
            Box::new(m20261201_000008_lease_owners::Migration),
            Box::new(m20261201_000009_abuse_limits::Migration),
            Box::new(m20261201_000010_style_library::Migration),
        ]
    }
}

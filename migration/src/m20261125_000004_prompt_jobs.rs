use sea_orm_migration::prelude::*;

use crate::sql_files::SqlFiles;

const FILES: SqlFiles = SqlFiles {
    postgres_up: include_str!("sql/prompt_jobs_up.postgres.sql"),
    sqlite_up: include_str!("sql/prompt_jobs_up.sqlite.sql"),
    postgres_down: include_str!("sql/prompt_jobs_down.postgres.sql"),
    sqlite_down: include_str!("sql/prompt_jobs_down.sqlite.sql"),
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        FILES.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        FILES.down(manager).await
    }

    /// SQLite runs DDL in transactions too; a half-applied schema is worse than none.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => include_str!("sql/training_jobs_up.postgres.sql"),
            DbBackend::Sqlite => include_str!("sql/training_jobs_up.sqlite.sql"),
            other => return Err(unsupported(other)),
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => include_str!("sql/training_jobs_down.postgres.sql"),
            DbBackend::Sqlite => include_str!("sql/training_jobs_down.sqlite.sql"),
            other => return Err(unsupported(other)),
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    /// SQLite runs DDL in transactions too; a half-applied schema is worse than none.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

fn unsupported(backend: DbBackend) -> DbErr {
    DbErr::Migration(format!("unsupported database backend {backend:?}"))
}

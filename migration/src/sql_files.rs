//! A migration written as SQL per backend: native PostgreSQL enums, SQLite CHECK constraints
//! and partial indexes read best as the database will see them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The four scripts of one migration.
pub(crate) struct SqlFiles {
    pub postgres_up: &'static str,
    pub sqlite_up: &'static str,
    pub postgres_down: &'static str,
    pub sqlite_down: &'static str,
}

impl SqlFiles {
    pub async fn up(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        run(manager, self.postgres_up, self.sqlite_up).await
    }

    pub async fn down(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        run(manager, self.postgres_down, self.sqlite_down).await
    }
}

async fn run(manager: &SchemaManager<'_>, postgres: &str, sqlite: &str) -> Result<(), DbErr> {
    let sql = match manager.get_database_backend() {
        DbBackend::Postgres => postgres,
        DbBackend::Sqlite => sqlite,
        other => {
            return Err(DbErr::Migration(format!(
                "unsupported database backend {other:?}"
            )));
        }
    };
    manager.get_connection().execute_unprepared(sql).await?;
    Ok(())
}

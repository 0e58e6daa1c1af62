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

/// A migration made of the four files `sql/{files}_{up,down}.{postgres,sqlite}.sql`, named
/// `name` in the migrations table. It runs in a transaction on both backends: SQLite runs DDL
/// in transactions too, and a half-applied schema is worse than none.
macro_rules! sql_migration {
    ($name:literal, $files:literal) => {
        use sea_orm_migration::prelude::*;

        use crate::sql_files::SqlFiles;

        const FILES: SqlFiles = SqlFiles {
            postgres_up: include_str!(concat!("sql/", $files, "_up.postgres.sql")),
            sqlite_up: include_str!(concat!("sql/", $files, "_up.sqlite.sql")),
            postgres_down: include_str!(concat!("sql/", $files, "_down.postgres.sql")),
            sqlite_down: include_str!(concat!("sql/", $files, "_down.sqlite.sql")),
        };

        pub struct Migration;

        impl MigrationName for Migration {
            fn name(&self) -> &str {
                $name
            }
        }

        #[async_trait::async_trait]
        impl MigrationTrait for Migration {
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                FILES.up(manager).await
            }

            async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                FILES.down(manager).await
            }

            fn use_transaction(&self) -> Option<bool> {
                Some(true)
            }
        }
    };
}

pub(crate) use sql_migration;

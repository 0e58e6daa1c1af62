//! What `/readyz` asks of the database: reachable, fully migrated, and holding exactly the
//! status labels the Rust enums have. Label drift fails a deploy instead of failing users.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Iterable};
use studio_migration::{Migrator, MigratorTrait};

use crate::sql::statement;
use crate::{DbAvatarStatus, DbGenerationStatus};

#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("database unreachable: {0}")]
    Unreachable(#[from] DbErr),
    #[error("migrations not applied: {0:?}")]
    PendingMigrations(Vec<String>),
    /// Reachable, but the applied migrations cannot be compared with the code's: most often
    /// the database has one this code does not know (a newer release migrated it).
    #[error("applied migrations do not match the code's: {0}")]
    UnknownMigrations(DbErr),
    #[error("enum {name} drifted: database has {database:?}, code has {code:?}")]
    EnumDrift {
        name: &'static str,
        database: Vec<String>,
        code: Vec<String>,
    },
}

impl NotReady {
    /// The failing check in one fixed word, for anything that asks over HTTP; the error itself,
    /// with hosts, names and labels, is for the log.
    pub fn check(&self) -> &'static str {
        match self {
            Self::Unreachable(_) => "database",
            Self::PendingMigrations(_) | Self::UnknownMigrations(_) => "migrations",
            Self::EnumDrift { .. } => "enum_labels",
        }
    }
}

pub async fn check_ready(db: &DatabaseConnection) -> Result<(), NotReady> {
    db.execute_unprepared("SELECT 1").await?;
    let pending = Migrator::get_pending_migrations(db)
        .await
        .map_err(NotReady::UnknownMigrations)?;
    if !pending.is_empty() {
        return Err(NotReady::PendingMigrations(
            pending.iter().map(|m| m.name().to_owned()).collect(),
        ));
    }
    check_labels(
        db,
        "avatar_status",
        "avatars",
        code_labels::<DbAvatarStatus>(),
    )
    .await?;
    check_labels(
        db,
        "generation_status",
        "generations",
        code_labels::<DbGenerationStatus>(),
    )
    .await
}

fn code_labels<E: sea_orm::ActiveEnum<Value = String> + Iterable>() -> Vec<String> {
    E::iter().map(|v| v.to_value()).collect()
}

async fn check_labels(
    db: &DatabaseConnection,
    name: &'static str,
    table: &str,
    code: Vec<String>,
) -> Result<(), NotReady> {
    let database = enum_labels(db, name, table).await?;
    if database == code {
        Ok(())
    } else {
        Err(NotReady::EnumDrift {
            name,
            database,
            code,
        })
    }
}

/// The labels the database accepts for a status column, in declaration order: the native enum
/// on PostgreSQL, the CHECK constraint's list on SQLite.
pub async fn enum_labels(
    db: &impl ConnectionTrait,
    enum_name: &str,
    table: &str,
) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    match backend {
        DbBackend::Postgres => {
            let sql = "SELECT e.enumlabel AS label FROM pg_enum e \
                       JOIN pg_type t ON t.oid = e.enumtypid \
                       WHERE t.typname = $1 AND pg_type_is_visible(t.oid) \
                       ORDER BY e.enumsortorder";
            let rows = db
                .query_all_raw(statement(backend, sql, vec![enum_name.into()]))
                .await?;
            rows.iter().map(|row| row.try_get("", "label")).collect()
        }
        _ => {
            let sql = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1";
            let row = db
                .query_one_raw(statement(backend, sql, vec![table.into()]))
                .await?;
            let ddl: String = match row {
                Some(row) => row.try_get("", "sql")?,
                None => return Ok(Vec::new()),
            };
            Ok(check_list(&ddl, "status"))
        }
    }
}

/// The quoted values of `CHECK (<column> IN ('a', 'b'))` in a table's DDL.
fn check_list(ddl: &str, column: &str) -> Vec<String> {
    let needle = format!("CHECK ({column} IN (");
    let Some(start) = ddl.find(&needle).map(|i| i + needle.len()) else {
        return Vec::new();
    };
    let list = ddl[start..].split(')').next().unwrap_or_default();
    list.split(',')
        .map(|item| item.trim().trim_matches('\'').to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_a_check_list() {
        let ddl = "CREATE TABLE t (status TEXT NOT NULL CHECK (status IN (\n 'a', 'b_c')), x INT)";
        assert_eq!(super::check_list(ddl, "status"), ["a", "b_c"]);
        assert!(super::check_list(ddl, "kind").is_empty());
    }
}

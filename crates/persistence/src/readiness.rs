//! What `/readyz` asks of the database: reachable, fully migrated, and accepting exactly the
//! labels the storage enums have, in every enum column: a native PostgreSQL enum's values, or
//! a text column's CHECK list. Label drift fails a deploy instead of failing users.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Iterable};
use studio_migration::{Migrator, MigratorTrait};

use crate::entities::active_enums::{
    DbAspectRatio, DbAvatarStatus, DbGender, DbGenerationFailure, DbGenerationStatus, DbLanguage,
    DbLedgerKind, InboxState, OutboxState, PromptJobKind, PromptJobState,
};
use crate::sql::statement;

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
    #[error("enum column {name} drifted: database has {database:?}, code has {code:?}")]
    EnumDrift {
        name: String,
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
    for column in enum_columns() {
        let database = column_labels(db, &column).await?;
        if database != column.code {
            return Err(NotReady::EnumDrift {
                name: format!("{}.{}", column.table, column.column),
                database,
                code: column.code,
            });
        }
    }
    Ok(())
}

/// An enum column: where it is, the native type behind it (if any), and the code's labels.
pub struct EnumColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// The native PostgreSQL enum type; `None` for text with a CHECK list.
    pub native: Option<&'static str>,
    pub code: Vec<String>,
}

fn column<E: sea_orm::ActiveEnum<Value = String> + Iterable>(
    table: &'static str,
    column: &'static str,
    native: Option<&'static str>,
) -> EnumColumn {
    EnumColumn {
        table,
        column,
        native,
        code: E::iter().map(|v| v.to_value()).collect(),
    }
}

/// Every enum column of the schema, with the storage enum that reads it.
pub fn enum_columns() -> Vec<EnumColumn> {
    vec![
        column::<DbAvatarStatus>("avatars", "status", Some("avatar_status")),
        column::<DbGenerationStatus>("generations", "status", Some("generation_status")),
        column::<DbGender>("avatars", "gender", None),
        column::<DbAspectRatio>("generations", "aspect_ratio", None),
        column::<DbAspectRatio>("user_settings", "default_ratio", None),
        column::<DbLanguage>("users", "ui_language", None),
        column::<DbGenerationFailure>("generations", "failure", None),
        column::<DbLedgerKind>("ledger", "kind", None),
        column::<InboxState>("inbox", "state", None),
        column::<OutboxState>("outbox", "state", None),
        column::<PromptJobKind>("prompt_jobs", "kind", None),
        column::<PromptJobState>("prompt_jobs", "state", None),
    ]
}

/// The labels the database accepts in `column`, in declaration order.
pub async fn column_labels(
    db: &impl ConnectionTrait,
    column: &EnumColumn,
) -> Result<Vec<String>, DbErr> {
    match (db.get_database_backend(), column.native) {
        (DbBackend::Postgres, Some(native)) => enum_labels(db, native, column.table).await,
        (DbBackend::Postgres, None) => {
            let sql = "SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c \
                       JOIN pg_class t ON t.oid = c.conrelid \
                       WHERE t.relname = $1 AND c.contype = 'c' AND pg_table_is_visible(t.oid) \
                       ORDER BY c.oid";
            let values = vec![column.table.into()];
            let rows = db
                .query_all_raw(statement(DbBackend::Postgres, sql, values))
                .await?;
            // PostgreSQL shows `CHECK ((c = ANY (ARRAY['a'::text, 'b'::text])))`.
            let mine = format!("({} = ANY", column.column);
            for row in rows {
                let def: String = row.try_get("", "def")?;
                if def.contains(&mine) {
                    return Ok(quoted(&def));
                }
            }
            Ok(Vec::new())
        }
        _ => {
            let ddl = table_ddl(db, column.table).await?;
            Ok(check_list(&ddl, column.column))
        }
    }
}

/// The quoted literals of a constraint's text, in order.
fn quoted(def: &str) -> Vec<String> {
    def.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

async fn table_ddl(db: &impl ConnectionTrait, table: &str) -> Result<String, DbErr> {
    let backend = db.get_database_backend();
    let sql = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1";
    let row = db
        .query_one_raw(statement(backend, sql, vec![table.into()]))
        .await?;
    match row {
        Some(row) => row.try_get("", "sql"),
        None => Ok(String::new()),
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
        _ => Ok(check_list(&table_ddl(db, table).await?, "status")),
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

    #[test]
    fn reads_postgres_check_literals() {
        let def = "CHECK ((ratio = ANY (ARRAY['1:1'::text, '16:9'::text])))";
        assert_eq!(super::quoted(def), ["1:1", "16:9"]);
    }
}

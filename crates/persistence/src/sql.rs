//! Hand-written statements for the queue claims, which need `SKIP LOCKED` and `RETURNING`.
//! They are written once with PostgreSQL's `$n` placeholders; SQLite reads `?n` the same way.

use sea_orm::{DbBackend, Statement, Value};

pub(crate) fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    match backend {
        DbBackend::Sqlite => Statement::from_sql_and_values(backend, sql.replace('$', "?"), values),
        _ => Statement::from_sql_and_values(backend, sql, values),
    }
}

/// `FOR UPDATE SKIP LOCKED` lets replicas share a queue on PostgreSQL; SQLite serialises
/// writers, so the same claim is already exclusive there.
pub(crate) fn skip_locked(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "FOR UPDATE SKIP LOCKED",
        _ => "",
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

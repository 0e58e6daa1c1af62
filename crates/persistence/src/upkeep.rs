//! Vacuuming the tables that churn. Every update inserts an inbox row and rewrites it twice, and
//! its reply does the same in the outbox, so under load dead row versions pile up by tens of
//! thousands a second, and the claims' partial indexes fill with entries that every claim walks
//! past. PostgreSQL's autovacuum wakes once a fifth of a table is dead (and a server may run
//! with it off), which for a queue holding a week of settled rows is far too late. So the bot
//! vacuums its own tables once enough of them is dead. SQLite reuses freed pages by itself.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::RepoError;

/// A table vacuumed and how many dead rows PostgreSQL counted in it just before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacuumed {
    pub table: String,
    pub dead: i64,
}

/// Whether the database needs the bot's vacuums: PostgreSQL does, SQLite does not.
pub fn applies(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// Vacuums every table of the schema with at least `min_dead` dead rows, by PostgreSQL's
/// statistics; returns them. A table another process is vacuuming is skipped, not waited for.
/// Nothing to do on SQLite.
pub async fn vacuum_churned(
    db: &impl ConnectionTrait,
    min_dead: i64,
) -> Result<Vec<Vacuumed>, RepoError> {
    if !applies(db) {
        return Ok(Vec::new());
    }
    let churned = churned(db, min_dead).await?;
    for table in &churned {
        let name = table.table.replace('"', "\"\"");
        // VACUUM cannot run in a transaction block: the pool runs it as a statement of its own.
        db.execute_unprepared(&format!("VACUUM (SKIP_LOCKED) \"{name}\""))
            .await?;
    }
    Ok(churned)
}

async fn churned(db: &impl ConnectionTrait, min_dead: i64) -> Result<Vec<Vacuumed>, RepoError> {
    let sql = "SELECT relname::text AS name, n_dead_tup AS dead FROM pg_stat_user_tables \
               WHERE schemaname = current_schema() AND n_dead_tup >= $1 ORDER BY n_dead_tup DESC";
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [min_dead.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Vacuumed {
                table: row.try_get("", "name")?,
                dead: row.try_get("", "dead")?,
            })
        })
        .collect()
}

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use studio_migration::{Migrator, MigratorTrait};

/// Opens a pool.
///
/// SQLite gets one connection: it has one writer at a time, and many connections contending
/// for that lock wait in SQLite's sleeping busy handler (measured: under load throughput fell
/// to a few updates per second). One connection turns that contention into an async queue for
/// the pool, which is fair and fast. PostgreSQL gets `max_connections`.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let is_sqlite = url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if is_sqlite { 1 } else { max_connections })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL with NORMAL sync: commits survive a crash of the process; a power cut may lose
        // the last few. Production durability is PostgreSQL's job, not the embedded mode's.
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .await?;
    }
    Ok(db)
}

pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Rolls back every migration; used by `migrate --down` and the up/down/up test.
pub async fn migrate_down(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::down(db, None).await
}

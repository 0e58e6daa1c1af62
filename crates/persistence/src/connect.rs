use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait,
};
use studio_migration::{Migrator, MigratorTrait};

/// Opens a pool.
///
/// SQLite gets one connection: it has one writer at a time, and many connections contending
/// for that lock wait in SQLite's sleeping busy handler (measured: under load throughput fell
/// to a few updates per second). One connection turns that contention into an async queue for
/// the pool, which is fair and fast. PostgreSQL gets `max_connections`.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let is_sqlite = url.starts_with("sqlite:");
    let explicit_tls =
        url.to_ascii_lowercase().contains("sslmode=") || std::env::var_os("PGSSLMODE").is_some();
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if is_sqlite { 1 } else { max_connections })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        // The queue claims run as prepared statements; a generic plan cached while a queue was
        // nearly empty turned into a quadratic scan once it held 14,000 rows (measured: one
        // claim ran for over 25 s). Planning each execution with its parameters and the
        // table's current size costs microseconds and keeps claims in milliseconds.
        .map_sqlx_postgres_opts(move |opts| {
            let opts = opts.options([("plan_cache_mode", "force_custom_plan")]);
            if tls_is_pointless(&opts, explicit_tls) {
                opts.ssl_mode(PgSslMode::Disable)
            } else {
                opts
            }
        });
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL with NORMAL sync: commits survive a crash of the process; a power cut may lose
        // the last few. Production durability is PostgreSQL's job, not the embedded mode's.
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .await?;
    }
    Ok(db)
}

/// TLS to a database on this host protects nothing (the bytes never leave it) and, with
/// `sslmode` left at its default (`prefer`), cost three quarters of the webhook's throughput
/// (measured: 1,350 against 4,900 updates/s acknowledged). A `sslmode` in the URL or in
/// `PGSSLMODE` is always obeyed.
fn tls_is_pointless(opts: &PgConnectOptions, explicit: bool) -> bool {
    let host = opts.get_host();
    let loopback = host == "localhost"
        || host.starts_with('/')
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !explicit && loopback
}

/// Applies pending migrations. On PostgreSQL, replicas starting together take turns under an
/// advisory lock: one migrates, the others then find nothing left to do.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await
        }
        _ => Migrator::up(db, None).await,
    }
}

/// Any constant works, as long as nothing else in the database uses it ("AVATARS" in ASCII).
const MIGRATION_LOCK: i64 = 0x0041_5641_5441_5253;

/// Rolls back every migration; used by `migrate --down` and the up/down/up test.
pub async fn migrate_down(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::down(db, None).await
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sea_orm::sqlx::postgres::PgConnectOptions;

    use super::tls_is_pointless;

    #[test]
    fn tls_is_dropped_only_for_this_host_and_only_by_default() {
        let opts = |url: &str| PgConnectOptions::from_str(url).unwrap();
        assert!(tls_is_pointless(
            &opts("postgres://u@127.0.0.1:5432/db"),
            false
        ));
        assert!(tls_is_pointless(&opts("postgres://u@localhost/db"), false));
        assert!(tls_is_pointless(&opts("postgres://u@[::1]:5432/db"), false));
        assert!(!tls_is_pointless(
            &opts("postgres://u@db.internal:5432/db"),
            false
        ));
        assert!(!tls_is_pointless(&opts("postgres://u@10.0.0.7/db"), false));
        assert!(
            !tls_is_pointless(&opts("postgres://u@127.0.0.1/db?sslmode=require"), true),
            "an explicit sslmode is obeyed"
        );
    }
}

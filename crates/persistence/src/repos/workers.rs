//! The processes at work, each known by a heartbeat row. A claim on the inbox or the outbox
//! records the process that holds it; when that process dies (its heartbeat goes stale) its
//! claims are taken over in seconds, not when their leases end, so a pod restart costs people
//! seconds instead of minutes. A live process keeps its claims for the whole lease.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use sea_orm::ConnectionTrait;

use crate::RepoError;
use crate::sql::{now_ms, statement};

/// How often a process beats.
pub const BEAT: Duration = Duration::from_secs(1);
/// A process silent this long is taken for dead, its claims free for others.
pub const DEAD_AFTER: Duration = Duration::from_secs(4);

/// This process as claims name it: an id no other process has had. A process that could not
/// beat for longer than `DEAD_AFTER` (its database was unreachable) takes a new name: what it
/// held under the old one is free, as if it had died, including claims it could not settle
/// while the database was gone.
#[derive(Debug, Clone)]
pub struct Holder(Arc<RwLock<Arc<str>>>);

fn fresh_id() -> Arc<str> {
    format!("{}-{:016x}", std::process::id(), fastrand::u64(..)).into()
}

impl Holder {
    pub fn new() -> Self {
        Self(Arc::new(RwLock::new(fresh_id())))
    }

    pub fn id(&self) -> Arc<str> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Takes a new name; claims under the old one are free once its heartbeat is stale.
    pub fn renew(&self) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = fresh_id();
    }
}

impl Default for Holder {
    fn default() -> Self {
        Self::new()
    }
}

/// A new holder that has beaten once: its claims are its own from the start.
pub async fn register(db: &impl ConnectionTrait) -> Result<Holder, RepoError> {
    let holder = Holder::new();
    beat(db, &holder).await?;
    Ok(holder)
}

/// Records that `holder` is alive now.
pub async fn beat(db: &impl ConnectionTrait, holder: &Holder) -> Result<(), RepoError> {
    let sql = "INSERT INTO workers (id, heartbeat_ms) VALUES ($1, $2) \
               ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms";
    let values = vec![holder.id().to_string().into(), now_ms().into()];
    db.execute_raw(statement(db.get_database_backend(), sql, values))
        .await?;
    Ok(())
}

/// A process stopping cleanly says so: what it still holds is free at once.
pub async fn forget(db: &impl ConnectionTrait, holder: &Holder) -> Result<(), RepoError> {
    let sql = "DELETE FROM workers WHERE id = $1";
    db.execute_raw(statement(
        db.get_database_backend(),
        sql,
        vec![holder.id().to_string().into()],
    ))
    .await?;
    Ok(())
}

/// Forgets processes silent for longer than `silent`; returns how many.
pub async fn purge(db: &impl ConnectionTrait, silent: Duration) -> Result<u64, RepoError> {
    let before = now_ms() - crate::queue::millis(silent);
    let sql = "DELETE FROM workers WHERE heartbeat_ms < $1";
    let result = db
        .execute_raw(statement(
            db.get_database_backend(),
            sql,
            vec![before.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// The SQL condition "the claim on row `q` is held by no live process", with `$now` and the
/// parameter holding the moment before which a heartbeat is stale.
pub(crate) fn holder_is_dead(stale_param: &str) -> String {
    format!(
        "(q.lease_owner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM workers w \
          WHERE w.id = q.lease_owner AND w.heartbeat_ms >= {stale_param}))"
    )
}

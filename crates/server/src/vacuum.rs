//! Keeps the churning tables' dead rows from piling up between PostgreSQL's own vacuums (see
//! `studio_persistence::upkeep`): a look at the statistics every few seconds, and a vacuum of
//! each table that has gathered enough dead rows. Idle tables cost one cheap query.

use std::time::Duration;

use studio_persistence::DatabaseConnection;
use studio_persistence::upkeep;
use tokio_util::sync::CancellationToken;

/// How often the statistics are read: under full load the inbox gathers about this many
/// seconds' worth of dead rows before it is vacuumed.
const EVERY: Duration = Duration::from_secs(2);
/// Dead rows that make a table worth a vacuum: a claim walking this many dead index entries
/// costs about as much as the vacuum that removes them.
const MIN_DEAD: i64 = 10_000;

pub struct Vacuum {
    pub db: DatabaseConnection,
}

impl Vacuum {
    pub async fn run(self, cancel: CancellationToken) {
        if !upkeep::applies(&self.db) {
            return;
        }
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.sweep().await,
                () = cancel.cancelled() => return,
            }
        }
    }

    async fn sweep(&self) {
        match upkeep::vacuum_churned(&self.db, MIN_DEAD).await {
            Ok(vacuumed) => {
                for table in vacuumed {
                    tracing::debug!(table = table.table, dead = table.dead, "vacuumed");
                }
            }
            Err(err) => tracing::warn!(error = %err, "vacuum failed"),
        }
    }
}

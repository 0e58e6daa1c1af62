//! Keeps the queues small: settled inbox and outbox rows, answered model requests and FAL
//! callbacks older than `QUEUE_RETENTION_DAYS` are deleted. Telegram re-delivers an update for
//! 24 hours at most and FAL a webhook for 2 hours, so a week keeps deduplication safe; dead
//! (and failed) rows are never deleted here, they wait for an operator.

use std::time::Duration;

use studio_persistence::DatabaseConnection;
use studio_persistence::repos::{fal_callbacks, inbox, limits, outbox, prompt_jobs, workers};
use tokio_util::sync::CancellationToken;

const EVERY: Duration = Duration::from_secs(600);

pub struct Janitor {
    pub db: DatabaseConnection,
    pub retention: Duration,
}

impl Janitor {
    pub async fn run(self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => self.sweep().await,
                () = cancel.cancelled() => return,
            }
        }
    }

    async fn sweep(&self) {
        let before = chrono::Utc::now()
            - chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::days(7));
        match (
            inbox::purge(&self.db, before).await,
            outbox::purge(&self.db, before).await,
        ) {
            (Ok(updates), Ok(calls)) if updates + calls > 0 => {
                tracing::info!(updates, calls, "settled queue rows purged");
            }
            (Ok(_), Ok(_)) => {}
            (Err(err), _) | (_, Err(err)) => tracing::warn!(error = %err, "queue purge failed"),
        }
        match prompt_jobs::purge(&self.db, before).await {
            Ok(0) => {}
            Ok(requests) => tracing::info!(requests, "answered model requests purged"),
            Err(err) => tracing::warn!(error = %err, "model request purge failed"),
        }
        match fal_callbacks::purge(&self.db, before).await {
            Ok(0) => {}
            Ok(callbacks) => tracing::info!(callbacks, "old FAL callbacks purged"),
            Err(err) => tracing::warn!(error = %err, "FAL callback purge failed"),
        }
        let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
        match fal_callbacks::purge_orphans(&self.db, hour_ago).await {
            Ok(0) => {}
            Ok(orphans) => tracing::info!(orphans, "FAL callbacks of no job purged"),
            Err(err) => tracing::warn!(error = %err, "orphan callback purge failed"),
        }
        let day_ago = crate::job_loop::now_ms() - 86_400_000;
        match limits::purge_promo_misses(&self.db, day_ago).await {
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "promo miss purge failed"),
        }
        // Processes that died (killed, never said goodbye): an hour silent is long gone.
        match workers::purge(&self.db, std::time::Duration::from_secs(3600)).await {
            Ok(0) => {}
            Ok(gone) => tracing::info!(gone, "heartbeats of dead processes purged"),
            Err(err) => tracing::warn!(error = %err, "heartbeat purge failed"),
        }
    }
}

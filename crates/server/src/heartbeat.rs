//! This process's heartbeat: while it beats, its claims on the inbox, the outbox and the
//! prompt queue are its own until their leases end; once it stops (a crash, a SIGKILL), other
//! processes take them over within `workers::DEAD_AFTER`.

use studio_persistence::DatabaseConnection;
use studio_persistence::repos::workers::{self, Holder};
use tokio_util::sync::CancellationToken;

/// Beats every `workers::BEAT` until cancelled. A failed beat is logged and retried at the
/// next tick: a few missed beats at worst let another process repeat some work. After a
/// silence longer than `workers::DEAD_AFTER` the process takes a new name before it beats
/// again: others may have taken over its claims meanwhile, and the claims it could not settle
/// while the database was gone must not wait out their leases.
pub async fn run(db: DatabaseConnection, holder: Holder, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(workers::BEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_beat = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let silent = last_beat.elapsed();
        if silent > workers::DEAD_AFTER {
            let old = holder.id();
            holder.renew();
            tracing::warn!(?silent, old = %old, new = %holder.id(),
                "heartbeat was lost; what this process held is released");
        }
        match workers::beat(&db, &holder).await {
            Ok(()) => last_beat = tokio::time::Instant::now(),
            Err(err) => {
                tracing::warn!(error = %err, holder = %holder.id(), "heartbeat not recorded")
            }
        }
    }
}

/// Says this process is gone, so what it still holds is free at once.
pub async fn stop(db: &DatabaseConnection, holder: &Holder) {
    if let Err(err) = workers::forget(db, holder).await {
        tracing::warn!(error = %err, "heartbeat row not removed; it goes stale instead");
    }
}

//! Takes stored updates and runs them: oldest first per chat, many chats at once. Each update
//! is handled in one transaction together with marking it done, so its effects (user row,
//! dialog, outgoing messages) exist exactly when the update counts as processed.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, TransactionTrait};
use studio_persistence::repos::inbox::{self, ClaimedUpdate};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::handle::{self, HandleError};
use crate::metrics::{UPDATES_DEAD, UPDATES_FAILED, UPDATES_PROCESSED};

/// How long a claimed update is ours before another replica may take it over.
const LEASE: Duration = Duration::from_secs(60);
/// Attempts before an update is dead-lettered with its error.
pub const MAX_ATTEMPTS: i32 = 5;
/// Replicas other than the one that stored an update find it by polling this often.
const POLL: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct Dispatcher {
    pub db: DatabaseConnection,
    pub inbox_stored: Arc<Notify>,
    pub outbox_stored: Arc<Notify>,
    pub concurrency: u32,
}

impl Dispatcher {
    /// Keeps up to `concurrency` updates in flight: a finished one frees a slot for the next
    /// claim at once, and a chat's next update becomes claimable when its previous one is done.
    pub async fn run(self, cancel: CancellationToken) {
        tracing::info!(concurrency = self.concurrency, "dispatcher started");
        let mut in_flight = JoinSet::new();
        let limit = usize::try_from(self.concurrency).unwrap_or(usize::MAX);
        while !cancel.is_cancelled() {
            let free = u32::try_from(limit.saturating_sub(in_flight.len())).unwrap_or(0);
            let claimed = if free == 0 {
                Vec::new()
            } else {
                self.claim(free).await
            };
            let idle = claimed.is_empty();
            for claim in claimed {
                let worker = self.clone();
                let span =
                    tracing::info_span!("update", update_id = %claim.update_id, lane = claim.lane);
                in_flight.spawn(async move { worker.process(claim).await }.instrument(span));
            }
            if idle {
                tokio::select! {
                    () = self.inbox_stored.notified() => {}
                    Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = cancel.cancelled() => {}
                }
            }
            while in_flight.try_join_next().is_some() {}
        }
        // Updates in flight finish (or roll back); unclaimed ones wait in the inbox.
        while in_flight.join_next().await.is_some() {}
        tracing::info!("dispatcher stopped");
    }

    async fn claim(&self, limit: u32) -> Vec<ClaimedUpdate> {
        match inbox::claim(&self.db, limit, LEASE).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "cannot claim updates");
                Vec::new()
            }
        }
    }

    async fn process(&self, claim: ClaimedUpdate) {
        match self.try_process(&claim).await {
            Ok(true) => {
                metrics::counter!(UPDATES_PROCESSED).increment(1);
                self.outbox_stored.notify_one();
            }
            Ok(false) => tracing::warn!("lease lost; another worker owns this update now"),
            Err(err) => self.fail(&claim, &err).await,
        }
    }

    /// `Ok(false)`: the claim was taken over, so our transaction rolled back.
    async fn try_process(&self, claim: &ClaimedUpdate) -> Result<bool, HandleError> {
        let txn = self
            .db
            .begin()
            .await
            .map_err(studio_persistence::RepoError::from)?;
        handle::update(&txn, claim).await?;
        if inbox::complete(&txn, claim).await? {
            txn.commit()
                .await
                .map_err(studio_persistence::RepoError::from)?;
            Ok(true)
        } else {
            txn.rollback()
                .await
                .map_err(studio_persistence::RepoError::from)?;
            Ok(false)
        }
    }

    async fn fail(&self, claim: &ClaimedUpdate, err: &HandleError) {
        let error = err.to_string();
        let settled = if claim.attempts >= MAX_ATTEMPTS {
            metrics::counter!(UPDATES_DEAD).increment(1);
            tracing::error!(attempts = claim.attempts, error = %error, "update dead-lettered");
            inbox::dead_letter(&self.db, claim, &error).await
        } else {
            metrics::counter!(UPDATES_FAILED).increment(1);
            let delay = backoff(claim.attempts);
            tracing::warn!(attempts = claim.attempts, retry_in = ?delay, error = %error, "update failed");
            inbox::retry(&self.db, claim, delay, &error).await
        };
        if let Err(db_err) = settled {
            // The lease runs out and the update is claimed again: nothing is lost.
            tracing::error!(error = %db_err, "cannot record the failure");
        }
    }
}

/// 1 s, 2 s, 4 s, … capped at a minute, with jitter so failing chats do not retry in step.
pub fn backoff(attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 7) - 1).unwrap_or(0);
    let base = Duration::from_secs(1u64 << exp).min(Duration::from_secs(60));
    base + Duration::from_millis(fastrand::u64(0..250))
}

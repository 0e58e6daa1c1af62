//! Takes stored updates and runs them: oldest first per chat, many chats at once. An update's
//! effects (user row, dialog, outgoing messages) commit in the same transaction that marks it
//! done, so they exist exactly when the update counts as processed.
//!
//! Updates are claimed in batches (each from a different chat) and a batch shares one
//! transaction: one commit for many updates is what keeps up with the webhook. If anything in
//! a batch fails, the batch rolls back and its updates run one by one, so a failing update is
//! retried or dead-lettered alone and never holds back the others.

use std::sync::Arc;
use std::time::Duration;

use studio_persistence::RepoError;
use studio_persistence::repos::inbox::{self, ClaimedUpdate};
use studio_persistence::repos::workers::Holder;
use studio_persistence::{DatabaseConnection, DatabaseTransaction};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::handle::{self, AfterCommit, HandleError, Prepared, Services, Writes};
use crate::metrics::{UPDATES_DEAD, UPDATES_FAILED, UPDATES_PROCESSED};

/// Attempts before an update is dead-lettered with its error.
pub const MAX_ATTEMPTS: i32 = 5;
/// Attempts before an update that moves money is dead-lettered: with the backoff capped at a
/// minute, about half an hour of a database or a bug failing it. Telegram does not deliver a
/// payment twice, so it is retried long after a message would be given up on.
pub const MAX_MONEY_ATTEMPTS: i32 = 36;
/// Replicas other than the one that stored an update find it by polling this often.
const POLL: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct Dispatcher {
    pub db: DatabaseConnection,
    pub inbox_stored: Arc<Notify>,
    pub outbox_stored: Arc<Notify>,
    /// Wakes this replica's generation workers when a job was queued.
    pub jobs_queued: Arc<Notify>,
    /// Wakes this replica's prompt workers when a request to the language model was queued.
    pub prompts_queued: Arc<Notify>,
    /// Batches in flight at once (each holds one database connection).
    pub concurrency: u32,
    /// Updates per batch.
    pub batch: u32,
    /// How long a claimed update is ours before another replica may take it over (sooner if
    /// this process stops beating).
    pub lease: Duration,
    pub holder: Holder,
    pub services: Arc<Services>,
    /// Sends the answers a commit decided, before anything else (see `AfterCommit::answers`).
    pub sender: crate::outbound::Sender,
}

/// Why a batch could not commit as one.
enum BatchError {
    Failed(HandleError),
    /// An update's lease ran out and another worker took it over.
    LeaseLost,
}

impl From<RepoError> for BatchError {
    fn from(err: RepoError) -> Self {
        Self::Failed(err.into())
    }
}

impl Dispatcher {
    /// Keeps up to `concurrency` batches in flight: a finished one frees a slot for the next
    /// claim at once, and a chat's next update becomes claimable when its previous one is done.
    pub async fn run(self, cancel: CancellationToken) {
        tracing::info!(
            concurrency = self.concurrency,
            batch = self.batch,
            "dispatcher started"
        );
        let mut in_flight = JoinSet::new();
        let limit = usize::try_from(self.concurrency).unwrap_or(usize::MAX);
        while !cancel.is_cancelled() {
            let claimed = if in_flight.len() < limit {
                self.claim().await
            } else {
                Vec::new()
            };
            let idle = claimed.is_empty();
            if !idle {
                let worker = self.clone();
                in_flight.spawn(async move { worker.process_batch(claimed).await });
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
        // Batches in flight finish (or roll back); unclaimed updates wait in the inbox.
        while in_flight.join_next().await.is_some() {}
        tracing::info!("dispatcher stopped");
    }

    async fn claim(&self) -> Vec<ClaimedUpdate> {
        match inbox::claim(&self.db, self.batch, self.lease, &self.holder).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "cannot claim updates");
                Vec::new()
            }
        }
    }

    async fn process_batch(&self, claims: Vec<ClaimedUpdate>) {
        let mut work = Vec::with_capacity(claims.len());
        let prepared = self.prepare_all(&claims).await;
        for (claim, prepared) in claims.into_iter().zip(prepared) {
            match prepared {
                Ok(prepared) => work.push((claim, prepared)),
                Err(err) => self.fail(&claim, &err).await,
            }
        }
        if work.len() > 1 {
            match self.try_batch(&work).await {
                Ok(after) => {
                    metrics::counter!(UPDATES_PROCESSED).increment(work.len() as u64);
                    self.after_commit(after).await;
                    return;
                }
                Err(BatchError::LeaseLost) => {
                    tracing::warn!("a lease was lost; running the batch one by one")
                }
                Err(BatchError::Failed(err)) => {
                    tracing::debug!(error = %err, "batch failed; running it one by one");
                }
            }
        }
        for (claim, prepared) in work {
            let span =
                tracing::info_span!("update", update_id = %claim.update_id, lane = claim.lane);
            self.process(claim, prepared).instrument(span).await;
        }
    }

    /// Prepares the batch's updates (their photos downloaded) at once, each within half the
    /// lease: one slow download neither holds the others nor outlives the claim. A timeout is
    /// a failed attempt like any other, so an update that always times out ends dead-lettered.
    async fn prepare_all(&self, claims: &[ClaimedUpdate]) -> Vec<Result<Prepared, HandleError>> {
        let within = self.lease / 2;
        let mut preparing = JoinSet::new();
        for (i, claim) in claims.iter().enumerate() {
            let (db, services) = (self.db.clone(), Arc::clone(&self.services));
            let payload = claim.payload.clone();
            let span =
                tracing::info_span!("update", update_id = %claim.update_id, lane = claim.lane);
            preparing.spawn(
                async move {
                    let prepared = handle::prepare(&db, &services, &payload);
                    let result = match tokio::time::timeout(within, prepared).await {
                        Ok(prepared) => prepared.map_err(HandleError::from),
                        Err(_) => Err(HandleError::TimedOut(within)),
                    };
                    (i, result)
                }
                .instrument(span),
            );
        }
        let mut results: Vec<Option<Result<Prepared, HandleError>>> =
            claims.iter().map(|_| None).collect();
        while let Some(joined) = preparing.join_next().await {
            match joined {
                Ok((i, result)) => results[i] = Some(result),
                Err(err) => tracing::error!(error = %err, "preparing an update panicked"),
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(HandleError::TimedOut(within))))
            .collect()
    }

    async fn try_batch(
        &self,
        work: &[(ClaimedUpdate, Prepared)],
    ) -> Result<AfterCommit, BatchError> {
        let txn = studio_persistence::begin(&self.db).await?;
        let spans = work.iter().map(|(claim, prepared)| {
            let span =
                tracing::info_span!("update", update_id = %claim.update_id, lane = claim.lane);
            (span, prepared.clone())
        });
        let writes = Writes::claiming(self.lease, self.holder.clone());
        let after = handle::batch(&txn, &self.services, spans.collect(), writes)
            .await
            .map_err(BatchError::Failed)?;
        let claims: Vec<&ClaimedUpdate> = work.iter().map(|(claim, _)| claim).collect();
        if !inbox::complete_many(&txn, &claims).await? {
            return Err(BatchError::LeaseLost);
        }
        txn.commit().await.map_err(RepoError::from)?;
        Ok(after)
    }

    async fn process(&self, claim: ClaimedUpdate, prepared: Prepared) {
        match self.try_process(&claim, prepared).await {
            Ok(after) => {
                metrics::counter!(UPDATES_PROCESSED).increment(1);
                self.after_commit(after).await;
            }
            Err(BatchError::LeaseLost) => {
                tracing::warn!("lease lost; another worker owns this update now")
            }
            Err(BatchError::Failed(err)) => self.fail(&claim, &err).await,
        }
    }

    async fn try_process(
        &self,
        claim: &ClaimedUpdate,
        prepared: Prepared,
    ) -> Result<AfterCommit, BatchError> {
        let txn = studio_persistence::begin(&self.db).await?;
        let after = self.handle_and_complete(&txn, claim, prepared).await?;
        txn.commit().await.map_err(RepoError::from)?;
        Ok(after)
    }

    /// Runs one update's use case and marks it done, both inside `txn`. Dropping `txn` on an
    /// error rolls both back.
    async fn handle_and_complete(
        &self,
        txn: &DatabaseTransaction,
        claim: &ClaimedUpdate,
        prepared: Prepared,
    ) -> Result<AfterCommit, BatchError> {
        let after = handle::update(txn, &self.services, prepared)
            .await
            .map_err(BatchError::Failed)?;
        if inbox::complete(txn, claim).await? {
            Ok(after)
        } else {
            Err(BatchError::LeaseLost)
        }
    }

    /// Does what the commit decided: wakes the senders for the calls left to them, sends the
    /// calls claimed for now, wakes the workers, cancels FAL requests and removes stored files
    /// whose rows are gone. A failed removal leaves an orphaned file, never a row without its
    /// file, so it is logged and not retried.
    async fn after_commit(&self, after: AfterCommit) {
        if after.queued {
            self.outbox_stored.notify_one();
        }
        let sent_first = !(after.answers.is_empty() && after.sends.is_empty());
        self.sender.answer_now(after.answers).await;
        self.sender.send_now(after.sends).await;
        if after.queued && sent_first {
            // The calls left behind may have waited for the ones just sent.
            self.outbox_stored.notify_one();
        }
        if after.jobs_queued {
            self.jobs_queued.notify_one();
        }
        if after.prompts_queued {
            self.prompts_queued.notify_one();
        }
        // Best effort: the refund is booked already, and a late result changes nothing.
        for url in after.fal_cancels {
            if let Err(err) = self.services.fal.cancel(&url).await {
                tracing::warn!(error = %err, "FAL cancel failed");
            }
        }
        for key in after.delete_keys {
            if let Err(err) = self.services.storage.delete(&key).await {
                tracing::warn!(key, error = %err, "stored file not deleted");
            }
        }
    }

    async fn fail(&self, claim: &ClaimedUpdate, err: &HandleError) {
        let error = err.to_string();
        let moves_money =
            studio_bot_ui::Update::parse(&claim.payload).is_ok_and(|update| update.moves_money());
        if moves_money {
            // An operator should know at once: the person has paid and waits for credits.
            tracing::error!(attempts = claim.attempts, error = %error, "a payment update failed; retrying");
        }
        let settled = if gives_up(claim.attempts, moves_money) {
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

/// Whether a failing update has had its last attempt.
fn gives_up(attempts: i32, moves_money: bool) -> bool {
    let most = if moves_money {
        MAX_MONEY_ATTEMPTS
    } else {
        MAX_ATTEMPTS
    };
    attempts >= most
}

/// 1 s, 2 s, 4 s, … capped at a minute, with jitter so failing chats do not retry in step.
pub fn backoff(attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 7) - 1).unwrap_or(0);
    let base = Duration::from_secs(1u64 << exp).min(Duration::from_secs(60));
    base + Duration::from_millis(fastrand::u64(0..250))
}

#[cfg(test)]
mod tests {
    use super::{MAX_ATTEMPTS, MAX_MONEY_ATTEMPTS, backoff, gives_up};

    #[test]
    fn a_payment_outlasts_a_passing_fault() {
        assert!(gives_up(MAX_ATTEMPTS, false));
        assert!(
            !gives_up(MAX_ATTEMPTS, true),
            "a payment is not given up with the rest"
        );
        assert!(gives_up(MAX_MONEY_ATTEMPTS, true));
        let horizon: std::time::Duration = (1..MAX_MONEY_ATTEMPTS).map(backoff).sum();
        assert!(
            horizon >= std::time::Duration::from_secs(30 * 60),
            "{horizon:?}"
        );
    }
}

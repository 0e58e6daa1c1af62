//! Generation workers: claim due jobs from the shared queue and run one step of each (submit
//! to FAL, check on it, or fetch, store and deliver its image). A job waiting on FAL holds no
//! worker: it sleeps in the table until a webhook wakes it or its next poll is due, so a few
//! workers keep hundreds of images in flight.

mod finish;
mod step;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use studio_persistence::repos::generations::Generation;
use studio_persistence::repos::jobs;
use studio_providers::fal::FalClient;
use studio_providers::storage::BlobStore;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How often idle workers look for due steps (webhooks and new jobs wake them sooner).
const TICK: Duration = Duration::from_millis(500);

/// What a job's steps need to know, from configuration.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub concurrency: usize,
    pub per_user: u32,
    pub lease: Duration,
    pub model: String,
    pub lora_scale: f64,
    /// Where FAL posts results; `None` (polling mode) means polling alone.
    pub webhook_url: Option<String>,
    /// The first poll after a submission; later ones back off to `MAX_POLL`.
    pub first_poll: Duration,
}

#[derive(Clone)]
pub struct GenerationWorker {
    pub db: DatabaseConnection,
    pub fal: FalClient,
    pub storage: BlobStore,
    pub settings: Arc<JobSettings>,
    /// Notified when a job is queued or a webhook arrives.
    pub wake: Arc<Notify>,
    pub outbox_stored: Arc<Notify>,
}

impl GenerationWorker {
    pub async fn run(self, cancel: CancellationToken) {
        tracing::info!(
            concurrency = self.settings.concurrency,
            "generation workers started"
        );
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut in_flight = JoinSet::new();
        while !cancel.is_cancelled() {
            let free = u32::try_from(slots.available_permits()).unwrap_or(u32::MAX);
            let claimed = if free == 0 {
                Vec::new()
            } else {
                self.claim(free).await
            };
            let idle = claimed.is_empty();
            for job in claimed {
                let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                    break;
                };
                let worker = self.clone();
                let span = tracing::info_span!(
                    "job",
                    generation_id = job.id,
                    user_id = job.user_id,
                    request_id = job.fal_request_id.as_deref().unwrap_or("")
                );
                in_flight.spawn(
                    async move {
                        worker.step(job).await;
                        drop(permit);
                    }
                    .instrument(span),
                );
            }
            if idle {
                tokio::select! {
                    () = self.wake.notified() => {}
                    Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                    () = tokio::time::sleep(TICK) => {}
                    () = cancel.cancelled() => {}
                }
            }
            while in_flight.try_join_next().is_some() {}
        }
        // Steps in progress finish; an interrupted one is claimed again when its lease ends.
        while in_flight.join_next().await.is_some() {}
        tracing::info!("generation workers stopped");
    }

    async fn claim(&self, limit: u32) -> Vec<Generation> {
        let settings = &self.settings;
        match jobs::claim(&self.db, limit, settings.lease, settings.per_user).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "cannot claim generation jobs");
                Vec::new()
            }
        }
    }
}

//! Generation workers: claim due jobs from the shared queue and run one step of each (submit
//! to FAL, check on it, or fetch, store and deliver its image). A job waiting on FAL holds no
//! worker: it sleeps in the table until a webhook wakes it or its next poll is due, so a few
//! workers keep hundreds of images in flight.

mod finish;
mod step;

use std::sync::Arc;
use std::time::Duration;

use studio_domain::styles::Library;
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::generations::Generation;
use studio_persistence::repos::jobs;
use studio_providers::fal::{FalClient, ImageModel};
use studio_providers::storage::BlobStore;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What a job's steps need to know, from configuration.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub concurrency: usize,
    pub per_user: u32,
    pub lease: Duration,
    pub model: ImageModel,
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
    /// Styled jobs read their style's settings and name here.
    pub styles: &'static Library,
    /// Notified when a job is queued or a webhook arrives.
    pub wake: Arc<Notify>,
    pub outbox_stored: Arc<Notify>,
}

impl GenerationWorker {
    pub async fn run(self, cancel: CancellationToken) {
        let (concurrency, wake) = (self.settings.concurrency, Arc::clone(&self.wake));
        crate::job_loop::run(self, "generation", concurrency, wake, cancel).await;
    }
}

impl crate::job_loop::Steps for GenerationWorker {
    type Job = Generation;

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

    async fn step(&self, job: Generation) {
        self.run_step(job).await;
    }

    fn span(job: &Generation) -> tracing::Span {
        tracing::info_span!(
            "job",
            generation_id = job.id.0,
            user_id = job.user_id.0,
            request_id = job.fal_request_id.as_deref().unwrap_or("")
        )
    }
}

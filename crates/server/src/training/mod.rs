//! Training workers: claim due trainings (the avatar rows in `training`) and run one step of
//! each: zip, upload and submit the photos to FAL, or check on the submitted request. A
//! training waiting on FAL holds no worker; its webhook or its next poll wakes it.

mod step;
mod zip;

use std::sync::Arc;
use std::time::Duration;

use studio_domain::Credits;
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::trainings;
use studio_persistence::repos::trainings::Training;
use studio_providers::fal::{FalClient, Trainer};
use studio_providers::storage::BlobStore;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct TrainingSettings {
    pub concurrency: usize,
    pub lease: Duration,
    pub model: Trainer,
    pub steps: u32,
    pub learning_rate: f64,
    /// How long FAL's CDN keeps the zip of photos: as long as the training may take, so
    /// people's faces are not left public after it.
    pub archive_lifetime: Duration,
    pub webhook_url: Option<String>,
    pub first_poll: Duration,
    /// What a training costs, told when it is refunded.
    pub cost: Credits,
}

#[derive(Clone)]
pub struct TrainingWorker {
    pub db: DatabaseConnection,
    pub fal: FalClient,
    pub storage: BlobStore,
    pub settings: Arc<TrainingSettings>,
    pub wake: Arc<Notify>,
    pub outbox_stored: Arc<Notify>,
}

impl TrainingWorker {
    pub async fn run(self, cancel: CancellationToken) {
        let (concurrency, wake) = (self.settings.concurrency, Arc::clone(&self.wake));
        crate::job_loop::run(self, "training", concurrency, wake, cancel).await;
    }
}

impl crate::job_loop::Steps for TrainingWorker {
    type Job = Training;

    async fn claim(&self, limit: u32) -> Vec<Training> {
        match trainings::claim(&self.db, limit, self.settings.lease).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "cannot claim trainings");
                Vec::new()
            }
        }
    }

    async fn step(&self, avatar: Training) {
        self.run_step(avatar).await;
    }

    fn span(avatar: &Training) -> tracing::Span {
        tracing::info_span!(
            "training",
            avatar_id = avatar.id.0,
            user_id = avatar.user_id.0,
            request_id = avatar.request_id.as_deref().unwrap_or("")
        )
    }
}

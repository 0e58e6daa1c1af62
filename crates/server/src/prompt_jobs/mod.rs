//! Prompt workers: claim requests to the language model (a prompt from a reference photo, a
//! translation) and answer each in one step: call the model, then settle the request and tell
//! the person in one transaction. Overload (429, 5xx) puts the request back in the table for
//! later, so waiting holds no worker.

mod step;

use std::sync::Arc;

use studio_persistence::DatabaseConnection;
use studio_persistence::repos::prompt_jobs::{self, PromptJob};
use studio_persistence::repos::workers::Holder;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::handle::Services;

#[derive(Clone)]
pub struct PromptWorker {
    pub db: DatabaseConnection,
    pub services: Arc<Services>,
    pub concurrency: usize,
    /// Notified when a request is queued.
    pub wake: Arc<Notify>,
    pub outbox_stored: Arc<Notify>,
    /// Wakes the generation workers when an answer queued an image (quick mode).
    pub jobs_queued: Arc<Notify>,
    pub holder: Holder,
}

impl PromptWorker {
    pub async fn run(self, cancel: CancellationToken) {
        let (concurrency, wake) = (self.concurrency, Arc::clone(&self.wake));
        crate::job_loop::run(self, "prompt", concurrency, wake, cancel).await;
    }
}

impl crate::job_loop::Steps for PromptWorker {
    type Job = PromptJob;

    async fn claim(&self, limit: u32) -> Vec<PromptJob> {
        match prompt_jobs::claim(&self.db, limit, step::LEASE, &self.holder).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "cannot claim prompt requests");
                Vec::new()
            }
        }
    }

    async fn step(&self, job: PromptJob) {
        self.run_step(job).await;
    }

    fn span(job: &PromptJob) -> tracing::Span {
        tracing::info_span!(
            "prompt_job",
            prompt_job_id = %job.id,
            user_id = %job.user,
            kind = ?job.kind,
            attempt = job.attempts
        )
    }
}

//! One step of a claimed job, decided by what the row already holds: no FAL request yet →
//! submit; a request → read its result (webhook first, then FAL's status); past the deadline
//! → fail. Each step ends by settling the row.

use std::time::Duration;

use serde_json::Value;
use studio_domain::{GenerationFailure, Prompt};
use studio_persistence::repos::avatars;
use studio_persistence::repos::generations::Generation;
use studio_persistence::repos::jobs;
use studio_providers::fal::{FluxLoraInput, FluxLoraOutput, ImageModel, LoraWeight};

use super::GenerationWorker;
use crate::dispatcher::backoff;
use crate::fal_steps::{self, Failure, Progress};
use crate::job_loop::{millis, now_ms};
use crate::lora;
use crate::metrics::JOB_STEPS;

/// Polls back off to this.
const MAX_POLL: Duration = Duration::from_secs(60);
/// Largest result image we accept from FAL.
const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// How a step ends.
pub(super) enum Next {
    /// Check again after this long.
    Later(Duration, Option<String>),
    Failed(GenerationFailure, String),
    /// The provider's output for the job.
    Output(Value),
    /// The step settled the row itself.
    Settled,
}

impl GenerationWorker {
    pub(super) async fn run_step(&self, job: Generation) {
        let next = if now_ms() > job.deadline_ms {
            self.cancel_at_fal(&job).await;
            Next::Failed(GenerationFailure::Timeout, "deadline passed".into())
        } else {
            match job.fal_request_id.clone() {
                None => self.submit(&job).await,
                Some(request_id) => self.check(&job, &request_id).await,
            }
        };
        let kind = match &next {
            Next::Later(..) => "later",
            Next::Failed(..) => "failed",
            Next::Output(_) => "output",
            Next::Settled => "submitted",
        };
        metrics::counter!(JOB_STEPS, "outcome" => kind).increment(1);
        let settled = match next {
            Next::Later(after, error) => {
                // Never past the deadline: the job is failed then, not polled later.
                let at = (now_ms() + millis(after)).min(job.deadline_ms + 1);
                jobs::reschedule(&self.db, &job, at, error.as_deref())
                    .await
                    .map(drop)
                    .map_err(anyhow::Error::from)
            }
            Next::Failed(failure, detail) => self.fail(&job, failure, &detail).await,
            Next::Output(output) => self.deliver(&job, output).await,
            Next::Settled => Ok(()),
        };
        if let Err(err) = settled {
            // The lease expires and the step runs again; nothing was charged or sent twice.
            tracing::error!(error = %err, "cannot settle a generation step");
        }
    }

    async fn submit(&self, job: &Generation) -> Next {
        let avatar = match avatars::find_owned(&self.db, job.user_id, job.avatar_id).await {
            Ok(avatar) => avatar,
            Err(err) => return Next::Later(backoff(job.attempts), Some(err.to_string())),
        };
        let Some(trained) = avatar.as_ref().and_then(|a| a.trained().ok()).cloned() else {
            return Next::Failed(
                GenerationFailure::AvatarUnavailable,
                "avatar not usable".into(),
            );
        };
        let (lora, trigger) = (trained.lora_url, trained.trigger_phrase);
        let avatar = job.avatar_id;
        let lora = match lora::usable_url(&self.db, &self.fal, &self.storage, avatar, &lora).await {
            Ok(url) => url,
            Err(err) if err.is_transient() => {
                tracing::warn!(error = %err, "LoRA weights not reachable yet");
                return Next::Later(backoff(job.attempts), Some(err.to_string()));
            }
            Err(err) => {
                tracing::error!(error = %err, avatar_id = avatar.0, "avatar's LoRA weights lost");
                return Next::Failed(GenerationFailure::AvatarUnavailable, err.to_string());
            }
        };
        let prompt = Prompt::for_model(&job.prompt_english, &trigger);
        let weight = LoraWeight {
            path: lora,
            scale: self.settings.lora_scale,
        };
        let guidance = job
            .style
            .and_then(|key| self.styles.style(key))
            .and_then(|style| style.guidance);
        let input = match self.settings.model {
            ImageModel::FluxLora => {
                let mut input = FluxLoraInput::portrait(prompt, weight, job.ratio.fal_image_size());
                input.guidance_scale = guidance.unwrap_or(input.guidance_scale);
                input
            }
        };
        let webhook = self.settings.webhook_url.as_deref();
        match self.fal.submit(&input, webhook).await {
            Ok(queued) => {
                tracing::info!(request_id = %queued.request_id, "submitted to FAL");
                let submission = fal_steps::submission(&queued);
                let next_at = now_ms() + millis(self.settings.first_poll);
                match jobs::record_submission(&self.db, job, submission, next_at).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!("claim lost while submitting"),
                    Err(err) => tracing::error!(error = %err, "submission not recorded"),
                }
                Next::Settled
            }
            Err(err) => self.progressed(job, fal_steps::call_failed(err, "generation")),
        }
    }

    /// Reads the result: a stored webhook if one came, else FAL's status and result URLs.
    async fn check(&self, job: &Generation, request_id: &str) -> Next {
        let request = fal_steps::RequestUrls {
            request_id,
            status_url: job.status_url.as_deref(),
            response_url: job.response_url.as_deref(),
        };
        let progress = fal_steps::progress(&self.db, &self.fal, request, "generation").await;
        self.progressed(job, progress)
    }

    /// The step that follows where the request stands.
    fn progressed(&self, job: &Generation, progress: Progress) -> Next {
        match progress {
            Progress::Waiting => Next::Later(self.poll_delay(job), None),
            Progress::Retry(detail) => Next::Later(backoff(job.attempts), Some(detail)),
            Progress::Output(output) => Next::Output(output),
            Progress::Failed(failure) => {
                let reason = match failure {
                    Failure::Rejected(_) => GenerationFailure::Rejected,
                    Failure::Refused(_) | Failure::Failed(_) => GenerationFailure::Provider,
                };
                Next::Failed(reason, failure.detail().to_owned())
            }
        }
    }

    fn poll_delay(&self, job: &Generation) -> Duration {
        fal_steps::poll_delay(self.settings.first_poll, job.attempts, MAX_POLL)
    }

    async fn cancel_at_fal(&self, job: &Generation) {
        if let Some(url) = &job.cancel_url
            && let Err(err) = self.fal.cancel(url).await
        {
            tracing::warn!(error = %err, "FAL cancel failed");
        }
    }

    /// Parses the output, refuses flagged images, and stores the image before completing.
    async fn deliver(&self, job: &Generation, output: Value) -> Result<(), anyhow::Error> {
        let output: FluxLoraOutput = match serde_json::from_value(output) {
            Ok(output) => output,
            Err(err) => {
                let detail = format!("unreadable output: {err}");
                return self.fail(job, GenerationFailure::Provider, &detail).await;
            }
        };
        if output.is_nsfw() {
            return self
                .fail(
                    job,
                    GenerationFailure::Nsfw,
                    "flagged by the safety checker",
                )
                .await;
        }
        let Some(image) = output.images.first() else {
            return self
                .fail(job, GenerationFailure::Provider, "no image in the output")
                .await;
        };
        let bytes = match self.fal.download(&image.url, MAX_IMAGE_BYTES).await {
            Ok(bytes) => bytes,
            Err(err) if err.is_transient() => {
                let at = now_ms() + millis(backoff(job.attempts));
                jobs::reschedule(&self.db, job, at, Some(&err.to_string())).await?;
                return Ok(());
            }
            Err(err) => {
                return self
                    .fail(job, GenerationFailure::Provider, &err.to_string())
                    .await;
            }
        };
        // Keyed by the job: a retried step overwrites, never duplicates.
        let key = format!("generations/{}.jpg", job.id);
        self.storage.put(&key, bytes).await?;
        let seed = output.seed.and_then(|s| i64::try_from(s).ok());
        self.complete(job, &key, seed).await
    }
}

//! One step of a claimed job, decided by what the row already holds: no FAL request yet →
//! submit; a request → read its result (webhook first, then FAL's status); past the deadline
//! → fail. Each step ends by settling the row.

use std::time::Duration;

use serde_json::{Value, json};
use studio_domain::{AvatarId, AvatarStatus, GenerationFailure, Prompt, UserId};
use studio_persistence::repos::generations::Generation;
use studio_persistence::repos::jobs;
use studio_persistence::repos::{avatars, fal_callbacks};
use studio_providers::fal::{FalError, FluxLoraOutput, RequestStatus, WebhookBody, WebhookStatus};

use super::GenerationWorker;
use crate::dispatcher::backoff;
use crate::fal_steps;
use crate::job_loop::{millis, now_ms};
use crate::metrics::{JOB_STEPS, PROVIDER_ERRORS};

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
        let owner = UserId(job.user_id);
        let avatar = match avatars::find_owned(&self.db, owner, AvatarId(job.avatar_id)).await {
            Ok(avatar) => avatar,
            Err(err) => return Next::Later(backoff(job.attempts), Some(err.to_string())),
        };
        let usable = avatar.filter(|a| a.status() == AvatarStatus::Completed);
        let Some((lora, trigger)) = usable.and_then(|a| a.lora_url.zip(a.trigger_phrase)) else {
            return Next::Failed(
                GenerationFailure::AvatarUnavailable,
                "avatar not usable".into(),
            );
        };
        let input = json!({
            "prompt": Prompt::for_model(&job.prompt_english, &trigger),
            "loras": [{"path": lora, "scale": self.settings.lora_scale}],
            "image_size": job.ratio().fal_image_size(),
            "num_images": 1,
            "num_inference_steps": 28,
            "guidance_scale": 3.5,
            "enable_safety_checker": true,
            "output_format": "jpeg",
        });
        let webhook = self.settings.webhook_url.as_deref();
        match self.fal.submit(&self.settings.model, &input, webhook).await {
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
            Err(err) => provider_error(job, err),
        }
    }

    /// Reads the result: a stored webhook if one came, else FAL's status and result URLs.
    async fn check(&self, job: &Generation, request_id: &str) -> Next {
        match fal_callbacks::find(&self.db, request_id).await {
            Ok(Some(body)) => {
                if let Some(next) = from_webhook(&body) {
                    return next;
                }
            }
            Ok(None) => {}
            Err(err) => return Next::Later(backoff(job.attempts), Some(err.to_string())),
        }
        let (Some(status_url), Some(response_url)) = (&job.status_url, &job.response_url) else {
            return Next::Failed(GenerationFailure::Provider, "request without URLs".into());
        };
        match self.fal.status(status_url).await {
            Ok(RequestStatus::Completed) => match self.fal.result(response_url).await {
                Ok(output) => Next::Output(output),
                Err(err) => provider_error(job, err),
            },
            Ok(RequestStatus::InQueue { .. } | RequestStatus::InProgress) => {
                Next::Later(self.poll_delay(job), None)
            }
            Err(err) => provider_error(job, err),
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

/// What a stored webhook says; `None` when it reports success without the payload (FAL could
/// not serialise it: `payload_error`), which is then fetched from the result URL: never refund
/// a success.
fn from_webhook(body: &str) -> Option<Next> {
    let parsed: WebhookBody = match serde_json::from_str(body) {
        Ok(parsed) => parsed,
        Err(err) => {
            let detail = format!("bad webhook: {err}");
            return Some(Next::Failed(GenerationFailure::Provider, detail));
        }
    };
    Some(match (parsed.status, parsed.payload) {
        (WebhookStatus::Ok, Some(payload)) => Next::Output(payload),
        (WebhookStatus::Ok, None) => {
            let payload_error = parsed.payload_error;
            tracing::info!(
                ?payload_error,
                "webhook without its payload; fetching the result"
            );
            return None;
        }
        (WebhookStatus::Error, payload) => {
            let detail = parsed.error.unwrap_or_default();
            // Only a validation error (422) lists what was wrong; FAL's own failures carry
            // `detail` as a string with an `error_type`.
            let rejected = payload.is_some_and(|p| p.get("detail").is_some_and(Value::is_array));
            let failure = match rejected {
                true => GenerationFailure::Rejected,
                false => GenerationFailure::Provider,
            };
            Next::Failed(failure, detail)
        }
    })
}

/// Transient errors are retried with backoff until the deadline; others fail the job now.
fn provider_error(job: &Generation, err: FalError) -> Next {
    metrics::counter!(PROVIDER_ERRORS, "provider" => "fal", "kind" => err.kind()).increment(1);
    tracing::warn!(error = %err, attempts = job.attempts, "FAL call failed");
    match err {
        FalError::Transient(detail) => Next::Later(backoff(job.attempts), Some(detail)),
        FalError::Rejected { status, detail } => {
            Next::Failed(GenerationFailure::Rejected, format!("{status}: {detail}"))
        }
        FalError::Refused { status, detail } => {
            tracing::error!(
                status,
                %detail,
                "FAL refuses our key or account: every image fails until FAL_KEY or the FAL \
                 balance is fixed"
            );
            Next::Failed(GenerationFailure::Provider, format!("{status}: {detail}"))
        }
        err @ (FalError::Failed { .. } | FalError::Malformed(_) | FalError::TooLarge(_)) => {
            Next::Failed(GenerationFailure::Provider, err.to_string())
        }
    }
}

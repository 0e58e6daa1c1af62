//! One request to the language model, start to end: fetch and shrink the reference photo (for
//! vision), call the model, and decide: an answer, a failure told in plain words, or a retry
//! later (429 and 5xx, as long as the server asks, within the request's deadline).

use std::time::Duration;

use studio_domain::{Prompt, PromptError, PromptFailure, shorten};
use studio_persistence::repos::prompt_jobs::{self, PromptJob, PromptJobKind};
use studio_persistence::repos::{avatars, users};
use studio_providers::openai::{OpenAiClient, OpenAiError};

use super::PromptWorker;
use crate::dispatcher::backoff;
use crate::handle::{self, Download};
use crate::imaging::ImagingError;
use crate::job_loop::{millis, now_ms};
use crate::metrics::{PROMPT_STEPS, PROVIDER_ERRORS};

/// The longest a step may take: a download and two model calls (an unreadable answer is asked
/// for again). The lease is longer (`LEASE`).
const STEP_LIMIT: Duration = Duration::from_secs(210);
/// How long a claimed request is its worker's.
pub(super) const LEASE: Duration = Duration::from_secs(240);
/// References downloaded and shrunk at once per process (each original may be 20 MB).
static PREPARING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
/// Tries before overload counts as a failure.
const MAX_ATTEMPTS: i32 = 4;
/// The model reads images up to this size; larger ones only cost upload time.
const REFERENCE_SIDE: u32 = 2048;

/// How a step ends.
enum Next {
    Answer(String),
    Retry(Duration, String),
    Failed(PromptFailure, String),
}

impl PromptWorker {
    pub(super) async fn run_step(&self, job: PromptJob) {
        let next = match (&self.services.openai, now_ms() > job.deadline_ms) {
            (_, true) => Next::Failed(PromptFailure::Busy, "deadline passed".into()),
            (None, false) => Next::Failed(PromptFailure::Unavailable, "no OPENAI_API_KEY".into()),
            (Some(openai), false) => {
                let work = async {
                    match job.kind {
                        PromptJobKind::Vision => self.vision(openai, &job).await,
                        PromptJobKind::Translation => translation(openai, &job).await,
                    }
                };
                // Settled well inside the lease, so no one else claims it meanwhile.
                tokio::time::timeout(STEP_LIMIT, work)
                    .await
                    .unwrap_or_else(|_| Next::Failed(PromptFailure::Busy, "step too slow".into()))
            }
        };
        let (outcome, settled) = match next {
            Next::Retry(after, error) => {
                tracing::warn!(retry_in = ?after, error, "model request will be retried");
                let retried = prompt_jobs::retry(&self.db, &job, after, &error).await;
                ("retry", retried.map(drop).map_err(anyhow::Error::from))
            }
            Next::Answer(text) => ("answered", self.answer(&job, Ok(text), "").await),
            Next::Failed(failure, detail) => {
                tracing::warn!(
                    ?failure,
                    detail,
                    "model request failed; nothing was charged"
                );
                ("failed", self.answer(&job, Err(failure), &detail).await)
            }
        };
        let kind = job.kind.label();
        metrics::counter!(PROMPT_STEPS, "kind" => kind, "outcome" => outcome).increment(1);
        if let Err(err) = settled {
            // The lease expires and the request runs again; nothing was charged.
            tracing::error!(error = %err, "cannot settle a model request");
        }
    }

    /// Settles the request and tells the person, in one transaction.
    async fn answer(
        &self,
        job: &PromptJob,
        answer: Result<String, PromptFailure>,
        detail: &str,
    ) -> anyhow::Result<()> {
        let txn = studio_persistence::begin(&self.db).await?;
        // The person's row first, as their updates lock it first (and deleting their avatar
        // deletes this row): one order, no deadlock.
        let Some(person) = users::lock(&txn, job.user).await? else {
            // Gone, and their requests with them.
            return Ok(());
        };
        let ours = match answer {
            Ok(_) => prompt_jobs::complete(&txn, job).await?,
            Err(_) => prompt_jobs::fail(&txn, job, detail).await?,
        };
        if !ours {
            tracing::warn!("claim lost; the request is someone else's now");
            return Ok(());
        }
        let after = handle::model_answered(&txn, &self.services, job, person, answer).await?;
        txn.commit().await?;
        self.outbox_stored.notify_one();
        if after.jobs_queued {
            self.jobs_queued.notify_one();
        }
        Ok(())
    }

    /// The reference as the model gets it. Originals (up to 20 MB each) are held by a few
    /// steps at a time, however many wait on the model.
    async fn reference(&self, job: &PromptJob) -> Result<Vec<u8>, Next> {
        let _slot = PREPARING
            .acquire()
            .await
            .map_err(|err| Next::Failed(PromptFailure::BadImage, err.to_string()))?;
        let bytes = match handle::download(&self.services.telegram, &job.input).await {
            Ok(bytes) => bytes,
            Err(Download::TooLarge) => {
                let detail = "larger than 20 MB".into();
                return Err(Next::Failed(PromptFailure::ImageTooLarge, detail));
            }
            Err(Download::Failed) => {
                return Err(retry_or(
                    job,
                    None,
                    "download failed",
                    PromptFailure::BadImage,
                ));
            }
            Err(Download::Refused) => {
                let detail = "Telegram refused the file id".into();
                return Err(Next::Failed(PromptFailure::BadImage, detail));
            }
        };
        crate::imaging::upright_jpeg(bytes, REFERENCE_SIDE)
            .await
            .map_err(|err| match err {
                ImagingError::TooLarge { .. } => {
                    Next::Failed(PromptFailure::ImageTooLarge, err.to_string())
                }
                ImagingError::Unreadable(_) => {
                    Next::Failed(PromptFailure::BadImage, err.to_string())
                }
            })
    }

    async fn vision(&self, openai: &OpenAiClient, job: &PromptJob) -> Next {
        let jpeg = match self.reference(job).await {
            Ok(jpeg) => jpeg,
            Err(next) => return next,
        };
        // Who the portrait is of, so the prompt says "a man" or "a woman" and not "the person".
        let gender = match avatars::find_owned(&self.db, job.user, job.avatar).await {
            Ok(avatar) => avatar.map(|a| a.gender),
            Err(err) => return retry_or(job, None, &err.to_string(), PromptFailure::Busy),
        };
        match openai.describe_photo(&jpeg, gender).await {
            Ok(photo) => {
                tracing::debug!(shot = ?photo.shot_type, pose = photo.pose, lighting = photo.lighting,
                    setting = photo.setting, clothing = photo.clothing, camera = photo.camera,
                    "reference described");
                match Prompt::parse(&photo.prompt) {
                    Ok(prompt) => Next::Answer(prompt.as_str().to_owned()),
                    // A long proposal is still a proposal: the person sees and can edit it.
                    Err(PromptError::TooLong) => {
                        Next::Answer(shorten(photo.prompt.trim(), Prompt::MAX_CHARS))
                    }
                    Err(PromptError::TooShort) => {
                        Next::Failed(PromptFailure::Unreadable, "empty prompt".into())
                    }
                }
            }
            Err(err) => model_failed(job, &err),
        }
    }
}

async fn translation(openai: &OpenAiClient, job: &PromptJob) -> Next {
    match openai.translate(&job.input).await {
        Ok(english) => match Prompt::parse(&english) {
            Ok(prompt) => Next::Answer(prompt.as_str().to_owned()),
            Err(PromptError::TooLong) => {
                Next::Failed(PromptFailure::TooLong, "translation too long".into())
            }
            Err(PromptError::TooShort) => {
                Next::Failed(PromptFailure::Unreadable, "empty translation".into())
            }
        },
        Err(err) => model_failed(job, &err),
    }
}

/// What a failed model call means for the request.
fn model_failed(job: &PromptJob, err: &OpenAiError) -> Next {
    metrics::counter!(PROVIDER_ERRORS, "provider" => "openai", "kind" => err.kind()).increment(1);
    let failure = match err {
        OpenAiError::RateLimited { .. } | OpenAiError::Server { .. } | OpenAiError::Network(_) => {
            return retry_or(job, Some(err), &err.to_string(), PromptFailure::Busy);
        }
        OpenAiError::QuotaExhausted(_) => {
            tracing::error!(error = %err, "OpenAI quota exhausted: prompts from photos and \
                translations fail until the account is topped up");
            PromptFailure::Unavailable
        }
        OpenAiError::Rejected {
            status: 401..=404, ..
        } => {
            tracing::error!(error = %err, "the model API refuses our requests: check \
                OPENAI_API_KEY, OPENAI_MODEL and OPENAI_BASE_URL");
            PromptFailure::Unavailable
        }
        OpenAiError::Rejected { .. } | OpenAiError::Malformed(_) => PromptFailure::Unreadable,
        OpenAiError::Refused(_) | OpenAiError::ContentFiltered => PromptFailure::Refused,
        // A minute without an answer: the person has waited long enough.
        OpenAiError::Timeout => PromptFailure::Busy,
    };
    Next::Failed(failure, err.to_string())
}

/// Tries again later, waiting as long as the server asked (else backing off, 5xx longer),
/// with jitter; or fails when out of tries or time.
fn retry_or(
    job: &PromptJob,
    cause: Option<&OpenAiError>,
    error: &str,
    failure: PromptFailure,
) -> Next {
    if job.attempts >= MAX_ATTEMPTS {
        return Next::Failed(failure, format!("{} tries: {error}", job.attempts));
    }
    let fallback = match cause {
        Some(OpenAiError::Server { .. }) => backoff(job.attempts + 1),
        _ => backoff(job.attempts),
    };
    let asked = cause.and_then(OpenAiError::retry_after);
    let wait = asked.unwrap_or(fallback) + Duration::from_millis(fastrand::u64(0..250));
    if now_ms() + millis(wait) > job.deadline_ms {
        return Next::Failed(failure, format!("no time left to retry: {error}"));
    }
    Next::Retry(wait, error.to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use studio_domain::{AvatarId, ChatId, PromptFailure, PromptJobId, UserId};
    use studio_persistence::repos::prompt_jobs::{PromptJob, PromptJobKind};
    use studio_providers::openai::OpenAiError;

    use super::{MAX_ATTEMPTS, Next, retry_or};
    use crate::job_loop::now_ms;

    fn job(attempts: i32, seconds_left: i64) -> PromptJob {
        PromptJob {
            id: PromptJobId(1),
            attempts,
            chat: ChatId(1),
            user: UserId(1),
            avatar: AvatarId(1),
            kind: PromptJobKind::Vision,
            input: "file".into(),
            deadline_ms: now_ms() + seconds_left * 1000,
        }
    }

    fn wait(next: Next) -> Duration {
        match next {
            Next::Retry(wait, _) => wait,
            Next::Answer(_) | Next::Failed(..) => panic!("expected a retry"),
        }
    }

    #[test]
    fn waits_as_asked_else_backs_off_longer_for_server_errors() {
        let limited = OpenAiError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
            message: String::new(),
        };
        let asked = wait(retry_or(
            &job(1, 120),
            Some(&limited),
            "",
            PromptFailure::Busy,
        ));
        assert!((Duration::from_secs(7)..Duration::from_millis(7250)).contains(&asked));

        let server = OpenAiError::Server {
            status: 502,
            retry_after: None,
            message: String::new(),
        };
        let after_server = wait(retry_or(
            &job(1, 120),
            Some(&server),
            "",
            PromptFailure::Busy,
        ));
        let after_network = wait(retry_or(&job(1, 120), None, "", PromptFailure::Busy));
        assert!(after_server >= Duration::from_secs(2), "{after_server:?}");
        assert!(after_network < Duration::from_secs(2), "{after_network:?}");
    }

    #[test]
    fn gives_up_when_out_of_tries_or_time() {
        let out_of_tries = retry_or(&job(MAX_ATTEMPTS, 120), None, "e", PromptFailure::Busy);
        assert!(matches!(out_of_tries, Next::Failed(PromptFailure::Busy, _)));
        let long = OpenAiError::RateLimited {
            retry_after: Some(Duration::from_secs(600)),
            message: String::new(),
        };
        let past_deadline = retry_or(&job(1, 30), Some(&long), "e", PromptFailure::Busy);
        assert!(matches!(
            past_deadline,
            Next::Failed(PromptFailure::Busy, _)
        ));
    }
}

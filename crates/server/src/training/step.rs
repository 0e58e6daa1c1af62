//! One step of a claimed training, decided by what its row holds: no FAL request yet → zip,
//! upload and submit; a request → read its result (webhook first, then FAL's status); past
//! the deadline → fail. Each step ends by settling the row.

use std::time::Duration;

use serde_json::{Value, json};
use studio_bot_ui::screens::avatars as screen;
use studio_bot_ui::texts;
use studio_domain::{AvatarId, UserId};
use studio_persistence::TransactionTrait;
use studio_persistence::repos::avatars::Avatar;
use studio_persistence::repos::{fal_callbacks, photos, trainings};
use studio_providers::fal::{FalError, RequestStatus, TrainerOutput, WebhookBody, WebhookStatus};

use super::TrainingWorker;
use crate::dispatcher::backoff;
use crate::fal_steps;
use crate::job_loop::{millis, now_ms};
use crate::metrics::{PROVIDER_ERRORS, TRAININGS_FINISHED};

const MAX_POLL: Duration = Duration::from_secs(120);

enum Next {
    Later(Duration),
    Failed { timed_out: bool, reason: String },
    Output(Value),
    Settled,
}

impl TrainingWorker {
    pub(super) async fn run_step(&self, avatar: Avatar) {
        let deadline = avatar.training_deadline_ms.unwrap_or(i64::MAX);
        let next = if now_ms() > deadline {
            if let Some(url) = &avatar.training_cancel_url
                && let Err(err) = self.fal.cancel(url).await
            {
                tracing::warn!(error = %err, "FAL cancel failed");
            }
            Next::Failed {
                timed_out: true,
                reason: "deadline passed".into(),
            }
        } else {
            match avatar.training_request_id.clone() {
                None => self.submit(&avatar).await,
                Some(request_id) => self.check(&avatar, &request_id).await,
            }
        };
        let settled = match next {
            Next::Later(after) => {
                let at = (now_ms() + millis(after)).min(deadline.saturating_add(1));
                trainings::reschedule(&self.db, &avatar, at)
                    .await
                    .map(drop)
                    .map_err(anyhow::Error::from)
            }
            Next::Failed { timed_out, reason } => self.fail(&avatar, timed_out, &reason).await,
            Next::Output(output) => self.complete(&avatar, output).await,
            Next::Settled => Ok(()),
        };
        if let Err(err) = settled {
            tracing::error!(error = %err, "cannot settle a training step");
        }
    }

    async fn submit(&self, avatar: &Avatar) -> Next {
        let zipped = match self.archive(avatar).await {
            Ok(zipped) => zipped,
            Err(err) => {
                tracing::error!(error = %err, "training photos not archived");
                return Next::Failed {
                    timed_out: false,
                    reason: format!("photos: {err}"),
                };
            }
        };
        let name = format!("avatar-{}.zip", avatar.id);
        let url = match self
            .fal
            .upload(zipped.into(), "application/zip", &name)
            .await
        {
            Ok(url) => url,
            Err(err) => return provider_error(avatar, err),
        };
        let trigger = avatar
            .trigger_phrase
            .clone()
            .unwrap_or_else(|| trainings::trigger_phrase(AvatarId(avatar.id)));
        let input = json!({
            "images_data_url": url,
            "trigger_phrase": trigger,
            "steps": self.settings.steps,
            "learning_rate": self.settings.learning_rate,
            "multiresolution_training": true,
            "subject_crop": true,
            "create_masks": false,
        });
        let webhook = self.settings.webhook_url.as_deref();
        match self.fal.submit(&self.settings.model, &input, webhook).await {
            Ok(queued) => {
                tracing::info!(request_id = %queued.request_id, "training submitted to FAL");
                let submission = fal_steps::submission(&queued);
                let next_at = now_ms() + millis(self.settings.first_poll);
                match trainings::record_submission(&self.db, avatar, submission, next_at).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!("claim lost while submitting"),
                    Err(err) => tracing::error!(error = %err, "submission not recorded"),
                }
                Next::Settled
            }
            Err(err) => provider_error(avatar, err),
        }
    }

    /// One photo at a time: fetched, shrunk within the process's decode budget, kept small.
    async fn archive(&self, avatar: &Avatar) -> anyhow::Result<Vec<u8>> {
        let mut jpegs = Vec::new();
        for photo in photos::list(&self.db, avatar).await? {
            let original = self.storage.get(&photo.storage_key).await?;
            jpegs.push(crate::imaging::upright_jpeg(original, super::zip::MAX_SIDE).await?);
        }
        anyhow::ensure!(!jpegs.is_empty(), "no photos");
        tokio::task::spawn_blocking(move || super::zip::archive(&jpegs)).await?
    }

    async fn check(&self, avatar: &Avatar, request_id: &str) -> Next {
        match fal_callbacks::find(&self.db, request_id).await {
            Ok(Some(body)) => {
                if let Some(next) = from_webhook(&body) {
                    return next;
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %err, "callbacks unreadable");
                return Next::Later(backoff(avatar.training_attempts));
            }
        }
        let (Some(status_url), Some(response_url)) =
            (&avatar.training_status_url, &avatar.training_response_url)
        else {
            return Next::Failed {
                timed_out: false,
                reason: "request without URLs".into(),
            };
        };
        match self.fal.status(status_url).await {
            Ok(RequestStatus::Completed) => match self.fal.result(response_url).await {
                Ok(output) => Next::Output(output),
                Err(err) => provider_error(avatar, err),
            },
            Ok(RequestStatus::InQueue { .. } | RequestStatus::InProgress) => {
                let first = self.settings.first_poll;
                Next::Later(fal_steps::poll_delay(
                    first,
                    avatar.training_attempts,
                    MAX_POLL,
                ))
            }
            Err(err) => provider_error(avatar, err),
        }
    }

    async fn complete(&self, avatar: &Avatar, output: Value) -> anyhow::Result<()> {
        let Ok(output) = serde_json::from_value::<TrainerOutput>(output) else {
            return self.fail(avatar, false, "no LoRA file in the output").await;
        };
        let txn = self.db.begin().await?;
        let Some(dropped) =
            trainings::complete(&txn, avatar, &output.diffusers_lora_file.url).await?
        else {
            tracing::warn!("claim lost before completing; the training ended elsewhere");
            return Ok(());
        };
        let (id, name) = (AvatarId(avatar.id), avatar.name.clone());
        crate::notify::person(&txn, UserId(avatar.user_id), |language| {
            screen::training_ready(texts(language), id, &name)
        })
        .await?;
        txn.commit().await?;
        tracing::info!(dropped = dropped.len(), "training completed");
        metrics::counter!(TRAININGS_FINISHED, "outcome" => "completed").increment(1);
        self.outbox_stored.notify_one();
        for key in dropped {
            if let Err(err) = self.storage.delete(&key).await {
                tracing::warn!(key, error = %err, "training photo not deleted");
            }
        }
        Ok(())
    }

    async fn fail(&self, avatar: &Avatar, timed_out: bool, reason: &str) -> anyhow::Result<()> {
        let txn = self.db.begin().await?;
        if !trainings::fail(&txn, avatar, reason).await? {
            tracing::warn!("claim lost before failing; the training ended elsewhere");
            return Ok(());
        }
        let (name, cost) = (avatar.name.clone(), self.settings.cost.to_string());
        crate::notify::person(&txn, UserId(avatar.user_id), |language| {
            screen::training_failed(texts(language), &name, timed_out, &cost)
        })
        .await?;
        txn.commit().await?;
        tracing::warn!(reason, "training failed and refunded");
        let outcome = if timed_out { "timeout" } else { "failed" };
        metrics::counter!(TRAININGS_FINISHED, "outcome" => outcome).increment(1);
        self.outbox_stored.notify_one();
        Ok(())
    }
}

/// What a stored webhook says; `None` when it reports success without the payload (FAL could
/// not serialise it: `payload_error`), which is then fetched from the result URL.
fn from_webhook(body: &str) -> Option<Next> {
    let failed = |reason: String| {
        Some(Next::Failed {
            timed_out: false,
            reason,
        })
    };
    match serde_json::from_str::<WebhookBody>(body) {
        Ok(WebhookBody {
            status: WebhookStatus::Ok,
            payload: Some(payload),
            ..
        }) => Some(Next::Output(payload)),
        Ok(WebhookBody {
            status: WebhookStatus::Ok,
            payload: None,
            payload_error,
            ..
        }) => {
            tracing::info!(
                ?payload_error,
                "webhook without its payload; fetching the result"
            );
            None
        }
        Ok(parsed) => failed(parsed.error.unwrap_or_else(|| "no payload".into())),
        Err(err) => failed(format!("bad webhook: {err}")),
    }
}

fn provider_error(avatar: &Avatar, err: FalError) -> Next {
    metrics::counter!(PROVIDER_ERRORS, "provider" => "fal", "kind" => err.kind()).increment(1);
    tracing::warn!(error = %err, attempts = avatar.training_attempts, "FAL call failed");
    if let FalError::Refused { status, .. } = &err {
        tracing::error!(
            status,
            "FAL refuses our key or account: every training fails until FAL_KEY or the FAL \
             balance is fixed"
        );
    }
    if err.is_transient() {
        Next::Later(backoff(avatar.training_attempts))
    } else {
        Next::Failed {
            timed_out: false,
            reason: err.to_string(),
        }
    }
}

//! One step of a claimed training, decided by what its row holds: no FAL request yet → zip,
//! upload and submit; a request → read its result (webhook first, then FAL's status); past
//! the deadline → fail. Each step ends by settling the row.

use std::time::Duration;

use serde_json::Value;
use studio_bot_ui::screens::avatars as screen;
use studio_bot_ui::texts;
use studio_persistence::repos::trainings::Training;
use studio_persistence::repos::{photos, trainings};
use studio_providers::fal::{TrainerOutput, TrainingRequest};

use super::TrainingWorker;
use crate::dispatcher::backoff;
use crate::fal_steps::{self, Progress};
use crate::job_loop::{millis, now_ms};
use crate::lora;
use crate::metrics::TRAININGS_FINISHED;

const MAX_POLL: Duration = Duration::from_secs(120);

enum Next {
    Later(Duration),
    Failed { timed_out: bool, reason: String },
    Output(Value),
    Settled,
}

impl TrainingWorker {
    pub(super) async fn run_step(&self, avatar: Training) {
        let deadline = avatar.deadline_ms.unwrap_or(i64::MAX);
        let next = if now_ms() > deadline {
            if let Some(url) = &avatar.cancel_url
                && let Err(err) = self.fal.cancel(url).await
            {
                tracing::warn!(error = %err, "FAL cancel failed");
            }
            Next::Failed {
                timed_out: true,
                reason: "deadline passed".into(),
            }
        } else {
            match avatar.request_id.clone() {
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

    async fn submit(&self, avatar: &Training) -> Next {
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
        let length = zipped.len() as u64;
        let lifetime = Some(self.settings.archive_lifetime);
        let url = match self
            .fal
            .upload(zipped, length, "application/zip", &name, lifetime)
            .await
        {
            Ok(url) => url,
            Err(err) => return progressed(avatar, fal_steps::call_failed(err, "training")),
        };
        let trigger = avatar.trigger_phrase.clone();
        let input = self.settings.model.input(TrainingRequest {
            images_data_url: url,
            trigger,
            steps: self.settings.steps,
            learning_rate: self.settings.learning_rate,
        });
        let webhook = self.settings.webhook_url.as_deref();
        match self.fal.submit(&input, webhook).await {
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
            Err(err) => progressed(avatar, fal_steps::call_failed(err, "training")),
        }
    }

    /// One photo at a time: fetched, shrunk within the process's decode budget, kept small.
    async fn archive(&self, avatar: &Training) -> anyhow::Result<Vec<u8>> {
        let mut jpegs = Vec::new();
        for photo in photos::list(&self.db, avatar).await? {
            let original = self.storage.get(&photo.storage_key).await?;
            jpegs.push(crate::imaging::upright_jpeg(original, super::zip::MAX_SIDE).await?);
        }
        anyhow::ensure!(!jpegs.is_empty(), "no photos");
        tokio::task::spawn_blocking(move || super::zip::archive(&jpegs)).await?
    }

    async fn check(&self, avatar: &Training, request_id: &str) -> Next {
        let request = fal_steps::RequestUrls {
            request_id,
            status_url: avatar.status_url.as_deref(),
            response_url: avatar.response_url.as_deref(),
        };
        match fal_steps::progress(&self.db, &self.fal, request, "training").await {
            Progress::Waiting => {
                let first = self.settings.first_poll;
                Next::Later(fal_steps::poll_delay(first, avatar.attempts, MAX_POLL))
            }
            progress => progressed(avatar, progress),
        }
    }

    async fn complete(&self, avatar: &Training, output: Value) -> anyhow::Result<()> {
        let Ok(output) = serde_json::from_value::<TrainerOutput>(output) else {
            return self.fail(avatar, false, "no LoRA file in the output").await;
        };
        // What the person paid for is ours before the avatar is ready: FAL's copy expires.
        let weights = &output.diffusers_lora_file.url;
        if let Err(err) = lora::keep(&self.fal, &self.storage, avatar.id, weights).await {
            if !err.is_transient() {
                return self
                    .fail(avatar, false, &format!("LoRA not kept: {err}"))
                    .await;
            }
            tracing::warn!(error = %err, "LoRA weights not kept yet; trying again");
            let at = now_ms() + millis(backoff(avatar.attempts));
            trainings::reschedule(&self.db, avatar, at).await?;
            return Ok(());
        }
        let txn = studio_persistence::begin(&self.db).await?;
        let Some(dropped) =
            trainings::complete(&txn, avatar, &output.diffusers_lora_file.url).await?
        else {
            tracing::warn!("claim lost before completing; the training ended elsewhere");
            return Ok(());
        };
        let (id, name) = (avatar.id, avatar.name.clone());
        crate::notify::person(&txn, avatar.user_id, |language| {
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

    async fn fail(&self, avatar: &Training, timed_out: bool, reason: &str) -> anyhow::Result<()> {
        let txn = studio_persistence::begin(&self.db).await?;
        if !trainings::fail(&txn, avatar, reason).await? {
            tracing::warn!("claim lost before failing; the training ended elsewhere");
            return Ok(());
        }
        let (name, cost) = (avatar.name.clone(), self.settings.cost.to_string());
        crate::notify::person(&txn, avatar.user_id, |language| {
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

/// The step that follows a FAL answer other than "still waiting".
fn progressed(avatar: &Training, progress: Progress) -> Next {
    match progress {
        Progress::Waiting | Progress::Retry(_) => Next::Later(backoff(avatar.attempts)),
        Progress::Output(output) => Next::Output(output),
        Progress::Failed(failure) => Next::Failed {
            timed_out: false,
            reason: failure.detail().to_owned(),
        },
    }
}

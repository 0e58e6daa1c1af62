//! A job's end: completed with its photo queued for delivery, or failed with its refund and a
//! plain-words message. Each is one transaction, fenced by the claim, so it happens once.

use studio_bot_ui::screens::generation::{self as screen, ResultView};
use studio_bot_ui::texts;
use studio_domain::GenerationFailure;
use studio_persistence::repos::generations::Generation;
use studio_persistence::repos::{avatars, jobs};

use super::GenerationWorker;
use crate::metrics::{JOB_DURATION, JOBS_FINISHED};

impl GenerationWorker {
    pub(super) async fn complete(
        &self,
        job: &Generation,
        key: &str,
        seed: Option<i64>,
    ) -> anyhow::Result<()> {
        let txn = studio_persistence::begin(&self.db).await?;
        if !jobs::complete(&txn, job, key, seed).await? {
            drop(txn);
            // Its avatar was deleted meanwhile (the job refunded with it): the file just
            // stored belongs to nothing. Otherwise another step owns the job and its file.
            if !jobs::exists(&self.db, job.id).await? {
                tracing::info!("the job's avatar was deleted; its image is not kept");
                self.storage.delete(key).await?;
                return Ok(());
            }
            tracing::warn!("claim lost before completing; another step owns the job");
            return Ok(());
        }
        let avatar = avatars::find_owned(&txn, job.user_id, job.avatar_id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        let seconds = (chrono::Utc::now() - job.created_at).num_seconds().max(0);
        let view = ResultView {
            generation: job.id,
            key: key.to_owned(),
            avatar,
            ratio: job.ratio,
            seconds,
            prompt: job.prompt_original.clone(),
        };
        let owner = job.user_id;
        let notified = crate::notify::person(&txn, owner, |language| {
            screen::result(texts(language), &view)
        })
        .await?;
        txn.commit().await?;
        tracing::info!(seconds, notified, "generation completed");
        metrics::counter!(JOBS_FINISHED, "outcome" => "completed").increment(1);
        metrics::histogram!(JOB_DURATION).record(seconds as f64);
        self.outbox_stored.notify_one();
        Ok(())
    }

    pub(super) async fn fail(
        &self,
        job: &Generation,
        failure: GenerationFailure,
        detail: &str,
    ) -> anyhow::Result<()> {
        let txn = studio_persistence::begin(&self.db).await?;
        if !jobs::fail(&txn, job, failure, detail).await? {
            tracing::warn!("claim lost before failing; another step owns the job");
            return Ok(());
        }
        let refunded = job.cost;
        crate::notify::person(&txn, job.user_id, |language| {
            screen::failed(texts(language), failure, refunded, job.avatar_id)
        })
        .await?;
        txn.commit().await?;
        tracing::warn!(
            failure = failure.label(),
            detail,
            "generation failed and refunded"
        );
        metrics::counter!(JOBS_FINISHED, "outcome" => failure.label()).increment(1);
        self.outbox_stored.notify_one();
        Ok(())
    }
}

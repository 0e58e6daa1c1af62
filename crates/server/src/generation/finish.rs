//! A job's end: completed with its photo queued for delivery, or failed with its refund and a
//! plain-words message. Each is one transaction, fenced by the claim, so it happens once.

use studio_bot_ui::screens::generation::{self as screen, ResultView};
use studio_bot_ui::texts;
use studio_domain::GenerationFailure;
use studio_persistence::repos::generations::Generation;
use studio_persistence::repos::{avatars, jobs};
use studio_persistence::{DatabaseTransaction, RepoError};

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
        let seconds = (chrono::Utc::now() - job.created_at).num_seconds().max(0);
        let notified = match job.pack {
            Some(pack) => {
                crate::packs::image_finished(&txn, self.styles, job.user_id, pack).await?
            }
            None => self.tell_result(&txn, job, key, seconds).await?,
        };
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
        match job.pack {
            Some(pack) => {
                crate::packs::image_finished(&txn, self.styles, job.user_id, pack).await?;
            }
            None => {
                crate::notify::person(&txn, job.user_id, |language| {
                    screen::failed(texts(language), failure, refunded, job.avatar_id)
                })
                .await?;
            }
        }
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

    /// The image, with its buttons, in a message of its own.
    async fn tell_result(
        &self,
        txn: &DatabaseTransaction,
        job: &Generation,
        key: &str,
        seconds: i64,
    ) -> Result<bool, RepoError> {
        let avatar = avatars::find_owned(txn, job.user_id, job.avatar_id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        let style = job.style.and_then(|key| self.styles.style(key));
        crate::notify::person(txn, job.user_id, |language| {
            let view = ResultView {
                generation: job.id,
                key: key.to_owned(),
                avatar,
                ratio: job.ratio,
                seconds,
                prompt: job.prompt_original.clone(),
                style: style.map(|s| s.name.get(language).to_owned()),
            };
            screen::result(texts(language), &view)
        })
        .await
    }
}

//! Requests to the language model: a prompt from a reference photo, or a prompt's English
//! translation. A leased queue with one lane per chat (a person's requests run in order),
//! settled in the transaction that tells the person the outcome.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ActiveEnum, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryResult};
use studio_domain::{AvatarId, ChatId, PromptJobId, UserId};

use crate::RepoError;
pub use crate::entities::active_enums::PromptJobKind;
use crate::entities::active_enums::PromptJobState;
use crate::entities::prompt_jobs::{self, Entity as PromptJobs};
use crate::queue::{Queue, Settle, millis};
use crate::sql::now_ms;

const QUEUE: Queue = Queue {
    table: "prompt_jobs",
    lane: "chat_id",
    pending: "pending",
    done: "done",
    dead: "failed",
    done_at: "finished_at",
};

/// A request as the update that asks for it writes it.
#[derive(Debug, Clone)]
pub struct NewPromptJob<'a> {
    pub chat: ChatId,
    pub user: UserId,
    /// The avatar the prompt is for.
    pub avatar: AvatarId,
    pub kind: PromptJobKind,
    /// Telegram's file id (vision) or the prompt (translation).
    pub input: &'a str,
    /// How long the request may take, retries included.
    pub deadline: Duration,
}

/// A claimed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptJob {
    pub id: PromptJobId,
    /// The claim's number: settling is fenced by it.
    pub attempts: i32,
    pub chat: ChatId,
    pub user: UserId,
    pub avatar: AvatarId,
    pub kind: PromptJobKind,
    pub input: String,
    pub deadline_ms: i64,
}

pub async fn queue(
    db: &impl ConnectionTrait,
    new: NewPromptJob<'_>,
) -> Result<PromptJobId, RepoError> {
    let now = now_ms();
    let row = prompt_jobs::ActiveModel {
        chat_id: Set(new.chat.0),
        user_id: Set(new.user.0),
        avatar_id: Set(new.avatar.0),
        kind: Set(new.kind),
        input: Set(new.input.to_owned()),
        state: Set(PromptJobState::Pending),
        attempts: Set(0),
        next_attempt_ms: Set(now),
        deadline_ms: Set(now + millis(new.deadline)),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let inserted = PromptJobs::insert(row).exec(db).await?;
    Ok(PromptJobId(inserted.last_insert_id))
}

/// Claims up to `limit` due requests, the oldest of each chat.
pub async fn claim(
    db: &impl ConnectionTrait,
    limit: u32,
    lease: Duration,
) -> Result<Vec<PromptJob>, RepoError> {
    let rows = QUEUE
        .claim(
            db,
            limit,
            lease,
            "chat_id, user_id, avatar_id, kind, input, deadline_ms",
        )
        .await?;
    rows.iter().map(claimed).collect()
}

fn claimed(row: &QueryResult) -> Result<PromptJob, RepoError> {
    let kind: String = row.try_get("", "kind")?;
    Ok(PromptJob {
        id: PromptJobId(row.try_get("", "id")?),
        attempts: row.try_get("", "attempts")?,
        chat: ChatId(row.try_get("", "chat_id")?),
        user: UserId(row.try_get("", "user_id")?),
        avatar: AvatarId(row.try_get("", "avatar_id")?),
        kind: PromptJobKind::try_from_value(&kind)?,
        input: row.try_get("", "input")?,
        deadline_ms: row.try_get("", "deadline_ms")?,
    })
}

/// Runs the request again after `after`; `false` if the claim was lost.
pub async fn retry(
    db: &impl ConnectionTrait,
    job: &PromptJob,
    after: Duration,
    error: &str,
) -> Result<bool, RepoError> {
    let at_ms = now_ms() + millis(after);
    let how = Settle::Retry { at_ms, error };
    QUEUE.settle(db, job.id.0, job.attempts, how).await
}

/// Settles the request as answered; `false` if the claim was lost (then nothing else in the
/// caller's transaction should happen).
pub async fn complete(db: &impl ConnectionTrait, job: &PromptJob) -> Result<bool, RepoError> {
    QUEUE.settle(db, job.id.0, job.attempts, Settle::Done).await
}

/// Settles the request as failed, keeping why for an operator.
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &PromptJob,
    error: &str,
) -> Result<bool, RepoError> {
    let how = Settle::Dead { error };
    QUEUE.settle(db, job.id.0, job.attempts, how).await
}

/// Requests waiting, and how late the oldest one is in milliseconds.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<(i64, i64), RepoError> {
    QUEUE.backlog(db).await
}

/// Forgets answered requests settled before `before`; failed ones stay for an operator.
pub async fn purge(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, RepoError> {
    QUEUE.purge(db, before).await
}

/// Whether the request still waits for its answer (not answered, failed, or deleted with its
/// avatar).
pub async fn is_pending(db: &impl ConnectionTrait, id: PromptJobId) -> Result<bool, RepoError> {
    let found = PromptJobs::find_by_id(id.0).one(db).await?;
    Ok(found.is_some_and(|job| job.state == PromptJobState::Pending))
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: PromptJobId,
) -> Result<Option<prompt_jobs::Model>, RepoError> {
    Ok(PromptJobs::find_by_id(id.0).one(db).await?)
}

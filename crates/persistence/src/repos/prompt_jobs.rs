//! Requests to the language model: a prompt from a reference photo, or a prompt's English
//! translation. A leased queue with one lane per chat (a person's requests run in order),
//! settled in the transaction that tells the person the outcome.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryResult,
};
use studio_domain::{AvatarId, ChatId, PromptJobId, UserId};

use crate::RepoError;
pub use crate::entities::active_enums::PromptJobKind;
use crate::entities::active_enums::PromptJobState;
use crate::entities::prompt_jobs::{self, Entity as PromptJobs};
use crate::queue::{Queue, Settle, millis};
use crate::repos::workers::Holder;
use crate::sql::now_ms;

const QUEUE: Queue = Queue {
    table: "prompt_jobs",
    lane: "chat_id",
    pending: "pending",
    done: "done",
    dead: "failed",
    done_at: "finished_at",
    paced_until: None,
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
    holder: &Holder,
) -> Result<Vec<PromptJob>, RepoError> {
    let rows = QUEUE
        .claim(
            db,
            limit,
            lease,
            holder,
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
/// caller's transaction should happen). The input (a file id, a person's text) is forgotten.
pub async fn complete(db: &impl ConnectionTrait, job: &PromptJob) -> Result<bool, RepoError> {
    let settled = QUEUE
        .settle(db, job.id.0, job.attempts, Settle::Done)
        .await?;
    if settled {
        forget_input(db, job.id).await?;
    }
    Ok(settled)
}

/// Settles the request as failed, keeping why for an operator and forgetting the input.
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &PromptJob,
    error: &str,
) -> Result<bool, RepoError> {
    let how = Settle::Dead { error };
    let settled = QUEUE.settle(db, job.id.0, job.attempts, how).await?;
    if settled {
        forget_input(db, job.id).await?;
    }
    Ok(settled)
}

/// Fails a request nobody waits for any more (the chat went elsewhere), so it costs no more
/// calls and the chat's next request runs at once. A worker still on it loses its claim.
pub async fn abandon(db: &impl ConnectionTrait, id: PromptJobId) -> Result<bool, RepoError> {
    let result = PromptJobs::update_many()
        .col_expr(
            prompt_jobs::Column::State,
            Expr::value(PromptJobState::Failed),
        )
        .col_expr(prompt_jobs::Column::LastError, Expr::value("abandoned"))
        .col_expr(prompt_jobs::Column::Input, Expr::value(""))
        .col_expr(prompt_jobs::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(prompt_jobs::Column::Id.eq(id.0))
        .filter(prompt_jobs::Column::State.eq(PromptJobState::Pending))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

async fn forget_input(db: &impl ConnectionTrait, id: PromptJobId) -> Result<(), RepoError> {
    PromptJobs::update_many()
        .col_expr(prompt_jobs::Column::Input, Expr::value(""))
        .filter(prompt_jobs::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Requests waiting, and how late the oldest one is in milliseconds.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<(i64, i64), RepoError> {
    QUEUE.backlog(db).await
}

/// Forgets requests settled before `before`, answered or failed: their inputs are gone
/// already, and a failure matters to an operator for days, not for ever.
pub async fn purge(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, RepoError> {
    let result = PromptJobs::delete_many()
        .filter(prompt_jobs::Column::State.ne(PromptJobState::Pending))
        .filter(prompt_jobs::Column::FinishedAt.lt(before))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Whether the request still waits for its answer (not answered, failed, or deleted with its
/// avatar).
pub async fn is_pending(db: &impl ConnectionTrait, id: PromptJobId) -> Result<bool, RepoError> {
    let found = PromptJobs::find_by_id(id.0).one(db).await?;
    Ok(found.is_some_and(|job| job.state == PromptJobState::Pending))
}

/// A request as operators and tests inspect it, settled or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPromptJob {
    pub state: PromptJobState,
    /// The photo's file id or the text; emptied once settled.
    pub input: String,
    pub last_error: Option<String>,
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: PromptJobId,
) -> Result<Option<StoredPromptJob>, RepoError> {
    let row = PromptJobs::find_by_id(id.0).one(db).await?;
    Ok(row.map(|row| StoredPromptJob {
        state: row.state,
        input: row.input,
        last_error: row.last_error,
    }))
}

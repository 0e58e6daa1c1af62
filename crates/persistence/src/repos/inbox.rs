//! Raw Telegram updates: stored before the webhook answers, processed by the dispatcher.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TryInsertResult};
use studio_domain::UpdateId;

use crate::RepoError;
use crate::entities::active_enums::InboxState;
use crate::entities::inbox::{self, Entity as Inbox};
use crate::queue::{Queue, Settle};
use crate::repos::workers::Holder;
use crate::sql::now_ms;

const QUEUE: Queue = Queue {
    table: "inbox",
    lane: "lane",
    pending: "pending",
    done: "done",
    dead: "dead",
    done_at: "processed_at",
    paced_until: None,
};

/// An update as the webhook or the poller received it.
#[derive(Debug, Clone)]
pub struct NewUpdate<'a> {
    pub update_id: UpdateId,
    /// Ordering key: the chat, else the sender, else 0 for updates that belong to no one.
    pub lane: i64,
    pub payload: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Stored,
    /// Telegram re-sent an update we already hold.
    Duplicate,
}

/// A claimed update; `attempts` fences the claim when it is settled.
#[derive(Debug, Clone)]
pub struct ClaimedUpdate {
    pub id: i64,
    pub attempts: i32,
    pub update_id: UpdateId,
    pub lane: i64,
    pub payload: String,
}

pub async fn accept(
    db: &impl ConnectionTrait,
    update: NewUpdate<'_>,
) -> Result<Accepted, RepoError> {
    let row = inbox::ActiveModel {
        update_id: Set(update.update_id.0),
        lane: Set(update.lane),
        payload: Set(update.payload.to_owned()),
        state: Set(InboxState::Pending),
        attempts: Set(0),
        next_attempt_ms: Set(now_ms()),
        received_at: Set(Utc::now()),
        ..Default::default()
    };
    let result = Inbox::insert(row)
        .on_conflict(
            OnConflict::column(inbox::Column::UpdateId)
                .do_nothing()
                .to_owned(),
        )
        .try_insert()
        .exec_without_returning(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(n) if n > 0 => Accepted::Stored,
        TryInsertResult::Inserted(_) | TryInsertResult::Conflicted | TryInsertResult::Empty => {
            Accepted::Duplicate
        }
    })
}

/// Stores a batch of updates in one statement; answers in the order given. One round trip and
/// one commit for many webhook calls is what lets ingress keep up under load.
pub async fn accept_many(
    db: &impl ConnectionTrait,
    updates: &[NewUpdate<'_>],
) -> Result<Vec<Accepted>, RepoError> {
    use std::collections::HashSet;

    use sea_orm::sea_query::Query;

    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let (now_ms, now) = (now_ms(), Utc::now());
    let mut insert = Query::insert();
    insert.into_table(Inbox).columns([
        inbox::Column::UpdateId,
        inbox::Column::Lane,
        inbox::Column::Payload,
        inbox::Column::State,
        inbox::Column::Attempts,
        inbox::Column::NextAttemptMs,
        inbox::Column::ReceivedAt,
    ]);
    for update in updates {
        insert.values_panic([
            update.update_id.0.into(),
            update.lane.into(),
            update.payload.into(),
            sea_orm::ActiveEnum::to_value(&InboxState::Pending).into(),
            0i32.into(),
            now_ms.into(),
            now.into(),
        ]);
    }
    insert
        .on_conflict(
            OnConflict::column(inbox::Column::UpdateId)
                .do_nothing()
                .to_owned(),
        )
        .returning_col(inbox::Column::UpdateId);
    let rows = db.query_all(&insert).await?;
    let stored: HashSet<i64> = rows
        .iter()
        .map(|row| row.try_get::<i64>("", "update_id"))
        .collect::<Result<_, _>>()?;
    let mut seen = HashSet::new();
    Ok(updates
        .iter()
        // A batch may hold the same update twice (Telegram retried quickly): the first stores it.
        .map(
            |u| match stored.contains(&u.update_id.0) && seen.insert(u.update_id.0) {
                true => Accepted::Stored,
                false => Accepted::Duplicate,
            },
        )
        .collect())
}

pub async fn claim(
    db: &impl ConnectionTrait,
    limit: u32,
    lease: Duration,
    holder: &Holder,
) -> Result<Vec<ClaimedUpdate>, RepoError> {
    let rows = QUEUE
        .claim(db, limit, lease, holder, "update_id, lane, payload")
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(ClaimedUpdate {
                id: row.try_get("", "id")?,
                attempts: row.try_get("", "attempts")?,
                update_id: UpdateId(row.try_get("", "update_id")?),
                lane: row.try_get("", "lane")?,
                payload: row.try_get("", "payload")?,
            })
        })
        .collect()
}

/// Marks the update processed; call it in the transaction that holds the update's effects and
/// roll back on `false` (another replica took the row over after our lease ran out).
pub async fn complete(db: &impl ConnectionTrait, claim: &ClaimedUpdate) -> Result<bool, RepoError> {
    QUEUE
        .settle(db, claim.id, claim.attempts, Settle::Done)
        .await
}

/// Marks a batch's updates processed in one statement, in the transaction that applied their
/// effects; `false` if any claim was lost (its lease ran out and another worker took it),
/// and then nothing may commit.
pub async fn complete_many(
    db: &impl ConnectionTrait,
    claims: &[&ClaimedUpdate],
) -> Result<bool, RepoError> {
    let rows: Vec<(i64, i32, Option<i64>)> =
        claims.iter().map(|c| (c.id, c.attempts, None)).collect();
    let done = QUEUE.settle_done_many(db, &rows).await?;
    Ok(done.len() == rows.len())
}

/// Puts the update back for a later attempt.
pub async fn retry(
    db: &impl ConnectionTrait,
    claim: &ClaimedUpdate,
    after: Duration,
    error: &str,
) -> Result<bool, RepoError> {
    let at_ms = now_ms() + crate::queue::millis(after);
    QUEUE
        .settle(db, claim.id, claim.attempts, Settle::Retry { at_ms, error })
        .await
}

/// Gives up on the update, keeping it and its error for an operator.
pub async fn dead_letter(
    db: &impl ConnectionTrait,
    claim: &ClaimedUpdate,
    error: &str,
) -> Result<bool, RepoError> {
    QUEUE
        .settle(db, claim.id, claim.attempts, Settle::Dead { error })
        .await
}

/// Pending updates and the age of the oldest one, in milliseconds.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<(i64, i64), RepoError> {
    QUEUE.backlog(db).await
}

/// A stored update as operators and tests inspect it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpdate {
    pub update_id: UpdateId,
    pub state: InboxState,
    pub attempts: i32,
    pub last_error: Option<String>,
}

pub async fn find(
    db: &impl ConnectionTrait,
    update_id: UpdateId,
) -> Result<Option<StoredUpdate>, RepoError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let row = Inbox::find()
        .filter(inbox::Column::UpdateId.eq(update_id.0))
        .one(db)
        .await?;
    Ok(row.map(|row| StoredUpdate {
        update_id: UpdateId(row.update_id),
        state: row.state,
        attempts: row.attempts,
        last_error: row.last_error,
    }))
}

/// Forgets settled rows older than `before` (dead ones stay for an operator).
pub async fn purge(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, RepoError> {
    QUEUE.purge(db, before).await
}

//! Outgoing Bot API calls, written with the decision that made them and sent by one sender.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use studio_domain::ChatId;

use crate::RepoError;
use crate::entities::active_enums::OutboxState;
use crate::entities::outbox::{self, Entity as Outbox};
use crate::queue::{Queue, Settle, millis};
use crate::repos::workers::Holder;
use crate::sql::{now_ms, statement};

const QUEUE: Queue = Queue {
    table: "outbox",
    lane: "chat_id",
    pending: "pending",
    done: "sent",
    dead: "dead",
    done_at: "sent_at",
    paced_until: Some("paced_until_ms"),
};

#[derive(Debug, Clone)]
pub struct ClaimedCall {
    pub id: i64,
    pub attempts: i32,
    /// Real failures before this claim (5xx, network): 429s do not count.
    pub failures: i32,
    pub chat_id: ChatId,
    pub method: String,
    pub payload: String,
    /// Set for messages edited in place later; see `sent_messages`.
    pub tag: Option<String>,
    /// When the call was decided (unix ms).
    pub created_ms: i64,
}

pub async fn enqueue(
    db: &impl ConnectionTrait,
    chat: ChatId,
    method: &str,
    payload: &str,
) -> Result<(), RepoError> {
    enqueue_tagged(db, chat, method, payload, None).await
}

/// Enqueues a call whose message the sender remembers under `tag` (and edits, when a message
/// with that tag was sent to the chat before).
pub async fn enqueue_tagged(
    db: &impl ConnectionTrait,
    chat: ChatId,
    method: &str,
    payload: &str,
    tag: Option<&str>,
) -> Result<(), RepoError> {
    let row = outbox::ActiveModel {
        tag: Set(tag.map(str::to_owned)),
        ..pending(chat, method, payload)
    };
    Outbox::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// A call for `enqueue_many`.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub chat: ChatId,
    pub method: &'static str,
    pub payload: String,
    pub tag: Option<String>,
}

impl NewCall {
    fn into_row(self) -> outbox::ActiveModel {
        outbox::ActiveModel {
            tag: Set(self.tag),
            ..pending(self.chat, self.method, &self.payload)
        }
    }
}

/// Enqueues several calls in one statement, in the order given (their ids follow it, and a
/// chat's calls are made in id order).
pub async fn enqueue_many(db: &impl ConnectionTrait, calls: Vec<NewCall>) -> Result<(), RepoError> {
    if calls.is_empty() {
        return Ok(());
    }
    Outbox::insert_many(calls.into_iter().map(NewCall::into_row))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Enqueues several calls as `enqueue_many` and claims for `holder` those that lead their
/// chat (no earlier call waiting, the chat not held back by its pace), to be sent the moment
/// the transaction commits instead of waiting for a sender's claim. Only a chat's first call
/// in `calls` can lead. If the holder dies first, the lease runs out and a sender sends them.
pub async fn enqueue_and_claim_heads(
    db: &impl ConnectionTrait,
    calls: Vec<NewCall>,
    lease: Duration,
    holder: &Holder,
) -> Result<Vec<ClaimedCall>, RepoError> {
    if calls.is_empty() {
        return Ok(Vec::new());
    }
    let mut firsts = std::collections::HashSet::new();
    let heads: Vec<bool> = calls.iter().map(|call| firsts.insert(call.chat)).collect();
    let (now, created) = (now_ms(), Utc::now());
    let mut values: Vec<sea_orm::Value> = vec![
        now.into(),
        created.into(),
        (now + millis(lease)).into(),
        holder.id().to_string().into(),
    ];
    let mut rows = Vec::with_capacity(calls.len());
    for (n, (call, head)) in calls.iter().zip(&heads).enumerate() {
        let at = values.len() + 1;
        rows.push(format!(
            "(CAST(${at} AS INTEGER), CAST(${} AS BIGINT), CAST(${} AS TEXT), \
             CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS INTEGER))",
            at + 1,
            at + 2,
            at + 3,
            at + 4,
            at + 5,
        ));
        values.extend([
            i32::try_from(n).unwrap_or(i32::MAX).into(),
            call.chat.0.into(),
            call.method.into(),
            call.payload.as_str().into(),
            call.tag.clone().into(),
            i32::from(*head).into(),
        ]);
    }
    let sql = HEADS_CLAIMED_AS_STORED.replace("{given}", &rows.join(", "));
    let stored = db
        .query_all_raw(statement(db.get_database_backend(), &sql, values))
        .await?;
    let mut led: std::collections::HashMap<i64, (i64, i32)> = std::collections::HashMap::new();
    for row in stored {
        let attempts: i32 = row.try_get("", "attempts")?;
        if attempts > 0 {
            led.insert(
                row.try_get("", "chat_id")?,
                (row.try_get("", "id")?, attempts),
            );
        }
    }
    let mut claimed: Vec<ClaimedCall> = calls
        .into_iter()
        .zip(heads)
        .filter(|(_, head)| *head)
        .filter_map(|(call, _)| {
            let (id, attempts) = led.get(&call.chat.0).copied()?;
            Some(ClaimedCall {
                id,
                attempts,
                failures: 0,
                chat_id: call.chat,
                method: call.method.to_owned(),
                payload: call.payload,
                tag: call.tag,
                created_ms: created.timestamp_millis(),
            })
        })
        .collect();
    claimed.sort_by_key(|call| call.id);
    Ok(claimed)
}

/// Stores `{given}` (`(n, chat, method, payload, tag, first of its chat)` rows) in order, each
/// chat's first call born claimed (attempt 1, leased to `$4` until `$3`) when no earlier call
/// of its chat waits and its pace does not hold it: one statement and one row version, where
/// an insert and then a claim cost two of each. Only a chat's first call can lead, so the check
/// needs no sight of the rows stored alongside it.
const HEADS_CLAIMED_AS_STORED: &str = "\
    INSERT INTO outbox (chat_id, method, payload, tag, state, attempts, next_attempt_ms, \
                        created_at, lease_until_ms, lease_owner) \
    SELECT v.chat, v.method, v.payload, v.tag, 'pending', CASE WHEN v.leads THEN 1 ELSE 0 END, \
           $1, $2, CASE WHEN v.leads THEN $3 END, CASE WHEN v.leads THEN $4 END \
    FROM (SELECT g.column1 AS n, g.column2 AS chat, g.column3 AS method, g.column4 AS payload, \
                 g.column5 AS tag, \
                 (g.column6 = 1 \
                  AND NOT EXISTS (SELECT 1 FROM outbox e \
                                  WHERE e.chat_id = g.column2 AND e.state = 'pending') \
                  AND NOT EXISTS (SELECT 1 FROM outbox p \
                                  WHERE p.chat_id = g.column2 AND p.paced_until_ms > $1)) AS leads \
          FROM (VALUES {given}) AS g) AS v \
    ORDER BY v.n \
    RETURNING id, chat_id, attempts";

/// Enqueues an edit of `message_id`, dropping the edits of the same message (same method)
/// still waiting and not claimed: each replaces the message whole, so only the last matters,
/// and a chat flooding a button keeps one pending edit per message instead of a backlog.
/// Returns how many were dropped.
pub async fn enqueue_edit(
    db: &impl ConnectionTrait,
    chat: ChatId,
    method: &str,
    payload: &str,
    message_id: i64,
) -> Result<u64, RepoError> {
    let sql = "DELETE FROM outbox WHERE chat_id = $1 AND edits_message = $2 AND method = $3 \
               AND state = 'pending' AND (lease_until_ms IS NULL OR lease_until_ms < $4)";
    let values = vec![
        chat.0.into(),
        message_id.into(),
        method.into(),
        now_ms().into(),
    ];
    let dropped = db
        .execute_raw(statement(db.get_database_backend(), sql, values))
        .await?
        .rows_affected();
    let row = outbox::ActiveModel {
        edits_message: Set(Some(message_id)),
        ..pending(chat, method, payload)
    };
    Outbox::insert(row).exec_without_returning(db).await?;
    Ok(dropped)
}

/// A call waiting to be made, due now.
fn pending(chat: ChatId, method: &str, payload: &str) -> outbox::ActiveModel {
    outbox::ActiveModel {
        chat_id: Set(chat.0),
        method: Set(method.to_owned()),
        payload: Set(payload.to_owned()),
        state: Set(OutboxState::Pending),
        attempts: Set(0),
        next_attempt_ms: Set(now_ms()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Enqueues a call the caller sends itself right after its transaction commits: answers to a
/// button or a payment, which Telegram times out (15 s, 10 s) and so cannot wait behind the
/// sender's queue. The row is born claimed, leased for `lease`, so no sender takes it meanwhile;
/// the caller settles it like a claimed call, and if the caller dies first the senders send it
/// once the lease ends.
pub async fn enqueue_claimed(
    db: &impl ConnectionTrait,
    chat: ChatId,
    method: &str,
    payload: &str,
    lease: Duration,
) -> Result<ClaimedCall, RepoError> {
    let row = outbox::ActiveModel {
        lease_until_ms: Set(Some(now_ms() + millis(lease))),
        ..pending(chat, method, payload)
    };
    let id = Outbox::insert(row).exec(db).await?.last_insert_id;
    Ok(ClaimedCall {
        id,
        attempts: 0,
        failures: 0,
        chat_id: chat,
        method: method.to_owned(),
        payload: payload.to_owned(),
        tag: None,
        created_ms: now_ms(),
    })
}

pub async fn claim(
    db: &impl ConnectionTrait,
    limit: u32,
    lease: Duration,
    holder: &Holder,
) -> Result<Vec<ClaimedCall>, RepoError> {
    let rows = QUEUE
        .claim(
            db,
            limit,
            lease,
            holder,
            "chat_id, method, payload, tag, failures, created_at",
        )
        .await?;
    rows.into_iter().map(claimed_call).collect()
}

fn claimed_call(row: sea_orm::QueryResult) -> Result<ClaimedCall, RepoError> {
    Ok(ClaimedCall {
        id: row.try_get("", "id")?,
        attempts: row.try_get("", "attempts")?,
        failures: row.try_get("", "failures")?,
        chat_id: ChatId(row.try_get("", "chat_id")?),
        method: row.try_get("", "method")?,
        payload: row.try_get("", "payload")?,
        tag: row.try_get("", "tag")?,
        created_ms: row
            .try_get::<chrono::DateTime<Utc>>("", "created_at")?
            .timestamp_millis(),
    })
}

/// Settling a call made to Telegram takes `hold`: how long the chat's next call must wait
/// (the per-chat pace, shared by every replica through the claim), or `None` for calls that
/// Telegram's limits do not count.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    call: &ClaimedCall,
    hold: Option<Duration>,
) -> Result<bool, RepoError> {
    QUEUE
        .settle_paced(db, call.id, call.attempts, Settle::Done, held_until(hold))
        .await
}

/// A call Telegram accepted, to settle with others (`mark_sent_many`).
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub id: i64,
    pub attempts: i32,
    /// How long the chat's next call must wait, counted from now.
    pub hold: Option<Duration>,
}

/// Settles many sent calls in one statement, each as `mark_sent` would; returns the ids that
/// were still ours (a call whose lease ran out and was claimed again is not).
pub async fn mark_sent_many(
    db: &impl ConnectionTrait,
    sent: &[Sent],
) -> Result<Vec<i64>, RepoError> {
    let rows: Vec<(i64, i32, Option<i64>)> = sent
        .iter()
        .map(|s| (s.id, s.attempts, held_until(s.hold)))
        .collect();
    QUEUE.settle_done_many(db, &rows).await
}

pub async fn retry(
    db: &impl ConnectionTrait,
    call: &ClaimedCall,
    after: Duration,
    error: &str,
    hold: Option<Duration>,
) -> Result<bool, RepoError> {
    let at_ms = now_ms() + millis(after);
    let how = Settle::Retry { at_ms, error };
    QUEUE
        .settle_paced(db, call.id, call.attempts, how, held_until(hold))
        .await
}

pub async fn dead_letter(
    db: &impl ConnectionTrait,
    call: &ClaimedCall,
    error: &str,
    hold: Option<Duration>,
) -> Result<bool, RepoError> {
    let how = Settle::Dead { error };
    QUEUE
        .settle_paced(db, call.id, call.attempts, how, held_until(hold))
        .await
}

/// Counts a real failure of the call (a 5xx, the network), which `retry` does not: waiting out
/// a 429 is not one. Fenced like a settle, by the claim's attempt number.
pub async fn count_failure(db: &impl ConnectionTrait, call: &ClaimedCall) -> Result<(), RepoError> {
    Outbox::update_many()
        .col_expr(
            outbox::Column::Failures,
            Expr::col(outbox::Column::Failures).add(1),
        )
        .filter(outbox::Column::Id.eq(call.id))
        .filter(outbox::Column::Attempts.eq(call.attempts))
        .exec(db)
        .await?;
    Ok(())
}

fn held_until(hold: Option<Duration>) -> Option<i64> {
    hold.map(|hold| now_ms() + millis(hold))
}

/// Drops every pending call to a chat that blocked the bot; returns how many were dropped.
pub async fn drop_pending(
    db: &impl ConnectionTrait,
    chat: ChatId,
    why: &str,
) -> Result<u64, RepoError> {
    let result = Outbox::update_many()
        .col_expr(outbox::Column::State, Expr::value(OutboxState::Dead))
        .col_expr(outbox::Column::LastError, Expr::value(why))
        .filter(outbox::Column::ChatId.eq(chat.0))
        .filter(outbox::Column::State.eq(OutboxState::Pending))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

pub async fn backlog(db: &impl ConnectionTrait) -> Result<(i64, i64), RepoError> {
    QUEUE.backlog(db).await
}

/// A stored call as operators and tests inspect it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCall {
    pub method: String,
    /// The call's JSON body.
    pub payload: String,
    pub state: OutboxState,
    /// Tries so far, 429s included.
    pub attempts: i32,
    /// Real failures so far (5xx, network).
    pub failures: i32,
    pub last_error: Option<String>,
}

/// Calls to one chat, oldest first (tests and `check` read what was decided).
pub async fn for_chat(
    db: &impl ConnectionTrait,
    chat: ChatId,
) -> Result<Vec<StoredCall>, RepoError> {
    use sea_orm::QueryOrder;
    let rows = Outbox::find()
        .filter(outbox::Column::ChatId.eq(chat.0))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| StoredCall {
            method: row.method,
            payload: row.payload,
            state: row.state,
            attempts: row.attempts,
            failures: row.failures,
            last_error: row.last_error,
        })
        .collect())
}

/// Forgets settled rows older than `before` (dead ones stay for an operator).
pub async fn purge(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, RepoError> {
    QUEUE.purge(db, before).await
}

//! One sender owns outbound messages: Telegram limits us per chat and per bot, and a 429 says
//! how long to wait. One owner can honour both; many callers of `sendMessage` cannot.
//!
//! Calls come from the outbox, oldest first per chat (the claim only offers a chat's next call
//! once the previous one is settled), so a chat's messages arrive in the order decided.
//!
//! The limits are the bot's, so the pace is kept in the database and shared by every replica:
//! each claimed batch reserves its messages' moments from the bot's pace in one statement, and
//! a settled message holds its chat back (the claim skips the chat until then).

use std::sync::Arc;
use std::time::Duration;

use studio_domain::{ChatId, TelegramUserId};
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::outbox::{self, ClaimedCall};
use studio_persistence::repos::workers::Holder;
use studio_persistence::repos::{send_pace, sent_messages, users};
use studio_providers::storage::BlobStore;
use studio_providers::telegram::{SendLimits, TelegramClient, TelegramError, counts_as_message};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::dispatcher::backoff;
use crate::metrics::{OUTBOUND_429, OUTBOUND_ERRORS, OUTBOUND_SENT};
use upload::LoadedUpload;

mod settle;
mod upload;

pub use settle::Settler;

const POLL: Duration = Duration::from_millis(250);
/// Real failures (5xx, network; not 429s, which only ask us to wait) before a call is
/// dead-lettered.
const MAX_FAILURES: i32 = 8;
/// Telegram takes a button's answer for about 15 s after the press.
const ANSWER_WINDOW_MS: i64 = 15_000;

/// A button's answer decided longer ago than Telegram still takes one (a flooding chat's
/// backlog, or a crash before it was sent).
fn is_stale_answer(call: &ClaimedCall) -> bool {
    call.method == "answerCallbackQuery"
        && crate::job_loop::now_ms() - call.created_ms > ANSWER_WINDOW_MS
}

#[derive(Clone)]
pub struct Sender {
    pub db: DatabaseConnection,
    pub telegram: TelegramClient,
    /// The bot's pace; see the module's comment.
    pub limits: SendLimits,
    pub outbox_stored: Arc<Notify>,
    /// Where photos to upload are read from.
    pub storage: BlobStore,
    pub concurrency: usize,
    /// Longer than any wait for the pace plus a call's timeout.
    pub lease: Duration,
    pub holder: Holder,
    /// Writes sent calls' rows, many in one statement.
    pub settler: Settler,
}

enum Outcome {
    Sent,
    /// Again after the delay; `failed`: a real failure, counted against `MAX_FAILURES`.
    Later {
        delay: Duration,
        error: String,
        failed: bool,
    },
    GiveUp(String),
}

impl Sender {
    pub async fn run(self, cancel: CancellationToken) {
        tracing::info!(concurrency = self.concurrency, "sender started");
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut in_flight = JoinSet::new();
        // When a chat this sender held back may be offered again: claiming then, rather than
        // at the next poll, keeps a chat's messages a gap apart instead of a gap and a poll.
        let mut wake_at: Option<Instant> = None;
        while !cancel.is_cancelled() {
            wake_at = wake_at.filter(|at| *at > Instant::now());
            let free = u32::try_from(slots.available_permits()).unwrap_or(u32::MAX);
            let claimed = if free == 0 {
                Vec::new()
            } else {
                self.claim(free).await
            };
            let idle = claimed.is_empty();
            for (call, not_before) in self.schedule(claimed).await {
                let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                    break;
                };
                let sender = self.clone();
                let span = tracing::info_span!("send", chat_id = %call.chat_id, method = %call.method, outbox_id = call.id);
                in_flight.spawn(
                    async move {
                        let held_until = sender.deliver(call, not_before).await;
                        drop(permit);
                        held_until
                    }
                    .instrument(span),
                );
            }
            if idle {
                let poll_at = Instant::now() + POLL;
                let until = wake_at.map_or(poll_at, |at| at.min(poll_at));
                tokio::select! {
                    () = self.outbox_stored.notified() => {}
                    Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                        wake_at = earliest(wake_at, joined.ok().flatten());
                    }
                    () = tokio::time::sleep_until(until) => {}
                    () = cancel.cancelled() => {}
                }
            }
            while let Some(joined) = in_flight.try_join_next() {
                wake_at = earliest(wake_at, joined.ok().flatten());
            }
        }
        // Calls already made are settled; unsent ones keep their rows for the next start.
        while in_flight.join_next().await.is_some() {}
        tracing::info!("sender stopped");
    }

    async fn claim(&self, limit: u32) -> Vec<ClaimedCall> {
        match outbox::claim(&self.db, limit, self.lease, &self.holder).await {
            Ok(calls) => calls,
            Err(err) => {
                tracing::error!(error = %err, "cannot claim outgoing calls");
                Vec::new()
            }
        }
    }

    /// Sends answers that were stored already claimed (`outbox::enqueue_claimed`), all at
    /// once: they are not messages, so they take no moment from the pace and wait for nothing.
    pub async fn answer_now(&self, calls: Vec<ClaimedCall>) {
        let mut sends = JoinSet::new();
        for call in calls {
            let sender = self.clone();
            let span = tracing::info_span!("send", chat_id = %call.chat_id, method = %call.method, outbox_id = call.id);
            sends.spawn(async move { sender.deliver(call, None).await }.instrument(span));
        }
        while sends.join_next().await.is_some() {}
    }

    /// Sends messages that were stored already claimed (`outbox::enqueue_and_claim_heads`) at
    /// the moments the bot's pace gives them, as if this sender had claimed them.
    pub async fn send_now(&self, calls: Vec<ClaimedCall>) {
        if calls.is_empty() {
            return;
        }
        let mut sends = JoinSet::new();
        for (call, not_before) in self.schedule(calls).await {
            let sender = self.clone();
            let span = tracing::info_span!("send", chat_id = %call.chat_id, method = %call.method, outbox_id = call.id);
            sends.spawn(async move { sender.deliver(call, not_before).await }.instrument(span));
        }
        while sends.join_next().await.is_some() {}
    }

    /// When each claimed call may leave: messages at the moments reserved for them from the
    /// bot's pace (one statement for the batch), other calls at once. If the pace cannot be
    /// read, the batch is put back to be claimed again shortly.
    async fn schedule(&self, claimed: Vec<ClaimedCall>) -> Vec<(ClaimedCall, Option<Instant>)> {
        let messages = claimed
            .iter()
            .filter(|call| counts_as_message(&call.method))
            .count();
        let reserved = match u32::try_from(messages) {
            Ok(0) => None,
            Ok(count) => match send_pace::reserve(&self.db, count, self.limits.spacing()).await {
                Ok(reserved) => Some((Instant::now(), reserved)),
                Err(err) => {
                    tracing::error!(error = %err, "cannot reserve Telegram's pace; calls put back");
                    self.put_back(claimed).await;
                    return Vec::new();
                }
            },
            Err(_) => None,
        };
        let mut nth = 0;
        claimed
            .into_iter()
            .map(|call| {
                let not_before =
                    reserved
                        .filter(|_| counts_as_message(&call.method))
                        .map(|(at, reserved)| {
                            nth += 1;
                            at + reserved.wait(nth - 1)
                        });
                (call, not_before)
            })
            .collect()
    }

    async fn put_back(&self, calls: Vec<ClaimedCall>) {
        for call in calls {
            let later = outbox::retry(&self.db, &call, POLL, "pace unavailable", None).await;
            if let Err(err) = later {
                tracing::warn!(error = %err, outbox_id = call.id, "call waits for its lease");
            }
        }
    }

    /// Makes the call and settles its row; returns until when its chat is held back, if the
    /// call was a message.
    async fn deliver(&self, call: ClaimedCall, not_before: Option<Instant>) -> Option<Instant> {
        if is_stale_answer(&call) {
            // Telegram refuses a button's answer after about 15 s: sending it would only fail.
            tracing::info!("stale button answer dropped");
            metrics::counter!(OUTBOUND_SENT, "method" => call.method.clone(), "outcome" => "stale")
                .increment(1);
            if let Err(err) = outbox::mark_sent(&self.db, &call, None).await {
                tracing::warn!(error = %err, "stale answer not settled; its lease expires");
            }
            return None;
        }
        // A photo to upload is read before the wait, so it leaves the moment its slot comes and
        // the next message to the chat cannot catch up with it.
        let outcome = match self.load_upload(&call).await {
            Ok(upload) => {
                if let Some(at) = not_before {
                    tokio::time::sleep_until(at).await;
                }
                let made = match self.call(&call, upload).await {
                    Err(err) => self.resend_if_gone(&call, err).await,
                    made => made,
                };
                match made {
                    Ok(()) => Outcome::Sent,
                    Err(err) => self.on_error(&call, err).await,
                }
            }
            Err(err) => self.on_error(&call, err).await,
        };
        let method = call.method.clone();
        // Held from when the answer came, which is after Telegram saw the message.
        let hold = counts_as_message(&method).then(|| self.limits.chat_gap(call.chat_id.0));
        let settled = match outcome {
            Outcome::Sent => {
                metrics::counter!(OUTBOUND_SENT, "method" => method, "outcome" => "ok")
                    .increment(1);
                self.settler.sent(&call, hold).await
            }
            Outcome::Later {
                delay,
                error,
                failed,
            } => {
                if failed && let Err(err) = outbox::count_failure(&self.db, &call).await {
                    tracing::warn!(error = %err, "failure not counted");
                }
                outbox::retry(&self.db, &call, delay, &error, hold)
                    .await
                    .map_err(|err| err.to_string())
            }
            Outcome::GiveUp(error) => {
                metrics::counter!(OUTBOUND_SENT, "method" => method, "outcome" => "dead")
                    .increment(1);
                outbox::dead_letter(&self.db, &call, &error, hold)
                    .await
                    .map_err(|err| err.to_string())
            }
        };
        if let Err(err) = settled {
            // The lease expires and the call is claimed again; a resend beats a lost message.
            tracing::error!(error = %err, "cannot settle outgoing call");
        }
        // A moment past the hold: the claim compares whole milliseconds.
        hold.map(|hold| Instant::now() + hold + Duration::from_millis(2))
    }

    /// Makes the call. A tagged message whose earlier copy we know is edited in place instead;
    /// if that copy is gone (deleted by the person), a new one is sent and remembered.
    async fn call(
        &self,
        call: &ClaimedCall,
        upload: Option<LoadedUpload>,
    ) -> Result<(), TelegramError> {
        if let Some(upload) = upload {
            return self.upload(call, upload).await;
        }
        let Some(tag) = call.tag.as_deref() else {
            return self
                .telegram
                .call_raw(&call.method, &call.payload)
                .await
                .map(drop);
        };
        let known = sent_messages::find(&self.db, call.chat_id, tag)
            .await
            .ok()
            .flatten();
        if let Some(message_id) = known {
            let mut edit: serde_json::Value =
                serde_json::from_str(&call.payload).unwrap_or_default();
            edit["message_id"] = message_id.into();
            match self
                .telegram
                .call_raw("editMessageText", &edit.to_string())
                .await
            {
                Ok(_) => return Ok(()),
                Err(TelegramError::Rejected { description, .. })
                    if description.contains("not modified") =>
                {
                    return Ok(());
                }
                Err(TelegramError::Rejected { description, .. }) => {
                    tracing::debug!(%description, "tagged message not editable; sending a new one");
                }
                Err(err) => return Err(err),
            }
        }
        let sent = self.telegram.call_raw(&call.method, &call.payload).await?;
        if let Some(message_id) = sent.get("message_id").and_then(serde_json::Value::as_i64)
            && let Err(err) = sent_messages::remember(&self.db, call.chat_id, tag, message_id).await
        {
            tracing::warn!(error = %err, "tagged message id not remembered; the next one is new");
        }
        Ok(())
    }

    /// A screen that was to replace a message Telegram can no longer edit (the person deleted
    /// it, or it is too old) is sent as a new message, so the person still sees it.
    async fn resend_if_gone(
        &self,
        call: &ClaimedCall,
        err: TelegramError,
    ) -> Result<(), TelegramError> {
        let gone = matches!(&err, TelegramError::Rejected { description, .. }
            if description.contains("message to edit not found")
                || description.contains("message can't be edited"));
        let payload: serde_json::Value = serde_json::from_str(&call.payload).unwrap_or_default();
        let Some((method, payload)) = gone
            .then(|| studio_bot_ui::as_new_message(&call.method, &payload))
            .flatten()
        else {
            return Err(err);
        };
        tracing::info!(error = %err, "message to edit is gone; its screen is sent anew");
        let anew = ClaimedCall {
            method: method.to_owned(),
            payload: payload.to_string(),
            ..call.clone()
        };
        let upload = self.load_upload(&anew).await?;
        self.call(&anew, upload).await
    }

    async fn on_error(&self, call: &ClaimedCall, err: TelegramError) -> Outcome {
        metrics::counter!(OUTBOUND_ERRORS, "kind" => err.kind()).increment(1);
        match err {
            TelegramError::RetryAfter(wait) => {
                metrics::counter!(OUTBOUND_429).increment(1);
                tracing::warn!(retry_after = ?wait, "Telegram asked us to slow down");
                Outcome::Later {
                    delay: wait,
                    error: "429 Too Many Requests".into(),
                    failed: false,
                }
            }
            TelegramError::Forbidden(description) => {
                self.mark_blocked(call.chat_id).await;
                Outcome::GiveUp(format!("403 {description}"))
            }
            TelegramError::Rejected { description, .. }
                if description.contains("message is not modified") =>
            {
                Outcome::Sent
            }
            // A message the person already deleted, or one older than Telegram lets a bot
            // delete (48 h): nothing to do, and the screen that replaces it is sent anyway.
            TelegramError::Rejected { description, .. }
                if call.method == "deleteMessage"
                    && (description.contains("message to delete not found")
                        || description.contains("message can't be deleted")) =>
            {
                tracing::info!(%description, "message not deleted; left as it is");
                Outcome::Sent
            }
            TelegramError::Rejected { code, description } => {
                tracing::warn!(code, %description, "Telegram rejected a call");
                Outcome::GiveUp(format!("{code} {description}"))
            }
            err @ (TelegramError::Server { .. } | TelegramError::Network(_)) => {
                let failures = call.failures + 1;
                if failures >= MAX_FAILURES {
                    tracing::error!(error = %err, failures, "giving up on a call");
                    Outcome::GiveUp(err.to_string())
                } else {
                    tracing::warn!(error = %err, failures, "call failed; will retry");
                    Outcome::Later {
                        delay: backoff(failures),
                        error: err.to_string(),
                        failed: true,
                    }
                }
            }
        }
    }

    /// A private chat's id is the person's id: mark them blocked and drop what waits for them.
    async fn mark_blocked(&self, chat: ChatId) {
        if chat.0 <= 0 {
            return;
        }
        tracing::info!(chat_id = %chat, "chat is forbidden; user marked blocked");
        if let Err(err) = users::set_blocked(&self.db, TelegramUserId(chat.0), true).await {
            tracing::error!(error = %err, "cannot mark user blocked");
        }
        if let Err(err) = outbox::drop_pending(&self.db, chat, "user blocked the bot").await {
            tracing::error!(error = %err, "cannot drop calls to a blocked chat");
        }
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use studio_domain::ChatId;
    use studio_persistence::repos::outbox::ClaimedCall;

    fn call(method: &str, age_ms: i64) -> ClaimedCall {
        ClaimedCall {
            id: 1,
            attempts: 1,
            failures: 0,
            chat_id: ChatId(1),
            method: method.into(),
            payload: "{}".into(),
            tag: None,
            created_ms: crate::job_loop::now_ms() - age_ms,
        }
    }

    #[test]
    fn only_a_buttons_answer_goes_stale() {
        assert!(super::is_stale_answer(&call("answerCallbackQuery", 16_000)));
        assert!(!super::is_stale_answer(&call("answerCallbackQuery", 1_000)));
        assert!(!super::is_stale_answer(&call("sendMessage", 600_000)));
    }
}

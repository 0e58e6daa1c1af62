//! Polling mode (no `PUBLIC_URL`): `getUpdates` feeds the same inbox as the webhook. The
//! offset only moves past an update once it is stored, so a crash re-reads, never loses.

use std::sync::Arc;
use std::time::Duration;

use studio_persistence::DatabaseConnection;
use studio_persistence::repos::inbox::{self, NewUpdate};
use studio_providers::telegram::TelegramClient;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::metrics::UPDATES_RECEIVED;
use crate::routes::read_update;

pub const ALLOWED_UPDATES: [&str; 5] = [
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "pre_checkout_query",
];
const LONG_POLL: Duration = Duration::from_secs(25);

pub struct Poller {
    pub db: DatabaseConnection,
    pub telegram: TelegramClient,
    pub inbox_stored: Arc<Notify>,
}

impl Poller {
    pub async fn run(self, cancel: CancellationToken) {
        if let Err(err) = self.telegram.delete_webhook().await {
            tracing::warn!(error = %err, "cannot remove the webhook; getUpdates may be refused");
        }
        tracing::info!("polling Telegram for updates");
        let mut offset = None;
        let mut failures = 0;
        while !cancel.is_cancelled() {
            let batch = tokio::select! {
                batch = self.telegram.get_updates(offset, LONG_POLL, &ALLOWED_UPDATES) => batch,
                () = cancel.cancelled() => break,
            };
            match batch {
                Ok(updates) => {
                    failures = 0;
                    offset = self.store(updates).await.or(offset);
                }
                Err(err) => {
                    failures += 1;
                    let wait = crate::dispatcher::backoff(failures).min(Duration::from_secs(30));
                    tracing::warn!(error = %err, retry_in = ?wait, "getUpdates failed");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = cancel.cancelled() => break,
                    }
                }
            }
        }
        tracing::info!("poller stopped");
    }

    /// Stores a batch in order; returns the offset that confirms what was stored.
    async fn store(&self, updates: Vec<serde_json::Value>) -> Option<i64> {
        let mut next = None;
        for update in updates {
            let raw = update.to_string();
            let Some((update_id, lane, payload)) = read_update(raw.as_bytes()) else {
                continue;
            };
            if let Err(err) = inbox::accept(
                &self.db,
                NewUpdate {
                    update_id,
                    lane,
                    payload,
                },
            )
            .await
            {
                tracing::error!(update_id = %update_id, error = %err, "cannot store polled update");
                return next;
            }
            metrics::counter!(UPDATES_RECEIVED).increment(1);
            self.inbox_stored.notify_one();
            next = Some(update_id.0 + 1);
        }
        next
    }
}

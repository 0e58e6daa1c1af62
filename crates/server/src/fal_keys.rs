//! Keeps FAL's webhook keys fresh: the one place that fetches them. On a schedule, never
//! because a request arrived (a forged one must not make us call FAL); a failed fetch is
//! retried with back-off while the keys we have keep verifying.

use std::sync::Arc;
use std::time::Duration;

use studio_providers::fal::WebhookVerifier;
use tokio_util::sync::CancellationToken;

use crate::metrics::FAL_KEY_REFRESHES;

/// FAL rotates keys rarely; a rotation is picked up within this, and webhooks signed by a new
/// key meanwhile are retried by FAL (for 2 h) or made up by polling.
const REFRESH_EVERY: Duration = Duration::from_secs(15 * 60);
const FIRST_RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(5 * 60);
/// Failures in a row after which an operator should know (about 10 minutes of retries).
const ALERT_AFTER: u32 = 8;

/// Fetches the keys once, for at most `within`, before the server takes requests, so webhooks
/// that arrive right after start-up verify. Returns when to fetch next.
pub async fn first(verifier: &WebhookVerifier, within: Duration) -> Duration {
    let mut failures = 0;
    match tokio::time::timeout(within, refresh(verifier, &mut failures)).await {
        Ok(next) => next,
        Err(_) => {
            tracing::warn!("FAL webhook keys not fetched in time at start; retrying");
            Duration::ZERO
        }
    }
}

/// Refreshes the keys (the first time after `first_wait`), then on schedule or with back-off,
/// until cancelled.
pub async fn run(verifier: Arc<WebhookVerifier>, first_wait: Duration, cancel: CancellationToken) {
    let (mut wait, mut failures) = (first_wait, 0);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = refresh(&verifier, &mut failures).await;
    }
}

/// One fetch, counted and logged; returns the wait before the next: the schedule after a
/// success, a back-off after `failures` in a row.
async fn refresh(verifier: &WebhookVerifier, failures: &mut u32) -> Duration {
    match verifier.refresh().await {
        Ok(keys) => {
            metrics::counter!(FAL_KEY_REFRESHES, "outcome" => "ok").increment(1);
            tracing::info!(keys, "FAL webhook keys fetched");
            *failures = 0;
            REFRESH_EVERY
        }
        Err(err) => {
            metrics::counter!(FAL_KEY_REFRESHES, "outcome" => "failed").increment(1);
            *failures += 1;
            if *failures >= ALERT_AFTER {
                tracing::error!(error = %err, failures = *failures, url = verifier.jwks_url(),
                    "FAL webhook keys still not fetched; the keys we have keep verifying");
            } else {
                tracing::warn!(error = %err, failures = *failures, "FAL webhook keys not fetched");
            }
            retry_after(*failures)
        }
    }
}

fn retry_after(failures: u32) -> Duration {
    (FIRST_RETRY * 2u32.saturating_pow(failures.saturating_sub(1).min(16))).min(MAX_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_five_minutes() {
        assert_eq!(retry_after(1), FIRST_RETRY);
        assert_eq!(retry_after(2), FIRST_RETRY * 2);
        assert_eq!(retry_after(30), MAX_RETRY);
    }
}

//! What generation and training steps share about FAL requests: where a queued request is
//! recorded and how polls back off.

use std::time::Duration;

use studio_persistence::repos::jobs::Submission;
use studio_providers::fal::QueuedRequest;

/// The row fields of a request FAL queued.
pub fn submission(queued: &QueuedRequest) -> Submission<'_> {
    Submission {
        request_id: &queued.request_id,
        status_url: &queued.status_url,
        response_url: &queued.response_url,
        cancel_url: &queued.cancel_url,
    }
}

/// The wait before the next status poll: `first` after the submission, doubling with each
/// attempt up to `max`.
pub fn poll_delay(first: Duration, attempts: i32, max: Duration) -> Duration {
    let doublings = u32::try_from(attempts.clamp(2, 8) - 2).unwrap_or(0);
    (first * 2u32.pow(doublings)).min(max)
}

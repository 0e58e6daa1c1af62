//! One FAL request lifecycle, shared by generations and trainings: where a queued request is
//! recorded, how polls back off, how its result is read (the stored webhook first, then FAL's
//! status and result URLs), and what each FAL error means for the job.

use std::time::Duration;

use serde_json::Value;
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::fal_callbacks;
use studio_persistence::repos::jobs::Submission;
use studio_providers::fal::{
    FalClient, FalError, QueuedRequest, RequestStatus, WebhookBody, WebhookStatus,
};

use crate::metrics::PROVIDER_ERRORS;

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

/// Where a FAL request stands, or what a FAL call's failure means for the job.
#[derive(Debug)]
pub enum Progress {
    /// Queued or running: check again later.
    Waiting,
    /// Could not tell now (FAL or our database unavailable, 429): retry with backoff.
    Retry(String),
    Output(Value),
    Failed(Failure),
}

/// How a request ended without a result; each has its own words for the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// FAL validated the input and refused it (422, `detail` as a list): rewording may help.
    Rejected(String),
    /// FAL refuses our key or account (401/403): nobody's request works until an operator
    /// acts; the person hears the service is temporarily unavailable.
    Refused(String),
    /// The model or FAL failed (final after `COMPLETED`), or answered what we cannot use.
    Failed(String),
}

impl Failure {
    pub fn detail(&self) -> &str {
        match self {
            Self::Rejected(detail) | Self::Refused(detail) | Self::Failed(detail) => detail,
        }
    }
}

/// The request's URLs as its row holds them.
pub struct RequestUrls<'a> {
    pub request_id: &'a str,
    pub status_url: Option<&'a str>,
    pub response_url: Option<&'a str>,
}

/// Reads where a submitted request stands: a stored webhook if one came (one reporting
/// success without its payload sends us to the result URL: never refund a success), else
/// FAL's status, and after `COMPLETED` the result, whose error is final.
pub async fn progress(
    db: &DatabaseConnection,
    fal: &FalClient,
    request: RequestUrls<'_>,
    job: &'static str,
) -> Progress {
    match fal_callbacks::find(db, request.request_id).await {
        Ok(Some(body)) => {
            if let Some(progress) = from_webhook(&body) {
                return progress;
            }
        }
        Ok(None) => {}
        Err(err) => return Progress::Retry(format!("callbacks unreadable: {err}")),
    }
    let (Some(status_url), Some(response_url)) = (request.status_url, request.response_url) else {
        return Progress::Failed(Failure::Failed("request without URLs".into()));
    };
    match fal.status(status_url).await {
        Ok(RequestStatus::Completed) => match fal.result(response_url).await {
            Ok(output) => Progress::Output(output),
            Err(err) => call_failed(err, job),
        },
        Ok(RequestStatus::InQueue { .. } | RequestStatus::InProgress) => Progress::Waiting,
        Err(err) => call_failed(err, job),
    }
}

/// What a stored webhook says; `None` when it reports success without the payload (FAL could
/// not serialise it: `payload_error`), which is then fetched from the result URL.
fn from_webhook(body: &str) -> Option<Progress> {
    let parsed: WebhookBody = match serde_json::from_str(body) {
        Ok(parsed) => parsed,
        Err(err) => {
            let detail = format!("bad webhook: {err}");
            return Some(Progress::Failed(Failure::Failed(detail)));
        }
    };
    Some(match (parsed.status, parsed.payload) {
        (WebhookStatus::Ok, Some(payload)) => Progress::Output(payload),
        (WebhookStatus::Ok, None) => {
            let payload_error = parsed.payload_error;
            tracing::info!(
                ?payload_error,
                "webhook without its payload; fetching the result"
            );
            return None;
        }
        (WebhookStatus::Error, payload) => {
            let detail = parsed.error.unwrap_or_else(|| "no payload".into());
            // Only a validation error (422) lists what was wrong; FAL's own failures carry
            // `detail` as a string with an `error_type`.
            let rejected = payload.is_some_and(|p| p.get("detail").is_some_and(Value::is_array));
            Progress::Failed(match rejected {
                true => Failure::Rejected(detail),
                false => Failure::Failed(detail),
            })
        }
    })
}

/// What a failed FAL call means for the job (`job`: "generation" or "training"), counted and
/// logged; a refused key or account is logged as an error an operator alerts on.
pub fn call_failed(err: FalError, job: &'static str) -> Progress {
    metrics::counter!(PROVIDER_ERRORS, "provider" => "fal", "kind" => err.kind()).increment(1);
    tracing::warn!(error = %err, job, "FAL call failed");
    match err {
        FalError::Transient(detail) => Progress::Retry(detail),
        FalError::Rejected { status, detail } => {
            Progress::Failed(Failure::Rejected(format!("{status}: {detail}")))
        }
        FalError::Refused { status, detail } => {
            tracing::error!(
                status,
                %detail,
                job,
                "FAL refuses our key or account: every request fails until FAL_KEY or the FAL \
                 balance is fixed"
            );
            Progress::Failed(Failure::Refused(format!("{status}: {detail}")))
        }
        err @ (FalError::Failed { .. } | FalError::Malformed(_) | FalError::TooLarge(_)) => {
            Progress::Failed(Failure::Failed(err.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_listed_validation_error_is_a_rejection() {
        let listed = r#"{"request_id":"r","status":"ERROR","error":"bad",
            "payload":{"detail":[{"loc":["body","prompt"],"msg":"x","type":"value_error"}]}}"#;
        let stated = r#"{"request_id":"r","status":"ERROR","error":"boom",
            "payload":{"detail":"Internal server error","error_type":"runner_server_error"}}"#;
        assert!(matches!(
            from_webhook(listed),
            Some(Progress::Failed(Failure::Rejected(_)))
        ));
        assert!(matches!(
            from_webhook(stated),
            Some(Progress::Failed(Failure::Failed(_)))
        ));
        let unsent = r#"{"request_id":"r","status":"OK","payload":null,"payload_error":"x"}"#;
        assert!(from_webhook(unsent).is_none(), "fetched, never refunded");
    }

    #[test]
    fn a_refused_account_and_a_busy_fal_are_told_apart() {
        let refused = FalError::Refused {
            status: 403,
            detail: "User is locked".into(),
        };
        assert!(matches!(
            call_failed(refused, "generation"),
            Progress::Failed(Failure::Refused(_))
        ));
        let busy = FalError::Transient("429: slow down".into());
        assert!(matches!(
            call_failed(busy, "generation"),
            Progress::Retry(_)
        ));
    }
}

//! `POST /webhooks/fal`: FAL's signed result callbacks. A verified callback is stored before
//! the answer, then the job waiting for it is woken; whichever replica runs the job reads it
//! from the table. FAL retries up to 10 times: a repeat is a 200 no-op.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use studio_persistence::repos::{fal_callbacks, jobs, trainings};
use studio_providers::fal::{SignedHeaders, VerifyError, WebhookBody};

use crate::metrics::FAL_WEBHOOKS;
use crate::state::AppState;

pub async fn receive(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let signed = SignedHeaders {
        request_id: header("x-fal-webhook-request-id"),
        user_id: header("x-fal-webhook-user-id"),
        timestamp: header("x-fal-webhook-timestamp"),
        signature: header("x-fal-webhook-signature"),
    };
    let now = chrono::Utc::now().timestamp();
    if let Err(err) = app.fal.verifier.verify(signed, &body, now) {
        let (status, reason) = match err {
            VerifyError::Timestamp => (StatusCode::UNAUTHORIZED, "timestamp"),
            VerifyError::BadSignature => (StatusCode::UNAUTHORIZED, "signature"),
            VerifyError::User => (StatusCode::UNAUTHORIZED, "user"),
            // Our problem, not the sender's: FAL retries later.
            VerifyError::Keys => (StatusCode::SERVICE_UNAVAILABLE, "keys"),
        };
        metrics::counter!(FAL_WEBHOOKS, "outcome" => reason).increment(1);
        tracing::warn!(request_id = signed.request_id, error = %err, "FAL webhook refused");
        return status;
    }
    let Ok(parsed) = serde_json::from_slice::<WebhookBody>(&body) else {
        metrics::counter!(FAL_WEBHOOKS, "outcome" => "malformed").increment(1);
        tracing::warn!(
            request_id = signed.request_id,
            "FAL webhook body unreadable"
        );
        return StatusCode::BAD_REQUEST;
    };
    // FAL's header names the request by either of the ids the body carries.
    let names_it = parsed.request_id == signed.request_id
        || parsed.gateway_request_id.as_deref() == Some(signed.request_id);
    if !names_it {
        metrics::counter!(FAL_WEBHOOKS, "outcome" => "mismatch").increment(1);
        tracing::warn!(
            request_id = signed.request_id,
            "FAL webhook body names another request"
        );
        return StatusCode::BAD_REQUEST;
    }
    let text = String::from_utf8_lossy(&body);
    match fal_callbacks::store(&app.db, &parsed.request_id, &text).await {
        Ok(false) => {
            metrics::counter!(FAL_WEBHOOKS, "outcome" => "duplicate").increment(1);
            tracing::debug!(request_id = %parsed.request_id, "FAL webhook repeated");
            StatusCode::OK
        }
        Ok(true) => {
            metrics::counter!(FAL_WEBHOOKS, "outcome" => "stored").increment(1);
            let woken = match jobs::wake(&app.db, &parsed.request_id).await {
                Ok(false) => trainings::wake(&app.db, &parsed.request_id).await,
                other => other,
            };
            match woken {
                Ok(true) => app.fal.jobs_wake.notify_one(),
                Ok(false) => not_running(&app, &parsed.request_id).await,
                Err(err) => {
                    tracing::warn!(error = %err, "job not woken; its poll finds the result")
                }
            }
            StatusCode::OK
        }
        Err(err) => {
            tracing::error!(request_id = %parsed.request_id, error = %err, "cannot store FAL webhook");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// A result for no running job. One for a job that has ended (a deadline cancelled it at FAL,
/// which may still finish it and bill us) is discarded on purpose: the person was told and
/// refunded, and an image arriving minutes later would surprise more than help. Anything else
/// is kept, in case its submission is being recorded right now.
async fn not_running(app: &AppState, request_id: &str) {
    match jobs::find_by_request(&app.db, request_id).await {
        Ok(Some((job, status))) if status.is_final() => {
            metrics::counter!(FAL_WEBHOOKS, "outcome" => "late").increment(1);
            tracing::info!(
                request_id,
                generation_id = %job,
                status = status.label(),
                "FAL result after the job ended: discarded, the job is settled"
            );
        }
        Ok(_) => tracing::info!(request_id, "FAL webhook for no running job; kept"),
        Err(err) => tracing::warn!(request_id, error = %err, "FAL webhook's job not looked up"),
    }
}

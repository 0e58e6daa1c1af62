use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use studio_persistence::repos::{inbox, jobs, ledger, outbox, prompt_jobs};

use crate::metrics::{
    INBOX_LAG, INBOX_PENDING, JOBS_DEPTH, LEDGER_TOTAL, OUTBOX_PENDING, PROMPT_PENDING,
};
use crate::state::AppState;

/// Liveness: the process answers.
pub async fn live() -> &'static str {
    "ok"
}

/// Readiness: not draining, database reachable and migrated, status labels as in the code.
/// Anyone who reaches the pod may ask, so a failure answers one fixed word naming the check
/// (`draining`, `database`, `migrations`, `enum_labels`); the error itself goes to the log.
pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    if app.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    match studio_persistence::check_ready(&app.db).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(check = err.check(), error = %err, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, err.check())
        }
    }
}

/// Prometheus text format; queue depths are read at scrape time.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    if let Ok((pending, lag_ms)) = inbox::backlog(&app.db).await {
        metrics::gauge!(INBOX_PENDING).set(pending as f64);
        metrics::gauge!(INBOX_LAG).set(lag_ms as f64 / 1000.0);
    }
    if let Ok((pending, _)) = outbox::backlog(&app.db).await {
        metrics::gauge!(OUTBOX_PENDING).set(pending as f64);
    }
    if let Ok((pending, _)) = prompt_jobs::backlog(&app.db).await {
        metrics::gauge!(PROMPT_PENDING).set(pending as f64);
    }
    if let Ok(depth) = jobs::depth(&app.db).await {
        for (status, n) in depth {
            metrics::gauge!(JOBS_DEPTH, "status" => status.label()).set(n as f64);
        }
    }
    if let Ok(totals) = ledger::totals(&app.db).await {
        for (kind, sum) in totals {
            metrics::gauge!(LEDGER_TOTAL, "kind" => kind).set(sum as f64);
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        app.metrics.render(),
    )
}

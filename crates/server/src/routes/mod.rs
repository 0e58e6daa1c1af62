//! HTTP routes: the Telegram webhook, health, readiness and metrics.

mod fal_webhook;
mod health;
mod webhook;

pub use webhook::read_update;

/// Where FAL posts results, under `PUBLIC_URL`.
pub const FAL_WEBHOOK_PATH: &str = "/webhooks/fal";

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;

use crate::state::AppState;

/// A request (its body read included) slower than this gets 408: a slow sender cannot hold a
/// connection and a worker's memory for long. Telegram and FAL send small bodies at once.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router(state: AppState, webhook_path: &str) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route(
            FAL_WEBHOOK_PATH,
            post(fal_webhook::receive).layer(webhook::body_limit()),
        );
    if state.webhook_secret.is_some() {
        router = router.route(
            webhook_path,
            post(webhook::receive).layer(webhook::body_limit()),
        );
    }
    router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

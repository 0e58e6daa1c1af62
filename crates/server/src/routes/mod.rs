//! HTTP routes: the Telegram webhook, health, readiness and metrics.

mod fal_webhook;
mod health;
mod webhook;

pub use webhook::read_update;

/// Where FAL posts results, under `PUBLIC_URL`.
pub const FAL_WEBHOOK_PATH: &str = "/webhooks/fal";

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

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
    router.with_state(state)
}

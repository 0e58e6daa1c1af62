//! HTTP routes: the Telegram webhook, health, readiness and metrics.

mod health;
mod webhook;

pub use webhook::read_update;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router(state: AppState, webhook_path: &str) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics));
    if state.webhook_secret.is_some() {
        router = router.route(
            webhook_path,
            post(webhook::receive).layer(webhook::body_limit()),
        );
    }
    router.with_state(state)
}

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use tokio::sync::Notify;

/// What the HTTP handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// `None` in polling mode: the webhook route is then not mounted at all.
    pub webhook_secret: Option<Arc<SecretString>>,
    /// Wakes the dispatcher as soon as an update is stored.
    pub inbox_stored: Arc<Notify>,
    pub metrics: PrometheusHandle,
    pub draining: Arc<AtomicBool>,
}

impl AppState {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

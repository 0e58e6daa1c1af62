use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;

use crate::inbox_writer::InboxWriter;

/// What the HTTP handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Stores webhook updates in batches.
    pub inbox: InboxWriter,
    /// `None` in polling mode: the webhook route is then not mounted at all.
    pub webhook_secret: Option<Arc<SecretString>>,
    pub metrics: PrometheusHandle,
    pub draining: Arc<AtomicBool>,
}

impl AppState {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

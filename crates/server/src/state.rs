use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;
use studio_persistence::DatabaseConnection;
use studio_providers::fal::WebhookVerifier;
use tokio::sync::Notify;

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
    pub fal: FalWebhook,
}

/// What the FAL webhook needs: the signature check and the workers to wake.
#[derive(Clone)]
pub struct FalWebhook {
    pub verifier: Arc<WebhookVerifier>,
    pub jobs_wake: Arc<Notify>,
}

impl AppState {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

//! What every fake has: a record of what it was asked behind a lock, a signal each time the
//! record changes (tests wait on it instead of sleeping), and a server on 127.0.0.1.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

pub(crate) struct Recorder<T> {
    inner: Arc<Mutex<T>>,
    changed: Arc<Notify>,
}

impl<T> Clone for Recorder<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            changed: Arc::clone(&self.changed),
        }
    }
}

impl<T: Default> Default for Recorder<T> {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            changed: Arc::default(),
        }
    }
}

impl<T> Recorder<T> {
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wakes everyone waiting for a change.
    pub fn changed(&self) {
        self.changed.notify_waiters();
    }

    pub fn notified(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// Waits until `check` gives a value, re-checking after each change; panics with
    /// `check`'s description of what it saw after `within`.
    pub async fn until<R>(
        &self,
        within: Duration,
        mut check: impl FnMut() -> Result<R, String>,
    ) -> R {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the check, so a change that lands in between still wakes us.
            notified.as_mut().enable();
            let seen = match check() {
                Ok(value) => return value,
                Err(seen) => seen,
            };
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("waited {within:?} for {seen}");
            }
        }
    }
}

/// A listener on a free port of 127.0.0.1, and its origin (`http://127.0.0.1:port`).
pub(crate) async fn bind(what: &str) -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind {what}: {e}"));
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    (listener, origin)
}

/// Serves `app` until the test ends.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    })
}

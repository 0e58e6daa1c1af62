//! Waiting on a fake's state: re-checked whenever the fake changes, never by sleeping.

use std::time::Duration;

use tokio::sync::Notify;

/// Waits until `check` gives a value, re-checking each time `changed` is notified; panics
/// with `check`'s description of what it saw after `within`.
pub(crate) async fn until<T>(
    changed: &Notify,
    within: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let notified = changed.notified();
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

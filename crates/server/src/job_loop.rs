//! The loop generation, training and prompt workers share: claim as many due jobs as there
//! are free slots, run one step of each on its own task, and sleep until woken (a new job, a
//! webhook), a step finishes, or the next tick; and the clock their rows are scheduled on.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How often idle workers look for due steps (webhooks and new jobs wake them sooner).
const TICK: Duration = Duration::from_millis(500);

pub trait Steps: Clone + Send + Sync + 'static {
    type Job: Send + 'static;
    /// Claims up to `limit` due jobs; errors are logged and read as none.
    fn claim(&self, limit: u32) -> impl Future<Output = Vec<Self::Job>> + Send;
    fn step(&self, job: Self::Job) -> impl Future<Output = ()> + Send;
    /// The span a job's step runs in (its ids for the logs).
    fn span(job: &Self::Job) -> tracing::Span;
}

pub async fn run<S: Steps>(
    steps: S,
    name: &'static str,
    concurrency: usize,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    tracing::info!(concurrency, "{name} workers started");
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut in_flight = JoinSet::new();
    while !cancel.is_cancelled() {
        let free = u32::try_from(slots.available_permits()).unwrap_or(u32::MAX);
        let claimed = if free == 0 {
            Vec::new()
        } else {
            steps.claim(free).await
        };
        let idle = claimed.is_empty();
        for job in claimed {
            let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                break;
            };
            let (steps, span) = (steps.clone(), S::span(&job));
            in_flight.spawn(
                async move {
                    steps.step(job).await;
                    drop(permit);
                }
                .instrument(span),
            );
        }
        if idle {
            tokio::select! {
                () = wake.notified() => {}
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                () = tokio::time::sleep(TICK) => {}
                () = cancel.cancelled() => {}
            }
        }
        while in_flight.try_join_next().is_some() {}
    }
    // Steps in progress finish; an interrupted one is claimed again when its lease ends.
    while in_flight.join_next().await.is_some() {}
    tracing::info!("{name} workers stopped");
}

/// The millisecond clock job rows are scheduled on.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

//! Batches the webhook's inserts. Each request hands its update to one writer task and waits
//! for the answer; the writer stores everything waiting in one statement and one commit. Under
//! load that turns thousands of commits a second into a few hundred, and the bounded channel
//! is the backpressure: when it is full, requests wait instead of memory growing.

use std::sync::Arc;

use studio_domain::UpdateId;
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::inbox::{self, Accepted, NewUpdate};
use tokio::sync::{Notify, mpsc, oneshot};

/// Updates stored per statement at most.
const MAX_BATCH: usize = 256;
/// Requests waiting for the writer at most; more wait to enter the queue.
const QUEUE: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(String),
    #[error("the inbox writer has stopped")]
    Stopped,
}

struct Job {
    update_id: UpdateId,
    lane: i64,
    payload: String,
    reply: oneshot::Sender<Result<Accepted, StoreError>>,
}

#[derive(Clone)]
pub struct InboxWriter {
    jobs: mpsc::Sender<Job>,
}

/// The writer's end; `run` it until every `InboxWriter` is dropped.
pub struct InboxWriterTask {
    db: DatabaseConnection,
    jobs: mpsc::Receiver<Job>,
    stored: Arc<Notify>,
}

pub fn inbox_writer(db: DatabaseConnection, stored: Arc<Notify>) -> (InboxWriter, InboxWriterTask) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (
        InboxWriter { jobs: tx },
        InboxWriterTask {
            db,
            jobs: rx,
            stored,
        },
    )
}

impl InboxWriter {
    pub async fn store(
        &self,
        update_id: UpdateId,
        lane: i64,
        payload: String,
    ) -> Result<Accepted, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            update_id,
            lane,
            payload,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| StoreError::Stopped)?;
        answer.await.map_err(|_| StoreError::Stopped)?
    }
}

impl InboxWriterTask {
    pub async fn run(mut self) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while self.jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let updates: Vec<NewUpdate<'_>> = batch
                .iter()
                .map(|job| NewUpdate {
                    update_id: job.update_id,
                    lane: job.lane,
                    payload: &job.payload,
                })
                .collect();
            let result = inbox::accept_many(&self.db, &updates).await;
            drop(updates);
            match result {
                Ok(answers) => {
                    for (job, answer) in batch.drain(..).zip(answers) {
                        let _ = job.reply.send(Ok(answer));
                    }
                    self.stored.notify_one();
                }
                Err(err) => {
                    let message = err.to_string();
                    for job in batch.drain(..) {
                        let _ = job.reply.send(Err(StoreError::Database(message.clone())));
                    }
                }
            }
        }
    }
}

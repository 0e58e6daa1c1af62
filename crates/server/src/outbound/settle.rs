//! Sent calls are settled in batches: each delivery hands its call to one settler and waits
//! for its row to be written, and the settler writes every call waiting at that moment in one
//! statement. Under load that is one statement for many calls; alone, a call is settled at once.

use studio_persistence::DatabaseConnection;
use studio_persistence::repos::outbox::{self, ClaimedCall, Sent};
use tokio::sync::{mpsc, oneshot};

/// Most calls one statement settles.
const MOST: usize = 256;

/// What a delivery hears back: whether the row was still ours, or why it was not written.
type Settled = Result<bool, String>;

#[derive(Clone)]
pub struct Settler {
    queue: mpsc::UnboundedSender<(Sent, oneshot::Sender<Settled>)>,
}

impl Settler {
    /// Starts the settler; it stops when the last handle to it is dropped.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(run(db, waiting));
        Self { queue }
    }

    /// Settles a call Telegram accepted, holding its chat back for `hold`.
    pub async fn sent(&self, call: &ClaimedCall, hold: Option<std::time::Duration>) -> Settled {
        let sent = Sent {
            id: call.id,
            attempts: call.attempts,
            hold,
        };
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((sent, reply))
            .map_err(|_| "the settler stopped".to_owned())?;
        answer.await.map_err(|_| "the settler stopped".to_owned())?
    }
}

async fn run(
    db: DatabaseConnection,
    mut waiting: mpsc::UnboundedReceiver<(Sent, oneshot::Sender<Settled>)>,
) {
    while let Some(first) = waiting.recv().await {
        let mut batch = vec![first];
        while batch.len() < MOST
            && let Ok(next) = waiting.try_recv()
        {
            batch.push(next);
        }
        let calls: Vec<Sent> = batch.iter().map(|(sent, _)| *sent).collect();
        match outbox::mark_sent_many(&db, &calls).await {
            Ok(ours) => {
                for (sent, reply) in batch {
                    let _ = reply.send(Ok(ours.contains(&sent.id)));
                }
            }
            Err(err) => {
                let error = err.to_string();
                for (_, reply) in batch {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

//! The bot's Telegram pace, shared by every replica. Telegram counts about 30 messages a
//! second per bot, however many processes send them, so the pace is one row: the earliest
//! moment the next message may leave. A sender reserves a batch of evenly spaced moments with
//! one `UPDATE`, then waits for each; replicas that reserve meanwhile get the moments after.
//!
//! On PostgreSQL the moments are read on the database's clock and handed back as waits, so
//! replicas whose clocks disagree still share one timeline.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Value};

use crate::RepoError;
use crate::sql::statement;

/// Moments reserved for a batch of messages: the `i`-th may leave after `wait(i)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    first: Duration,
    spacing: Duration,
}

impl Reserved {
    /// How long from the reservation the `i`-th message of the batch waits.
    pub fn wait(&self, i: u32) -> Duration {
        self.first + self.spacing * i
    }
}

/// Reserves `count` moments `spacing` apart, the first no earlier than now.
pub async fn reserve(
    db: &impl ConnectionTrait,
    count: u32,
    spacing: Duration,
) -> Result<Reserved, RepoError> {
    let backend = db.get_database_backend();
    let span_us = micros(spacing).saturating_mul(i64::from(count));
    let (sql, values): (&str, Vec<Value>) = match backend {
        DbBackend::Postgres => (
            "UPDATE send_pace SET next_us = GREATEST(next_us, (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT) + $1 \
             WHERE name = 'telegram' \
             RETURNING next_us - $1 - (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT AS wait_us",
            vec![span_us.into()],
        ),
        _ => (
            "UPDATE send_pace SET next_us = MAX(next_us, $2) + $1 WHERE name = 'telegram' \
             RETURNING next_us - $1 - $2 AS wait_us",
            vec![span_us.into(), now_us().into()],
        ),
    };
    let row = db
        .query_one_raw(statement(backend, sql, values))
        .await?
        .ok_or_else(|| RepoError::Corrupt("send_pace has no 'telegram' row".into()))?;
    let wait_us: i64 = row.try_get("", "wait_us")?;
    Ok(Reserved {
        first: Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
        spacing,
    })
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2)
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

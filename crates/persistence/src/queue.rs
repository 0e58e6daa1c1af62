//! The leased-queue mechanics shared by the inbox and the outbox: claim the oldest due row of
//! each lane with a lease, then settle it (done, retry later, or dead) fenced by the attempt
//! number the claim returned, so a row whose lease expired and was re-claimed elsewhere
//! cannot be settled twice.

use std::time::Duration;

use sea_orm::{ConnectionTrait, QueryResult, Value};

use crate::RepoError;
use crate::repos::workers::{self, Holder};
use crate::sql::{now_ms, skip_locked, statement};

/// A table that works as a leased queue; its `state` column uses these three labels.
pub(crate) struct Queue {
    pub table: &'static str,
    pub lane: &'static str,
    pub pending: &'static str,
    pub done: &'static str,
    pub dead: &'static str,
    pub done_at: &'static str,
    /// A column that holds a lane back until a moment (unix ms) after one of its rows was
    /// worked on: the outbox's per-chat pace. `None` for queues whose lanes need no spacing.
    pub paced_until: Option<&'static str>,
}

/// How a settled row ends.
pub(crate) enum Settle<'a> {
    Done,
    Retry { at_ms: i64, error: &'a str },
    Dead { error: &'a str },
}

impl Queue {
    /// Claims up to `limit` rows for `holder`: only the oldest pending row of each lane is
    /// eligible, so work within a lane (a chat) happens strictly in order, across replicas
    /// too. A row is free when unclaimed, when its lease ended, or when the process holding
    /// it stopped beating (it died: no need to wait out its lease).
    pub async fn claim(
        &self,
        db: &impl ConnectionTrait,
        limit: u32,
        lease: Duration,
        holder: &Holder,
        returning: &str,
    ) -> Result<Vec<QueryResult>, RepoError> {
        let backend = db.get_database_backend();
        let now = now_ms();
        let paced = self.paced_until.map_or(String::new(), |column| {
            format!(
                "AND NOT EXISTS (SELECT 1 FROM {t} g WHERE g.{l} = q.{l} AND g.{column} > $2) ",
                t = self.table,
                l = self.lane,
            )
        });
        let sql = format!(
            "UPDATE {t} SET lease_until_ms = $1, lease_owner = $4, attempts = attempts + 1 \
             WHERE id IN ( \
               SELECT q.id FROM {t} q \
               WHERE q.state = '{p}' AND q.next_attempt_ms <= $2 \
                 AND (q.lease_until_ms IS NULL OR q.lease_until_ms < $2 OR {dead}) \
                 AND NOT EXISTS (SELECT 1 FROM {t} e \
                                 WHERE e.{l} = q.{l} AND e.state = '{p}' AND e.id < q.id) \
                 {paced}\
               ORDER BY q.id LIMIT $3 {lock}) \
             RETURNING id, attempts, {returning}",
            t = self.table,
            l = self.lane,
            p = self.pending,
            lock = skip_locked(backend),
            dead = workers::holder_is_dead("$5"),
        );
        let lease_until = now + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let stale = now - millis(workers::DEAD_AFTER);
        let values: Vec<Value> = vec![
            lease_until.into(),
            now.into(),
            i64::from(limit).into(),
            holder.id().to_string().into(),
            stale.into(),
        ];
        let mut rows = db.query_all_raw(statement(backend, &sql, values)).await?;
        rows.sort_by_key(|row| row.try_get::<i64>("", "id").unwrap_or(i64::MAX));
        Ok(rows)
    }

    /// Settles a claimed row; `false` means the claim was lost (lease expired, re-claimed).
    pub async fn settle(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
        attempts: i32,
        how: Settle<'_>,
    ) -> Result<bool, RepoError> {
        self.settle_paced(db, id, attempts, how, None).await
    }

    /// Settles claimed rows as done in one statement, each fenced by its attempt number and,
    /// for a paced queue, holding its lane back until its own moment (unix ms, or `None`).
    /// Returns the ids that were still ours.
    pub async fn settle_done_many(
        &self,
        db: &impl ConnectionTrait,
        rows: &[(i64, i32, Option<i64>)],
    ) -> Result<Vec<i64>, RepoError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let values_sql: Vec<String> = (0..rows.len())
            .map(|i| {
                let n = 3 * i + 3;
                format!(
                    "(CAST(${n} AS BIGINT), CAST(${} AS INTEGER), CAST(${} AS BIGINT))",
                    n + 1,
                    n + 2
                )
            })
            .collect();
        let pace = self.paced_until.map_or(String::new(), |column| {
            format!(
                ", {column} = COALESCE(v.held, {t}.{column})",
                t = self.table
            )
        });
        // `column1…` are the names SQLite and PostgreSQL both give a VALUES list's columns.
        let sql = format!(
            "UPDATE {t} SET state = $1, lease_until_ms = NULL, {done_at} = $2{pace} \
             FROM (SELECT column1 AS id, column2 AS attempts, column3 AS held \
                   FROM (VALUES {values}) AS given) AS v \
             WHERE {t}.id = v.id AND {t}.attempts = v.attempts AND {t}.state = '{p}' \
             RETURNING {t}.id",
            t = self.table,
            p = self.pending,
            done_at = self.done_at,
            values = values_sql.join(", "),
        );
        let mut values: Vec<Value> = vec![self.done.into(), chrono::Utc::now().into()];
        for (id, attempts, held) in rows {
            values.push((*id).into());
            values.push((*attempts).into());
            values.push((*held).into());
        }
        let backend = db.get_database_backend();
        let settled = db.query_all_raw(statement(backend, &sql, values)).await?;
        settled
            .iter()
            .map(|row| row.try_get::<i64>("", "id").map_err(RepoError::from))
            .collect()
    }

    /// Settles a claimed row and, for a paced queue, holds its lane back until `paced_until_ms`
    /// (in the same statement, so pacing costs no round trip of its own).
    pub async fn settle_paced(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
        attempts: i32,
        how: Settle<'_>,
        paced_until_ms: Option<i64>,
    ) -> Result<bool, RepoError> {
        let backend = db.get_database_backend();
        let pace = self.paced_until.map_or(String::new(), |column| {
            format!("{column} = COALESCE($7, {column}), ")
        });
        let (state, next_ms, error) = match how {
            Settle::Done => (self.done, None, None),
            Settle::Retry { at_ms, error } => (self.pending, Some(at_ms), Some(error)),
            Settle::Dead { error } => (self.dead, None, Some(error)),
        };
        let sql = format!(
            "UPDATE {t} SET state = $1, lease_until_ms = NULL, {pace}\
               next_attempt_ms = COALESCE($2, next_attempt_ms), \
               last_error = COALESCE($3, last_error), \
               {done_at} = CASE WHEN $1 = '{p}' THEN NULL ELSE $4 END \
             WHERE id = $5 AND attempts = $6 AND state = '{p}'",
            t = self.table,
            p = self.pending,
            done_at = self.done_at,
        );
        let mut values: Vec<Value> = vec![
            state.into(),
            next_ms.into(),
            error.map(str::to_owned).into(),
            chrono::Utc::now().into(),
            id.into(),
            attempts.into(),
        ];
        if self.paced_until.is_some() {
            values.push(paced_until_ms.into());
        }
        let result = db.execute_raw(statement(backend, &sql, values)).await?;
        Ok(result.rows_affected() == 1)
    }

    /// Deletes settled rows (done, not dead: those stay for an operator) settled before
    /// `before`; returns how many went.
    pub async fn purge(
        &self,
        db: &impl ConnectionTrait,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, RepoError> {
        let backend = db.get_database_backend();
        let sql = format!(
            "DELETE FROM {t} WHERE state = '{d}' AND {done_at} < $1",
            t = self.table,
            d = self.done,
            done_at = self.done_at,
        );
        let result = db
            .execute_raw(statement(backend, &sql, vec![before.into()]))
            .await?;
        Ok(result.rows_affected())
    }

    /// Rows waiting and the age in milliseconds of the oldest one (the lag).
    pub async fn backlog(&self, db: &impl ConnectionTrait) -> Result<(i64, i64), RepoError> {
        let backend = db.get_database_backend();
        let sql = format!(
            "SELECT COUNT(*) AS n, MIN(next_attempt_ms) AS oldest FROM {t} WHERE state = '{p}'",
            t = self.table,
            p = self.pending,
        );
        let row = db.query_one_raw(statement(backend, &sql, vec![])).await?;
        let (count, oldest) = match row {
            Some(row) => (
                row.try_get::<i64>("", "n")?,
                row.try_get::<Option<i64>>("", "oldest")?,
            ),
            None => (0, None),
        };
        Ok((count, oldest.map_or(0, |t| (now_ms() - t).max(0))))
    }
}

pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

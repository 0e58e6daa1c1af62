-- Each running process beats here; a claim records which process holds it, so a process that
-- died (its heartbeat stale) gives its claims up in seconds instead of at the lease's end.
CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    heartbeat_ms BIGINT NOT NULL
);
ALTER TABLE inbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE prompt_jobs ADD COLUMN lease_owner TEXT;

-- Generation jobs become a leased queue: a job is claimed for a step (submit, poll, fetch),
-- the step settles it, and `next_attempt_ms` says when its next step is due.
ALTER TABLE generations ADD COLUMN next_attempt_ms BIGINT NOT NULL DEFAULT 0;
-- The reason a job failed, as a stable label the UI matches on (`error` keeps the detail).
ALTER TABLE generations ADD COLUMN failure TEXT
    CHECK (failure IN ('provider', 'rejected', 'nsfw', 'timeout', 'avatar_unavailable'));
CREATE INDEX generations_due ON generations (next_attempt_ms, id)
    WHERE status IN ('queued', 'running');
CREATE INDEX generations_running_by_user ON generations (user_id) WHERE status = 'running';
CREATE INDEX generations_by_request ON generations (fal_request_id)
    WHERE fal_request_id IS NOT NULL;

-- FAL webhooks, stored once verified and before they are answered: a job reads its result
-- from here, whichever replica the webhook reached. FAL retries: the key dedupes.
CREATE TABLE fal_callbacks (
    request_id  TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);

-- A training is a leased job on its avatar row: claimed for one step (zip and submit, or
-- check on FAL), settled fenced by `training_attempts`; `training_next_ms` says when its next
-- step is due (NULL when no training runs).
ALTER TABLE avatars ADD COLUMN training_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE avatars ADD COLUMN training_lease_until_ms BIGINT;
ALTER TABLE avatars ADD COLUMN training_next_ms BIGINT;
ALTER TABLE avatars ADD COLUMN training_deadline_ms BIGINT;
ALTER TABLE avatars ADD COLUMN training_status_url TEXT;
ALTER TABLE avatars ADD COLUMN training_response_url TEXT;
ALTER TABLE avatars ADD COLUMN training_cancel_url TEXT;
CREATE INDEX avatars_training_due ON avatars (training_next_ms, id) WHERE status = 'training';

DROP INDEX avatars_training_due;
ALTER TABLE avatars DROP COLUMN training_cancel_url;
ALTER TABLE avatars DROP COLUMN training_response_url;
ALTER TABLE avatars DROP COLUMN training_status_url;
ALTER TABLE avatars DROP COLUMN training_deadline_ms;
ALTER TABLE avatars DROP COLUMN training_next_ms;
ALTER TABLE avatars DROP COLUMN training_lease_until_ms;
ALTER TABLE avatars DROP COLUMN training_attempts;

DROP TABLE fal_callbacks;
DROP INDEX generations_by_request;
DROP INDEX generations_running_by_user;
DROP INDEX generations_due;
ALTER TABLE generations DROP COLUMN failure;
ALTER TABLE generations DROP COLUMN next_attempt_ms;

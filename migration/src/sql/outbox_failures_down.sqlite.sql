ALTER TABLE outbox DROP COLUMN failures;

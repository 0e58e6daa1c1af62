ALTER TABLE prompt_jobs DROP COLUMN lease_owner;
ALTER TABLE outbox DROP COLUMN lease_owner;
ALTER TABLE inbox DROP COLUMN lease_owner;
DROP TABLE workers;

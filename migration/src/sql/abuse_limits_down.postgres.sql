DROP INDEX outbox_pending_edits;
ALTER TABLE outbox DROP COLUMN edits_message;
DROP INDEX generations_nsfw_by_user;
DROP INDEX prompt_jobs_by_user;
DROP TABLE promo_misses;

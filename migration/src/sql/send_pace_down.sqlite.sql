DROP INDEX outbox_paced_by_chat;
ALTER TABLE outbox DROP COLUMN paced_until_ms;
DROP TABLE send_pace;

-- A call's real failures (5xx, network), apart from its claims: a 429 asks us to wait, which is
-- no failure, so waiting out Telegram's limits never uses up the retries of a call.
ALTER TABLE outbox ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

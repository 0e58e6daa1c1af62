-- Telegram's limits are the bot's, not a replica's: about 30 messages a second in all and one a
-- second per chat. Every replica's sender draws from the same pace, kept here.
--
-- The bot's pace: the earliest moment (unix microseconds, on the database's clock) the next
-- message may leave. A sender reserves a batch of evenly spaced moments in one UPDATE.
CREATE TABLE send_pace (
    name    TEXT PRIMARY KEY,
    next_us BIGINT NOT NULL
);
INSERT INTO send_pace (name, next_us) VALUES ('telegram', 0);

-- A chat's pace: once a message to a chat is made, its call row holds the chat back until this
-- moment (unix milliseconds), and the outbox claim offers none of the chat's calls before then.
ALTER TABLE outbox ADD COLUMN paced_until_ms BIGINT;
CREATE INDEX outbox_paced_by_chat ON outbox (chat_id, paced_until_ms) WHERE paced_until_ms IS NOT NULL;

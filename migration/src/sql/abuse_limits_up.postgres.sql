-- Per-person limits on what costs us and not them: wrong promo codes tried (guessing), free
-- requests to the language model, images the safety checker blocked (refunded); and a
-- flooding chat's backlog bounded: edits of one message coalesce.
CREATE TABLE promo_misses (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at_ms   BIGINT NOT NULL
);
CREATE INDEX promo_misses_by_user ON promo_misses (user_id, at_ms);
CREATE INDEX prompt_jobs_by_user ON prompt_jobs (user_id, created_at);
CREATE INDEX generations_nsfw_by_user ON generations (user_id, finished_at) WHERE failure = 'nsfw';
ALTER TABLE outbox ADD COLUMN edits_message BIGINT;
CREATE INDEX outbox_pending_edits ON outbox (chat_id, edits_message) WHERE state = 'pending';

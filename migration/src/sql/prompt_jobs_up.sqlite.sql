-- Calls to the language model (a prompt from a reference photo, a prompt's translation) are
-- a leased queue per chat, like the outbox: stored with the update that asked for them, so a
-- restart loses none, and settled together with the message that tells the person.
CREATE TABLE prompt_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         BIGINT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    avatar_id       BIGINT NOT NULL REFERENCES avatars (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('vision', 'translation')),
    -- Vision: Telegram's file id (the image itself is never stored); translation: the prompt.
    input           TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    lease_until_ms  BIGINT,
    deadline_ms     BIGINT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX prompt_jobs_pending ON prompt_jobs (id) WHERE state = 'pending';
CREATE INDEX prompt_jobs_pending_by_chat ON prompt_jobs (chat_id, id) WHERE state = 'pending';

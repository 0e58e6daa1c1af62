-- Statuses are native enums: the database refuses any label the Rust enums do not have.
CREATE TYPE avatar_status AS ENUM (
    'draft', 'photos_uploading', 'ready_for_training', 'training', 'completed', 'error', 'cancelled'
);
CREATE TYPE generation_status AS ENUM ('queued', 'running', 'completed', 'failed', 'cancelled');

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    telegram_id   BIGINT NOT NULL UNIQUE,
    first_name    TEXT NOT NULL,
    last_name     TEXT,
    username      TEXT,
    language_code TEXT,
    is_premium    BOOLEAN NOT NULL DEFAULT FALSE,
    is_blocked    BOOLEAN NOT NULL DEFAULT FALSE,
    -- The language chosen in settings; NULL follows Telegram's language_code.
    ui_language   TEXT CHECK (ui_language IN ('ru', 'en')),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE user_settings (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    default_ratio TEXT NOT NULL DEFAULT '1:1' CHECK (default_ratio IN ('1:1', '3:4', '4:3', '9:16', '16:9')),
    quick_mode    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE avatars (
    id                  BIGSERIAL PRIMARY KEY,
    user_id             BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                TEXT NOT NULL CHECK (char_length(name) BETWEEN 2 AND 50),
    gender              TEXT NOT NULL CHECK (gender IN ('male', 'female')),
    status              avatar_status NOT NULL DEFAULT 'draft',
    is_main             BOOLEAN NOT NULL DEFAULT FALSE,
    trigger_phrase      TEXT,
    lora_url            TEXT,
    preview_key         TEXT,
    training_request_id TEXT UNIQUE,
    error_reason        TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    training_started_at TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ
);
CREATE INDEX avatars_by_user ON avatars (user_id, id);
CREATE UNIQUE INDEX avatars_one_main_per_user ON avatars (user_id) WHERE is_main;
CREATE UNIQUE INDEX avatars_one_draft_per_user ON avatars (user_id)
    WHERE status IN ('draft', 'photos_uploading', 'ready_for_training');

CREATE TABLE avatar_photos (
    id           BIGSERIAL PRIMARY KEY,
    avatar_id    BIGINT NOT NULL REFERENCES avatars (id) ON DELETE CASCADE,
    storage_key  TEXT NOT NULL UNIQUE,
    sha256       TEXT NOT NULL,
    -- Telegram's id of the uploaded file: shows the photo again without uploading it.
    telegram_file_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    size_bytes   BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (avatar_id, sha256)
);

CREATE TABLE generations (
    id               BIGSERIAL PRIMARY KEY,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    avatar_id        BIGINT NOT NULL REFERENCES avatars (id) ON DELETE CASCADE,
    status           generation_status NOT NULL DEFAULT 'queued',
    prompt_original  TEXT NOT NULL,
    prompt_english   TEXT NOT NULL,
    aspect_ratio     TEXT NOT NULL CHECK (aspect_ratio IN ('1:1', '3:4', '4:3', '9:16', '16:9')),
    cost             INTEGER NOT NULL CHECK (cost >= 0),
    fal_request_id   TEXT UNIQUE,
    status_url       TEXT,
    response_url     TEXT,
    cancel_url       TEXT,
    result_key       TEXT,
    telegram_file_id TEXT,
    seed             BIGINT,
    is_favourite     BOOLEAN NOT NULL DEFAULT FALSE,
    error            TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_until_ms   BIGINT,
    deadline_ms      BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX generations_by_user ON generations (user_id, id);
CREATE INDEX generations_by_avatar ON generations (avatar_id);
CREATE INDEX generations_open ON generations (id) WHERE status IN ('queued', 'running');

-- Money: the balance is the sum of a user's rows; each business event books at most once.
CREATE TABLE ledger (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount          BIGINT NOT NULL CHECK (amount <> 0),
    kind            TEXT NOT NULL CHECK (kind IN (
                        'welcome_bonus', 'top_up', 'promo', 'admin_credit', 'admin_debit',
                        'training_debit', 'training_refund', 'generation_debit',
                        'generation_refund', 'payment_refund')),
    idempotency_key TEXT NOT NULL UNIQUE,
    note            TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX ledger_by_user ON ledger (user_id, id);

-- Telegram Stars payments, one row per charge: credited once, refundable by operators.
CREATE TABLE payments (
    id                 BIGSERIAL PRIMARY KEY,
    user_id            BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    telegram_charge_id TEXT NOT NULL UNIQUE,
    stars              INTEGER NOT NULL CHECK (stars > 0),
    credits            INTEGER NOT NULL CHECK (credits > 0),
    created_at         TIMESTAMPTZ NOT NULL,
    refunded_at        TIMESTAMPTZ
);

CREATE TABLE promo_codes (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE CHECK (code = upper(code)),
    credits     INTEGER NOT NULL CHECK (credits > 0),
    max_uses    INTEGER NOT NULL CHECK (max_uses > 0),
    per_user    INTEGER NOT NULL DEFAULT 1 CHECK (per_user > 0),
    uses        INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
    valid_until TIMESTAMPTZ,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE promo_redemptions (
    id         BIGSERIAL PRIMARY KEY,
    promo_id   BIGINT NOT NULL REFERENCES promo_codes (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX promo_redemptions_by_user ON promo_redemptions (promo_id, user_id);

-- Raw Telegram updates, stored before the webhook answers 200. `lane` orders work per chat.
CREATE TABLE inbox (
    id              BIGSERIAL PRIMARY KEY,
    update_id       BIGINT NOT NULL UNIQUE,
    lane            BIGINT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    lease_until_ms  BIGINT,
    last_error      TEXT,
    received_at     TIMESTAMPTZ NOT NULL,
    processed_at    TIMESTAMPTZ
);
-- Claims walk pending rows in arrival order and check each lane's head: two partial indexes
-- keep both lookups proportional to the backlog, not to the table's history.
CREATE INDEX inbox_pending ON inbox (id) WHERE state = 'pending';
CREATE INDEX inbox_pending_by_lane ON inbox (lane, id) WHERE state = 'pending';

-- Outgoing Bot API calls, written in the transaction that decided them.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    chat_id         BIGINT NOT NULL,
    method          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    -- A message that is edited in place later (upload progress): the sender remembers its id.
    tag             TEXT,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    lease_until_ms  BIGINT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_pending_by_chat ON outbox (chat_id, id) WHERE state = 'pending';

-- Ids of tagged messages the sender delivered, so later calls edit them instead of sending.
CREATE TABLE sent_messages (
    chat_id    BIGINT NOT NULL,
    tag        TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (chat_id, tag)
);

-- Conversation state per chat, saved with the update that changed it.
CREATE TABLE chat_state (
    chat_id    BIGINT PRIMARY KEY,
    dialog     TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

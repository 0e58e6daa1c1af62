-- The style library (issue #18): styles operators switched off, styles people starred, and
-- packs: several styled images for one debit, delivered as albums, their progress one message.
CREATE TABLE disabled_styles (
    style_key   TEXT PRIMARY KEY,
    disabled_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE favourite_styles (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    style_key  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, style_key)
);
CREATE TABLE style_packs (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pack_key   TEXT NOT NULL,
    price      INTEGER NOT NULL CHECK (price >= 0),
    images     INTEGER NOT NULL CHECK (images BETWEEN 4 AND 10),
    created_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE generations ADD COLUMN style_key TEXT;
ALTER TABLE generations ADD COLUMN pack_id BIGINT REFERENCES style_packs (id) ON DELETE CASCADE;
-- A pack's finished image already went out in an album.
ALTER TABLE generations ADD COLUMN album_sent BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX generations_styled ON generations (created_at) WHERE style_key IS NOT NULL;
CREATE INDEX generations_by_pack ON generations (pack_id) WHERE pack_id IS NOT NULL;

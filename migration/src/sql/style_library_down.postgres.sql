DROP INDEX generations_by_pack;
DROP INDEX generations_styled;
ALTER TABLE generations DROP COLUMN album_sent;
ALTER TABLE generations DROP COLUMN pack_id;
ALTER TABLE generations DROP COLUMN style_key;
DROP TABLE style_packs;
DROP TABLE favourite_styles;
DROP TABLE disabled_styles;

-- Telegram's file ids are typed: a photo sent as a file has a document's id, which Telegram
-- refuses to show as a photo. This is the id of the photo as Telegram shows it: the sent one
-- for compressed photos, else the one Telegram gives our first upload of the stored file.
-- NULL until then, and for rows from before this column (shown from storage once).
ALTER TABLE avatar_photos ADD COLUMN photo_file_id TEXT;

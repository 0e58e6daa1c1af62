ALTER TABLE avatar_photos DROP COLUMN photo_file_id;

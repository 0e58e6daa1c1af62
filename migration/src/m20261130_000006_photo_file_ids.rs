//! The `photo_file_ids` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261130_000006_photo_file_ids", "photo_file_ids");

//! The `style_library` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261201_000010_style_library", "style_library");

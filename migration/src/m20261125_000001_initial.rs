//! The `initial` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261125_000001_initial", "initial");

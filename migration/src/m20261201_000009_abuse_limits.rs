//! The `abuse_limits` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261201_000009_abuse_limits", "abuse_limits");

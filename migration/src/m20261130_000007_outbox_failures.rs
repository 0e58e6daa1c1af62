//! The `outbox_failures` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261130_000007_outbox_failures", "outbox_failures");

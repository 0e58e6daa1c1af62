//! The `send_pace` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261130_000005_send_pace", "send_pace");

//! The `prompt_jobs` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261125_000004_prompt_jobs", "prompt_jobs");

//! The `generation_jobs` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261125_000002_generation_jobs", "generation_jobs");

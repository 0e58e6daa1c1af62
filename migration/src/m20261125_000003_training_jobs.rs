//! The `training_jobs` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261125_000003_training_jobs", "training_jobs");

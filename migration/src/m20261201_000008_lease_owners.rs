//! The `lease_owners` SQL files in `sql/`, per backend.

crate::sql_files::sql_migration!("m20261201_000008_lease_owners", "lease_owners");

use sea_orm::DbErr;

/// What a repository call can fail with. Expected business outcomes (a duplicate update, an
/// already booked ledger entry) are return values, not errors.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
}

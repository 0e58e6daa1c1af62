//! Generated images. The generation issue fills this table; the profile counts it already.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use studio_domain::{GenerationStatus, UserId};

use crate::RepoError;
use crate::entities::active_enums::DbGenerationStatus;
use crate::entities::generations::{self, Entity as Generations};

/// Images delivered to the user.
pub async fn count_completed(db: &impl ConnectionTrait, owner: UserId) -> Result<u64, RepoError> {
    Ok(Generations::find()
        .filter(generations::Column::UserId.eq(owner.0))
        .filter(
            generations::Column::Status.eq(DbGenerationStatus::from(GenerationStatus::Completed)),
        )
        .count(db)
        .await?)
}

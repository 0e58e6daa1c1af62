//! Avatars, always reached through their owner.

use chrono::Utc;
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use studio_domain::{AvatarId, AvatarName, AvatarStatus, Gender, IllegalTransition, UserId};

use crate::RepoError;
use crate::entities::active_enums::DbAvatarStatus;
use crate::entities::avatars::{self, Entity as Avatars};

pub type Avatar = avatars::Model;

impl Avatar {
    pub fn status(&self) -> AvatarStatus {
        self.status.into()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StatusChangeError {
    #[error("avatar not found")]
    NotFound,
    #[error(transparent)]
    Illegal(#[from] IllegalTransition<AvatarStatus>),
    /// Someone else changed the status between our read and our write.
    #[error("avatar status changed concurrently")]
    Conflict,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

pub async fn create_draft(
    db: &impl ConnectionTrait,
    owner: UserId,
    name: &AvatarName,
    gender: Gender,
) -> Result<Avatar, RepoError> {
    let now = Utc::now();
    let row = avatars::ActiveModel {
        user_id: Set(owner.0),
        name: Set(name.as_str().to_owned()),
        gender: Set(gender.label().to_owned()),
        status: Set(AvatarStatus::Draft.into()),
        is_main: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(Avatars::insert(row).exec_with_returning(db).await?)
}

/// The avatar if it exists **and** belongs to `owner`; anything else is `None`.
pub async fn find_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: AvatarId,
) -> Result<Option<Avatar>, RepoError> {
    Ok(Avatars::find_by_id(id.0)
        .filter(avatars::Column::UserId.eq(owner.0))
        .one(db)
        .await?)
}

pub async fn list_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Vec<Avatar>, RepoError> {
    Ok(Avatars::find()
        .filter(avatars::Column::UserId.eq(owner.0))
        .order_by_asc(avatars::Column::Id)
        .all(db)
        .await?)
}

pub async fn with_status(
    db: &impl ConnectionTrait,
    owner: UserId,
    status: AvatarStatus,
) -> Result<Vec<Avatar>, RepoError> {
    Ok(Avatars::find()
        .filter(avatars::Column::UserId.eq(owner.0))
        .filter(avatars::Column::Status.eq(DbAvatarStatus::from(status)))
        .order_by_asc(avatars::Column::Id)
        .all(db)
        .await?)
}

/// Moves an owned avatar to `next` if the domain allows it from its current status. The write
/// is conditional on the status read, so two racing changes cannot both apply.
pub async fn change_status(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: AvatarId,
    next: AvatarStatus,
) -> Result<Avatar, StatusChangeError> {
    let avatar = find_owned(db, owner, id)
        .await?
        .ok_or(StatusChangeError::NotFound)?;
    let current = avatar.status();
    current.transition(next)?;
    let result = Avatars::update_many()
        // `as_enum` casts the label to the native type; a bare value fails on PostgreSQL.
        .col_expr(
            avatars::Column::Status,
            DbAvatarStatus::from(next).as_enum(),
        )
        .col_expr(avatars::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(avatars::Column::Id.eq(id.0))
        .filter(avatars::Column::UserId.eq(owner.0))
        .filter(avatars::Column::Status.eq(DbAvatarStatus::from(current)))
        .exec(db)
        .await
        .map_err(RepoError::from)?;
    if result.rows_affected != 1 {
        return Err(StatusChangeError::Conflict);
    }
    find_owned(db, owner, id)
        .await?
        .ok_or(StatusChangeError::NotFound)
}

/// Deletes an owned avatar (photos and generations go with it); `false` if there was none.
pub async fn delete_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: AvatarId,
) -> Result<bool, RepoError> {
    let result = Avatars::delete_many()
        .filter(avatars::Column::Id.eq(id.0))
        .filter(avatars::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

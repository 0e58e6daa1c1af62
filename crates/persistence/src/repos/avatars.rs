//! Avatars, always reached through their owner.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use studio_domain::{
    AvatarId, AvatarName, AvatarStatus, Gender, IllegalTransition, NotReady, UserId,
};

use crate::RepoError;
use crate::entities::active_enums::DbAvatarStatus;
use crate::entities::avatars::{self, Entity as Avatars};

/// An avatar as use cases see it: typed and decoded once, here. The training queue's
/// bookkeeping (leases, FAL URLs) stays with the queue (`trainings::Training`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    pub id: AvatarId,
    pub user_id: UserId,
    pub name: String,
    pub gender: Gender,
    pub status: AvatarStatus,
    pub is_main: bool,
    /// What its training left: the weights and their trigger phrase, once both are there.
    pub lora: Option<Trained>,
    pub preview_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub training_started_at: Option<DateTime<Utc>>,
}

/// What generating with an avatar needs: its weights and the phrase they answer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trained {
    /// Where FAL keeps the weights (re-uploaded from our copy when FAL's has expired).
    pub lora_url: String,
    pub trigger_phrase: String,
}

impl Avatar {
    /// The one rule of whether an avatar can generate, asked by handlers and workers alike:
    /// its status allows it, and its training left weights and a trigger phrase. Completed
    /// without them (a damaged row) it is as unusable as a failed training.
    pub fn trained(&self) -> Result<&Trained, NotReady> {
        self.status.can_generate()?;
        self.lora.as_ref().ok_or(NotReady::Failed)
    }
}

// Every column decodes through its storage enum (a label no variant has fails the read
// itself), so what is left here cannot fail.
impl From<avatars::Model> for Avatar {
    fn from(row: avatars::Model) -> Self {
        let status: AvatarStatus = row.status.into();
        let lora = match (row.lora_url, row.trigger_phrase) {
            (Some(lora_url), Some(trigger_phrase)) => Some(Trained {
                lora_url,
                trigger_phrase,
            }),
            _ => None,
        };
        Self {
            id: AvatarId(row.id),
            user_id: UserId(row.user_id),
            name: row.name,
            gender: row.gender.into(),
            status,
            is_main: row.is_main,
            lora,
            preview_key: row.preview_key,
            created_at: row.created_at,
            training_started_at: row.training_started_at,
        }
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
        gender: Set(gender.into()),
        status: Set(AvatarStatus::Draft.into()),
        is_main: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(Avatars::insert(row).exec_with_returning(db).await?.into())
}

/// The avatar if it exists **and** belongs to `owner`; anything else is `None`.
pub async fn find_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: AvatarId,
) -> Result<Option<Avatar>, RepoError> {
    Avatars::find_by_id(id.0)
        .filter(avatars::Column::UserId.eq(owner.0))
        .one(db)
        .await
        .map(|row| row.map(Avatar::from))
        .map_err(RepoError::from)
}

/// The avatar images are generated with: the main one, or else the newest, whatever its
/// status (so the person hears why it cannot generate yet).
pub async fn for_generation(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Option<Avatar>, RepoError> {
    Avatars::find()
        .filter(avatars::Column::UserId.eq(owner.0))
        .order_by_desc(avatars::Column::IsMain)
        .order_by_desc(avatars::Column::Id)
        .one(db)
        .await
        .map(|row| row.map(Avatar::from))
        .map_err(RepoError::from)
}

pub async fn list_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Vec<Avatar>, RepoError> {
    Avatars::find()
        .filter(avatars::Column::UserId.eq(owner.0))
        .order_by_asc(avatars::Column::Id)
        .all(db)
        .await
        .map(|rows| rows.into_iter().map(Avatar::from).collect())
        .map_err(RepoError::from)
}

pub async fn with_status(
    db: &impl ConnectionTrait,
    owner: UserId,
    status: AvatarStatus,
) -> Result<Vec<Avatar>, RepoError> {
    Avatars::find()
        .filter(avatars::Column::UserId.eq(owner.0))
        .filter(avatars::Column::Status.eq(DbAvatarStatus::from(status)))
        .order_by_asc(avatars::Column::Id)
        .all(db)
        .await
        .map(|rows| rows.into_iter().map(Avatar::from).collect())
        .map_err(RepoError::from)
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
    let current = avatar.status;
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

/// The user's draft (draft, photos uploading or ready for training), if any: at most one.
pub async fn find_open_draft(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Option<Avatar>, RepoError> {
    let open = [
        AvatarStatus::Draft,
        AvatarStatus::PhotosUploading,
        AvatarStatus::ReadyForTraining,
    ];
    Avatars::find()
        .filter(avatars::Column::UserId.eq(owner.0))
        .filter(avatars::Column::Status.is_in(open.map(DbAvatarStatus::from)))
        .one(db)
        .await
        .map(|row| row.map(Avatar::from))
        .map_err(RepoError::from)
}

pub async fn rename(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: AvatarId,
    name: &AvatarName,
) -> Result<bool, RepoError> {
    let result = Avatars::update_many()
        .col_expr(avatars::Column::Name, Expr::value(name.as_str()))
        .col_expr(avatars::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(avatars::Column::Id.eq(id.0))
        .filter(avatars::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Makes an owned, completed avatar the user's main one; `false` if there is no such avatar.
pub async fn set_main(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: AvatarId,
) -> Result<bool, RepoError> {
    let Some(avatar) = find_owned(db, owner, id).await? else {
        return Ok(false);
    };
    if avatar.trained().is_err() {
        return Ok(false);
    }
    // Unset first: the partial unique index allows one main avatar per user at any moment.
    Avatars::update_many()
        .col_expr(avatars::Column::IsMain, Expr::value(false))
        .filter(avatars::Column::UserId.eq(owner.0))
        .filter(avatars::Column::IsMain.eq(true))
        .exec(db)
        .await?;
    let result = Avatars::update_many()
        .col_expr(avatars::Column::IsMain, Expr::value(true))
        .filter(avatars::Column::Id.eq(id.0))
        .filter(avatars::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Moves a draft to the status its photo count calls for (`draft → photos_uploading →
/// ready_for_training` and back); returns the avatar as stored afterwards.
pub async fn sync_draft_status(
    db: &impl ConnectionTrait,
    avatar: &Avatar,
    photos: usize,
) -> Result<Avatar, StatusChangeError> {
    let (owner, id) = (avatar.user_id, avatar.id);
    let target = AvatarStatus::for_photo_count(photos, studio_domain::photo::MIN_PHOTOS);
    let mut current = avatar.clone();
    // One step at a time, so every move is a legal transition (draft ↔ uploading ↔ ready).
    while current.status != target {
        let next = match (current.status, target) {
            (AvatarStatus::Draft, _) => AvatarStatus::PhotosUploading,
            (AvatarStatus::PhotosUploading, t) => t,
            (AvatarStatus::ReadyForTraining, _) => AvatarStatus::PhotosUploading,
            (status, _) => {
                return Err(IllegalTransition {
                    kind: "avatar",
                    from: status,
                    to: target,
                }
                .into());
            }
        };
        current = change_status(db, owner, id, next).await?;
    }
    Ok(current)
}

/// Where an avatar's trained LoRA weights are kept in our storage (FAL's copy expires).
pub fn lora_key(avatar: AvatarId) -> String {
    format!("avatars/{}/lora.safetensors", avatar.0)
}

/// Points a trained avatar at a new copy of its LoRA on FAL (the old one expired).
pub async fn replace_lora_url(
    db: &impl ConnectionTrait,
    avatar: AvatarId,
    url: &str,
) -> Result<(), RepoError> {
    Avatars::update_many()
        .col_expr(avatars::Column::LoraUrl, Expr::value(url))
        .col_expr(avatars::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(avatars::Column::Id.eq(avatar.0))
        .filter(avatars::Column::LoraUrl.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Everything stored for an avatar outside the database: photos, preview, generated images,
/// LoRA weights. Read before deleting the rows, deleted from storage after they are gone.
pub async fn storage_keys(
    db: &impl ConnectionTrait,
    avatar: &Avatar,
) -> Result<Vec<String>, RepoError> {
    let backend = db.get_database_backend();
    let sql = "SELECT storage_key AS k FROM avatar_photos WHERE avatar_id = $1 \
               UNION ALL SELECT result_key AS k FROM generations WHERE avatar_id = $1 AND result_key IS NOT NULL";
    let rows = db
        .query_all_raw(crate::sql::statement(
            backend,
            sql,
            vec![avatar.id.0.into()],
        ))
        .await?;
    let mut keys: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("", "k"))
        .collect::<Result<_, _>>()?;
    keys.extend(avatar.preview_key.clone());
    if avatar.lora.is_some() {
        keys.push(lora_key(avatar.id));
    }
    Ok(keys)
}

/// How many generated images an avatar has (told before deleting it).
pub async fn generation_count(
    db: &impl ConnectionTrait,
    avatar: &Avatar,
) -> Result<u64, RepoError> {
    use crate::entities::generations;
    use sea_orm::PaginatorTrait;
    Ok(generations::Entity::find()
        .filter(generations::Column::AvatarId.eq(avatar.id.0))
        .count(db)
        .await?)
}

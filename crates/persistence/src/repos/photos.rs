//! Training photos of an avatar. Every function takes the avatar as read through its owner
//! (`avatars::find_owned`) or its claimed training: a photo is reached through its owner.

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TryInsertResult,
};
use studio_domain::AvatarId;
use studio_domain::photo::{InspectedPhoto, MAX_PHOTOS};

use crate::RepoError;
use crate::entities::avatar_photos::{self, Entity as Photos};
use crate::repos::avatars::Avatar;

/// A training photo as screens and the training archive use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub id: i64,
    pub storage_key: String,
    /// The id Telegram shows it by, once known: a photo sent as a file has none until the
    /// upload of our copy returns one.
    pub photo_file_id: Option<String>,
}

impl From<avatar_photos::Model> for Photo {
    fn from(row: avatar_photos::Model) -> Self {
        Self {
            id: row.id,
            storage_key: row.storage_key,
            photo_file_id: row.photo_file_id,
        }
    }
}

/// An avatar read with its owner, or a claimed training: what photos are reached through.
pub trait OfAvatar {
    fn avatar_id(&self) -> AvatarId;
}

impl OfAvatar for Avatar {
    fn avatar_id(&self) -> AvatarId {
        self.id
    }
}

/// A photo ready to be recorded: checked, and already in storage under `storage_key`.
#[derive(Debug, Clone)]
pub struct NewPhoto<'a> {
    pub inspected: &'a InspectedPhoto,
    pub storage_key: &'a str,
    pub telegram_file_id: &'a str,
    /// The id to show it by, when it came as a compressed photo (a file's id is a document's).
    pub photo_file_id: Option<&'a str>,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Stored; the avatar now has this many photos.
    Added(usize),
    Duplicate,
    Full,
}

/// Records a photo unless the avatar is full or already has these exact bytes. Call it in a
/// transaction per avatar: concurrent album items then count one after another.
pub async fn add(
    db: &impl ConnectionTrait,
    avatar: &impl OfAvatar,
    photo: NewPhoto<'_>,
) -> Result<Added, RepoError> {
    // Duplicate before full: the caller may delete the stored bytes of a `Full` photo, and a
    // duplicate's bytes belong to the photo already recorded.
    let duplicate = Photos::find()
        .filter(avatar_photos::Column::AvatarId.eq(avatar.avatar_id().0))
        .filter(avatar_photos::Column::Sha256.eq(photo.inspected.sha256.as_str()))
        .count(db)
        .await?;
    if duplicate > 0 {
        return Ok(Added::Duplicate);
    }
    let before = count(db, avatar).await?;
    if before >= MAX_PHOTOS {
        return Ok(Added::Full);
    }
    let row = avatar_photos::ActiveModel {
        avatar_id: Set(avatar.avatar_id().0),
        storage_key: Set(photo.storage_key.to_owned()),
        sha256: Set(photo.inspected.sha256.clone()),
        telegram_file_id: Set(photo.telegram_file_id.to_owned()),
        photo_file_id: Set(photo.photo_file_id.map(str::to_owned)),
        content_type: Set(photo.inspected.format.content_type().to_owned()),
        width: Set(i32::try_from(photo.inspected.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(photo.inspected.height).unwrap_or(i32::MAX)),
        size_bytes: Set(i64::try_from(photo.size_bytes).unwrap_or(i64::MAX)),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let on_conflict = OnConflict::columns([
        avatar_photos::Column::AvatarId,
        avatar_photos::Column::Sha256,
    ])
    .do_nothing()
    .to_owned();
    let result = Photos::insert(row)
        .on_conflict(on_conflict)
        .try_insert()
        .exec_without_returning(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(n) if n > 0 => Added::Added(before + 1),
        TryInsertResult::Inserted(_) | TryInsertResult::Conflicted | TryInsertResult::Empty => {
            Added::Duplicate
        }
    })
}

pub async fn count(db: &impl ConnectionTrait, avatar: &impl OfAvatar) -> Result<usize, RepoError> {
    let n = Photos::find()
        .filter(avatar_photos::Column::AvatarId.eq(avatar.avatar_id().0))
        .count(db)
        .await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub async fn list(
    db: &impl ConnectionTrait,
    avatar: &impl OfAvatar,
) -> Result<Vec<Photo>, RepoError> {
    Ok(Photos::find()
        .filter(avatar_photos::Column::AvatarId.eq(avatar.avatar_id().0))
        .order_by_asc(avatar_photos::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Photo::from)
        .collect())
}

/// Removes one photo of the avatar; returns its storage key to delete, if it existed.
pub async fn delete(
    db: &impl ConnectionTrait,
    avatar: &impl OfAvatar,
    photo_id: i64,
) -> Result<Option<String>, RepoError> {
    let Some(photo) = Photos::find_by_id(photo_id)
        .filter(avatar_photos::Column::AvatarId.eq(avatar.avatar_id().0))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Photos::delete_by_id(photo.id).exec(db).await?;
    Ok(Some(photo.storage_key))
}

/// Remembers the photo id Telegram gave an upload of a stored photo, so it is shown by that id
/// from now on. The one function without the owner: the sender has only the id it was given
/// with the upload, and what it writes is how Telegram shows the photo, nothing a person reads.
pub async fn set_photo_file_id(
    db: &impl ConnectionTrait,
    photo_id: i64,
    file_id: &str,
) -> Result<(), RepoError> {
    Photos::update_many()
        .col_expr(avatar_photos::Column::PhotoFileId, Expr::value(file_id))
        .filter(avatar_photos::Column::Id.eq(photo_id))
        .exec(db)
        .await?;
    Ok(())
}

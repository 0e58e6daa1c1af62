//! Generations as the person sees them: queued with their debit, listed in the gallery,
//! marked favourite, deleted. Every lookup takes the owner.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use studio_domain::{
    AspectRatio, AvatarId, Credits, GalleryFilter, GenerationFailure, GenerationId,
    GenerationStatus, LedgerKind, UserId,
};

use crate::RepoError;
use crate::entities::active_enums::DbGenerationStatus;
use crate::entities::generations::{self, Entity as Generations};
use crate::queue::millis;
use crate::repos::ledger;
use crate::sql::{now_ms, statement};

pub type Generation = generations::Model;

impl Generation {
    pub fn status(&self) -> GenerationStatus {
        self.status.into()
    }

    pub fn ratio(&self) -> AspectRatio {
        AspectRatio::from_label(&self.aspect_ratio).unwrap_or_default()
    }

    pub fn failure(&self) -> Option<GenerationFailure> {
        self.failure
            .as_deref()
            .and_then(GenerationFailure::from_label)
    }

    pub fn generation_id(&self) -> GenerationId {
        GenerationId(self.id)
    }
}

/// What a new job needs; the caller has checked the avatar is the owner's and trained.
#[derive(Debug, Clone)]
pub struct NewGeneration<'a> {
    pub user: UserId,
    pub avatar: AvatarId,
    pub prompt_original: &'a str,
    pub prompt_english: &'a str,
    pub ratio: AspectRatio,
    pub cost: Credits,
    /// How long the job may take from now before it fails and is refunded.
    pub deadline: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Debited and queued; `position` counts the queued jobs up to this one.
    Queued { id: GenerationId, position: u64 },
    /// The balance lacks this much; nothing was written.
    Missing(Credits),
}

/// The debit key of a job: one debit and at most one refund per job, whatever retries.
pub fn debit_key(id: GenerationId) -> String {
    format!("generation:{id}:debit")
}

pub fn refund_key(id: GenerationId) -> String {
    format!("generation:{id}:refund")
}

/// Debits the cost and queues the job, in the caller's transaction: both or neither.
pub async fn queue(db: &impl ConnectionTrait, new: NewGeneration<'_>) -> Result<Queued, RepoError> {
    if let Err(missing) = ledger::ensure_covers(db, new.user, new.cost).await? {
        return Ok(Queued::Missing(missing));
    }
    let now = now_ms();
    let row = generations::ActiveModel {
        user_id: Set(new.user.0),
        avatar_id: Set(new.avatar.0),
        status: Set(GenerationStatus::Queued.into()),
        prompt_original: Set(new.prompt_original.to_owned()),
        prompt_english: Set(new.prompt_english.to_owned()),
        aspect_ratio: Set(new.ratio.label().to_owned()),
        cost: Set(i32::try_from(new.cost.get()).unwrap_or(i32::MAX)),
        is_favourite: Set(false),
        attempts: Set(0),
        deadline_ms: Set(now + millis(new.deadline)),
        next_attempt_ms: Set(now),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let id = GenerationId(Generations::insert(row).exec(db).await?.last_insert_id);
    if new.cost.get() > 0 {
        let key = debit_key(id);
        let entry = ledger::Entry {
            user: new.user,
            kind: LedgerKind::GenerationDebit,
            amount: new.cost,
            key: &key,
            note: None,
        };
        ledger::book(db, entry).await?;
    }
    let position = Generations::find()
        .filter(generations::Column::Status.eq(DbGenerationStatus::from(GenerationStatus::Queued)))
        .filter(generations::Column::Id.lte(id.0))
        .count(db)
        .await?;
    Ok(Queued::Queued { id, position })
}

/// The generation if it exists **and** belongs to `owner`.
pub async fn find_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: GenerationId,
) -> Result<Option<Generation>, RepoError> {
    Ok(Generations::find_by_id(id.0)
        .filter(generations::Column::UserId.eq(owner.0))
        .one(db)
        .await?)
}

/// Ids of the owner's finished images under `filter`, newest first.
pub async fn gallery_ids(
    db: &impl ConnectionTrait,
    owner: UserId,
    filter: GalleryFilter,
) -> Result<Vec<GenerationId>, RepoError> {
    let mut query = Generations::find()
        .select_only()
        .column(generations::Column::Id)
        .filter(generations::Column::UserId.eq(owner.0))
        .filter(
            generations::Column::Status.eq(DbGenerationStatus::from(GenerationStatus::Completed)),
        );
    query = match filter {
        GalleryFilter::All => query,
        GalleryFilter::Favourites => query.filter(generations::Column::IsFavourite.eq(true)),
        GalleryFilter::Avatar(avatar) => query.filter(generations::Column::AvatarId.eq(avatar.0)),
    };
    let ids: Vec<i64> = query
        .order_by_desc(generations::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().map(GenerationId).collect())
}

/// Sets the favourite mark; `false` if the image is not the owner's.
pub async fn set_favourite(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: GenerationId,
    favourite: bool,
) -> Result<bool, RepoError> {
    let result = Generations::update_many()
        .col_expr(generations::Column::IsFavourite, Expr::value(favourite))
        .filter(generations::Column::Id.eq(id.0))
        .filter(generations::Column::UserId.eq(owner.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes a finished image of the owner's; returns its stored file's key to remove after the
/// commit. Jobs still queued or running are not deletable: their worker owns them.
pub async fn delete_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: GenerationId,
) -> Result<Option<Option<String>>, RepoError> {
    let Some(found) = find_owned(db, owner, id).await? else {
        return Ok(None);
    };
    if !found.status().is_final() {
        return Ok(None);
    }
    Generations::delete_by_id(id.0).exec(db).await?;
    Ok(Some(found.result_key))
}

/// Remembers Telegram's id of the delivered photo, so the gallery re-sends without uploading.
pub async fn set_file_id(
    db: &impl ConnectionTrait,
    id: GenerationId,
    file_id: &str,
) -> Result<(), RepoError> {
    Generations::update_many()
        .col_expr(generations::Column::TelegramFileId, Expr::value(file_id))
        .filter(generations::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

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

/// The gallery's figures, each one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GalleryStats {
    pub images: u64,
    pub favourites: u64,
    pub avatars_used: u64,
    /// Credits spent on images, net of refunds.
    pub spent: Credits,
}

pub async fn stats(db: &impl ConnectionTrait, owner: UserId) -> Result<GalleryStats, RepoError> {
    let backend = db.get_database_backend();
    let done = GenerationStatus::Completed.label();
    let (debit, refund) = (
        LedgerKind::GenerationDebit.label(),
        LedgerKind::GenerationRefund.label(),
    );
    let sql = format!(
        "SELECT \
          (SELECT COUNT(*) FROM generations WHERE user_id = $1 AND status = '{done}') AS images, \
          (SELECT COUNT(*) FROM generations WHERE user_id = $1 AND status = '{done}' \
             AND is_favourite) AS favourites, \
          (SELECT COUNT(DISTINCT avatar_id) FROM generations WHERE user_id = $1 \
             AND status = '{done}') AS avatars, \
          (SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM ledger WHERE user_id = $1 \
             AND kind IN ('{debit}', '{refund}')) AS spent"
    );
    let Some(row) = db
        .query_one_raw(statement(backend, &sql, vec![owner.0.into()]))
        .await?
    else {
        return Ok(GalleryStats::default());
    };
    let count = |name: &str| -> Result<u64, RepoError> {
        Ok(u64::try_from(row.try_get::<i64>("", name)?).unwrap_or(0))
    };
    Ok(GalleryStats {
        images: count("images")?,
        favourites: count("favourites")?,
        avatars_used: count("avatars")?,
        spent: Credits::from_balance(row.try_get("", "spent")?),
    })
}

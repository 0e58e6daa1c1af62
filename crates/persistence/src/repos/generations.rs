//! Generations as the person sees them: queued with their debit, listed in the gallery,
//! marked favourite, deleted. Every lookup takes the owner.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use studio_domain::styles::StyleKey;
use studio_domain::{
    AspectRatio, AvatarId, Credits, GalleryFilter, GenerationFailure, GenerationId,
    GenerationStatus, LedgerKind, PackOrderId, UserId,
};

use crate::RepoError;
use crate::entities::active_enums::DbGenerationStatus;
use crate::entities::generations::{self, Entity as Generations};
use crate::queue::millis;
use crate::repos::ledger;
use crate::sql::{now_ms, statement};

/// A generation as the gallery and the generation queue see it: typed and decoded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub id: GenerationId,
    pub user_id: UserId,
    pub avatar_id: AvatarId,
    pub status: GenerationStatus,
    pub prompt_original: String,
    pub prompt_english: String,
    pub ratio: AspectRatio,
    /// What was debited for it, and is refunded if it fails.
    pub cost: Credits,
    pub fal_request_id: Option<String>,
    pub status_url: Option<String>,
    pub response_url: Option<String>,
    pub cancel_url: Option<String>,
    /// Where the image is in our storage, once delivered.
    pub result_key: Option<String>,
    /// The id Telegram shows the image by, once sent.
    pub telegram_file_id: Option<String>,
    pub seed: Option<i64>,
    pub is_favourite: bool,
    /// Claims so far; settling is fenced by it.
    pub attempts: i32,
    pub deadline_ms: i64,
    pub failure: Option<GenerationFailure>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The library style it was made in; the gallery shows its name instead of the prompt.
    pub style: Option<StyleKey>,
    /// The pack it belongs to: delivered in the pack's albums, refunded its share.
    pub pack: Option<PackOrderId>,
}

impl TryFrom<generations::Model> for Generation {
    type Error = RepoError;

    fn try_from(row: generations::Model) -> Result<Self, RepoError> {
        let cost = u32::try_from(row.cost)
            .map_err(|_| RepoError::Corrupt(format!("generation {} costs {}", row.id, row.cost)))?;
        let style = match row.style_key.as_deref() {
            None => None,
            Some(key) => Some(StyleKey::parse(key).ok_or_else(|| {
                RepoError::Corrupt(format!("generation {} has style {key:?}", row.id))
            })?),
        };
        Ok(Self {
            id: GenerationId(row.id),
            user_id: UserId(row.user_id),
            avatar_id: AvatarId(row.avatar_id),
            status: row.status.into(),
            prompt_original: row.prompt_original,
            prompt_english: row.prompt_english,
            ratio: row.aspect_ratio.into(),
            cost: Credits::new(cost),
            fal_request_id: row.fal_request_id,
            status_url: row.status_url,
            response_url: row.response_url,
            cancel_url: row.cancel_url,
            result_key: row.result_key,
            telegram_file_id: row.telegram_file_id,
            seed: row.seed,
            is_favourite: row.is_favourite,
            attempts: row.attempts,
            deadline_ms: row.deadline_ms,
            failure: row.failure.map(GenerationFailure::from),
            created_at: row.created_at,
            finished_at: row.finished_at,
            style,
            pack: row.pack_id.map(PackOrderId),
        })
    }
}

/// Decodes rows read from the generations table.
pub(crate) fn decode_all(rows: Vec<generations::Model>) -> Result<Vec<Generation>, RepoError> {
    rows.into_iter().map(Generation::try_from).collect()
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
    pub style: Option<StyleKey>,
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
    let id = insert(db, &new, None).await?;
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

/// The job's row, queued; its debit is the caller's (one per job, or one per pack).
pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    new: &NewGeneration<'_>,
    pack: Option<PackOrderId>,
) -> Result<GenerationId, RepoError> {
    let now = now_ms();
    let row = generations::ActiveModel {
        user_id: Set(new.user.0),
        avatar_id: Set(new.avatar.0),
        status: Set(GenerationStatus::Queued.into()),
        prompt_original: Set(new.prompt_original.to_owned()),
        prompt_english: Set(new.prompt_english.to_owned()),
        aspect_ratio: Set(new.ratio.into()),
        cost: Set(i32::try_from(new.cost.get()).unwrap_or(i32::MAX)),
        is_favourite: Set(false),
        attempts: Set(0),
        deadline_ms: Set(now + millis(new.deadline)),
        next_attempt_ms: Set(now),
        created_at: Set(Utc::now()),
        style_key: Set(new.style.map(|k| k.to_string())),
        pack_id: Set(pack.map(|p| p.0)),
        album_sent: Set(false),
        ..Default::default()
    };
    Ok(GenerationId(
        Generations::insert(row).exec(db).await?.last_insert_id,
    ))
}

/// The generation if it exists **and** belongs to `owner`.
pub async fn find_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: GenerationId,
) -> Result<Option<Generation>, RepoError> {
    Generations::find_by_id(id.0)
        .filter(generations::Column::UserId.eq(owner.0))
        .one(db)
        .await?
        .map(Generation::try_from)
        .transpose()
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
    if !found.status.is_final() {
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

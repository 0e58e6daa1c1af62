//! Style packs a person ordered: one debit for several styled images, each image a job of
//! its own with its share of the price (refunded alone if it fails), delivered in albums as
//! they finish.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use studio_domain::styles::{PackKey, StyleKey};
use studio_domain::{
    AspectRatio, AvatarId, Credits, GenerationId, GenerationStatus, LedgerKind, PackOrderId, UserId,
};

use crate::RepoError;
use crate::entities::generations::{self, Entity as Generations};
use crate::repos::generations::{NewGeneration, decode_all, insert};
use crate::repos::ledger;
use crate::sql::statement;

/// Finished images are sent once this many wait, or when the pack is done: albums of a few
/// images rather than a message per image, and none held back at the end.
pub const ALBUM_AT: usize = 4;

/// One image of a pack: its style's prompt for the avatar, and its share of the price.
#[derive(Debug, Clone)]
pub struct PackItem {
    pub style: StyleKey,
    pub prompt: String,
    pub ratio: AspectRatio,
    pub share: Credits,
}

#[derive(Debug, Clone)]
pub struct NewPack<'a> {
    pub user: UserId,
    pub avatar: AvatarId,
    pub pack: PackKey,
    pub price: Credits,
    pub items: &'a [PackItem],
    /// How long each image may take before it fails and its share is refunded.
    pub deadline: Duration,
    /// The debit's idempotency key: the same order placed twice (a button pressed twice)
    /// is debited and queued once.
    pub order_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordered {
    Queued(PackOrderId),
    /// An order with this key was placed before; nothing was written.
    AlreadyOrdered,
    /// The balance lacks this much; nothing was written.
    Missing(Credits),
}

/// Debits the price once and queues every image, in the caller's transaction.
pub async fn order(db: &impl ConnectionTrait, new: NewPack<'_>) -> Result<Ordered, RepoError> {
    if let Err(missing) = ledger::ensure_covers(db, new.user, new.price).await? {
        return Ok(Ordered::Missing(missing));
    }
    if new.price.get() > 0 {
        let note = new.pack.to_string();
        let entry = ledger::Entry {
            user: new.user,
            kind: LedgerKind::GenerationDebit,
            amount: new.price,
            key: &new.order_key,
            note: Some(&note),
        };
        if ledger::book(db, entry).await? == ledger::Booked::AlreadyBooked {
            return Ok(Ordered::AlreadyOrdered);
        }
    }
    let sql = "INSERT INTO style_packs (user_id, pack_key, price, images, created_at) \
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let images = i32::try_from(new.items.len()).unwrap_or(i32::MAX);
    let price = i32::try_from(new.price.get()).unwrap_or(i32::MAX);
    let values = vec![
        new.user.0.into(),
        new.pack.to_string().into(),
        price.into(),
        images.into(),
        Utc::now().into(),
    ];
    let row = db
        .query_one_raw(statement(db.get_database_backend(), sql, values))
        .await?
        .ok_or_else(|| RepoError::Corrupt("pack insert returned nothing".into()))?;
    let id = PackOrderId(row.try_get("", "id")?);
    for item in new.items {
        let job = NewGeneration {
            user: new.user,
            avatar: new.avatar,
            prompt_original: &item.prompt,
            prompt_english: &item.prompt,
            ratio: item.ratio,
            cost: item.share,
            deadline: new.deadline,
            style: Some(item.style),
        };
        insert(db, &job, Some(id)).await?;
    }
    Ok(Ordered::Queued(id))
}

/// A finished image to send in the pack's next album.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumItem {
    pub generation: GenerationId,
    pub key: String,
    pub style: Option<StyleKey>,
}

/// Where a pack stands after one of its images finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackProgress {
    pub id: PackOrderId,
    pub pack: Option<PackKey>,
    pub images: usize,
    pub completed: usize,
    pub failed: usize,
    pub refunded: Credits,
    /// Every image is completed or failed.
    pub finished: bool,
    /// Images to send now, marked sent in this transaction.
    pub album: Vec<AlbumItem>,
}

/// Reads the pack's images under a lock on the pack (two images finishing together settle
/// one after the other, so each finished image goes out in exactly one album) and takes the
/// images due for an album.
pub async fn settle(
    db: &impl ConnectionTrait,
    id: PackOrderId,
) -> Result<Option<PackProgress>, RepoError> {
    let lock = "UPDATE style_packs SET images = images WHERE id = $1 RETURNING pack_key";
    let backend = db.get_database_backend();
    let Some(row) = db
        .query_one_raw(statement(backend, lock, vec![id.0.into()]))
        .await?
    else {
        return Ok(None);
    };
    let pack = PackKey::parse(&row.try_get::<String>("", "pack_key")?);
    let rows = Generations::find()
        .filter(generations::Column::PackId.eq(id.0))
        .order_by_asc(generations::Column::Id)
        .all(db)
        .await?;
    let sent: Vec<bool> = rows.iter().map(|row| row.album_sent).collect();
    let jobs = decode_all(rows)?;
    let mut progress = PackProgress {
        id,
        pack,
        images: jobs.len(),
        completed: 0,
        failed: 0,
        refunded: Credits::ZERO,
        finished: jobs.iter().all(|job| job.status.is_final()),
        album: Vec::new(),
    };
    let mut due = Vec::new();
    for (job, sent) in jobs.into_iter().zip(sent) {
        match job.status {
            GenerationStatus::Completed => {
                progress.completed += 1;
                if let (false, Some(key)) = (sent, job.result_key) {
                    due.push(AlbumItem {
                        generation: job.id,
                        key,
                        style: job.style,
                    });
                }
            }
            GenerationStatus::Failed | GenerationStatus::Cancelled => {
                progress.failed += 1;
                progress.refunded = progress.refunded.credit(job.cost);
            }
            GenerationStatus::Queued | GenerationStatus::Running => {}
        }
    }
    if due.len() >= ALBUM_AT || (progress.finished && !due.is_empty()) {
        let ids: Vec<i64> = due.iter().map(|item| item.generation.0).collect();
        Generations::update_many()
            .col_expr(generations::Column::AlbumSent, Expr::value(true))
            .filter(generations::Column::Id.is_in(ids))
            .exec(db)
            .await?;
        progress.album = due;
    }
    Ok(Some(progress))
}

//! "My gallery": finished images, newest first, walked by ids under a filter. Every lookup
//! goes through the owner: another person's id is "not found", like a deleted one.

use studio_bot_ui::screens::gallery::{self as screen, CardView, Place, StatsView};
use studio_bot_ui::{GalleryAction, Photo, Remember};
use studio_domain::{GalleryFilter, GenerationId, UserId};
use studio_persistence::DatabaseTransaction;
use studio_persistence::RepoError;
use studio_persistence::repos::{avatars, generations};

use super::Services;
use super::context::Context;
use super::views;

pub async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    action: GalleryAction,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.answer_callback(None);
    match action {
        GalleryAction::Open(filter) => open(txn, services, cx, owner, filter).await,
        GalleryAction::Card(id, filter) => card(txn, services, cx, owner, id, filter).await,
        GalleryAction::Favourite(id, filter) => {
            let Some(found) = generations::find_owned(txn, owner, id).await? else {
                views::gallery_not_found(cx);
                return Ok(());
            };
            generations::set_favourite(txn, owner, id, !found.is_favourite).await?;
            // Unmarking under the favourites filter drops the card from the list: show the
            // list's newest instead.
            let ids = generations::gallery_ids(txn, owner, filter).await?;
            match ids.contains(&id) {
                true => card(txn, services, cx, owner, id, filter).await,
                false => open(txn, services, cx, owner, filter).await,
            }
        }
        GalleryAction::Delete(id, filter) => {
            if generations::find_owned(txn, owner, id).await?.is_none() {
                views::gallery_not_found(cx);
                return Ok(());
            }
            let screen = screen::delete_confirm(cx.texts(), id, filter);
            cx.show(screen);
            Ok(())
        }
        GalleryAction::DeleteConfirmed(id, _) => {
            match generations::delete_owned(txn, owner, id).await? {
                Some(key) => {
                    tracing::info!(generation_id = %id, "image deleted");
                    cx.after_commit.delete_keys.extend(key);
                    let screen = screen::deleted(cx.texts());
                    cx.show(screen);
                }
                None => views::gallery_not_found(cx),
            }
            Ok(())
        }
        GalleryAction::Filters => {
            let names = avatars::list_owned(txn, owner)
                .await?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect::<Vec<_>>();
            let screen = screen::filters(cx.texts(), &names);
            cx.show(screen);
            Ok(())
        }
        GalleryAction::Stats => {
            let stats = generations::stats(txn, owner).await?;
            let view = StatsView {
                images: stats.images,
                favourites: stats.favourites,
                avatars_used: stats.avatars_used,
                spent: stats.spent,
            };
            let screen = screen::stats(cx.texts(), view);
            cx.show(screen);
            Ok(())
        }
    }
}

/// The newest image under `filter`, or the empty gallery.
pub async fn open(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    filter: GalleryFilter,
) -> Result<(), RepoError> {
    match generations::gallery_ids(txn, owner, filter).await?.first() {
        Some(newest) => card(txn, services, cx, owner, *newest, filter).await,
        None => {
            let screen = screen::empty(cx.texts());
            cx.show(screen);
            Ok(())
        }
    }
}

async fn card(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    id: GenerationId,
    filter: GalleryFilter,
) -> Result<(), RepoError> {
    let ids = generations::gallery_ids(txn, owner, filter).await?;
    let (Some(index), Some(found)) = (
        ids.iter().position(|g| *g == id),
        generations::find_owned(txn, owner, id).await?,
    ) else {
        tracing::info!(generation_id = %id, "image not found for its presser");
        views::gallery_not_found(cx);
        return Ok(());
    };
    let photo = match (&found.telegram_file_id, &found.result_key) {
        (Some(file_id), _) => Photo::Telegram(file_id.clone()),
        (None, Some(key)) => Photo::Stored {
            key: key.clone(),
            remember: Remember::Generation(id),
        },
        (None, None) => {
            views::gallery_not_found(cx);
            return Ok(());
        }
    };
    let avatar = avatars::find_owned(txn, owner, found.avatar_id)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    let total = ids.len();
    let place = Place {
        index: index + 1,
        total,
        prev: ids[(index + total - 1) % total],
        next: ids[(index + 1) % total],
        filter,
    };
    let view = CardView {
        id,
        avatar,
        ratio: found.ratio,
        date: found.created_at.format("%Y-%m-%d").to_string(),
        favourite: found.is_favourite,
        photo,
        style: found
            .style
            .and_then(|key| services.styles.style(key))
            .map(|style| style.name.get(cx.language).to_owned()),
    };
    let screen = screen::card(cx.texts(), &view, place);
    cx.show(screen);
    Ok(())
}

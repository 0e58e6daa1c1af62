//! Screens several use cases show, loaded in one place: an avatar's card and the list, the
//! generation menu or why an avatar cannot generate yet, and the answers to buttons that lead
//! nowhere any more. Use cases call these and `steps`, never each other.

use studio_bot_ui::screens::avatars::{self as avatar_screen, AvatarView, Position};
use studio_bot_ui::screens::gallery as gallery_screen;
use studio_bot_ui::screens::generation::{self as generation_screen, MenuView, NotReadyView};
use studio_bot_ui::{Dialog, Photo, Remember, Screen, fill, screens};
use studio_domain::photo::MIN_PHOTOS;
use studio_domain::{AvatarId, AvatarStatus, UserId};
use studio_persistence::repos::avatars::{self, Avatar};
use studio_persistence::repos::{ledger, photos};
use studio_persistence::{DatabaseTransaction, RepoError};

use super::Services;
use super::context::Context;

/// Minutes a training usually takes; the "about N min left" estimate counts down from it.
const TRAINING_MINUTES: i64 = 20;

/// How a training photo is shown: by the photo id Telegram knows it by, or, for one sent as a
/// file (a document's id, which Telegram will not show as a photo), uploaded from our storage,
/// the photo id of that upload being kept for next time.
pub fn shown(photo: &photos::Photo) -> Photo {
    match &photo.photo_file_id {
        Some(file_id) => Photo::Telegram(file_id.clone()),
        None => Photo::Stored {
            key: photo.storage_key.clone(),
            remember: Remember::AvatarPhoto(photo.id),
        },
    }
}

/// The view a screen needs of a stored avatar.
pub async fn avatar_view(
    txn: &DatabaseTransaction,
    avatar: &Avatar,
) -> Result<AvatarView, RepoError> {
    let stored = photos::list(txn, avatar).await?;
    Ok(AvatarView {
        id: avatar.id,
        name: avatar.name.clone(),
        is_main: avatar.is_main,
        gender: avatar.gender,
        status: avatar.status,
        photos: stored.len(),
        created: avatar.created_at.format("%Y-%m-%d").to_string(),
        preview: stored.first().map(shown),
        training_minutes: match avatar.status {
            AvatarStatus::Training => avatar
                .training_started_at
                .map(|at| (chrono::Utc::now() - at).num_minutes().max(0)),
            AvatarStatus::Draft
            | AvatarStatus::PhotosUploading
            | AvatarStatus::ReadyForTraining
            | AvatarStatus::Completed
            | AvatarStatus::Error
            | AvatarStatus::Cancelled => None,
        },
    })
}

/// The first card of "My avatars", or the invitation to create one.
pub async fn avatar_list(txn: &DatabaseTransaction, cx: &mut Context) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.dialog = Dialog::Idle;
    match avatars::list_owned(txn, owner).await?.first() {
        Some(first) => avatar_card(txn, cx, owner, first.id).await,
        None => {
            let screen = avatar_screen::empty(cx.texts());
            cx.show(screen);
            Ok(())
        }
    }
}

/// The card of the owner's avatar `id`, with ◀ ▶ to its neighbours.
pub async fn avatar_card(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    owner: UserId,
    id: AvatarId,
) -> Result<(), RepoError> {
    let all = avatars::list_owned(txn, owner).await?;
    let Some(index) = all.iter().position(|a| a.id == id) else {
        avatar_not_found(cx);
        return Ok(());
    };
    let total = all.len();
    let position = Position {
        index: index + 1,
        total,
        prev: all[(index + total - 1) % total].id,
        next: all[(index + 1) % total].id,
    };
    let avatar = avatar_view(txn, &all[index]).await?;
    let card = avatar_screen::card(cx.texts(), &avatar, position);
    cx.show(card);
    Ok(())
}

pub fn avatar_not_found(cx: &mut Context) {
    let screen = avatar_screen::not_found(cx.texts());
    cx.show(screen);
}

/// The generation menu for `avatar`, or why it cannot generate yet.
pub async fn generation_menu(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    avatar: Option<Avatar>,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.dialog = Dialog::Idle;
    let screen = match ready_avatar(txn, cx, avatar).await? {
        Ok(avatar) => {
            let view = MenuView {
                avatar_id: avatar.id,
                avatar: avatar.name.clone(),
                balance: ledger::balance(txn, owner).await?,
                cost: services.generation_cost,
            };
            generation_screen::menu(cx.texts(), &view)
        }
        Err(screen) => screen,
    };
    cx.show(screen);
    Ok(())
}

/// The avatar, if it can generate (`Avatar::trained`); otherwise the screen explaining why.
pub async fn ready_avatar(
    txn: &DatabaseTransaction,
    cx: &Context,
    avatar: Option<Avatar>,
) -> Result<Result<Avatar, Screen>, RepoError> {
    let Some(avatar) = avatar else {
        return Ok(Err(generation_screen::no_avatar(cx.texts())));
    };
    let Err(reason) = avatar.trained() else {
        return Ok(Ok(avatar));
    };
    let photos = photos::count(txn, &avatar).await?;
    let elapsed = avatar
        .training_started_at
        .map_or(0, |at| (chrono::Utc::now() - at).num_minutes());
    let view = NotReadyView {
        avatar: avatar.id,
        name: avatar.name.clone(),
        missing_photos: MIN_PHOTOS.saturating_sub(photos),
        minutes_left: (TRAINING_MINUTES - elapsed).max(1),
    };
    Ok(Err(generation_screen::not_ready(cx.texts(), reason, &view)))
}

pub fn gallery_not_found(cx: &mut Context) {
    let screen = gallery_screen::not_found(cx.texts());
    cx.show(screen);
}

/// A button we no longer know: stop the spinner, say so, and show a fresh menu as a new
/// message (the old one may be far up the chat). Buttons outside private chats only get the
/// answer: the bot talks to people one to one.
pub fn stale(cx: &mut Context) {
    let t = cx.texts();
    cx.answer_callback(Some(&t.stale_button_short));
    if cx.is_private {
        cx.send(Screen {
            html: t.stale_button.clone(),
            ..screens::main_menu(t)
        });
    }
}

pub fn unrecognised(cx: &mut Context) {
    let screen = screens::unknown_input(cx.texts());
    cx.send(screen);
}

/// Says, in `template`'s words, that a person's allowance of `limit` is used up, and leaves
/// the chat idle.
pub fn refuse_over_limit(cx: &mut Context, template: &str, limit: u32) {
    tracing::info!(limit, "a person's allowance is used up");
    cx.dialog = Dialog::Idle;
    let html = fill(template, &[("limit", &limit.to_string())]);
    cx.send(generation_screen::line(cx.texts(), html));
}

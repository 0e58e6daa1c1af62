//! "My avatars": the list, each card's actions, rename and delete. Every avatar is fetched
//! through its owner; another person's id, a deleted avatar and a tampered button all end in
//! the same "not found".

use sea_orm::DatabaseTransaction;
use studio_bot_ui::screens::avatars::{self as screen, AvatarView, Position};
use studio_bot_ui::{AvatarAction, Dialog, Photo, Remember};
use studio_domain::{AvatarId, AvatarStatus, Credits, Gender, UserId};
use studio_persistence::RepoError;
use studio_persistence::repos::avatars::{self, Avatar};
use studio_persistence::repos::{jobs, photos, trainings};

use super::context::Context;
use super::{Services, wizard};

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
pub async fn view(txn: &DatabaseTransaction, avatar: &Avatar) -> Result<AvatarView, RepoError> {
    let stored = photos::list(txn, avatar).await?;
    Ok(AvatarView {
        id: AvatarId(avatar.id),
        name: avatar.name.clone(),
        is_main: avatar.is_main,
        gender: Gender::from_label(&avatar.gender).unwrap_or(Gender::Male),
        status: avatar.status(),
        photos: stored.len(),
        created: avatar.created_at.format("%Y-%m-%d").to_string(),
        preview: stored.first().map(shown),
        training_minutes: match avatar.status() {
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
pub async fn list(txn: &DatabaseTransaction, cx: &mut Context) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.dialog = Dialog::Idle;
    match avatars::list_owned(txn, owner).await?.first() {
        Some(first) => show_card(txn, cx, owner, AvatarId(first.id)).await,
        None => {
            let screen = screen::empty(cx.texts());
            cx.show(screen);
            Ok(())
        }
    }
}

pub(super) async fn show_card(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    owner: UserId,
    id: AvatarId,
) -> Result<(), RepoError> {
    let all = avatars::list_owned(txn, owner).await?;
    let Some(index) = all.iter().position(|a| a.id == id.0) else {
        not_found(cx);
        return Ok(());
    };
    let total = all.len();
    let position = Position {
        index: index + 1,
        total,
        prev: AvatarId(all[(index + total - 1) % total].id),
        next: AvatarId(all[(index + 1) % total].id),
    };
    let avatar = view(txn, &all[index]).await?;
    let card = screen::card(cx.texts(), &avatar, position);
    cx.show(card);
    Ok(())
}

pub fn not_found(cx: &mut Context) {
    let screen = screen::not_found(cx.texts());
    cx.show(screen);
}

/// One button of "My avatars" or of the wizard.
pub async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    action: AvatarAction,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    match action {
        AvatarAction::Create => {
            cx.answer_callback(None);
            return wizard::create(txn, cx, owner).await;
        }
        AvatarAction::Gender(gender) => {
            cx.answer_callback(None);
            return wizard::ask_name(cx, gender);
        }
        _ => {}
    }
    let id = action_avatar(action);
    let Some(avatar) = avatars::find_owned(txn, owner, id).await? else {
        tracing::info!(avatar_id = %id, "avatar not found for its presser");
        cx.answer_callback(None);
        not_found(cx);
        return Ok(());
    };
    // "Make main" answers with its own toast.
    if !matches!(action, AvatarAction::MakeMain(_)) {
        cx.answer_callback(None);
    }
    match action {
        AvatarAction::Create | AvatarAction::Gender(_) => Ok(()),
        AvatarAction::Card(_) => show_card(txn, cx, owner, id).await,
        AvatarAction::MakeMain(_) => make_main(txn, cx, owner, id).await,
        AvatarAction::Generate(_) => {
            if !avatars::set_main(txn, owner, id).await? {
                return show_card(txn, cx, owner, id).await;
            }
            super::generate::menu(txn, services, cx).await
        }
        AvatarAction::Rename(_) => {
            cx.dialog = Dialog::AwaitingRename { avatar: id };
            let screen = screen::ask_rename(cx.texts(), &avatar.name);
            cx.show(screen);
            Ok(())
        }
        AvatarAction::Delete(_) => {
            let images = avatars::generation_count(txn, &avatar).await?;
            let screen = screen::delete_confirm(cx.texts(), &view(txn, &avatar).await?, images);
            cx.show(screen);
            Ok(())
        }
        AvatarAction::DeleteConfirmed(_) => {
            let refunded = delete(txn, cx, &avatar).await?;
            let words = match refunded.get() {
                0 => cx.texts().deleted.clone(),
                _ => studio_bot_ui::fill(
                    &cx.texts().deleted_refunded,
                    &[("credits", &refunded.to_string())],
                ),
            };
            let screen = screen::notice(cx.texts(), words);
            cx.show(screen);
            Ok(())
        }
        AvatarAction::CancelTraining(_) => {
            let refund = services.training_cost.to_string();
            let screen = screen::cancel_training_confirm(cx.texts(), id, &avatar.name, &refund);
            cx.show(screen);
            Ok(())
        }
        AvatarAction::CancelTrainingConfirmed(_) => {
            cancel_training(txn, services, cx, owner, id).await
        }
        AvatarAction::Discard(_)
        | AvatarAction::Continue(_)
        | AvatarAction::Photos(..)
        | AvatarAction::DeletePhoto(..)
        | AvatarAction::Review(_)
        | AvatarAction::CancelDraft(_)
        | AvatarAction::CancelDraftConfirmed(_)
        | AvatarAction::StartTraining(_) => wizard::act(txn, services, cx, &avatar, action).await,
    }
}

/// The avatar an action is about (creation and gender choice are about none yet).
fn action_avatar(action: AvatarAction) -> AvatarId {
    match action {
        AvatarAction::Create | AvatarAction::Gender(_) => AvatarId(0),
        AvatarAction::Discard(id)
        | AvatarAction::Card(id)
        | AvatarAction::Generate(id)
        | AvatarAction::MakeMain(id)
        | AvatarAction::Continue(id)
        | AvatarAction::Rename(id)
        | AvatarAction::Delete(id)
        | AvatarAction::DeleteConfirmed(id)
        | AvatarAction::Photos(id, _)
        | AvatarAction::DeletePhoto(id, _)
        | AvatarAction::Review(id)
        | AvatarAction::CancelDraft(id)
        | AvatarAction::CancelDraftConfirmed(id)
        | AvatarAction::StartTraining(id)
        | AvatarAction::CancelTraining(id)
        | AvatarAction::CancelTrainingConfirmed(id) => id,
    }
}

async fn make_main(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    owner: UserId,
    id: AvatarId,
) -> Result<(), RepoError> {
    let toast = if avatars::set_main(txn, owner, id).await? {
        cx.texts().toast_made_main.clone()
    } else {
        cx.texts().toast_not_trained.clone()
    };
    cx.answer_callback(Some(&toast));
    show_card(txn, cx, owner, id).await
}

/// Stops a running training: refunded now, FAL asked to cancel after the commit. A worker or
/// a late webhook afterwards finds the status changed and does nothing.
async fn cancel_training(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    id: AvatarId,
) -> Result<(), RepoError> {
    let Some(cancelled) = trainings::cancel(txn, owner, id).await? else {
        return show_card(txn, cx, owner, id).await;
    };
    tracing::info!(avatar_id = %id, "training cancelled by its owner");
    cx.after_commit
        .fal_cancels
        .extend(cancelled.training_cancel_url);
    let refund = services.training_cost.to_string();
    let html = studio_bot_ui::fill(&cx.texts().training_cancelled, &[("cost", &refund)]);
    let screen = screen::notice(cx.texts(), html);
    cx.show(screen);
    Ok(())
}

/// Deletes an avatar's rows now and its stored files once the deletion has committed. A
/// running training is cancelled (and refunded) first, and so is every image still queued or
/// at FAL (their requests cancelled there after the commit). Returns the credits the images
/// gave back.
pub async fn delete(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    avatar: &Avatar,
) -> Result<Credits, RepoError> {
    let (owner, id) = (UserId(avatar.user_id), AvatarId(avatar.id));
    if let Some(cancelled) = trainings::cancel(txn, owner, id).await? {
        cx.after_commit
            .fal_cancels
            .extend(cancelled.training_cancel_url);
    }
    let abandoned = jobs::abandon_for_avatar(txn, owner, id).await?;
    cx.after_commit.fal_cancels.extend(abandoned.cancel_urls);
    let keys = avatars::storage_keys(txn, avatar).await?;
    avatars::delete_owned(txn, UserId(avatar.user_id), AvatarId(avatar.id)).await?;
    cx.after_commit.delete_keys.extend(keys);
    if matches!(cx.dialog, Dialog::UploadingPhotos { avatar: a } | Dialog::AwaitingRename { avatar: a } if a.0 == avatar.id)
    {
        cx.dialog = Dialog::Idle;
    }
    tracing::info!(avatar_id = avatar.id, refunded = %abandoned.refunded, "avatar deleted");
    Ok(abandoned.refunded)
}

pub async fn rename_to(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    id: AvatarId,
    text: &str,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    let Some(name) = wizard::parse_name(cx, text) else {
        return Ok(());
    };
    cx.dialog = Dialog::Idle;
    if !avatars::rename(txn, owner, id, &name).await? {
        not_found(cx);
        return Ok(());
    }
    let html = studio_bot_ui::fill(&cx.texts().renamed, &[("name", name.as_str())]);
    let screen = screen::notice(cx.texts(), html);
    cx.send(screen);
    Ok(())
}

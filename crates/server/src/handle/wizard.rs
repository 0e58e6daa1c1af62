//! The avatar wizard: gender → name → photos → review, and the draft's own buttons. A user
//! has at most one draft (a partial unique index says so too).

use studio_bot_ui::screens::avatars as avatar_screens;
use studio_bot_ui::screens::wizard::{self as screen, PhotoPage};
use studio_bot_ui::{Dialog, DraftAction};
use studio_domain::photo::PhotoRejection;
use studio_domain::{AvatarId, AvatarStatus, Gender};
use studio_persistence::repos::avatars::{self, Avatar, StatusChangeError};
use studio_persistence::repos::ledger;
use studio_persistence::repos::photos::{self, Added, NewPhoto};
use studio_persistence::repos::trainings::{self, Started};
use studio_persistence::{DatabaseTransaction, RepoError};

use super::context::Context;
use super::prepare::PhotoOutcome;
use super::views::{avatar_not_found as not_found, avatar_view as view};
use super::{Services, steps, views};

/// The tag of the upload progress message, edited in place as photos arrive.
const PROGRESS: &str = "upload_progress";

fn is_draft(avatar: &Avatar) -> bool {
    match avatar.status {
        AvatarStatus::Draft | AvatarStatus::PhotosUploading | AvatarStatus::ReadyForTraining => {
            true
        }
        AvatarStatus::Training
        | AvatarStatus::Completed
        | AvatarStatus::Error
        | AvatarStatus::Cancelled => false,
    }
}

/// "Create avatar": the gender question, or the existing draft to continue or drop.
pub async fn create(txn: &DatabaseTransaction, cx: &mut Context) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.answer_callback(None);
    let screen = match avatars::find_open_draft(txn, owner).await? {
        Some(draft) => avatar_screens::draft_exists(cx.texts(), &view(txn, &draft).await?),
        None => avatar_screens::gender_picker(cx.texts()),
    };
    cx.show(screen);
    Ok(())
}

pub fn ask_name(cx: &mut Context, gender: Gender) {
    cx.answer_callback(None);
    cx.dialog = Dialog::AwaitingName { gender };
    let screen = screen::ask_name(cx.texts());
    cx.show(screen);
}

pub fn need_name_text(cx: &mut Context) {
    let screen = screen::name_not_text(cx.texts());
    cx.send(screen);
}

/// The name arrived: the draft row is created now, and photos are expected next.
pub async fn name(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    gender: Gender,
    text: &str,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    let Some(name) = steps::parse_name(cx, text) else {
        return Ok(());
    };
    if let Some(draft) = avatars::find_open_draft(txn, owner).await? {
        cx.dialog = Dialog::Idle;
        let screen = avatar_screens::draft_exists(cx.texts(), &view(txn, &draft).await?);
        cx.send(screen);
        return Ok(());
    }
    let draft = avatars::create_draft(txn, owner, &name, gender).await?;
    tracing::info!(avatar_id = %draft.id, "draft created");
    start_upload(txn, cx, &draft, false).await
}

/// The presser's draft `id`; anything else (gone, trained, someone else's) is answered as
/// not found and ends the upload dialog.
async fn owned_draft(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    id: AvatarId,
) -> Result<Option<Avatar>, RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(None);
    };
    let draft = avatars::find_owned(txn, owner, id).await?.filter(is_draft);
    if draft.is_none() {
        cx.dialog = Dialog::Idle;
        not_found(cx);
    }
    Ok(draft)
}

/// Photos sent from now on belong to `draft`; a fresh progress message will follow them.
async fn start_upload(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    draft: &Avatar,
    edit: bool,
) -> Result<(), RepoError> {
    cx.dialog = Dialog::UploadingPhotos { avatar: draft.id };
    cx.forget_tag(PROGRESS);
    let screen = screen::upload_intro(cx.texts(), &view(txn, draft).await?);
    if edit {
        cx.show(screen)
    } else {
        cx.send(screen)
    }
    Ok(())
}

/// A photo for the draft, already checked and stored by `prepare`.
pub async fn photo(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    id: AvatarId,
    outcome: Option<PhotoOutcome>,
) -> Result<(), RepoError> {
    let Some(draft) = owned_draft(txn, cx, id).await? else {
        return Ok(());
    };
    let t = cx.texts();
    let (inspected, key, file_id, photo_file_id, size) = match outcome {
        Some(PhotoOutcome::Stored {
            inspected,
            key,
            file_id,
            photo_file_id,
            size,
        }) => (inspected, key, file_id, photo_file_id, size),
        Some(PhotoOutcome::Rejected(why)) => return reject(cx, why),
        Some(PhotoOutcome::DownloadFailed) | None => {
            cx.send(studio_bot_ui::Screen::text(
                t.photo_download_failed.clone(),
                Default::default(),
            ));
            return Ok(());
        }
    };
    let new = NewPhoto {
        inspected: &inspected,
        storage_key: &key,
        telegram_file_id: &file_id,
        photo_file_id: photo_file_id.as_deref(),
        size_bytes: size,
    };
    match photos::add(txn, &draft, new).await? {
        Added::Added(count) => {
            sync_status(txn, &draft, count).await?;
            let screen = screen::progress(cx.texts(), id, count);
            cx.send_tagged(PROGRESS, screen);
            Ok(())
        }
        Added::Duplicate => reject(cx, PhotoRejection::Duplicate),
        Added::Full => {
            // Stored by `prepare` under its content key, which no row of this avatar uses.
            cx.after_commit.delete_keys.push(key);
            reject(cx, PhotoRejection::LimitReached)
        }
    }
}

fn reject(cx: &mut Context, why: PhotoRejection) -> Result<(), RepoError> {
    let line = screen::rejection(cx.texts(), why);
    cx.send(studio_bot_ui::Screen::text(line, Default::default()));
    Ok(())
}

async fn sync_status(
    txn: &DatabaseTransaction,
    draft: &Avatar,
    count: usize,
) -> Result<(), RepoError> {
    match avatars::sync_draft_status(txn, draft, count).await {
        Ok(_) => Ok(()),
        Err(StatusChangeError::Repo(err)) => Err(err),
        // The draft changed under us (deleted, or moved on): the photo row stays, the next
        // update sees the new status.
        Err(err) => {
            tracing::warn!(avatar_id = %draft.id, error = %err, "draft status not synced");
            Ok(())
        }
    }
}

pub async fn need_photo(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    id: AvatarId,
) -> Result<(), RepoError> {
    let Some(draft) = owned_draft(txn, cx, id).await? else {
        return Ok(());
    };
    let count = photos::count(txn, &draft).await?;
    let screen = screen::need_photo(cx.texts(), id, count);
    cx.send(screen);
    Ok(())
}

/// The draft's own buttons, for the presser's draft `id`.
pub async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    id: AvatarId,
    action: DraftAction,
) -> Result<(), RepoError> {
    cx.answer_callback(None);
    let Some(avatar) = owned_draft(txn, cx, id).await? else {
        return Ok(());
    };
    let avatar = &avatar;
    match action {
        DraftAction::Continue => start_upload(txn, cx, avatar, true).await,
        DraftAction::Discard => {
            steps::delete_avatar(txn, cx, avatar).await?;
            let screen = avatar_screens::gender_picker(cx.texts());
            cx.show(screen);
            Ok(())
        }
        DraftAction::Photos(photo_id) => show_photo(txn, cx, avatar, photo_id).await,
        DraftAction::DeletePhoto(photo_id) => {
            if let Some(key) = photos::delete(txn, avatar, photo_id).await? {
                cx.after_commit.delete_keys.push(key);
                let count = photos::count(txn, avatar).await?;
                sync_status(txn, avatar, count).await?;
            }
            show_photo(txn, cx, avatar, 0).await
        }
        DraftAction::Review => {
            let balance = ledger::balance(txn, avatar.user_id).await?;
            let screen = screen::review(
                cx.texts(),
                &view(txn, avatar).await?,
                services.training_cost,
                balance,
            );
            cx.show(screen);
            Ok(())
        }
        DraftAction::Cancel => {
            let screen = screen::cancel_confirm(cx.texts(), &view(txn, avatar).await?);
            cx.show(screen);
            Ok(())
        }
        DraftAction::CancelConfirmed => {
            steps::delete_avatar(txn, cx, avatar).await?;
            let screen = avatar_screens::notice(cx.texts(), cx.texts().draft_cancelled.clone());
            cx.show(screen);
            Ok(())
        }
        DraftAction::StartTraining => start_training(txn, services, cx, avatar).await,
    }
}

/// One uploaded photo (`photo_id`, or the first when it is gone), with ◀ ▶ by ids.
async fn show_photo(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    avatar: &Avatar,
    photo_id: i64,
) -> Result<(), RepoError> {
    let stored = photos::list(txn, avatar).await?;
    let draft = view(txn, avatar).await?;
    if stored.is_empty() {
        let screen = screen::no_photos(cx.texts(), &draft);
        cx.show(screen);
        return Ok(());
    }
    let total = stored.len();
    let index = stored.iter().position(|p| p.id == photo_id).unwrap_or(0);
    let page = PhotoPage {
        photo_id: stored[index].id,
        photo: views::shown(&stored[index]),
        index: index + 1,
        total,
        prev: stored[(index + total - 1) % total].id,
        next: stored[(index + 1) % total].id,
    };
    let screen = screen::photo(cx.texts(), &draft, &page);
    cx.show(screen);
    Ok(())
}

/// Debits the training and hands the avatar to the training workers, in this transaction.
async fn start_training(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    avatar: &Avatar,
) -> Result<(), RepoError> {
    let (owner, id) = (avatar.user_id, avatar.id);
    let cost = services.training_cost;
    match trainings::start(txn, owner, id, cost, services.training_deadline).await? {
        Started::Started => {
            tracing::info!(avatar_id = %id, "training started");
            cx.dialog = Dialog::Idle;
            cx.after_commit.jobs_queued = true;
            let screen = avatar_screens::training_started(cx.texts(), id, &avatar.name);
            cx.show(screen);
        }
        Started::Missing(_) => {
            let balance = ledger::balance(txn, owner).await?;
            let screen =
                studio_bot_ui::screens::generation::not_enough_credits(cx.texts(), cost, balance);
            cx.show(screen);
        }
        Started::NotReady => return views::avatar_card(txn, cx, owner, id).await,
    }
    Ok(())
}

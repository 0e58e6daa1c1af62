//! "My avatars": each card's actions, rename and delete. Every avatar is fetched through its
//! owner; another person's id, a deleted avatar and a tampered button all end in the same
//! "not found".

use studio_bot_ui::screens::avatars as screen;
use studio_bot_ui::{CardAction, Dialog};
use studio_domain::{AvatarId, UserId};
use studio_persistence::repos::{avatars, trainings};
use studio_persistence::{DatabaseTransaction, RepoError};

use super::context::Context;
use super::{Services, steps, views};

/// One button of an avatar's card, for the presser's avatar `id`.
pub async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    id: AvatarId,
    action: CardAction,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    let Some(avatar) = avatars::find_owned(txn, owner, id).await? else {
        tracing::info!(avatar_id = %id, "avatar not found for its presser");
        cx.answer_callback(None);
        views::avatar_not_found(cx);
        return Ok(());
    };
    // "Make main" answers with its own toast.
    if action != CardAction::MakeMain {
        cx.answer_callback(None);
    }
    match action {
        CardAction::Show => views::avatar_card(txn, cx, owner, id).await,
        CardAction::MakeMain => make_main(txn, cx, owner, id).await,
        CardAction::Generate => {
            if !avatars::set_main(txn, owner, id).await? {
                return views::avatar_card(txn, cx, owner, id).await;
            }
            views::generation_menu(txn, services, cx, Some(avatar)).await
        }
        CardAction::Rename => {
            cx.dialog = Dialog::AwaitingRename { avatar: id };
            let screen = screen::ask_rename(cx.texts(), &avatar.name);
            cx.show(screen);
            Ok(())
        }
        CardAction::Delete => {
            let images = avatars::generation_count(txn, &avatar).await?;
            let view = views::avatar_view(txn, &avatar).await?;
            let screen = screen::delete_confirm(cx.texts(), &view, images);
            cx.show(screen);
            Ok(())
        }
        CardAction::DeleteConfirmed => {
            let refunded = steps::delete_avatar(txn, cx, &avatar).await?;
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
        CardAction::CancelTraining => {
            let refund = services.training_cost.to_string();
            let screen = screen::cancel_training_confirm(cx.texts(), id, &avatar.name, &refund);
            cx.show(screen);
            Ok(())
        }
        CardAction::CancelTrainingConfirmed => cancel_training(txn, services, cx, owner, id).await,
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
    views::avatar_card(txn, cx, owner, id).await
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
        return views::avatar_card(txn, cx, owner, id).await;
    };
    tracing::info!(avatar_id = %id, "training cancelled by its owner");
    cx.after_commit.fal_cancels.extend(cancelled.cancel_url);
    let refund = services.training_cost.to_string();
    let html = studio_bot_ui::fill(&cx.texts().training_cancelled, &[("cost", &refund)]);
    let screen = screen::notice(cx.texts(), html);
    cx.show(screen);
    Ok(())
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
    let Some(name) = steps::parse_name(cx, text) else {
        return Ok(());
    };
    cx.dialog = Dialog::Idle;
    if !avatars::rename(txn, owner, id, &name).await? {
        views::avatar_not_found(cx);
        return Ok(());
    }
    let html = studio_bot_ui::fill(&cx.texts().renamed, &[("name", name.as_str())]);
    let screen = screen::notice(cx.texts(), html);
    cx.send(screen);
    Ok(())
}

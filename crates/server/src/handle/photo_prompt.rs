//! Prompts the language model makes: one from a reference photo, and the English translation
//! of a prompt written in another language. The request is queued with the update that asks
//! for it and answered by a prompt worker (`model_answered`). Nothing here costs credits.

use studio_bot_ui::screens::generation as generation_screen;
use studio_bot_ui::screens::photo_prompt as screen;
use studio_bot_ui::{Dialog, PhotoPromptAction, ReferenceRejection, UploadedFile};
use studio_domain::{AvatarId, PromptFailure};
use studio_persistence::repos::avatars::{self, Avatar};
use studio_persistence::repos::prompt_jobs::{self, PromptJob, PromptJobKind};
use studio_persistence::repos::users::User;
use studio_persistence::{DatabaseTransaction, RepoError};

use super::context::Context;
use super::steps::{self, ModelRequest};
use super::{AfterCommit, HandleError, Services, views};

pub async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    action: PhotoPromptAction,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.answer_callback(None);
    match action {
        PhotoPromptAction::Start(avatar) => {
            let avatar = steps::menu_avatar(txn, owner, avatar).await?;
            start(txn, services, cx, avatar).await
        }
        PhotoPromptAction::Use => {
            let Dialog::ReviewingPrompt { avatar, prompt } = cx.dialog.clone() else {
                views::stale(cx);
                return Ok(());
            };
            steps::accept_prompt(txn, services, cx, owner, avatar, &prompt, None).await
        }
        PhotoPromptAction::Edit => {
            edit(cx);
            Ok(())
        }
        PhotoPromptAction::Cancel => {
            let avatar = avatars::for_generation(txn, owner).await?;
            views::generation_menu(txn, services, cx, avatar).await
        }
    }
}

/// "Prompt from photo": asks for the reference, once the avatar can generate.
async fn start(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    avatar: Option<Avatar>,
) -> Result<(), RepoError> {
    if services.openai.is_none() {
        let t = cx.texts();
        cx.show(generation_screen::line(
            t,
            t.photo_prompt_unavailable.clone(),
        ));
        return Ok(());
    }
    match views::ready_avatar(txn, cx, avatar).await? {
        Ok(avatar) => {
            cx.dialog = Dialog::AwaitingReference { avatar: avatar.id };
            cx.show(screen::ask_reference(cx.texts()));
        }
        Err(screen) => cx.show(screen),
    }
    Ok(())
}

/// The person writes their own version; the proposal comes along to copy.
fn edit(cx: &mut Context) {
    let Dialog::ReviewingPrompt { avatar, prompt } = cx.dialog.clone() else {
        views::stale(cx);
        return;
    };
    cx.dialog = Dialog::AwaitingPrompt { avatar };
    let screen = screen::edit_proposed(cx.texts(), &prompt);
    cx.send(screen);
}

/// A reference arrived: queued for the vision model. Only its Telegram file id is kept, and
/// only until the answer.
pub async fn reference(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    file: UploadedFile,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    let request = ModelRequest {
        owner,
        avatar: file.avatar,
        kind: PromptJobKind::Vision,
        input: &file.file_id,
    };
    if steps::ask_model(txn, services, cx, request).await? {
        cx.send(screen::analysing(cx.texts()));
    }
    Ok(())
}

pub fn rejected(cx: &mut Context, why: ReferenceRejection) {
    let screen = screen::reference_rejected(cx.texts(), why);
    cx.send(screen);
}

/// Input while the chat waits for the model. If the request is gone (its avatar was deleted)
/// the chat stops waiting, so it is never stuck.
pub async fn busy(txn: &DatabaseTransaction, cx: &mut Context) -> Result<(), RepoError> {
    let Dialog::AwaitingModel { job, .. } = cx.dialog else {
        return Ok(());
    };
    if prompt_jobs::is_pending(txn, job).await? {
        let screen = screen::model_busy(cx.texts());
        cx.send(screen);
    } else {
        tracing::info!(prompt_job_id = %job, "the awaited model request is gone");
        cx.dialog = Dialog::Idle;
        views::unrecognised(cx);
    }
    Ok(())
}

/// The model's answer to `job`, in the caller's transaction, which holds `person`'s row lock.
/// It is shown only while the chat still waits for this job: someone who went elsewhere
/// meanwhile is not pulled back.
pub async fn model_answered(
    txn: &DatabaseTransaction,
    services: &Services,
    job: &PromptJob,
    person: User,
    answer: Result<String, PromptFailure>,
) -> Result<AfterCommit, HandleError> {
    let Some(mut cx) = Context::for_person(txn, person, job.chat).await? else {
        return Ok(AfterCommit::default());
    };
    let waiting = matches!(cx.dialog, Dialog::AwaitingModel { job: id, .. } if id == job.id);
    if !waiting {
        tracing::info!("the chat moved on; the model's answer is not shown");
        return Ok(AfterCommit::default());
    }
    let t = cx.texts();
    let avatar: AvatarId = job.avatar;
    match (job.kind, answer) {
        (PromptJobKind::Vision, Ok(prompt)) => {
            cx.send(screen::proposed(t, &prompt));
            cx.dialog = Dialog::ReviewingPrompt { avatar, prompt };
        }
        (PromptJobKind::Vision, Err(failure)) => {
            cx.dialog = Dialog::Idle;
            cx.send(screen::photo_failed(t, avatar, failure));
        }
        (PromptJobKind::Translation, Ok(english)) => {
            // Should queueing fail (no credits in quick mode), the next text is a new prompt.
            cx.dialog = Dialog::AwaitingPrompt { avatar };
            let input = &job.input;
            steps::accept_prompt(
                txn,
                services,
                &mut cx,
                job.user,
                avatar,
                input,
                Some(&english),
            )
            .await?;
        }
        (PromptJobKind::Translation, Err(failure)) => {
            // The next text is a new try.
            cx.dialog = Dialog::AwaitingPrompt { avatar };
            cx.send(screen::translation_failed(t, avatar, failure));
        }
    }
    cx.save(txn).await
}

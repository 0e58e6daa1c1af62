//! Prompts the language model makes: one from a reference photo, and the English translation
//! of a prompt written in another language. The request is queued with the update that asks
//! for it and answered by a prompt worker (`model_answered`). Nothing here costs credits.

use sea_orm::DatabaseTransaction;
use studio_bot_ui::screens::generation as generation_screen;
use studio_bot_ui::screens::photo_prompt as screen;
use studio_bot_ui::{Dialog, ReferenceRejection, UploadedFile};
use studio_domain::{AvatarId, ChatId, Prompt, PromptFailure, UserId};
use studio_persistence::RepoError;
use studio_persistence::repos::avatars;
use studio_persistence::repos::avatars::Avatar;
use studio_persistence::repos::limits;
use studio_persistence::repos::prompt_jobs::{self, NewPromptJob, PromptJob, PromptJobKind};
use studio_persistence::repos::users::User;

use super::context::Context;
use super::{AfterCommit, HandleError, Services, generate};

/// "Prompt from photo": asks for the reference, once the avatar can generate.
pub async fn from_photo(
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
    match generate::ready_avatar(txn, cx, avatar).await? {
        Ok(avatar) => {
            cx.dialog = Dialog::AwaitingReference {
                avatar: AvatarId(avatar.id),
            };
            cx.show(screen::ask_reference(cx.texts()));
        }
        Err(screen) => cx.show(screen),
    }
    Ok(())
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
    let request = Request {
        owner,
        avatar: file.avatar,
        kind: PromptJobKind::Vision,
        input: &file.file_id,
    };
    if ask_model(txn, services, cx, request).await? {
        cx.send(screen::analysing(cx.texts()));
    }
    Ok(())
}

/// A prompt in another language: translated before anything else happens to it.
pub async fn translate(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    avatar: AvatarId,
    prompt: &Prompt,
) -> Result<(), RepoError> {
    let request = Request {
        owner,
        avatar,
        kind: PromptJobKind::Translation,
        input: prompt.as_str(),
    };
    if ask_model(txn, services, cx, request).await? {
        cx.send(screen::translating(cx.texts()));
    }
    Ok(())
}

struct Request<'a> {
    owner: UserId,
    avatar: AvatarId,
    kind: PromptJobKind,
    input: &'a str,
}

/// Queues the request and makes the chat wait for its answer; `false` (and the reason shown)
/// if the avatar can no longer generate, e.g. it was deleted meanwhile.
async fn ask_model(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    request: Request<'_>,
) -> Result<bool, RepoError> {
    let avatar = avatars::find_owned(txn, request.owner, request.avatar).await?;
    if let Err(screen) = generate::ready_avatar(txn, cx, avatar).await? {
        cx.dialog = Dialog::Idle;
        cx.send(screen);
        return Ok(false);
    }
    // Free for the person, paid by us: a day's worth each.
    let limit = services.limits.model_requests_per_day;
    let asked = limits::model_requests_since(txn, request.owner, generate::day_ago()).await?;
    if asked >= u64::from(limit) {
        generate::refuse_over_limit(cx, &cx.texts().model_limit_reached, limit);
        return Ok(false);
    }
    let new = NewPromptJob {
        chat: ChatId(cx.chat),
        user: request.owner,
        avatar: request.avatar,
        kind: request.kind,
        input: request.input,
        deadline: services.prompt_deadline,
    };
    let job = prompt_jobs::queue(txn, new).await?;
    tracing::info!(prompt_job_id = %job, kind = ?request.kind, "language model request queued");
    cx.dialog = Dialog::AwaitingModel {
        avatar: request.avatar,
        job,
    };
    cx.after_commit.prompts_queued = true;
    Ok(true)
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
        super::menu::unrecognised(cx);
    }
    Ok(())
}

/// Generate with the proposed prompt: on to the ratio (or queued, in quick mode).
pub async fn use_proposed(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
) -> Result<(), RepoError> {
    let Dialog::ReviewingPrompt { avatar, prompt } = cx.dialog.clone() else {
        super::menu::stale(cx);
        return Ok(());
    };
    generate::accepted(txn, services, cx, owner, avatar, &prompt, None).await
}

/// The person writes their own version; the proposal comes along to copy.
pub fn edit_proposed(cx: &mut Context) {
    let Dialog::ReviewingPrompt { avatar, prompt } = cx.dialog.clone() else {
        super::menu::stale(cx);
        return;
    };
    cx.dialog = Dialog::AwaitingPrompt { avatar };
    let screen = screen::edit_proposed(cx.texts(), &prompt);
    cx.send(screen);
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
    match (job.kind, answer) {
        (PromptJobKind::Vision, Ok(prompt)) => {
            cx.send(screen::proposed(t, &prompt));
            cx.dialog = Dialog::ReviewingPrompt {
                avatar: job.avatar,
                prompt,
            };
        }
        (PromptJobKind::Vision, Err(failure)) => {
            cx.dialog = Dialog::Idle;
            cx.send(screen::photo_failed(t, job.avatar, failure));
        }
        (PromptJobKind::Translation, Ok(english)) => {
            // Should queueing fail (no credits in quick mode), the next text is a new prompt.
            cx.dialog = Dialog::AwaitingPrompt { avatar: job.avatar };
            let input = &job.input;
            generate::accepted(
                txn,
                services,
                &mut cx,
                job.user,
                job.avatar,
                input,
                Some(&english),
            )
            .await?;
        }
        (PromptJobKind::Translation, Err(failure)) => {
            // The next text is a new try.
            cx.dialog = Dialog::AwaitingPrompt { avatar: job.avatar };
            cx.send(screen::translation_failed(t, job.avatar, failure));
        }
    }
    cx.save(txn).await
}

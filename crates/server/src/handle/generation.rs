//! Generating images: the menu, a custom prompt and its ratio, "again", and showing a prompt.
//! Every way in (menu, avatar card, again, a stale ratio button) passes the same checks: a
//! trained avatar of the presser's (`views::ready_avatar`), and credits for the image.

use studio_bot_ui::screens::generation as screen;
use studio_bot_ui::screens::photo_prompt as photo_prompt_screen;
use studio_bot_ui::{Dialog, GenerateAction, fill};
use studio_domain::{AspectRatio, AvatarId, GenerationId, Prompt, PromptError, UserId};
use studio_persistence::repos::avatars::{self, Avatar};
use studio_persistence::repos::generations;
use studio_persistence::repos::prompt_jobs::PromptJobKind;
use studio_persistence::{DatabaseTransaction, RepoError};

use super::Services;
use super::context::Context;
use super::steps::{self, Job, ModelRequest};
use super::views;

pub async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    action: GenerateAction,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.answer_callback(None);
    match action {
        GenerateAction::Menu => {
            let avatar = avatars::for_generation(txn, owner).await?;
            views::generation_menu(txn, services, cx, avatar).await
        }
        GenerateAction::CustomPrompt(avatar) => {
            let avatar = steps::menu_avatar(txn, owner, avatar).await?;
            custom_prompt(txn, cx, avatar).await
        }
        GenerateAction::Ratio(ratio) => chosen_ratio(txn, services, cx, owner, ratio).await,
        GenerateAction::Again(id) => again(txn, services, cx, owner, id).await,
        GenerateAction::ShowPrompt(id) => show_prompt(txn, cx, owner, id).await,
    }
}

async fn custom_prompt(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    avatar: Option<Avatar>,
) -> Result<(), RepoError> {
    match views::ready_avatar(txn, cx, avatar).await? {
        Ok(avatar) => {
            cx.dialog = Dialog::AwaitingPrompt { avatar: avatar.id };
            let screen = screen::ask_prompt(cx.texts());
            cx.show(screen);
        }
        Err(screen) => cx.show(screen),
    }
    Ok(())
}

/// A prompt typed for `avatar`: checked, translated first when it needs it, then the ratio
/// picker, or queued at once in quick mode with the default ratio.
pub async fn prompt_text(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    avatar: AvatarId,
    text: &str,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    let t = cx.texts();
    let prompt = match Prompt::parse(text) {
        Ok(prompt) => prompt,
        Err(PromptError::TooShort) => {
            cx.send(screen::line(t, t.prompt_too_short.clone()));
            return Ok(());
        }
        Err(PromptError::TooLong) => {
            let length = text.trim().chars().count().to_string();
            cx.send(screen::line(
                t,
                fill(&t.prompt_too_long, &[("length", &length)]),
            ));
            return Ok(());
        }
    };
    if prompt.needs_translation() {
        if services.openai.is_some() {
            let request = ModelRequest {
                owner,
                avatar,
                kind: PromptJobKind::Translation,
                input: prompt.as_str(),
            };
            if steps::ask_model(txn, services, cx, request).await? {
                cx.send(photo_prompt_screen::translating(cx.texts()));
            }
            return Ok(());
        }
        // Without a translator, accents can go as written; other scripts cannot.
        if !prompt.is_latin() {
            let screen = photo_prompt_screen::translation_unavailable(t, avatar);
            cx.send(screen);
            return Ok(());
        }
    }
    steps::accept_prompt(txn, services, cx, owner, avatar, prompt.as_str(), None).await
}

pub fn need_prompt_text(cx: &mut Context) {
    let screen = screen::line(cx.texts(), cx.texts().prompt_not_text.clone());
    cx.send(screen);
}

async fn chosen_ratio(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    ratio: AspectRatio,
) -> Result<(), RepoError> {
    let Dialog::ChoosingRatio {
        avatar,
        prompt,
        english,
    } = cx.dialog.clone()
    else {
        // The prompt this button was for is gone (queued already, or another one started).
        views::stale(cx);
        return Ok(());
    };
    let avatar = avatars::find_owned(txn, owner, avatar).await?;
    let job = Job {
        original: &prompt,
        english: english.as_deref().unwrap_or(&prompt),
        ratio,
        style: None,
    };
    steps::queue(txn, services, cx, owner, avatar, job).await
}

async fn again(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    id: GenerationId,
) -> Result<(), RepoError> {
    let Some(previous) = generations::find_owned(txn, owner, id).await? else {
        views::gallery_not_found(cx);
        return Ok(());
    };
    let avatar = avatars::find_owned(txn, owner, previous.avatar_id).await?;
    let job = Job {
        original: &previous.prompt_original,
        english: &previous.prompt_english,
        ratio: previous.ratio,
        style: previous.style,
    };
    steps::queue(txn, services, cx, owner, avatar, job).await
}

async fn show_prompt(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    owner: UserId,
    id: GenerationId,
) -> Result<(), RepoError> {
    let Some(generation) = generations::find_owned(txn, owner, id).await? else {
        views::gallery_not_found(cx);
        return Ok(());
    };
    for screen in screen::full_prompt(
        cx.texts(),
        &generation.prompt_original,
        &generation.prompt_english,
    ) {
        cx.send(screen);
    }
    Ok(())
}

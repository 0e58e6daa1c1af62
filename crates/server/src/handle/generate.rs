//! Generating images: the menu, a custom prompt and its ratio, "again", and showing a prompt.
//! Every way in (menu, avatar card, again, regenerate, a stale ratio button) passes the same
//! checks: a trained avatar of the presser's, and credits for the image.

use sea_orm::DatabaseTransaction;
use studio_bot_ui::screens::generation::{self as screen, MenuView, NotReadyView};
use studio_bot_ui::{Dialog, GenerateAction, Screen, fill};
use studio_domain::photo::MIN_PHOTOS;
use studio_domain::{AspectRatio, AvatarId, Prompt, PromptError, UserId};
use studio_persistence::RepoError;
use studio_persistence::repos::avatars::{self, Avatar};
use studio_persistence::repos::generations::{self, NewGeneration, Queued};
use studio_persistence::repos::{ledger, limits, photos, settings};

use super::Services;
use super::context::Context;

/// Minutes a training usually takes; the "about N min left" estimate counts down from it.
const TRAINING_MINUTES: i64 = 20;

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
        GenerateAction::Menu => menu(txn, services, cx).await,
        GenerateAction::CustomPrompt(avatar) => {
            let avatar = menu_avatar(txn, owner, avatar).await?;
            custom_prompt(txn, cx, avatar).await
        }
        GenerateAction::PromptFromPhoto(avatar) => {
            let avatar = menu_avatar(txn, owner, avatar).await?;
            super::prompts::from_photo(txn, services, cx, avatar).await
        }
        GenerateAction::UseProposed => super::prompts::use_proposed(txn, services, cx, owner).await,
        GenerateAction::EditProposed => {
            super::prompts::edit_proposed(cx);
            Ok(())
        }
        GenerateAction::CancelProposed => menu(txn, services, cx).await,
        GenerateAction::ChangeAvatar => super::avatars::list(txn, cx).await,
        GenerateAction::Ratio(ratio) => chosen_ratio(txn, services, cx, owner, ratio).await,
        GenerateAction::Again(id) => again(txn, services, cx, owner, id).await,
        GenerateAction::ShowPrompt(id) => show_prompt(txn, cx, owner, id).await,
    }
}

/// The generation menu for the person's avatar, or why it cannot generate yet.
pub async fn menu(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.dialog = Dialog::Idle;
    let screen = match ready_avatar(txn, cx, avatars::for_generation(txn, owner).await?).await? {
        Ok(avatar) => {
            let view = MenuView {
                avatar_id: AvatarId(avatar.id),
                avatar: avatar.name.clone(),
                balance: ledger::balance(txn, owner).await?,
                cost: services.generation_cost,
            };
            screen::menu(cx.texts(), &view)
        }
        Err(screen) => screen,
    };
    cx.show(screen);
    Ok(())
}

/// The avatar, if it can generate; otherwise the screen explaining its status.
pub(super) async fn ready_avatar(
    txn: &DatabaseTransaction,
    cx: &Context,
    avatar: Option<Avatar>,
) -> Result<Result<Avatar, Screen>, RepoError> {
    let Some(avatar) = avatar else {
        return Ok(Err(screen::no_avatar(cx.texts())));
    };
    let Err(reason) = avatar.status().can_generate() else {
        return Ok(Ok(avatar));
    };
    let photos = photos::count(txn, &avatar).await?;
    let elapsed = avatar
        .training_started_at
        .map_or(0, |at| (chrono::Utc::now() - at).num_minutes());
    let view = NotReadyView {
        avatar: AvatarId(avatar.id),
        name: avatar.name.clone(),
        missing_photos: MIN_PHOTOS.saturating_sub(photos),
        minutes_left: (TRAINING_MINUTES - elapsed).max(1),
    };
    Ok(Err(screen::not_ready(cx.texts(), reason, &view)))
}

/// The avatar a menu's button names, fetched with its owner (someone else's, or a deleted
/// one, is `None` and gets the "no avatar" answer); a button from before buttons carried the
/// avatar means the main one.
pub(super) async fn menu_avatar(
    txn: &DatabaseTransaction,
    owner: UserId,
    named: Option<AvatarId>,
) -> Result<Option<Avatar>, RepoError> {
    match named {
        Some(id) => avatars::find_owned(txn, owner, id).await,
        None => avatars::for_generation(txn, owner).await,
    }
}

async fn custom_prompt(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    avatar: Option<Avatar>,
) -> Result<(), RepoError> {
    match ready_avatar(txn, cx, avatar).await? {
        Ok(avatar) => {
            cx.dialog = Dialog::AwaitingPrompt {
                avatar: AvatarId(avatar.id),
            };
            let screen = screen::ask_prompt(cx.texts());
            cx.show(screen);
        }
        Err(screen) => cx.show(screen),
    }
    Ok(())
}

/// A prompt typed for `avatar`: checked, then the ratio picker, or queued at once in quick
/// mode with the default ratio.
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
            return super::prompts::translate(txn, services, cx, owner, avatar, &prompt).await;
        }
        // Without a translator, accents can go as written; other scripts cannot.
        if !prompt.is_latin() {
            let screen = studio_bot_ui::screens::photo_prompt::translation_unavailable(t, avatar);
            cx.send(screen);
            return Ok(());
        }
    }
    accepted(txn, services, cx, owner, avatar, prompt.as_str(), None).await
}

/// A prompt ready for the model (`english` is its translation, when it needed one): the
/// ratio picker, or queued at once in quick mode with the default ratio.
pub(super) async fn accepted(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    avatar: AvatarId,
    original: &str,
    english: Option<&str>,
) -> Result<(), RepoError> {
    let current = settings::get(txn, owner).await?;
    if current.quick_mode {
        let avatar = avatars::find_owned(txn, owner, avatar).await?;
        let job = Job {
            original,
            english: english.unwrap_or(original),
            ratio: current.default_ratio,
        };
        return queue(txn, services, cx, owner, avatar, job).await;
    }
    cx.dialog = Dialog::ChoosingRatio {
        avatar,
        prompt: original.to_owned(),
        english: english.map(str::to_owned),
    };
    let screen = screen::ratio_picker(cx.texts(), original, english);
    cx.send(screen);
    Ok(())
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
        super::menu::stale(cx);
        return Ok(());
    };
    let avatar = avatars::find_owned(txn, owner, avatar).await?;
    let job = Job {
        original: &prompt,
        english: english.as_deref().unwrap_or(&prompt),
        ratio,
    };
    queue(txn, services, cx, owner, avatar, job).await
}

async fn again(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    id: studio_domain::GenerationId,
) -> Result<(), RepoError> {
    let Some(previous) = generations::find_owned(txn, owner, id).await? else {
        super::gallery::not_found(cx);
        return Ok(());
    };
    let avatar = avatars::find_owned(txn, owner, AvatarId(previous.avatar_id)).await?;
    let job = Job {
        original: &previous.prompt_original,
        english: &previous.prompt_english,
        ratio: previous.ratio(),
    };
    queue(txn, services, cx, owner, avatar, job).await
}

/// What to generate.
struct Job<'a> {
    original: &'a str,
    english: &'a str,
    ratio: AspectRatio,
}

/// Debits and queues the job in this transaction, or explains why not. A new message, not an
/// edit: the person keeps the picker or result they pressed.
async fn queue(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    avatar: Option<Avatar>,
    job: Job<'_>,
) -> Result<(), RepoError> {
    let avatar = match ready_avatar(txn, cx, avatar).await? {
        Ok(avatar) => avatar,
        Err(screen) => {
            cx.dialog = Dialog::Idle;
            cx.send(screen);
            return Ok(());
        }
    };
    // Blocked images are refunded, so each costs us a FAL call and the person nothing.
    let limit = services.limits.blocked_images_per_day;
    let blocked = limits::blocked_images_since(txn, owner, day_ago()).await?;
    if blocked >= u64::from(limit) {
        refuse_over_limit(cx, &cx.texts().blocked_limit_reached, limit);
        return Ok(());
    }
    let new = NewGeneration {
        user: owner,
        avatar: AvatarId(avatar.id),
        prompt_original: job.original,
        prompt_english: job.english,
        ratio: job.ratio,
        cost: services.generation_cost,
        deadline: services.generation_deadline,
    };
    match generations::queue(txn, new).await? {
        Queued::Queued { id, position } => {
            tracing::info!(generation_id = %id, position, "generation queued");
            cx.dialog = Dialog::Idle;
            cx.after_commit.jobs_queued = true;
            let screen = screen::queued(cx.texts(), position);
            cx.send(screen);
        }
        Queued::Missing(_) => {
            let balance = ledger::balance(txn, owner).await?;
            let screen = screen::not_enough_credits(cx.texts(), services.generation_cost, balance);
            cx.send(screen);
        }
    }
    Ok(())
}

/// 24 hours ago: the window of a person's daily allowances.
pub(super) fn day_ago() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::days(1)
}

/// Says, in `template`'s words, that a person's allowance of `limit` is used up, and leaves
/// the chat idle.
pub(super) fn refuse_over_limit(cx: &mut Context, template: &str, limit: u32) {
    tracing::info!(limit, "a person's allowance is used up");
    cx.dialog = Dialog::Idle;
    let html = fill(template, &[("limit", &limit.to_string())]);
    cx.send(screen::line(cx.texts(), html));
}

async fn show_prompt(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    owner: UserId,
    id: studio_domain::GenerationId,
) -> Result<(), RepoError> {
    let Some(generation) = generations::find_owned(txn, owner, id).await? else {
        super::gallery::not_found(cx);
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

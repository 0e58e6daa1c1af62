//! Steps several use cases take, kept in one place: deleting an avatar with everything it
//! holds, a typed avatar name, taking a prompt on to its ratio or the queue, and asking the
//! language model. Use cases call these and `views`, never each other.

use studio_bot_ui::Dialog;
use studio_bot_ui::screens::generation as generation_screen;
use studio_bot_ui::screens::wizard as wizard_screen;
use studio_domain::styles::StyleKey;
use studio_domain::{AspectRatio, AvatarId, AvatarName, ChatId, Credits, UserId};
use studio_persistence::repos::avatars::{self, Avatar};
use studio_persistence::repos::generations::{self, NewGeneration, Queued};
use studio_persistence::repos::prompt_jobs::{self, NewPromptJob, PromptJobKind};
use studio_persistence::repos::{jobs, ledger, limits, settings, trainings};
use studio_persistence::{DatabaseTransaction, RepoError};

use super::Services;
use super::context::Context;
use super::views;

/// Deletes an avatar's rows now and its stored files once the deletion has committed. A
/// running training is cancelled (and refunded) first, and so is every image still queued or
/// at FAL (their requests cancelled there after the commit). Returns the credits the images
/// gave back.
pub async fn delete_avatar(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    avatar: &Avatar,
) -> Result<Credits, RepoError> {
    let (owner, id) = (avatar.user_id, avatar.id);
    if let Some(cancelled) = trainings::cancel(txn, owner, id).await? {
        cx.after_commit.fal_cancels.extend(cancelled.cancel_url);
    }
    let abandoned = jobs::abandon_for_avatar(txn, owner, id).await?;
    cx.after_commit.fal_cancels.extend(abandoned.cancel_urls);
    let keys = avatars::storage_keys(txn, avatar).await?;
    avatars::delete_owned(txn, owner, id).await?;
    cx.after_commit.delete_keys.extend(keys);
    if matches!(cx.dialog, Dialog::UploadingPhotos { avatar: a } | Dialog::AwaitingRename { avatar: a } if a == id)
    {
        cx.dialog = Dialog::Idle;
    }
    tracing::info!(avatar_id = %id, refunded = %abandoned.refunded, "avatar deleted");
    Ok(abandoned.refunded)
}

/// The name typed for a new avatar or a rename; an invalid one is answered and asked again.
pub fn parse_name(cx: &mut Context, text: &str) -> Option<AvatarName> {
    match AvatarName::parse(text) {
        Ok(name) => Some(name),
        Err(err) => {
            let screen = wizard_screen::name_error(cx.texts(), err);
            cx.send(screen);
            None
        }
    }
}

/// The avatar a menu's button names, fetched with its owner (someone else's, or a deleted
/// one, is `None` and gets the "no avatar" answer); a button from before buttons carried the
/// avatar means the main one.
pub async fn menu_avatar(
    txn: &DatabaseTransaction,
    owner: UserId,
    named: Option<AvatarId>,
) -> Result<Option<Avatar>, RepoError> {
    match named {
        Some(id) => avatars::find_owned(txn, owner, id).await,
        None => avatars::for_generation(txn, owner).await,
    }
}

/// A prompt ready for the model (`english` is its translation, when it needed one): the
/// ratio picker, or queued at once in quick mode with the default ratio.
pub async fn accept_prompt(
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
            style: None,
        };
        return queue(txn, services, cx, owner, avatar, job).await;
    }
    cx.dialog = Dialog::ChoosingRatio {
        avatar,
        prompt: original.to_owned(),
        english: english.map(str::to_owned),
    };
    let screen = generation_screen::ratio_picker(cx.texts(), original, english);
    cx.send(screen);
    Ok(())
}

/// What to generate.
pub struct Job<'a> {
    pub original: &'a str,
    pub english: &'a str,
    pub ratio: AspectRatio,
    /// The library style it is made in, if any.
    pub style: Option<StyleKey>,
}

/// Debits and queues the job in this transaction, or explains why not. A new message, not an
/// edit: the person keeps the picker or result they pressed.
pub async fn queue(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    owner: UserId,
    avatar: Option<Avatar>,
    job: Job<'_>,
) -> Result<(), RepoError> {
    let avatar = match views::ready_avatar(txn, cx, avatar).await? {
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
        views::refuse_over_limit(cx, &cx.texts().blocked_limit_reached, limit);
        return Ok(());
    }
    let new = NewGeneration {
        user: owner,
        avatar: avatar.id,
        prompt_original: job.original,
        prompt_english: job.english,
        ratio: job.ratio,
        cost: services.generation_cost,
        deadline: services.generation_deadline,
        style: job.style,
    };
    match generations::queue(txn, new).await? {
        Queued::Queued { id, position } => {
            tracing::info!(generation_id = %id, position, "generation queued");
            cx.dialog = Dialog::Idle;
            cx.after_commit.jobs_queued = true;
            let screen = generation_screen::queued(cx.texts(), position);
            cx.send(screen);
        }
        Queued::Missing(_) => {
            let balance = ledger::balance(txn, owner).await?;
            let cost = services.generation_cost;
            let screen = generation_screen::not_enough_credits(cx.texts(), cost, balance);
            cx.send(screen);
        }
    }
    Ok(())
}

/// 24 hours ago: the window of a person's daily allowances.
pub fn day_ago() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::days(1)
}

/// A request to the language model: a prompt from a photo, or a translation.
pub struct ModelRequest<'a> {
    pub owner: UserId,
    pub avatar: AvatarId,
    pub kind: PromptJobKind,
    /// The reference photo's Telegram file id, or the text to translate.
    pub input: &'a str,
}

/// Queues the request and makes the chat wait for its answer; `false` (and the reason shown)
/// if the avatar can no longer generate, e.g. it was deleted meanwhile, or the person's
/// allowance for the day is used up.
pub async fn ask_model(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    request: ModelRequest<'_>,
) -> Result<bool, RepoError> {
    let avatar = avatars::find_owned(txn, request.owner, request.avatar).await?;
    if let Err(screen) = views::ready_avatar(txn, cx, avatar).await? {
        cx.dialog = Dialog::Idle;
        cx.send(screen);
        return Ok(false);
    }
    // Free for the person, paid by us: a day's worth each.
    let limit = services.limits.model_requests_per_day;
    let asked = limits::model_requests_since(txn, request.owner, day_ago()).await?;
    if asked >= u64::from(limit) {
        views::refuse_over_limit(cx, &cx.texts().model_limit_reached, limit);
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

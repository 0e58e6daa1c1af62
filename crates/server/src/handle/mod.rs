//! Use cases: one stored update in, its effects out, all inside the caller's transaction.
//! The dispatcher is one `match` on `Intent` calling one function per arm; each use-case
//! module is named as its screens are in `studio_bot_ui::screens`. Use cases do not call each
//! other: what several of them show is in `views`, what several of them do is in `steps`.

mod avatars;
mod context;
mod gallery;
mod generation;
mod main_menu;
mod membership;
mod photo_prompt;
mod prepare;
mod profile;
mod services;
mod steps;
mod styles;
mod views;
mod wizard;

use studio_bot_ui::{AvatarAction, Callback, Dialog, Intent, Menu, Update, intent};
use studio_persistence::repos::avatars as avatar_repo;
use studio_persistence::{DatabaseTransaction, RepoError};

use context::Context;
pub use context::Writes;
pub use photo_prompt::model_answered;
pub use prepare::{Download, Prepared, download, prepare};
pub use services::{PersonLimits, Services};
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Preparing the update (downloading its photo) took longer than its share of the lease.
    #[error("preparing the update took longer than {0:?}")]
    TimedOut(std::time::Duration),
}

/// What must happen after the transaction commits: stored files of deleted rows to remove,
/// and whether generation workers should look for new jobs.
#[derive(Debug, Default)]
pub struct AfterCommit {
    pub delete_keys: Vec<String>,
    pub jobs_queued: bool,
    /// FAL requests to cancel (their training was cancelled).
    pub fal_cancels: Vec<String>,
    /// Whether prompt workers should look for new requests to the language model.
    pub prompts_queued: bool,
    /// Answers to button presses and pre-checkout queries, stored and claimed, to send now.
    pub answers: Vec<studio_persistence::repos::outbox::ClaimedCall>,
    /// Messages that lead their chat, stored and claimed, to send now rather than wait for a
    /// sender's claim.
    pub sends: Vec<studio_persistence::repos::outbox::ClaimedCall>,
    /// Whether calls were left in the outbox for the senders to claim.
    pub queued: bool,
}

impl AfterCommit {
    /// Adds what another update's use case left to do.
    pub fn merge(&mut self, other: Self) {
        self.delete_keys.extend(other.delete_keys);
        self.jobs_queued |= other.jobs_queued;
        self.fal_cancels.extend(other.fal_cancels);
        self.prompts_queued |= other.prompts_queued;
        self.answers.extend(other.answers);
        self.sends.extend(other.sends);
        self.queued |= other.queued;
    }
}

pub async fn update(
    txn: &DatabaseTransaction,
    services: &Services,
    prepared: Prepared,
) -> Result<AfterCommit, HandleError> {
    let Some(update) = prepared.update.as_ref() else {
        // A shape we cannot read is logged and acknowledged: retrying cannot fix it.
        tracing::warn!("update not understood; ignored");
        return Ok(AfterCommit::default());
    };
    let Some(mut cx) = Context::load(txn, update).await? else {
        tracing::debug!("update without a person or chat; ignored");
        return Ok(AfterCommit::default());
    };
    act(txn, services, &mut cx, update, prepared.photo).await?;
    cx.save(txn).await
}

/// Runs a batch of updates (each from its own chat, each in its span) in one transaction:
/// their people and dialogs are read together, each update's use case runs in turn, and
/// their plain messages and dialogs are written together.
pub async fn batch(
    txn: &DatabaseTransaction,
    services: &Services,
    work: Vec<(tracing::Span, Prepared)>,
    mut writes: Writes,
) -> Result<AfterCommit, HandleError> {
    let updates: Vec<Option<&Update>> = work.iter().map(|(_, p)| p.update.as_ref()).collect();
    let contexts = Context::load_many(txn, &updates).await?;
    let mut after = AfterCommit::default();
    for ((span, prepared), cx) in work.iter().zip(contexts) {
        let (Some(update), Some(mut cx)) = (prepared.update.as_ref(), cx) else {
            span.in_scope(|| tracing::debug!("update not understood, or without a chat; ignored"));
            continue;
        };
        act(txn, services, &mut cx, update, prepared.photo.clone())
            .instrument(span.clone())
            .await?;
        after.merge(cx.save_into(txn, &mut writes).await?);
    }
    writes.flush(txn, &mut after).await?;
    Ok(after)
}

/// The use case an update asks for, by its intent in the chat's dialog.
async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    update: &Update,
    photo: Option<prepare::PhotoOutcome>,
) -> Result<(), RepoError> {
    let intent = intent(&cx.dialog, update);
    tracing::debug!(?intent, chat_id = cx.chat, "intent");
    match intent {
        Intent::Start => {
            profile::welcome(txn, services, cx).await?;
            main_menu::start(cx);
        }
        Intent::Help => main_menu::help(cx),
        Intent::Tap(callback) => tap(txn, services, cx, callback).await?,
        Intent::PromoCode(code) => profile::promo_code(txn, services, cx, &code).await?,
        Intent::PromptText { avatar, text } => {
            generation::prompt_text(txn, services, cx, avatar, &text).await?
        }
        Intent::NeedPromptText => generation::need_prompt_text(cx),
        Intent::ReferencePhoto(file) => photo_prompt::reference(txn, services, cx, file).await?,
        Intent::ReferenceRejected(why) => photo_prompt::rejected(cx, why),
        Intent::ModelBusy => photo_prompt::busy(txn, cx).await?,
        Intent::PreCheckout {
            query_id,
            payload,
            currency,
            amount,
        } => {
            profile::pre_checkout(services, cx, query_id, &payload, &currency, amount);
        }
        Intent::Paid {
            charge_id,
            payload,
            currency,
            amount,
        } => {
            profile::paid(txn, cx, &charge_id, &payload, &currency, amount).await?;
        }
        Intent::Refunded { charge_id } => profile::refunded(txn, cx, &charge_id).await?,
        Intent::Stale => views::stale(cx),
        Intent::Unrecognised => views::unrecognised(cx),
        Intent::AvatarName { gender, text } => wizard::name(txn, cx, gender, &text).await?,
        Intent::RenameTo { avatar, text } => avatars::rename_to(txn, cx, avatar, &text).await?,
        Intent::NeedNameText => wizard::need_name_text(cx),
        Intent::Photo(file) => wizard::photo(txn, cx, file.avatar, photo).await?,
        Intent::NeedPhoto { avatar } => wizard::need_photo(txn, cx, avatar).await?,
        Intent::Blocked => membership::blocked(txn, cx).await?,
        Intent::Unblocked => membership::unblocked(txn, cx).await?,
        Intent::Ignore => {}
    }
    Ok(())
}

/// A button press, to the use case of its family.
async fn tap(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    callback: Callback,
) -> Result<(), RepoError> {
    match callback {
        Callback::Menu(menu) => open(txn, services, cx, menu).await,
        Callback::Avatar(AvatarAction::Create) => wizard::create(txn, cx).await,
        Callback::Avatar(AvatarAction::Gender(gender)) => {
            wizard::ask_name(cx, gender);
            Ok(())
        }
        Callback::Avatar(AvatarAction::Card(id, action)) => {
            avatars::act(txn, services, cx, id, action).await
        }
        Callback::Avatar(AvatarAction::Draft(id, action)) => {
            wizard::act(txn, services, cx, id, action).await
        }
        Callback::Profile(action) => profile::act(txn, services, cx, action).await,
        Callback::Generate(action) => generation::act(txn, services, cx, action).await,
        Callback::PhotoPrompt(action) => photo_prompt::act(txn, services, cx, action).await,
        Callback::Gallery(action) => gallery::act(txn, services, cx, action).await,
        Callback::Style(action) => styles::act(txn, services, cx, action).await,
    }
}

/// A main-menu destination: each feature's first screen. Leaving a screen for the menu also
/// leaves its dialog.
async fn open(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    menu: Menu,
) -> Result<(), RepoError> {
    cx.answer_callback(None);
    cx.dialog = Dialog::Idle;
    match menu {
        Menu::Main => main_menu::show(cx),
        Menu::Help => main_menu::show_help(cx),
        Menu::MyAvatars => views::avatar_list(txn, cx).await?,
        Menu::Profile => profile::show(txn, cx).await?,
        Menu::CreateImage => {
            let Some(owner) = cx.user_id() else {
                return Ok(());
            };
            let avatar = avatar_repo::for_generation(txn, owner).await?;
            views::generation_menu(txn, services, cx, avatar).await?
        }
        Menu::MyGallery => {
            let Some(owner) = cx.user_id() else {
                return Ok(());
            };
            gallery::open(txn, services, cx, owner, Default::default()).await?
        }
    }
    Ok(())
}

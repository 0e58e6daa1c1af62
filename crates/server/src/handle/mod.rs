//! Use cases: one stored update in, its effects out, all inside the caller's transaction.
//! The dispatcher is one `match` on `Intent` calling one function per arm.

mod avatars;
mod context;
mod gallery;
mod generate;
mod membership;
mod menu;
mod prepare;
mod profile;
mod prompts;
mod services;
mod wizard;

use sea_orm::DatabaseTransaction;
use studio_bot_ui::{Callback, Intent, intent};
use studio_persistence::RepoError;

use context::Context;
pub use prepare::{Download, Prepared, download, prepare};
pub use prompts::model_answered;
pub use services::{PersonLimits, Services};

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
}

impl AfterCommit {
    /// Adds what another update's use case left to do.
    pub fn merge(&mut self, other: Self) {
        self.delete_keys.extend(other.delete_keys);
        self.jobs_queued |= other.jobs_queued;
        self.fal_cancels.extend(other.fal_cancels);
        self.prompts_queued |= other.prompts_queued;
        self.answers.extend(other.answers);
    }
}

pub async fn update(
    txn: &DatabaseTransaction,
    services: &Services,
    prepared: Prepared,
) -> Result<AfterCommit, HandleError> {
    let Some(update) = prepared.update else {
        // A shape we cannot read is logged and acknowledged: retrying cannot fix it.
        tracing::warn!("update not understood; ignored");
        return Ok(AfterCommit::default());
    };
    let Some(mut cx) = Context::load(txn, &update).await? else {
        tracing::debug!("update without a person or chat; ignored");
        return Ok(AfterCommit::default());
    };
    let intent = intent(&cx.dialog, &update);
    tracing::debug!(?intent, chat_id = cx.chat, "intent");
    match intent {
        Intent::Start => {
            profile::welcome(txn, services, &cx).await?;
            menu::start(&mut cx);
        }
        Intent::Help => menu::help(&mut cx),
        Intent::Tap(Callback::Menu(menu)) => menu::tap(txn, services, &mut cx, menu).await?,
        Intent::Tap(Callback::Avatar(action)) => {
            avatars::act(txn, services, &mut cx, action).await?
        }
        Intent::Tap(Callback::Profile(action)) => {
            profile::act(txn, services, &mut cx, action).await?
        }
        Intent::PromoCode(code) => profile::promo_code(txn, services, &mut cx, &code).await?,
        Intent::Tap(Callback::Generate(action)) => {
            generate::act(txn, services, &mut cx, action).await?
        }
        Intent::Tap(Callback::Gallery(action)) => gallery::act(txn, &mut cx, action).await?,
        Intent::PromptText { avatar, text } => {
            generate::prompt_text(txn, services, &mut cx, avatar, &text).await?
        }
        Intent::NeedPromptText => generate::need_prompt_text(&mut cx),
        Intent::ReferencePhoto(file) => prompts::reference(txn, services, &mut cx, file).await?,
        Intent::ReferenceRejected(why) => prompts::rejected(&mut cx, why),
        Intent::ModelBusy => prompts::busy(txn, &mut cx).await?,
        Intent::PreCheckout {
            query_id,
            payload,
            currency,
            amount,
        } => {
            profile::pre_checkout(services, &mut cx, query_id, &payload, &currency, amount);
        }
        Intent::Paid {
            charge_id,
            payload,
            currency,
            amount,
        } => {
            profile::paid(txn, &mut cx, &charge_id, &payload, &currency, amount).await?;
        }
        Intent::Refunded { charge_id } => profile::refunded(txn, &mut cx, &charge_id).await?,
        Intent::Stale => menu::stale(&mut cx),
        Intent::Unrecognised => menu::unrecognised(&mut cx),
        Intent::AvatarName { gender, text } => wizard::name(txn, &mut cx, gender, &text).await?,
        Intent::RenameTo { avatar, text } => {
            avatars::rename_to(txn, &mut cx, avatar, &text).await?
        }
        Intent::NeedNameText => wizard::need_name_text(&mut cx),
        Intent::Photo(file) => wizard::photo(txn, &mut cx, file.avatar, prepared.photo).await?,
        Intent::NeedPhoto { avatar } => wizard::need_photo(txn, &mut cx, avatar).await?,
        Intent::Blocked => membership::blocked(txn, &cx).await?,
        Intent::Unblocked => membership::unblocked(txn, &cx).await?,
        Intent::Ignore => {}
    }
    cx.save(txn).await
}

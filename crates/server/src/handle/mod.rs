//! Use cases: one stored update in, its effects out, all inside the caller's transaction.
//! The dispatcher is one `match` on `Intent` calling one function per arm.

mod context;
mod membership;
mod menu;

use sea_orm::DatabaseTransaction;
use studio_bot_ui::{Intent, Update, intent};
use studio_persistence::RepoError;
use studio_persistence::repos::inbox::ClaimedUpdate;

use context::Context;

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Repo(#[from] RepoError),
}

pub async fn update(txn: &DatabaseTransaction, claim: &ClaimedUpdate) -> Result<(), HandleError> {
    let update = match Update::parse(&claim.payload) {
        Ok(update) => update,
        Err(err) => {
            // A shape we cannot read is logged and acknowledged: retrying cannot fix it.
            tracing::warn!(error = %err, "update not understood; ignored");
            return Ok(());
        }
    };
    let Some(mut cx) = Context::load(txn, &update).await? else {
        tracing::debug!("update without a person or chat; ignored");
        return Ok(());
    };
    let intent = intent(&cx.dialog, &update);
    tracing::debug!(?intent, chat_id = cx.chat, "intent");
    match intent {
        Intent::Start => menu::start(&mut cx),
        Intent::Help => menu::help(&mut cx),
        Intent::Tap(callback) => menu::tap(&mut cx, callback),
        Intent::Stale => menu::stale(&mut cx),
        Intent::Unrecognised => menu::unrecognised(&mut cx),
        Intent::Blocked => membership::blocked(txn, &cx).await?,
        Intent::Unblocked => membership::unblocked(txn, &cx).await?,
        Intent::Ignore => {}
    }
    cx.save(txn).await?;
    Ok(())
}

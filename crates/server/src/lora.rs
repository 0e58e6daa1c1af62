//! An avatar's trained LoRA weights, which the person paid for. FAL's CDN files expire, so the
//! weights are copied into our storage when the training completes, and when FAL's copy is
//! gone a generation uploads ours to FAL again before it submits.

use studio_domain::AvatarId;
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::avatars;
use studio_providers::fal::{FalClient, FalError};
use studio_providers::storage::{BlobStore, StorageError};

/// Larger than any FLUX LoRA (tens to a few hundred MiB); a bigger file is not weights.
const MAX_LORA_BYTES: u64 = 2 << 30;

#[derive(Debug, thiserror::Error)]
pub enum LoraError {
    #[error(transparent)]
    Fal(#[from] FalError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Repo(#[from] studio_persistence::RepoError),
    /// Neither FAL nor our storage has the weights: the avatar cannot generate.
    #[error("the LoRA weights are gone from FAL and were never kept")]
    Lost,
}

impl LoraError {
    /// Worth another try later (a service unavailable), not a lost avatar.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Fal(err) => err.is_transient(),
            Self::Storage(_) | Self::Repo(_) => true,
            Self::Lost => false,
        }
    }
}

/// Copies the weights at `url` (FAL's CDN) into our storage, a piece at a time: the file can
/// be larger than the pod's memory allows holding at once.
pub async fn keep(
    fal: &FalClient,
    storage: &BlobStore,
    avatar: AvatarId,
    url: &str,
) -> Result<(), LoraError> {
    let mut download = fal.open(url, MAX_LORA_BYTES).await?;
    let mut writer = storage.writer(&avatars::lora_key(avatar));
    loop {
        match download.chunk().await {
            Ok(Some(chunk)) => {
                if let Err(err) = writer.write(&chunk).await {
                    abort(writer).await;
                    return Err(err.into());
                }
            }
            Ok(None) => break,
            Err(err) => {
                abort(writer).await;
                return Err(err.into());
            }
        }
    }
    writer.finish().await?;
    Ok(())
}

async fn abort(writer: studio_providers::storage::BlobWriter) {
    if let Err(err) = writer.abort().await {
        tracing::warn!(error = %err, "partial LoRA copy not aborted");
    }
}

/// A URL FAL can read the avatar's weights from now: `current` while FAL still has it (and
/// then ours is made if an older avatar has none), else our copy uploaded to FAL again and
/// recorded on the avatar.
pub async fn usable_url(
    db: &DatabaseConnection,
    fal: &FalClient,
    storage: &BlobStore,
    avatar: AvatarId,
    current: &str,
) -> Result<String, LoraError> {
    let key = avatars::lora_key(avatar);
    if fal.is_available(current).await? {
        if !storage.exists(&key).await? {
            // Trained before weights were kept: keep them now, while FAL still has them.
            if let Err(err) = keep(fal, storage, avatar, current).await {
                tracing::warn!(error = %err, "LoRA weights not copied; FAL's copy is used");
            }
        }
        return Ok(current.to_owned());
    }
    if !storage.exists(&key).await? {
        return Err(LoraError::Lost);
    }
    let (body, length) = storage.read_body(&key).await?;
    let name = format!("avatar-{}.safetensors", avatar.0);
    let url = fal
        .upload(body, length, "application/octet-stream", &name, None)
        .await?;
    avatars::replace_lora_url(db, avatar, &url).await?;
    tracing::info!(avatar_id = avatar.0, "LoRA weights uploaded to FAL again");
    Ok(url)
}

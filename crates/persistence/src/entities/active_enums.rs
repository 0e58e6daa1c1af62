//! The storage side of the status enums: the only place their labels are spelled for the
//! database. Conversions to the domain enums are exhaustive `match`es in both directions, so a
//! new status does not compile until it is mapped.

use sea_orm::entity::prelude::*;
use studio_domain::{AvatarStatus, GenerationStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "avatar_status")]
pub enum DbAvatarStatus {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "photos_uploading")]
    PhotosUploading,
    #[sea_orm(string_value = "ready_for_training")]
    ReadyForTraining,
    #[sea_orm(string_value = "training")]
    Training,
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "error")]
    Error,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl From<AvatarStatus> for DbAvatarStatus {
    fn from(status: AvatarStatus) -> Self {
        match status {
            AvatarStatus::Draft => Self::Draft,
            AvatarStatus::PhotosUploading => Self::PhotosUploading,
            AvatarStatus::ReadyForTraining => Self::ReadyForTraining,
            AvatarStatus::Training => Self::Training,
            AvatarStatus::Completed => Self::Completed,
            AvatarStatus::Error => Self::Error,
            AvatarStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<DbAvatarStatus> for AvatarStatus {
    fn from(status: DbAvatarStatus) -> Self {
        match status {
            DbAvatarStatus::Draft => Self::Draft,
            DbAvatarStatus::PhotosUploading => Self::PhotosUploading,
            DbAvatarStatus::ReadyForTraining => Self::ReadyForTraining,
            DbAvatarStatus::Training => Self::Training,
            DbAvatarStatus::Completed => Self::Completed,
            DbAvatarStatus::Error => Self::Error,
            DbAvatarStatus::Cancelled => Self::Cancelled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "generation_status")]
pub enum DbGenerationStatus {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl From<GenerationStatus> for DbGenerationStatus {
    fn from(status: GenerationStatus) -> Self {
        match status {
            GenerationStatus::Queued => Self::Queued,
            GenerationStatus::Running => Self::Running,
            GenerationStatus::Completed => Self::Completed,
            GenerationStatus::Failed => Self::Failed,
            GenerationStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<DbGenerationStatus> for GenerationStatus {
    fn from(status: DbGenerationStatus) -> Self {
        match status {
            DbGenerationStatus::Queued => Self::Queued,
            DbGenerationStatus::Running => Self::Running,
            DbGenerationStatus::Completed => Self::Completed,
            DbGenerationStatus::Failed => Self::Failed,
            DbGenerationStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// Where an inbox row (a raw Telegram update) is. Stored as text with a CHECK constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum InboxState {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "dead")]
    Dead,
}

/// Where an outbox row (one Bot API call) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum OutboxState {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "dead")]
    Dead,
}

/// What a prompt job asks the language model for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum PromptJobKind {
    /// A prompt describing a reference photo.
    #[sea_orm(string_value = "vision")]
    Vision,
    /// A prompt's English translation.
    #[sea_orm(string_value = "translation")]
    Translation,
}

/// Where a prompt job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum PromptJobState {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "failed")]
    Failed,
}

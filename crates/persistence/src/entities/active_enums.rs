//! The storage side of the enums: the only place their labels are spelled for the database.
//! Each mirrors a domain enum with exhaustive conversions both ways, so a new variant does not
//! compile until it has a label, and a stored label no variant has is a decode error, never a
//! default. `/readyz` compares these labels with the database's (see `readiness`).

use sea_orm::entity::prelude::*;
use studio_domain::{
    AspectRatio, AvatarStatus, Gender, GenerationFailure, GenerationStatus, Language, LedgerKind,
};

/// A storage enum for the domain enum `$domain`, variant for variant, with its labels.
macro_rules! storage_enum {
    (
        $(#[$meta:meta])*
        $name:ident for $domain:ident { $($variant:ident = $label:literal),+ $(,)? }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
        $(#[$meta])*
        pub enum $name {
            $(#[sea_orm(string_value = $label)] $variant,)+
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => Self::$variant,)+
                }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => Self::$variant,)+
                }
            }
        }
    };
}

storage_enum! {
    #[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "avatar_status")]
    DbAvatarStatus for AvatarStatus {
        Draft = "draft",
        PhotosUploading = "photos_uploading",
        ReadyForTraining = "ready_for_training",
        Training = "training",
        Completed = "completed",
        Error = "error",
        Cancelled = "cancelled",
    }
}

storage_enum! {
    #[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "generation_status")]
    DbGenerationStatus for GenerationStatus {
        Queued = "queued",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

storage_enum! {
    /// `avatars.gender`: text with a CHECK list.
    #[sea_orm(rs_type = "String", db_type = "Text")]
    DbGender for Gender { Male = "male", Female = "female" }
}

storage_enum! {
    /// `generations.aspect_ratio` and `user_settings.default_ratio`.
    #[sea_orm(rs_type = "String", db_type = "Text")]
    DbAspectRatio for AspectRatio {
        Square = "1:1",
        Portrait = "3:4",
        Landscape = "4:3",
        Stories = "9:16",
        Cinema = "16:9",
    }
}

storage_enum! {
    /// `users.ui_language`.
    #[sea_orm(rs_type = "String", db_type = "Text")]
    DbLanguage for Language { Ru = "ru", En = "en" }
}

storage_enum! {
    /// `generations.failure`.
    #[sea_orm(rs_type = "String", db_type = "Text")]
    DbGenerationFailure for GenerationFailure {
        Provider = "provider",
        Rejected = "rejected",
        Nsfw = "nsfw",
        Timeout = "timeout",
        AvatarUnavailable = "avatar_unavailable",
    }
}

storage_enum! {
    /// `ledger.kind`.
    #[sea_orm(rs_type = "String", db_type = "Text")]
    DbLedgerKind for LedgerKind {
        WelcomeBonus = "welcome_bonus",
        TopUp = "top_up",
        Promo = "promo",
        AdminCredit = "admin_credit",
        AdminDebit = "admin_debit",
        TrainingDebit = "training_debit",
        TrainingRefund = "training_refund",
        GenerationDebit = "generation_debit",
        GenerationRefund = "generation_refund",
        PaymentRefund = "payment_refund",
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

impl PromptJobKind {
    /// The kind as metrics and logs name it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Vision => "vision",
            Self::Translation => "translation",
        }
    }
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

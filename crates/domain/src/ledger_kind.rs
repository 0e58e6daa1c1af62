use serde::{Deserialize, Serialize};

/// Why credits moved. The sign of a movement follows from its kind, never from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    WelcomeBonus,
    TopUp,
    Promo,
    AdminCredit,
    AdminDebit,
    TrainingDebit,
    TrainingRefund,
    GenerationDebit,
    GenerationRefund,
    PaymentRefund,
}

impl LedgerKind {
    pub const ALL: [Self; 10] = [
        Self::WelcomeBonus,
        Self::TopUp,
        Self::Promo,
        Self::AdminCredit,
        Self::AdminDebit,
        Self::TrainingDebit,
        Self::TrainingRefund,
        Self::GenerationDebit,
        Self::GenerationRefund,
        Self::PaymentRefund,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            Self::WelcomeBonus => "welcome_bonus",
            Self::TopUp => "top_up",
            Self::Promo => "promo",
            Self::AdminCredit => "admin_credit",
            Self::AdminDebit => "admin_debit",
            Self::TrainingDebit => "training_debit",
            Self::TrainingRefund => "training_refund",
            Self::GenerationDebit => "generation_debit",
            Self::GenerationRefund => "generation_refund",
            Self::PaymentRefund => "payment_refund",
        }
    }

    /// +1 for money in, -1 for money out.
    pub const fn sign(self) -> i64 {
        match self {
            Self::WelcomeBonus
            | Self::TopUp
            | Self::Promo
            | Self::AdminCredit
            | Self::TrainingRefund
            | Self::GenerationRefund => 1,
            Self::AdminDebit
            | Self::TrainingDebit
            | Self::GenerationDebit
            | Self::PaymentRefund => -1,
        }
    }
}

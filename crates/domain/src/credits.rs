use std::fmt;

use serde::{Deserialize, Serialize};

/// A non-negative amount of credits, the bot's only money. No float, no public arithmetic.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Credits(u32);

/// How many credits a debit lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} credits missing")]
pub struct Missing(pub Credits);

impl Credits {
    pub const ZERO: Self = Self(0);

    pub const fn new(amount: u32) -> Self {
        Self(amount)
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    /// A balance read from a ledger sum; a negative sum (which the ledger forbids) reads as 0.
    pub fn from_balance(sum: i64) -> Self {
        Self(u32::try_from(sum.max(0)).unwrap_or(u32::MAX))
    }

    pub fn debit(self, cost: Credits) -> Result<Credits, Missing> {
        self.0
            .checked_sub(cost.0)
            .map(Credits)
            .ok_or_else(|| Missing(Credits(cost.0 - self.0)))
    }

    pub fn credit(self, amount: Credits) -> Credits {
        Credits(self.0.saturating_add(amount.0))
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::{Credits, Missing};

    #[test]
    fn debit_reports_what_is_missing() {
        assert_eq!(Credits::new(10).debit(Credits::new(4)), Ok(Credits::new(6)));
        assert_eq!(Credits::new(10).debit(Credits::new(10)), Ok(Credits::ZERO));
        assert_eq!(
            Credits::new(3).debit(Credits::new(5)),
            Err(Missing(Credits::new(2)))
        );
    }

    #[test]
    fn negative_ledger_sum_reads_as_zero() {
        assert_eq!(Credits::from_balance(-5), Credits::ZERO);
        assert_eq!(Credits::from_balance(150), Credits::new(150));
    }
}

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::IllegalTransition;

/// Where a generation job is: `queued → running → completed | failed | cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenerationStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl GenerationStatus {
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// A running job may go back to `queued` when its lease expires on a dead replica.
    pub fn can_become(self, next: Self) -> bool {
        use GenerationStatus::*;
        match self {
            Queued => matches!(next, Running | Failed | Cancelled),
            Running => matches!(next, Queued | Completed | Failed | Cancelled),
            Completed | Failed | Cancelled => false,
        }
    }

    pub fn transition(self, next: Self) -> Result<Self, IllegalTransition<Self>> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                kind: "generation",
                from: self,
                to: next,
            })
        }
    }

    pub fn is_final(self) -> bool {
        match self {
            Self::Queued | Self::Running => false,
            Self::Completed | Self::Failed | Self::Cancelled => true,
        }
    }
}

impl fmt::Display for GenerationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::GenerationStatus::{self, *};

    const LEGAL: &[(GenerationStatus, GenerationStatus)] = &[
        (Queued, Running),
        (Queued, Failed),
        (Queued, Cancelled),
        (Running, Queued),
        (Running, Completed),
        (Running, Failed),
        (Running, Cancelled),
    ];

    #[test]
    fn every_pair_is_legal_exactly_when_listed() {
        for from in GenerationStatus::ALL {
            for to in GenerationStatus::ALL {
                let listed = LEGAL.contains(&(from, to));
                assert_eq!(from.can_become(to), listed, "{from} -> {to}");
                assert_eq!(from.transition(to).is_ok(), listed, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn final_statuses_have_no_way_out() {
        for from in GenerationStatus::ALL {
            let exits = GenerationStatus::ALL.iter().any(|to| from.can_become(*to));
            assert_eq!(from.is_final(), !exits, "{from}");
        }
    }
}

/// Why a generation failed, as the person is told it. Every failure refunds the job's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GenerationFailure {
    /// The provider failed (5xx after retries, broken answers).
    Provider,
    /// The provider refused the request (4xx): retrying cannot help.
    Rejected,
    /// The safety checker flagged the image; it is not delivered.
    Nsfw,
    /// No result before the job's deadline.
    Timeout,
    /// The avatar is gone or no longer usable (deleted, not trained).
    AvatarUnavailable,
}

impl GenerationFailure {
    pub const ALL: [Self; 5] = [
        Self::Provider,
        Self::Rejected,
        Self::Nsfw,
        Self::Timeout,
        Self::AvatarUnavailable,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Rejected => "rejected",
            Self::Nsfw => "nsfw",
            Self::Timeout => "timeout",
            Self::AvatarUnavailable => "avatar_unavailable",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.label() == label)
    }
}

#[cfg(test)]
mod tests {
    use super::GenerationFailure;

    #[test]
    fn labels_round_trip() {
        for failure in GenerationFailure::ALL {
            assert_eq!(
                GenerationFailure::from_label(failure.label()),
                Some(failure)
            );
        }
    }
}

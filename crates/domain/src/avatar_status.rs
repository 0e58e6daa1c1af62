use std::fmt;

use serde::{Deserialize, Serialize};

use crate::IllegalTransition;

/// Where an avatar is in its life: the one status type, from the database to the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvatarStatus {
    Draft,
    PhotosUploading,
    ReadyForTraining,
    Training,
    Completed,
    Error,
    Cancelled,
}

/// Why an avatar cannot generate images yet; each reason has its own explanation and next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    Untrained,
    NeedPhotos,
    StartTraining,
    InProgress,
    Failed,
    Cancelled,
}

impl AvatarStatus {
    /// Every status, in lifecycle order; the database enum must have exactly these labels.
    pub const ALL: [Self; 7] = [
        Self::Draft,
        Self::PhotosUploading,
        Self::ReadyForTraining,
        Self::Training,
        Self::Completed,
        Self::Error,
        Self::Cancelled,
    ];

    /// The lower-case label used in storage (PostgreSQL enum label, SQLite text).
    pub const fn label(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::PhotosUploading => "photos_uploading",
            Self::ReadyForTraining => "ready_for_training",
            Self::Training => "training",
            Self::Completed => "completed",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn can_generate(self) -> Result<(), NotReady> {
        match self {
            Self::Completed => Ok(()),
            Self::Draft => Err(NotReady::Untrained),
            Self::PhotosUploading => Err(NotReady::NeedPhotos),
            Self::ReadyForTraining => Err(NotReady::StartTraining),
            Self::Training => Err(NotReady::InProgress),
            Self::Error => Err(NotReady::Failed),
            Self::Cancelled => Err(NotReady::Cancelled),
        }
    }

    /// Whether the lifecycle allows moving from `self` to `next`.
    ///
    /// Photos can be added and removed while a draft is open, so the three pre-training
    /// statuses move freely among themselves; training can only start from a full set of
    /// photos, and its three outcomes are final.
    pub fn can_become(self, next: Self) -> bool {
        use AvatarStatus::*;
        match self {
            Draft => matches!(next, PhotosUploading | Cancelled),
            PhotosUploading => matches!(next, Draft | ReadyForTraining | Cancelled),
            ReadyForTraining => matches!(next, PhotosUploading | Training | Cancelled),
            Training => matches!(next, Completed | Error | Cancelled),
            Completed | Error | Cancelled => false,
        }
    }

    pub fn transition(self, next: Self) -> Result<Self, IllegalTransition<Self>> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                kind: "avatar",
                from: self,
                to: next,
            })
        }
    }

    /// The status a draft should have with `photos` uploaded, given the training minimum.
    pub fn for_photo_count(photos: usize, minimum: usize) -> Self {
        match photos {
            0 => Self::Draft,
            n if n < minimum => Self::PhotosUploading,
            _ => Self::ReadyForTraining,
        }
    }
}

impl fmt::Display for AvatarStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::AvatarStatus::{self, *};

    const LEGAL: &[(AvatarStatus, AvatarStatus)] = &[
        (Draft, PhotosUploading),
        (Draft, Cancelled),
        (PhotosUploading, Draft),
        (PhotosUploading, ReadyForTraining),
        (PhotosUploading, Cancelled),
        (ReadyForTraining, PhotosUploading),
        (ReadyForTraining, Training),
        (ReadyForTraining, Cancelled),
        (Training, Completed),
        (Training, Error),
        (Training, Cancelled),
    ];

    #[test]
    fn every_pair_is_legal_exactly_when_listed() {
        for from in AvatarStatus::ALL {
            for to in AvatarStatus::ALL {
                let listed = LEGAL.contains(&(from, to));
                assert_eq!(from.can_become(to), listed, "{from} -> {to}");
                assert_eq!(from.transition(to).is_ok(), listed, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn completed_cannot_train_again() {
        let err = Completed.transition(Training).unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal avatar transition completed -> training"
        );
    }

    #[test]
    fn only_completed_can_generate() {
        for status in AvatarStatus::ALL {
            assert_eq!(
                status.can_generate().is_ok(),
                status == Completed,
                "{status}"
            );
        }
    }

    #[test]
    fn labels_are_lower_case_and_match_serde() {
        for status in AvatarStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.label()));
            assert_eq!(status.label(), status.label().to_lowercase());
        }
    }

    #[test]
    fn photo_count_decides_draft_status() {
        assert_eq!(AvatarStatus::for_photo_count(0, 10), Draft);
        assert_eq!(AvatarStatus::for_photo_count(9, 10), PhotosUploading);
        assert_eq!(AvatarStatus::for_photo_count(10, 10), ReadyForTraining);
        assert_eq!(AvatarStatus::for_photo_count(20, 10), ReadyForTraining);
    }
}

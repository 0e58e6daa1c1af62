use serde::{Deserialize, Serialize};
use studio_domain::{AvatarId, Gender, PromptJobId};

/// What the bot is waiting for in a chat. Saved as JSON with the update that changed it, so
/// restarts and other replicas continue the same conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Dialog {
    #[default]
    Idle,
    /// The wizard asked for the new avatar's name.
    AwaitingName { gender: Gender },
    /// Photos sent now belong to this draft.
    UploadingPhotos { avatar: AvatarId },
    /// The next text renames this avatar.
    AwaitingRename { avatar: AvatarId },
    /// The next text is a promo code.
    AwaitingPromo,
    /// The next text is a prompt for this avatar.
    AwaitingPrompt { avatar: AvatarId },
    /// The prompt waits for its aspect ratio. `english` is its translation, when it needed one.
    ChoosingRatio {
        avatar: AvatarId,
        prompt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        english: Option<String>,
    },
    /// The next photo is a reference a prompt for this avatar is made from.
    AwaitingReference { avatar: AvatarId },
    /// The language model works on `job` (a photo's prompt, or a translation); its answer is
    /// shown only while the chat still waits for it.
    AwaitingModel { avatar: AvatarId, job: PromptJobId },
    /// A prompt proposed from a photo waits for Generate, Edit or Cancel.
    ReviewingPrompt { avatar: AvatarId, prompt: String },
}

impl Dialog {
    /// Reads a stored dialog; one this version cannot read starts over at `Idle`.
    pub fn from_stored(json: Option<&str>) -> Self {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"state\":\"idle\"}"))
    }
}

#[cfg(test)]
mod tests {
    use studio_domain::{AvatarId, Gender, PromptJobId};

    use super::Dialog;

    #[test]
    fn survives_storage_and_forgets_unknown_states() {
        for dialog in [
            Dialog::Idle,
            Dialog::AwaitingName {
                gender: Gender::Female,
            },
            Dialog::UploadingPhotos {
                avatar: AvatarId(7),
            },
            Dialog::AwaitingRename {
                avatar: AvatarId(8),
            },
            Dialog::ChoosingRatio {
                avatar: AvatarId(9),
                prompt: "кот".into(),
                english: Some("a cat".into()),
            },
            Dialog::AwaitingModel {
                avatar: AvatarId(9),
                job: PromptJobId(4),
            },
        ] {
            assert_eq!(Dialog::from_stored(Some(&dialog.to_stored())), dialog);
        }
        assert_eq!(
            Dialog::from_stored(Some("{\"state\":\"from_the_future\"}")),
            Dialog::Idle
        );
        assert_eq!(Dialog::from_stored(None), Dialog::Idle);
        // Stored before prompts were translated.
        assert_eq!(
            Dialog::from_stored(Some(
                r#"{"state":"choosing_ratio","avatar":3,"prompt":"a knight"}"#
            )),
            Dialog::ChoosingRatio {
                avatar: AvatarId(3),
                prompt: "a knight".into(),
                english: None
            }
        );
    }
}

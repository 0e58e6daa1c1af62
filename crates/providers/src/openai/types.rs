//! The chat completion answer as far as we read it, and the structure a photo is described in.

use serde::Deserialize;
use serde_json::{Value, json};

/// How much of the person the reference shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShotType {
    CloseUp,
    HalfBody,
    FullBody,
}

/// What the vision model sees in a reference photo, and the prompt it proposes from it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhotoDescription {
    pub shot_type: ShotType,
    pub pose: String,
    pub lighting: String,
    pub setting: String,
    pub clothing: String,
    pub camera: String,
    /// The English prompt for a photorealistic portrait of the avatar's person.
    pub prompt: String,
}

impl PhotoDescription {
    /// The JSON schema the model must answer in (`response_format`, strict).
    pub(crate) fn schema() -> Value {
        let text = json!({"type": "string"});
        json!({
            "type": "object",
            "properties": {
                "shot_type": {"type": "string", "enum": ["close_up", "half_body", "full_body"]},
                "pose": text,
                "lighting": text,
                "setting": text,
                "clothing": text,
                "camera": text,
                "prompt": text,
            },
            "required": ["shot_type", "pose", "lighting", "setting", "clothing", "camera", "prompt"],
            "additionalProperties": false,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Completion {
    pub choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    pub message: AnswerMessage,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnswerMessage {
    pub content: Option<String>,
    pub refusal: Option<String>,
}

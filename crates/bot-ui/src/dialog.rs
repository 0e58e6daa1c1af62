use serde::{Deserialize, Serialize};

/// What the bot is waiting for in a chat. Saved as JSON with the update that changed it, so
/// restarts and other replicas continue the same conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Dialog {
    #[default]
    Idle,
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

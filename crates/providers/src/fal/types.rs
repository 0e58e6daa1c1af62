use serde::Deserialize;
use serde_json::Value;

/// The queue's answer to a submission. Status, result and cancel URLs are used as returned:
/// for models with a sub-path they differ from the submission path.
#[derive(Debug, Clone, Deserialize)]
pub struct QueuedRequest {
    pub request_id: String,
    pub status_url: String,
    pub response_url: String,
    pub cancel_url: String,
}

/// Where a request is, from its status URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestStatus {
    InQueue { position: Option<u64> },
    InProgress,
    Completed,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StatusBody {
    pub status: String,
    pub queue_position: Option<u64>,
}

/// `fal-ai/flux-lora`'s output.
#[derive(Debug, Clone, Deserialize)]
pub struct FluxLoraOutput {
    pub images: Vec<FalImage>,
    #[serde(default)]
    pub has_nsfw_concepts: Vec<bool>,
    pub seed: Option<u64>,
}

impl FluxLoraOutput {
    /// The safety checker flagged the (first) image: it comes back black and is not shown.
    pub fn is_nsfw(&self) -> bool {
        self.has_nsfw_concepts.first().copied().unwrap_or(false)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct FalImage {
    pub url: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum WebhookStatus {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ERROR")]
    Error,
}

/// What FAL posts to our webhook when a request ends.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookBody {
    pub request_id: String,
    pub gateway_request_id: Option<String>,
    pub status: WebhookStatus,
    pub error: Option<String>,
    pub payload: Option<Value>,
    pub payload_error: Option<String>,
}

/// `fal-ai/flux-lora-portrait-trainer`'s output: the LoRA is all we keep.
#[derive(Debug, Clone, Deserialize)]
pub struct TrainerOutput {
    pub diffusers_lora_file: FalFile,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FalFile {
    pub url: String,
}

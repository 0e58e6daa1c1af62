//! FAL: the queue API (submit, status, result, cancel), result downloads, and the signed
//! webhooks it sends when a request finishes.

mod client;
mod error;
mod models;
mod types;
mod webhook;

pub use client::{Download, FalClient};
pub use error::FalError;
pub use models::{
    FastTrainingInput, FluxLoraInput, ImageModel, LoraWeight, ModelInput, PortraitTrainerInput,
    Trainer, TrainerInput, TrainingRequest, UnknownModel,
};
pub use types::{
    FalFile, FalImage, FluxLoraOutput, QueuedRequest, RequestStatus, TrainerOutput, WebhookBody,
    WebhookStatus,
};
pub use webhook::{SignedHeaders, VerifyError, WebhookVerifier};

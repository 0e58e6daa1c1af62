//! FAL: the queue API (submit, status, result, cancel), result downloads, and the signed
//! webhooks it sends when a request finishes.

mod client;
mod error;
mod types;
mod webhook;

pub use client::FalClient;
pub use error::FalError;
pub use types::{
    FalFile, FalImage, FluxLoraOutput, QueuedRequest, RequestStatus, TrainerOutput, WebhookBody,
    WebhookStatus,
};
pub use webhook::{SignedHeaders, VerifyError, WebhookVerifier};

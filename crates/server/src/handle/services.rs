use std::time::Duration;

use studio_domain::styles::{Library, PackPrices};
use studio_domain::{Credits, TopUpPackages};
use studio_providers::fal::FalClient;
use studio_providers::openai::OpenAiClient;
use studio_providers::storage::BlobStore;
use studio_providers::telegram::TelegramClient;

/// What use cases need from outside the database.
pub struct Services {
    pub fal: FalClient,
    pub telegram: TelegramClient,
    pub storage: BlobStore,
    pub training_cost: Credits,
    pub packages: TopUpPackages,
    pub welcome_bonus: Credits,
    pub generation_cost: Credits,
    /// How long a queued image may take before it fails and is refunded.
    pub generation_deadline: Duration,
    /// How long a training may take before it fails and is refunded.
    pub training_deadline: Duration,
    /// The language model for prompts from photos and translations; `None` without
    /// OPENAI_API_KEY, and then both are refused with a clear answer.
    pub openai: Option<OpenAiClient>,
    /// How long a prompt from a photo or a translation may take, retries included.
    pub prompt_deadline: Duration,
    pub limits: PersonLimits,
    /// The style library, validated at start-up.
    pub styles: &'static Library,
    pub pack_prices: PackPrices,
}

/// What one person may do that costs us and not them.
#[derive(Debug, Clone, Copy)]
pub struct PersonLimits {
    /// Free requests to the language model in 24 hours.
    pub model_requests_per_day: u32,
    /// Images the safety checker blocked (refunded) in 24 hours before generating pauses.
    pub blocked_images_per_day: u32,
    /// Wrong promo codes in an hour.
    pub promo_attempts_per_hour: u32,
}

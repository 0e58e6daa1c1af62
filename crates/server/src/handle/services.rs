use studio_domain::{Credits, TopUpPackages};
use studio_providers::storage::BlobStore;
use studio_providers::telegram::TelegramClient;

/// What use cases need from outside the database.
pub struct Services {
    pub telegram: TelegramClient,
    pub storage: BlobStore,
    pub training_cost: Credits,
    pub packages: TopUpPackages,
    pub welcome_bonus: Credits,
}

//! The configuration contract of `docs/configuration.md`: environment variables (and `.env`),
//! each with its default. A missing or invalid value stops start-up with one line naming it.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;
use studio_domain::styles::Library;

use secrecy::{ExposeSecret, SecretString};
use studio_providers::fal::{ImageModel, Trainer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `--help` shows each variable's name but never its value, for every argument: help lands in
/// terminals and CI logs, and a value may be a password (`DATABASE_URL`) or a key.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_args(|arg| arg.hide_env_values(true)))]
pub struct Config {
    /// Database URL: SQLite for one machine, `postgres://…` in production.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/avatar-studio.db?mode=rwc"
    )]
    pub database_url: DatabaseUrl,
    /// Largest number of pooled database connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,
    /// Apply pending migrations when `serve` starts (turn off when a migration Job does it).
    #[arg(long, env = "RUN_MIGRATIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub run_migrations: bool,
    /// HTTP listener for the webhook, health and metrics.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen_addr: SocketAddr,
    /// Token from @BotFather.
    #[arg(long, env = "TELEGRAM_BOT_TOKEN", hide_env_values = true)]
    pub telegram_bot_token: Option<SecretString>,
    /// Bot API base URL.
    #[arg(
        long,
        env = "TELEGRAM_API_URL",
        default_value = "https://api.telegram.org"
    )]
    pub telegram_api_url: String,
    /// Value Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`; required in webhook mode.
    #[arg(long, env = "TELEGRAM_WEBHOOK_SECRET", hide_env_values = true)]
    pub telegram_webhook_secret: Option<SecretString>,
    /// External base URL. Set: webhook mode. Unset: polling mode.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Path of the Telegram webhook behind the reverse proxy.
    #[arg(long, env = "WEBHOOK_PATH", default_value = "/telegram/webhook")]
    pub webhook_path: String,
    /// Messages per second the bot sends in total, shared by every replica through the
    /// database. Telegram allows about 30 per bot; 28, evenly spaced, leaves room for jitter.
    #[arg(long, env = "TELEGRAM_GLOBAL_RATE", default_value = "28")]
    pub telegram_global_rate: NonZeroU32,
    /// Messages per second the bot sends to one chat, whichever replica sends them (Telegram
    /// asks for about 1; groups also get at most 20 a minute).
    #[arg(long, env = "TELEGRAM_CHAT_RATE", default_value = "1")]
    pub telegram_chat_rate: NonZeroU32,
    /// Batches of updates the dispatcher works on at once (each batch holds a connection).
    #[arg(long, env = "DISPATCH_CONCURRENCY", default_value_t = 4)]
    pub dispatch_concurrency: u32,
    /// Updates per batch; a batch shares one transaction (each update from another chat).
    #[arg(long, env = "DISPATCH_BATCH", default_value_t = 64)]
    pub dispatch_batch: u32,
    /// Bot API calls in flight at once.
    #[arg(long, env = "SEND_CONCURRENCY", default_value_t = 64)]
    pub send_concurrency: u32,
    /// Seconds a claimed update is this replica's while it lives; outgoing calls get twice as
    /// long, to cover Telegram's pacing waits. A replica that dies (stops beating) gives its
    /// claims up within seconds, whatever this says.
    #[arg(long, env = "LEASE_SECS", default_value_t = 60)]
    pub lease_secs: u64,
    /// Days settled inbox and outbox rows are kept (dead ones are kept until an operator acts).
    #[arg(long, env = "QUEUE_RETENTION_DAYS", default_value_t = 7)]
    pub queue_retention_days: u64,
    /// Seconds a SIGTERM waits for in-flight work before exiting.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 20)]
    pub shutdown_timeout_secs: u64,
    /// Seconds between SIGTERM and closing the listener, while `/readyz` already answers 503,
    /// so load balancers stop routing here before connections are refused.
    #[arg(long, env = "DRAIN_DELAY_SECS", default_value_t = 0)]
    pub drain_delay_secs: u64,
    /// FAL API key (`Authorization: Key …`); needed for training and generation.
    #[arg(long, env = "FAL_KEY", hide_env_values = true)]
    pub fal_key: Option<SecretString>,
    #[arg(long, env = "FAL_QUEUE_URL", default_value = "https://queue.fal.run")]
    pub fal_queue_url: String,
    #[arg(long, env = "FAL_REST_URL", default_value = "https://rest.fal.ai")]
    pub fal_rest_url: String,
    /// The FAL user id webhooks must be for (the `x-fal-webhook-user-id` of your account's
    /// webhooks). FAL signs every account's webhooks with the same keys: unset, another
    /// account's signed webhook to our URL is taken too.
    #[arg(long, env = "FAL_USER_ID")]
    pub fal_user_id: Option<String>,
    /// Key of an OpenAI-compatible API; needed for prompts from photos and translation.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<SecretString>,
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub openai_base_url: String,
    #[arg(long, env = "OPENAI_MODEL", default_value = "gpt-4o-mini")]
    pub openai_model: String,
    /// Requests to the language model in flight at once on this replica; each waits on the
    /// network, and the account's rate limit is the real bound.
    #[arg(long, env = "OPENAI_CONCURRENCY", default_value_t = 16)]
    pub openai_concurrency: u32,
    /// Object storage: `file://dir` or `s3://bucket/prefix`.
    #[arg(long, env = "STORAGE_URL", default_value = "file://data/storage")]
    pub storage_url: String,
    /// Credits one generated image costs.
    #[arg(long, env = "GENERATION_COST", default_value_t = 5)]
    pub generation_cost: u32,
    /// Telegram Stars packages on sale, as credits:stars pairs.
    #[arg(
        long,
        env = "TOPUP_PACKAGES",
        default_value = "100:50,300:135,1000:400"
    )]
    pub topup_packages: studio_domain::TopUpPackages,
    /// Prices of style packs, as pack:credits pairs; a pack not listed costs its images at
    /// GENERATION_COST less a fifth.
    #[arg(long, env = "STYLE_PACK_PRICES", default_value = "")]
    pub style_pack_prices: studio_domain::styles::PackPrices,
    /// Credits a new user gets once, at their first /start.
    #[arg(long, env = "WELCOME_BONUS", default_value_t = 0)]
    pub welcome_bonus: u32,
    /// Credits one avatar training costs.
    #[arg(long, env = "TRAINING_COST", default_value_t = 150)]
    pub training_cost: u32,
    /// Generation job steps run at once by this replica (a job waiting on FAL takes none).
    #[arg(long, env = "WORKER_CONCURRENCY", default_value_t = 8)]
    pub worker_concurrency: u32,
    /// Generations one person may have running at once; more wait in the queue.
    #[arg(long, env = "GENERATIONS_PER_USER", default_value_t = 2)]
    pub generations_per_user: u32,
    /// Free requests to the language model (prompts from photos, translations) one person may
    /// make in 24 hours.
    #[arg(long, env = "MODEL_REQUESTS_PER_DAY", default_value_t = 30)]
    pub model_requests_per_day: u32,
    /// Images of one person the safety checker may block (each refunded) in 24 hours before
    /// that person's generating pauses until the oldest is a day old.
    #[arg(long, env = "BLOCKED_IMAGES_PER_DAY", default_value_t = 5)]
    pub blocked_images_per_day: u32,
    /// Wrong promo codes one person may try in an hour.
    #[arg(long, env = "PROMO_ATTEMPTS_PER_HOUR", default_value_t = 5)]
    pub promo_attempts_per_hour: u32,
    /// Seconds a generation may take from queueing before it fails and is refunded.
    #[arg(long, env = "GENERATION_DEADLINE_SECS", default_value_t = 600)]
    pub generation_deadline_secs: u64,
    /// FAL model for images (one whose input this build knows: fal-ai/flux-lora).
    #[arg(long, env = "GENERATION_MODEL", default_value = "fal-ai/flux-lora")]
    pub generation_model: ImageModel,
    /// Weight of the avatar's LoRA.
    #[arg(long, env = "LORA_SCALE", default_value_t = 1.0)]
    pub lora_scale: f64,
    /// Seconds from submission to the first status poll (the webhook usually comes first).
    #[arg(long, env = "FAL_POLL_SECS", default_value_t = 10)]
    pub fal_poll_secs: u64,
    /// FAL model that trains avatars: fal-ai/flux-lora-portrait-trainer or
    /// fal-ai/flux-lora-fast-training (each gets its own input).
    #[arg(
        long,
        env = "TRAINING_MODEL",
        default_value = "fal-ai/flux-lora-portrait-trainer"
    )]
    pub training_model: Trainer,
    /// Training steps.
    #[arg(long, env = "TRAINING_STEPS", default_value_t = 2500)]
    pub training_steps: u32,
    /// Training learning rate (the portrait trainer's; the fast trainer takes none).
    #[arg(long, env = "TRAINING_LEARNING_RATE", default_value_t = 0.0002)]
    pub training_learning_rate: f64,
    /// Seconds a training may take before it fails and is refunded.
    #[arg(long, env = "TRAINING_DEADLINE_SECS", default_value_t = 3600)]
    pub training_deadline_secs: u64,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
}

/// `DATABASE_URL`, whose `Debug` hides the password (and the query, where `sslpassword` may
/// sit), so a `Config` that ends up in a log or a panic message does not carry it. It reads as
/// the `&str` the drivers take.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl std::ops::Deref for DatabaseUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl DatabaseUrl {
    /// The URL fit to print: password as `***`, no query or fragment; `None` if unparsable.
    pub fn redacted(&self) -> Option<String> {
        let mut url = reqwest::Url::parse(&self.0).ok()?;
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        url.set_query(None);
        url.set_fragment(None);
        Some(url.into())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.redacted() {
            Some(url) => f.debug_tuple("DatabaseUrl").field(&url).finish(),
            None => f.write_str("DatabaseUrl([unparsable, not shown])"),
        }
    }
}

/// One line naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// How updates reach us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Webhook { url: String },
    Polling,
}

impl Config {
    /// The style library shipped in the binary, checked (every template has the trigger
    /// slot, every name both languages): a broken one stops start-up with its file named.
    pub fn style_library(&self) -> Result<&'static Library, ConfigError> {
        Library::builtin().map_err(|err| invalid("styles", err.to_string()))
    }

    /// Checks rules across fields; `serve`, `set-webhook` and `check` call it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let token = self.bot_token()?;
        if !token.expose_secret().contains(':') {
            return Err(invalid(
                "TELEGRAM_BOT_TOKEN",
                "expected the form 123456:ABC… from @BotFather",
            ));
        }
        http_url("TELEGRAM_API_URL", &self.telegram_api_url)?;
        http_url("FAL_QUEUE_URL", &self.fal_queue_url)?;
        http_url("FAL_REST_URL", &self.fal_rest_url)?;
        http_url("OPENAI_BASE_URL", &self.openai_base_url)?;
        if !self.webhook_path.starts_with('/') {
            return Err(invalid("WEBHOOK_PATH", "must start with /"));
        }
        if let Some(url) = &self.public_url {
            webhook_url(url)?;
            let secret = self.telegram_webhook_secret.as_ref().ok_or_else(|| {
                invalid("TELEGRAM_WEBHOOK_SECRET", "required when PUBLIC_URL is set")
            })?;
            validate_secret(secret.expose_secret())?;
        }
        if !(self.storage_url.starts_with("file://") || self.storage_url.starts_with("s3://")) {
            return Err(invalid("STORAGE_URL", "expected file://… or s3://…"));
        }
        for (variable, value) in [
            ("DISPATCH_CONCURRENCY", self.dispatch_concurrency),
            ("DISPATCH_BATCH", self.dispatch_batch),
            ("SEND_CONCURRENCY", self.send_concurrency),
            ("WORKER_CONCURRENCY", self.worker_concurrency),
            ("OPENAI_CONCURRENCY", self.openai_concurrency),
            ("GENERATIONS_PER_USER", self.generations_per_user),
            ("MODEL_REQUESTS_PER_DAY", self.model_requests_per_day),
            ("BLOCKED_IMAGES_PER_DAY", self.blocked_images_per_day),
            ("PROMO_ATTEMPTS_PER_HOUR", self.promo_attempts_per_hour),
        ] {
            if value == 0 {
                return Err(invalid(variable, "must be at least 1"));
            }
        }
        let library = self.style_library()?;
        self.style_pack_prices
            .check(library)
            .map_err(|err| invalid("STYLE_PACK_PRICES", err.to_string()))?;
        if !(self.lora_scale.is_finite() && (0.0..=4.0).contains(&self.lora_scale)) {
            return Err(invalid("LORA_SCALE", "must be between 0 and 4"));
        }
        if !(self.training_learning_rate.is_finite() && self.training_learning_rate > 0.0) {
            return Err(invalid(
                "TRAINING_LEARNING_RATE",
                "must be a positive number",
            ));
        }
        if self.training_deadline_secs == 0 || self.training_steps == 0 {
            return Err(invalid(
                "TRAINING_DEADLINE_SECS",
                "deadline and TRAINING_STEPS must be at least 1",
            ));
        }
        if self.generation_deadline_secs == 0 {
            return Err(invalid("GENERATION_DEADLINE_SECS", "must be at least 1"));
        }
        Ok(())
    }

    pub fn bot_token(&self) -> Result<&SecretString, ConfigError> {
        self.telegram_bot_token
            .as_ref()
            .ok_or_else(|| invalid("TELEGRAM_BOT_TOKEN", "required (the token from @BotFather)"))
    }

    pub fn mode(&self) -> Mode {
        match &self.public_url {
            Some(base) => Mode::Webhook {
                url: format!("{}{}", base.trim_end_matches('/'), self.webhook_path),
            },
            None => Mode::Polling,
        }
    }

    /// Where FAL posts results: under `PUBLIC_URL`, so in webhook mode only.
    pub fn fal_webhook_url(&self) -> Option<String> {
        self.public_url.as_ref().map(|base| {
            format!(
                "{}{}",
                base.trim_end_matches('/'),
                crate::routes::FAL_WEBHOOK_PATH
            )
        })
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.max(1))
    }

    pub fn drain_delay(&self) -> Duration {
        Duration::from_secs(self.drain_delay_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

fn http_url(variable: &'static str, url: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        Ok(_) => Err(invalid(variable, "must be an http(s) URL")),
        Err(e) => Err(invalid(variable, format!("not a URL: {e}"))),
    }
}

/// Telegram delivers webhooks only over HTTPS, and only to ports 443, 80, 88 and 8443: any
/// other `PUBLIC_URL` would be refused by `setWebhook`, after the deploy.
fn webhook_url(url: &str) -> Result<(), ConfigError> {
    const PORTS: [u16; 4] = [443, 80, 88, 8443];
    let parsed =
        reqwest::Url::parse(url).map_err(|e| invalid("PUBLIC_URL", format!("not a URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(invalid(
            "PUBLIC_URL",
            "Telegram delivers webhooks only to https:// URLs",
        ));
    }
    match parsed.port_or_known_default() {
        Some(port) if PORTS.contains(&port) => Ok(()),
        _ => Err(invalid(
            "PUBLIC_URL",
            "Telegram delivers webhooks only to ports 443, 80, 88 and 8443",
        )),
    }
}

/// Fewest characters a webhook secret may have: it alone stands between the internet and a
/// forged update (a `successful_payment` included), so it must not be guessable. 32 is what
/// `openssl rand -hex 16` prints.
pub const MIN_WEBHOOK_SECRET: usize = 32;

/// Telegram allows 1–256 characters of `A-Za-z0-9_-`; we ask for at least `MIN_WEBHOOK_SECRET`.
fn validate_secret(secret: &str) -> Result<(), ConfigError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !secret.chars().all(allowed) || secret.len() > 256 {
        return Err(invalid(
            "TELEGRAM_WEBHOOK_SECRET",
            "at most 256 characters of A-Z a-z 0-9 _ - (Telegram's rule)",
        ));
    }
    if secret.len() < MIN_WEBHOOK_SECRET {
        return Err(invalid(
            "TELEGRAM_WEBHOOK_SECRET",
            format!(
                "{} characters is guessable; use at least {MIN_WEBHOOK_SECRET} (openssl rand -hex 16)",
                secret.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Config;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        config: Config,
    }

    fn parse(args: &[&str]) -> Config {
        let mut argv = vec!["test"];
        argv.extend_from_slice(args);
        Wrapper::try_parse_from(argv).unwrap().config
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = parse(&["--telegram-bot-token", "1:abc"]);
        assert_eq!(
            &*config.database_url,
            "sqlite://data/avatar-studio.db?mode=rwc"
        );
        assert_eq!(config.listen_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(config.webhook_path, "/telegram/webhook");
        assert_eq!((config.generation_cost, config.training_cost), (5, 150));
        assert_eq!(config.mode(), super::Mode::Polling);
        config.validate().unwrap();
    }

    #[test]
    fn debug_hides_the_database_password() {
        let config = parse(&[
            "--telegram-bot-token",
            "1:abc",
            "--database-url",
            "postgres://app:hunter2@db.internal:5432/app?sslpassword=swordfish",
        ]);
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("swordfish"),
            "{printed}"
        );
        assert!(printed.contains("postgres://app:***@db.internal:5432/app"));
        assert!(
            !format!("{:?}", super::DatabaseUrl::from("::no url:pw".to_owned())).contains("pw")
        );
    }

    #[test]
    fn errors_name_the_variable() {
        let config = parse(&[]);
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("TELEGRAM_BOT_TOKEN:")
        );
        let config = parse(&[
            "--telegram-bot-token",
            "1:abc",
            "--public-url",
            "https://bot.example",
        ]);
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("TELEGRAM_WEBHOOK_SECRET:")
        );
        let config = parse(&[
            "--telegram-bot-token",
            "1:abc",
            "--public-url",
            "https://bot.example",
            "--telegram-webhook-secret",
            "has spaces",
        ]);
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("TELEGRAM_WEBHOOK_SECRET:")
        );
        let webhook = |url: &str, secret: &str| {
            parse(&[
                "--telegram-bot-token",
                "1:abc",
                "--public-url",
                url,
                "--telegram-webhook-secret",
                secret,
            ])
        };
        let secret = "0123456789abcdef0123456789abcdef";
        for (url, secret, variable) in [
            ("http://bot.example", secret, "PUBLIC_URL:"),
            ("https://bot.example:8080", secret, "PUBLIC_URL:"),
            ("https://bot.example", "abc123", "TELEGRAM_WEBHOOK_SECRET:"),
        ] {
            let error = webhook(url, secret).validate().unwrap_err().to_string();
            assert!(error.starts_with(variable), "{url} {secret}: {error}");
        }
        for url in ["https://bot.example", "https://bot.example:8443/x"] {
            webhook(url, secret).validate().unwrap();
        }
        let config = parse(&["--telegram-bot-token", "1:abc", "--storage-url", "ftp://x"]);
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("STORAGE_URL:")
        );
    }
}

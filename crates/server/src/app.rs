//! Wiring: database, HTTP routes and background workers, started and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use studio_persistence::DatabaseConnection;
use studio_providers::telegram::{SendLimits, TelegramClient};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Mode};
use crate::dispatcher::Dispatcher;
use crate::generation::{GenerationWorker, JobSettings};
use crate::handle::{PersonLimits, Services};
use crate::inbox_writer::InboxWriterTask;
use crate::outbound::Sender;
use crate::polling::Poller;
use crate::prompt_jobs::PromptWorker;
use crate::state::{AppState, FalWebhook};
use crate::training::{TrainingSettings, TrainingWorker};
use studio_domain::Credits;
use studio_persistence::repos::workers::Holder;
use studio_providers::fal::{FalClient, WebhookVerifier};
use studio_providers::openai::OpenAiClient;
use studio_providers::storage::BlobStore;

/// How long a prompt from a photo or a translation may take, retries included.
const PROMPT_DEADLINE: Duration = Duration::from_secs(180);

/// Which background workers run in this process. Everything, normally; tests stop a server
/// between ingress and dispatch by running the HTTP side alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    All,
    IngressOnly,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    inbox_writer: InboxWriterTask,
    inbox_stored: Arc<Notify>,
    workers: Workers,
    config: Config,
    telegram: TelegramClient,
    services: Arc<Services>,
    outbox_stored: Arc<Notify>,
    jobs_wake: Arc<Notify>,
    prompts_wake: Arc<Notify>,
    fal: FalClient,
    shutdown: CancellationToken,
    /// This process, as its claims name it.
    holder: Holder,
}

impl Application {
    pub async fn build(config: Config, workers: Workers) -> anyhow::Result<Self> {
        config.validate()?;
        let db = open_database(&config).await?;
        let telegram = TelegramClient::new(
            http_client()?,
            &config.telegram_api_url,
            config.bot_token()?,
        );
        let inbox_stored = Arc::new(Notify::new());
        let jobs_wake = Arc::new(Notify::new());
        let (inbox, inbox_writer) =
            crate::inbox_writer::inbox_writer(db.clone(), Arc::clone(&inbox_stored));
        let state = AppState {
            db,
            inbox,
            webhook_secret: match config.mode() {
                Mode::Webhook { .. } => config.telegram_webhook_secret.clone().map(Arc::new),
                Mode::Polling => None,
            },
            metrics: crate::metrics::handle(),
            draining: Arc::new(AtomicBool::new(false)),
            fal: FalWebhook {
                verifier: Arc::new(
                    WebhookVerifier::new(http_client()?, &config.fal_rest_url)
                        .pinned_to(config.fal_user_id.clone()),
                ),
                jobs_wake: Arc::clone(&jobs_wake),
            },
        };
        let router = crate::routes::router(state.clone(), &config.webhook_path);
        let fal = FalClient::new(
            http_client()?,
            &config.fal_queue_url,
            &config.fal_rest_url,
            config.fal_key.clone(),
        );
        let openai_http = http_client()?;
        let services = Arc::new(Services {
            fal: fal.clone(),
            telegram: telegram.clone(),
            storage: BlobStore::from_url(&config.storage_url)?,
            training_cost: Credits::new(config.training_cost),
            packages: config.topup_packages.clone(),
            welcome_bonus: Credits::new(config.welcome_bonus),
            generation_cost: Credits::new(config.generation_cost),
            generation_deadline: Duration::from_secs(config.generation_deadline_secs),
            training_deadline: Duration::from_secs(config.training_deadline_secs),
            openai: config.openai_api_key.clone().map(|key| {
                OpenAiClient::new(
                    openai_http.clone(),
                    &config.openai_base_url,
                    key,
                    &config.openai_model,
                )
            }),
            prompt_deadline: PROMPT_DEADLINE,
            limits: PersonLimits {
                model_requests_per_day: config.model_requests_per_day,
                blocked_images_per_day: config.blocked_images_per_day,
                promo_attempts_per_hour: config.promo_attempts_per_hour,
            },
            styles: config.style_library()?,
            pack_prices: config.style_pack_prices.clone(),
        });

        let listener = TcpListener::bind(config.listen_addr)
            .await
            .with_context(|| format!("LISTEN_ADDR: cannot listen on {}", config.listen_addr))?;
        Ok(Self {
            listener,
            router,
            state,
            inbox_writer,
            inbox_stored,
            workers,
            config,
            telegram,
            services,
            outbox_stored: Arc::new(Notify::new()),
            jobs_wake,
            prompts_wake: Arc::new(Notify::new()),
            fal,
            shutdown: CancellationToken::new(),
            holder: Holder::new(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.config.listen_addr)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// Cancelling it drains and stops the application, as SIGTERM does.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM, Ctrl-C or the shutdown token; then readiness turns 503, after
    /// `DRAIN_DELAY_SECS` the listener closes once requests in flight finish, workers finish
    /// their current work, and the call returns.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let cancel = self.shutdown.clone();
        let mut workers = JoinSet::new();
        workers.spawn(crate::shutdown::on_signal(cancel.clone()));
        // Only FAL signs webhooks we accept; without a key nothing of ours is at FAL.
        if self.config.fal_key.is_some() {
            let verifier = Arc::clone(&self.state.fal.verifier);
            let next = crate::fal_keys::first(&verifier, Duration::from_secs(3)).await;
            workers.spawn(crate::fal_keys::run(verifier, next, cancel.clone()));
        }
        let draining = Arc::clone(&self.state.draining);
        let drain_started = cancel.clone();
        workers.spawn(async move {
            drain_started.cancelled().await;
            draining.store(true, Ordering::Relaxed);
        });
        // Workers stop at SIGTERM, while the listener drains: shutting down takes the longer of
        // the two, not their sum. Updates accepted during the drain are stored; another
        // replica (or the next start) handles them, as this one stops claiming.
        let stop_workers = cancel.child_token();
        let stop_heartbeat = CancellationToken::new();
        let heartbeat = if self.workers == Workers::All {
            // Alive before the first claim: a claim by a process without a heartbeat is free.
            studio_persistence::repos::workers::beat(&self.state.db, &self.holder)
                .await
                .context("cannot record this process's heartbeat")?;
            let beat = crate::heartbeat::run(
                self.state.db.clone(),
                self.holder.clone(),
                stop_heartbeat.clone(),
            );
            self.spawn_workers(&mut workers, &stop_workers);
            Some(tokio::spawn(beat))
        } else {
            None
        };
        let holder = self.holder.clone();
        tracing::info!(addr = %self.local_addr(), mode = ?self.config.mode(), "serving");
        let Application {
            listener,
            router,
            state,
            inbox_writer,
            config,
            ..
        } = self;
        let writer = tokio::spawn(inbox_writer.run());
        let (server_stop, drain_delay) = (cancel.clone(), config.drain_delay());
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                server_stop.cancelled().await;
                tokio::time::sleep(drain_delay).await;
            })
            .await
            .context("HTTP server failed")?;
        // The writer stops once the last `InboxWriter` is gone: the router's went with it,
        // this is the state's. Updates it accepted are stored before it returns.
        let db = state.db.clone();
        drop(state);
        if let Err(err) = writer.await {
            tracing::error!(error = %err, "inbox writer failed");
        }
        stop_workers.cancel();
        let drained = tokio::time::timeout(config.shutdown_timeout(), async {
            while workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("workers did not finish in time; what they hold is freed now");
        }
        if let Some(heartbeat) = heartbeat {
            stop_heartbeat.cancel();
            heartbeat.await.ok();
            crate::heartbeat::stop(&db, &holder).await;
        }
        db.close().await.ok();
        tracing::info!("stopped");
        Ok(())
    }

    fn spawn_workers(&self, workers: &mut JoinSet<()>, cancel: &CancellationToken) {
        let sender = Sender {
            db: self.state.db.clone(),
            telegram: self.telegram.clone(),
            limits: SendLimits {
                global_per_second: self.config.telegram_global_rate,
                chat_per_second: self.config.telegram_chat_rate,
            },
            outbox_stored: Arc::clone(&self.outbox_stored),
            storage: self.services.storage.clone(),
            concurrency: usize::try_from(self.config.send_concurrency).unwrap_or(64),
            lease: self.config.lease() * 2,
            holder: self.holder.clone(),
            settler: crate::outbound::Settler::start(self.state.db.clone()),
        };
        let dispatcher = Dispatcher {
            db: self.state.db.clone(),
            inbox_stored: Arc::clone(&self.inbox_stored),
            outbox_stored: Arc::clone(&self.outbox_stored),
            concurrency: self.config.dispatch_concurrency,
            batch: self.config.dispatch_batch,
            lease: self.config.lease(),
            holder: self.holder.clone(),
            services: Arc::clone(&self.services),
            jobs_queued: Arc::clone(&self.jobs_wake),
            prompts_queued: Arc::clone(&self.prompts_wake),
            sender: sender.clone(),
        };
        workers.spawn(dispatcher.run(cancel.clone()));
        let prompts = PromptWorker {
            db: self.state.db.clone(),
            services: Arc::clone(&self.services),
            concurrency: usize::try_from(self.config.openai_concurrency).unwrap_or(16),
            wake: Arc::clone(&self.prompts_wake),
            outbox_stored: Arc::clone(&self.outbox_stored),
            jobs_queued: Arc::clone(&self.jobs_wake),
            holder: self.holder.clone(),
        };
        workers.spawn(prompts.run(cancel.clone()));
        let generation = GenerationWorker {
            db: self.state.db.clone(),
            fal: self.fal.clone(),
            storage: self.services.storage.clone(),
            settings: Arc::new(JobSettings {
                concurrency: usize::try_from(self.config.worker_concurrency).unwrap_or(8),
                per_user: self.config.generations_per_user,
                lease: self.config.lease() * 2,
                model: self.config.generation_model,
                lora_scale: self.config.lora_scale,
                webhook_url: self.config.fal_webhook_url(),
                first_poll: Duration::from_secs(self.config.fal_poll_secs.max(1)),
            }),
            styles: self.services.styles,
            wake: Arc::clone(&self.jobs_wake),
            outbox_stored: Arc::clone(&self.outbox_stored),
        };
        workers.spawn(generation.run(cancel.clone()));
        let training = TrainingWorker {
            db: self.state.db.clone(),
            fal: self.fal.clone(),
            storage: self.services.storage.clone(),
            settings: Arc::new(TrainingSettings {
                concurrency: 2,
                lease: self.config.lease() * 2,
                model: self.config.training_model,
                steps: self.config.training_steps,
                learning_rate: self.config.training_learning_rate,
                archive_lifetime: Duration::from_secs(self.config.training_deadline_secs),
                webhook_url: self.config.fal_webhook_url(),
                first_poll: Duration::from_secs(self.config.fal_poll_secs.max(1)),
                cost: self.services.training_cost,
            }),
            wake: Arc::clone(&self.jobs_wake),
            outbox_stored: Arc::clone(&self.outbox_stored),
        };
        workers.spawn(training.run(cancel.clone()));
        workers.spawn(sender.run(cancel.clone()));
        let janitor = crate::janitor::Janitor {
            db: self.state.db.clone(),
            retention: Duration::from_secs(self.config.queue_retention_days.max(1) * 86_400),
        };
        workers.spawn(janitor.run(cancel.clone()));
        let vacuum = crate::vacuum::Vacuum {
            db: self.state.db.clone(),
        };
        workers.spawn(vacuum.run(cancel.clone()));
        if self.config.mode() == Mode::Polling {
            let poller = Poller {
                db: self.state.db.clone(),
                telegram: self.telegram.clone(),
                inbox_stored: Arc::clone(&self.inbox_stored),
            };
            workers.spawn(poller.run(cancel.clone()));
        }
    }
}

pub async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    ensure_sqlite_dir(&config.database_url)?;
    let db = studio_persistence::connect(&config.database_url, config.database_max_connections)
        .await
        .context("DATABASE_URL: cannot connect")?;
    if config.run_migrations {
        studio_persistence::migrate_up(&db)
            .await
            .context("cannot apply migrations")?;
    }
    Ok(db)
}

/// `sqlite://data/x.db` needs `data/` to exist; SQLite creates only the file.
fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        return Ok(());
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("DATABASE_URL: cannot create {}", dir.display()))?;
    }
    Ok(())
}

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    // One TLS provider for the process; `ring` is the one sqlx uses too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        // Long enough for a 25 s getUpdates long poll.
        .timeout(Duration::from_secs(40))
        .pool_max_idle_per_host(64)
        .build()
        .context("cannot build the HTTP client")
}

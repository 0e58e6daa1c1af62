//! `avatar-studio [serve|migrate|set-webhook|check]`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use studio_providers::telegram::TelegramClient;

use crate::app::{Application, Workers, http_client};
use crate::config::{Config, Mode};

#[derive(Debug, Parser)]
#[command(
    name = "avatar-studio",
    version,
    about = "Telegram bot for personal AI portraits"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot: HTTP server and background workers (the default).
    Serve,
    /// Apply pending migrations (or roll all back with --down) and exit.
    Migrate {
        #[arg(long)]
        down: bool,
    },
    /// Register PUBLIC_URL + WEBHOOK_PATH with Telegram, with the secret token.
    SetWebhook,
    /// Report configuration and connectivity, without changing anything.
    Check,
    /// Add credits to a user (negative: take them, never below zero).
    Credit {
        telegram_id: i64,
        #[arg(allow_negative_numbers = true)]
        amount: i64,
        #[arg(long)]
        reason: String,
    },
    /// Look at a user.
    User {
        #[command(subcommand)]
        command: crate::operator::UserCommand,
    },
    /// Manage promo codes.
    Promo {
        #[command(subcommand)]
        command: crate::operator::PromoCommand,
    },
    /// The style library: `styles list`, `styles disable KEY`, `styles enable KEY`.
    Styles {
        #[command(subcommand)]
        command: crate::style_admin::StylesCommand,
    },
    /// Refund a Telegram Stars payment by its charge id.
    Refund { charge_id: String },
    /// Credit Stars payments Telegram lists (getStarTransactions) that we never booked, once.
    ReconcilePayments {
        /// How far back to look, in days.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
}

pub fn main() -> ExitCode {
    // `.env` fills in what the environment does not set; a missing file is fine.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    crate::telemetry::init(cli.config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line naming the cause (a config error names its variable), not a log record.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(cli.config, Workers::All)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate { down } => migrate(cli.config, down).await,
        Command::SetWebhook => set_webhook(cli.config).await,
        Command::Check => crate::check::check(cli.config).await,
        Command::Credit {
            telegram_id,
            amount,
            reason,
        } => {
            crate::operator::credit(&database(cli.config).await?, telegram_id, amount, &reason)
                .await
        }
        Command::User {
            command: crate::operator::UserCommand::Show { telegram_id },
        } => crate::operator::show_user(&database(cli.config).await?, telegram_id).await,
        Command::Promo { command } => {
            crate::operator::promo(&database(cli.config).await?, command).await
        }
        Command::Styles { command } => {
            let library = cli.config.style_library()?;
            crate::style_admin::run(&database(cli.config).await?, library, command).await
        }
        Command::Refund { charge_id } => {
            let telegram = telegram(&cli.config)?;
            crate::operator::refund(&database(cli.config).await?, &telegram, &charge_id).await
        }
        Command::ReconcilePayments { days } => {
            let telegram = telegram(&cli.config)?;
            crate::reconcile::reconcile(&database(cli.config).await?, &telegram, days).await
        }
    }
}

fn telegram(config: &Config) -> anyhow::Result<TelegramClient> {
    Ok(TelegramClient::new(
        http_client()?,
        &config.telegram_api_url,
        config.bot_token()?,
    ))
}

/// The database as operator commands use it: migrated by `migrate`, never by them.
async fn database(mut config: Config) -> anyhow::Result<studio_persistence::DatabaseConnection> {
    config.run_migrations = false;
    crate::app::open_database(&config).await
}

async fn migrate(mut config: Config, down: bool) -> anyhow::Result<()> {
    config.run_migrations = false;
    let db = crate::app::open_database(&config).await?;
    if down {
        studio_persistence::migrate_down(&db).await?;
        println!("all migrations rolled back");
    } else {
        studio_persistence::migrate_up(&db).await?;
        println!("migrations applied");
    }
    Ok(())
}

async fn set_webhook(config: Config) -> anyhow::Result<()> {
    config.validate()?;
    let Mode::Webhook { url } = config.mode() else {
        anyhow::bail!("PUBLIC_URL: required to set a webhook");
    };
    let secret = config
        .telegram_webhook_secret
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("TELEGRAM_WEBHOOK_SECRET: required"))?;
    let telegram = TelegramClient::new(
        http_client()?,
        &config.telegram_api_url,
        config.bot_token()?,
    );
    telegram
        .set_webhook(&url, secret, &crate::polling::ALLOWED_UPDATES, 40)
        .await?;
    println!("webhook set to {url}");
    Ok(())
}

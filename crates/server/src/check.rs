//! `avatar-studio check`: what an operator about to go live needs to know. One line per part,
//! each `ok` or `FIX` with what to do; the command fails when anything needs fixing, so a
//! deploy script can stop on it. It changes nothing but a probe object in storage, which it
//! deletes again.

use std::fmt::Display;

use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use studio_persistence::NotReady;
use studio_providers::fal::{FalClient, FalError, WebhookVerifier};
use studio_providers::openai::OpenAiClient;
use studio_providers::storage::BlobStore;
use studio_providers::telegram::TelegramClient;

use crate::app::http_client;
use crate::config::{Config, Mode};

#[derive(Default)]
struct Report {
    fixes: usize,
}

impl Report {
    fn ok(&self, part: &str, detail: impl Display) {
        println!("ok   {part}: {detail}");
    }

    fn fix(&mut self, part: &str, what: impl Display) {
        self.fixes += 1;
        println!("FIX  {part}: {what}");
    }

    /// A fact, neither good nor bad (a feature turned off, a setting's value).
    fn note(&self, part: &str, detail: impl Display) {
        println!("     {part}: {detail}");
    }
}

pub async fn check(mut config: Config) -> anyhow::Result<()> {
    config.validate()?;
    config.run_migrations = false;
    let mut report = Report::default();
    report.note("mode", format_args!("{:?}", config.mode()));
    report.note(
        "costs",
        format_args!(
            "generation {} credits, training {} credits",
            config.generation_cost, config.training_cost
        ),
    );
    database(&mut report, &config).await;
    storage(&mut report, &config).await;
    fal(&mut report, &config).await?;
    openai(&mut report, &config).await?;
    telegram(&mut report, &config).await?;
    match report.fixes {
        0 => Ok(()),
        n => anyhow::bail!("{n} of the checks above need fixing"),
    }
}

async fn database(report: &mut Report, config: &Config) {
    let part = "database";
    let db = match crate::app::open_database(config).await {
        Ok(db) => db,
        Err(err) => return report.fix(part, format_args!("{err:#}: check DATABASE_URL")),
    };
    match studio_persistence::check_ready(&db).await {
        Ok(()) => report.ok(
            part,
            format_args!(
                "{}: reachable, every migration applied, status labels match the code",
                config
                    .database_url
                    .redacted()
                    .unwrap_or_else(|| "DATABASE_URL".into())
            ),
        ),
        Err(NotReady::Unreachable(err)) => {
            report.fix(
                part,
                format_args!("unreachable ({err}): check DATABASE_URL"),
            );
        }
        Err(NotReady::PendingMigrations(names)) => report.fix(
            part,
            format_args!(
                "migrations not applied ({}): run `avatar-studio migrate`",
                names.join(", ")
            ),
        ),
        Err(NotReady::UnknownMigrations(err)) => report.fix(
            part,
            format_args!(
                "applied migrations unknown to this release ({err}): deploy the release that \
                 migrated the database"
            ),
        ),
        Err(drift @ NotReady::EnumDrift { .. }) => report.fix(
            part,
            format_args!("{drift}: deploy the release that matches the schema, or migrate"),
        ),
    }
}

/// Writes, reads back and deletes a probe object, as generation and training will.
async fn storage(report: &mut Report, config: &Config) {
    let part = "storage";
    let store = match BlobStore::from_url(&config.storage_url) {
        Ok(store) => store,
        Err(err) => return report.fix(part, format_args!("{err}: check STORAGE_URL")),
    };
    let key = format!("check/probe-{}", chrono::Utc::now().timestamp_micros());
    let probe = Bytes::from_static(b"avatar-studio check");
    let step = async {
        store
            .put(&key, probe.clone())
            .await
            .map_err(|e| ("write", e.to_string()))?;
        let read = store.get(&key).await.map_err(|e| ("read", e.to_string()))?;
        store
            .delete(&key)
            .await
            .map_err(|e| ("delete", e.to_string()))?;
        if read == probe {
            Ok(())
        } else {
            Err((
                "read",
                "the bytes read differ from those written".to_owned(),
            ))
        }
    };
    match step.await {
        Ok(()) => report.ok(
            part,
            format_args!("{} writable, readable, deletable", config.storage_url),
        ),
        Err((what, err)) => report.fix(
            part,
            format_args!("cannot {what} {key} ({err}): check STORAGE_URL and its credentials"),
        ),
    }
}

async fn fal(report: &mut Report, config: &Config) -> anyhow::Result<()> {
    let verifier = WebhookVerifier::new(http_client()?, &config.fal_rest_url);
    match verifier.check_keys().await {
        Ok(0) => report.fix(
            "FAL webhook keys",
            format_args!(
                "{} lists no Ed25519 key: check FAL_REST_URL",
                verifier.jwks_url()
            ),
        ),
        Ok(n) => report.ok(
            "FAL webhook keys",
            format_args!("{n} from {}", verifier.jwks_url()),
        ),
        Err(err) => report.fix(
            "FAL webhook keys",
            format_args!(
                "cannot fetch {} ({err}): check FAL_REST_URL; callbacks are refused until then",
                verifier.jwks_url()
            ),
        ),
    }
    let part = "FAL key";
    let Some(key) = present(config.fal_key.as_ref()) else {
        report.note(part, "FAL_KEY not set: training and generation are off");
        return Ok(());
    };
    let fal = FalClient::new(
        http_client()?,
        &config.fal_queue_url,
        &config.fal_rest_url,
        Some(key),
    );
    match fal.check_key().await {
        Ok(()) => report.ok(part, "accepted for billable calls"),
        Err(FalError::Refused { status: 401, .. }) => {
            report.fix(part, "FAL does not accept FAL_KEY (401): set a valid key");
        }
        Err(FalError::Refused {
            status: 403,
            detail,
        }) => report.fix(
            part,
            format_args!(
                "FAL refuses the account (403: {}): top up the balance at FAL",
                said(&detail)
            ),
        ),
        Err(err) => report.fix(
            part,
            format_args!("{err}: check FAL_REST_URL and the network"),
        ),
    }
    Ok(())
}

async fn openai(report: &mut Report, config: &Config) -> anyhow::Result<()> {
    let part = "model";
    let Some(key) = present(config.openai_api_key.as_ref()) else {
        report.note(
            part,
            "OPENAI_API_KEY not set: prompts from photos and translations are off",
        );
        return Ok(());
    };
    let openai = OpenAiClient::new(
        http_client()?,
        &config.openai_base_url,
        key,
        &config.openai_model,
    );
    match openai.check_model().await {
        Ok(()) => report.ok(part, format_args!("{} available", config.openai_model)),
        Err(err) => report.fix(
            part,
            format_args!("{err}: check OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL"),
        ),
    }
    Ok(())
}

async fn telegram(report: &mut Report, config: &Config) -> anyhow::Result<()> {
    let telegram = TelegramClient::new(
        http_client()?,
        &config.telegram_api_url,
        config.bot_token()?,
    );
    match telegram.get_me().await {
        Ok(me) => report.ok(
            "telegram bot",
            format_args!("@{} ({})", me.username.unwrap_or_default(), me.id),
        ),
        Err(err) => {
            report.fix(
                "telegram bot",
                format_args!("{err}: check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL"),
            );
            return Ok(());
        }
    }
    let part = "telegram webhook";
    let info = match telegram.get_webhook_info().await {
        Ok(info) => info,
        Err(err) => {
            report.fix(part, format_args!("getWebhookInfo failed: {err}"));
            return Ok(());
        }
    };
    let pending = info.pending_update_count;
    match config.mode() {
        Mode::Polling if info.url.is_empty() => {
            report.ok(part, "none (polling mode)");
        }
        Mode::Polling => report.note(
            part,
            format_args!("{} is set; `serve` in polling mode deletes it", info.url),
        ),
        Mode::Webhook { url } if info.url.is_empty() => {
            report.fix(
                part,
                format_args!("not registered: run `avatar-studio set-webhook` for {url}"),
            );
        }
        Mode::Webhook { url } if info.url != url => report.fix(
            part,
            format_args!(
                "Telegram delivers to {}, not {url}: run `avatar-studio set-webhook`",
                info.url
            ),
        ),
        Mode::Webhook { url } => match info.last_error_message {
            Some(error) => report.fix(
                part,
                format_args!(
                    "{url}, {pending} pending; Telegram's last delivery failed: {error}. \
                     Check that the proxy routes WEBHOOK_PATH here and the secret matches"
                ),
            ),
            None => report.ok(part, format_args!("{url}, {pending} pending")),
        },
    }
    Ok(())
}

/// FAL's own words from an error body (`{"detail": "…"}`), or the body as it came.
fn said(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("detail")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.to_owned())
}

/// A secret that is set and not empty.
fn present(secret: Option<&SecretString>) -> Option<SecretString> {
    secret.filter(|s| !s.expose_secret().is_empty()).cloned()
}

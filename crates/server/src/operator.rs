//! Operator commands: credit a user, show a user, manage promo codes, refund a Stars payment.
//! They run against the same database as the bot, so the bot shows their effect at once.

use anyhow::{Context as _, bail};
use studio_domain::{Credits, Language, LedgerKind, TelegramUserId};
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::ledger::{self, Debit, Entry};
use studio_persistence::repos::promos::{self, NewPromo};
use studio_persistence::repos::{avatars, payments, users};
use studio_providers::telegram::TelegramClient;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Balance, avatars and recent ledger entries of a user.
    Show { telegram_id: i64 },
}

#[derive(Debug, clap::Subcommand)]
pub enum PromoCommand {
    /// Create a code: `promo create SPRING --credits 50 --max-uses 100 --valid-until 2026-12-31`.
    Create {
        code: String,
        #[arg(long)]
        credits: u32,
        #[arg(long)]
        max_uses: u32,
        #[arg(long, default_value_t = 1)]
        per_user: u32,
        /// Last valid day (UTC), `YYYY-MM-DD`; no date means no end.
        #[arg(long)]
        valid_until: Option<chrono::NaiveDate>,
    },
    List,
    Disable {
        code: String,
    },
}

async fn user(db: &DatabaseConnection, telegram_id: i64) -> anyhow::Result<users::User> {
    users::find_by_telegram(db, TelegramUserId(telegram_id))
        .await?
        .with_context(|| {
            format!("no user with Telegram id {telegram_id} (they must /start the bot first)")
        })
}

/// Adds (or, negative, takes) credits; a debit never takes more than the balance.
pub async fn credit(
    db: &DatabaseConnection,
    telegram_id: i64,
    amount: i64,
    reason: &str,
) -> anyhow::Result<()> {
    let owner = user(db, telegram_id).await?.id;
    let magnitude = Credits::new(u32::try_from(amount.unsigned_abs()).context("amount too large")?);
    if magnitude == Credits::ZERO {
        bail!("amount must not be 0");
    }
    let key = format!(
        "admin:{}:{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
        fastrand::u64(..)
    );
    let txn = studio_persistence::begin(db).await?;
    if amount > 0 {
        let entry = Entry {
            user: owner,
            kind: LedgerKind::AdminCredit,
            amount: magnitude,
            key: &key,
            note: Some(reason),
        };
        ledger::book(&txn, entry).await?;
    } else {
        let entry = Entry {
            user: owner,
            kind: LedgerKind::AdminDebit,
            amount: magnitude,
            key: &key,
            note: Some(reason),
        };
        if let Debit::Missing(missing) = ledger::debit(&txn, entry).await? {
            bail!("the balance lacks {missing} credits; nothing changed");
        }
    }
    txn.commit().await?;
    println!(
        "balance of {telegram_id}: {} credits",
        ledger::balance(db, owner).await?
    );
    Ok(())
}

pub async fn show_user(db: &DatabaseConnection, telegram_id: i64) -> anyhow::Result<()> {
    let found = user(db, telegram_id).await?;
    let owner = found.id;
    println!(
        "user {telegram_id} ({}{})",
        found.first_name,
        found
            .username
            .as_ref()
            .map(|u| format!(", @{u}"))
            .unwrap_or_default()
    );
    println!(
        "since: {}, blocked: {}, language: {}",
        found.created_at.format("%Y-%m-%d"),
        found.is_blocked,
        found
            .ui_language
            .map(Language::code)
            .or(found.language_code.as_deref())
            .unwrap_or("-")
    );
    println!("balance: {} credits", ledger::balance(db, owner).await?);
    for avatar in avatars::list_owned(db, owner).await? {
        println!(
            "avatar {}: {} [{}]{}",
            avatar.id,
            avatar.name,
            avatar.status,
            if avatar.is_main { " main" } else { "" }
        );
    }
    for line in ledger::history(db, owner, None, 10).await? {
        let kind = line.kind.label();
        println!(
            "{} {kind} {:+} -> {}",
            line.at.format("%Y-%m-%d %H:%M"),
            line.amount,
            line.balance_after
        );
    }
    Ok(())
}

pub async fn promo(db: &DatabaseConnection, command: PromoCommand) -> anyhow::Result<()> {
    match command {
        PromoCommand::Create {
            code,
            credits,
            max_uses,
            per_user,
            valid_until,
        } => {
            if credits == 0 || max_uses == 0 || per_user == 0 {
                bail!("--credits, --max-uses and --per-user must be at least 1");
            }
            let valid_until = valid_until
                .and_then(|d| d.and_hms_opt(23, 59, 59))
                .map(|t| t.and_utc());
            let new = NewPromo {
                code: &code,
                credits: Credits::new(credits),
                max_uses,
                per_user,
                valid_until,
            };
            if !promos::create(db, new).await? {
                bail!("promo code {} exists already", promos::normalise(&code));
            }
            println!("promo code {} created", promos::normalise(&code));
        }
        PromoCommand::List => {
            for p in promos::list(db).await? {
                let until = p
                    .valid_until
                    .map_or("no end".to_owned(), |t| t.format("%Y-%m-%d").to_string());
                let state = if p.disabled { " disabled" } else { "" };
                println!(
                    "{}: {} credits, {}/{} used, {} per user, until {until}{state}",
                    p.code, p.credits, p.uses, p.max_uses, p.per_user
                );
            }
        }
        PromoCommand::Disable { code } => {
            if !promos::disable(db, &code).await? {
                bail!("no promo code {}", promos::normalise(&code));
            }
            println!("promo code {} disabled", promos::normalise(&code));
        }
    }
    Ok(())
}

/// Refunds a Stars payment: the credits come back off the ledger (only if unspent), Telegram
/// returns the stars, and both happen or neither (the ledger commits after Telegram agreed).
pub async fn refund(
    db: &DatabaseConnection,
    telegram: &TelegramClient,
    charge_id: &str,
) -> anyhow::Result<()> {
    let payment = payments::find(db, charge_id)
        .await?
        .with_context(|| format!("no payment {charge_id}"))?;
    if payment.refunded {
        bail!("payment {charge_id} was refunded already");
    }
    let txn = studio_persistence::begin(db).await?;
    if let Debit::Missing(missing) = payments::refund(&txn, charge_id, &payment).await? {
        bail!("the user has spent the credits ({missing} missing); refund refused");
    }
    let body = serde_json::json!({"user_id": payment.telegram_user_id, "telegram_payment_charge_id": charge_id});
    let _: bool = telegram
        .call("refundStarPayment", &body)
        .await
        .context("Telegram refused the refund")?;
    txn.commit().await?;
    println!(
        "refunded {} stars; {} credits taken back",
        payment.stars, payment.credits
    );
    Ok(())
}

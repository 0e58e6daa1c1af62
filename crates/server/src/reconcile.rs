//! `avatar-studio reconcile-payments`: Telegram's own record of Stars payments
//! (`getStarTransactions`) against ours. A payment whose `successful_payment` update we never
//! stored (lost for good, or dead-lettered) is credited now, once: the same charge id keys the
//! payment row and its ledger entry, so running it again, or the update arriving late, changes
//! nothing. Refunded payments are left alone.

use std::collections::HashSet;

use anyhow::Context as _;
use serde::Deserialize;
use studio_domain::{TelegramUserId, TopUpPackage};
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::{payments, users};
use studio_providers::telegram::TelegramClient;

/// Telegram hands transactions out 100 at a time.
const PAGE: u32 = 100;

#[derive(Debug, Deserialize)]
struct Page {
    transactions: Vec<Transaction>,
}

#[derive(Debug, Deserialize)]
struct Transaction {
    /// For an incoming payment, its `telegram_payment_charge_id`; a refund has its payment's.
    id: String,
    amount: u32,
    date: i64,
    /// Who paid (incoming).
    source: Option<Partner>,
    /// Who was paid (outgoing: refunds).
    receiver: Option<Partner>,
}

#[derive(Debug, Deserialize)]
struct Partner {
    #[serde(rename = "type")]
    kind: String,
    user: Option<PartnerUser>,
    invoice_payload: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PartnerUser {
    id: i64,
}

/// What a run found, printed for the operator.
#[derive(Debug, Default)]
struct Tally {
    checked: usize,
    credited: usize,
    refunded: usize,
    unknown: usize,
}

pub async fn reconcile(
    db: &DatabaseConnection,
    telegram: &TelegramClient,
    days: u32,
) -> anyhow::Result<()> {
    let since = chrono::Utc::now().timestamp() - i64::from(days) * 86_400;
    let transactions = fetch(telegram).await?;
    let refunded: HashSet<&str> = transactions
        .iter()
        .filter(|t| t.receiver.as_ref().is_some_and(|r| r.kind == "user"))
        .map(|t| t.id.as_str())
        .collect();
    let mut tally = Tally::default();
    for payment in transactions.iter().filter(|t| t.date >= since) {
        let Some(source) = payment.source.as_ref().filter(|s| s.kind == "user") else {
            continue;
        };
        tally.checked += 1;
        if refunded.contains(payment.id.as_str()) {
            tally.refunded += 1;
            continue;
        }
        credit_missing(db, payment, source, &mut tally).await?;
    }
    println!(
        "{} payments in the last {days} days: {} credited now, {} refunded, {} not ours to credit",
        tally.checked, tally.credited, tally.refunded, tally.unknown
    );
    Ok(())
}

/// Every transaction Telegram lists for the bot.
async fn fetch(telegram: &TelegramClient) -> anyhow::Result<Vec<Transaction>> {
    let mut all = Vec::new();
    loop {
        let body = serde_json::json!({"offset": all.len(), "limit": PAGE});
        let page: Page = telegram
            .call("getStarTransactions", &body)
            .await
            .context("getStarTransactions failed")?;
        let n = page.transactions.len();
        all.extend(page.transactions);
        if n < PAGE as usize {
            return Ok(all);
        }
    }
}

/// Credits one payment unless we have it. One that is not ours to credit (an unknown person
/// or invoice) is printed for the operator.
async fn credit_missing(
    db: &DatabaseConnection,
    payment: &Transaction,
    source: &Partner,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let package = source
        .invoice_payload
        .as_deref()
        .and_then(TopUpPackage::from_payload)
        .filter(|p| p.stars == payment.amount);
    let person = match source.user.as_ref() {
        Some(user) => users::find_by_telegram(db, TelegramUserId(user.id)).await?,
        None => None,
    };
    let (Some(package), Some(person)) = (package, person) else {
        println!(
            "SKIP {}: not an invoice of ours, or a person we do not know",
            payment.id
        );
        tally.unknown += 1;
        return Ok(());
    };
    let owner = person.id;
    let txn = studio_persistence::begin(db).await?;
    let credited =
        payments::credit(&txn, owner, &payment.id, package.stars, package.credits).await?;
    txn.commit().await?;
    if credited == payments::Credited::Credited {
        println!(
            "CREDITED {}: {} credits to Telegram user {} ({} stars)",
            payment.id, package.credits, person.telegram_id, package.stars
        );
        tally.credited += 1;
    }
    Ok(())
}

//! Profile, history, settings, promo codes and Telegram Stars top-ups.

use studio_bot_ui::screens::profile::{self as screen, HistoryRow, ProfileView};
use studio_bot_ui::{Dialog, Outgoing, ProfileAction, fill};
use studio_domain::{AvatarStatus, Credits, TopUpPackage, UserId};
use studio_persistence::DatabaseTransaction;
use studio_persistence::RepoError;
use studio_persistence::repos::ledger::Debit;
use studio_persistence::repos::limits;
use studio_persistence::repos::promos::{self, Redeemed};
use studio_persistence::repos::{avatars, generations, ledger, payments, settings, users};

use super::Services;
use super::context::Context;

const HISTORY_PAGE: u64 = 20;

pub async fn show(txn: &DatabaseTransaction, cx: &mut Context) -> Result<(), RepoError> {
    let Some(user) = cx.user.clone() else {
        return Ok(());
    };
    let owner = user.id;
    let all = avatars::list_owned(txn, owner).await?;
    let view = ProfileView {
        name: user.first_name.clone(),
        since: user.created_at.format("%Y-%m-%d").to_string(),
        balance: ledger::balance(txn, owner).await?,
        avatars_ready: all
            .iter()
            .filter(|a| a.status == AvatarStatus::Completed)
            .count(),
        avatars_total: all.len(),
        images: generations::count_completed(txn, owner).await?,
        spent: ledger::spent(txn, owner).await?,
        language: cx.language,
    };
    let screen = screen::profile(cx.texts(), &view);
    cx.show(screen);
    Ok(())
}

pub async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    action: ProfileAction,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.answer_callback(None);
    match action {
        ProfileAction::History(before) => history(txn, cx, owner, before).await,
        ProfileAction::TopUp => {
            let screen = screen::top_up(cx.texts(), services.packages.all());
            cx.show(screen);
            Ok(())
        }
        ProfileAction::Buy(index) => {
            match services.packages.get(usize::from(index)) {
                Some(package) => invoice(cx, package),
                None => {
                    let screen = screen::notice(cx.texts(), cx.texts().package_gone.clone());
                    cx.show(screen);
                }
            }
            Ok(())
        }
        ProfileAction::Promo => {
            cx.dialog = Dialog::AwaitingPromo;
            let screen = screen::notice(cx.texts(), cx.texts().ask_promo.clone());
            cx.show(screen);
            Ok(())
        }
        ProfileAction::Settings => show_settings(txn, cx, owner).await,
        ProfileAction::Language(language) => {
            users::set_language(txn, owner, Some(language)).await?;
            cx.language = language;
            show_settings(txn, cx, owner).await
        }
        ProfileAction::DefaultRatio(ratio) => {
            let current = settings::get(txn, owner).await?;
            let changed = settings::Settings {
                default_ratio: ratio,
                ..current
            };
            settings::save(txn, owner, changed).await?;
            show_settings(txn, cx, owner).await
        }
        ProfileAction::QuickMode(on) => {
            let current = settings::get(txn, owner).await?;
            let changed = settings::Settings {
                quick_mode: on,
                ..current
            };
            settings::save(txn, owner, changed).await?;
            show_settings(txn, cx, owner).await
        }
    }
}

async fn show_settings(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    owner: UserId,
) -> Result<(), RepoError> {
    let current = settings::get(txn, owner).await?;
    let screen = screen::settings(
        cx.texts(),
        cx.language,
        current.default_ratio,
        current.quick_mode,
    );
    cx.show(screen);
    Ok(())
}

async fn history(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    owner: UserId,
    before: i64,
) -> Result<(), RepoError> {
    let before = (before > 0).then_some(before);
    // One more than a page tells whether an older page exists.
    let mut lines = ledger::history(txn, owner, before, HISTORY_PAGE + 1).await?;
    let older = if lines.len() as u64 > HISTORY_PAGE {
        lines.truncate(usize::try_from(HISTORY_PAGE).unwrap_or(usize::MAX));
        lines.last().map(|l| l.id)
    } else {
        None
    };
    let rows: Vec<HistoryRow> = lines
        .iter()
        .map(|l| HistoryRow {
            date: l.at.format("%Y-%m-%d").to_string(),
            kind: l.kind,
            amount: l.amount,
            balance_after: l.balance_after,
        })
        .collect();
    let screen = screen::history(cx.texts(), &rows, older);
    cx.show(screen);
    Ok(())
}

fn invoice(cx: &mut Context, package: TopUpPackage) {
    let t = cx.texts();
    let credits = package.credits.to_string();
    cx.push(Outgoing::Invoice {
        chat: cx.chat,
        title: fill(&t.invoice_title, &[("credits", &credits)]),
        description: fill(&t.invoice_description, &[("credits", &credits)]),
        payload: package.payload(),
        label: fill(&t.invoice_title, &[("credits", &credits)]),
        stars: package.stars,
    });
}

pub async fn promo_code(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    code: &str,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.dialog = Dialog::Idle;
    let t = cx.texts();
    // Guessing codes costs the guesser: a few wrong ones an hour, then a wait.
    let limit = services.limits.promo_attempts_per_hour;
    let hour_ago = crate::job_loop::now_ms() - 3_600_000;
    if limits::promo_misses_since(txn, owner, hour_ago).await? >= u64::from(limit) {
        tracing::warn!(limit, "promo code attempts limited");
        let html = fill(&t.promo_too_many, &[("limit", &limit.to_string())]);
        cx.send(screen::notice(t, html));
        return Ok(());
    }
    let redeemed = promos::redeem(txn, owner, code).await?;
    if matches!(
        redeemed,
        Redeemed::Unknown | Redeemed::Expired | Redeemed::Exhausted
    ) {
        limits::record_promo_miss(txn, owner).await?;
    }
    let html = match redeemed {
        Redeemed::Credited(credits) => {
            fill(&t.promo_credited, &[("credits", &credits.to_string())])
        }
        Redeemed::Unknown => t.promo_unknown.clone(),
        Redeemed::Expired => t.promo_expired.clone(),
        Redeemed::Exhausted => t.promo_exhausted.clone(),
        Redeemed::AlreadyUsed => t.promo_already_used.clone(),
    };
    let screen = screen::notice(t, html);
    cx.send(screen);
    Ok(())
}

/// Telegram asks before charging: the package must still be on sale at the same price.
pub fn pre_checkout(
    services: &Services,
    cx: &mut Context,
    query_id: String,
    payload: &str,
    currency: &str,
    amount: u32,
) {
    let offered = TopUpPackage::from_payload(payload)
        .filter(|p| currency == "XTR" && p.stars == amount && services.packages.offers(*p));
    let error = match offered {
        Some(_) => None,
        None => {
            tracing::warn!(
                payload,
                currency,
                amount,
                "pre-checkout declined: package not on sale"
            );
            Some(cx.texts().package_gone.clone())
        }
    };
    cx.push(Outgoing::AnswerPreCheckout {
        chat: cx.chat,
        query_id,
        error,
    });
}

/// The payment went through: credit once per charge id, and send a receipt.
pub async fn paid(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    charge_id: &str,
    payload: &str,
    currency: &str,
    amount: u32,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    // What was paid for is what the invoice said, even if the package left the shop since.
    let Some(package) =
        TopUpPackage::from_payload(payload).filter(|p| currency == "XTR" && p.stars == amount)
    else {
        tracing::error!(
            charge_id,
            payload,
            currency,
            amount,
            "payment for an unknown invoice; not credited"
        );
        return Ok(());
    };
    match payments::credit(txn, owner, charge_id, package.stars, package.credits).await? {
        payments::Credited::Credited => {
            let balance = ledger::balance(txn, owner).await?;
            let html = fill(
                &cx.texts().receipt,
                &[
                    ("credits", &package.credits.to_string()),
                    ("stars", &package.stars.to_string()),
                    ("balance", &balance.to_string()),
                ],
            );
            let screen = screen::notice(cx.texts(), html);
            cx.send(screen);
            tracing::info!(charge_id, credits = %package.credits, "payment credited");
        }
        payments::Credited::AlreadyCredited => {
            tracing::info!(charge_id, "payment seen before; not credited again")
        }
    }
    Ok(())
}

/// Telegram's word that a Stars payment was refunded (after `avatar-studio refund`, or by
/// Telegram's support): its credits are taken back once, keyed by the charge, whoever started
/// it. Credits already spent cannot be taken back: the operator hears of it.
pub async fn refunded(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    charge_id: &str,
) -> Result<(), RepoError> {
    let Some(payment) = payments::find(txn, charge_id).await? else {
        tracing::error!(charge_id, "refund of a payment we never credited");
        return Ok(());
    };
    if payment.refunded {
        tracing::info!(charge_id, "refund booked already");
        return Ok(());
    }
    match payments::refund(txn, charge_id, &payment).await? {
        Debit::Booked => {
            let balance = ledger::balance(txn, payment.user).await?;
            let html = fill(
                &cx.texts().refund_received,
                &[
                    ("stars", &payment.stars.to_string()),
                    ("credits", &payment.credits.to_string()),
                    ("balance", &balance.to_string()),
                ],
            );
            cx.send(screen::notice(cx.texts(), html));
            tracing::info!(charge_id, credits = %payment.credits, "refund booked");
        }
        Debit::AlreadyBooked => tracing::info!(charge_id, "refund booked already"),
        Debit::Missing(missing) => tracing::error!(
            charge_id,
            %missing,
            "Stars refunded but their credits were spent; nothing taken back"
        ),
    }
    Ok(())
}

/// The welcome bonus, booked at most once per user (its key is the user).
pub async fn welcome(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &Context,
) -> Result<(), RepoError> {
    let (Some(owner), bonus) = (cx.user_id(), services.welcome_bonus) else {
        return Ok(());
    };
    if bonus == Credits::ZERO {
        return Ok(());
    }
    let key = format!("welcome:{owner}");
    let entry = ledger::Entry {
        user: owner,
        kind: studio_domain::LedgerKind::WelcomeBonus,
        amount: bonus,
        key: &key,
        note: None,
    };
    ledger::book(txn, entry).await?;
    Ok(())
}

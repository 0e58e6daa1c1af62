//! Profile, history, top-up packages, promo codes and settings.

use studio_domain::{AspectRatio, Credits, Language, LedgerKind, TopUpPackage};

use crate::callback::{Callback, Menu, ProfileAction};
use crate::i18n::fill;
use crate::keyboard::{Button, InlineKeyboard};
use crate::{Screen, Texts, texts};

/// What the profile shows; every figure comes from a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileView {
    pub name: String,
    pub since: String,
    pub balance: Credits,
    pub avatars_ready: usize,
    pub avatars_total: usize,
    pub images: u64,
    pub spent: Credits,
    pub language: Language,
}

fn button(text: &str, action: ProfileAction) -> Button {
    Button::new(text, Callback::Profile(action))
}

fn back_to_profile(t: &Texts) -> InlineKeyboard {
    InlineKeyboard::default().row([Button::new(
        &t.button_profile_back,
        Callback::Menu(Menu::Profile),
    )])
}

pub fn profile(t: &Texts, view: &ProfileView) -> Screen {
    let html = fill(
        &t.profile,
        &[
            ("name", &view.name),
            ("since", &view.since),
            ("balance", &view.balance.to_string()),
            ("ready", &view.avatars_ready.to_string()),
            ("total", &view.avatars_total.to_string()),
            ("images", &view.images.to_string()),
            ("spent", &view.spent.to_string()),
            ("language", &texts(view.language).language_name),
        ],
    );
    let keyboard = InlineKeyboard::default()
        .row([
            button(&t.button_top_up, ProfileAction::TopUp),
            button(&t.button_history, ProfileAction::History(0)),
        ])
        .row([
            button(&t.button_promo, ProfileAction::Promo),
            button(&t.button_settings, ProfileAction::Settings),
        ])
        .row(super::back_row(t));
    Screen::text(html, keyboard)
}

pub fn kind_text(t: &Texts, kind: LedgerKind) -> &str {
    match kind {
        LedgerKind::WelcomeBonus => &t.kind_welcome_bonus,
        LedgerKind::TopUp => &t.kind_top_up,
        LedgerKind::Promo => &t.kind_promo,
        LedgerKind::AdminCredit => &t.kind_admin_credit,
        LedgerKind::AdminDebit => &t.kind_admin_debit,
        LedgerKind::TrainingDebit => &t.kind_training_debit,
        LedgerKind::TrainingRefund => &t.kind_training_refund,
        LedgerKind::GenerationDebit => &t.kind_generation_debit,
        LedgerKind::GenerationRefund => &t.kind_generation_refund,
        LedgerKind::PaymentRefund => &t.kind_payment_refund,
    }
}

/// One ledger entry as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub date: String,
    pub kind: LedgerKind,
    pub amount: i64,
    pub balance_after: i64,
}

/// A page of history, newest first; `older` is the id to continue from, if there is more.
pub fn history(t: &Texts, rows: &[HistoryRow], older: Option<i64>) -> Screen {
    let mut html = t.history_title.clone();
    html.push_str("\n\n");
    if rows.is_empty() {
        html.push_str(&t.history_empty);
    }
    for row in rows {
        let amount = if row.amount > 0 {
            format!("+{}", row.amount)
        } else {
            row.amount.to_string()
        };
        let line = fill(
            &t.history_line,
            &[
                ("date", &row.date),
                ("kind", kind_text(t, row.kind)),
                ("amount", &amount),
                ("balance", &row.balance_after.to_string()),
            ],
        );
        html.push_str(&line);
        html.push('\n');
    }
    let mut keyboard = InlineKeyboard::default();
    if let Some(before) = older {
        keyboard = keyboard.row([button(&t.button_older, ProfileAction::History(before))]);
    }
    let keyboard = InlineKeyboard {
        inline_keyboard: [keyboard.inline_keyboard, back_to_profile(t).inline_keyboard].concat(),
    };
    Screen::text(html, keyboard)
}

pub fn top_up(t: &Texts, packages: &[TopUpPackage]) -> Screen {
    let mut keyboard = InlineKeyboard::default();
    for (i, package) in packages.iter().enumerate().take(usize::from(u8::MAX)) {
        let label = fill(
            &t.package_button,
            &[
                ("credits", &package.credits.to_string()),
                ("stars", &package.stars.to_string()),
            ],
        );
        keyboard = keyboard.row([button(
            &label,
            ProfileAction::Buy(u8::try_from(i).unwrap_or(u8::MAX)),
        )]);
    }
    let keyboard = InlineKeyboard {
        inline_keyboard: [keyboard.inline_keyboard, back_to_profile(t).inline_keyboard].concat(),
    };
    Screen::text(t.top_up_title.clone(), keyboard)
}

pub fn notice(t: &Texts, html: String) -> Screen {
    Screen::text(html, back_to_profile(t))
}

pub fn settings(t: &Texts, current: Language, ratio: AspectRatio, quick: bool) -> Screen {
    let mark = |on: bool, label: &str| {
        if on {
            format!("✓ {label}")
        } else {
            label.to_owned()
        }
    };
    let language = |language: Language| {
        let label = mark(language == current, &texts(language).language_name);
        button(&label, ProfileAction::Language(language))
    };
    let mut keyboard = InlineKeyboard::default().row(Language::ALL.map(language));
    for pair in AspectRatio::ALL.chunks(2) {
        keyboard = keyboard.row(pair.iter().map(|r| {
            let label = mark(*r == ratio, super::generation::ratio_name(t, *r));
            button(&label, ProfileAction::DefaultRatio(*r))
        }));
    }
    let quick_label = if quick {
        &t.button_quick_on
    } else {
        &t.button_quick_off
    };
    let keyboard = keyboard.row([button(quick_label, ProfileAction::QuickMode(!quick))]);
    let keyboard = InlineKeyboard {
        inline_keyboard: [keyboard.inline_keyboard, back_to_profile(t).inline_keyboard].concat(),
    };
    Screen::text(t.settings_title.clone(), keyboard)
}

#[cfg(test)]
mod tests {
    use studio_domain::{AspectRatio, Credits, Language, LedgerKind};

    use super::{HistoryRow, ProfileView, history, profile, settings};
    use crate::texts;

    #[test]
    fn profile_shows_every_figure() {
        let view = ProfileView {
            name: "<Ann>".into(),
            since: "2026-11-25".into(),
            balance: Credits::new(95),
            avatars_ready: 1,
            avatars_total: 2,
            images: 7,
            spent: Credits::new(185),
            language: Language::En,
        };
        let html = profile(texts(Language::En), &view).html;
        for part in [
            "&lt;Ann&gt;",
            "2026-11-25",
            "<b>95</b>",
            "1 ready of 2",
            "generated: 7",
            "spent: 185",
            "English",
        ] {
            assert!(html.contains(part), "{part} in {html}");
        }
    }

    #[test]
    fn history_lines_and_paging() {
        let rows = [HistoryRow {
            date: "2026-11-25".into(),
            kind: LedgerKind::TopUp,
            amount: 100,
            balance_after: 100,
        }];
        let screen = history(texts(Language::En), &rows, Some(41));
        assert!(screen.html.contains("2026-11-25 · Top-up · +100 → 100"));
        assert_eq!(
            screen.keyboard.unwrap().inline_keyboard[0][0].callback_data,
            "1:p:h:41"
        );
    }

    #[test]
    fn settings_mark_the_current_language() {
        let screen = settings(
            texts(Language::Ru),
            Language::Ru,
            AspectRatio::Stories,
            true,
        );
        let rows = screen.keyboard.unwrap().inline_keyboard;
        assert_eq!(rows[0][0].text, "✓ Русский");
        assert_eq!(rows[0][1].callback_data, "1:p:lang:en");
        let marked: Vec<String> = rows
            .concat()
            .into_iter()
            .filter(|b| b.text.starts_with('✓'))
            .map(|b| b.callback_data)
            .collect();
        assert_eq!(marked, ["1:p:lang:ru", "1:p:ratio:3"]);
        assert_eq!(rows[4][0].callback_data, "1:p:quick:0");
    }
}

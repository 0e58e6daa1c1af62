//! Prompts made by the language model: from a reference photo (ask, analysing, the proposal,
//! its edit) and translations, with what went wrong in plain words. Nothing here costs credits.

use studio_domain::{AvatarId, PromptFailure};

use crate::text::shorten;

use crate::callback::{Callback, GenerateAction, PhotoPromptAction};
use crate::i18n::fill;
use crate::keyboard::{Button, InlineKeyboard};
use crate::{ReferenceRejection, Screen, Texts};

/// A proposed prompt is shown whole up to this; the model is asked for much less.
const PROPOSAL_CHARS: usize = 1000;

fn button(text: &str, action: PhotoPromptAction) -> Button {
    Button::new(text, Callback::PhotoPrompt(action))
}

fn cancel_only(t: &Texts) -> InlineKeyboard {
    InlineKeyboard::default().row([button(&t.button_cancel, PhotoPromptAction::Cancel)])
}

/// What to do after a failure: another photo, words instead, or the menu.
fn after_failure(t: &Texts, avatar: AvatarId, another_photo: bool) -> InlineKeyboard {
    let mut keyboard = InlineKeyboard::default();
    if another_photo {
        keyboard = keyboard.row([button(
            &t.button_another_photo,
            PhotoPromptAction::Start(Some(avatar)),
        )]);
    }
    keyboard
        .row([Button::new(
            &t.button_custom_prompt,
            Callback::Generate(GenerateAction::CustomPrompt(Some(avatar))),
        )])
        .row(super::back_row(t))
}

pub fn ask_reference(t: &Texts) -> Screen {
    Screen::text(t.ask_reference.clone(), cancel_only(t))
}

pub fn analysing(t: &Texts) -> Screen {
    Screen::text(t.analysing.clone(), cancel_only(t))
}

pub fn translating(t: &Texts) -> Screen {
    Screen::text(t.translating.clone(), cancel_only(t))
}

pub fn model_busy(t: &Texts) -> Screen {
    Screen::text(t.model_busy.clone(), cancel_only(t))
}

/// The prompt the model proposes for the photo, with Generate, Edit prompt and Cancel.
pub fn proposed(t: &Texts, prompt: &str) -> Screen {
    let html = fill(
        &t.proposed_prompt,
        &[("prompt", &shorten(prompt, PROPOSAL_CHARS))],
    );
    let keyboard = InlineKeyboard::default()
        .row([
            button(&t.button_use_prompt, PhotoPromptAction::Use),
            button(&t.button_edit_prompt, PhotoPromptAction::Edit),
        ])
        .row([button(&t.button_cancel, PhotoPromptAction::Cancel)]);
    Screen::text(html, keyboard)
}

/// Asks for the person's version, with the proposal to copy.
pub fn edit_proposed(t: &Texts, prompt: &str) -> Screen {
    let html = fill(
        &t.edit_proposed,
        &[("prompt", &shorten(prompt, PROPOSAL_CHARS))],
    );
    Screen::text(html, cancel_only(t))
}

pub fn reference_rejected(t: &Texts, why: ReferenceRejection) -> Screen {
    let html = match why {
        ReferenceRejection::TooLarge => &t.reference_too_large,
        ReferenceRejection::NotAnImage => &t.reference_not_image,
        ReferenceRejection::Sticker => &t.reference_sticker,
        ReferenceRejection::NotAPhoto => &t.reference_not_photo,
    };
    Screen::text(html.clone(), cancel_only(t))
}

pub fn photo_failed(t: &Texts, avatar: AvatarId, failure: PromptFailure) -> Screen {
    let html = match failure {
        PromptFailure::Busy => &t.photo_failed_busy,
        PromptFailure::Unavailable => &t.photo_failed_quota,
        PromptFailure::Refused => &t.photo_failed_refused,
        PromptFailure::Unreadable | PromptFailure::TooLong => &t.photo_failed_unreadable,
        PromptFailure::BadImage => &t.photo_failed_bad_image,
        PromptFailure::ImageTooLarge => &t.reference_too_large,
    };
    Screen::text(html.clone(), after_failure(t, avatar, true))
}

pub fn translation_failed(t: &Texts, avatar: AvatarId, failure: PromptFailure) -> Screen {
    let html = match failure {
        PromptFailure::Busy => &t.translation_failed_busy,
        PromptFailure::Refused => &t.translation_refused,
        PromptFailure::TooLong => &t.translation_too_long,
        PromptFailure::Unavailable
        | PromptFailure::Unreadable
        | PromptFailure::BadImage
        | PromptFailure::ImageTooLarge => &t.translation_failed,
    };
    Screen::text(html.clone(), after_failure(t, avatar, false))
}

/// A prompt that needs translating, on a bot without a model to translate it.
pub fn translation_unavailable(t: &Texts, avatar: AvatarId) -> Screen {
    Screen::text(
        t.translation_unavailable.clone(),
        after_failure(t, avatar, false),
    )
}

#[cfg(test)]
mod tests {
    use studio_domain::{Language, PromptFailure};

    use crate::texts;

    #[test]
    fn proposals_are_escaped_and_fit_a_message() {
        let t = texts(Language::En);
        let screen = super::proposed(t, &format!("<b>{}", "x".repeat(5000)));
        assert!(screen.html.contains("&lt;b&gt;"));
        assert!(screen.html.chars().count() <= 4096);
    }

    #[test]
    fn every_failure_has_words_in_both_languages() {
        for language in [Language::En, Language::Ru] {
            let t = texts(language);
            for failure in [
                PromptFailure::Busy,
                PromptFailure::Unavailable,
                PromptFailure::Refused,
                PromptFailure::Unreadable,
                PromptFailure::BadImage,
                PromptFailure::ImageTooLarge,
                PromptFailure::TooLong,
            ] {
                let avatar = studio_domain::AvatarId(1);
                assert!(!super::photo_failed(t, avatar, failure).html.is_empty());
                assert!(
                    !super::translation_failed(t, avatar, failure)
                        .html
                        .is_empty()
                );
            }
        }
    }
}

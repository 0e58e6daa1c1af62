//! UI texts, one JSON resource file per language. Each file must fill every field of `Texts`
//! (`deny_unknown_fields` and no defaults), so a missing or misspelt key fails the tests, not
//! a user. Values are trusted HTML; `{name}`-style slots are filled with escaped text.

use std::sync::LazyLock;

use serde::Deserialize;
use studio_domain::Language;

use crate::text::escape;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub greeting: String,
    pub menu_title: String,
    pub button_create_image: String,
    pub button_my_avatars: String,
    pub button_my_gallery: String,
    pub button_profile: String,
    pub button_help: String,
    pub button_main_menu: String,
    pub help: String,
    pub unknown_input: String,
    pub stale_button: String,
    pub stale_button_short: String,
    pub profile: String,
    pub language_name: String,
    pub button_top_up: String,
    pub button_history: String,
    pub button_promo: String,
    pub button_settings: String,
    pub button_profile_back: String,
    pub button_older: String,
    pub history_title: String,
    pub history_empty: String,
    pub history_line: String,
    pub kind_welcome_bonus: String,
    pub kind_top_up: String,
    pub kind_promo: String,
    pub kind_admin_credit: String,
    pub kind_admin_debit: String,
    pub kind_training_debit: String,
    pub kind_training_refund: String,
    pub kind_generation_debit: String,
    pub kind_generation_refund: String,
    pub kind_payment_refund: String,
    pub top_up_title: String,
    pub package_button: String,
    pub invoice_title: String,
    pub invoice_description: String,
    pub package_gone: String,
    pub receipt: String,
    pub refund_received: String,
    pub ask_promo: String,
    pub promo_credited: String,
    pub promo_unknown: String,
    pub promo_expired: String,
    pub promo_exhausted: String,
    pub promo_already_used: String,
    pub settings_title: String,
    pub avatars_empty: String,
    pub card: String,
    pub main_badge: String,
    pub gender_male: String,
    pub gender_female: String,
    pub status_draft: String,
    pub status_photos_uploading: String,
    pub status_ready_for_training: String,
    pub status_training: String,
    pub status_completed: String,
    pub status_error: String,
    pub status_cancelled: String,
    pub button_create_avatar: String,
    pub button_make_main: String,
    pub button_generate: String,
    pub button_continue: String,
    pub button_rename: String,
    pub button_delete: String,
    pub button_photos: String,
    pub button_review: String,
    pub button_cancel_draft: String,
    pub button_start_training: String,
    pub button_my_avatars_back: String,
    pub button_back_to_upload: String,
    pub button_delete_photo: String,
    pub button_yes_delete: String,
    pub button_yes_cancel_draft: String,
    pub button_no: String,
    pub button_start_over: String,
    pub ask_gender: String,
    pub draft_exists: String,
    pub ask_name: String,
    pub name_too_short: String,
    pub name_too_long: String,
    pub name_not_text: String,
    pub upload_intro: String,
    pub progress: String,
    pub progress_need: String,
    pub progress_ready: String,
    pub photo_too_large: String,
    pub photo_heic: String,
    pub photo_unsupported: String,
    pub photo_not_image: String,
    pub photo_too_small: String,
    pub photo_too_many_pixels: String,
    pub photo_duplicate: String,
    pub photo_limit: String,
    pub photo_download_failed: String,
    pub need_photo: String,
    pub photo_view: String,
    pub photos_empty: String,
    pub review: String,
    pub review_ready: String,
    pub review_need_photos: String,
    pub review_need_credits: String,
    pub delete_confirm: String,
    pub deleted: String,
    pub deleted_refunded: String,
    pub model_limit_reached: String,
    pub blocked_limit_reached: String,
    pub promo_too_many: String,
    pub cancel_draft_confirm: String,
    pub draft_cancelled: String,
    pub avatar_not_found: String,
    pub ask_rename: String,
    pub renamed: String,
    pub toast_made_main: String,
    pub toast_not_trained: String,
    pub toast_photo_deleted: String,
    pub gen_menu: String,
    pub gen_low_balance: String,
    pub gen_no_avatar: String,
    pub gen_not_ready_draft: String,
    pub gen_not_ready_uploading: String,
    pub gen_not_ready_ready: String,
    pub gen_not_ready_training: String,
    pub gen_not_ready_error: String,
    pub gen_not_ready_cancelled: String,
    pub button_custom_prompt: String,
    pub button_prompt_from_photo: String,
    pub button_change_avatar: String,
    pub photo_prompt_unavailable: String,
    pub ask_prompt: String,
    pub prompt_too_short: String,
    pub prompt_too_long: String,
    pub prompt_not_text: String,
    pub choose_ratio_translated: String,
    pub translation_unavailable: String,
    pub translating: String,
    pub model_busy: String,
    pub ask_reference: String,
    pub analysing: String,
    pub proposed_prompt: String,
    pub edit_proposed: String,
    pub button_use_prompt: String,
    pub button_edit_prompt: String,
    pub button_cancel: String,
    pub button_another_photo: String,
    pub reference_too_large: String,
    pub reference_not_image: String,
    pub reference_sticker: String,
    pub reference_not_photo: String,
    pub photo_failed_busy: String,
    pub photo_failed_quota: String,
    pub photo_failed_refused: String,
    pub photo_failed_unreadable: String,
    pub photo_failed_bad_image: String,
    pub translation_failed_busy: String,
    pub translation_failed: String,
    pub translation_refused: String,
    pub translation_too_long: String,
    pub choose_ratio: String,
    pub ratio_square: String,
    pub ratio_portrait: String,
    pub ratio_landscape: String,
    pub ratio_stories: String,
    pub ratio_cinema: String,
    pub queued: String,
    pub not_enough_credits: String,
    pub result_caption: String,
    pub button_again: String,
    pub button_show_prompt: String,
    pub button_gallery: String,
    pub failed_provider: String,
    pub failed_rejected: String,
    pub failed_nsfw: String,
    pub failed_timeout: String,
    pub failed_avatar: String,
    pub prompt_full: String,
    pub prompt_sent_as: String,
    pub generation_not_found: String,
    pub gallery_empty: String,
    pub gallery_card: String,
    pub favourite_badge: String,
    pub button_favourite: String,
    pub button_unfavourite: String,
    pub button_full_prompt: String,
    pub button_regenerate: String,
    pub button_filters: String,
    pub button_stats: String,
    pub button_back_to_gallery: String,
    pub button_styles: String,
    pub styles_menu: String,
    pub button_my_styles: String,
    pub button_packs: String,
    pub button_styles_back: String,
    pub button_back_to_generation: String,
    pub styles_category: String,
    pub styles_mine: String,
    pub styles_mine_empty: String,
    pub style_card: String,
    pub button_style_generate: String,
    pub button_star: String,
    pub button_unstar: String,
    pub style_starred: String,
    pub style_unstarred: String,
    pub style_caption: String,
    pub gallery_style: String,
    pub packs_title: String,
    pub pack_button: String,
    pub pack_card: String,
    pub button_order_pack: String,
    pub pack_not_enough_credits: String,
    pub pack_ordered: String,
    pub pack_progress: String,
    pub pack_progress_failed: String,
    pub pack_done: String,
    pub pack_album_caption: String,
    pub gallery_delete_confirm: String,
    pub gallery_deleted: String,
    pub gallery_filters: String,
    pub button_filter_all: String,
    pub button_filter_favourites: String,
    pub gallery_stats: String,
    pub button_quick_on: String,
    pub button_quick_off: String,
    pub training_started: String,
    pub training_elapsed: String,
    pub button_refresh: String,
    pub button_cancel_training: String,
    pub button_yes_cancel_training: String,
    pub cancel_training_confirm: String,
    pub training_cancelled: String,
    pub training_ready: String,
    pub training_failed: String,
    pub training_failed_timeout: String,
}

static RU: LazyLock<Texts> = LazyLock::new(|| load(include_str!("../locales/ru.json"), "ru"));
static EN: LazyLock<Texts> = LazyLock::new(|| load(include_str!("../locales/en.json"), "en"));

#[allow(clippy::panic)] // resource files are compiled in; the tests parse both of them
fn load(json: &str, name: &str) -> Texts {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("locales/{name}.json is invalid: {e}"))
}

pub fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Ru => &RU,
        Language::En => &EN,
    }
}

/// Fills `{slot}`s of a template with escaped values, in one pass over the template: a value
/// is never read again for slots, so an avatar named `{prompt}` stays its name. A `{` that
/// opens no known slot is kept as written.
pub fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, value) = slots.iter().find(|(slot, _)| *slot == name)?;
            Some((value, close))
        });
        match known {
            Some((value, close)) => {
                out.push_str(&escape(value));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use studio_domain::Language;

    use super::{fill, texts};

    #[test]
    fn every_language_file_is_complete() {
        for language in Language::ALL {
            assert!(!texts(language).greeting.is_empty());
        }
    }

    #[test]
    fn a_value_is_never_read_for_slots() {
        assert_eq!(
            fill(
                "{name}: {prompt}",
                &[("name", "{prompt}"), ("prompt", "a cat")]
            ),
            "{prompt}: a cat"
        );
        assert_eq!(fill("{a} {unknown} {", &[("a", "x")]), "x {unknown} {");
    }

    #[test]
    fn slots_are_filled_escaped() {
        assert_eq!(
            fill("Hi, <b>{name}</b>", &[("name", "<TOK>")]),
            "Hi, <b>&lt;TOK&gt;</b>"
        );
    }
}

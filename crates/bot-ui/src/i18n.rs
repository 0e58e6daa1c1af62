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
    pub coming_soon: String,
    pub unknown_input: String,
    pub stale_button: String,
    pub stale_button_short: String,
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

/// Fills `{slot}`s of a template with escaped values.
pub fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    slots
        .iter()
        .fold(template.to_owned(), |acc, (slot, value)| {
            acc.replace(&format!("{{{slot}}}"), &escape(value))
        })
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
    fn slots_are_filled_escaped() {
        assert_eq!(
            fill("Hi, <b>{name}</b>", &[("name", "<TOK>")]),
            "Hi, <b>&lt;TOK&gt;</b>"
        );
    }
}

//! The style library: categories of tested portrait prompts and packs of them, shipped as
//! reviewed data files (`styles/` at the repository's root), compiled in and validated once.

mod key;
mod load;
mod prices;

use std::collections::HashMap;
use std::sync::LazyLock;

pub use key::{CategoryKey, PackKey, StyleKey};
pub use load::LibraryError;
pub use prices::{PackPrices, PricesError};

use crate::{AspectRatio, Credits, Gender, Language};

/// A name in every language the bot speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Localized {
    pub en: String,
    pub ru: String,
}

impl Localized {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::En => &self.en,
            Language::Ru => &self.ru,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    pub key: StyleKey,
    pub category: CategoryKey,
    pub name: Localized,
    pub ratio: AspectRatio,
    /// FAL's `guidance_scale` for this look, when it needs other than the model's default.
    pub guidance: Option<f64>,
    /// English, with `{trigger}` once and optionally `{person}` (checked at load).
    template: String,
}

impl Style {
    /// The prompt for an avatar: its trigger phrase as the subject, and the word for its
    /// gender. One pass, so a trigger phrase that looks like a slot stays as it is.
    pub fn prompt(&self, trigger: &str, gender: Gender) -> String {
        let person = match gender {
            Gender::Male => "man",
            Gender::Female => "woman",
        };
        let mut out = String::with_capacity(self.template.len() + trigger.len());
        let mut rest = self.template.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let (value, skip) = if after.starts_with(load::TRIGGER) {
                (trigger, load::TRIGGER.len())
            } else if after.starts_with(load::PERSON) {
                (person, load::PERSON.len())
            } else {
                ("{", 1)
            };
            out.push_str(value);
            rest = &after[skip..];
        }
        out.push_str(rest);
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub key: CategoryKey,
    pub emoji: String,
    pub name: Localized,
    pub styles: Vec<StyleKey>,
}

/// A set of styles sold together for one price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    pub key: PackKey,
    pub name: Localized,
    pub styles: Vec<StyleKey>,
}

impl Pack {
    pub const MIN_STYLES: usize = 4;
    pub const MAX_STYLES: usize = 10;
}

#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    categories: Vec<Category>,
    styles: HashMap<StyleKey, Style>,
    packs: Vec<Pack>,
}

impl Library {
    /// The library shipped in `styles/`, read and validated once per process: it is
    /// compiled in, so every later call would find the same.
    pub fn builtin() -> Result<&'static Self, LibraryError> {
        static BUILTIN: LazyLock<Result<Library, LibraryError>> = LazyLock::new(load::builtin);
        BUILTIN.as_ref().map_err(Clone::clone)
    }

    /// Categories in menu order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn category(&self, key: CategoryKey) -> Option<&Category> {
        self.categories.iter().find(|c| c.key == key)
    }

    pub fn style(&self, key: StyleKey) -> Option<&Style> {
        self.styles.get(&key)
    }

    /// Every style, category by category in menu order.
    pub fn styles(&self) -> impl Iterator<Item = &Style> {
        self.categories
            .iter()
            .flat_map(|c| c.styles.iter().filter_map(|k| self.styles.get(k)))
    }

    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    pub fn pack(&self, key: PackKey) -> Option<&Pack> {
        self.packs.iter().find(|p| p.key == key)
    }
}

/// Orders styles most used first (uses counted by the caller, e.g. over 7 days); ties keep
/// the library's order.
pub fn popular_first(styles: &mut [StyleKey], uses: &HashMap<StyleKey, u64>) {
    styles.sort_by_key(|key| std::cmp::Reverse(uses.get(key).copied().unwrap_or(0)));
}

/// A pack's price split over its images, so a failed image refunds its own share and the
/// shares add up to the price exactly (the first ones carry the remainder).
pub fn shares(price: Credits, images: usize) -> Vec<Credits> {
    let Ok(n) = u32::try_from(images) else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    let (each, rest) = (price.get() / n, price.get() % n);
    (0..n)
        .map(|i| Credits::new(each + u32::from(i < rest)))
        .collect()
}

#[cfg(test)]
mod tests;

//! Reading and checking the shipped data files. Every rule a person would trip over is a
//! start-up error naming the file and the style: a template without the trigger slot (the
//! avatar would not appear), a name missing in a language, a ratio we cannot render.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::{Category, CategoryKey, Library, Localized, Pack, PackKey, Style, StyleKey};
use crate::AspectRatio;

pub(super) const TRIGGER: &str = "{trigger}";
pub(super) const PERSON: &str = "{person}";

/// The data files, compiled in: the binary carries the library it was tested with.
const CATEGORY_FILES: [(&str, &str); 8] = [
    file!("business"),
    file!("fashion"),
    file!("fantasy"),
    file!("travel"),
    file!("vintage"),
    file!("sport"),
    file!("holiday"),
    file!("cinema"),
];

macro_rules! file {
    ($name:literal) => {
        (
            concat!("styles/categories/", $name, ".toml"),
            include_str!(concat!("../../../../styles/categories/", $name, ".toml")),
        )
    };
}
use file;

const PACKS_FILE: (&str, &str) = (
    "styles/packs.toml",
    include_str!("../../../../styles/packs.toml"),
);

const NAME_CHARS: std::ops::RangeInclusive<usize> = 3..=28;
const GUIDANCE: std::ops::RangeInclusive<f64> = 1.0..=10.0;
const MIN_STYLES_PER_CATEGORY: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct LibraryError {
    pub file: String,
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameFile {
    en: String,
    ru: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    key: String,
    emoji: String,
    order: u32,
    name: NameFile,
    styles: Vec<StyleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleFile {
    key: String,
    name: NameFile,
    ratio: String,
    guidance: Option<f64>,
    prompt: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PacksFile {
    packs: Vec<PackFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    key: String,
    name: NameFile,
    styles: Vec<String>,
}

pub(super) fn builtin() -> Result<Library, LibraryError> {
    let files: Vec<(&str, &str)> = CATEGORY_FILES.to_vec();
    parse(&files, PACKS_FILE)
}

/// Builds a library from category files and a packs file, given as (name, text).
fn parse(categories: &[(&str, &str)], packs: (&str, &str)) -> Result<Library, LibraryError> {
    let mut read = Vec::new();
    for (file, text) in categories {
        let fail = |problem: String| LibraryError {
            file: (*file).to_owned(),
            problem,
        };
        let category: CategoryFile = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        read.push(category_of(category).map_err(fail)?);
    }
    read.sort_by_key(|(order, _, _)| *order);
    let mut library = Library {
        categories: Vec::new(),
        styles: HashMap::new(),
        packs: Vec::new(),
    };
    for (_, category, styles) in read {
        if library.category(category.key).is_some() {
            return Err(LibraryError {
                file: category.key.to_string(),
                problem: "category key used twice".into(),
            });
        }
        library
            .styles
            .extend(styles.into_iter().map(|s| (s.key, s)));
        library.categories.push(category);
    }
    let fail = |problem: String| LibraryError {
        file: packs.0.to_owned(),
        problem,
    };
    let file: PacksFile = toml::from_str(packs.1).map_err(|e| fail(e.to_string()))?;
    for pack in file.packs {
        let pack = pack_of(pack, &library).map_err(fail)?;
        if library.pack(pack.key).is_some() {
            return Err(fail(format!("pack {} defined twice", pack.key)));
        }
        library.packs.push(pack);
    }
    Ok(library)
}

fn category_of(file: CategoryFile) -> Result<(u32, Category, Vec<Style>), String> {
    let key = CategoryKey::parse(&file.key)
        .filter(|_| !file.key.contains('.'))
        .ok_or_else(|| format!("category key {:?} is not [a-z0-9-]", file.key))?;
    let name = names(file.name).map_err(|p| format!("category name: {p}"))?;
    if file.styles.len() < MIN_STYLES_PER_CATEGORY {
        return Err(format!("fewer than {MIN_STYLES_PER_CATEGORY} styles"));
    }
    let mut styles: Vec<Style> = Vec::new();
    for style in file.styles {
        let label = style.key.clone();
        let style = style_of(key, style).map_err(|p| format!("style {label:?}: {p}"))?;
        if styles.iter().any(|s| s.key == style.key) {
            return Err(format!("style {label:?} defined twice"));
        }
        styles.push(style);
    }
    let category = Category {
        key,
        emoji: file.emoji,
        name,
        styles: styles.iter().map(|s| s.key).collect(),
    };
    Ok((file.order, category, styles))
}

fn style_of(category: CategoryKey, file: StyleFile) -> Result<Style, String> {
    let key = StyleKey::parse(&format!("{category}.{}", file.key))
        .filter(|_| !file.key.contains('.'))
        .ok_or("key is not [a-z0-9-] or too long")?;
    let ratio = AspectRatio::from_label(&file.ratio)
        .ok_or_else(|| format!("ratio {:?} is not one we render", file.ratio))?;
    if let Some(guidance) = file.guidance
        && !GUIDANCE.contains(&guidance)
    {
        return Err(format!("guidance {guidance} outside {GUIDANCE:?}"));
    }
    check_template(&file.prompt)?;
    Ok(Style {
        key,
        category,
        name: names(file.name)?,
        ratio,
        guidance: file.guidance,
        template: file.prompt,
    })
}

/// The trigger slot exactly once (the LoRA applies to the subject), `{person}` at most once,
/// and no other braces, which would reach the model as written.
fn check_template(template: &str) -> Result<(), String> {
    if template.matches(TRIGGER).count() != 1 {
        return Err(format!("the template needs {TRIGGER} exactly once"));
    }
    if template.matches(PERSON).count() > 1 {
        return Err(format!("{PERSON} more than once"));
    }
    let bare = template.replace(TRIGGER, "").replace(PERSON, "");
    if bare.contains(['{', '}']) {
        return Err("an unknown {slot}".into());
    }
    if !template.is_ascii() {
        return Err("the template is not plain English text".into());
    }
    Ok(())
}

fn names(file: NameFile) -> Result<Localized, String> {
    for (language, name) in [("en", &file.en), ("ru", &file.ru)] {
        let chars = name.trim().chars().count();
        if !NAME_CHARS.contains(&chars) {
            return Err(format!(
                "name.{language} {name:?} is not {NAME_CHARS:?} characters"
            ));
        }
    }
    Ok(Localized {
        en: file.en.trim().to_owned(),
        ru: file.ru.trim().to_owned(),
    })
}

fn pack_of(file: PackFile, library: &Library) -> Result<Pack, String> {
    let key = PackKey::parse(&file.key)
        .filter(|_| !file.key.contains('.'))
        .ok_or_else(|| format!("pack key {:?} is not [a-z0-9-]", file.key))?;
    let name = names(file.name).map_err(|p| format!("pack {key}: {p}"))?;
    let mut styles = Vec::new();
    let mut seen = HashSet::new();
    for style in &file.styles {
        let found = StyleKey::parse(style)
            .filter(|k| library.style(*k).is_some())
            .ok_or_else(|| format!("pack {key}: no style {style:?}"))?;
        if !seen.insert(found) {
            return Err(format!("pack {key}: {style} listed twice"));
        }
        styles.push(found);
    }
    if !(Pack::MIN_STYLES..=Pack::MAX_STYLES).contains(&styles.len()) {
        return Err(format!(
            "pack {key} has {} styles, not {}–{}",
            styles.len(),
            Pack::MIN_STYLES,
            Pack::MAX_STYLES
        ));
    }
    Ok(Pack { key, name, styles })
}

#[cfg(test)]
mod tests {
    use super::parse;

    const PACKS: (&str, &str) = ("packs.toml", "packs = []");

    fn category(prompt: &str, ru: &str) -> String {
        let style = |k: &str| {
            format!(
                "[[styles]]\nkey = \"{k}\"\nname = {{ en = \"Style {k}\", ru = \"{ru}\" }}\n\
                 ratio = \"3:4\"\nprompt = \"{prompt}\"\n"
            )
        };
        let styles: String = ["a1", "a2", "a3", "a4", "a5"].map(style).concat();
        format!(
            "key = \"test\"\nemoji = \"x\"\norder = 1\nname = {{ en = \"Test\", ru = \"Тест\" }}\n{styles}"
        )
    }

    fn problem(text: &str) -> String {
        parse(&[("test.toml", text)], PACKS)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_template_without_the_trigger_slot_is_refused() {
        let text = category("portrait of a {person}", "Стиль");
        assert!(problem(&text).contains("{trigger} exactly once"));
        let ok = category("portrait of {trigger}, a {person}", "Стиль");
        assert!(parse(&[("test.toml", &ok)], PACKS).is_ok());
    }

    #[test]
    fn unknown_slots_and_missing_names_are_refused() {
        let text = category("portrait of {trigger} in {city}", "Стиль");
        assert!(problem(&text).contains("unknown {slot}"));
        let text = category("portrait of {trigger}", "");
        assert!(problem(&text).contains("name.ru"));
    }

    #[test]
    fn packs_must_name_known_styles_four_to_ten() {
        let text = category("portrait of {trigger}", "Стиль");
        let three = "[[packs]]\nkey = \"p\"\nname = { en = \"Pack\", ru = \"Пакет\" }\n\
                     styles = [\"test.a1\", \"test.a2\", \"test.a3\"]";
        let err = parse(&[("test.toml", &text)], ("packs.toml", three)).unwrap_err();
        assert!(err.to_string().contains("3 styles"), "{err}");
        let unknown = three.replace("test.a3", "test.zz");
        let err = parse(&[("test.toml", &text)], ("packs.toml", &unknown)).unwrap_err();
        assert!(err.to_string().contains("no style"), "{err}");
    }
}

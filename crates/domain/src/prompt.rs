use std::fmt;

/// What a person asks an image of: 3–1000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    #[error("prompt is shorter than 3 characters")]
    TooShort,
    #[error("prompt is longer than 1000 characters")]
    TooLong,
}

impl Prompt {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(raw: &str) -> Result<Self, PromptError> {
        let trimmed = raw.trim();
        match trimmed.chars().count() {
            0..Self::MIN_CHARS => Err(PromptError::TooShort),
            Self::MIN_CHARS..=Self::MAX_CHARS => Ok(Self(trimmed.to_owned())),
            _ => Err(PromptError::TooLong),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the model needs this prompt in English first. Cheap on purpose: any letter
    /// outside ASCII (Cyrillic, CJK, accented Latin) counts. An English prompt with "café"
    /// costs one needless translation, which comes back unchanged.
    pub fn needs_translation(&self) -> bool {
        self.0.chars().any(|c| c.is_alphabetic() && !c.is_ascii())
    }

    /// Whether every letter is Latin (accents included). Such a prompt can go to the model
    /// untranslated when no translator is configured; Cyrillic or CJK cannot.
    pub fn is_latin(&self) -> bool {
        self.0.chars().filter(|c| c.is_alphabetic()).all(is_latin)
    }

    /// The text the model gets: the avatar's trigger phrase first, so the LoRA applies.
    pub fn for_model(english: &str, trigger_phrase: &str) -> String {
        let english = english.trim();
        if english.starts_with(trigger_phrase) {
            english.to_owned()
        } else {
            format!("{trigger_phrase}, {english}")
        }
    }
}

impl fmt::Display for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Basic Latin, Latin-1, Latin Extended-A/B and Latin Extended Additional.
fn is_latin(c: char) -> bool {
    matches!(c, 'A'..='Z' | 'a'..='z' | '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}')
}

/// Shortens text to at most `max` characters, ending with `…` when it was cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::{Prompt, PromptError, shorten};

    #[test]
    fn only_prompts_with_non_ascii_letters_need_translation() {
        let needs = |s: &str| Prompt::parse(s).unwrap().needs_translation();
        assert!(needs("портрет в кожаной куртке"));
        assert!(needs("portrait, ночь"));
        assert!(needs("夜の街のポートレート"));
        assert!(!needs("portrait in a leather jacket, 35mm, f/1.8 — neon"));
        assert!(!needs("😀 happy portrait 100%"));
        let latin = |s: &str| Prompt::parse(s).unwrap().is_latin();
        assert!(latin("portrait like Beyoncé in a café, Łódź, Straße"));
        assert!(!latin("portrait, ночь"));
        assert!(!latin("夜の街"));
    }

    #[test]
    fn bounds_count_characters_after_trimming() {
        assert_eq!(Prompt::parse("  ab "), Err(PromptError::TooShort));
        assert_eq!(Prompt::parse(" кот ").unwrap().as_str(), "кот");
        assert!(Prompt::parse(&"ж".repeat(1000)).is_ok());
        assert_eq!(Prompt::parse(&"ж".repeat(1001)), Err(PromptError::TooLong));
    }

    #[test]
    fn model_prompt_starts_with_the_trigger_phrase_once() {
        assert_eq!(Prompt::for_model("a knight", "ohwx7"), "ohwx7, a knight");
        assert_eq!(
            Prompt::for_model("ohwx7 as a knight", "ohwx7"),
            "ohwx7 as a knight"
        );
    }

    #[test]
    fn shorten_cuts_on_characters() {
        assert_eq!(shorten("привет", 10), "привет");
        assert_eq!(shorten("привет", 4), "при…");
        assert_eq!(shorten("привет", 4).chars().count(), 4);
    }
}

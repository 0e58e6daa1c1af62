use serde::{Deserialize, Serialize};

/// The UI language. Russian first: anything that is not clearly English gets Russian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Ru,
    En,
}

impl Language {
    pub const ALL: [Self; 2] = [Self::Ru, Self::En];

    /// From Telegram's IETF `language_code` ("en", "en-US", "ru", absent).
    pub fn from_telegram(code: Option<&str>) -> Self {
        match code.map(|c| c.split(['-', '_']).next().unwrap_or(c)) {
            Some(primary) if primary.eq_ignore_ascii_case("en") => Self::En,
            _ => Self::Ru,
        }
    }

    pub const fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::Language;

    #[test]
    fn telegram_codes_pick_the_language() {
        assert_eq!(Language::from_telegram(Some("en")), Language::En);
        assert_eq!(Language::from_telegram(Some("en-GB")), Language::En);
        assert_eq!(Language::from_telegram(Some("ru")), Language::Ru);
        assert_eq!(Language::from_telegram(Some("de")), Language::Ru);
        assert_eq!(Language::from_telegram(None), Language::Ru);
    }
}

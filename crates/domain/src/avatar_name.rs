use std::fmt;

/// An avatar's name: 2–50 characters after trimming, for creation and rename alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name is shorter than 2 characters")]
    TooShort,
    #[error("name is longer than 50 characters")]
    TooLong,
}

impl AvatarName {
    pub const MIN_CHARS: usize = 2;
    pub const MAX_CHARS: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let trimmed = raw.trim();
        match trimmed.chars().count() {
            0..Self::MIN_CHARS => Err(NameError::TooShort),
            Self::MIN_CHARS..=Self::MAX_CHARS => Ok(Self(trimmed.to_owned())),
            _ => Err(NameError::TooLong),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AvatarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{AvatarName, NameError};

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        assert_eq!(AvatarName::parse("  Аня ").unwrap().as_str(), "Аня");
        assert_eq!(AvatarName::parse(" я "), Err(NameError::TooShort));
        assert_eq!(AvatarName::parse(""), Err(NameError::TooShort));
        assert!(AvatarName::parse(&"ж".repeat(50)).is_ok());
        assert_eq!(AvatarName::parse(&"ж".repeat(51)), Err(NameError::TooLong));
    }
}

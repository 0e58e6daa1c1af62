//! Keys of styles, categories and packs: short ASCII names that travel in `callback_data`, so
//! they are `Copy` values of at most `Key::MAX` bytes rather than heap strings.

use std::fmt;

/// `[a-z0-9-]` words joined by `.`, 1–`MAX` bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    len: u8,
    bytes: [u8; Key::MAX],
}

impl Key {
    pub const MAX: usize = 30;

    pub fn parse(text: &str) -> Option<Self> {
        let allowed =
            |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
        if text.is_empty() || text.len() > Self::MAX || !text.bytes().all(allowed) {
            return None;
        }
        let mut bytes = [0; Self::MAX];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Some(Self {
            len: u8::try_from(text.len()).ok()?,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (see `parse`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! key_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Key);

        impl $name {
            pub fn parse(text: &str) -> Option<Self> {
                Key::parse(text).map(Self)
            }

            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

key_type!(
    /// A style, as `category.style` ("business.headshot").
    StyleKey
);
key_type!(CategoryKey);
key_type!(PackKey);

#[cfg(test)]
mod tests {
    use super::{Key, StyleKey};

    #[test]
    fn keys_are_short_lowercase_ascii() {
        assert_eq!(
            StyleKey::parse("business.headshot").map(|k| k.to_string()),
            Some("business.headshot".into())
        );
        for bad in ["", "Business", "a:b", "é", "a b", &"x".repeat(Key::MAX + 1)] {
            assert_eq!(Key::parse(bad), None, "{bad:?}");
        }
        assert!(Key::parse(&"x".repeat(Key::MAX)).is_some());
    }
}

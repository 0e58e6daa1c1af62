//! `callback_data`: a compact, versioned codec. Telegram gives us 64 bytes; every variant fits
//! with the largest ids (tested). Anything that does not decode, including payloads of an
//! older version or of another bot, is `None`, which the caller treats as a stale button.

/// Bumped when the encoding changes; older buttons then decode to `None`.
const VERSION: &str = "1";
pub const MAX_BYTES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    Menu(Menu),
}

/// The main menu's destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    Main,
    CreateImage,
    MyAvatars,
    MyGallery,
    Profile,
    Help,
}

impl Menu {
    pub const ALL: [Self; 6] = [
        Self::Main,
        Self::CreateImage,
        Self::MyAvatars,
        Self::MyGallery,
        Self::Profile,
        Self::Help,
    ];

    const fn code(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::CreateImage => "gen",
            Self::MyAvatars => "avs",
            Self::MyGallery => "gal",
            Self::Profile => "prof",
            Self::Help => "help",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }
}

impl Callback {
    pub fn encode(self) -> String {
        match self {
            Self::Menu(menu) => format!("{VERSION}:m:{}", menu.code()),
        }
    }

    pub fn decode(data: &str) -> Option<Self> {
        let mut parts = data.split(':');
        if parts.next()? != VERSION {
            return None;
        }
        let callback = match (parts.next()?, parts.next()) {
            ("m", Some(code)) => Self::Menu(Menu::from_code(code)?),
            _ => return None,
        };
        parts.next().is_none().then_some(callback)
    }

    /// Every variant with extreme arguments, for the round-trip and size tests.
    #[cfg(test)]
    fn samples() -> Vec<Self> {
        Menu::ALL.into_iter().map(Self::Menu).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Callback, MAX_BYTES, Menu};

    #[test]
    fn every_variant_round_trips_within_64_bytes() {
        for callback in Callback::samples() {
            let data = callback.encode();
            assert!(data.len() <= MAX_BYTES, "{data} is {} bytes", data.len());
            assert_eq!(Callback::decode(&data), Some(callback), "{data}");
        }
    }

    #[test]
    fn foreign_and_tampered_payloads_are_stale() {
        for data in [
            "",
            "test",
            "0:m:main",
            "1:m",
            "1:m:nope",
            "1:m:main:extra",
            "1:x:main",
        ] {
            assert_eq!(Callback::decode(data), None, "{data:?}");
        }
        assert_eq!(
            Callback::decode("1:m:help"),
            Some(Callback::Menu(Menu::Help))
        );
    }
}

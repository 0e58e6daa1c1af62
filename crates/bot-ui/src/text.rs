//! The one place that escapes text for Telegram's `parse_mode: "HTML"`: user and model text
//! goes through `escape` (templates through `i18n::fill`, which calls it), so it can never
//! break the markup.

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// `plain` cut to at most `max` of Telegram's length units, ending in `…` when cut. Telegram
/// limits text and captions in UTF-16 code units after entity parsing: an emoji outside the
/// Basic Multilingual Plane counts twice, and `&lt;` once.
pub fn shorten(plain: &str, max: usize) -> String {
    if plain.encode_utf16().count() <= max {
        return plain.to_owned();
    }
    let room = max.saturating_sub(1);
    let mut used = 0;
    let mut out: String = plain
        .chars()
        .take_while(|c| {
            used += c.len_utf16();
            used <= room
        })
        .collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::{escape, shorten};

    #[test]
    fn shortens_to_telegrams_utf16_length() {
        assert_eq!(shorten("short", 10), "short");
        let emoji = "😀".repeat(10);
        let cut = shorten(&emoji, 9);
        assert_eq!(cut, format!("{}…", "😀".repeat(4)));
        assert!(cut.encode_utf16().count() <= 9);
    }

    #[test]
    fn escapes_markup_characters() {
        assert_eq!(escape("<TOK> & co"), "&lt;TOK&gt; &amp; co");
        assert_eq!(escape("1 < 2"), "1 &lt; 2");
    }
}

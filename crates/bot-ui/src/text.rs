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

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_characters() {
        assert_eq!(escape("<TOK> & co"), "&lt;TOK&gt; &amp; co");
        assert_eq!(escape("1 < 2"), "1 &lt; 2");
    }
}

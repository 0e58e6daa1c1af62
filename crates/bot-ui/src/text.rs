//! The one place that escapes text: a `Text` is HTML for Telegram's `parse_mode: "HTML"`,
//! built from escaped pieces, so user or model text can never break the markup.

use std::fmt::Write;

/// Telegram's limit for a message text, in characters.
pub const MESSAGE_LIMIT: usize = 4096;
/// Telegram's limit for a media caption, in characters.
pub const CAPTION_LIMIT: usize = 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    pub fn new() -> Self {
        Self::default()
    }

    /// Text taken as it is, with `<`, `>` and `&` escaped.
    pub fn plain(mut self, s: &str) -> Self {
        escape_into(&mut self.0, s);
        self
    }

    pub fn bold(mut self, s: &str) -> Self {
        self.0.push_str("<b>");
        escape_into(&mut self.0, s);
        self.0.push_str("</b>");
        self
    }

    pub fn line(mut self) -> Self {
        self.0.push('\n');
        self
    }

    /// A trusted fragment from our own resource files, which may hold `<b>` and the like.
    pub fn markup(mut self, html: &str) -> Self {
        self.0.push_str(html);
        self
    }

    pub fn as_html(&self) -> &str {
        &self.0
    }

    pub fn into_html(self) -> String {
        self.0
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
}

/// Shortens `s` to at most `max` characters, ending with "…" when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    let _ = write!(out, "…");
    out
}

#[cfg(test)]
mod tests {
    use super::{Text, escape, shorten};

    #[test]
    fn escapes_user_text_but_keeps_our_markup() {
        let text = Text::new().bold("<TOK> & co").line().plain("a<b>c");
        assert_eq!(text.as_html(), "<b>&lt;TOK&gt; &amp; co</b>\na&lt;b&gt;c");
        assert_eq!(escape("1 < 2"), "1 &lt; 2");
    }

    #[test]
    fn shortens_by_characters() {
        assert_eq!(shorten("привет", 10), "привет");
        assert_eq!(shorten("привет", 4), "при…");
        assert_eq!(shorten(&"x".repeat(5000), 4096).chars().count(), 4096);
    }
}

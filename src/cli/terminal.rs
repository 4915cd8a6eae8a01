//! Text for a terminal: what a bot or an API says must not drive the reader's terminal.
//!
//! Control characters other than newline and tab (ESC, CR, BEL, backspace, C1 controls, ...)
//! are shown escaped (`\x1b`, `\r`, `\u{9b}`), so an answer carrying `ESC[2J` or a bare CR
//! cannot clear the screen, rewrite a line or fake output.

use std::borrow::Cow;

/// `text` with its control characters escaped, except `\n` and `\t`.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if needs_escape(c) => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_drives_a_terminal() {
        assert_eq!(terminal_safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(terminal_safe("\u{1b}[2Jhi\rX"), "\\x1b[2Jhi\\rX");
        assert_eq!(terminal_safe("a\u{9b}b\u{7f}"), "a\\u{9b}b\\x7f");
    }
}

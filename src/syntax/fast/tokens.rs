//! The fast reader's tokens, matched exactly as the grammar's rules match them: pest's
//! implicit skips, newlines, punctuation, keywords, names, strings, numbers and `{ ... }` blocks.

use super::*;

impl<'a> Reader<'a> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.p).copied()
    }

    /// pest's implicit skip: spaces, tabs, byte order marks and comments.
    pub(super) fn skip(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' => self.p += 1,
                0xEF if self.b[self.p..].starts_with("\u{FEFF}".as_bytes()) => self.p += 3,
                b'#' => {
                    while !matches!(self.peek(), None | Some(b'\n' | b'\r')) {
                        self.p += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// One NEWLINE (`\n`, `\r\n`, `\r`).
    pub(super) fn newline(&mut self) -> bool {
        match self.peek() {
            Some(b'\n') => self.p += 1,
            Some(b'\r') => {
                self.p += 1;
                if self.peek() == Some(b'\n') {
                    self.p += 1;
                }
            }
            _ => return false,
        }
        true
    }

    /// `NEWLINE*` with implicit skips.
    pub(super) fn skip_nl(&mut self) {
        loop {
            self.skip();
            if !self.newline() {
                break;
            }
        }
    }

    pub(super) fn punct(&mut self, s: &str) -> Option<()> {
        if self.b[self.p..].starts_with(s.as_bytes()) {
            self.p += s.len();
            Some(())
        } else {
            None
        }
    }

    /// A keyword: the word not followed by a name character.
    pub(super) fn kw(&mut self, kw: Kw) -> bool {
        let word = kw.word();
        let end = self.p + word.len();
        if self.b[self.p..].starts_with(word.as_bytes())
            && !self.b.get(end).is_some_and(|&c| is_ident_char(c))
        {
            self.p = end;
            true
        } else {
            false
        }
    }

    pub(super) fn ident_raw(&mut self) -> Option<(usize, usize)> {
        let start = self.p;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.p += 1,
            _ => return None,
        }
        while self.peek().is_some_and(is_ident_char) {
            self.p += 1;
        }
        Some((start, self.p))
    }

    pub(super) fn ident(&mut self, role: NameRole) -> Option<Ident> {
        let (s, e) = self.ident_raw()?;
        Some(leaf::ident(&self.t[s..e], s, role, &mut self.diags))
    }

    /// A string literal's raw text (quotes included) and its start.
    pub(super) fn string_raw(&mut self) -> Option<(&'a str, usize)> {
        let start = self.p;
        if self.peek() != Some(b'"') {
            return None;
        }
        let mut i = start + 1;
        loop {
            match self.b.get(i)? {
                b'"' => break,
                b'\n' | b'\r' => return None,
                b'\\' => match self.b.get(i + 1)? {
                    b'\n' | b'\r' => return None,
                    _ => i += 2,
                },
                _ => i += 1,
            }
        }
        // `i` may have stepped into a multi-byte character after `\`; the closing quote is
        // ASCII, so `i + 1` is a character boundary.
        self.p = i + 1;
        Some((self.t.get(start..self.p)?, start))
    }

    pub(super) fn str_lit(&mut self) -> Option<StrLit> {
        let (raw, start) = self.string_raw()?;
        Some(str_lit(raw, start))
    }

    pub(super) fn template(&mut self) -> Option<Template> {
        let (raw, start) = self.string_raw()?;
        Some(template(raw, start, &mut self.diags))
    }

    pub(super) fn digits(&mut self) -> usize {
        let start = self.p;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.p += 1;
        }
        self.p - start
    }

    pub(super) fn not_ident_char(&self) -> Option<()> {
        (!self.peek().is_some_and(is_ident_char)).then_some(())
    }

    /// `"-"? digits ("." digits)?`, plus an exponent for JSON numbers.
    pub(super) fn number_raw(&mut self, exponent: bool) -> Option<(&'a str, usize)> {
        let start = self.p;
        if self.peek() == Some(b'-') {
            self.p += 1;
        }
        if self.digits() == 0 {
            return None;
        }
        if self.peek() == Some(b'.') && self.b.get(self.p + 1).is_some_and(|c| c.is_ascii_digit()) {
            self.p += 1;
            self.digits();
        }
        if exponent && matches!(self.peek(), Some(b'e' | b'E')) {
            self.p += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.p += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        self.not_ident_char()?;
        Some((&self.t[start..self.p], start))
    }

    pub(super) fn int_raw(&mut self, signed: bool) -> Option<(&'a str, usize)> {
        let start = self.p;
        if signed && self.peek() == Some(b'-') {
            self.p += 1;
        }
        if self.digits() == 0 {
            return None;
        }
        self.not_ident_char()?;
        Some((&self.t[start..self.p], start))
    }

    pub(super) fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.p)
    }

    /// `{ sep* (X (sep+ X)* sep*)? }` with implicit skips; the `{` is next.
    pub(super) fn block<T>(&mut self, elem: fn(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.punct("{")?;
        let mut out = Vec::new();
        let mut need_sep = false;
        loop {
            self.skip();
            match self.peek()? {
                b'}' => {
                    self.p += 1;
                    // Blocks live as long as the syntax tree: no spare room.
                    out.shrink_to_fit();
                    return Some(out);
                }
                b';' => {
                    self.p += 1;
                    need_sep = false;
                }
                b'\n' | b'\r' => {
                    self.newline();
                    need_sep = false;
                }
                _ if need_sep => return None,
                _ => {
                    out.push(elem(self)?);
                    need_sep = true;
                }
            }
        }
    }
}

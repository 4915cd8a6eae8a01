//! The lines of a `test` block on the fast path, and a stub's raw JSON body.

use super::*;

impl<'a> Reader<'a> {
    pub(super) fn step(&mut self) -> Option<TestStep> {
        let start = self.p;
        let kind = if self.kw(Kw::Stub) {
            self.skip();
            let api = self.ident(NameRole::Api)?;
            self.skip();
            let answer = if self.kw(Kw::Timeout) {
                StubAnswer::Timeout
            } else {
                let (text, at) = self.int_raw(false)?;
                let status = leaf::http_status(text, at, &mut self.diags);
                let save = self.p;
                self.skip();
                let body = match self.peek() {
                    Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                        let (raw, at) = self.raw_json()?;
                        leaf::stub_json(raw, at, &mut self.diags)
                    }
                    _ => {
                        self.p = save;
                        None
                    }
                };
                StubAnswer::Status { status, body }
            };
            TestStepKind::Stub { api, answer }
        } else if self.kw(Kw::User) {
            self.skip();
            TestStepKind::User(self.str_lit()?)
        } else if self.kw(Kw::Expect) {
            self.skip();
            self.expectation()?
        } else {
            return None;
        };
        Some(TestStep {
            kind,
            span: self.span_from(start),
        })
    }

    pub(super) fn expectation(&mut self) -> Option<TestStepKind> {
        if self.kw(Kw::Say) {
            self.skip();
            return Some(TestStepKind::ExpectSay(self.str_lit()?));
        }
        if self.kw(Kw::Node) {
            self.skip();
            let node = self.ident(NameRole::Node)?;
            // `expect node flow.node`: left to the pest reader.
            if self.peek() == Some(b'.') {
                return None;
            }
            return Some(TestStepKind::ExpectNode(node));
        }
        if self.kw(Kw::Attr) {
            self.skip();
            let attr = self.ident(NameRole::Attribute)?;
            self.skip();
            let expect = if self.punct("==").is_some() {
                self.skip();
                // A literal only: not a name and not parentheses.
                if matches!(self.peek(), Some(b'(')) {
                    return None;
                }
                match self.operand()?.kind {
                    ExprKind::Lit(l) => AttrExpectation::Equals(l),
                    _ => return None,
                }
            } else if self.kw(Kw::Is) {
                self.skip();
                if !self.kw(Kw::Not) {
                    return None;
                }
                self.skip();
                if !self.kw(Kw::Set) {
                    return None;
                }
                AttrExpectation::NotSet
            } else {
                return None;
            };
            return Some(TestStepKind::ExpectAttr { attr, expect });
        }
        if self.kw(Kw::Request) {
            self.skip();
            let api = self.ident(NameRole::Api)?;
            self.skip();
            let url = self.str_lit()?;
            return Some(TestStepKind::ExpectRequest { api, url });
        }
        if self.kw(Kw::Closed) {
            return Some(TestStepKind::ExpectClosed);
        }
        None
    }

    /// A stub body: balanced brackets with strings respected, or a JSON scalar.
    pub(super) fn raw_json(&mut self) -> Option<(&'a str, usize)> {
        let start = self.p;
        match self.peek()? {
            b'{' | b'[' => {
                let mut stack: Vec<u8> = Vec::new();
                loop {
                    match self.peek()? {
                        c @ (b'{' | b'[') => {
                            stack.push(if c == b'{' { b'}' } else { b']' });
                            self.p += 1;
                        }
                        c @ (b'}' | b']') => {
                            if stack.pop()? != c {
                                return None;
                            }
                            self.p += 1;
                            if stack.is_empty() {
                                break;
                            }
                        }
                        b'"' => self.json_str()?,
                        b'\n' | b'\r' => {
                            self.newline();
                            let line = self.p;
                            while matches!(self.peek(), Some(b' ' | b'\t')) {
                                self.p += 1;
                            }
                            if crate::syntax::errors::starts_item(&self.b[self.p..]) {
                                return None;
                            }
                            self.p = line;
                        }
                        _ => self.p += 1,
                    }
                }
            }
            b'"' => self.json_str()?,
            b't' if self.punct("true").is_some() => {}
            b'f' if self.punct("false").is_some() => {}
            b'n' if self.punct("null").is_some() => {}
            _ => {
                self.number_raw(true)?;
            }
        }
        Some((self.t.get(start..self.p)?, start))
    }

    /// A JSON string inside a stub body, on one line.
    pub(super) fn json_str(&mut self) -> Option<()> {
        self.p += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.p += 1;
                    return Some(());
                }
                b'\n' | b'\r' => return None,
                b'\\' => {
                    self.p += 1;
                    if matches!(self.peek()?, b'\n' | b'\r') {
                        return None;
                    }
                    self.p += 1;
                }
                _ => self.p += 1,
            }
        }
    }
}

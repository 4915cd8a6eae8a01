//! Top-level items on the fast path: `import`, `bot` (only its `start`), `api` with its
//! properties and `json {}` body, `node` and `test`. Anything else is left to pest.

use super::*;

impl<'a> Reader<'a> {
    pub(super) fn item(&mut self) -> Option<Item> {
        let start = self.p;
        if self.kw(Kw::Import) {
            self.skip();
            let path = self.str_lit()?;
            return Some(Item::Import(Import {
                span: self.span_from(start),
                path,
            }));
        }
        if self.kw(Kw::Bot) {
            self.skip();
            let name = self.str_lit()?;
            self.skip();
            let settings = self.block(|r| {
                if !r.kw(Kw::Start) {
                    return None;
                }
                r.skip();
                Some(BotSetting::Start(r.ident(NameRole::Node)?))
            })?;
            return Some(Item::Bot(Bot {
                name,
                settings,
                span: self.span_from(start),
            }));
        }
        if self.kw(Kw::Api) {
            self.skip();
            let name = self.ident(NameRole::Api)?;
            self.skip();
            let props = self.block(Self::api_prop)?;
            return Some(Item::Api(Api {
                ai: false,
                name,
                props,
                span: self.span_from(start),
            }));
        }
        if self.kw(Kw::Node) {
            self.skip();
            let name = self.ident(NameRole::Node)?;
            self.skip();
            let body = self.block(Self::stmt)?;
            return Some(Item::Node(Node {
                name,
                body,
                span: self.span_from(start),
            }));
        }
        if self.kw(Kw::Test) {
            self.skip();
            let name = self.str_lit()?;
            self.skip();
            let steps = self.block(Self::step)?;
            return Some(Item::Test(Test {
                name,
                steps,
                span: self.span_from(start),
            }));
        }
        None
    }

    pub(super) fn api_prop(&mut self) -> Option<ApiProp> {
        let start = self.p;
        if self.kw(Kw::Live) || self.kw(Kw::Draft) {
            let live = self.b[start] == b'l';
            return Some(ApiProp::Mode {
                live,
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Idempotent) {
            return Some(ApiProp::Idempotent {
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Internal) {
            return Some(ApiProp::Internal {
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Redirects) {
            self.skip();
            let (s, e) = self.ident_raw()?;
            let mode = Redirects::from_word(&self.t[s..e])?;
            return Some(ApiProp::Redirects {
                mode,
                span: self.span_from(start),
            });
        }
        let method = [
            (Kw::Get, Method::Get),
            (Kw::Post, Method::Post),
            (Kw::Put, Method::Put),
            (Kw::Patch, Method::Patch),
            (Kw::Delete, Method::Delete),
        ]
        .into_iter()
        .find(|&(kw, _)| self.kw(kw))
        .map(|(_, m)| m);
        if let Some(method) = method {
            self.skip();
            let url = self.template()?;
            return Some(ApiProp::Request {
                method,
                url,
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Header) {
            self.skip();
            let name = self.str_lit()?;
            self.skip();
            self.punct("=")?;
            self.skip();
            let value = self.template()?;
            return Some(ApiProp::Header {
                name,
                value,
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Body) {
            self.skip();
            let body = self.template()?;
            return Some(ApiProp::Body {
                body,
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Form) {
            self.skip();
            let body = self.json_object()?;
            return Some(ApiProp::Form {
                body,
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Json) {
            self.skip();
            let body = self.json_object()?;
            return Some(ApiProp::Json {
                body,
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Timeout) {
            self.skip();
            let (text, at) = self.duration_raw()?;
            let millis = leaf::duration(text, at, &mut self.diags);
            return Some(ApiProp::Timeout {
                millis,
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Retry) {
            self.skip();
            let (text, at) = self.int_raw(false)?;
            let count = leaf::retry(text, at, &mut self.diags);
            return Some(ApiProp::Retry {
                count,
                span: self.span_from(start),
            });
        }
        if self.kw(Kw::Save) {
            self.skip();
            let attr = self.ident(NameRole::Attribute)?;
            let sensitive = self.sensitive();
            self.skip();
            self.punct("=")?;
            self.skip();
            let path = self.save_path()?;
            return Some(ApiProp::Save {
                attr,
                path,
                sensitive,
                span: self.span_from(start),
            });
        }
        None
    }

    pub(super) fn duration_raw(&mut self) -> Option<(&'a str, usize)> {
        let start = self.p;
        if self.digits() == 0 {
            return None;
        }
        if !(self.punct("ms").is_some()
            || self.punct("s").is_some()
            || self.punct("m").is_some()
            || self.punct("h").is_some())
        {
            return None;
        }
        self.not_ident_char()?;
        Some((&self.t[start..self.p], start))
    }

    pub(super) fn save_path(&mut self) -> Option<SavePath> {
        let start = self.p;
        if !self.kw(Kw::Body) {
            return None;
        }
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.p += 1;
                    let (s, e) = self.ident_raw()?;
                    steps.push(PathStep::Field(self.t[s..e].to_owned()));
                }
                Some(b'[') => {
                    self.p += 1;
                    if self.peek() == Some(b'"') {
                        steps.push(PathStep::Field(self.str_lit()?.value.into()));
                    } else {
                        let at = self.p;
                        if self.digits() == 0 {
                            return None;
                        }
                        if let Some(i) = leaf::index(&self.t[at..self.p], at, &mut self.diags) {
                            steps.push(PathStep::Index(i));
                        }
                    }
                    self.punct("]")?;
                }
                _ => break,
            }
        }
        Some(SavePath {
            steps,
            span: self.span_from(start),
        })
    }

    pub(super) fn json_value(&mut self) -> Option<JsonTemplate> {
        let start = self.p;
        match self.peek()? {
            b'{' => self.json_object(),
            b'[' => {
                self.depth_in()?;
                self.p += 1;
                let mut items = Vec::new();
                self.json_list(b']', |r| {
                    items.push(r.json_value()?);
                    Some(())
                })?;
                self.depth -= 1;
                Some(JsonTemplate::Array(items, self.span_from(start)))
            }
            b'"' => Some(JsonTemplate::String(self.template()?)),
            _ if self.kw(Kw::True) => Some(JsonTemplate::Bool(true, self.span_from(start))),
            _ if self.kw(Kw::False) => Some(JsonTemplate::Bool(false, self.span_from(start))),
            _ if self.kw(Kw::Null) => Some(JsonTemplate::Null(self.span_from(start))),
            c if c.is_ascii_alphabetic() || c == b'_' => Some(JsonTemplate::Ref(self.operand()?)),
            _ => {
                let (text, at) = self.number_raw(true)?;
                let n = leaf::number(text, at, &mut self.diags);
                Some(JsonTemplate::Number(n, self.span_from(start)))
            }
        }
    }

    pub(super) fn json_object(&mut self) -> Option<JsonTemplate> {
        let start = self.p;
        self.depth_in()?;
        self.punct("{")?;
        let mut members = Vec::new();
        self.json_list(b'}', |r| {
            let key = r.str_lit()?;
            r.skip();
            r.punct(":")?;
            r.skip_nl();
            members.push((key, r.json_value()?));
            Some(())
        })?;
        self.depth -= 1;
        Some(JsonTemplate::Object(members, self.span_from(start)))
    }

    /// Comma-separated elements up to `close` (already past the opener); newlines are free
    /// and one trailing comma is allowed.
    pub(super) fn json_list(
        &mut self,
        close: u8,
        mut elem: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.skip_nl();
        if self.peek() == Some(close) {
            self.p += 1;
            return Some(());
        }
        loop {
            elem(self)?;
            self.skip_nl();
            match self.peek()? {
                b',' => {
                    self.p += 1;
                    self.skip_nl();
                    if self.peek() == Some(close) {
                        self.p += 1;
                        return Some(());
                    }
                }
                c if c == close => {
                    self.p += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

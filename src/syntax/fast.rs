//! A hand-written fast path over the same grammar as `grammar/chatflow.pest`.
//!
//! pest spends most of its time in bookkeeping (call limits, stack probes, error attempts) on
//! every token, which makes it several times too slow for the compile-speed target. Most
//! files are valid, so this reader tries each item first. It accepts only what the pest
//! grammar accepts and builds the same AST (differential tests in `tests/it/syntax.rs` and over
//! the fuzz corpus in `tests/it/fuzz.rs` check this); on anything unexpected it gives up, and
//! the item is read again by pest, which then produces the AST or the syntax error. Diagnostics
//! from the shared leaf builders are kept only when the item is accepted. Keywords come from
//! the one list in `keywords.rs`.

use super::ast::*;
use super::keywords::{self, Kw};
use super::leaf::{self, lit, null_expr, reference, NameRole, MAX_CHAIN, MAX_DEPTH};
use super::template::{str_lit, template};
use crate::diagnostic::Diag;

/// Reads one item starting at `pos` (after separators). Returns the item and where it ends.
pub fn item(text: &str, pos: usize, diags: &mut Vec<Diag>) -> Option<(Item, usize)> {
    let mut r = Reader {
        t: text,
        b: text.as_bytes(),
        p: pos,
        diags: Vec::new(),
        depth: 0,
        in_value: false,
    };
    let item = r.item()?;
    diags.append(&mut r.diags);
    Some((item, r.p))
}

struct Reader<'a> {
    t: &'a str,
    b: &'a [u8],
    p: usize,
    diags: Vec<Diag>,
    depth: u32,
    /// Inside the value of a `set`, where strings are templates.
    in_value: bool,
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.p).copied()
    }

    /// pest's implicit skip: spaces, tabs, byte order marks and comments.
    fn skip(&mut self) {
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
    fn newline(&mut self) -> bool {
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
    fn skip_nl(&mut self) {
        loop {
            self.skip();
            if !self.newline() {
                break;
            }
        }
    }

    fn punct(&mut self, s: &str) -> Option<()> {
        if self.b[self.p..].starts_with(s.as_bytes()) {
            self.p += s.len();
            Some(())
        } else {
            None
        }
    }

    /// A keyword: the word not followed by a name character.
    fn kw(&mut self, kw: Kw) -> bool {
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

    fn ident_raw(&mut self) -> Option<(usize, usize)> {
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

    fn ident(&mut self, role: NameRole) -> Option<Ident> {
        let (s, e) = self.ident_raw()?;
        Some(leaf::ident(&self.t[s..e], s, role, &mut self.diags))
    }

    /// A string literal's raw text (quotes included) and its start.
    fn string_raw(&mut self) -> Option<(&'a str, usize)> {
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

    fn str_lit(&mut self) -> Option<StrLit> {
        let (raw, start) = self.string_raw()?;
        Some(str_lit(raw, start))
    }

    fn template(&mut self) -> Option<Template> {
        let (raw, start) = self.string_raw()?;
        Some(template(raw, start, &mut self.diags))
    }

    fn digits(&mut self) -> usize {
        let start = self.p;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.p += 1;
        }
        self.p - start
    }

    fn not_ident_char(&self) -> Option<()> {
        (!self.peek().is_some_and(is_ident_char)).then_some(())
    }

    /// `"-"? digits ("." digits)?`, plus an exponent for JSON numbers.
    fn number_raw(&mut self, exponent: bool) -> Option<(&'a str, usize)> {
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

    fn int_raw(&mut self, signed: bool) -> Option<(&'a str, usize)> {
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

    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.p)
    }

    /// `{ sep* (X (sep+ X)* sep*)? }` with implicit skips; the `{` is next.
    fn block<T>(&mut self, elem: fn(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.punct("{")?;
        let mut out = Vec::new();
        let mut need_sep = false;
        loop {
            self.skip();
            match self.peek()? {
                b'}' => {
                    self.p += 1;
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

    // ---- items ----------------------------------------------------------------------------

    fn item(&mut self) -> Option<Item> {
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

    fn api_prop(&mut self) -> Option<ApiProp> {
        let start = self.p;
        if self.kw(Kw::Live) || self.kw(Kw::Draft) {
            let live = self.b[start] == b'l';
            return Some(ApiProp::Mode {
                live,
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
            self.skip();
            self.punct("=")?;
            self.skip();
            let path = self.save_path()?;
            return Some(ApiProp::Save {
                attr,
                path,
                span: self.span_from(start),
            });
        }
        None
    }

    fn duration_raw(&mut self) -> Option<(&'a str, usize)> {
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

    fn save_path(&mut self) -> Option<SavePath> {
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
                        steps.push(PathStep::Field(self.str_lit()?.value));
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

    fn json_value(&mut self) -> Option<JsonTemplate> {
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

    fn json_object(&mut self) -> Option<JsonTemplate> {
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
    fn json_list(
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

    fn depth_in(&mut self) -> Option<()> {
        // Well below where the pair builder refuses (about five levels per parenthesis).
        if self.depth >= MAX_DEPTH / 8 {
            return None; // let pest and the pair builder explain it
        }
        self.depth += 1;
        Some(())
    }

    // ---- statements -----------------------------------------------------------------------

    fn stmt(&mut self) -> Option<Stmt> {
        let start = self.p;
        let kind = match self.peek()? {
            b's' if self.kw(Kw::Say) => {
                self.skip();
                StmtKind::Say(Text::Plain(self.template()?))
            }
            b'a' if self.kw(Kw::Ask) => self.ask()?,
            b's' if self.kw(Kw::Set) => {
                self.skip();
                let attr = self.ident(NameRole::Attribute)?;
                self.skip();
                self.punct("=")?;
                self.skip();
                self.in_value = true;
                let value = self.expr();
                self.in_value = false;
                StmtKind::Set {
                    attr,
                    value: value?,
                }
            }
            b'c' if self.kw(Kw::Call) => {
                self.skip();
                StmtKind::Call(self.ident(NameRole::Api)?)
            }
            b'i' if self.kw(Kw::If) => StmtKind::Branch(self.branch(start)?),
            b'g' if self.kw(Kw::Goto) => {
                self.skip();
                StmtKind::Goto(self.ident(NameRole::Node)?)
            }
            b'c' if self.kw(Kw::Close) => StmtKind::Close,
            _ => return None,
        };
        Some(Stmt {
            kind,
            span: self.span_from(start),
        })
    }

    fn ask(&mut self) -> Option<StmtKind> {
        self.skip();
        let attr = self.ident(NameRole::Attribute)?;
        let mut kind = None;
        let mut prompt = None;
        let save = self.p;
        self.skip();
        if self.kw(Kw::As) {
            self.skip();
            kind = Some(self.ident(NameRole::Kind)?);
        } else {
            self.p = save;
        }
        let save = self.p;
        self.skip();
        if self.peek() == Some(b'"') {
            prompt = Some(self.template()?);
        } else {
            self.p = save;
        }
        Some(StmtKind::Ask {
            attr,
            kind,
            prompt: prompt.map(Text::Plain),
        })
    }

    /// After `if`: the arms, each `elif`/`else` possibly on a new line.
    fn branch(&mut self, start: usize) -> Option<Branch> {
        let mut arms = vec![self.arm(start)?];
        loop {
            let save = self.p;
            self.skip_nl();
            let at = self.p;
            if self.kw(Kw::Elif) {
                arms.push(self.arm(at)?);
            } else {
                self.p = save;
                break;
            }
        }
        let save = self.p;
        self.skip_nl();
        let at = self.p;
        let (mut otherwise, mut otherwise_span) = (None, None);
        if self.kw(Kw::Else) {
            self.skip();
            self.punct("->")?;
            self.skip();
            otherwise = Some(self.ident(NameRole::Node)?);
            otherwise_span = Some(self.span_from(at));
        } else {
            self.p = save;
        }
        Some(Branch {
            arms,
            otherwise,
            otherwise_span,
        })
    }

    /// `COND -> NODE` after `if`/`elif` (which began at `start`).
    fn arm(&mut self, start: usize) -> Option<BranchArm> {
        self.skip();
        let cond = self.expr()?;
        self.skip();
        self.punct("->")?;
        self.skip();
        let target = self.ident(NameRole::Node)?;
        Some(BranchArm {
            cond,
            target,
            span: self.span_from(start),
        })
    }

    // ---- expressions ----------------------------------------------------------------------

    fn expr(&mut self) -> Option<Expr> {
        self.chain(Kw::Or, Self::and_expr, ExprKind::Or)
    }

    fn and_expr(&mut self) -> Option<Expr> {
        self.chain(Kw::And, Self::not_expr, ExprKind::And)
    }

    /// `operand (word operand)*`, folded to the left.
    fn chain(
        &mut self,
        word: Kw,
        operand: fn(&mut Self) -> Option<Expr>,
        make: fn(Box<Expr>, Box<Expr>) -> ExprKind,
    ) -> Option<Expr> {
        let mut acc = operand(self)?;
        let mut count = 0;
        loop {
            let save = self.p;
            self.skip();
            if !self.kw(word) {
                self.p = save;
                return Some(acc);
            }
            count += 1;
            if count >= MAX_CHAIN {
                return None;
            }
            self.skip();
            let rhs = operand(self)?;
            let span = acc.span.to(rhs.span);
            acc = Expr {
                kind: make(Box::new(acc), Box::new(rhs)),
                span,
            };
        }
    }

    fn not_expr(&mut self) -> Option<Expr> {
        let start = self.p;
        if self.kw(Kw::Not) {
            self.skip();
            self.depth_in()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Some(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span: self.span_from(start),
            });
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Option<Expr> {
        let start = self.p;
        let lhs = self.sum()?;
        let save = self.p;
        self.skip();
        let kind = if let Some(op) = self.cmp_op() {
            self.skip();
            let rhs = self.sum()?;
            ExprKind::Cmp {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            }
        } else if self.kw(Kw::In) {
            self.skip();
            if self.peek() == Some(b'[') {
                self.p += 1;
                let mut items = Vec::new();
                self.skip();
                if self.peek() != Some(b']') {
                    loop {
                        items.push(self.operand()?);
                        self.skip();
                        if self.punct(",").is_none() {
                            break;
                        }
                        self.skip();
                    }
                }
                self.punct("]")?;
                ExprKind::InList {
                    value: Box::new(lhs),
                    items,
                }
            } else {
                let range_start = self.p;
                let (low, low_at) = self.int_raw(true)?;
                self.skip();
                self.punct("..")?;
                self.skip();
                let (high, high_at) = self.int_raw(true)?;
                let low = leaf::range_bound(low, low_at, &mut self.diags);
                let high = leaf::range_bound(high, high_at, &mut self.diags);
                ExprKind::InRange {
                    value: Box::new(lhs),
                    low,
                    high,
                    bounds_span: self.span_from(range_start),
                }
            }
        } else if let Some(op) = self.text_op() {
            self.skip();
            let rhs = self.sum()?;
            ExprKind::Text {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            }
        } else if self.kw(Kw::Matches) {
            self.skip();
            ExprKind::Matches {
                value: Box::new(lhs),
                pattern: self.str_lit()?,
            }
        } else if self.kw(Kw::Is) {
            self.skip();
            let negated = self.kw(Kw::Not);
            if negated {
                self.skip();
            }
            if !self.kw(Kw::Set) {
                return None;
            }
            ExprKind::IsSet {
                value: Box::new(lhs),
                negated,
            }
        } else {
            self.p = save;
            return Some(lhs);
        };
        Some(Expr {
            kind,
            span: self.span_from(start),
        })
    }

    /// `product (("+" | "-") product)*`; a `-` that starts `->` ends the sum.
    fn sum(&mut self) -> Option<Expr> {
        self.arith_chain(Self::product, |r| match r.peek()? {
            b'+' => Some(ArithOp::Add),
            b'-' if r.b.get(r.p + 1) != Some(&b'>') => Some(ArithOp::Sub),
            _ => None,
        })
    }

    /// `operand (("*" | "/" | "%") operand)*`
    fn product(&mut self) -> Option<Expr> {
        self.arith_chain(Self::operand, |r| match r.peek()? {
            b'*' => Some(ArithOp::Mul),
            b'/' => Some(ArithOp::Div),
            b'%' => Some(ArithOp::Rem),
            _ => None,
        })
    }

    /// `operand (op operand)*`, folded to the left; every operator is one byte.
    fn arith_chain(
        &mut self,
        operand: fn(&mut Self) -> Option<Expr>,
        op: fn(&Self) -> Option<ArithOp>,
    ) -> Option<Expr> {
        let mut acc = operand(self)?;
        let mut count = 0;
        loop {
            let save = self.p;
            self.skip();
            let Some(op) = op(self) else {
                self.p = save;
                return Some(acc);
            };
            count += 1;
            if count >= MAX_CHAIN {
                return None;
            }
            self.p += 1;
            self.skip();
            let rhs = operand(self)?;
            let span = acc.span.to(rhs.span);
            acc = Expr {
                kind: ExprKind::Arith {
                    op,
                    lhs: Box::new(acc),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
    }

    /// `NAME(expr, ...)` after the name (`start`..`self.p`); `None` when no `(` follows.
    fn call(&mut self, start: usize) -> Option<Expr> {
        let name = leaf::ident(
            &self.t[start..self.p],
            start,
            NameRole::Function,
            &mut self.diags,
        );
        self.skip();
        self.punct("(")?;
        self.depth_in()?;
        let mut args = Vec::new();
        self.skip();
        if self.peek() != Some(b')') {
            loop {
                args.push(self.expr()?);
                self.skip();
                if self.punct(",").is_none() {
                    break;
                }
                self.skip();
            }
        }
        self.punct(")")?;
        self.depth -= 1;
        Some(Expr {
            kind: ExprKind::Call { name, args },
            span: self.span_from(start),
        })
    }

    fn cmp_op(&mut self) -> Option<CmpOp> {
        let two = self.b.get(self.p..self.p + 2).unwrap_or(&[]);
        let len = match two {
            b"==" | b"!=" | b"<=" | b">=" => 2,
            _ if matches!(self.peek(), Some(b'<' | b'>')) => 1,
            _ => return None,
        };
        let op = leaf::cmp_op(&self.t[self.p..self.p + len]);
        self.p += len;
        Some(op)
    }

    fn text_op(&mut self) -> Option<TextOp> {
        if self.kw(Kw::Contains) {
            Some(TextOp::Contains)
        } else if self.kw(Kw::StartsWith) {
            Some(TextOp::StartsWith)
        } else if self.kw(Kw::EndsWith) {
            Some(TextOp::EndsWith)
        } else {
            None
        }
    }

    fn operand(&mut self) -> Option<Expr> {
        let start = self.p;
        match self.peek()? {
            b'(' => {
                self.p += 1;
                self.skip();
                self.depth_in()?;
                let mut e = self.expr()?;
                self.depth -= 1;
                self.skip();
                self.punct(")")?;
                e.span = self.span_from(start);
                Some(e)
            }
            b'"' if self.in_value => {
                let t = self.template()?;
                Some(Expr {
                    span: t.span,
                    kind: ExprKind::Template(t),
                })
            }
            b'"' => {
                let s = self.str_lit()?;
                Some(lit(Literal::String(s.value), s.span))
            }
            b'-' | b'0'..=b'9' => {
                let (text, at) = self.number_raw(false)?;
                let n = leaf::number(text, at, &mut self.diags);
                Some(lit(Literal::Number(n), self.span_from(start)))
            }
            _ => {
                // Same order as the grammar: literals, then `a.b`, then `status`, then names.
                let (s, e) = self.ident_raw()?;
                let span = Span::new(s, e);
                let word = keywords::lookup(&self.t[s..e]);
                match word {
                    Some(Kw::True) => return Some(lit(Literal::Bool(true), span)),
                    Some(Kw::False) => return Some(lit(Literal::Bool(false), span)),
                    Some(Kw::Null) => return Some(null_expr(span)),
                    _ => {}
                }
                // `open(...)` is read by pest (`open_call` before `func_call`).
                let after_name = self.p;
                self.skip();
                if self.peek() == Some(b'(') {
                    if word == Some(Kw::Open) {
                        return None;
                    }
                    self.p = after_name;
                    return self.call(start);
                }
                self.p = after_name;
                if self.peek() == Some(b'.')
                    && self
                        .b
                        .get(self.p + 1)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                {
                    self.p += 1;
                    self.ident_raw()?;
                    return Some(leaf::dotted(&self.t[start..self.p], start, &mut self.diags));
                }
                Some(if word == Some(Kw::Status) {
                    reference(RefKind::Status, span)
                } else {
                    let id = leaf::ident(&self.t[s..e], s, NameRole::Attribute, &mut self.diags);
                    reference(RefKind::Attr(id.name), span)
                })
            }
        }
    }

    // ---- tests ----------------------------------------------------------------------------

    fn step(&mut self) -> Option<TestStep> {
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

    fn expectation(&mut self) -> Option<TestStepKind> {
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
    fn raw_json(&mut self) -> Option<(&'a str, usize)> {
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
                            if super::errors::starts_item(&self.b[self.p..]) {
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
    fn json_str(&mut self) -> Option<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path must take ordinary items itself; if it stepped aside everywhere, the
    /// differential tests would still pass but parsing would be several times slower.
    #[test]
    fn takes_every_ordinary_item() {
        let items = [
            "import \"a.flow\"",
            "bot \"b\" { start greet }",
            "api weather {\n  live\n  get \"https://x.test/?q={city}\"\n  header \"A\" = \"B {secret.T}\"\n  json {\"a\": [1, \"{x}\"], \"b\": {\"c\": null}}\n  timeout 2s\n  retry 2\n  save t = body.main[0].temp\n}",
            "node lookup {\n  call weather\n  if status == 200 and city == \"Chicago\" -> chicago\n  elif status in 400..499 -> unknown\n  elif not (x is set or y contains \"a\") -> a\n  else -> failed\n}",
            "node n { ask age as number \"Age?\"; set ok = age >= 18; say \"hi {name}\"; goto m }",
            "test \"t\" {\n  stub weather 200 {\"main\": {\"temp\": 3.5}}\n  stub other timeout\n  user \"x\"\n  expect say \"y\"\n  expect node n\n  expect attr a == 3.5\n  expect attr b is not set\n  expect request weather \"u\"\n  expect closed\n}",
        ];
        for src in items {
            let mut diags = Vec::new();
            let (_, end) =
                item(src, 0, &mut diags).unwrap_or_else(|| panic!("fast path refused {src:?}"));
            assert_eq!(end, src.len(), "{src:?}");
            assert!(diags.is_empty(), "{src:?}: {diags:?}");
        }
    }

    #[test]
    fn steps_aside_on_errors() {
        for src in [
            "node n { shout }",
            "node n { say \"open }",
            "api a { timeout 5 }",
            "node n { if x -> }",
        ] {
            let mut diags = Vec::new();
            assert!(item(src, 0, &mut diags).is_none(), "{src:?}");
            assert!(diags.is_empty());
        }
    }
}

//! Turns pest pairs of one top-level item into the typed AST. The grammar has already
//! checked the shape, so a pair that is not where it should be means a grammar/builder
//! mismatch; the builder then degrades gracefully instead of panicking.

mod actions;

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::leaf::{self, lit, null_expr, reference, NameRole, MAX_CHAIN, MAX_DEPTH};
use super::template::{str_lit, template};
use super::Rule;
use crate::diagnostic::{Code, Diag};

type P<'i> = Pair<'i, Rule>;

pub struct Builder<'d> {
    /// Offset of the parsed slice in the whole file.
    base: usize,
    diags: &'d mut Vec<Diag>,
    depth: u32,
    /// Inside the value of a `set`, where strings are templates.
    in_value: bool,
}

impl<'d> Builder<'d> {
    pub fn new(base: usize, diags: &'d mut Vec<Diag>) -> Self {
        Builder {
            base,
            diags,
            depth: 0,
            in_value: false,
        }
    }

    /// The pair's span, ending at its last token: pest counts the whitespace and comments
    /// skipped before an optional part that did not match as part of the pair. Every
    /// non-atomic rule ends with a non-silent token, so the deepest last child marks the end.
    fn span(&self, p: &P) -> Span {
        let start = p.as_span().start();
        let mut last = p.clone();
        // `save_path` is compound-atomic: exact already, and it may end in a literal `]`.
        while !matches!(last.as_rule(), Rule::save_path | Rule::item_path) {
            match last.clone().into_inner().next_back() {
                Some(child) => last = child,
                None => break,
            }
        }
        Span::new(self.base + start, self.base + last.as_span().end())
    }

    pub fn item(&mut self, p: P) -> Item {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        match rule {
            Rule::import => Item::Import(Import {
                path: self.next_str(&mut inner),
                span,
            }),
            Rule::bot => Item::Bot(self.bot(inner, span)),
            Rule::api => Item::Api(self.api(inner, span)),
            Rule::test => Item::Test(self.test(inner, span)),
            Rule::hours => Item::Hours(self.hours(inner, span)),
            Rule::flow => Item::Flow(self.flow(inner, span)),
            _ => Item::Node(self.node(inner, span)),
        }
    }

    // ---- leaves ---------------------------------------------------------------------------

    fn ident(&mut self, p: &P, role: NameRole) -> Ident {
        leaf::ident(
            p.as_str(),
            self.base + p.as_span().start(),
            role,
            self.diags,
        )
    }

    /// A node name in a test: `node`, or `flow.node` for a node of a sub-flow. Each part is
    /// checked like a name; the whole dotted text is the name the compiler resolves.
    fn node_path(&mut self, inner: &mut Pairs<Rule>) -> Ident {
        let Some(p) = inner.find(|p| matches!(p.as_rule(), Rule::ident | Rule::dotted_ref)) else {
            return leaf::empty_ident();
        };
        let start = self.at(&p);
        let text = p.as_str();
        let mut offset = start;
        for part in text.split('.') {
            leaf::ident(part, offset, NameRole::Node, self.diags);
            offset += part.len() + 1;
        }
        Ident {
            name: text.to_owned(),
            span: Span {
                start,
                end: start + text.len(),
            },
        }
    }

    fn at(&self, p: &P) -> usize {
        self.base + p.as_span().start()
    }

    /// The next `ident` pair among `inner`, skipping keywords and punctuation.
    fn next_ident(&mut self, inner: &mut Pairs<Rule>, role: NameRole) -> Ident {
        match inner.find(|p| p.as_rule() == Rule::ident) {
            Some(p) => self.ident(&p, role),
            None => leaf::empty_ident(),
        }
    }

    fn str_of(&self, p: &P) -> StrLit {
        str_lit(p.as_str(), self.base + p.as_span().start())
    }

    fn next_str(&mut self, inner: &mut Pairs<Rule>) -> StrLit {
        match inner.find(|p| p.as_rule() == Rule::string) {
            Some(p) => self.str_of(&p),
            None => StrLit {
                value: String::new(),
                span: Span::default(),
            },
        }
    }

    fn template_of(&mut self, p: &P) -> Template {
        template(p.as_str(), self.base + p.as_span().start(), self.diags)
    }

    fn next_template(&mut self, inner: &mut Pairs<Rule>) -> Template {
        match inner.find(|p| p.as_rule() == Rule::string) {
            Some(p) => self.template_of(&p),
            None => Template {
                parts: Vec::new(),
                span: Span::default(),
            },
        }
    }

    /// A word that is not checked against the reserved list: a language code (`is` is
    /// Icelandic) or a day name, which the compiler validates.
    fn word(&self, p: &P) -> Ident {
        Ident {
            name: p.as_str().to_owned(),
            span: Span::new(self.at(p), self.at(p) + p.as_str().len()),
        }
    }

    /// A message text from a `string` or `text_set` pair.
    fn text_of(&mut self, p: P) -> Option<Text> {
        match p.as_rule() {
            Rule::string => Some(Text::Plain(self.template_of(&p))),
            Rule::text_set => {
                let span = self.span(&p);
                let mut texts = Vec::new();
                for lt in p.into_inner().filter(|q| q.as_rule() == Rule::lang_text) {
                    let mut parts = lt.into_inner();
                    let lang = match parts.find(|q| q.as_rule() == Rule::ident) {
                        Some(q) => self.word(&q),
                        None => leaf::empty_ident(),
                    };
                    texts.push((lang, self.next_template(&mut parts)));
                }
                Some(Text::Translated { texts, span })
            }
            _ => None,
        }
    }

    /// The next message text among `inner`.
    fn next_text(&mut self, inner: &mut Pairs<Rule>) -> Text {
        inner
            .find(|p| matches!(p.as_rule(), Rule::string | Rule::text_set))
            .and_then(|p| self.text_of(p))
            .unwrap_or(Text::Plain(Template {
                parts: Vec::new(),
                span: Span::default(),
            }))
    }

    fn number(&mut self, p: &P) -> Number {
        leaf::number(p.as_str(), self.at(p), self.diags)
    }

    // ---- items ----------------------------------------------------------------------------

    fn bot(&mut self, mut inner: Pairs<Rule>, span: Span) -> Bot {
        let name = self.next_str(&mut inner);
        let mut settings = Vec::new();
        for p in inner {
            let rule = p.as_rule();
            let mut s = p.into_inner();
            settings.push(match rule {
                Rule::start => BotSetting::Start(self.next_ident(&mut s, NameRole::Node)),
                Rule::greeting => BotSetting::Greeting(self.next_text(&mut s)),
                Rule::avatar => BotSetting::Avatar(self.next_template(&mut s)),
                Rule::fallback => BotSetting::Fallback(self.next_text(&mut s)),
                Rule::languages => BotSetting::Languages(
                    s.filter(|q| q.as_rule() == Rule::ident)
                        .map(|q| self.word(&q))
                        .collect(),
                ),
                Rule::timezone => BotSetting::Timezone(self.next_str(&mut s)),
                Rule::webhook => {
                    let url = self.next_str(&mut s);
                    let mut names = s
                        .filter(|q| q.as_rule() == Rule::ident)
                        .map(|q| self.word(&q));
                    let Some(secret) = names.next() else { continue };
                    BotSetting::Webhook(Webhook {
                        url,
                        secret,
                        events: names.collect(),
                    })
                }
                _ => continue,
            });
        }
        Bot {
            name,
            settings,
            span,
        }
    }

    fn api(&mut self, mut inner: Pairs<Rule>, span: Span) -> Api {
        let name = self.next_ident(&mut inner, NameRole::Api);
        let mut props = Vec::new();
        for p in inner {
            if let Some(prop) = self.api_prop(p) {
                props.push(prop);
            }
        }
        Api { name, props, span }
    }

    fn api_prop(&mut self, p: P) -> Option<ApiProp> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        Some(match rule {
            Rule::kw_live => ApiProp::Mode { live: true, span },
            Rule::kw_draft => ApiProp::Mode { live: false, span },
            Rule::request => {
                let method = method_of(inner.next().map_or("get", |m| m.as_str()));
                let url = self.next_template(&mut inner);
                ApiProp::Request { method, url, span }
            }
            Rule::header => {
                let name = self.next_str(&mut inner);
                let value = self.next_template(&mut inner);
                ApiProp::Header { name, value, span }
            }
            Rule::body_prop => ApiProp::Body {
                body: self.next_template(&mut inner),
                span,
            },
            Rule::json_prop => {
                let obj = inner.find(|p| p.as_rule() == Rule::json_object)?;
                ApiProp::Json {
                    body: self.json_template(obj),
                    span,
                }
            }
            Rule::timeout => {
                let d = inner.find(|p| p.as_rule() == Rule::duration)?;
                ApiProp::Timeout {
                    millis: leaf::duration(d.as_str(), self.at(&d), self.diags),
                    span,
                }
            }
            Rule::retry => {
                let n = inner.find(|p| p.as_rule() == Rule::uint)?;
                let count = leaf::retry(n.as_str(), self.at(&n), self.diags);
                ApiProp::Retry { count, span }
            }
            Rule::save => {
                let attr = self.next_ident(&mut inner, NameRole::Attribute);
                let path = inner.find(|p| p.as_rule() == Rule::save_path)?;
                ApiProp::Save {
                    attr,
                    path: self.save_path(path),
                    span,
                }
            }
            _ => return None,
        })
    }

    fn save_path(&mut self, p: P) -> SavePath {
        let span = self.span(&p);
        let mut steps = Vec::new();
        for step in p.into_inner() {
            match step.as_rule() {
                Rule::path_field => steps.push(PathStep::Field(step.as_str().to_owned())),
                Rule::string => steps.push(PathStep::Field(self.str_of(&step).value)),
                Rule::path_index => {
                    if let Some(i) = leaf::index(step.as_str(), self.at(&step), self.diags) {
                        steps.push(PathStep::Index(i));
                    }
                }
                _ => {}
            }
        }
        SavePath { steps, span }
    }

    fn json_template(&mut self, p: P) -> JsonTemplate {
        let span = self.span(&p);
        if self.depth >= MAX_DEPTH {
            self.diags.push(
                Diag::new(Code::Syntax, "this JSON value is nested too deeply", span)
                    .label("too deep")
                    .help("flatten this JSON value"),
            );
            return JsonTemplate::Null(span);
        }
        self.depth += 1;
        let value = self.json_template_inner(p, span);
        self.depth -= 1;
        value
    }

    fn json_template_inner(&mut self, p: P, span: Span) -> JsonTemplate {
        match p.as_rule() {
            Rule::json_object => {
                let mut members = Vec::new();
                for m in p.into_inner().filter(|m| m.as_rule() == Rule::json_member) {
                    let mut parts = m.into_inner();
                    let key = self.next_str(&mut parts);
                    let value = parts
                        .find(|v| !matches!(v.as_rule(), Rule::colon))
                        .map_or(JsonTemplate::Null(span), |v| self.json_template(v));
                    members.push((key, value));
                }
                JsonTemplate::Object(members, span)
            }
            Rule::json_array => {
                let items = p
                    .into_inner()
                    .filter(|v| {
                        !matches!(v.as_rule(), Rule::lbracket | Rule::rbracket | Rule::comma)
                    })
                    .map(|v| self.json_template(v))
                    .collect();
                JsonTemplate::Array(items, span)
            }
            Rule::string => JsonTemplate::String(self.template_of(&p)),
            Rule::json_number => JsonTemplate::Number(self.number(&p), span),
            Rule::kw_true => JsonTemplate::Bool(true, span),
            Rule::kw_false => JsonTemplate::Bool(false, span),
            Rule::ident | Rule::kw_status | Rule::dotted_ref => JsonTemplate::Ref(self.expr(p)),
            _ => JsonTemplate::Null(span),
        }
    }

    // ---- nodes ----------------------------------------------------------------------------

    fn node(&mut self, mut inner: Pairs<Rule>, span: Span) -> Node {
        let name = self.next_ident(&mut inner, NameRole::Node);
        let mut body = Vec::new();
        for p in inner {
            if let Some(stmt) = self.stmt(p) {
                body.push(stmt);
            }
        }
        Node { name, body, span }
    }

    fn stmt(&mut self, p: P) -> Option<Stmt> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let kind = match rule {
            Rule::say => StmtKind::Say(self.next_text(&mut inner)),
            Rule::ask => self.ask(inner),
            Rule::set => {
                let attr = self.next_ident(&mut inner, NameRole::Attribute);
                let value = inner.find(|p| p.as_rule() == Rule::expr)?;
                self.in_value = true;
                let value = self.expr(value);
                self.in_value = false;
                StmtKind::Set { attr, value }
            }
            Rule::call => StmtKind::Call(self.next_ident(&mut inner, NameRole::Api)),
            Rule::goto => StmtKind::Goto(self.next_ident(&mut inner, NameRole::Node)),
            Rule::close => StmtKind::Close,
            Rule::branch => StmtKind::Branch(self.branch(inner)),
            _ => self.action(rule, inner)?,
        };
        Some(Stmt { kind, span })
    }

    fn ask(&mut self, inner: Pairs<Rule>) -> StmtKind {
        let mut attr = None;
        let mut kind = None;
        let mut prompt = None;
        for p in inner {
            match p.as_rule() {
                Rule::ident if attr.is_none() => attr = Some(self.ident(&p, NameRole::Attribute)),
                Rule::ident => kind = Some(self.ident(&p, NameRole::Kind)),
                Rule::string | Rule::text_set => prompt = self.text_of(p),
                _ => {}
            }
        }
        StmtKind::Ask {
            attr: attr.unwrap_or(leaf::empty_ident()),
            kind,
            prompt,
        }
    }

    fn branch(&mut self, inner: Pairs<Rule>) -> Branch {
        let mut arms = Vec::new();
        let mut otherwise = None;
        let mut otherwise_span = None;
        for arm in inner {
            let span = self.span(&arm);
            let is_else = arm.as_rule() == Rule::else_arm;
            let mut parts = arm.into_inner();
            if is_else {
                otherwise = Some(self.next_ident(&mut parts, NameRole::Node));
                otherwise_span = Some(span);
                continue;
            }
            let Some(cond) = parts.find(|p| p.as_rule() == Rule::expr) else {
                continue;
            };
            let cond = self.expr(cond);
            let target = self.next_ident(&mut parts, NameRole::Node);
            arms.push(BranchArm { cond, target, span });
        }
        Branch {
            arms,
            otherwise,
            otherwise_span,
        }
    }

    // ---- expressions ----------------------------------------------------------------------

    fn expr(&mut self, p: P) -> Expr {
        let span = self.span(&p);
        if self.depth >= MAX_DEPTH {
            self.diags.push(leaf::too_deep(span));
            return Expr {
                kind: ExprKind::Lit(Literal::Null),
                span,
            };
        }
        self.depth += 1;
        let e = self.expr_inner(p, span);
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, p: P, span: Span) -> Expr {
        match p.as_rule() {
            Rule::expr | Rule::and_expr => {
                let is_or = p.as_rule() == Rule::expr;
                let mut operands = p
                    .into_inner()
                    .filter(|q| !matches!(q.as_rule(), Rule::kw_or | Rule::kw_and));
                let Some(first) = operands.next() else {
                    return null_expr(span);
                };
                let mut acc = self.expr(first);
                for (n, next) in operands.enumerate() {
                    if n >= MAX_CHAIN {
                        self.diags.push(leaf::too_long(span));
                        break;
                    }
                    let rhs = self.expr(next);
                    let both = acc.span.to(rhs.span);
                    let (l, r) = (Box::new(acc), Box::new(rhs));
                    let kind = if is_or {
                        ExprKind::Or(l, r)
                    } else {
                        ExprKind::And(l, r)
                    };
                    acc = Expr { kind, span: both };
                }
                acc
            }
            Rule::not_expr => {
                let mut inner = p.into_inner();
                match inner.next() {
                    Some(first) if first.as_rule() == Rule::kw_not => {
                        let operand = inner.next().map_or(null_expr(span), |q| self.expr(q));
                        Expr {
                            kind: ExprKind::Not(Box::new(operand)),
                            span,
                        }
                    }
                    Some(first) => self.expr(first),
                    None => null_expr(span),
                }
            }
            Rule::cmp => self.cmp(p, span),
            Rule::paren => match p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                Some(e) => {
                    let mut e = self.expr(e);
                    e.span = span;
                    e
                }
                None => null_expr(span),
            },
            Rule::number => Expr {
                kind: ExprKind::Lit(Literal::Number(self.number(&p))),
                span,
            },
            Rule::string if self.in_value => Expr {
                kind: ExprKind::Template(self.template_of(&p)),
                span,
            },
            Rule::string => Expr {
                kind: ExprKind::Lit(Literal::String(self.str_of(&p).value)),
                span,
            },
            Rule::sum | Rule::product => self.arith(p, span),
            Rule::func_call => {
                let mut inner = p.into_inner();
                let name = self.next_ident(&mut inner, NameRole::Function);
                let args = inner
                    .filter(|q| q.as_rule() == Rule::expr)
                    .map(|q| self.expr(q))
                    .collect();
                Expr {
                    kind: ExprKind::Call { name, args },
                    span,
                }
            }
            Rule::kw_true => lit(Literal::Bool(true), span),
            Rule::kw_false => lit(Literal::Bool(false), span),
            Rule::kw_null => lit(Literal::Null, span),
            Rule::kw_status => reference(RefKind::Status, span),
            Rule::ident => {
                let id = self.ident(&p, NameRole::Attribute);
                reference(RefKind::Attr(id.name), span)
            }
            Rule::dotted_ref => leaf::dotted(p.as_str(), self.at(&p), self.diags),
            Rule::open_call => {
                let hours = self.next_ident(&mut p.into_inner(), NameRole::Hours);
                Expr {
                    kind: ExprKind::Open(hours),
                    span,
                }
            }
            _ => null_expr(span),
        }
    }

    /// `a + b - c` or `a * b / c`: operands and operators, folded to the left.
    fn arith(&mut self, p: P, span: Span) -> Expr {
        let mut inner = p.into_inner();
        let Some(first) = inner.next() else {
            return null_expr(span);
        };
        let mut acc = self.expr(first);
        let mut count = 0;
        while let (Some(op), Some(next)) = (inner.next(), inner.next()) {
            count += 1;
            if count > MAX_CHAIN {
                self.diags.push(leaf::too_long(span));
                break;
            }
            let rhs = self.expr(next);
            let both = acc.span.to(rhs.span);
            acc = Expr {
                kind: ExprKind::Arith {
                    op: leaf::arith_op(op.as_str()),
                    lhs: Box::new(acc),
                    rhs: Box::new(rhs),
                },
                span: both,
            };
        }
        acc
    }

    fn cmp(&mut self, p: P, span: Span) -> Expr {
        let mut inner = p.into_inner();
        let Some(first) = inner.next() else {
            return null_expr(span);
        };
        let lhs = self.expr(first);
        let Some(op) = inner.next() else {
            return lhs;
        };
        let kind = match op.as_rule() {
            Rule::cmp_op => {
                let op = leaf::cmp_op(op.as_str());
                let rhs = inner.next().map_or(null_expr(span), |q| self.expr(q));
                ExprKind::Cmp {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            Rule::kw_contains | Rule::kw_starts_with | Rule::kw_ends_with => {
                let op = match op.as_rule() {
                    Rule::kw_contains => TextOp::Contains,
                    Rule::kw_starts_with => TextOp::StartsWith,
                    _ => TextOp::EndsWith,
                };
                let rhs = inner.next().map_or(null_expr(span), |q| self.expr(q));
                ExprKind::Text {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            Rule::kw_matches => ExprKind::Matches {
                value: Box::new(lhs),
                pattern: self.next_str(&mut inner),
            },
            Rule::kw_is => ExprKind::IsSet {
                value: Box::new(lhs),
                negated: inner.next().is_some_and(|q| q.as_rule() == Rule::kw_not),
            },
            Rule::kw_in => match inner.next() {
                Some(r) if r.as_rule() == Rule::range => self.range(lhs, r),
                Some(l) => ExprKind::InList {
                    value: Box::new(lhs),
                    items: l
                        .into_inner()
                        .filter(|q| {
                            !matches!(q.as_rule(), Rule::lbracket | Rule::rbracket | Rule::comma)
                        })
                        .map(|q| self.expr(q))
                        .collect(),
                },
                None => return lhs,
            },
            _ => return lhs,
        };
        Expr { kind, span }
    }

    fn range(&mut self, value: Expr, r: P) -> ExprKind {
        let bounds_span = self.span(&r);
        let mut bounds = r.into_inner().filter(|q| q.as_rule() == Rule::int);
        let base = self.base;
        let diags = &mut *self.diags;
        let mut bound = |b: Option<P>| -> i64 {
            b.map_or(0, |b| {
                leaf::range_bound(b.as_str(), base + b.as_span().start(), diags)
            })
        };
        let low = bound(bounds.next());
        let high = bound(bounds.next());
        ExprKind::InRange {
            value: Box::new(value),
            low,
            high,
            bounds_span,
        }
    }

    // ---- tests ----------------------------------------------------------------------------

    fn test(&mut self, mut inner: Pairs<Rule>, span: Span) -> Test {
        let name = self.next_str(&mut inner);
        let mut steps = Vec::new();
        for p in inner {
            if let Some(step) = self.step(p) {
                steps.push(step);
            }
        }
        Test { name, steps, span }
    }

    fn step(&mut self, p: P) -> Option<TestStep> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let kind = match rule {
            Rule::stub => {
                let api = self.next_ident(&mut inner, NameRole::Api);
                TestStepKind::Stub {
                    api,
                    answer: self.stub_answer(inner)?,
                }
            }
            Rule::user => TestStepKind::User(self.next_str(&mut inner)),
            Rule::clock => TestStepKind::Clock(self.next_str(&mut inner)),
            Rule::language => TestStepKind::Language(self.next_str(&mut inner)),
            Rule::expect => {
                let what = inner.find(|q| q.as_rule() != Rule::kw_expect)?;
                self.expectation(what)?
            }
            _ => return None,
        };
        Some(TestStep { kind, span })
    }

    fn stub_answer(&mut self, mut inner: Pairs<Rule>) -> Option<StubAnswer> {
        let first = inner.next()?;
        if first.as_rule() == Rule::kw_timeout {
            return Some(StubAnswer::Timeout);
        }
        let status = leaf::http_status(first.as_str(), self.at(&first), self.diags);
        let body = inner
            .next()
            .and_then(|j| leaf::stub_json(j.as_str(), self.at(&j), self.diags));
        Some(StubAnswer::Status { status, body })
    }

    fn expectation(&mut self, p: P) -> Option<TestStepKind> {
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        Some(match rule {
            Rule::expect_say => TestStepKind::ExpectSay(self.next_str(&mut inner)),
            Rule::expect_node => TestStepKind::ExpectNode(self.node_path(&mut inner)),
            Rule::expect_request => {
                let api = self.next_ident(&mut inner, NameRole::Api);
                let what = inner.find(|q| q.as_rule() != Rule::kw_request)?;
                if what.as_rule() == Rule::string {
                    let url = self.str_of(&what);
                    return Some(TestStepKind::ExpectRequest { api, url });
                }
                let part = self.request_part(what)?;
                TestStepKind::ExpectRequestPart { api, part }
            }
            Rule::expect_attr => {
                let attr = self.next_ident(&mut inner, NameRole::Attribute);
                let expect = match inner.find(|q| q.as_rule() != Rule::eqeq)? {
                    q if q.as_rule() == Rule::kw_is => AttrExpectation::NotSet,
                    q => AttrExpectation::Equals(self.literal(&q)),
                };
                TestStepKind::ExpectAttr { attr, expect }
            }
            Rule::kw_closed => TestStepKind::ExpectClosed,
            Rule::expect_choices => TestStepKind::ExpectChoices(
                inner
                    .filter(|q| q.as_rule() == Rule::string)
                    .map(|q| self.str_of(&q))
                    .collect(),
            ),
            Rule::expect_transfer => TestStepKind::ExpectTransfer(self.next_str(&mut inner)),
            Rule::expect_email => {
                let to = self.next_str(&mut inner);
                let subject = self.next_str(&mut inner);
                TestStepKind::ExpectEmail { to, subject }
            }
            Rule::expect_goal => TestStepKind::ExpectGoal(self.next_str(&mut inner)),
            Rule::expect_media => {
                let kind = self.media_kind(&mut inner);
                TestStepKind::ExpectMedia {
                    kind,
                    url: self.next_str(&mut inner),
                }
            }
            _ => return None,
        })
    }

    /// `method post`, `header "N" == "V"` or `json ...` of `expect request`.
    fn request_part(&mut self, p: P) -> Option<RequestPart> {
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        Some(match rule {
            Rule::request_method => {
                let method = inner.find(|q| q.as_rule() == Rule::method)?;
                RequestPart::Method(method_of(method.as_str()))
            }
            Rule::request_header => {
                let name = self.next_str(&mut inner);
                let value = self.next_str(&mut inner);
                RequestPart::Header { name, value }
            }
            Rule::request_json => {
                let path = inner.clone().find(|q| q.as_rule() == Rule::string);
                let path = path.map(|q| self.str_of(&q));
                let raw = inner.find(|q| q.as_rule() == Rule::raw_json)?;
                let value =
                    leaf::test_json(raw.as_str(), self.at(&raw), "the expected JSON", self.diags)
                        .unwrap_or(serde_json::Value::Null);
                RequestPart::Json { path, value }
            }
            _ => return None,
        })
    }

    fn literal(&mut self, p: &P) -> Literal {
        match p.as_rule() {
            Rule::number => Literal::Number(self.number(p)),
            Rule::string => Literal::String(self.str_of(p).value),
            Rule::kw_true => Literal::Bool(true),
            Rule::kw_false => Literal::Bool(false),
            _ => Literal::Null,
        }
    }
}

/// An HTTP method as the `method` rule spells it.
fn method_of(word: &str) -> Method {
    match word {
        "post" => Method::Post,
        "put" => Method::Put,
        "patch" => Method::Patch,
        "delete" => Method::Delete,
        _ => Method::Get,
    }
}

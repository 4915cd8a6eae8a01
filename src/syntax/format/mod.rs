//! `chatflow fmt`: prints a parsed file in one canonical layout, keeping its comments.
//!
//! The printer walks the AST and produces [`Line`]s, each remembering the source offset it
//! came from. Comments are not in the AST: [`scan_comments`] finds them in the source text
//! (skipping `#` inside strings) and [`Layout`] puts each one back where it was: a comment on
//! a line of its own goes before the first printed line that came after it in the source,
//! a trailing comment goes at the end of the last printed line that came before it.
//!
//! Layout (documented in docs/tooling.md): two-space indent, one statement or property per
//! line, `if`/`elif`/`else` each on its own line at the statement's indent, one blank line
//! between items, single blank lines inside blocks kept, spaces around `=`, `==`, `->` and every
//! operator, strings re-escaped canonically, trailing comments aligned within a run of lines.
//!
//! Adding a statement: one arm in [`Printer::stmt`]; a statement with a block builds its
//! children as [`Part`]s (see `blocks.rs`, which prints the bot-builder actions).

mod blocks;
mod layout;
mod leaves;

use super::ast::*;
use crate::diagnostic::Diag;
use crate::vocab::{number_text, write_condition, Condition};

use layout::*;
pub use layout::{scan_comments, Comment};
use leaves::*;
pub use leaves::{expr, plain, template};

const INDENT: &str = "  ";

/// Formats a whole source file. A file with syntax errors is refused with its diagnostics.
pub fn format_source(text: &str) -> Result<String, Vec<Diag>> {
    // Item by item: each is printed and laid out as soon as it is parsed, so neither the
    // whole tree nor all the printed lines are ever held.
    let mut printer = Printer::new(text);
    let mut layout = Layout::new(text, scan_comments(text));
    let mut after_import = false;
    let diags = super::parse_each(text, |item| {
        // Imports stay grouped as written; every other item gets a blank line before it.
        let is_import = matches!(item, Item::Import(_));
        printer.item(
            &item,
            if is_import && after_import {
                Gap::Keep
            } else {
                Gap::Force
            },
        );
        after_import = is_import;
        layout.push(printer.lines.drain(..));
    });
    if diags.iter().any(Diag::is_error) {
        return Err(diags);
    }
    Ok(layout.finish())
}

/// Whether a printed line may, must or must not follow a blank line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// Never blank (first line of a block, closing brace).
    Never,
    /// Blank when the source had a blank line right before it.
    Keep,
    /// Always blank (a new top-level item).
    Force,
}

#[derive(Debug, Clone)]
struct Line {
    indent: usize,
    text: String,
    /// Source offset of the code this line prints; comments are placed around it.
    at: usize,
    gap: Gap,
    /// A closing brace: comments before it belong inside the block, one level deeper.
    closes: bool,
    trailing: Vec<String>,
}

struct Printer<'a> {
    source: &'a str,
    lines: Vec<Line>,
}

impl<'a> Printer<'a> {
    fn new(source: &'a str) -> Self {
        Printer {
            source,
            lines: Vec::new(),
        }
    }

    fn line(&mut self, indent: usize, at: usize, gap: Gap, text: String) {
        self.lines.push(Line {
            indent,
            text,
            at,
            gap,
            closes: false,
            trailing: Vec::new(),
        });
    }

    fn close(&mut self, indent: usize, at: usize, text: &str) {
        self.line(indent, at, Gap::Never, text.to_string());
        if let Some(last) = self.lines.last_mut() {
            last.closes = true;
        }
    }

    /// `header {`, the lines `body` prints one level deeper, then `}` (at `span`'s end).
    fn block(
        &mut self,
        indent: usize,
        span: Span,
        gap: Gap,
        header: String,
        body: impl FnOnce(&mut Self),
    ) {
        self.line(indent, span.start(), gap, format!("{header} {{"));
        body(self);
        self.close(indent, span.end().saturating_sub(1), "}");
    }

    fn item(&mut self, item: &Item, gap: Gap) {
        match item {
            Item::Import(i) => self.line(
                0,
                i.span.start(),
                gap,
                format!("import {}", plain(&i.path.value)),
            ),
            Item::Bot(b) => self.block(
                0,
                b.span,
                gap,
                format!("bot {}", plain(&b.name.value)),
                |p| {
                    let parts = b.settings.iter().map(bot_setting).collect();
                    p.parts(1, parts);
                },
            ),
            Item::Api(a) => {
                let word = if a.ai { "ai" } else { "api" };
                self.block(0, a.span, gap, format!("{word} {}", a.name.name), |p| {
                    for (i, prop) in a.props.iter().enumerate() {
                        p.api_prop(prop, first_gap(i));
                    }
                })
            }
            Item::Node(n) => self.node(n, 0, gap),
            Item::Hours(h) => self.block(0, h.span, gap, format!("hours {}", h.name.name), |p| {
                let parts = h.rules.iter().map(blocks::hours_rule).collect();
                p.parts(1, parts);
            }),
            Item::Flow(f) => {
                let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
                let header = format!("flow {}({})", f.name.name, params.join(", "));
                self.block(0, f.span, gap, header, |p| {
                    for (i, node) in f.nodes.iter().enumerate() {
                        p.node(node, 1, if i == 0 { Gap::Never } else { Gap::Force });
                    }
                });
            }
            Item::Intent(i) => self.block(0, i.span, gap, format!("intent {}", i.name.name), |p| {
                for (n, sample) in i.samples.iter().enumerate() {
                    p.line(1, sample.span.start(), first_gap(n), plain(&sample.value));
                }
            }),
            Item::IntentsFrom(i) => self.line(
                0,
                i.span.start(),
                gap,
                format!("intents from {}", plain(&i.path.value)),
            ),
            Item::Synonyms(s) => self.block(0, s.span, gap, "synonyms".into(), |p| {
                for (n, rule) in s.rules.iter().enumerate() {
                    let variants: Vec<String> =
                        rule.variants.iter().map(|v| plain(&v.value)).collect();
                    let line = format!("{} = {}", variants.join(" "), plain(&rule.canonical.value));
                    p.line(1, rule.span.start(), first_gap(n), line);
                }
            }),
            Item::Faq(f) => {
                self.line(0, f.span.start(), gap, "faq {".into());
                for (n, q) in f.questions.iter().enumerate() {
                    self.line(1, q.span.start(), first_gap(n), plain(&q.value));
                }
                let answer = match &f.answer {
                    FaqAnswer::Goto(node) => node.name.to_string(),
                    FaqAnswer::Say(text) => inline_text(text),
                };
                self.close(
                    0,
                    f.span.end().saturating_sub(1),
                    &format!("}} -> {answer}"),
                );
            }
            Item::Test(t) => self.block(
                0,
                t.span,
                gap,
                format!("test {}", plain(&t.name.value)),
                |p| {
                    for (i, step) in t.steps.iter().enumerate() {
                        p.line(1, step.span.start(), first_gap(i), test_step(&step.kind));
                    }
                },
            ),
        }
    }

    fn node(&mut self, node: &Node, indent: usize, gap: Gap) {
        self.block(
            indent,
            node.span,
            gap,
            format!("node {}", node.name.name),
            |p| {
                for (i, stmt) in node.body.iter().enumerate() {
                    p.stmt(stmt, indent + 1, first_gap(i));
                }
            },
        );
    }

    /// Prints block children in source order, each a line or a nested construct.
    fn parts(&mut self, indent: usize, mut parts: Vec<(usize, Part<'_>)>) {
        parts.sort_by_key(|(at, _)| *at);
        for (i, (at, part)) in parts.into_iter().enumerate() {
            let gap = first_gap(i);
            match part {
                Part::Line(text) => self.line(indent, at, gap, text),
                Part::Text {
                    prefix,
                    text,
                    suffix,
                } => self.with_text(indent, at, gap, prefix, Some(text), &suffix),
                Part::Card(card) => self.card(card, indent, gap),
                Part::Messages(entries, span) => self.messages(entries, span, indent, gap),
            }
        }
    }

    /// `prefix TEXT suffix`: one line for a plain text; a translation set opens a block with one
    /// `LANG "text"` line per language, and `suffix` follows its closing brace. An empty
    /// `prefix` starts the line with the text (an option's label).
    fn with_text(
        &mut self,
        indent: usize,
        at: usize,
        gap: Gap,
        prefix: String,
        text: Option<&Text>,
        suffix: &str,
    ) {
        let lead = if prefix.is_empty() {
            prefix.clone()
        } else {
            format!("{prefix} ")
        };
        match text {
            None => self.line(indent, at, gap, format!("{prefix}{suffix}")),
            Some(Text::Plain(t)) => {
                self.line(indent, at, gap, format!("{lead}{}{suffix}", template(t)))
            }
            Some(Text::Translated { texts, span }) => {
                self.line(indent, at, gap, format!("{lead}{{"));
                for (i, (lang, t)) in texts.iter().enumerate() {
                    self.line(
                        indent + 1,
                        lang.span.start(),
                        first_gap(i),
                        format!("{} {}", lang.name, template(t)),
                    );
                }
                self.close(indent, span.end().saturating_sub(1), &format!("}}{suffix}"));
            }
        }
    }

    fn api_prop(&mut self, prop: &ApiProp, gap: Gap) {
        let (span, text) = match prop {
            ApiProp::Mode { live, span } => {
                (span, if *live { "live" } else { "draft" }.to_string())
            }
            ApiProp::Request { method, url, span } => (
                span,
                format!("{} {}", method.as_str().to_ascii_lowercase(), template(url)),
            ),
            ApiProp::Header { name, value, span } => (
                span,
                format!("header {} = {}", plain(&name.value), template(value)),
            ),
            ApiProp::Body { body, span } => (span, format!("body {}", template(body))),
            ApiProp::Json { body, span } => {
                return self.json_value(1, span.start(), gap, "json ".into(), body, "")
            }
            ApiProp::Form { body, span } => {
                return self.json_value(1, span.start(), gap, "form ".into(), body, "")
            }
            ApiProp::Timeout { millis, span } => (span, format!("timeout {}", duration(*millis))),
            ApiProp::Retry { count, span } => (span, format!("retry {count}")),
            ApiProp::Idempotent { span } => (span, "idempotent".to_string()),
            ApiProp::Internal { span } => (span, "internal".to_string()),
            ApiProp::Redirects { mode, span } => (span, format!("redirects {}", mode.word())),
            ApiProp::Url { url, span } => (span, format!("url {}", template(url))),
            ApiProp::Model { model, span } => (span, format!("model {}", plain(&model.value))),
            ApiProp::Key { key, span } => (span, format!("key {}", template(key))),
            ApiProp::MaxTokens { count, span } => (span, format!("max_tokens {count}")),
            ApiProp::System { text, span } => {
                return self.with_text(1, span.start(), gap, "system".into(), Some(text), "")
            }
            ApiProp::Save {
                attr,
                path,
                span,
                sensitive,
            } => (
                span,
                format!(
                    "save {}{} = {}",
                    attr.name,
                    sensitive_mark(*sensitive),
                    save_path(path)
                ),
            ),
        };
        self.line(1, span.start(), gap, text);
    }

    /// Prints `prefix` + a JSON template value + `suffix`. An object or array written over
    /// several lines in the source stays one member per line; one written on one line stays
    /// on one line (it cannot hold a comment).
    fn json_value(
        &mut self,
        indent: usize,
        at: usize,
        gap: Gap,
        prefix: String,
        value: &JsonTemplate,
        suffix: &str,
    ) {
        let (open, close, span) = match value {
            JsonTemplate::Object(_, span) => ("{", "}", *span),
            JsonTemplate::Array(_, span) => ("[", "]", *span),
            _ => {
                return self.line(
                    indent,
                    at,
                    gap,
                    format!("{prefix}{}{suffix}", json_inline(value)),
                )
            }
        };
        let written = self.source.get(span.start()..span.end()).unwrap_or("");
        if !written.contains('\n') || json_is_empty(value) {
            return self.line(
                indent,
                at,
                gap,
                format!("{prefix}{}{suffix}", json_inline(value)),
            );
        }
        self.line(indent, at, gap, format!("{prefix}{open}"));
        match value {
            JsonTemplate::Object(members, _) => {
                for (i, (key, member)) in members.iter().enumerate() {
                    let comma = if i + 1 < members.len() { "," } else { "" };
                    let prefix = format!("{}: ", plain(&key.value));
                    self.json_value(
                        indent + 1,
                        key.span.start(),
                        first_gap(i),
                        prefix,
                        member,
                        comma,
                    );
                }
            }
            JsonTemplate::Array(items, _) => {
                for (i, item) in items.iter().enumerate() {
                    let comma = if i + 1 < items.len() { "," } else { "" };
                    let at = json_span(item).start();
                    self.json_value(indent + 1, at, first_gap(i), String::new(), item, comma);
                }
            }
            _ => {}
        }
        self.close(
            indent,
            span.end().saturating_sub(1),
            &format!("{close}{suffix}"),
        );
    }

    /// One statement. Adding a statement to the language adds one arm here.
    fn stmt(&mut self, stmt: &Stmt, indent: usize, gap: Gap) {
        let at = stmt.span.start();
        let text = match &stmt.kind {
            StmtKind::Say(t) => return self.with_text(indent, at, gap, "say".into(), Some(t), ""),
            StmtKind::Ask {
                attr,
                kind,
                prompt,
                sensitive,
            } => {
                let mut head = format!("ask {}{}", attr.name, sensitive_mark(*sensitive));
                if let Some(kind) = kind {
                    head.push_str(&format!(" as {}", kind.name));
                }
                return self.with_text(indent, at, gap, head, prompt.as_deref(), "");
            }
            StmtKind::Set {
                attr,
                value,
                sensitive,
            } => format!(
                "set {}{} = {}",
                attr.name,
                sensitive_mark(*sensitive),
                expr(value)
            ),
            StmtKind::SetSys { name, value } => format!("set sys.{} = {}", name.name, expr(value)),
            StmtKind::Call(api) => format!("call {}", api.name),
            StmtKind::Reply(ai) => format!("reply with {}", ai.name),
            StmtKind::AskAi { ai, prompt, attr } => {
                let head = format!("ask {}", ai.name);
                let tail = format!(" save {}", attr.name);
                return self.with_text(indent, at, gap, head, Some(prompt), &tail);
            }
            StmtKind::Branch(branch) => return self.branch(branch, indent, gap),
            StmtKind::Goto(node) => format!("goto {}", node.name),
            StmtKind::Close => "close".to_string(),
            StmtKind::Menu(menu) => return self.menu(menu, stmt.span, indent, gap),
            StmtKind::Carousel(carousel) => return self.carousel(carousel, stmt.span, indent, gap),
            StmtKind::Email(email) => return self.email(email, stmt.span, indent, gap),
            StmtKind::Otp(otp) => return self.otp(otp, stmt.span, indent, gap),
            StmtKind::Form(form) => return self.form(form, stmt.span, indent, gap),
            StmtKind::Media { kind, url, caption } => {
                let head = format!("{} {}", kind.as_str(), template(url));
                return self.with_text(indent, at, gap, head, caption.as_deref(), "");
            }
            StmtKind::Transfer { kind, to, message } => {
                let head = format!("transfer {} {}", blocks::transfer_kind(*kind), template(to));
                return self.with_text(indent, at, gap, head, message.as_deref(), "");
            }
            StmtKind::Appointment(a) => return self.appointment(a, stmt.span, indent, gap),
            StmtKind::Goal(name) => format!("goal {}", plain(&name.value)),
            StmtKind::Run { flow, args } => {
                let args: Vec<String> = args.iter().map(expr).collect();
                format!("run {}({})", flow.name, args.join(", "))
            }
            StmtKind::Return => "return".to_string(),
        };
        self.line(indent, at, gap, text);
    }

    /// `if`, each `elif` and `else` on its own line, at the statement's indent.
    fn branch(&mut self, branch: &Branch, indent: usize, gap: Gap) {
        for (i, arm) in branch.arms.iter().enumerate() {
            let keyword = if i == 0 { "if" } else { "elif" };
            let text = format!("{keyword} {} -> {}", expr(&arm.cond), arm.target.name);
            self.line(
                indent,
                arm.span.start(),
                if i == 0 { gap } else { Gap::Never },
                text,
            );
        }
        if let (Some(target), Some(span)) = (&branch.otherwise, branch.otherwise_span) {
            self.line(
                indent,
                span.start(),
                Gap::Never,
                format!("else -> {}", target.name),
            );
        }
    }
}

/// A child of a block, placed by its source offset.
enum Part<'t> {
    Line(String),
    /// `prefix TEXT suffix`, where TEXT may be a translation set.
    Text {
        prefix: String,
        text: &'t Text,
        suffix: String,
    },
    Card(&'t Card),
    /// The bot's `messages { NAME TEXT ... }` block.
    Messages(&'t [(Ident, Text)], Span),
}

impl<'t> Part<'t> {
    /// `prefix TEXT`.
    fn text(prefix: impl Into<String>, text: &'t Text) -> Part<'t> {
        Part::Text {
            prefix: prefix.into(),
            text,
            suffix: String::new(),
        }
    }
}

fn first_gap(index: usize) -> Gap {
    if index == 0 {
        Gap::Never
    } else {
        Gap::Keep
    }
}

/// A message text on one line: a template, or `{ en "..." es "..." }`.
fn inline_text(text: &Text) -> String {
    match text {
        Text::Plain(t) => template(t),
        Text::Translated { texts, .. } => {
            let parts: Vec<String> = texts
                .iter()
                .map(|(lang, t)| format!("{} {}", lang.name, template(t)))
                .collect();
            format!("{{ {} }}", parts.join(" "))
        }
    }
}

/// One `bot` setting, placed by its source offset.
fn bot_setting(setting: &BotSetting) -> (usize, Part<'_>) {
    match setting {
        BotSetting::Start(node) => (
            node.span.start(),
            Part::Line(format!("start {}", node.name)),
        ),
        BotSetting::Greeting(text) => (text.span().start(), Part::text("greeting", text)),
        BotSetting::Avatar(url) => (
            url.span.start(),
            Part::Line(format!("avatar {}", template(url))),
        ),
        BotSetting::Fallback(text) => (text.span().start(), Part::text("fallback", text)),
        BotSetting::FallbackAi(ai) => (
            ai.span.start(),
            Part::Line(format!("fallback reply with {}", ai.name)),
        ),
        BotSetting::Languages(langs) => {
            let names: Vec<&str> = langs.iter().map(|l| l.name.as_str()).collect();
            let at = langs.first().map_or(0, |l| l.span.start());
            (at, Part::Line(format!("languages {}", names.join(", "))))
        }
        BotSetting::Messages { entries, span } => (span.start(), Part::Messages(entries, *span)),
        BotSetting::Webhook(hook) => {
            let events: Vec<&str> = hook.events.iter().map(|e| e.name.as_str()).collect();
            let line = format!(
                "webhook {} secret {} events [{}]",
                plain(&hook.url.value),
                hook.secret.name,
                events.join(", ")
            );
            (hook.url.span.start(), Part::Line(line))
        }
        BotSetting::Threshold(t) => (t.span.start(), Part::Line(format!("threshold {}", t.value))),
        BotSetting::Route { intent, target } => (
            intent.span.start(),
            Part::Line(format!("intent {} -> {}", intent.name, target.name)),
        ),
        BotSetting::Timezone(zone) => (
            zone.span.start(),
            Part::Line(format!("timezone {}", plain(&zone.value))),
        ),
    }
}

fn request_part(part: &RequestPart) -> String {
    match part {
        RequestPart::Method(m) => format!("method {}", m.as_str().to_ascii_lowercase()),
        RequestPart::Header { name, value } => {
            format!("header {} == {}", plain(&name.value), plain(&value.value))
        }
        RequestPart::Json { path: None, value } => format!("json {}", json_value(value)),
        RequestPart::Json {
            path: Some(path),
            value,
        } => format!("json {} == {}", plain(&path.value), json_value(value)),
    }
}

fn test_step(step: &TestStepKind) -> String {
    match step {
        TestStepKind::Stub { api, answer } => match answer {
            StubAnswer::Timeout => format!("stub {} timeout", api.name),
            StubAnswer::Status { status, body: None } => format!("stub {} {status}", api.name),
            StubAnswer::Status {
                status,
                body: Some(body),
            } => format!("stub {} {status} {}", api.name, json_value(body)),
        },
        TestStepKind::User(text) => format!("user {}", plain(&text.value)),
        TestStepKind::ExpectSay(text) => format!("expect say {}", plain(&text.value)),
        TestStepKind::ExpectNode(node) => format!("expect node {}", node.name),
        TestStepKind::ExpectAttr { attr, expect } => match expect {
            AttrExpectation::Equals(value) => {
                format!("expect attr {} == {}", attr.name, literal(value))
            }
            AttrExpectation::NotSet => format!("expect attr {} is not set", attr.name),
        },
        TestStepKind::ExpectRequest { api, url } => {
            format!("expect request {} {}", api.name, plain(&url.value))
        }
        TestStepKind::ExpectRequestPart { api, part } => {
            format!("expect request {} {}", api.name, request_part(part))
        }
        TestStepKind::ExpectClosed => "expect closed".to_string(),
        TestStepKind::ExpectChoices(labels) => {
            let labels: Vec<String> = labels.iter().map(|l| plain(&l.value)).collect();
            format!("expect choices {}", labels.join(", "))
        }
        TestStepKind::ExpectTransfer(to) => format!("expect transfer {}", plain(&to.value)),
        TestStepKind::ExpectEmail { to, subject } => {
            format!(
                "expect email {} {}",
                plain(&to.value),
                plain(&subject.value)
            )
        }
        TestStepKind::ExpectGoal(name) => format!("expect goal {}", plain(&name.value)),
        TestStepKind::ExpectIntent(name) => format!("expect intent {}", name.name),
        TestStepKind::ExpectMedia { kind, url } => {
            format!("expect media {} {}", kind.as_str(), plain(&url.value))
        }
        TestStepKind::Clock(at) => format!("clock {}", plain(&at.value)),
        TestStepKind::Language(lang) => format!("language {}", plain(&lang.value)),
    }
}

/// ` sensitive` after an attribute's name, when it is marked so.
fn sensitive_mark(sensitive: bool) -> &'static str {
    if sensitive {
        " sensitive"
    } else {
        ""
    }
}

//! AST -> IR, for a flow that has passed every check (names resolve, kinds are known).
//! Anything that would not resolve here is a bug in the checks, so it lowers to a harmless
//! placeholder rather than panicking.

use super::check::{OTP_DEFAULT_DIGITS, OTP_DEFAULT_TRIES};
use super::resolve::{ApiDef, Ctx};
use crate::ir::{self, AskKind, Func, Value};
use crate::source::FileId;
use crate::syntax::ast::{self, ApiProp, ExprKind, Literal, Method, RefKind, Span};

pub(crate) fn lower(ctx: &Ctx<'_>, bot_fallback_name: &str) -> ir::Program {
    let apis = ctx.apis.iter().map(|a| lower_api(ctx, a)).collect();
    let nodes = ctx
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| ir::Node {
            name: ctx.node_name(i),
            stmts: n
                .ast
                .body
                .iter()
                .map(|s| lower_stmt(ctx, n.flow, s))
                .collect(),
        })
        .collect();
    let source_map = ir::SourceMap {
        files: ctx.sources.iter().map(|f| f.name.clone()).collect(),
        nodes: ctx
            .nodes
            .iter()
            .map(|n| ir::NodeSpans {
                node: span(n.file, n.ast.span),
                stmts: n.ast.body.iter().map(|s| span(n.file, s.span)).collect(),
            })
            .collect(),
        apis: ctx.apis.iter().map(|a| span(a.file, a.ast.span)).collect(),
    };
    ir::Program {
        format_version: ir::FORMAT_VERSION,
        min_read_version: ir::WRITTEN_MIN_READ_VERSION,
        bot: ir::BotInfo {
            name: ctx.bot.map_or_else(
                || bot_fallback_name.to_string(),
                |(_, b)| b.name.value.to_string(),
            ),
            start: ctx.start.unwrap_or(0),
            greeting: setting(ctx, |s| match s {
                ast::BotSetting::Greeting(t) => Some(text(ctx, t)),
                _ => None,
            }),
            avatar: setting(ctx, |s| match s {
                ast::BotSetting::Avatar(t) => Some(template(ctx, t)),
                _ => None,
            }),
            fallback: setting(ctx, |s| match s {
                ast::BotSetting::Fallback(t) => Some(text(ctx, t)),
                _ => None,
            }),
            languages: ctx.languages.iter().map(|l| l.to_string()).collect(),
            webhook: setting(ctx, |s| match s {
                ast::BotSetting::Webhook(w) => Some(ir::Webhook {
                    url: w.url.value.to_string(),
                    secret: w.secret.name.to_string(),
                    events: w.events.iter().map(|e| e.name.to_string()).collect(),
                }),
                _ => None,
            }),
            timezone: setting(ctx, |s| match s {
                ast::BotSetting::Timezone(z) => Some(z.value.to_string()),
                _ => None,
            }),
            messages: bot_messages(ctx),
            fallback_ai: setting(ctx, |s| match s {
                ast::BotSetting::FallbackAi(ai) => Some(api_id(ctx, ai)),
                _ => None,
            }),
        },
        hours: ctx
            .hours
            .iter()
            .map(|h| {
                h.table.clone().unwrap_or_else(|| ir::HoursTable {
                    name: h.ast.name.name.to_string(),
                    zone: "UTC".into(),
                    weekly: Vec::new(),
                    closed: Vec::new(),
                })
            })
            .collect(),
        flows: ctx
            .flows
            .iter()
            .map(|f| ir::FlowInfo {
                name: f.ast.name.name.to_string(),
                entry: f.entry.unwrap_or(0),
                params: f.params.clone(),
            })
            .collect(),
        apis,
        nodes,
        attrs: ctx
            .attrs
            .iter()
            .map(|a| ir::AttrInfo {
                name: a.name.to_string(),
                ty: a.ty,
                sensitive: a.sensitive,
            })
            .collect(),
        tests: ctx
            .tests
            .iter()
            .map(|&(f, t)| lower_test(ctx, f, t))
            .collect(),
        source_map,
        understanding: None,
    }
}

/// The first bot setting `pick` accepts.
fn setting<T>(ctx: &Ctx<'_>, pick: impl Fn(&ast::BotSetting) -> Option<T>) -> Option<T> {
    ctx.bot.and_then(|(_, b)| b.settings.iter().find_map(pick))
}

fn span(file: FileId, s: Span) -> ir::SourceSpan {
    ir::SourceSpan {
        file,
        start: u32::try_from(s.start()).unwrap_or(u32::MAX),
        end: u32::try_from(s.end()).unwrap_or(u32::MAX),
    }
}

fn lower_api(ctx: &Ctx<'_>, def: &ApiDef<'_>) -> ir::Api {
    let method = def.method.unwrap_or(Method::Get);
    let mut headers = Vec::new();
    let mut saves = Vec::new();
    for prop in &def.ast.props {
        match prop {
            ApiProp::Header { name, value, .. } => headers.push(ir::Header {
                name: name.value.to_string(),
                value: template(ctx, value),
            }),
            ApiProp::Save { attr, path, .. } => saves.push(ir::Save {
                attr: attr_id(ctx, &attr.name),
                path: path.steps.clone(),
            }),
            _ => {}
        }
    }
    if let Some(ai) = &def.ai {
        if let Some(key) = ai.key {
            let mut value = template(ctx, key);
            value
                .parts
                .insert(0, ir::TemplatePart::Text("Bearer ".into()));
            headers.push(ir::Header {
                name: "Authorization".into(),
                value,
            });
        }
    }
    let body = match def.body {
        Some(ApiProp::Body { body, .. }) => Some(ir::RequestBody::Text(template(ctx, body))),
        Some(ApiProp::Json { body, .. }) => Some(ir::RequestBody::Json(json(ctx, body))),
        Some(ApiProp::Form { body, .. }) => Some(ir::RequestBody::Form(json(ctx, body))),
        _ => None,
    };
    ir::Api {
        name: def.ast.name.name.to_string(),
        method,
        url: def
            .url
            .map_or(ir::Template { parts: Vec::new() }, |u| template(ctx, u)),
        headers,
        body,
        timeout_ms: def.timeout_ms,
        retry: def.retry,
        idempotent: def.idempotent || matches!(method, Method::Get | Method::Put | Method::Delete),
        internal: def.internal,
        redirects: def.redirects,
        saves,
        ai: def.ai.as_ref().map(|ai| ir::AiModel {
            model: ai.model.map(|m| m.value.to_string()).unwrap_or_default(),
            system: ai.system.map(|t| text(ctx, t)),
            max_tokens: ai.max_tokens,
        }),
    }
}

fn json(ctx: &Ctx<'_>, j: &ast::JsonTemplate) -> ir::JsonTemplate {
    match j {
        ast::JsonTemplate::Object(fields, _) => ir::JsonTemplate::Object(
            fields
                .iter()
                .map(|(k, v)| (k.value.to_string(), json(ctx, v)))
                .collect(),
        ),
        ast::JsonTemplate::Array(items, _) => {
            ir::JsonTemplate::Array(items.iter().map(|v| json(ctx, v)).collect())
        }
        ast::JsonTemplate::String(t) => ir::JsonTemplate::String(template(ctx, t)),
        ast::JsonTemplate::Number(n, _) => ir::JsonTemplate::Number(*n),
        ast::JsonTemplate::Bool(b, _) => ir::JsonTemplate::Bool(*b),
        ast::JsonTemplate::Null(_) => ir::JsonTemplate::Null,
        ast::JsonTemplate::Ref(e) => ir::JsonTemplate::Value(expr(ctx, e)),
    }
}

fn attr_id(ctx: &Ctx<'_>, name: &str) -> ir::AttrId {
    ctx.attr_ids.get(name).copied().unwrap_or(0)
}

fn node_id(ctx: &Ctx<'_>, scope: Option<ir::FlowId>, name: &ast::Ident) -> ir::NodeId {
    ctx.target_id(scope, name).unwrap_or(0)
}

/// For a field the checks made sure is present.
fn node_opt(ctx: &Ctx<'_>, scope: Option<ir::FlowId>, name: Option<&ast::Ident>) -> ir::NodeId {
    name.map_or(0, |n| node_id(ctx, scope, n))
}

fn api_id(ctx: &Ctx<'_>, name: &ast::Ident) -> ir::ApiId {
    ctx.api_ids.get(name.name.as_str()).copied().unwrap_or(0)
}

fn template(ctx: &Ctx<'_>, t: &ast::Template) -> ir::Template {
    let parts = t
        .parts
        .iter()
        .map(|p| match p {
            ast::TemplatePart::Text(s) => ir::TemplatePart::Text(s.to_string()),
            ast::TemplatePart::Ref(r) => match &r.kind {
                RefKind::Status => ir::TemplatePart::Status,
                RefKind::Attr(a) => ir::TemplatePart::Attr(attr_id(ctx, a)),
                RefKind::Sys(s) => ir::TemplatePart::Sys(s.to_string()),
                RefKind::Secret(s) => ir::TemplatePart::Secret(s.to_string()),
                RefKind::Item(path) => ir::TemplatePart::Item(path.clone()),
            },
        })
        .collect();
    ir::Template { parts }
}

fn opt_template(ctx: &Ctx<'_>, t: Option<&ast::Template>) -> Option<ir::Template> {
    t.map(|t| template(ctx, t))
}

/// A translation set lists its texts in the bot's language order.
pub(crate) fn text(ctx: &Ctx<'_>, t: &ast::Text) -> ir::Text {
    match t {
        ast::Text::Plain(t) => ir::Text::Plain(template(ctx, t)),
        ast::Text::Translated { texts, .. } => ir::Text::Translated(
            ctx.languages
                .iter()
                .filter_map(|lang| {
                    let (_, t) = texts.iter().find(|(l, _)| l.name == *lang)?;
                    Some((lang.to_string(), template(ctx, t)))
                })
                .collect(),
        ),
    }
}

fn opt_text(ctx: &Ctx<'_>, t: Option<&ast::Text>) -> Option<ir::Text> {
    t.map(|t| text(ctx, t))
}

fn ask_kind(kind: Option<&ast::Ident>) -> AskKind {
    kind.and_then(|k| AskKind::ALL.iter().find(|(n, _)| *n == k.name))
        .map_or(AskKind::Text, |&(_, k)| k)
}

fn lower_stmt(ctx: &Ctx<'_>, scope: Option<ir::FlowId>, s: &ast::Stmt) -> ir::Stmt {
    let node = |t: &ast::Ident| node_id(ctx, scope, t);
    match &s.kind {
        ast::StmtKind::Say(t) => ir::Stmt::Say(text(ctx, t)),
        ast::StmtKind::Ask {
            attr, kind, prompt, ..
        } => ir::Stmt::Ask {
            attr: attr_id(ctx, &attr.name),
            kind: ask_kind(kind.as_deref()),
            prompt: prompt.as_ref().map(|p| text(ctx, p)),
        },
        ast::StmtKind::Set { attr, value, .. } => ir::Stmt::Set {
            attr: attr_id(ctx, &attr.name),
            value: expr(ctx, value),
        },
        ast::StmtKind::Call(api) => ir::Stmt::Call(api_id(ctx, api)),
        ast::StmtKind::Reply(ai) => ir::Stmt::Reply(api_id(ctx, ai)),
        ast::StmtKind::AskAi { ai, prompt, attr } => ir::Stmt::AskAi {
            api: api_id(ctx, ai),
            prompt: text(ctx, prompt),
            attr: attr_id(ctx, &attr.name),
        },
        ast::StmtKind::Branch(b) => ir::Stmt::Branch(ir::BranchTable {
            arms: b
                .arms
                .iter()
                .map(|a| ir::BranchArm {
                    cond: expr(ctx, &a.cond),
                    target: node(&a.target),
                })
                .collect(),
            otherwise: node_opt(ctx, scope, b.otherwise.as_ref()),
        }),
        ast::StmtKind::Goto(t) => ir::Stmt::Goto(node(t)),
        ast::StmtKind::Close => ir::Stmt::Close,
        ast::StmtKind::SetSys { value, .. } => ir::Stmt::SetLanguage(expr(ctx, value)),
        ast::StmtKind::Menu(m) => ir::Stmt::Menu(Box::new(ir::Menu {
            style: m.style,
            text: opt_text(ctx, m.text.as_ref()),
            source: match &m.source {
                ast::MenuSource::Static(options) => {
                    ir::MenuSource::Static(self::options(ctx, scope, options))
                }
                ast::MenuSource::Dynamic(d) => ir::MenuSource::Dynamic(ir::DynamicItems {
                    list: attr_id(ctx, &d.list.name),
                    label: opt_text(ctx, d.label.as_ref()),
                    saves: item_saves(ctx, &d.saves),
                    target: node_opt(ctx, scope, d.target.as_ref()),
                    empty: node_opt(ctx, scope, d.empty.as_ref()),
                }),
            },
            save: m.save.as_ref().map(|a| attr_id(ctx, &a.name)),
            threshold: m.threshold.as_ref().map(|t| t.value),
        })),
        ast::StmtKind::Carousel(carousel) => match &**carousel {
            ast::Carousel::Static { cards, save } => {
                ir::Stmt::Carousel(Box::new(ir::Carousel::Static {
                    cards: cards
                        .iter()
                        .map(|c| ir::Card {
                            title: text(ctx, &c.title),
                            subtitle: opt_text(ctx, c.subtitle.as_ref()),
                            image: opt_template(ctx, c.image.as_ref()),
                            buttons: options(ctx, scope, &c.buttons),
                        })
                        .collect(),
                    save: save.as_ref().map(|a| attr_id(ctx, &a.name)),
                }))
            }
            ast::Carousel::Dynamic {
                list,
                card,
                saves,
                target,
                empty,
            } => ir::Stmt::Carousel(Box::new(ir::Carousel::Dynamic {
                list: attr_id(ctx, &list.name),
                card: ir::CardTemplate {
                    title: opt_text(ctx, card.title.as_ref()),
                    subtitle: opt_text(ctx, card.subtitle.as_ref()),
                    image: opt_template(ctx, card.image.as_ref()),
                    button: opt_text(ctx, card.button.as_ref()),
                },
                saves: item_saves(ctx, saves),
                target: node_opt(ctx, scope, target.as_ref()),
                empty: node_opt(ctx, scope, empty.as_ref()),
            })),
        },
        ast::StmtKind::Email(e) => ir::Stmt::Email(Box::new(ir::Email {
            to: required(ctx, e.to.as_ref()),
            subject: required_text(ctx, e.subject.as_ref()),
            body: required_text(ctx, e.body.as_ref()),
        })),
        ast::StmtKind::Otp(o) => ir::Stmt::Otp(Box::new(ir::Otp {
            send: match &o.send {
                Some(ast::OtpSend::Call(api)) => ir::OtpSend::Call(api_id(ctx, api)),
                Some(ast::OtpSend::Email(t)) => ir::OtpSend::Email(template(ctx, t)),
                None => ir::OtpSend::Email(ir::Template { parts: Vec::new() }),
            },
            prompt: opt_text(ctx, o.prompt.as_ref()),
            digits: o.digits.map_or(OTP_DEFAULT_DIGITS, |(n, _)| n),
            tries: o.tries.map_or(OTP_DEFAULT_TRIES, |(n, _)| n),
            ok: node_opt(ctx, scope, o.ok.as_ref()),
            fail: node_opt(ctx, scope, o.fail.as_ref()),
        })),
        ast::StmtKind::Form(f) => ir::Stmt::Form(Box::new(ir::Form {
            title: opt_text(ctx, f.title.as_ref()),
            fields: f
                .fields
                .iter()
                .map(|field| ir::FormField {
                    attr: attr_id(ctx, &field.attr.name),
                    kind: ask_kind(field.kind.as_ref()),
                    label: text(ctx, &field.label),
                })
                .collect(),
        })),
        ast::StmtKind::Media { kind, url, caption } => ir::Stmt::Media {
            kind: *kind,
            url: template(ctx, url),
            caption: opt_text(ctx, caption.as_deref()).map(Box::new),
        },
        ast::StmtKind::Transfer { kind, to, message } => ir::Stmt::Transfer {
            kind: *kind,
            to: template(ctx, to),
            message: opt_text(ctx, message.as_deref()).map(Box::new),
        },
        ast::StmtKind::Appointment(a) => ir::Stmt::Appointment(Box::new(ir::Appointment {
            slots_api: a.slots.as_ref().map_or(0, |(api, _)| api_id(ctx, api)),
            slots_path: a
                .slots
                .as_ref()
                .map_or_else(Vec::new, |(_, p)| p.steps.clone()),
            label: opt_text(ctx, a.label.as_ref()),
            prompt: opt_text(ctx, a.prompt.as_ref()),
            saves: item_saves(ctx, &a.saves),
            book_api: a.book.as_ref().map_or(0, |api| api_id(ctx, api)),
            booked: node_opt(ctx, scope, a.booked.as_ref()),
            failed: node_opt(ctx, scope, a.failed.as_ref()),
        })),
        ast::StmtKind::Goal(name) => ir::Stmt::Goal(name.value.to_string()),
        ast::StmtKind::Run { flow, args } => ir::Stmt::Run {
            flow: ctx.flow_ids.get(flow.name.as_str()).copied().unwrap_or(0),
            args: args.iter().map(|a| expr(ctx, a)).collect(),
        },
        ast::StmtKind::Return => ir::Stmt::Return,
    }
}

fn options(
    ctx: &Ctx<'_>,
    scope: Option<ir::FlowId>,
    options: &[ast::MenuOption],
) -> Vec<ir::MenuOption> {
    options
        .iter()
        .map(|o| ir::MenuOption {
            label: text(ctx, &o.label),
            kind: match &o.kind {
                ast::OptionKind::Branch(t) => ir::OptionKind::Branch(node_id(ctx, scope, t)),
                ast::OptionKind::Link(url) => ir::OptionKind::Link(template(ctx, url)),
                ast::OptionKind::Postback { payload, target } => ir::OptionKind::Postback {
                    payload: payload.value.to_string(),
                    target: node_id(ctx, scope, target),
                },
            },
            intent: o.intent.as_ref().map(|i| i.name.to_string()),
        })
        .collect()
}

fn item_saves(ctx: &Ctx<'_>, saves: &[ast::ItemSave]) -> Vec<ir::ItemSave> {
    saves
        .iter()
        .map(|s| ir::ItemSave {
            attr: attr_id(ctx, &s.attr.name),
            path: s.path.clone(),
        })
        .collect()
}

/// The bot's own texts for built-in messages; a message's placeholder (`{digits}`) stays in
/// the text for the runtime to fill.
fn bot_messages(ctx: &Ctx<'_>) -> Vec<(String, ir::Text)> {
    let Some((_, bot)) = ctx.bot else {
        return Vec::new();
    };
    let mut out: Vec<(String, ir::Text)> = Vec::new();
    for setting in &bot.settings {
        let ast::BotSetting::Messages { entries, .. } = setting else {
            continue;
        };
        for (name, t) in entries {
            let Some(message) = ir::Message::from_name(&name.name) else {
                continue;
            };
            if out.iter().any(|(n, _)| *n == name.name) {
                continue;
            }
            let mut lowered = text(ctx, t);
            if let Some(placeholder) = message.placeholder() {
                keep_placeholder(ctx, t, &mut lowered, placeholder);
            }
            out.push((name.name.to_string(), lowered));
        }
    }
    out
}

/// Puts `{placeholder}` back as text where [`text`] lowered it as an attribute.
fn keep_placeholder(ctx: &Ctx<'_>, source: &ast::Text, lowered: &mut ir::Text, placeholder: &str) {
    let sources: Vec<&ast::Template> = match source {
        ast::Text::Plain(t) => vec![t],
        ast::Text::Translated { texts, .. } => ctx
            .languages
            .iter()
            .filter_map(|lang| texts.iter().find(|(l, _)| l.name == *lang).map(|(_, t)| t))
            .collect(),
    };
    let targets: Vec<&mut ir::Template> = match lowered {
        ir::Text::Plain(t) => vec![t],
        ir::Text::Translated(texts) => texts.iter_mut().map(|(_, t)| t).collect(),
    };
    for (src, target) in sources.into_iter().zip(targets) {
        for (part, out) in src.parts.iter().zip(target.parts.iter_mut()) {
            if let ast::TemplatePart::Ref(r) = part {
                if matches!(&r.kind, RefKind::Attr(a) if a == placeholder) {
                    *out = ir::TemplatePart::Text(format!("{{{placeholder}}}"));
                }
            }
        }
    }
}

/// A template the checks made sure is present.
fn required(ctx: &Ctx<'_>, t: Option<&ast::Template>) -> ir::Template {
    t.map_or(ir::Template { parts: Vec::new() }, |t| template(ctx, t))
}

/// A message text the checks made sure is present.
fn required_text(ctx: &Ctx<'_>, t: Option<&ast::Text>) -> ir::Text {
    t.map_or(ir::Text::Plain(ir::Template { parts: Vec::new() }), |t| {
        text(ctx, t)
    })
}

pub(crate) fn value(lit: &Literal) -> Value {
    match lit {
        Literal::Number(n) => Value::Number(*n),
        Literal::String(s) => Value::Text(s.to_string()),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Null => Value::Null,
    }
}

fn expr(ctx: &Ctx<'_>, e: &ast::Expr) -> ir::Expr {
    let b = |e: &ast::Expr| Box::new(expr(ctx, e));
    match &e.kind {
        ExprKind::Lit(l) => ir::Expr::Lit(value(l)),
        ExprKind::Ref(r) => match &r.kind {
            RefKind::Status => ir::Expr::Status,
            RefKind::Attr(a) => ir::Expr::Attr(attr_id(ctx, a)),
            RefKind::Sys(s) => ir::Expr::Sys(s.to_string()),
            // Refused by the checks; never reaches a program.
            RefKind::Secret(_) | RefKind::Item(_) => ir::Expr::Lit(Value::Null),
        },
        ExprKind::Open(name) => {
            ir::Expr::Open(ctx.hours_ids.get(name.name.as_str()).copied().unwrap_or(0))
        }
        ExprKind::Or(x, y) => ir::Expr::Or(b(x), b(y)),
        ExprKind::And(x, y) => ir::Expr::And(b(x), b(y)),
        ExprKind::Not(x) => ir::Expr::Not(b(x)),
        ExprKind::Cmp { op, lhs, rhs } => ir::Expr::Cmp(*op, b(lhs), b(rhs)),
        ExprKind::InRange {
            value, low, high, ..
        } => ir::Expr::InRange(b(value), *low, *high),
        ExprKind::InList { value, items } => {
            ir::Expr::InList(b(value), items.iter().map(|i| expr(ctx, i)).collect())
        }
        ExprKind::Text { op, lhs, rhs } => ir::Expr::Text(*op, b(lhs), b(rhs)),
        ExprKind::Matches { value, pattern } => {
            ir::Expr::Matches(b(value), pattern.value.to_string())
        }
        ExprKind::Arith { op, lhs, rhs } => ir::Expr::Arith(*op, b(lhs), b(rhs)),
        ExprKind::Call { name, args } => match Func::from_name(&name.name) {
            Some(func) => ir::Expr::Call(func, args.iter().map(|a| expr(ctx, a)).collect()),
            // Reported by the checks; a program with errors is never run.
            None => ir::Expr::Lit(Value::Null),
        },
        ExprKind::Template(t) => ir::Expr::Template(template(ctx, t)),
        ExprKind::IsSet { value, negated } => {
            let set = ir::Expr::IsSet(b(value));
            if *negated {
                ir::Expr::Not(Box::new(set))
            } else {
                set
            }
        }
    }
}

fn lower_test(ctx: &Ctx<'_>, file: FileId, t: &ast::Test) -> ir::TestCase {
    let steps = t
        .steps
        .iter()
        .map(|s| ir::TestStep {
            kind: test_step(ctx, &s.kind),
            span: span(file, s.span),
        })
        .collect();
    ir::TestCase {
        name: t.name.value.to_string(),
        span: span(file, t.span),
        steps,
    }
}

fn test_step(ctx: &Ctx<'_>, k: &ast::TestStepKind) -> ir::TestStepKind {
    use ast::TestStepKind as S;
    match k {
        S::Stub { api, answer } => ir::TestStepKind::Stub {
            api: api_id(ctx, api),
            answer: match answer {
                ast::StubAnswer::Status { status, body } => ir::StubAnswer::Status {
                    status: *status,
                    body: body.clone(),
                },
                ast::StubAnswer::Timeout => ir::StubAnswer::Timeout,
            },
        },
        S::User(s) => ir::TestStepKind::User(s.value.to_string()),
        S::ExpectSay(s) => ir::TestStepKind::ExpectSay(s.value.to_string()),
        S::ExpectNode(n) => ir::TestStepKind::ExpectNode(node_id(ctx, None, n)),
        S::ExpectAttr { attr, expect } => match expect {
            ast::AttrExpectation::Equals(l) => ir::TestStepKind::ExpectAttrEquals {
                attr: attr_id(ctx, &attr.name),
                value: value(l),
            },
            ast::AttrExpectation::NotSet => ir::TestStepKind::ExpectAttrNotSet {
                attr: attr_id(ctx, &attr.name),
            },
        },
        S::ExpectRequest { api, url } => ir::TestStepKind::ExpectRequest {
            api: api_id(ctx, api),
            url: url.value.to_string(),
        },
        S::ExpectRequestPart { api, part } => ir::TestStepKind::ExpectRequestPart {
            api: api_id(ctx, api),
            part: match part {
                ast::RequestPart::Method(m) => ir::RequestPart::Method(*m),
                ast::RequestPart::Header { name, value } => ir::RequestPart::Header {
                    name: name.value.to_string(),
                    value: value.value.to_string(),
                },
                ast::RequestPart::Json { path, value } => ir::RequestPart::Json {
                    path: path.as_ref().map(|p| p.value.to_string()),
                    value: value.clone(),
                },
            },
        },
        S::ExpectClosed => ir::TestStepKind::ExpectClosed,
        S::ExpectChoices(labels) => {
            ir::TestStepKind::ExpectChoices(labels.iter().map(|l| l.value.to_string()).collect())
        }
        S::ExpectTransfer(to) => ir::TestStepKind::ExpectTransfer(to.value.to_string()),
        S::ExpectEmail { to, subject } => ir::TestStepKind::ExpectEmail {
            to: to.value.to_string(),
            subject: subject.value.to_string(),
        },
        S::ExpectGoal(g) => ir::TestStepKind::ExpectGoal(g.value.to_string()),
        S::ExpectIntent(i) => ir::TestStepKind::ExpectIntent(i.name.to_string()),
        S::ExpectMedia { kind, url } => ir::TestStepKind::ExpectMedia {
            kind: *kind,
            url: url.value.to_string(),
        },
        S::Clock(at) => ir::TestStepKind::Clock(at.value.to_string()),
        S::Language(l) => ir::TestStepKind::Language(l.value.to_string()),
    }
}

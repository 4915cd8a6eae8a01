//! AST -> IR, for a flow that has passed every check (names resolve, kinds are known).
//! Anything that would not resolve here is a bug in the checks, so it lowers to a harmless
//! placeholder rather than panicking.

use super::resolve::{ApiDef, Ctx};
use crate::diagnostic::FileId;
use crate::ir::{self, AskKind, Value};
use crate::syntax::ast::{self, ApiProp, ExprKind, Literal, Method, RefKind, Span};

pub(crate) fn lower(ctx: &Ctx<'_>, bot_fallback_name: &str) -> ir::Program {
    let apis = ctx.apis.iter().map(|a| lower_api(ctx, a)).collect();
    let nodes = ctx
        .nodes
        .iter()
        .map(|n| ir::Node {
            name: n.ast.name.name.clone(),
            stmts: n.ast.body.iter().map(|s| lower_stmt(ctx, s)).collect(),
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
        min_read_version: ir::MIN_READ_VERSION,
        bot: ir::BotInfo {
            name: ctx
                .bot
                .map_or_else(|| bot_fallback_name.to_string(), |(_, b)| b.name.value.clone()),
            start: ctx.start.unwrap_or(0),
        },
        apis,
        nodes,
        attrs: ctx
            .attrs
            .iter()
            .map(|a| ir::AttrInfo {
                name: a.name.to_string(),
                ty: a.ty,
            })
            .collect(),
        tests: ctx.tests.iter().map(|&(f, t)| lower_test(ctx, f, t)).collect(),
        source_map,
    }
}

fn span(file: FileId, s: Span) -> ir::SourceSpan {
    ir::SourceSpan {
        file,
        start: u32::try_from(s.start).unwrap_or(u32::MAX),
        end: u32::try_from(s.end).unwrap_or(u32::MAX),
    }
}

fn lower_api(ctx: &Ctx<'_>, def: &ApiDef<'_>) -> ir::Api {
    let method = def.method.unwrap_or(Method::Get);
    let mut headers = Vec::new();
    let mut saves = Vec::new();
    for prop in &def.ast.props {
        match prop {
            ApiProp::Header { name, value, .. } => headers.push(ir::Header {
                name: name.value.clone(),
                value: template(ctx, value),
            }),
            ApiProp::Save { attr, path, .. } => saves.push(ir::Save {
                attr: attr_id(ctx, &attr.name),
                path: path.steps.clone(),
            }),
            _ => {}
        }
    }
    let body = match def.body {
        Some(ApiProp::Body { body, .. }) => Some(ir::RequestBody::Text(template(ctx, body))),
        Some(ApiProp::Json { body, .. }) => Some(ir::RequestBody::Json(json(ctx, body))),
        _ => None,
    };
    ir::Api {
        name: def.ast.name.name.clone(),
        method,
        url: def.url.map_or(ir::Template { parts: Vec::new() }, |u| template(ctx, u)),
        headers,
        body,
        timeout_ms: def.timeout_ms,
        retry: def.retry,
        retry_non_idempotent: matches!(method, Method::Get | Method::Put | Method::Delete),
        saves,
    }
}

fn json(ctx: &Ctx<'_>, j: &ast::JsonTemplate) -> ir::JsonTemplate {
    match j {
        ast::JsonTemplate::Object(fields, _) => ir::JsonTemplate::Object(
            fields
                .iter()
                .map(|(k, v)| (k.value.clone(), json(ctx, v)))
                .collect(),
        ),
        ast::JsonTemplate::Array(items, _) => {
            ir::JsonTemplate::Array(items.iter().map(|v| json(ctx, v)).collect())
        }
        ast::JsonTemplate::String(t) => ir::JsonTemplate::String(template(ctx, t)),
        ast::JsonTemplate::Number(n, _) => ir::JsonTemplate::Number(*n),
        ast::JsonTemplate::Bool(b, _) => ir::JsonTemplate::Bool(*b),
        ast::JsonTemplate::Null(_) => ir::JsonTemplate::Null,
    }
}

fn attr_id(ctx: &Ctx<'_>, name: &str) -> ir::AttrId {
    ctx.attr_ids.get(name).copied().unwrap_or(0)
}

fn node_id(ctx: &Ctx<'_>, name: &ast::Ident) -> ir::NodeId {
    ctx.node_ids.get(name.name.as_str()).copied().unwrap_or(0)
}

fn api_id(ctx: &Ctx<'_>, name: &ast::Ident) -> ir::ApiId {
    ctx.api_ids.get(name.name.as_str()).copied().unwrap_or(0)
}

fn template(ctx: &Ctx<'_>, t: &ast::Template) -> ir::Template {
    let parts = t
        .parts
        .iter()
        .map(|p| match p {
            ast::TemplatePart::Text(s) => ir::TemplatePart::Text(s.clone()),
            ast::TemplatePart::Ref(r) => match &r.kind {
                RefKind::Status => ir::TemplatePart::Status,
                RefKind::Attr(a) => ir::TemplatePart::Attr(attr_id(ctx, a)),
                RefKind::Sys(s) => ir::TemplatePart::Sys(s.clone()),
                RefKind::Secret(s) => ir::TemplatePart::Secret(s.clone()),
            },
        })
        .collect();
    ir::Template { parts }
}

fn lower_stmt(ctx: &Ctx<'_>, s: &ast::Stmt) -> ir::Stmt {
    match &s.kind {
        ast::StmtKind::Say(t) => ir::Stmt::Say(template(ctx, t)),
        ast::StmtKind::Ask { attr, kind, prompt } => ir::Stmt::Ask {
            attr: attr_id(ctx, &attr.name),
            kind: kind
                .as_ref()
                .and_then(|k| AskKind::ALL.iter().find(|(n, _)| *n == k.name))
                .map_or(AskKind::Text, |&(_, k)| k),
            prompt: prompt.as_ref().map(|p| template(ctx, p)),
        },
        ast::StmtKind::Set { attr, value } => ir::Stmt::Set {
            attr: attr_id(ctx, &attr.name),
            value: expr(ctx, value),
        },
        ast::StmtKind::Call(api) => ir::Stmt::Call(api_id(ctx, api)),
        ast::StmtKind::Branch(b) => ir::Stmt::Branch(ir::BranchTable {
            arms: b
                .arms
                .iter()
                .map(|a| ir::BranchArm {
                    cond: expr(ctx, &a.cond),
                    target: node_id(ctx, &a.target),
                })
                .collect(),
            otherwise: b.otherwise.as_ref().map_or(0, |t| node_id(ctx, t)),
        }),
        ast::StmtKind::Goto(t) => ir::Stmt::Goto(node_id(ctx, t)),
        ast::StmtKind::Close => ir::Stmt::Close,
    }
}

pub(crate) fn value(lit: &Literal) -> Value {
    match lit {
        Literal::Number(n) => Value::Number(*n),
        Literal::String(s) => Value::Text(s.clone()),
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
            RefKind::Sys(s) => ir::Expr::Sys(s.clone()),
            // Refused by the checks; never reaches a program.
            RefKind::Secret(_) => ir::Expr::Lit(Value::Null),
        },
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
        ExprKind::Matches { value, pattern } => ir::Expr::Matches(b(value), pattern.value.clone()),
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
        name: t.name.value.clone(),
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
        S::User(s) => ir::TestStepKind::User(s.value.clone()),
        S::ExpectSay(s) => ir::TestStepKind::ExpectSay(s.value.clone()),
        S::ExpectNode(n) => ir::TestStepKind::ExpectNode(node_id(ctx, n)),
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
            url: url.value.clone(),
        },
        S::ExpectClosed => ir::TestStepKind::ExpectClosed,
    }
}

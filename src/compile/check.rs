//! Per-item checks: names in statements, ask kinds, templates, expression types, regexes,
//! ranges, `else`, statements after the end of a node, shadowed arms and test steps.

use super::resolve::Ctx;
use super::shadow;
use super::types::{comparable, literal_type, ref_type_fixed, type_name};
use crate::diagnostic::{did_you_mean, Diag, FileId};
use crate::ir::{AskKind, ValueType};
use crate::syntax::ast::{self, ApiProp, CmpOp, ExprKind, Literal, RefKind, Span, StmtKind};

/// System attributes a flow may read as `sys.NAME`.
pub(crate) const SYS_ATTRS: [&str; 8] = [
    "channel",
    "now",
    "visitor_id",
    "language",
    "last_message",
    "api_error",
    "date",
    "time",
];

/// Where a template is used: secrets are only allowed in API requests.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    User,
    Api,
}

pub(crate) fn check_all(ctx: &mut Ctx<'_>) {
    let files = ctx.files;
    for (file, ast_file) in files.iter().enumerate() {
        let file = file as FileId;
        for item in &ast_file.items {
            match item {
                ast::Item::Node(node) => check_node(ctx, file, node),
                ast::Item::Api(api) => check_api(ctx, file, api),
                ast::Item::Test(test) => check_test(ctx, file, test),
                ast::Item::Bot(_) | ast::Item::Import(_) => {}
                // WAVE2: checked by the bot-builder actions work.
                ast::Item::Hours(h) => unsupported(ctx, file, h.span),
                ast::Item::Flow(f) => unsupported(ctx, file, f.span),
            }
        }
    }
}

fn check_api(ctx: &mut Ctx<'_>, file: FileId, api: &ast::Api) {
    for prop in &api.props {
        match prop {
            ApiProp::Request { url, .. } => check_template(ctx, file, url, Place::Api),
            ApiProp::Header { value, .. } => check_template(ctx, file, value, Place::Api),
            ApiProp::Body { body, .. } => check_template(ctx, file, body, Place::Api),
            ApiProp::Json { body, .. } => check_json(ctx, file, body),
            _ => {}
        }
    }
}

fn check_json(ctx: &mut Ctx<'_>, file: FileId, json: &ast::JsonTemplate) {
    match json {
        ast::JsonTemplate::Object(fields, _) => {
            for (_, value) in fields {
                check_json(ctx, file, value);
            }
        }
        ast::JsonTemplate::Array(items, _) => {
            for value in items {
                check_json(ctx, file, value);
            }
        }
        ast::JsonTemplate::String(t) => check_template(ctx, file, t, Place::Api),
        _ => {}
    }
}

fn check_node(ctx: &mut Ctx<'_>, file: FileId, node: &ast::Node) {
    let mut ended: Option<Span> = None;
    let mut warned = false;
    for stmt in &node.body {
        if let (Some(end), false) = (ended, warned) {
            warned = true;
            ctx.error(
                Diag::warning(
                    "chatflow::unreachable_statement",
                    "this statement never runs",
                    stmt.span,
                )
                .label("unreachable statement")
                .note(end, "the node ends here")
                .help("`goto`, a branch and `close` end a node; move this statement before it or remove it"),
                file,
            );
        }
        check_stmt(ctx, file, stmt);
        if matches!(
            stmt.kind,
            StmtKind::Goto(_) | StmtKind::Branch(_) | StmtKind::Close
        ) && ended.is_none()
        {
            ended = Some(stmt.span);
        }
    }
}

/// WAVE2 scaffolding: constructs the parser knows but the compiler does not check yet.
fn unsupported(ctx: &mut Ctx<'_>, file: FileId, span: Span) {
    ctx.error(
        Diag::error("chatflow::unsupported", "this action is not supported yet", span)
            .label("not supported")
            .help("see docs/actions.md"),
        file,
    );
}

fn check_stmt(ctx: &mut Ctx<'_>, file: FileId, stmt: &ast::Stmt) {
    match &stmt.kind {
        StmtKind::Say(t) => check_text(ctx, file, t),
        StmtKind::Ask { kind, prompt, .. } => {
            if let Some(kind) = kind {
                check_ask_kind(ctx, file, kind);
            }
            if let Some(p) = prompt {
                check_text(ctx, file, p);
            }
        }
        StmtKind::Set { value, .. } => {
            check_expr(ctx, file, value);
        }
        StmtKind::Call(api) => match ctx.api_ids.get(api.name.as_str()) {
            None => ctx.unknown_api(file, api),
            Some(&id) if !ctx.apis[id as usize].live => {
                let def = ctx.apis[id as usize].mode_span.unwrap_or(api.span);
                let same_file = ctx.apis[id as usize].file == file;
                let mut diag = Diag::error(
                    "chatflow::draft_api",
                    format!("only live APIs can be called, and `{}` is a draft", api.name),
                    api.span,
                )
                .label("calls a draft API")
                .help(format!(
                    "replace `draft` with `live` in `api {}` once the API is ready to be called",
                    api.name
                ));
                if same_file {
                    diag = diag.note(def, "declared as a draft here");
                }
                ctx.error(diag, file);
            }
            Some(_) => {}
        },
        StmtKind::Goto(target) => check_target(ctx, file, target),
        StmtKind::Branch(branch) => check_branch(ctx, file, stmt.span, branch),
        StmtKind::Close => {}
        // WAVE2 scaffolding.
        _ => unsupported(ctx, file, stmt.span),
    }
}

fn check_target(ctx: &mut Ctx<'_>, file: FileId, target: &ast::Ident) {
    if !ctx.node_ids.contains_key(target.name.as_str()) {
        ctx.unknown_node(file, target);
    }
}

fn check_ask_kind(ctx: &mut Ctx<'_>, file: FileId, kind: &ast::Ident) {
    if AskKind::ALL.iter().any(|(name, _)| *name == kind.name) {
        return;
    }
    let names = AskKind::ALL.map(|(n, _)| n);
    let help = did_you_mean(&kind.name, names)
        .unwrap_or_else(|| format!("the kinds are: {}", names.join(", ")));
    ctx.error(
        Diag::error(
            "chatflow::unknown_ask_kind",
            format!("unknown answer kind `{}`", kind.name),
            kind.span,
        )
        .label("not a kind of answer")
        .help(help),
        file,
    );
}

fn check_branch(ctx: &mut Ctx<'_>, file: FileId, span: Span, branch: &ast::Branch) {
    for arm in &branch.arms {
        check_condition(ctx, file, &arm.cond);
        check_target(ctx, file, &arm.target);
    }
    match &branch.otherwise {
        Some(target) => check_target(ctx, file, target),
        None => {
            let at = branch.arms.last().map_or(span, |a| a.span);
            ctx.error(
                Diag::error(
                    "chatflow::missing_else",
                    "this branch has no `else`",
                    at,
                )
                .label("when no condition holds, the flow would have nowhere to go")
                .help("add `else -> NODE` after the last arm"),
                file,
            );
        }
    }
    shadow::check_arms(ctx, file, &branch.arms);
}

fn check_text(ctx: &mut Ctx<'_>, file: FileId, t: &ast::Text) {
    for t in t.templates() {
        check_template(ctx, file, t, Place::User);
    }
}

fn check_template(ctx: &mut Ctx<'_>, file: FileId, t: &ast::Template, place: Place) {
    for part in &t.parts {
        if let ast::TemplatePart::Ref(r) = part {
            check_ref(ctx, file, r, place);
        }
    }
}

/// Checks a reference and returns its type.
fn check_ref(ctx: &mut Ctx<'_>, file: FileId, r: &ast::Ref, place: Place) -> ValueType {
    match &r.kind {
        RefKind::Attr(name) => match ctx.attr_ids.get(name.as_str()) {
            Some(&id) => ctx.attrs[id as usize].ty,
            None => {
                ctx.unknown_attribute(file, name, r.span);
                ValueType::Any
            }
        },
        // WAVE2 scaffolding: `{item}` outside a dynamic block.
        RefKind::Item(_) => {
            unsupported(ctx, file, r.span);
            ValueType::Any
        }
        RefKind::Sys(name) => {
            if !SYS_ATTRS.contains(&name.as_str()) {
                let help = did_you_mean(name, SYS_ATTRS)
                    .unwrap_or_else(|| format!("the system attributes are: {}", SYS_ATTRS.join(", ")));
                ctx.error(
                    Diag::error(
                        "chatflow::unknown_sys",
                        format!("unknown system attribute `sys.{name}`"),
                        r.span,
                    )
                    .label("not a system attribute")
                    .help(help),
                    file,
                );
            }
            ValueType::Text
        }
        RefKind::Secret(name) => {
            if place != Place::Api {
                ctx.error(
                    Diag::error(
                        "chatflow::secret_outside_api",
                        format!("the secret `{name}` would be shown to the user"),
                        r.span,
                    )
                    .label("secret used here")
                    .help("secrets may only be used in an API's URL, headers or body; they must never reach a user"),
                    file,
                );
            }
            ValueType::Text
        }
        RefKind::Status => ref_type_fixed(&r.kind),
    }
}

/// A condition must be true or false; bare text or numbers are refused.
fn check_condition(ctx: &mut Ctx<'_>, file: FileId, e: &ast::Expr) {
    let ty = check_expr(ctx, file, e);
    if matches!(ty, ValueType::Text | ValueType::Number) {
        ctx.error(
            Diag::error(
                "chatflow::type_mismatch",
                format!("a condition must be true or false, but this is {}", type_name(ty)),
                e.span,
            )
            .label("not a condition")
            .help("compare the value with something, e.g. `city == \"Chicago\"` or `city is set`"),
            file,
        );
    }
}

/// Checks an expression and returns its type.
fn check_expr(ctx: &mut Ctx<'_>, file: FileId, e: &ast::Expr) -> ValueType {
    match &e.kind {
        ExprKind::Lit(lit) => literal_type(lit),
        ExprKind::Ref(r) => check_ref(ctx, file, r, Place::User),
        ExprKind::Open(_) => {
            unsupported(ctx, file, e.span);
            ValueType::Bool
        }
        ExprKind::Or(a, b) | ExprKind::And(a, b) => {
            check_condition(ctx, file, a);
            check_condition(ctx, file, b);
            ValueType::Bool
        }
        ExprKind::Not(a) => {
            check_condition(ctx, file, a);
            ValueType::Bool
        }
        ExprKind::Cmp { op, lhs, rhs } => {
            let lt = check_expr(ctx, file, lhs);
            let rt = check_expr(ctx, file, rhs);
            check_cmp(ctx, file, e, *op, (lhs, lt), (rhs, rt));
            ValueType::Bool
        }
        ExprKind::InRange {
            value,
            low,
            high,
            bounds_span,
        } => {
            let ty = check_expr(ctx, file, value);
            if matches!(ty, ValueType::Text | ValueType::Bool) {
                mismatch(
                    ctx,
                    file,
                    e.span,
                    format!(
                        "`{}` is {}, so it is never in a number range",
                        ctx.snippet(file, value.span),
                        type_name(ty)
                    ),
                    "`in A..B` checks numbers; use `==` or `in [\"a\", \"b\"]` for text",
                );
            }
            if low > high {
                ctx.error(
                    Diag::error(
                        "chatflow::bad_range",
                        format!("the range {low}..{high} is empty: its low end is above its high end"),
                        *bounds_span,
                    )
                    .label("empty range")
                    .help(format!("write the smaller number first: `{high}..{low}`")),
                    file,
                );
            }
            ValueType::Bool
        }
        ExprKind::InList { value, items } => {
            let ty = check_expr(ctx, file, value);
            for item in items {
                let it = check_expr(ctx, file, item);
                if !comparable(ty, it) {
                    mismatch(
                        ctx,
                        file,
                        item.span,
                        format!(
                            "`{}` is {} but this item is {}: it can never match",
                            ctx.snippet(file, value.span),
                            type_name(ty),
                            type_name(it)
                        ),
                        "make every item the same type as the value",
                    );
                }
            }
            ValueType::Bool
        }
        ExprKind::Text { lhs, rhs, .. } => {
            for side in [lhs, rhs] {
                let ty = check_expr(ctx, file, side);
                if matches!(ty, ValueType::Number | ValueType::Bool) {
                    mismatch(
                        ctx,
                        file,
                        side.span,
                        format!(
                            "`{}` is {}, and text operators need text",
                            ctx.snippet(file, side.span),
                            type_name(ty)
                        ),
                        "`contains`, `starts_with` and `ends_with` work on text; compare numbers with `==`, `<` or `in A..B`",
                    );
                }
            }
            ValueType::Bool
        }
        ExprKind::Matches { value, pattern } => {
            check_expr(ctx, file, value);
            if let Err(err) = regex::Regex::new(&pattern.value) {
                let reason = err.to_string();
                let last = reason.lines().last().unwrap_or("invalid pattern").trim();
                let last = last.trim_start_matches("error:").trim().to_string();
                ctx.error(
                    Diag::error(
                        "chatflow::bad_regex",
                        format!("this regular expression is invalid: {last}"),
                        pattern.span,
                    )
                    .label("invalid pattern")
                    .help("fix the pattern; the syntax is that of the Rust `regex` crate (no look-around or back-references)"),
                    file,
                );
            }
            ValueType::Bool
        }
        ExprKind::IsSet { value, .. } => {
            check_expr(ctx, file, value);
            ValueType::Bool
        }
    }
}

fn check_cmp(
    ctx: &mut Ctx<'_>,
    file: FileId,
    e: &ast::Expr,
    op: CmpOp,
    (lhs, lt): (&ast::Expr, ValueType),
    (rhs, rt): (&ast::Expr, ValueType),
) {
    match op {
        CmpOp::Eq | CmpOp::Ne => {
            if !comparable(lt, rt) {
                let help = quote_help(lhs, lt, rhs, rt);
                mismatch(
                    ctx,
                    file,
                    e.span,
                    format!(
                        "`{}` is {} and `{}` is {}: they are never equal",
                        ctx.snippet(file, lhs.span),
                        type_name(lt),
                        ctx.snippet(file, rhs.span),
                        type_name(rt)
                    ),
                    &help,
                );
            }
        }
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            for (side, ty) in [(lhs, lt), (rhs, rt)] {
                if matches!(ty, ValueType::Text | ValueType::Bool) {
                    mismatch(
                        ctx,
                        file,
                        side.span,
                        format!(
                            "`{}` is {}, and `<`, `<=`, `>`, `>=` compare numbers",
                            ctx.snippet(file, side.span),
                            type_name(ty)
                        ),
                        "order comparisons need numbers; ask for the value `as number` or compare text with `==`",
                    );
                    break; // one report per comparison
                }
            }
        }
    }
}

/// A help line for `==` between a number and text: suggest dropping or adding quotes.
fn quote_help(lhs: &ast::Expr, lt: ValueType, rhs: &ast::Expr, rt: ValueType) -> String {
    for (side, other_ty) in [(rhs, lt), (lhs, rt)] {
        if let ExprKind::Lit(Literal::String(s)) = &side.kind {
            if other_ty == ValueType::Number && s.trim().parse::<f64>().is_ok() {
                return format!("write the number without quotes: `{}`", s.trim());
            }
        }
    }
    "compare values of the same type: numbers with numbers, text with text".to_string()
}

fn mismatch(ctx: &mut Ctx<'_>, file: FileId, span: Span, message: String, help: &str) {
    ctx.error(
        Diag::error("chatflow::type_mismatch", message, span)
            .label("can never be true")
            .help(help),
        file,
    );
}

fn check_test(ctx: &mut Ctx<'_>, file: FileId, test: &ast::Test) {
    for step in &test.steps {
        match &step.kind {
            ast::TestStepKind::Stub { api, answer } => {
                if !ctx.api_ids.contains_key(api.name.as_str()) {
                    ctx.unknown_api(file, api);
                }
                if let ast::StubAnswer::Status { status, .. } = answer {
                    if !(100..=599).contains(status) {
                        ctx.error(
                            Diag::error(
                                "chatflow::bad_status",
                                format!("{status} is not an HTTP status"),
                                step.span,
                            )
                            .label("stubbed status")
                            .help("HTTP statuses run from 100 to 599; use `stub API timeout` for a failed call"),
                            file,
                        );
                    }
                }
            }
            ast::TestStepKind::ExpectNode(node) => check_target(ctx, file, node),
            ast::TestStepKind::ExpectAttr { attr, expect } => {
                match ctx.attr_ids.get(attr.name.as_str()) {
                    None => ctx.unknown_attribute(file, &attr.name, attr.span),
                    Some(&id) => {
                        if let ast::AttrExpectation::Equals(lit) = expect {
                            let (ty, lt) = (ctx.attrs[id as usize].ty, literal_type(lit));
                            if !comparable(ty, lt) {
                                mismatch(
                                    ctx,
                                    file,
                                    step.span,
                                    format!(
                                        "`{}` is {} but the expected value is {}: this expectation can never hold",
                                        attr.name,
                                        type_name(ty),
                                        type_name(lt)
                                    ),
                                    "expect a value of the attribute's type (`ask ... as number` gives numbers, other asks give text)",
                                );
                            }
                        }
                    }
                }
            }
            ast::TestStepKind::ExpectRequest { api, .. } => {
                if !ctx.api_ids.contains_key(api.name.as_str()) {
                    ctx.unknown_api(file, api);
                }
            }
            ast::TestStepKind::User(_)
            | ast::TestStepKind::ExpectSay(_)
            | ast::TestStepKind::ExpectClosed => {}
            // WAVE2 scaffolding.
            _ => unsupported(ctx, file, step.span),
        }
    }
}

//! Per-item checks: names in statements, ask kinds, templates, expression types, regexes,
//! ranges, `else`, statements after the end of a node, shadowed arms and test steps.

use super::exits::exits;
use super::resolve::Ctx;
use super::types::{comparable, literal_type, ref_type_fixed, type_name};
use super::{actions, hours, shadow};
use crate::diagnostic::{did_you_mean, Code, Diag};
use crate::ir::{AskKind, SysAttr, ValueType};
use crate::source::FileId;
use crate::syntax::ast::{self, ApiProp, CmpOp, ExprKind, Literal, RefKind, Span, StmtKind};

/// Where a template is used, and so which references it may hold.
#[derive(Clone, Copy, PartialEq)]
pub(crate) struct Place {
    /// `{secret.NAME}`: API requests only.
    secrets: bool,
    /// `{sys.otp_code}`: API requests and the email that `otp` sends.
    otp_code: bool,
    /// `{item...}`: dynamic-data labels and card templates, appointment labels.
    item: bool,
}

impl Place {
    /// Shown to the user: a message, a prompt, a label.
    pub(crate) const USER: Place = Place {
        secrets: false,
        otp_code: false,
        item: false,
    };
    pub(crate) const API: Place = Place {
        secrets: true,
        otp_code: true,
        item: false,
    };
    /// A template rendered once per list element.
    pub(crate) const ITEM: Place = Place {
        secrets: false,
        otp_code: false,
        item: true,
    };
    pub(crate) const OTP_EMAIL: Place = Place {
        secrets: false,
        otp_code: true,
        item: false,
    };
}

pub(crate) fn check_all(ctx: &mut Ctx<'_>) {
    let files = ctx.files;
    for (file, ast_file) in files.iter().enumerate() {
        let file = file as FileId;
        for item in &ast_file.items {
            match item {
                ast::Item::Node(node) => check_node(ctx, file, node, None),
                ast::Item::Api(api) => check_api(ctx, file, api),
                ast::Item::Test(test) => check_test(ctx, file, test),
                ast::Item::Bot(bot) => actions::check_bot(ctx, file, bot),
                ast::Item::Import(_) => {}
                ast::Item::Hours(h) => hours::check(ctx, file, h),
                ast::Item::Flow(f) => check_flow(ctx, file, f),
            }
        }
    }
}

fn check_api(ctx: &mut Ctx<'_>, file: FileId, api: &ast::Api) {
    for prop in &api.props {
        match prop {
            ApiProp::Request { url, .. } => check_template(ctx, file, url, Place::API),
            ApiProp::Header { value, .. } => check_template(ctx, file, value, Place::API),
            ApiProp::Body { body, .. } => check_template(ctx, file, body, Place::API),
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
        ast::JsonTemplate::String(t) => check_template(ctx, file, t, Place::API),
        _ => {}
    }
}

/// A flow's nodes are checked with the flow as their scope; its nodes must exist.
fn check_flow(ctx: &mut Ctx<'_>, file: FileId, flow: &ast::Flow) {
    if flow.nodes.is_empty() {
        ctx.error(
            Diag::new(
                Code::NoNodes,
                format!("flow `{}` has no node", flow.name.name),
                flow.name.span,
            )
            .label("a flow needs at least one node")
            .help("add a node inside the flow; the first one is where `run` enters it"),
            file,
        );
    }
    check_params(ctx, file, flow);
    // A second flow of the same name is already an error; its body is not checked.
    let Some(&scope) = ctx.flow_ids.get(flow.name.name.as_str()) else {
        return;
    };
    if !std::ptr::eq(ctx.flows[scope as usize].ast, flow) {
        return;
    }
    for node in &flow.nodes {
        check_node(ctx, file, node, Some(scope));
    }
}

/// Each parameter of a flow is a distinct attribute: a repeated name would take two arguments.
fn check_params(ctx: &mut Ctx<'_>, file: FileId, flow: &ast::Flow) {
    for (i, param) in flow.params.iter().enumerate() {
        let Some(first) = flow.params[..i].iter().find(|p| p.name == param.name) else {
            continue;
        };
        ctx.error(
            Diag::new(
                Code::DuplicateParam,
                format!(
                    "flow `{}` has two parameters named `{}`",
                    flow.name.name, param.name
                ),
                param.span,
            )
            .label("repeated parameter")
            .note(first.span, "first parameter with this name")
            .help("give each parameter its own name"),
            file,
        );
    }
}

fn check_node(ctx: &mut Ctx<'_>, file: FileId, node: &ast::Node, scope: Option<u32>) {
    let mut ended: Option<Span> = None;
    let mut warned = false;
    for stmt in &node.body {
        if let (Some(end), false) = (ended, warned) {
            warned = true;
            ctx.error(
                Diag::new(
                    Code::UnreachableStatement,
                    "this statement never runs",
                    stmt.span,
                )
                .label("unreachable statement")
                .note(end, "the node ends here")
                .help("`goto`, a branch, `close`, `return`, `transfer`, `otp`, `appointment` and menus with branches end a node; move this statement before it or remove it"),
                file,
            );
        }
        check_stmt(ctx, file, stmt, scope);
        if ended.is_none() && exits(&stmt.kind).ends_node {
            ended = Some(stmt.span);
        }
    }
}

fn check_stmt(ctx: &mut Ctx<'_>, file: FileId, stmt: &ast::Stmt, scope: Option<u32>) {
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
        StmtKind::SetSys { name, value } => actions::check_set_sys(ctx, file, name, value),
        StmtKind::Call(api) => check_call(ctx, file, api),
        StmtKind::Goto(target) => check_target(ctx, file, scope, target),
        StmtKind::Branch(branch) => check_branch(ctx, file, scope, stmt.span, branch),
        StmtKind::Close => {}
        StmtKind::Run { flow, args } => actions::check_run(ctx, file, stmt.span, flow, args),
        StmtKind::Return => {
            if scope.is_none() {
                ctx.error(
                    Diag::new(
                        Code::ReturnOutsideFlow,
                        "`return` outside a flow",
                        stmt.span,
                    )
                    .label("there is no caller to return to")
                    .help("`return` ends a sub-flow (`flow NAME(...) { ... }`); use `close` or `goto` in a top-level node"),
                    file,
                );
            }
        }
        _ => actions::check_action(ctx, file, scope, stmt),
    }
}

/// `call API` (and the APIs that actions call): the API exists and is live.
pub(crate) fn check_call(ctx: &mut Ctx<'_>, file: FileId, api: &ast::Ident) {
    match ctx.api_ids.get(api.name.as_str()) {
        None => ctx.unknown_api(file, api),
        Some(&id) if !ctx.apis[id as usize].live => {
            let def = ctx.apis[id as usize].mode_span.unwrap_or(api.span);
            let same_file = ctx.apis[id as usize].file == file;
            let mut diag = Diag::new(
                Code::DraftApi,
                format!(
                    "only live APIs can be called, and `{}` is a draft",
                    api.name
                ),
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
    }
}

pub(crate) fn check_target(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    target: &ast::Ident,
) {
    ctx.check_target(file, scope, target);
}

pub(crate) fn check_ask_kind(ctx: &mut Ctx<'_>, file: FileId, kind: &ast::Ident) {
    if AskKind::ALL.iter().any(|(name, _)| *name == kind.name) {
        return;
    }
    let names = AskKind::ALL.map(|(n, _)| n);
    let help = did_you_mean(&kind.name, names)
        .unwrap_or_else(|| format!("the kinds are: {}", names.join(", ")));
    ctx.error(
        Diag::new(
            Code::UnknownAskKind,
            format!("unknown answer kind `{}`", kind.name),
            kind.span,
        )
        .label("not a kind of answer")
        .help(help),
        file,
    );
}

fn check_branch(
    ctx: &mut Ctx<'_>,
    file: FileId,
    scope: Option<u32>,
    span: Span,
    branch: &ast::Branch,
) {
    for arm in &branch.arms {
        check_condition(ctx, file, &arm.cond);
        check_target(ctx, file, scope, &arm.target);
    }
    match &branch.otherwise {
        Some(target) => check_target(ctx, file, scope, target),
        None => {
            let at = branch.arms.last().map_or(span, |a| a.span);
            ctx.error(
                Diag::new(Code::MissingElse, "this branch has no `else`", at)
                    .label("when no condition holds, the flow would have nowhere to go")
                    .help("add `else -> NODE` after the last arm"),
                file,
            );
        }
    }
    shadow::check_arms(ctx, file, &branch.arms);
}

pub(crate) fn check_text(ctx: &mut Ctx<'_>, file: FileId, t: &ast::Text) {
    for t in t.templates() {
        check_template(ctx, file, t, Place::USER);
    }
    if let ast::Text::Translated { texts, span } = t {
        actions::check_translations(ctx, file, texts, *span);
    }
}

pub(crate) fn check_template(ctx: &mut Ctx<'_>, file: FileId, t: &ast::Template, place: Place) {
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
        RefKind::Item(_) => {
            if !place.item {
                ctx.error(
                    Diag::new(
                        Code::ItemOutsideList,
                        "`item` is only defined while a list is shown",
                        r.span,
                    )
                    .label("no list element here")
                    .help("use `{item...}` in the `label` or card of a `from LIST` block, or in an appointment's `label`; store a field with `save ATTR = item.FIELD` to use it later"),
                    file,
                );
            }
            ValueType::Any
        }
        RefKind::Sys(name) if name == SysAttr::OtpCode.name() && !place.otp_code => {
            ctx.error(
                Diag::new(
                    Code::SecretOutsideApi,
                    "the one-time code `sys.otp_code` would be shown to the user",
                    r.span,
                )
                .label("one-time code used here")
                .help("`{sys.otp_code}` may only be used in an API's URL, headers or body, or in the email an `otp` sends"),
                file,
            );
            ValueType::Text
        }
        RefKind::Sys(name) => {
            if SysAttr::from_name(name).is_none() {
                let names = SysAttr::ALL.iter().map(|a| a.name());
                let help = did_you_mean(name, names.clone()).unwrap_or_else(|| {
                    format!(
                        "the system attributes are: {}",
                        names.collect::<Vec<_>>().join(", ")
                    )
                });
                ctx.error(
                    Diag::new(
                        Code::UnknownSys,
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
            if !place.secrets {
                ctx.error(
                    Diag::new(
                        Code::SecretOutsideApi,
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
            Diag::new(
                Code::TypeMismatch,
                format!(
                    "a condition must be true or false, but this is {}",
                    type_name(ty)
                ),
                e.span,
            )
            .label("not a condition")
            .help("compare the value with something, e.g. `city == \"Chicago\"` or `city is set`"),
            file,
        );
    }
}

/// Checks an expression and returns its type.
pub(crate) fn check_expr(ctx: &mut Ctx<'_>, file: FileId, e: &ast::Expr) -> ValueType {
    match &e.kind {
        ExprKind::Lit(lit) => literal_type(lit),
        ExprKind::Ref(r) => check_ref(ctx, file, r, Place::USER),
        ExprKind::Open(name) => {
            hours::check_open(ctx, file, name);
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
                    Diag::new(
                        Code::BadRange,
                        format!(
                            "the range {low}..{high} is empty: its low end is above its high end"
                        ),
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
                    Diag::new(
                        Code::BadRegex,
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
        Diag::new(Code::TypeMismatch, message, span)
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
                            Diag::new(
                                Code::BadStatus,
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
            ast::TestStepKind::ExpectNode(node) => check_target(ctx, file, None, node),
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
            ast::TestStepKind::Clock(at) => actions::check_clock(ctx, file, at),
            ast::TestStepKind::Language(lang) => actions::check_test_language(ctx, file, lang),
            ast::TestStepKind::ExpectChoices(_)
            | ast::TestStepKind::ExpectTransfer(_)
            | ast::TestStepKind::ExpectEmail { .. }
            | ast::TestStepKind::ExpectGoal(_)
            | ast::TestStepKind::ExpectMedia { .. } => {}
        }
    }
}

//! Per-item checks: names in statements, ask kinds, templates, expression types, regexes,
//! ranges, `else`, statements after the end of a node, shadowed arms and test steps; and, in
//! the files beside this one, the bot-builder actions (docs/actions.md).

use crate::compile::exits::exits;
use crate::compile::resolve::{Ctx, Sym};
use crate::compile::types::{comparable, literal_type, ref_type_fixed, type_name};
use crate::compile::{hours, shadow};
use crate::diagnostic::{did_you_mean, Code, Diag};
use crate::ir::{self, AskKind, Number, SysAttr, ValueType};
use crate::source::FileId;
use crate::syntax::ast::{self, ApiProp, CmpOp, ExprKind, Literal, RefKind, Span, StmtKind};

mod bot;
mod exprs;
mod functions;
mod menus;
mod statements;
mod test_blocks;

use bot::*;
use exprs::*;
use functions::*;
use menus::*;
use statements::*;
pub(crate) use statements::{OTP_DEFAULT_DIGITS, OTP_DEFAULT_TRIES};
use test_blocks::*;

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
                ast::Item::Bot(bot) => check_bot(ctx, file, bot),
                ast::Item::Import(_) => {}
                ast::Item::Hours(h) => hours::check(ctx, file, h),
                ast::Item::Flow(f) => check_flow(ctx, file, f),
                // Checked with the matcher they train (compile/understand.rs).
                ast::Item::Intent(_)
                | ast::Item::IntentsFrom(_)
                | ast::Item::Synonyms(_)
                | ast::Item::Faq(_) => {}
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
            ApiProp::Url { url, .. } => check_template(ctx, file, url, Place::API),
            ApiProp::Key { key, .. } => check_template(ctx, file, key, Place::API),
            ApiProp::System { text, .. } => {
                for t in text.templates() {
                    check_template(ctx, file, t, Place::API);
                }
            }
            ApiProp::Json { body, .. } => check_json(ctx, file, body),
            ApiProp::Form { body, .. } => {
                check_json(ctx, file, body);
                check_form(ctx, file, body);
            }
            _ => {}
        }
    }
    check_raw_body(ctx, file, api);
}

/// A `form {}` field holds one value: text, a number, a boolean or a reference.
fn check_form(ctx: &mut Ctx<'_>, file: FileId, form: &ast::JsonTemplate) {
    let ast::JsonTemplate::Object(fields, _) = form else {
        return;
    };
    for (key, value) in fields {
        let span = match value {
            ast::JsonTemplate::Object(_, span) | ast::JsonTemplate::Array(_, span) => *span,
            _ => continue,
        };
        ctx.error(
            Diag::new(
                Code::BadForm,
                format!("form field `{}` holds a list or an object", key.value),
                span,
            )
            .label("a form field holds one value")
            .help("give each form field text, a number, a boolean or an attribute; send nested data with `json { }`"),
            file,
        );
    }
}

/// A raw `body` that inserts values: warn when it looks like JSON (`json { }` escapes) or when
/// no `Content-Type` says how its inserted values are to be encoded.
fn check_raw_body(ctx: &mut Ctx<'_>, file: FileId, api: &ast::Api) {
    let Some((body, span)) = api.props.iter().find_map(|p| match p {
        ApiProp::Body { body, span } => Some((body, *span)),
        _ => None,
    }) else {
        return;
    };
    // Secrets, `status` and the one-time code are the flow's own; attributes may be typed.
    let inserts_input = body.parts.iter().any(|p| match p {
        ast::TemplatePart::Ref(r) => match &r.kind {
            ast::RefKind::Secret(_) | ast::RefKind::Status => false,
            ast::RefKind::Sys(name) => name != "otp_code",
            ast::RefKind::Attr(_) | ast::RefKind::Item(_) => true,
        },
        ast::TemplatePart::Text(_) => false,
    });
    if !inserts_input {
        return;
    }
    let starts = match body.parts.first() {
        Some(ast::TemplatePart::Text(t)) => t.trim_start().chars().next(),
        _ => None,
    };
    let declared = api.props.iter().any(|p| {
        matches!(p, ApiProp::Header { name, .. } if name.value.eq_ignore_ascii_case("content-type"))
    });
    let diag = if matches!(starts, Some('{' | '[')) {
        Diag::new(
            Code::JsonLikeBody,
            "this raw body looks like JSON and inserts values",
            span,
        )
        .label("built by hand")
        .help("build JSON with `json { \"name\": \"{name}\" }`: inserted values are JSON-escaped there, so a visitor's quotes cannot add fields")
    } else if !declared {
        Diag::new(
            Code::RawBodyTemplate,
            "this raw body inserts values that nothing encodes",
            span,
        )
        .label("sent as text/plain, values as typed")
        .help("send forms with `form { \"name\": \"{name}\" }` and JSON with `json { }`, or declare the body's type with `header \"Content-Type\" = \"...\"` so inserted values are encoded for it")
    } else {
        return;
    };
    ctx.error(diag, file);
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
        ast::JsonTemplate::Ref(e) => {
            check_expr(ctx, file, e);
        }
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
        StmtKind::SetSys { name, value } => check_set_sys(ctx, file, name, value),
        StmtKind::Call(api) => check_call(ctx, file, api),
        StmtKind::Reply(ai) => check_ai_use(ctx, file, ai),
        StmtKind::AskAi { ai, prompt, .. } => {
            check_ai_use(ctx, file, ai);
            check_text(ctx, file, prompt);
        }
        StmtKind::Goto(target) => check_target(ctx, file, scope, target),
        StmtKind::Branch(branch) => check_branch(ctx, file, scope, stmt.span, branch),
        StmtKind::Close => {}
        StmtKind::Run { flow, args } => check_run(ctx, file, stmt.span, flow, args),
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
        _ => check_action(ctx, file, scope, stmt),
    }
}

/// `reply with AI` and `ask AI ... save ATTR` (and the bot's `fallback reply with AI`): the
/// name is an `ai`, and it is live.
pub(crate) fn check_ai_use(ctx: &mut Ctx<'_>, file: FileId, ai: &ast::Ident) {
    let id = ctx.api_ids.get(ai.name.as_str()).copied();
    if let Some(id) = id {
        // A use of the `ai` for the editor (definition, references, rename).
        ctx.saw(Sym::Api(id), file, ai.span);
    }
    match id.as_ref() {
        Some(&id) if ctx.apis[id as usize].ai.is_some() => check_live(ctx, file, ai, id),
        found => {
            let ais = ctx
                .apis
                .iter()
                .filter(|a| a.ai.is_some())
                .map(|a| a.ast.name.name.as_str());
            let (message, label, help) = match found {
                Some(_) => (
                    format!("`{}` is an `api`, not an `ai`", ai.name),
                    "a language model is needed here",
                    format!(
                        "send an API's request with `call {}`; `reply with` and `ask ... save` \
                         need an `ai NAME {{ url \"...\"; model \"...\" }}`",
                        ai.name
                    ),
                ),
                None => (
                    format!("unknown ai `{}`", ai.name),
                    "no `ai` has this name",
                    did_you_mean(&ai.name, ais).unwrap_or_else(|| {
                        "define a language model with `ai NAME { url \"...\"; model \"...\" }`"
                            .into()
                    }),
                ),
            };
            ctx.error(
                Diag::new(Code::UnknownAi, message, ai.span)
                    .label(label)
                    .help(help),
                file,
            );
        }
    }
}

/// `call API` (and the APIs that actions call): the API exists and is live.
pub(crate) fn check_call(ctx: &mut Ctx<'_>, file: FileId, api: &ast::Ident) {
    let id = ctx.api_ids.get(api.name.as_str()).copied();
    if let Some(id) = id {
        ctx.saw(Sym::Api(id), file, api.span);
    }
    match id.as_ref() {
        None => ctx.unknown_api(file, api),
        Some(&id) if ctx.apis[id as usize].ai.is_some() => ctx.error(
            Diag::new(
                Code::UnknownApi,
                format!("`{}` is an `ai`, which `call` does not send", api.name),
                api.span,
            )
            .label("a language model, not an API")
            .help(format!(
                "answer the visitor with `reply with {0}`, or ask it with `ask {0} \"...\" save ATTR`",
                api.name
            )),
            file,
        ),
        Some(&id) => check_live(ctx, file, api, id),
    }
}

/// Only live APIs and models may be sent a request.
fn check_live(ctx: &mut Ctx<'_>, file: FileId, api: &ast::Ident, id: u32) {
    let def = &ctx.apis[id as usize];
    if def.live {
        return;
    }
    let (word, what) = if def.ai.is_some() {
        ("ai", "the model is ready to be used")
    } else {
        ("api", "the API is ready to be called")
    };
    let declared = def.mode_span.unwrap_or(api.span);
    let same_file = def.file == file;
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
        "replace `draft` with `live` in `{word} {}` once {what}",
        api.name
    ));
    if same_file {
        diag = diag.note(declared, "declared as a draft here");
    }
    ctx.error(diag, file);
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
    check_text_in(ctx, file, t, Place::USER);
}

/// A message text whose templates may use what `place` allows (`{item}` in dynamic data).
pub(crate) fn check_text_in(ctx: &mut Ctx<'_>, file: FileId, t: &ast::Text, place: Place) {
    for t in t.templates() {
        check_template(ctx, file, t, place);
    }
    if let ast::Text::Translated { texts, span } = t {
        check_translations(ctx, file, texts, *span);
    }
}

pub(crate) fn check_template(ctx: &mut Ctx<'_>, file: FileId, t: &ast::Template, place: Place) {
    for part in &t.parts {
        if let ast::TemplatePart::Ref(r) = part {
            check_ref(ctx, file, r, place);
        }
    }
}

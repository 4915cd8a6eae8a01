//! Name tables: every node, API, attribute, bot and test of the merged namespace, with
//! duplicate and API-property checks.

use std::collections::HashMap;

use super::names::NameMap;
use crate::diagnostic::{did_you_mean, Code, Diag};
use crate::ir::{self, AttrId, FlowId, NodeId, ValueType};
use crate::source::{FileId, SourceFile};
use crate::syntax::ast::{self, ApiProp, Method, Span};

/// The longest timeout an API may ask for.
pub(crate) const MAX_TIMEOUT_MS: u64 = 120_000;
pub(crate) const DEFAULT_TIMEOUT_MS: u64 = 5_000;
pub(crate) const MAX_RETRY: u32 = 10;

pub(crate) struct NodeDef<'a> {
    pub file: FileId,
    pub ast: &'a ast::Node,
    /// The sub-flow the node belongs to; `None` for top-level nodes.
    pub flow: Option<FlowId>,
}

/// A sub-flow: its nodes sit in `Ctx::nodes` after every top-level node.
pub(crate) struct FlowDef<'a> {
    pub file: FileId,
    pub ast: &'a ast::Flow,
    /// Local node names -> ids; only the flow's own nodes.
    pub node_ids: NameMap<'a, NodeId>,
    /// The first node; `None` for a flow without nodes (already an error).
    pub entry: Option<NodeId>,
    /// Parameter attributes, in order.
    pub params: Vec<AttrId>,
}

/// A business-hours item; `table` is filled by the checks when the item is valid.
pub(crate) struct HoursDef<'a> {
    pub file: FileId,
    pub ast: &'a ast::Hours,
    pub table: Option<ir::HoursTable>,
}

/// How a node target resolved from some scope.
pub(crate) enum Target {
    Found(NodeId),
    /// A top-level node named from inside a flow.
    OutsideFlow,
    Unknown,
}

pub(crate) struct ApiDef<'a> {
    pub file: FileId,
    pub ast: &'a ast::Api,
    /// An API with neither `live` nor `draft` is live.
    pub live: bool,
    /// The `live`/`draft` keyword, when written.
    pub mode_span: Option<Span>,
    pub method: Option<Method>,
    pub url: Option<&'a ast::Template>,
    pub body: Option<&'a ApiProp>,
    pub timeout_ms: u64,
    pub retry: u32,
}

/// What fills an attribute somewhere: a fixed type (`ask`, `save`) or a `set` expression.
pub(crate) enum Filler<'a> {
    Fixed(ValueType),
    Expr(&'a ast::Expr),
}

pub(crate) struct AttrDef<'a> {
    pub name: &'a str,
    pub ty: ValueType,
}

/// Everything the later passes look names up in.
pub(crate) struct Ctx<'a> {
    pub sources: &'a [SourceFile],
    pub files: &'a [ast::File],
    pub nodes: Vec<NodeDef<'a>>,
    pub node_ids: NameMap<'a, NodeId>,
    pub apis: Vec<ApiDef<'a>>,
    pub api_ids: NameMap<'a, u32>,
    pub attrs: Vec<AttrDef<'a>>,
    pub attr_ids: NameMap<'a, u32>,
    /// Every place that fills an attribute, for type inference.
    pub fillers: Vec<(u32, Filler<'a>)>,
    pub flows: Vec<FlowDef<'a>>,
    pub flow_ids: NameMap<'a, FlowId>,
    pub hours: Vec<HoursDef<'a>>,
    pub hours_ids: NameMap<'a, u32>,
    /// The bot's declared languages, in order.
    pub languages: Vec<&'a str>,
    pub bot: Option<(FileId, &'a ast::Bot)>,
    pub tests: Vec<(FileId, &'a ast::Test)>,
    /// The entry node, when it is known.
    pub start: Option<NodeId>,
    pub diags: Vec<Diag>,
}

impl<'a> Ctx<'a> {
    /// The source text under `span`, for messages.
    pub fn snippet(&self, file: FileId, span: Span) -> &'a str {
        self.sources
            .get(file as usize)
            .and_then(|f| f.text.get(span.start..span.end))
            .unwrap_or("")
    }

    pub fn error(&mut self, diag: Diag, file: FileId) {
        self.diags.push(diag.in_file(file));
    }

    pub fn unknown_node(&mut self, file: FileId, name: &ast::Ident) {
        let suggestion = if name.name.contains('.') {
            let qualified: Vec<String> = (0..self.nodes.len())
                .filter(|&n| self.nodes[n].flow.is_some())
                .map(|n| self.node_name(n))
                .collect();
            did_you_mean(&name.name, qualified.iter().map(String::as_str))
        } else {
            did_you_mean(&name.name, self.node_ids.keys().copied())
        };
        let help = suggestion
            .unwrap_or_else(|| "define it with `node NAME { ... }` or use an existing node".into());
        self.error(
            Diag::new(
                Code::UnknownNode,
                format!("unknown node `{}`", name.name),
                name.span,
            )
            .label("no node has this name")
            .help(help),
            file,
        );
    }

    pub fn unknown_api(&mut self, file: FileId, name: &ast::Ident) {
        let help = did_you_mean(&name.name, self.api_ids.keys().copied())
            .unwrap_or_else(|| "define it with `api NAME { ... }` or use an existing API".into());
        self.error(
            Diag::new(
                Code::UnknownApi,
                format!("unknown API `{}`", name.name),
                name.span,
            )
            .label("no API has this name")
            .help(help),
            file,
        );
    }

    pub fn unknown_attribute(&mut self, file: FileId, name: &str, span: Span) {
        let help = did_you_mean(name, self.attr_ids.keys().copied()).unwrap_or_else(|| {
            format!("set it first: `ask {name}`, `set {name} = ...` or an API's `save {name} = body...`")
        });
        self.error(
            Diag::new(
                Code::UnknownAttribute,
                format!("unknown attribute `{name}`"),
                span,
            )
            .label("no ask, set or save fills this attribute")
            .help(help),
            file,
        );
    }
}

/// Builds the name tables and reports duplicates and malformed APIs.
pub(crate) fn collect<'a>(sources: &'a [SourceFile], files: &'a [ast::File]) -> Ctx<'a> {
    let mut ctx = Ctx {
        sources,
        files,
        nodes: Vec::new(),
        node_ids: NameMap::default(),
        apis: Vec::new(),
        api_ids: NameMap::default(),
        attrs: Vec::new(),
        attr_ids: NameMap::default(),
        fillers: Vec::new(),
        flows: Vec::new(),
        flow_ids: NameMap::default(),
        hours: Vec::new(),
        hours_ids: NameMap::default(),
        languages: Vec::new(),
        bot: None,
        tests: Vec::new(),
        start: None,
        diags: Vec::new(),
    };
    // Sized up front: rehashing 50,000 names shows in the compile benchmark.
    let node_count = files
        .iter()
        .flat_map(|f| &f.items)
        .filter(|i| matches!(i, ast::Item::Node(_)))
        .count();
    ctx.nodes.reserve(node_count);
    ctx.node_ids.reserve(node_count);
    let mut first_test: HashMap<&str, (FileId, Span)> = HashMap::new();
    let mut runs: Vec<(&'a ast::Ident, &'a [ast::Expr])> = Vec::new();
    for (file, ast_file) in files.iter().enumerate() {
        let file = file as FileId;
        for item in &ast_file.items {
            match item {
                ast::Item::Node(node) => {
                    node_fillers(&mut ctx, node, &mut runs);
                    let name = node.name.name.as_str();
                    if let Some(&first) = ctx.node_ids.get(name) {
                        let first = &ctx.nodes[first as usize];
                        let first = (first.file, first.ast.name.span);
                        ctx.duplicate("node", &node.name, file, first);
                    } else {
                        ctx.node_ids.insert(name, ctx.nodes.len() as NodeId);
                        ctx.nodes.push(NodeDef {
                            file,
                            ast: node,
                            flow: None,
                        });
                    }
                }
                ast::Item::Api(api) => {
                    for prop in &api.props {
                        if let ApiProp::Save { attr, .. } = prop {
                            let id = intern(&mut ctx, &attr.name);
                            ctx.fillers.push((id, Filler::Fixed(ValueType::Any)));
                        }
                    }
                    let def = api_def(&mut ctx, file, api);
                    let name = api.name.name.as_str();
                    if let Some(&first) = ctx.api_ids.get(name) {
                        let first = &ctx.apis[first as usize];
                        let first = (first.file, first.ast.name.span);
                        ctx.duplicate("api", &api.name, file, first);
                    } else {
                        ctx.api_ids.insert(name, ctx.apis.len() as u32);
                        ctx.apis.push(def);
                    }
                }
                ast::Item::Bot(bot) => match ctx.bot {
                    Some((first_file, first)) => {
                        let diag = Diag::new(
                            Code::DuplicateBot,
                            "a flow has one `bot` item, this is a second one",
                            bot.name.span,
                        )
                        .label("second bot item");
                        let diag =
                            with_first(&ctx, diag, file, (first_file, first.name.span), "bot");
                        ctx.error(diag, file);
                    }
                    None => ctx.bot = Some((file, bot)),
                },
                ast::Item::Test(test) => {
                    let name = test.name.value.as_str();
                    if let Some(&(first_file, first)) = first_test.get(name) {
                        let diag = Diag::new(
                            Code::DuplicateTest,
                            format!("a test named \"{name}\" already exists"),
                            test.name.span,
                        )
                        .label("second test with this name");
                        let diag = with_first(&ctx, diag, file, (first_file, first), "test");
                        ctx.error(diag, file);
                    } else {
                        first_test.insert(name, (file, test.name.span));
                    }
                    ctx.tests.push((file, test));
                }
                ast::Item::Import(_) => {}
                ast::Item::Hours(hours) => {
                    let name = hours.name.name.as_str();
                    if let Some(&first) = ctx.hours_ids.get(name) {
                        let first = &ctx.hours[first as usize];
                        let first = (first.file, first.ast.name.span);
                        ctx.duplicate("hours", &hours.name, file, first);
                    } else {
                        ctx.hours_ids.insert(name, ctx.hours.len() as u32);
                        ctx.hours.push(HoursDef {
                            file,
                            ast: hours,
                            table: None,
                        });
                    }
                }
                ast::Item::Flow(flow) => {
                    let name = flow.name.name.as_str();
                    if let Some(&first) = ctx.flow_ids.get(name) {
                        let first = &ctx.flows[first as usize];
                        let first = (first.file, first.ast.name.span);
                        ctx.duplicate("flow", &flow.name, file, first);
                    } else {
                        ctx.flow_ids.insert(name, ctx.flows.len() as FlowId);
                        let params = flow
                            .params
                            .iter()
                            .map(|p| intern(&mut ctx, &p.name))
                            .collect();
                        ctx.flows.push(FlowDef {
                            file,
                            ast: flow,
                            node_ids: NameMap::default(),
                            entry: None,
                            params,
                        });
                    }
                }
            }
        }
    }
    collect_flow_nodes(&mut ctx, &mut runs);
    run_fillers(&mut ctx, &runs);
    ctx.languages = bot_languages(ctx.bot.map(|(_, b)| b));
    resolve_start(&mut ctx);
    ctx
}

/// Appends every flow's nodes after the top-level ones, with names local to the flow.
fn collect_flow_nodes<'a>(ctx: &mut Ctx<'a>, runs: &mut Vec<(&'a ast::Ident, &'a [ast::Expr])>) {
    for f in 0..ctx.flows.len() {
        let (file, flow) = (ctx.flows[f].file, ctx.flows[f].ast);
        for node in &flow.nodes {
            node_fillers(ctx, node, runs);
            let name = node.name.name.as_str();
            if let Some(&first) = ctx.flows[f].node_ids.get(name) {
                let first = (file, ctx.nodes[first as usize].ast.name.span);
                ctx.duplicate("node", &node.name, file, first);
                continue;
            }
            let id = ctx.nodes.len() as NodeId;
            ctx.flows[f].node_ids.insert(name, id);
            ctx.flows[f].entry.get_or_insert(id);
            ctx.nodes.push(NodeDef {
                file,
                ast: node,
                flow: Some(f as FlowId),
            });
        }
    }
}

/// A flow's parameters take the types of the arguments every `run` passes.
fn run_fillers<'a>(ctx: &mut Ctx<'a>, runs: &[(&'a ast::Ident, &'a [ast::Expr])]) {
    for &(flow, args) in runs {
        let Some(&f) = ctx.flow_ids.get(flow.name.as_str()) else {
            continue;
        };
        let params = &ctx.flows[f as usize].params;
        if params.len() == args.len() {
            let fills: Vec<_> = params
                .iter()
                .zip(args)
                .map(|(&p, a)| (p, Filler::Expr(a)))
                .collect();
            ctx.fillers.extend(fills);
        }
    }
}

fn bot_languages(bot: Option<&ast::Bot>) -> Vec<&str> {
    let mut out = Vec::new();
    for setting in bot.map_or(&[][..], |b| &b.settings[..]) {
        if let ast::BotSetting::Languages(langs) = setting {
            for l in langs {
                if !out.contains(&l.name.as_str()) {
                    out.push(l.name.as_str());
                }
            }
        }
    }
    out
}

impl<'a> Ctx<'a> {
    /// Resolves a node name used inside `scope` (a flow, or the top level).
    pub fn target(&self, scope: Option<FlowId>, name: &str) -> Target {
        match scope {
            None => match name.split_once('.') {
                // `flow.node`, as a test's `expect node` may name a sub-flow's node.
                Some((flow, node)) => self
                    .flow_ids
                    .get(flow)
                    .and_then(|&f| self.flows[f as usize].node_ids.get(node))
                    .map_or(Target::Unknown, |&id| Target::Found(id)),
                None => self
                    .node_ids
                    .get(name)
                    .map_or(Target::Unknown, |&id| Target::Found(id)),
            },
            Some(f) => match self.flows[f as usize].node_ids.get(name) {
                Some(&id) => Target::Found(id),
                None if self.node_ids.contains_key(name) => Target::OutsideFlow,
                None => Target::Unknown,
            },
        }
    }

    /// The id a target resolves to, for passes that run after the checks.
    pub fn target_id(&self, scope: Option<FlowId>, name: &ast::Ident) -> Option<NodeId> {
        match self.target(scope, &name.name) {
            Target::Found(id) => Some(id),
            _ => None,
        }
    }

    /// A node's name as the IR and messages show it: `flow.node` inside a flow.
    pub fn node_name(&self, n: usize) -> String {
        let node = &self.nodes[n];
        match node.flow {
            Some(f) => format!(
                "{}.{}",
                self.flows[f as usize].ast.name.name, node.ast.name.name
            ),
            None => node.ast.name.name.clone(),
        }
    }

    /// Reports a target that does not resolve from `scope`. True when it resolved.
    pub fn check_target(
        &mut self,
        file: FileId,
        scope: Option<FlowId>,
        target: &ast::Ident,
    ) -> bool {
        match self.target(scope, &target.name) {
            Target::Found(_) => true,
            Target::Unknown => {
                self.unknown_node_in(file, scope, target);
                false
            }
            Target::OutsideFlow => {
                let flow = scope.map_or("", |f| self.flows[f as usize].ast.name.name.as_str());
                let diag = Diag::new(
                    Code::GotoOutsideFlow,
                    format!("`{}` is not a node of flow `{flow}`", target.name),
                    target.span,
                )
                .label("a node outside this flow")
                .help(format!(
                    "a flow may only go to its own nodes; `return` to the caller and let it go to `{}`",
                    target.name
                ));
                self.error(diag, file);
                false
            }
        }
    }

    fn unknown_node_in(&mut self, file: FileId, scope: Option<FlowId>, name: &ast::Ident) {
        if scope.is_none() {
            return self.unknown_node(file, name);
        }
        let local = scope.map(|f| &self.flows[f as usize].node_ids);
        let help = did_you_mean(
            &name.name,
            local.into_iter().flat_map(|m| m.keys().copied()),
        )
        .unwrap_or_else(|| "define it inside the flow with `node NAME { ... }`".into());
        self.error(
            Diag::new(
                Code::UnknownNode,
                format!("unknown node `{}`", name.name),
                name.span,
            )
            .label("no node of this flow has this name")
            .help(help),
            file,
        );
    }
}

impl Ctx<'_> {
    fn duplicate(&mut self, what: &str, name: &ast::Ident, file: FileId, first: (FileId, Span)) {
        let code = match what {
            "node" => Code::DuplicateNode,
            "flow" => Code::DuplicateFlow,
            "hours" => Code::DuplicateHours,
            _ => Code::DuplicateApi,
        };
        let diag = Diag::new(
            code,
            format!("{what} `{}` is defined twice", name.name),
            name.span,
        )
        .label(format!("second definition of `{}`", name.name));
        let diag = with_first(self, diag, file, first, what);
        self.error(diag, file);
    }
}

/// Points at the first definition: a note when it is in the same file, else the help line.
fn with_first(
    ctx: &Ctx<'_>,
    diag: Diag,
    file: FileId,
    (first_file, first): (FileId, Span),
    what: &str,
) -> Diag {
    let fix = if what == "bot" {
        "keep one `bot` item and move its settings there".to_string()
    } else {
        format!("rename one of them or remove the second {what}")
    };
    if first_file == file {
        diag.note(first, "first defined here").help(fix)
    } else {
        let name = ctx
            .sources
            .get(first_file as usize)
            .map_or("?", |f| f.name.as_str());
        let (line, col) = crate::source::line_col(
            ctx.sources
                .get(first_file as usize)
                .map_or("", |f| &*f.text),
            first.start,
        );
        diag.help(format!("the first one is at {name}:{line}:{col}; {fix}"))
    }
}

fn api_def<'a>(ctx: &mut Ctx<'a>, file: FileId, api: &'a ast::Api) -> ApiDef<'a> {
    let mut def = ApiDef {
        file,
        ast: api,
        live: true,
        mode_span: None,
        method: None,
        url: None,
        body: None,
        timeout_ms: DEFAULT_TIMEOUT_MS,
        retry: 0,
    };
    let mut seen_mode: Option<Span> = None;
    let mut seen_method: Option<Span> = None;
    let mut seen_body: Option<Span> = None;
    let mut seen_timeout: Option<Span> = None;
    let mut seen_retry: Option<Span> = None;
    for prop in &api.props {
        match prop {
            ApiProp::Mode { live, span } => {
                if ctx.once(file, &mut seen_mode, *span, "`live`/`draft`") {
                    def.live = *live;
                    def.mode_span = Some(*span);
                }
            }
            ApiProp::Request { method, url, span } => {
                if ctx.once(
                    file,
                    &mut seen_method,
                    *span,
                    "method (get/post/put/patch/delete)",
                ) {
                    def.method = Some(*method);
                    def.url = Some(url);
                }
            }
            ApiProp::Body { span, .. } | ApiProp::Json { span, .. } => {
                if ctx.once(file, &mut seen_body, *span, "body (`body` or `json`)") {
                    def.body = Some(prop);
                }
            }
            ApiProp::Timeout { millis, span } => {
                ctx.once(file, &mut seen_timeout, *span, "`timeout`");
                if *millis == 0 || *millis > MAX_TIMEOUT_MS {
                    ctx.error(
                        Diag::new(
                            Code::BadTimeout,
                            format!("a timeout of {millis}ms is out of range"),
                            *span,
                        )
                        .label("timeout here")
                        .help("use a timeout between 1ms and 120s, e.g. `timeout 5s`"),
                        file,
                    );
                }
                def.timeout_ms = *millis;
            }
            ApiProp::Retry { count, span } => {
                ctx.once(file, &mut seen_retry, *span, "`retry`");
                if *count > MAX_RETRY {
                    ctx.error(
                        Diag::new(
                            Code::BadRetry,
                            format!("{count} retries is too many"),
                            *span,
                        )
                        .label("retry count here")
                        .help(format!(
                            "use at most {MAX_RETRY} retries; each one waits longer than the last"
                        )),
                        file,
                    );
                }
                def.retry = *count;
            }
            ApiProp::Header { .. } | ApiProp::Save { .. } => {}
        }
    }
    match def.method {
        None => ctx.error(
            Diag::new(
                Code::MissingMethod,
                format!("API `{}` has no request method", api.name.name),
                api.name.span,
            )
            .label("no get/post/put/patch/delete line")
            .help("add a request line such as `get \"https://api.example.test/v1/...\"`"),
            file,
        ),
        Some(method @ (Method::Get | Method::Delete)) => {
            if let Some(body) = seen_body {
                ctx.error(
                    Diag::new(
                        Code::BodyNotAllowed,
                        format!("a {} request cannot carry a body", method.as_str()),
                        body,
                    )
                    .label("body here")
                    .help(
                        "use `post`, `put` or `patch` to send a body, or put the values in the URL",
                    ),
                    file,
                );
            }
        }
        Some(_) => {}
    }
    def
}

impl Ctx<'_> {
    /// Records the first occurrence of a property; reports later ones. True for the first.
    fn once(&mut self, file: FileId, seen: &mut Option<Span>, span: Span, what: &str) -> bool {
        match *seen {
            Some(first) => {
                self.error(
                    Diag::new(
                        Code::DuplicateProperty,
                        format!("an API has one {what}, this is a second one"),
                        span,
                    )
                    .label("repeated property")
                    .note(first, "first given here")
                    .help("remove one of the two lines"),
                    file,
                );
                false
            }
            None => {
                *seen = Some(span);
                true
            }
        }
    }
}

/// Interns the attributes a node's `ask`s and `set`s fill, and records how they fill them.
fn node_fillers<'a>(
    ctx: &mut Ctx<'a>,
    node: &'a ast::Node,
    runs: &mut Vec<(&'a ast::Ident, &'a [ast::Expr])>,
) {
    for stmt in &node.body {
        match &stmt.kind {
            ast::StmtKind::Ask { attr, kind, .. } => fixed(ctx, attr, kind_type(kind.as_ref())),
            ast::StmtKind::Set { attr, value } => {
                let id = intern(ctx, &attr.name);
                ctx.fillers.push((id, Filler::Expr(value)));
            }
            ast::StmtKind::Menu(menu) => match &menu.source {
                ast::MenuSource::Static(_) => {
                    if let Some(save) = &menu.save {
                        fixed(ctx, save, ValueType::Text);
                    }
                }
                ast::MenuSource::Dynamic(d) => item_saves(ctx, &d.saves),
            },
            ast::StmtKind::Carousel(ast::Carousel::Static {
                save: Some(save), ..
            }) => {
                fixed(ctx, save, ValueType::Text);
            }
            ast::StmtKind::Carousel(ast::Carousel::Dynamic { saves, .. }) => item_saves(ctx, saves),
            ast::StmtKind::Appointment(a) => item_saves(ctx, &a.saves),
            ast::StmtKind::Form(form) => {
                for field in &form.fields {
                    fixed(ctx, &field.attr, kind_type(field.kind.as_ref()));
                }
            }
            ast::StmtKind::Run { flow, args } => runs.push((flow, args)),
            _ => {}
        }
    }
}

/// `as number` answers are numbers; every other kind of answer is text.
fn kind_type(kind: Option<&ast::Ident>) -> ValueType {
    match kind {
        Some(k) if k.name == "number" => ValueType::Number,
        _ => ValueType::Text,
    }
}

fn fixed<'a>(ctx: &mut Ctx<'a>, attr: &'a ast::Ident, ty: ValueType) {
    let id = intern(ctx, &attr.name);
    ctx.fillers.push((id, Filler::Fixed(ty)));
}

/// `save A = item.path`: list elements come from JSON, so any type.
fn item_saves<'a>(ctx: &mut Ctx<'a>, saves: &'a [ast::ItemSave]) {
    for save in saves {
        fixed(ctx, &save.attr, ValueType::Any);
    }
}

/// The attribute's id, assigned in order of first appearance.
fn intern<'a>(ctx: &mut Ctx<'a>, name: &'a str) -> u32 {
    if let Some(&id) = ctx.attr_ids.get(name) {
        return id;
    }
    let id = ctx.attrs.len() as u32;
    ctx.attr_ids.insert(name, id);
    ctx.attrs.push(AttrDef {
        name,
        ty: ValueType::Any,
    });
    id
}

/// The entry node: the bot's `start`, else the first node of the root file, else the first
/// node of any file.
fn resolve_start(ctx: &mut Ctx<'_>) {
    let mut start = None;
    if let Some((file, bot)) = ctx.bot {
        for setting in &bot.settings {
            if let ast::BotSetting::Start(name) = setting {
                start = Some((file, name));
            }
        }
    }
    if let Some((file, name)) = start {
        match ctx.node_ids.get(name.name.as_str()) {
            Some(&id) => ctx.start = Some(id),
            None => {
                let help = did_you_mean(&name.name, ctx.node_ids.keys().copied())
                    .unwrap_or_else(|| "name a node that the flow defines".into());
                ctx.error(
                    Diag::new(
                        Code::UnknownStart,
                        format!("the start node `{}` does not exist", name.name),
                        name.span,
                    )
                    .label("no node has this name")
                    .help(help),
                    file,
                );
            }
        }
        return;
    }
    if ctx.nodes.is_empty() {
        let span = ctx.bot.map(|(_, b)| b.name.span).unwrap_or(Span::new(0, 0));
        let file = ctx.bot.map_or(0, |(f, _)| f);
        ctx.error(
            Diag::new(Code::NoNodes, "this flow has no node", span)
                .label("a flow needs at least one node")
                .help("add a node, e.g. `node greet { say \"Hello!\" }`"),
            file,
        );
        return;
    }
    ctx.start = Some(0);
}

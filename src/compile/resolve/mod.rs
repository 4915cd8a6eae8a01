//! Name tables: every node, API, attribute, bot and test of the merged namespace, with
//! duplicate and API-property checks.
//!
//! [`collect`] walks the items once ([`items`]), reading each API's properties ([`apis`]) and
//! the attributes each node fills ([`attrs`]); later passes resolve names through the
//! [`Ctx`] it returns ([`targets`]).

mod apis;
mod attrs;
mod items;
mod targets;

use super::names::NameMap;
use crate::diagnostic::Diag;
use crate::ir::{self, AttrId, FlowId, NodeId, ValueType};
use crate::source::{FileId, SourceFile};
use crate::syntax::ast::{self, ApiProp, Method, Span};

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
    /// Marked `idempotent`: a `post` or `patch` that may be retried.
    pub idempotent: bool,
    /// Marked `internal`: may reach private addresses.
    pub internal: bool,
    /// `redirects MODE`, `same_origin` by default.
    pub redirects: crate::vocab::Redirects,
    /// Written `ai NAME { ... }`: the model's properties.
    pub ai: Option<AiDef<'a>>,
}

/// The properties only an `ai` has.
#[derive(Default)]
pub(crate) struct AiDef<'a> {
    pub model: Option<&'a ast::StrLit>,
    pub key: Option<&'a ast::Template>,
    pub system: Option<&'a ast::Text>,
    pub max_tokens: Option<u32>,
}

/// What fills an attribute somewhere: a fixed type (`ask`, `save`) or a `set` expression.
pub(crate) enum Filler<'a> {
    Fixed(ValueType),
    Expr(&'a ast::Expr),
}

pub(crate) struct AttrDef<'a> {
    pub name: &'a str,
    pub ty: ValueType,
    /// Marked `sensitive` by some `ask`, `set` or `save`.
    pub sensitive: bool,
}

/// What a name written in the source resolved to, for the symbol index (`compile/symbols.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Sym {
    Node(NodeId),
    Api(u32),
    Attr(u32),
    Flow(FlowId),
    Hours(u32),
    Intent(String),
}

/// One name in the source that resolved: a use, or a place that fills an attribute.
pub(crate) struct Seen {
    pub sym: Sym,
    pub file: FileId,
    pub span: Span,
    /// An `ask`, `set`, `save`, form field or flow parameter filling an attribute.
    pub fills: bool,
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
    /// Nodes an unknown target was taken to misspell ("did you mean"): not also reported as
    /// unreachable, since the fix of the typo reaches them.
    pub suggested: Vec<NodeId>,
    pub diags: Vec<Diag>,
    /// Whether resolution records each name it resolves in `seen` (for editors only).
    pub index_names: bool,
    pub seen: Vec<Seen>,
}

impl<'a> Ctx<'a> {
    fn new(sources: &'a [SourceFile], files: &'a [ast::File]) -> Self {
        Ctx {
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
            suggested: Vec::new(),
            diags: Vec::new(),
            index_names: false,
            seen: Vec::new(),
        }
    }

    /// The source text under `span`, for messages.
    pub fn snippet(&self, file: FileId, span: Span) -> &'a str {
        self.sources
            .get(file as usize)
            .and_then(|f| f.text.get(span.start()..span.end()))
            .unwrap_or("")
    }

    pub fn error(&mut self, diag: Diag, file: FileId) {
        self.diags.push(diag.in_file(file));
    }

    /// Records that the name at `span` resolved to `sym` (when an editor asked for names).
    pub fn saw(&mut self, sym: Sym, file: FileId, span: Span) {
        if self.index_names {
            self.seen.push(Seen {
                sym,
                file,
                span,
                fills: false,
            });
        }
    }

    /// Records a place that fills attribute `id` (when an editor asked for names).
    pub fn saw_fill(&mut self, id: u32, file: FileId, span: Span) {
        if self.index_names {
            self.seen.push(Seen {
                sym: Sym::Attr(id),
                file,
                span,
                fills: true,
            });
        }
    }
}

/// Builds the name tables and reports duplicates and malformed APIs.
pub(crate) fn collect<'a>(
    sources: &'a [SourceFile],
    files: &'a [ast::File],
    index_names: bool,
) -> Ctx<'a> {
    let mut ctx = Ctx::new(sources, files);
    ctx.index_names = index_names;
    // Sized up front: rehashing 50,000 names shows in the compile benchmark.
    let node_count = files
        .iter()
        .flat_map(|f| &f.items)
        .filter(|i| matches!(i, ast::Item::Node(_)))
        .count();
    ctx.nodes.reserve(node_count);
    ctx.node_ids.reserve(node_count);
    let mut seen = items::Seen::default();
    for (file, ast_file) in files.iter().enumerate() {
        for item in &ast_file.items {
            items::add(&mut ctx, &mut seen, file as FileId, item);
        }
    }
    items::add_flow_nodes(&mut ctx, &mut seen.runs);
    attrs::run_fillers(&mut ctx, &seen.runs);
    ctx.languages = items::bot_languages(ctx.bot.map(|(_, b)| b));
    targets::resolve_start(&mut ctx);
    ctx
}

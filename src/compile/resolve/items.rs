//! Registering the top-level items: one table entry per name, a diagnostic per repeat.

use std::collections::HashMap;

use super::attrs::{intern, node_fillers, Runs};
use super::{apis, Ctx, Filler, FlowDef, HoursDef, NodeDef};
use crate::compile::names::NameMap;
use crate::diagnostic::{Code, Diag};
use crate::ir::{FlowId, NodeId, ValueType};
use crate::source::FileId;
use crate::syntax::ast::{self, ApiProp, Span};

/// What [`add`] remembers across items.
#[derive(Default)]
pub(super) struct Seen<'a> {
    /// The first test of each name.
    first_test: HashMap<&'a str, (FileId, Span)>,
    /// Every `run FLOW(args)`, for the parameters' types.
    pub runs: Runs<'a>,
}

/// Adds one top-level item to the tables.
pub(super) fn add<'a>(ctx: &mut Ctx<'a>, seen: &mut Seen<'a>, file: FileId, item: &'a ast::Item) {
    match item {
        ast::Item::Node(node) => add_node(ctx, &mut seen.runs, file, node),
        ast::Item::Api(api) => add_api(ctx, file, api),
        ast::Item::Bot(bot) => add_bot(ctx, file, bot),
        ast::Item::Test(test) => add_test(ctx, &mut seen.first_test, file, test),
        ast::Item::Import(_) => {}
        ast::Item::Hours(hours) => add_hours(ctx, file, hours),
        ast::Item::Flow(flow) => add_flow(ctx, file, flow),
        ast::Item::Intent(_)
        | ast::Item::IntentsFrom(_)
        | ast::Item::Synonyms(_)
        | ast::Item::Faq(_) => {}
    }
}

fn add_node<'a>(ctx: &mut Ctx<'a>, runs: &mut Runs<'a>, file: FileId, node: &'a ast::Node) {
    node_fillers(ctx, file, node, runs);
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

fn add_api<'a>(ctx: &mut Ctx<'a>, file: FileId, api: &'a ast::Api) {
    for prop in &api.props {
        if let ApiProp::Save {
            attr, sensitive, ..
        } = prop
        {
            let id = intern(ctx, &attr.name);
            ctx.saw_fill(id, file, attr.span);
            ctx.fillers.push((id, Filler::Fixed(ValueType::Any)));
            super::attrs::mark_sensitive(ctx, &attr.name, *sensitive);
        }
    }
    let def = apis::api_def(ctx, file, api);
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

fn add_bot<'a>(ctx: &mut Ctx<'a>, file: FileId, bot: &'a ast::Bot) {
    match ctx.bot {
        Some((first_file, first)) => {
            let diag = Diag::new(
                Code::DuplicateBot,
                "a flow has one `bot` item, this is a second one",
                bot.name.span,
            )
            .label("second bot item");
            let diag = with_first(ctx, diag, file, (first_file, first.name.span), "bot");
            ctx.error(diag, file);
        }
        None => ctx.bot = Some((file, bot)),
    }
}

fn add_test<'a>(
    ctx: &mut Ctx<'a>,
    first_test: &mut HashMap<&'a str, (FileId, Span)>,
    file: FileId,
    test: &'a ast::Test,
) {
    let name = test.name.value.as_str();
    if let Some(&(first_file, first)) = first_test.get(name) {
        let diag = Diag::new(
            Code::DuplicateTest,
            format!("a test named \"{name}\" already exists"),
            test.name.span,
        )
        .label("second test with this name");
        let diag = with_first(ctx, diag, file, (first_file, first), "test");
        ctx.error(diag, file);
    } else {
        first_test.insert(name, (file, test.name.span));
    }
    ctx.tests.push((file, test));
}

fn add_hours<'a>(ctx: &mut Ctx<'a>, file: FileId, hours: &'a ast::Hours) {
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

fn add_flow<'a>(ctx: &mut Ctx<'a>, file: FileId, flow: &'a ast::Flow) {
    let name = flow.name.name.as_str();
    if let Some(&first) = ctx.flow_ids.get(name) {
        let first = &ctx.flows[first as usize];
        let first = (first.file, first.ast.name.span);
        ctx.duplicate("flow", &flow.name, file, first);
    } else {
        ctx.flow_ids.insert(name, ctx.flows.len() as FlowId);
        let mut params = Vec::with_capacity(flow.params.len());
        for p in &flow.params {
            let id = intern(ctx, &p.name);
            ctx.saw_fill(id, file, p.span);
            params.push(id);
        }
        ctx.flows.push(FlowDef {
            file,
            ast: flow,
            node_ids: NameMap::default(),
            entry: None,
            params,
        });
    }
}

/// Appends every flow's nodes after the top-level ones, with names local to the flow.
pub(super) fn add_flow_nodes<'a>(ctx: &mut Ctx<'a>, runs: &mut Runs<'a>) {
    for f in 0..ctx.flows.len() {
        let (file, flow) = (ctx.flows[f].file, ctx.flows[f].ast);
        for node in &flow.nodes {
            node_fillers(ctx, file, node, runs);
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

/// The bot's declared languages in order, each once.
pub(super) fn bot_languages(bot: Option<&ast::Bot>) -> Vec<&str> {
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
        let (line, col) = ctx
            .sources
            .get(first_file as usize)
            .map_or((1, 1), |f| f.line_col(first.start()));
        diag.help(format!("the first one is at {name}:{line}:{col}; {fix}"))
    }
}

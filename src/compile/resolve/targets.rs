//! Resolving names: node targets from a scope (the top level or a sub-flow), the start node,
//! and the "unknown ..." diagnostics with their suggestions.

use super::{Ctx, Sym};
use crate::diagnostic::{closest, did_you_mean, Code, Diag};
use crate::ir::{FlowId, NodeId};
use crate::source::FileId;
use crate::syntax::ast::{self, Span};

/// How a node target resolved from some scope.
enum Target {
    Found(NodeId),
    /// A top-level node named from inside a flow.
    OutsideFlow,
    Unknown,
}

impl Ctx<'_> {
    /// Resolves a node name used inside `scope` (a flow, or the top level).
    fn target(&self, scope: Option<FlowId>, name: &str) -> Target {
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
            None => node.ast.name.name.to_string(),
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
            Target::Found(id) => {
                self.saw(Sym::Node(id), file, target.span);
                true
            }
            Target::Unknown => {
                self.unknown_node_in(file, scope, target);
                false
            }
            Target::OutsideFlow => {
                if let Some(&id) = self.node_ids.get(target.name.as_str()) {
                    self.saw(Sym::Node(id), file, target.span);
                }
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
        let Some(f) = scope else {
            return self.unknown_node(file, name);
        };
        let local = &self.flows[f as usize].node_ids;
        let guess =
            closest(&name.name, local.keys().copied()).and_then(|c| Some((*local.get(c)?, c)));
        let help = match guess {
            Some((id, c)) => self.suggest(id, c),
            None => "define it inside the flow with `node NAME { ... }`".into(),
        };
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

    pub fn unknown_node(&mut self, file: FileId, name: &ast::Ident) {
        let guess = if name.name.contains('.') {
            let qualified: Vec<(String, NodeId)> = (0..self.nodes.len())
                .filter(|&n| self.nodes[n].flow.is_some())
                .map(|n| (self.node_name(n), n as NodeId))
                .collect();
            closest(&name.name, qualified.iter().map(|(q, _)| q.as_str()))
                .and_then(|c| qualified.iter().find(|(q, _)| q == c))
                .map(|(q, id)| (*id, q.clone()))
        } else {
            closest(&name.name, self.node_ids.keys().copied())
                .and_then(|c| Some((*self.node_ids.get(c)?, c.to_string())))
        };
        let help = match guess {
            Some((id, c)) => self.suggest(id, &c),
            None => "define it with `node NAME { ... }` or use an existing node".into(),
        };
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

    /// "did you mean" a node, remembered so the node is not also called unreachable.
    fn suggest(&mut self, id: NodeId, shown: &str) -> String {
        self.suggested.push(id);
        format!("did you mean `{shown}`?")
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

/// The entry node: the bot's `start`, else the first node of the root file, else the first
/// node of any file.
pub(super) fn resolve_start(ctx: &mut Ctx<'_>) {
    let start = ctx.bot.and_then(|(file, bot)| {
        bot.settings.iter().rev().find_map(|s| match s {
            ast::BotSetting::Start(name) => Some((file, name)),
            _ => None,
        })
    });
    if let Some((file, name)) = start {
        match ctx.node_ids.get(name.name.as_str()) {
            Some(&id) => {
                ctx.start = Some(id);
                ctx.saw(Sym::Node(id), file, name.span);
            }
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

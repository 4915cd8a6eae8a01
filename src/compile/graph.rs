//! Flow-graph analyses over nodes: reachability, `status` before any `call`, attributes read
//! where no path has set them, and loops that never wait for the user.
//!
//! Each node is first summarised once (the values it reads and sets, in order, and its
//! successors); the analyses are then worklist passes over the summaries, linear in the
//! size of the flow for the boolean ones and bounded by nodes × attribute words for the
//! attribute one.

use std::collections::VecDeque;

use super::resolve::Ctx;
use crate::diagnostic::Diag;
use crate::ir::{AttrId, NodeId};
use crate::syntax::ast::{self, ApiProp, ExprKind, RefKind, Span, StmtKind};

/// Something a node does that an analysis cares about, in execution order.
enum Event {
    /// An attribute is read; `via` names the API whose request reads it.
    Read { attr: AttrId, span: Span, via: Option<u32> },
    /// `status` is read.
    Status { span: Span, via: Option<u32> },
    /// An attribute may be filled from here on.
    Set(AttrId),
    /// A `call` sets `status`.
    Called,
}

/// Per-node facts, stored flat (one allocation for all nodes, not one per node).
#[derive(Default)]
struct Graph {
    events: Vec<Event>,
    succs: Vec<NodeId>,
    nodes: Vec<NodeFacts>,
}

#[derive(Default, Clone, Copy)]
struct NodeFacts {
    events: (u32, u32),
    succs: (u32, u32),
    asks: bool,
    calls: bool,
}

impl Graph {
    fn len(&self) -> usize {
        self.nodes.len()
    }
    fn events(&self, n: usize) -> &[Event] {
        let (a, b) = self.nodes[n].events;
        &self.events[a as usize..b as usize]
    }
    fn succs(&self, n: usize) -> &[NodeId] {
        let (a, b) = self.nodes[n].succs;
        &self.succs[a as usize..b as usize]
    }
    fn asks(&self, n: usize) -> bool {
        self.nodes[n].asks
    }
    fn calls(&self, n: usize) -> bool {
        self.nodes[n].calls
    }
}

pub(crate) fn analyse(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.start else { return };
    let mut summaries = Graph::default();
    for n in 0..ctx.nodes.len() {
        summarise(ctx, ctx.nodes[n].ast, &mut summaries);
    }
    let summaries = &summaries;
    let reachable = reachable(summaries, start);
    report_unreachable(ctx, &reachable, start);
    status_before_call(ctx, summaries, &reachable, start);
    unset_attributes(ctx, summaries, &reachable, start);
    loops_without_wait(ctx, summaries, &reachable);
}

fn summarise(ctx: &Ctx<'_>, node: &ast::Node, g: &mut Graph) {
    let (events_start, succs_start) = (g.events.len(), g.succs.len());
    let mut facts = NodeFacts::default();
    let s = &mut *g;
    for stmt in &node.body {
        match &stmt.kind {
            StmtKind::Say(t) => {
                for t in t.templates() {
                    template_reads(ctx, t, None, None, &mut s.events);
                }
            }
            StmtKind::Ask { attr, prompt, .. } => {
                for p in prompt.iter().flat_map(|p| p.templates()) {
                    template_reads(ctx, p, None, None, &mut s.events);
                }
                if let Some(&id) = ctx.attr_ids.get(attr.name.as_str()) {
                    s.events.push(Event::Set(id));
                }
                facts.asks = true;
            }
            StmtKind::Set { attr, value } => {
                expr_reads(ctx, value, &mut s.events);
                if let Some(&id) = ctx.attr_ids.get(attr.name.as_str()) {
                    s.events.push(Event::Set(id));
                }
            }
            StmtKind::Call(api) => {
                if let Some(&id) = ctx.api_ids.get(api.name.as_str()) {
                    call_events(ctx, id, api.span, &mut s.events);
                } else {
                    // Already an unknown_api error; still a call, so no status cascade.
                    s.events.push(Event::Called);
                }
                facts.calls = true;
            }
            StmtKind::Branch(b) => {
                for arm in &b.arms {
                    expr_reads(ctx, &arm.cond, &mut s.events);
                    push_target(ctx, &arm.target, succs_start, &mut s.succs);
                }
                if let Some(t) = &b.otherwise {
                    push_target(ctx, t, succs_start, &mut s.succs);
                }
                break;
            }
            StmtKind::Goto(t) => {
                push_target(ctx, t, succs_start, &mut s.succs);
                break;
            }
            StmtKind::Close => break,
            // WAVE2 scaffolding: refused by the checks for now.
            _ => {}
        }
    }
    facts.events = (events_start as u32, g.events.len() as u32);
    facts.succs = (succs_start as u32, g.succs.len() as u32);
    g.nodes.push(facts);
}

/// Adds a successor once; `from` is where this node's successors start.
fn push_target(ctx: &Ctx<'_>, target: &ast::Ident, from: usize, succs: &mut Vec<NodeId>) {
    if let Some(&id) = ctx.node_ids.get(target.name.as_str()) {
        if !succs[from..].contains(&id) {
            succs.push(id);
        }
    }
}

/// A call reads the API's request templates, then sets `status` and the saved attributes.
fn call_events(ctx: &Ctx<'_>, api: u32, at: Span, events: &mut Vec<Event>) {
    let def = ctx.apis[api as usize].ast;
    for prop in &def.props {
        match prop {
            ApiProp::Request { url: t, .. }
            | ApiProp::Header { value: t, .. }
            | ApiProp::Body { body: t, .. } => template_reads(ctx, t, Some(api), Some(at), events),
            ApiProp::Json { body, .. } => json_reads(ctx, body, api, at, events),
            _ => {}
        }
    }
    events.push(Event::Called);
    for prop in &def.props {
        if let ApiProp::Save { attr, .. } = prop {
            if let Some(&id) = ctx.attr_ids.get(attr.name.as_str()) {
                events.push(Event::Set(id));
            }
        }
    }
}

fn json_reads(ctx: &Ctx<'_>, json: &ast::JsonTemplate, api: u32, at: Span, events: &mut Vec<Event>) {
    match json {
        ast::JsonTemplate::Object(fields, _) => {
            for (_, v) in fields {
                json_reads(ctx, v, api, at, events);
            }
        }
        ast::JsonTemplate::Array(items, _) => {
            for v in items {
                json_reads(ctx, v, api, at, events);
            }
        }
        ast::JsonTemplate::String(t) => template_reads(ctx, t, Some(api), Some(at), events),
        _ => {}
    }
}

/// `at` replaces the reference's own span when the template lives in another item (an API).
fn template_reads(
    ctx: &Ctx<'_>,
    t: &ast::Template,
    via: Option<u32>,
    at: Option<Span>,
    events: &mut Vec<Event>,
) {
    for part in &t.parts {
        if let ast::TemplatePart::Ref(r) = part {
            ref_read(ctx, r, via, at.unwrap_or(r.span), events);
        }
    }
}

fn ref_read(ctx: &Ctx<'_>, r: &ast::Ref, via: Option<u32>, span: Span, events: &mut Vec<Event>) {
    match &r.kind {
        RefKind::Status => events.push(Event::Status { span, via }),
        RefKind::Attr(name) => {
            if let Some(&attr) = ctx.attr_ids.get(name.as_str()) {
                events.push(Event::Read { attr, span, via });
            }
        }
        RefKind::Sys(_) | RefKind::Secret(_) | RefKind::Item(_) => {}
    }
}

/// Reads in evaluation order; the operand of `is set` / `is not set` is a check, not a read.
fn expr_reads(ctx: &Ctx<'_>, e: &ast::Expr, events: &mut Vec<Event>) {
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::IsSet { .. } | ExprKind::Open(_) => {}
        ExprKind::Ref(r) => ref_read(ctx, r, None, r.span, events),
        ExprKind::Or(a, b) | ExprKind::And(a, b) => {
            expr_reads(ctx, a, events);
            expr_reads(ctx, b, events);
        }
        ExprKind::Cmp { lhs, rhs, .. } | ExprKind::Text { lhs, rhs, .. } => {
            expr_reads(ctx, lhs, events);
            expr_reads(ctx, rhs, events);
        }
        ExprKind::Not(v) | ExprKind::InRange { value: v, .. } | ExprKind::Matches { value: v, .. } => {
            expr_reads(ctx, v, events)
        }
        ExprKind::InList { value, items } => {
            expr_reads(ctx, value, events);
            for i in items {
                expr_reads(ctx, i, events);
            }
        }
    }
}

fn reachable(summaries: &Graph, start: NodeId) -> Vec<bool> {
    let mut seen = vec![false; summaries.len()];
    let mut queue = VecDeque::from([start]);
    seen[start as usize] = true;
    while let Some(n) = queue.pop_front() {
        for &s in summaries.succs(n as usize) {
            if !seen[s as usize] {
                seen[s as usize] = true;
                queue.push_back(s);
            }
        }
    }
    seen
}

fn report_unreachable(ctx: &mut Ctx<'_>, reachable: &[bool], start: NodeId) {
    let start_name = ctx.nodes[start as usize].ast.name.name.clone();
    let unreachable: Vec<usize> = (0..ctx.nodes.len()).filter(|&n| !reachable[n]).collect();
    for n in unreachable {
        let (file, name) = (ctx.nodes[n].file, &ctx.nodes[n].ast.name);
        let diag = Diag::warning(
            "chatflow::unreachable_node",
            format!("node `{}` can never be reached from the start node `{start_name}`", name.name),
            name.span,
        )
        .label("no goto or branch leads here")
        .help(format!(
            "add `goto {}` or a branch arm to it where it belongs, or remove the node",
            name.name
        ));
        ctx.error(diag, file);
    }
}

/// Forward "may not have called yet" analysis; errors where `status` is read under it.
fn status_before_call(ctx: &mut Ctx<'_>, summaries: &Graph, reachable: &[bool], start: NodeId) {
    let n = summaries.len();
    let mut uncalled = vec![false; n];
    let mut parent: Vec<Option<NodeId>> = vec![None; n];
    uncalled[start as usize] = true;
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        if summaries.calls(node as usize) {
            continue;
        }
        for &s in summaries.succs(node as usize) {
            if !uncalled[s as usize] {
                uncalled[s as usize] = true;
                parent[s as usize] = Some(node);
                queue.push_back(s);
            }
        }
    }
    for node in 0..n {
        if !reachable[node] || !uncalled[node] {
            continue;
        }
        let read = summaries.events(node).iter().find_map(|e| match e {
            Event::Called => Some(None),
            Event::Status { span, via } => Some(Some((*span, *via))),
            _ => None,
        });
        if let Some(Some((span, via))) = read {
            let help = if parent[node].is_none() {
                "no `call` comes before this in the start node; call an API before reading `status`".to_string()
            } else {
                format!(
                    "no `call` happens on the path {}; call an API before reading `status` on every path",
                    witness(ctx, &parent, node as NodeId)
                )
            };
            let name = &ctx.nodes[node].ast.name.name;
            let message = match via {
                Some(api) => format!(
                    "API `{}` reads `status` in node `{name}` before any `call` has happened",
                    ctx.apis[api as usize].ast.name.name
                ),
                None => format!("`status` is read in node `{name}` before any `call` has happened"),
            };
            let diag = Diag::error("chatflow::status_before_call", message, span)
                .label("no call has set `status` on this path")
                .help(help);
            let file = ctx.nodes[node].file;
            ctx.error(diag, file);
        }
    }
}

/// `start -> a -> b`, shortened in the middle when long.
fn witness(ctx: &Ctx<'_>, parent: &[Option<NodeId>], node: NodeId) -> String {
    let mut path = vec![node];
    let mut cur = node;
    while let Some(p) = parent[cur as usize] {
        if path.len() > parent.len() {
            break; // cannot happen for a BFS tree; a guard all the same
        }
        path.push(p);
        cur = p;
    }
    path.reverse();
    let names: Vec<&str> = path
        .iter()
        .map(|&n| ctx.nodes[n as usize].ast.name.name.as_str())
        .collect();
    if names.len() > 8 {
        format!(
            "{} -> ... -> {}",
            names[..3].join(" -> "),
            names[names.len() - 3..].join(" -> ")
        )
    } else {
        names.join(" -> ")
    }
}

/// One fixed-size bit set of attribute ids per node, stored flat: node `n` owns words
/// `n * words .. (n + 1) * words`.
struct BitTable {
    words: usize,
    bits: Vec<u64>,
}

impl BitTable {
    fn new(nodes: usize, attrs: usize) -> Self {
        let words = attrs.div_ceil(64);
        BitTable {
            words,
            bits: vec![0; nodes * words],
        }
    }
    fn row(&self, n: usize) -> &[u64] {
        &self.bits[n * self.words..(n + 1) * self.words]
    }
    fn insert(&mut self, n: usize, attr: AttrId) {
        self.bits[n * self.words + attr as usize / 64] |= 1 << (attr % 64);
    }
    /// Adds `other` to row `n`; true if anything was new.
    fn union_row(&mut self, n: usize, other: &[u64]) -> bool {
        let mut grew = false;
        for (a, b) in self.bits[n * self.words..(n + 1) * self.words].iter_mut().zip(other) {
            let next = *a | *b;
            grew |= next != *a;
            *a = next;
        }
        grew
    }
}

fn contains(row: &[u64], attr: AttrId) -> bool {
    row[attr as usize / 64] & (1 << (attr % 64)) != 0
}

/// Forward "may have been set" analysis; warns where an attribute is read but no path from
/// the start has passed a setter for it.
fn unset_attributes(ctx: &mut Ctx<'_>, summaries: &Graph, reachable: &[bool], start: NodeId) {
    let n = summaries.len();
    if ctx.attrs.is_empty() {
        return;
    }
    let mut gens = BitTable::new(n, ctx.attrs.len());
    for node in 0..n {
        for e in summaries.events(node) {
            if let Event::Set(a) = e {
                gens.insert(node, *a);
            }
        }
    }
    let mut entry = BitTable::new(n, ctx.attrs.len());
    let mut out = vec![0u64; entry.words];
    let mut queued = reachable.to_vec();
    // Every reachable node is processed at least once, starting from the entry.
    let mut queue: VecDeque<NodeId> = VecDeque::from([start]);
    queue.extend((0..n as NodeId).filter(|&i| reachable[i as usize] && i != start));
    while let Some(node) = queue.pop_front() {
        let node = node as usize;
        queued[node] = false;
        for ((o, e), g) in out.iter_mut().zip(entry.row(node)).zip(gens.row(node)) {
            *o = e | g;
        }
        for &s in summaries.succs(node) {
            if entry.union_row(s as usize, &out) && !queued[s as usize] {
                queued[s as usize] = true;
                queue.push_back(s);
            }
        }
    }
    let mut set = vec![0u64; entry.words];
    for node in (0..n).filter(|&i| reachable[i]) {
        set.copy_from_slice(entry.row(node));
        let mut warned: Vec<AttrId> = Vec::new();
        for e in summaries.events(node) {
            match e {
                Event::Set(a) => set[*a as usize / 64] |= 1 << (a % 64),
                Event::Read { attr, span, via }
                    if !contains(&set, *attr) && !warned.contains(attr) =>
                {
                    warned.push(*attr);
                    let diag = unset_diag(ctx, node, *attr, *span, *via);
                    let file = ctx.nodes[node].file;
                    ctx.error(diag, file);
                }
                _ => {}
            }
        }
    }
}

fn unset_diag(ctx: &Ctx<'_>, node: usize, attr: AttrId, span: Span, via: Option<u32>) -> Diag {
    let name = ctx.attrs[attr as usize].name;
    let node_name = &ctx.nodes[node].ast.name.name;
    let message = match via {
        Some(api) => format!(
            "API `{}` reads `{name}` in node `{node_name}`, but no path from the start sets it first",
            ctx.apis[api as usize].ast.name.name
        ),
        None => format!("`{name}` is read in node `{node_name}`, but no path from the start sets it first"),
    };
    Diag::warning("chatflow::unset_attribute", message, span)
        .label("always unset here")
        .help(format!(
            "fill `{name}` (with `ask`, `set` or an API `save`) before this point, or check it with `{name} is set`"
        ))
}

/// Cycles among reachable nodes that contain no `ask`: the flow would spin until the turn's
/// step limit. Tarjan's algorithm, iterative so deep flows cannot overflow the stack.
fn loops_without_wait(ctx: &mut Ctx<'_>, summaries: &Graph, reachable: &[bool]) {
    let n = summaries.len();
    let eligible = |v: usize| reachable[v] && !summaries.asks(v);
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next = 0u32;
    let mut sccs: Vec<Vec<usize>> = Vec::new();
    for root in 0..n {
        if !eligible(root) || index[root] != u32::MAX {
            continue;
        }
        // (node, next successor position)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(top) = work.last_mut() {
            let v = top.0;
            let succs = summaries.succs(v);
            if top.1 < succs.len() {
                let w = succs[top.1] as usize;
                top.1 += 1;
                if !eligible(w) {
                    continue;
                }
                if index[w] == u32::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                let is_cycle = scc.len() > 1 || summaries.succs(v).contains(&(v as NodeId));
                if is_cycle {
                    sccs.push(scc);
                }
            }
        }
    }
    for mut scc in sccs {
        scc.sort_unstable();
        report_loop(ctx, &scc);
    }
}

fn report_loop(ctx: &mut Ctx<'_>, scc: &[usize]) {
    let first = scc[0];
    let mut names: Vec<&str> = scc
        .iter()
        .take(8)
        .map(|&v| ctx.nodes[v].ast.name.name.as_str())
        .collect();
    if scc.len() > 8 {
        names.push("...");
    }
    let (file, name) = (ctx.nodes[first].file, &ctx.nodes[first].ast.name);
    let message = if scc.len() == 1 {
        format!(
            "node `{}` leads back to itself with no `ask`: the flow would spin until the step limit",
            name.name
        )
    } else {
        format!(
            "the nodes {} form a loop with no `ask`: the flow would spin until the step limit",
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        )
    };
    let diag = Diag::warning("chatflow::loop_without_wait", message, name.span)
    .label("this loop never waits for the user")
    .help("put an `ask` somewhere on the loop, or leave it with a branch that can close the chat");
    ctx.error(diag, file);
}

#[cfg(test)]
mod tests {
    use crate::compile::compile_str;
    use std::fmt::Write;

    fn codes(src: &str) -> Vec<&'static str> {
        compile_str("t.flow", src).diagnostics.iter().map(|d| d.code).collect()
    }

    /// A 20,000-node cycle with no `ask`: one warning, no stack overflow, no blow-up.
    #[test]
    fn long_cycle_is_one_loop_warning() {
        let n = 20_000;
        let mut src = String::new();
        for i in 0..n {
            let _ = writeln!(src, "node n{i} {{ goto n{} }}", (i + 1) % n);
        }
        assert_eq!(codes(&src), ["chatflow::loop_without_wait"]);
    }

    /// Diamonds in sequence have exponentially many paths; the analyses stay linear.
    #[test]
    fn many_paths_stay_cheap() {
        let mut src = String::from("api a { get \"https://x.test/{v}\" }\nnode d0 { ask v; goto d1 }\n");
        for i in 1..2_000 {
            let _ = writeln!(
                src,
                "node d{i} {{ if v == \"x\" -> l{i} else -> r{i} }}\nnode l{i} {{ set w = 1; goto d{} }}\nnode r{i} {{ call a; goto d{} }}",
                i + 1,
                i + 1
            );
        }
        src.push_str("node d2000 { say \"{w} {status}\"; close }\n");
        let c = codes(&src);
        // `status` is read where one path (all `l` arms) never called: an error, found fast.
        assert_eq!(c, ["chatflow::status_before_call"]);
    }

    #[test]
    fn a_loop_with_an_ask_is_fine() {
        let src = "node a { ask x; goto b }\nnode b { if x == \"q\" -> c else -> a }\nnode c { close }\n";
        assert!(codes(src).is_empty());
    }

    #[test]
    fn is_set_checks_are_not_reads() {
        let src = "node a { if x is not set -> b else -> b }\nnode b { ask x; close }\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
    }

    #[test]
    fn statements_after_goto_do_not_count_for_the_graph() {
        // The `call` after `goto` never runs, so `b` still reads status before any call.
        let src = "api a { get \"https://x.test\" }\nnode s { goto b; call a }\nnode b { say \"{status}\"; call a; close }\n";
        let c = codes(src);
        assert!(c.contains(&"chatflow::status_before_call"), "{c:?}");
        assert!(c.contains(&"chatflow::unreachable_statement"), "{c:?}");
    }
}

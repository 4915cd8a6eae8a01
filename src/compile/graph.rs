//! Flow-graph analyses over nodes: reachability, `status` before any `call`, attributes read
//! where no path has set them, and loops that never wait for the user.
//!
//! Each node is first summarised once (the values it reads and sets, in order, and its
//! successors); the analyses are then worklist passes over the summaries, linear in the
//! size of the flow for the boolean ones and bounded by nodes × attribute words for the
//! attribute one.

use std::collections::VecDeque;

use super::exits::exits;
use super::resolve::Ctx;
use crate::diagnostic::{Code, Diag};
use crate::ir::{AttrId, FlowId, NodeId};
use crate::syntax::ast::{self, ApiProp, ExprKind, RefKind, Span, StmtKind};

/// Something a node does that an analysis cares about, in execution order.
enum Event {
    /// An attribute is read; `via` names the API whose request reads it.
    Read {
        attr: AttrId,
        span: Span,
        via: Option<u32>,
    },
    /// `status` is read.
    Status { span: Span, via: Option<u32> },
    /// An attribute may be filled from here on.
    Set(AttrId),
    /// A `call` sets `status`.
    Called,
    /// `run FLOW(...)`: whatever the flow may set, call or wait for happens here.
    Run(FlowId),
}

/// Per-node facts, stored flat (one allocation for all nodes, not one per node).
#[derive(Default)]
struct Graph {
    events: Vec<Event>,
    succs: Vec<NodeId>,
    nodes: Vec<NodeFacts>,
    /// Per flow, including the flows it runs: whether it may call an API.
    flow_calls: Vec<bool>,
    /// Per flow: the attributes it may set.
    flow_sets: Option<BitTable>,
}

#[derive(Default, Clone, Copy)]
struct NodeFacts {
    events: (u32, u32),
    succs: (u32, u32),
    asks: bool,
    calls: bool,
    runs: bool,
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
    /// The attributes flow `f` may set.
    fn flow_row(&self, f: FlowId) -> &[u64] {
        self.flow_sets.as_ref().map_or(&[], |t| t.row(f as usize))
    }
}

pub(crate) fn analyse(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.start else { return };
    let mut summaries = Graph::default();
    for n in 0..ctx.nodes.len() {
        summarise(ctx, n, &mut summaries);
    }
    flow_facts(ctx, &mut summaries);
    let summaries = &summaries;
    let reachable = reachable(summaries, start);
    report_unreachable(ctx, &reachable, start);
    status_before_call(ctx, summaries, &reachable, start);
    unset_attributes(ctx, summaries, &reachable, start);
    loops_without_wait(ctx, summaries, &reachable);
}

fn summarise(ctx: &Ctx<'_>, n: usize, g: &mut Graph) {
    let (node, scope) = (ctx.nodes[n].ast, ctx.nodes[n].flow);
    let (events_start, succs_start) = (g.events.len(), g.succs.len());
    let mut facts = NodeFacts::default();
    let s = &mut *g;
    let mut out = Summary {
        ctx,
        scope,
        from: succs_start,
        events: &mut s.events,
        succs: &mut s.succs,
    };
    for stmt in &node.body {
        match &stmt.kind {
            StmtKind::Say(t) => out.text(Some(t)),
            StmtKind::Ask { attr, prompt, .. } => {
                out.text(prompt.as_ref());
                out.set(attr);
                facts.asks = true;
            }
            StmtKind::Set { attr, value } => {
                expr_reads(ctx, value, out.events);
                out.set(attr);
            }
            StmtKind::SetSys { value, .. } => expr_reads(ctx, value, out.events),
            StmtKind::Call(api) => {
                out.call(api);
                facts.calls = true;
            }
            StmtKind::Branch(b) => {
                for arm in &b.arms {
                    expr_reads(ctx, &arm.cond, out.events);
                }
            }
            StmtKind::Goto(_) | StmtKind::Close | StmtKind::Return | StmtKind::Goal(_) => {}
            StmtKind::Run { flow, args } => {
                for a in args {
                    expr_reads(ctx, a, out.events);
                }
                if let Some(&f) = ctx.flow_ids.get(flow.name.as_str()) {
                    let def = &ctx.flows[f as usize];
                    // Even with a wrong argument count (an error already), the flow
                    // starts with its parameters set: no unset-attribute cascade.
                    out.events.extend(def.params.iter().map(|&p| Event::Set(p)));
                    out.events.push(Event::Run(f));
                    if let Some(entry) = def.entry {
                        out.succ(entry);
                    }
                    facts.runs = true;
                }
            }
            StmtKind::Menu(m) => {
                out.text(m.text.as_ref());
                match &m.source {
                    ast::MenuSource::Static(options) => out.options(options),
                    ast::MenuSource::Dynamic(d) => {
                        out.dynamic((&d.list, &d.saves), [d.label.as_ref()]);
                    }
                }
                if let Some(save) = &m.save {
                    out.set(save);
                }
            }
            StmtKind::Carousel(ast::Carousel::Static { cards, save }) => {
                for card in cards {
                    for t in [
                        Some(&card.title),
                        card.subtitle.as_ref(),
                        card.image.as_ref(),
                    ] {
                        out.template(t);
                    }
                    out.options(&card.buttons);
                }
                if let Some(save) = save {
                    out.set(save);
                }
            }
            StmtKind::Carousel(ast::Carousel::Dynamic {
                list, card, saves, ..
            }) => {
                let templates = [
                    card.title.as_ref(),
                    card.subtitle.as_ref(),
                    card.image.as_ref(),
                    card.button.as_ref(),
                ];
                out.dynamic((list, saves), templates);
            }
            StmtKind::Email(e) => {
                for t in [e.to.as_ref(), e.subject.as_ref(), e.body.as_ref()] {
                    out.template(t);
                }
            }
            StmtKind::Otp(otp) => {
                match &otp.send {
                    Some(ast::OtpSend::Email(t)) => out.template(Some(t)),
                    Some(ast::OtpSend::Call(api)) => {
                        out.call(api);
                        facts.calls = true;
                    }
                    None => {}
                }
                out.text(otp.prompt.as_ref());
                facts.asks = true;
            }
            StmtKind::Form(form) => {
                out.text(form.title.as_ref());
                for field in &form.fields {
                    out.template(Some(&field.label));
                }
                for field in &form.fields {
                    out.set(&field.attr);
                }
                facts.asks = true;
            }
            StmtKind::Media { url, caption, .. } => {
                out.template(Some(url));
                out.template(caption.as_ref());
            }
            StmtKind::Transfer { to, message, .. } => {
                out.template(Some(to));
                out.text(message.as_ref());
                // The conversation now waits for a human: no successor.
                facts.asks = true;
            }
            StmtKind::Appointment(a) => {
                if let Some((api, _)) = &a.slots {
                    out.call(api);
                }
                out.template(a.label.as_ref());
                out.text(a.prompt.as_ref());
                for save in &a.saves {
                    out.set(&save.attr);
                }
                if let Some(api) = &a.book {
                    out.call(api);
                }
                facts.asks = true;
                facts.calls = true;
            }
        }
        let exits = exits(&stmt.kind);
        for target in exits.to {
            out.target(Some(target));
        }
        if exits.ends_node {
            // Waiting menus and carousels give the user a turn.
            if matches!(stmt.kind, StmtKind::Menu(_) | StmtKind::Carousel(_)) {
                facts.asks = true;
            }
            break;
        }
    }
    facts.events = (events_start as u32, g.events.len() as u32);
    facts.succs = (succs_start as u32, g.succs.len() as u32);
    g.nodes.push(facts);
}

/// Appends one node's events and successors.
struct Summary<'c, 'a, 'g> {
    ctx: &'c Ctx<'a>,
    scope: Option<FlowId>,
    /// Where this node's successors start in `succs`.
    from: usize,
    events: &'g mut Vec<Event>,
    succs: &'g mut Vec<NodeId>,
}

impl Summary<'_, '_, '_> {
    fn template(&mut self, t: Option<&ast::Template>) {
        if let Some(t) = t {
            template_reads(self.ctx, t, None, None, self.events);
        }
    }

    fn text(&mut self, t: Option<&ast::Text>) {
        for t in t.into_iter().flat_map(|t| t.templates()) {
            template_reads(self.ctx, t, None, None, self.events);
        }
    }

    fn set(&mut self, attr: &ast::Ident) {
        if let Some(&id) = self.ctx.attr_ids.get(attr.name.as_str()) {
            self.events.push(Event::Set(id));
        }
    }

    fn call(&mut self, api: &ast::Ident) {
        match self.ctx.api_ids.get(api.name.as_str()) {
            Some(&id) => call_events(self.ctx, id, api.span, self.events),
            // Already an unknown_api error; still a call, so no status cascade.
            None => self.events.push(Event::Called),
        }
    }

    fn succ(&mut self, id: NodeId) {
        if !self.succs[self.from..].contains(&id) {
            self.succs.push(id);
        }
    }

    fn target(&mut self, target: Option<&ast::Ident>) {
        if let Some(id) = target.and_then(|t| self.ctx.target_id(self.scope, t)) {
            self.succ(id);
        }
    }

    fn options(&mut self, options: &[ast::MenuOption]) {
        for o in options {
            self.template(Some(&o.label));
            if let ast::OptionKind::Link(url) = &o.kind {
                self.template(Some(url));
            }
        }
    }

    /// `from LIST { ...; save A = item.x; -> n; empty -> n }`: reads the list, sets the saves.
    fn dynamic<const N: usize>(
        &mut self,
        (list, saves): (&ast::Ident, &[ast::ItemSave]),
        templates: [Option<&ast::Template>; N],
    ) {
        if let Some(&attr) = self.ctx.attr_ids.get(list.name.as_str()) {
            self.events.push(Event::Read {
                attr,
                span: list.span,
                via: None,
            });
        }
        for t in templates {
            self.template(t);
        }
        for save in saves {
            self.set(&save.attr);
        }
    }
}

/// What each flow may do when run (including the flows it runs), then the same facts for
/// every node that runs a flow.
fn flow_facts(ctx: &Ctx<'_>, g: &mut Graph) {
    let flows = ctx.flows.len();
    if flows == 0 {
        return;
    }
    let mut calls = vec![false; flows];
    let mut waits = vec![false; flows];
    let mut sets = BitTable::new(flows, ctx.attrs.len());
    let mut row = vec![0u64; sets.words];
    loop {
        let mut changed = false;
        for (n, node) in ctx.nodes.iter().enumerate() {
            let Some(f) = node.flow.map(|f| f as usize) else {
                continue;
            };
            let (mut c, mut w) = (g.calls(n), g.asks(n));
            row.iter_mut().for_each(|x| *x = 0);
            for e in g.events(n) {
                match *e {
                    Event::Set(a) => row[a as usize / 64] |= 1 << (a % 64),
                    Event::Run(inner) => {
                        c |= calls[inner as usize];
                        w |= waits[inner as usize];
                        let inner_row = sets.row(inner as usize).to_vec();
                        row.iter_mut().zip(inner_row).for_each(|(x, y)| *x |= y);
                    }
                    _ => {}
                }
            }
            changed |= (c && !calls[f]) || (w && !waits[f]);
            calls[f] |= c;
            waits[f] |= w;
            changed |= sets.union_row(f, &row);
        }
        if !changed {
            break;
        }
    }
    for n in 0..g.len() {
        if !g.nodes[n].runs {
            continue;
        }
        let (a, b) = g.nodes[n].events;
        for e in &g.events[a as usize..b as usize] {
            if let Event::Run(f) = *e {
                g.nodes[n].calls |= calls[f as usize];
                g.nodes[n].asks |= waits[f as usize];
            }
        }
    }
    g.flow_calls = calls;
    g.flow_sets = Some(sets);
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

fn json_reads(
    ctx: &Ctx<'_>,
    json: &ast::JsonTemplate,
    api: u32,
    at: Span,
    events: &mut Vec<Event>,
) {
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
        ExprKind::Not(v)
        | ExprKind::InRange { value: v, .. }
        | ExprKind::Matches { value: v, .. } => expr_reads(ctx, v, events),
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
    let start_name = ctx.node_name(start as usize);
    let unreachable: Vec<usize> = (0..ctx.nodes.len()).filter(|&n| !reachable[n]).collect();
    for n in unreachable {
        let (file, name) = (ctx.nodes[n].file, &ctx.nodes[n].ast.name);
        if let Some(f) = ctx.nodes[n].flow {
            // A flow that is never run gets one `unused_flow` warning, not one per node.
            let entry = ctx.flows[f as usize].entry;
            if entry.is_some_and(|e| !reachable[e as usize]) {
                if entry == Some(n as NodeId) {
                    unused_flow(ctx, f);
                }
                continue;
            }
        }
        let shown = ctx.node_name(n);
        let diag = Diag::new(
            Code::UnreachableNode,
            format!("node `{shown}` can never be reached from the start node `{start_name}`"),
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

fn unused_flow(ctx: &mut Ctx<'_>, f: FlowId) {
    let def = &ctx.flows[f as usize];
    let (file, name) = (def.file, &def.ast.name);
    let diag = Diag::new(
        Code::UnusedFlow,
        format!(
            "flow `{}` is never run from a node the start can reach",
            name.name
        ),
        name.span,
    )
    .label("never run")
    .help(format!(
        "call it with `run {}(...)` where it is needed, or remove the flow",
        name.name
    ));
    ctx.error(diag, file);
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
            Event::Run(f) if summaries.flow_calls[*f as usize] => Some(None),
            Event::Status { span, via } => Some(Some((*span, *via))),
            _ => None,
        });
        if let Some(Some((span, via))) = read {
            let help = if parent[node].is_none() {
                "no `call` comes before this in the start node; call an API before reading `status`"
                    .to_string()
            } else {
                format!(
                    "no `call` happens on the path {}; call an API before reading `status` on every path",
                    witness(ctx, &parent, node as NodeId)
                )
            };
            let name = &ctx.node_name(node);
            let message = match via {
                Some(api) => format!(
                    "API `{}` reads `status` in node `{name}` before any `call` has happened",
                    ctx.apis[api as usize].ast.name.name
                ),
                None => format!("`status` is read in node `{name}` before any `call` has happened"),
            };
            let diag = Diag::new(Code::StatusBeforeCall, message, span)
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
    let names: Vec<String> = path.iter().map(|&n| ctx.node_name(n as usize)).collect();
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
        for (a, b) in self.bits[n * self.words..(n + 1) * self.words]
            .iter_mut()
            .zip(other)
        {
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
            match e {
                Event::Set(a) => gens.insert(node, *a),
                Event::Run(f) => {
                    let row = summaries.flow_row(*f);
                    gens.union_row(node, row);
                }
                _ => {}
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
                Event::Run(f) => {
                    for (x, y) in set.iter_mut().zip(summaries.flow_row(*f)) {
                        *x |= y;
                    }
                }
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
    let node_name = &ctx.node_name(node);
    let message = match via {
        Some(api) => format!(
            "API `{}` reads `{name}` in node `{node_name}`, but no path from the start sets it first",
            ctx.apis[api as usize].ast.name.name
        ),
        None => format!("`{name}` is read in node `{node_name}`, but no path from the start sets it first"),
    };
    Diag::new(Code::UnsetAttribute, message, span)
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
    let mut names: Vec<String> = scc.iter().take(8).map(|&v| ctx.node_name(v)).collect();
    if scc.len() > 8 {
        names.push("...".into());
    }
    let (file, name) = (ctx.nodes[first].file, &ctx.nodes[first].ast.name);
    let message = if scc.len() == 1 {
        format!(
            "node `{}` leads back to itself with no `ask`: the flow would spin until the step limit",
            names[0]
        )
    } else {
        format!(
            "the nodes {} form a loop with no `ask`: the flow would spin until the step limit",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let diag = Diag::new(Code::LoopWithoutWait, message, name.span)
    .label("this loop never waits for the user")
    .help("put an `ask` (or a menu, form or other wait) somewhere on the loop, or leave it with a branch that can close the chat");
    ctx.error(diag, file);
}

#[cfg(test)]
mod tests {
    use crate::compile::compile_str;
    use crate::diagnostic::Code;
    use std::fmt::Write;

    fn codes(src: &str) -> Vec<Code> {
        compile_str("t.flow", src)
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect()
    }

    /// A 20,000-node cycle with no `ask`: one warning, no stack overflow, no blow-up.
    #[test]
    fn long_cycle_is_one_loop_warning() {
        let n = 20_000;
        let mut src = String::new();
        for i in 0..n {
            let _ = writeln!(src, "node n{i} {{ goto n{} }}", (i + 1) % n);
        }
        assert_eq!(codes(&src), [Code::LoopWithoutWait]);
    }

    /// Diamonds in sequence have exponentially many paths; the analyses stay linear.
    #[test]
    fn many_paths_stay_cheap() {
        let mut src =
            String::from("api a { get \"https://x.test/{v}\" }\nnode d0 { ask v; goto d1 }\n");
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
        assert_eq!(c, [Code::StatusBeforeCall]);
    }

    #[test]
    fn a_loop_with_an_ask_is_fine() {
        let src =
            "node a { ask x; goto b }\nnode b { if x == \"q\" -> c else -> a }\nnode c { close }\n";
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
        assert!(c.contains(&Code::StatusBeforeCall), "{c:?}");
        assert!(c.contains(&Code::UnreachableStatement), "{c:?}");
    }

    #[test]
    fn a_menu_waits_so_a_loop_through_it_is_fine() {
        let src = "node m { choose \"Again?\" { \"Yes\" -> a; \"No\" -> z } }\nnode a { goto m }\nnode z { close }\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
        // A menu of links only neither waits nor branches: the loop spins.
        let src = "node m { buttons \"FAQ\" { link \"FAQ\" \"https://x.test\" }; goto a }\nnode a { goto m }\n";
        assert_eq!(codes(src), [Code::LoopWithoutWait]);
    }

    #[test]
    fn menu_targets_are_successors() {
        let src = "node m { choose \"?\" { \"A\" -> a; postback \"B\" \"B\" -> b } }\nnode a { close }\nnode b { close }\nnode c { close }\n";
        assert_eq!(codes(src), [Code::UnreachableNode]);
    }

    #[test]
    fn a_transfer_has_no_successor() {
        let src = "node t { transfer agent \"a@x.test\" }\nnode after { close }\n";
        assert_eq!(codes(src), [Code::UnreachableNode]);
    }

    #[test]
    fn what_a_flow_sets_is_set_after_the_run() {
        let src = "flow f(p) { node a { if p == \"x\" -> b else -> b }\n node b { set out = p; return } }\nnode s { ask v; run f(v); say \"{out}\"; close }\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
        // Without the run, `out` is never set on the way to the say.
        let src = "flow f(p) { node a { set out = p; return } }\nnode s { ask v; say \"{out}\"; run f(v); close }\n";
        assert_eq!(codes(src), [Code::UnsetAttribute]);
    }

    #[test]
    fn a_flow_that_calls_sets_status() {
        let src = "api a { get \"https://x.test\" }\nflow f() { node c { call a; return } }\nnode s { run f(); say \"{status}\"; close }\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
    }

    #[test]
    fn flows_are_reachable_only_when_run() {
        let src = "flow f() { node a { return } }\nflow g() { node a { run f(); return } }\nnode s { close }\n";
        // `g` is never run, so neither is `f`: two unused flows, no unreachable nodes.
        assert_eq!(codes(src), [Code::UnusedFlow, Code::UnusedFlow]);
        let src = "flow f() { node a { return } }\nflow g() { node a { run f(); return } }\nnode s { run g(); close }\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
    }

    #[test]
    fn running_a_flow_that_waits_counts_as_waiting() {
        let src = "flow f() { node a { ask x; return } }\nnode s { run f(); goto s }\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
        let src = "flow f() { node a { say \"hi\"; return } }\nnode s { run f(); goto s }\n";
        assert_eq!(codes(src), [Code::LoopWithoutWait]);
    }

    #[test]
    fn dynamic_saves_and_form_fields_define_attributes() {
        let src = "api a { get \"https://x.test\"; save list = body.items }\nnode s { call a; choose \"?\" from list { label \"{item.n}\"; save pick = item.id; -> t; empty -> t } }\nnode t { form { field age as number \"Age\" }; say \"{pick} {age}\"; close }\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
    }

    #[test]
    fn appointment_saves_come_before_the_booking_call() {
        let src = "api slots { get \"https://x.test\" }\napi book { post \"https://x.test/{slot}\" }\nnode s { appointment { slots call slots from body.slots; save slot = item.id; book call book; booked -> d; failed -> d } }\nnode d { close }\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
    }
}

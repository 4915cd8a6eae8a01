//! Each node summarised once: the values it reads and sets, in order, and its successors;
//! then what each flow may do when run.

use super::*;

pub(super) fn summarise(ctx: &Ctx<'_>, n: usize, g: &mut Graph) {
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
                out.text(prompt.as_deref());
                out.set(attr);
                facts.asks = true;
            }
            StmtKind::Set { attr, value, .. } => {
                expr_reads(ctx, value, out.events);
                out.set(attr);
            }
            StmtKind::SetSys { value, .. } => expr_reads(ctx, value, out.events),
            StmtKind::Call(api) | StmtKind::Reply(api) => {
                out.call(api);
                facts.calls = true;
            }
            StmtKind::AskAi { ai, prompt, attr } => {
                out.text(Some(prompt));
                out.call(ai);
                out.set(attr);
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
                        out.dynamic(
                            (&d.list, &d.saves),
                            d.label.iter().flat_map(|t| t.templates()),
                        );
                    }
                }
                if let Some(save) = &m.save {
                    out.set(save);
                }
            }
            StmtKind::Carousel(carousel) => match &**carousel {
                ast::Carousel::Static { cards, save } => {
                    for card in cards {
                        out.text(Some(&card.title));
                        out.text(card.subtitle.as_ref());
                        out.template(card.image.as_ref());
                        out.options(&card.buttons);
                    }
                    if let Some(save) = save {
                        out.set(save);
                    }
                }
                ast::Carousel::Dynamic {
                    list, card, saves, ..
                } => {
                    let texts = [&card.title, &card.subtitle, &card.button];
                    let templates = texts
                        .into_iter()
                        .flatten()
                        .flat_map(|t| t.templates())
                        .chain(card.image.as_ref());
                    out.dynamic((list, saves), templates);
                }
            },
            StmtKind::Email(e) => {
                out.template(e.to.as_ref());
                out.text(e.subject.as_ref());
                out.text(e.body.as_ref());
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
                    out.text(Some(&field.label));
                }
                for field in &form.fields {
                    out.set(&field.attr);
                }
                facts.asks = true;
            }
            StmtKind::Media { url, caption, .. } => {
                out.template(Some(url));
                out.text(caption.as_deref());
            }
            StmtKind::Transfer { to, message, .. } => {
                out.template(Some(to));
                out.text(message.as_deref());
                // The conversation now waits for a human: no successor.
                facts.asks = true;
            }
            StmtKind::Appointment(a) => {
                if let Some((api, _)) = &a.slots {
                    out.call(api);
                }
                out.text(a.label.as_ref());
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
pub(super) struct Summary<'c, 'a, 'g> {
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
            self.text(Some(&o.label));
            if let ast::OptionKind::Link(url) = &o.kind {
                self.template(Some(url));
            }
        }
    }

    /// `from LIST { ...; save A = item.x; -> n; empty -> n }`: reads the list, sets the saves.
    fn dynamic<'t>(
        &mut self,
        (list, saves): (&ast::Ident, &[ast::ItemSave]),
        templates: impl IntoIterator<Item = &'t ast::Template>,
    ) {
        if let Some(&attr) = self.ctx.attr_ids.get(list.name.as_str()) {
            self.events.push(Event::Read {
                attr,
                span: list.span,
                via: None,
            });
        }
        for t in templates {
            self.template(Some(t));
        }
        for save in saves {
            self.set(&save.attr);
        }
    }
}

/// What each flow may do when run (including the flows it runs), then the same facts for
/// every node that runs a flow.
pub(super) fn flow_facts(ctx: &Ctx<'_>, g: &mut Graph) {
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
pub(super) fn call_events(ctx: &Ctx<'_>, api: u32, at: Span, events: &mut Vec<Event>) {
    let def = ctx.apis[api as usize].ast;
    for prop in &def.props {
        match prop {
            ApiProp::Request { url: t, .. }
            | ApiProp::Header { value: t, .. }
            | ApiProp::Url { url: t, .. }
            | ApiProp::Key { key: t, .. }
            | ApiProp::Body { body: t, .. } => template_reads(ctx, t, Some(api), Some(at), events),
            ApiProp::System { text, .. } => {
                for t in text.templates() {
                    template_reads(ctx, t, Some(api), Some(at), events);
                }
            }
            ApiProp::Json { body, .. } | ApiProp::Form { body, .. } => {
                json_reads(ctx, body, api, at, events)
            }
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

pub(super) fn json_reads(
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
        ast::JsonTemplate::Ref(e) => {
            if let ExprKind::Ref(r) = &e.kind {
                ref_read(ctx, r, Some(api), at, events);
            }
        }
        _ => {}
    }
}

/// `at` replaces the reference's own span when the template lives in another item (an API).
pub(super) fn template_reads(
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

pub(super) fn ref_read(
    ctx: &Ctx<'_>,
    r: &ast::Ref,
    via: Option<u32>,
    span: Span,
    events: &mut Vec<Event>,
) {
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
pub(super) fn expr_reads(ctx: &Ctx<'_>, e: &ast::Expr, events: &mut Vec<Event>) {
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::IsSet { .. } | ExprKind::Open(_) => {}
        ExprKind::Ref(r) => ref_read(ctx, r, None, r.span, events),
        ExprKind::Or(a, b) | ExprKind::And(a, b) => {
            expr_reads(ctx, a, events);
            expr_reads(ctx, b, events);
        }
        ExprKind::Cmp { lhs, rhs, .. }
        | ExprKind::Text { lhs, rhs, .. }
        | ExprKind::Arith { lhs, rhs, .. } => {
            expr_reads(ctx, lhs, events);
            expr_reads(ctx, rhs, events);
        }
        ExprKind::Call { args, .. } => {
            for a in args {
                expr_reads(ctx, a, events);
            }
        }
        ExprKind::Template(t) => template_reads(ctx, t, None, None, events),
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

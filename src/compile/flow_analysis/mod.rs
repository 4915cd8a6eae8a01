//! Flow-graph analyses over nodes: reachability, `status` before any `call`, attributes read
//! where no path has set them, and loops that never wait for the user.
//!
//! Each node is first summarised once (the values it reads and sets, in order, and its
//! successors); the analyses are then worklist passes over the summaries, linear in the
//! size of the flow for the boolean ones and bounded by nodes × attribute words for the
//! attribute one.

use std::collections::VecDeque;

use crate::compile::exits::exits;
use crate::compile::resolve::Ctx;
use crate::diagnostic::{Code, Diag};
use crate::ir::{AttrId, FlowId, NodeId};
use crate::syntax::ast::{self, ApiProp, ExprKind, RefKind, Span, StmtKind};

mod loops;
mod reach;
mod status;
mod summary;
mod unset;

use loops::*;
use reach::*;
use status::*;
use summary::*;
use unset::*;

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
    // Free text that arrives while the conversation waits may jump to a bot intent rule's or
    // an FAQ entry's node: those nodes are entered from any wait, like a second start.
    let mut roots = vec![start];
    roots.extend(free_text_targets(ctx));
    let reachable = reachable(summaries, &roots);
    report_unreachable(ctx, &reachable, start);
    status_before_call(ctx, summaries, &reachable, &roots);
    unset_attributes(ctx, summaries, &reachable, &roots);
    loops_without_wait(ctx, summaries, &reachable);
}

/// The nodes free text may jump to from wherever the conversation waits: the bot's
/// `intent NAME -> NODE` rules and the FAQ entries answered with `-> NODE`.
fn free_text_targets(ctx: &Ctx<'_>) -> Vec<NodeId> {
    let routes = ctx
        .bot
        .into_iter()
        .flat_map(|(_, b)| &b.settings)
        .filter_map(|s| match s {
            ast::BotSetting::Route { target, .. } => Some(target),
            _ => None,
        });
    let faqs = ctx
        .files
        .iter()
        .flat_map(|f| &f.items)
        .filter_map(|i| match i {
            ast::Item::Faq(faq) => match &faq.answer {
                ast::FaqAnswer::Goto(target) => Some(target),
                ast::FaqAnswer::Say(_) => None,
            },
            _ => None,
        });
    routes
        .chain(faqs)
        .filter_map(|t| ctx.target_id(None, t))
        .collect()
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

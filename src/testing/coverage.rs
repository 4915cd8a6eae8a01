//! `chatflow test --coverage`: which nodes no test entered, which branch arms no test took,
//! and which outcome classes of each `call` no test saw.
//!
//! The targets come from the IR ([`targets`]); what the tests reached comes from the trace
//! events the runner records (`NodeEntered`, `Returned`, `Condition`, `ApiCall`).
//!
//! Where statements lead comes from [`crate::ir::exits`], the same walk `chatflow graph` draws.
//! `if` arms are counted from `Condition` events; the other exits (menus, carousels, `otp`,
//! `appointment`, `run`) count as taken when a test entered the target right after the node.
//! [`statement_targets`] adds what only coverage counts: the outcome classes of each API call a
//! statement makes (`call`, an `otp` that sends through an API, an `appointment`'s slots and
//! booking calls).

use std::collections::HashSet;

use crate::ir::{show_arm, ApiId, Exit, OtpSend, Program, SourceSpan, Stmt};
use crate::runtime::Event;
use crate::source::SourceSet;

use super::TestOutcome;

/// What a `call` can end with, as counted by coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A 2xx answer.
    Success,
    /// A 4xx answer.
    ClientError,
    /// A 5xx answer.
    ServerError,
    /// A timeout or a connection failure.
    NoResponse,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::ClientError,
        Outcome::ServerError,
        Outcome::NoResponse,
    ];

    /// The class of an HTTP status; 1xx and 3xx answers are in no class.
    pub fn of_status(status: u16) -> Option<Outcome> {
        match status {
            0 => Some(Outcome::NoResponse),
            200..=299 => Some(Outcome::Success),
            400..=499 => Some(Outcome::ClientError),
            500..=599 => Some(Outcome::ServerError),
            _ => None,
        }
    }

    /// How reports show the outcome (`2xx`, `no response`).
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "2xx",
            Outcome::ClientError => "4xx",
            Outcome::ServerError => "5xx",
            Outcome::NoResponse => "no response",
        }
    }
}

/// One thing a test may reach.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// The node was entered.
    Node {
        /// The node's name.
        node: String,
    },
    /// Arm `arm` of the branch in `node` (`arm == arms.len()` is `else`); `label` is the arm as
    /// written: `elif status == 200 -> report`.
    Arm {
        /// The node of the branch.
        node: String,
        /// Arm index.
        arm: usize,
        /// The arm as written.
        label: String,
    },
    /// One outcome class of `call api` in `node`.
    Call {
        /// The node of the `call`.
        node: String,
        /// The API called.
        api: String,
        /// The outcome class.
        outcome: Outcome,
    },
    /// An intent or FAQ entry (`faq#N`) of the matcher: reached when a test's visitor message
    /// matched it.
    Intent {
        /// The class's name.
        name: String,
    },
    /// A labelled edge of a menu, carousel, `otp`, `appointment` or `run`: taken when a test
    /// entered `to` right after `node`; `label` is the edge as shown: `"Yes" -> confirm`.
    Edge {
        /// The node the edge leaves.
        node: String,
        /// The node it enters.
        to: String,
        /// The edge as shown.
        label: String,
    },
}

/// Targets with where they are and whether a test reached them.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// Every target of the program, in program order.
    pub entries: Vec<Entry>,
}

/// A target, where it is, and whether a test reached it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What could be reached.
    pub target: Target,
    /// Where it is in the source.
    pub span: SourceSpan,
    /// Whether a test reached it.
    pub reached: bool,
}

/// Measures what the outcomes' events reached of `program`.
pub fn measure(program: &Program, outcomes: &[TestOutcome]) -> Coverage {
    let mut reached = Reached::default();
    for outcome in outcomes {
        reached.observe_test(&outcome.events);
        for name in &outcome.intents {
            reached.seen.insert(Target::Intent { name: name.clone() });
        }
    }
    let entries = targets(program)
        .into_iter()
        .map(|(target, span)| Entry {
            reached: reached.has(&target),
            target,
            span,
        })
        .collect();
    Coverage { entries }
}

/// Every target of the program, in node order, with its source span.
pub fn targets(program: &Program) -> Vec<(Target, SourceSpan)> {
    let mut out = Vec::new();
    for (id, node) in program.nodes.iter().enumerate() {
        let spans = program.source_map.nodes.get(id);
        let node_span = spans.map(|s| s.node).unwrap_or_default();
        out.push((
            Target::Node {
                node: node.name.clone(),
            },
            node_span,
        ));
        for (i, stmt) in node.stmts.iter().enumerate() {
            let span = spans
                .and_then(|s| s.stmts.get(i))
                .copied()
                .unwrap_or(node_span);
            out.extend(statement_targets(program, &node.name, stmt, span));
        }
    }
    let classes = program.understanding.iter().flat_map(|u| &u.classes);
    out.extend(classes.map(|c| {
        let target = Target::Intent {
            name: c.name.clone(),
        };
        (target, SourceSpan::default())
    }));
    out
}

/// What one statement can reach: the outcome classes of the API calls it makes, and its
/// exits. Adding a statement that calls an API adds one arm to [`apis_called`].
fn statement_targets(
    program: &Program,
    node: &str,
    stmt: &Stmt,
    span: SourceSpan,
) -> Vec<(Target, SourceSpan)> {
    let mut out: Vec<(Target, SourceSpan)> = apis_called(stmt)
        .into_iter()
        .flat_map(|api| call_targets(program, node, api, span))
        .collect();
    if !matches!(stmt, Stmt::Call(_) | Stmt::Reply(_) | Stmt::AskAi { .. }) {
        out.extend(exit_targets(program, node, stmt, span));
    }
    out
}

/// The APIs a statement calls.
fn apis_called(stmt: &Stmt) -> Vec<ApiId> {
    match stmt {
        Stmt::Call(api) | Stmt::Reply(api) | Stmt::AskAi { api, .. } => vec![*api],
        Stmt::Otp(otp) => match otp.send {
            OtpSend::Call(api) => vec![api],
            OtpSend::Email(_) => Vec::new(),
        },
        Stmt::Appointment(a) if a.slots_api == a.book_api => vec![a.slots_api],
        Stmt::Appointment(a) => vec![a.slots_api, a.book_api],
        _ => Vec::new(),
    }
}

/// The outcome classes of one API called in `node`.
fn call_targets(
    program: &Program,
    node: &str,
    api: ApiId,
    span: SourceSpan,
) -> Vec<(Target, SourceSpan)> {
    let api = program
        .apis
        .get(api as usize)
        .map_or("?", |a| a.name.as_str());
    Outcome::ALL
        .iter()
        .map(|&outcome| {
            let target = Target::Call {
                node: node.to_string(),
                api: api.to_string(),
                outcome,
            };
            (target, span)
        })
        .collect()
}

/// The labelled exits of a statement: `if` arms, menu options, `otp` and `appointment` arms.
fn exit_targets(
    program: &Program,
    node: &str,
    stmt: &Stmt,
    span: SourceSpan,
) -> Vec<(Target, SourceSpan)> {
    let name_of = |id: u32| {
        program
            .nodes
            .get(id as usize)
            .map_or("?", |n| n.name.as_str())
            .to_string()
    };
    crate::ir::exits(program, stmt)
        .to
        .into_iter()
        .filter_map(|(to, exit)| {
            let target = match exit {
                Exit::Goto => return None,
                // `if` arms are counted from `Condition` events, by index.
                Exit::Arm(table, arm) => Target::Arm {
                    node: node.to_string(),
                    arm,
                    label: format!("{} -> {}", show_arm(program, table, arm), name_of(to)),
                },
                other => {
                    let to = name_of(to);
                    Target::Edge {
                        node: node.to_string(),
                        label: format!("{} -> {to}", other.label(program)?),
                        to,
                    }
                }
            };
            Some((target, span))
        })
        .collect()
}

/// What the tests reached: nodes and call outcomes as [`Target`]s; arms by `(node, arm)`,
/// since events do not carry the arm's text.
#[derive(Default)]
struct Reached {
    seen: HashSet<Target>,
    /// Arms taken, as `(node, arm)`; labels are not in the events.
    arms: HashSet<(String, usize)>,
    /// Nodes entered one right after the other, as `(from, to)`.
    moves: HashSet<(String, String)>,
}

impl Reached {
    fn has(&self, target: &Target) -> bool {
        match target {
            Target::Arm { node, arm, .. } => self.arms.contains(&(node.clone(), *arm)),
            Target::Edge { node, to, .. } => self.moves.contains(&(node.clone(), to.clone())),
            other => self.seen.contains(other),
        }
    }

    fn observe_test(&mut self, events: &[Event]) {
        // An API call belongs to the node entered last.
        let mut current = String::new();
        for event in events {
            self.observe(event, &mut current);
        }
    }

    fn observe(&mut self, event: &Event, current: &mut String) {
        match event {
            Event::NodeEntered { node } => {
                self.moves.insert((current.clone(), node.clone()));
                current.clone_from(node);
                self.seen.insert(Target::Node { node: node.clone() });
            }
            // Back in the caller after a sub-flow: later calls and moves are the caller's,
            // but the caller was not entered again.
            Event::Returned { node } => current.clone_from(node),
            Event::Condition {
                node,
                arm,
                result: true,
                ..
            } => {
                self.arms.insert((node.clone(), *arm));
            }
            Event::ApiCall { api, status, .. } => {
                if let Some(outcome) = Outcome::of_status(*status) {
                    self.seen.insert(Target::Call {
                        node: current.clone(),
                        api: api.clone(),
                        outcome,
                    });
                }
            }
            _ => {}
        }
    }
}

impl Coverage {
    /// `(reached, total)` of the targets `is_kind` selects.
    fn count(&self, is_kind: impl Fn(&Target) -> bool) -> (usize, usize) {
        let of_kind: Vec<&Entry> = self.entries.iter().filter(|e| is_kind(&e.target)).collect();
        (of_kind.iter().filter(|e| e.reached).count(), of_kind.len())
    }

    /// Nodes reached, of all nodes.
    pub fn nodes(&self) -> (usize, usize) {
        self.count(|t| matches!(t, Target::Node { .. }))
    }

    /// `if` arms and the labelled edges of other branching statements.
    pub fn branches(&self) -> (usize, usize) {
        self.count(|t| matches!(t, Target::Arm { .. } | Target::Edge { .. }))
    }

    /// API outcome classes reached, of all.
    pub fn api_outcomes(&self) -> (usize, usize) {
        self.count(|t| matches!(t, Target::Call { .. }))
    }

    /// Intents and FAQ entries matched, of all.
    pub fn intents(&self) -> (usize, usize) {
        self.count(|t| matches!(t, Target::Intent { .. }))
    }

    /// The targets no test reached.
    pub fn missed(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.reached)
    }

    /// `coverage of FILE: 6/7 nodes, 5/6 branches, 3/4 API outcomes`, then one line per node not
    /// reached, per arm not taken and per `call` with outcome classes never seen, each with
    /// its `file:line`.
    pub fn render(&self, root: &str, program: &Program, sources: &SourceSet) -> String {
        let (n, nt) = self.nodes();
        let (b, bt) = self.branches();
        let (a, at) = self.api_outcomes();
        let (i, it) = self.intents();
        let intents = if it > 0 {
            format!(", {i}/{it} intents and FAQ entries")
        } else {
            String::new()
        };
        let mut out = format!(
            "coverage of {root}: {n}/{nt} nodes, {b}/{bt} branches, {a}/{at} API outcomes{intents}\n"
        );
        let mut calls_done: HashSet<(String, String)> = HashSet::new();
        for entry in self.missed() {
            if let Target::Intent { name } = &entry.target {
                let what = if name.starts_with("faq#") {
                    "FAQ entry"
                } else {
                    "intent"
                };
                out.push_str(&format!("  never matched: {what} {name}\n"));
                continue;
            }
            let place = location(program, sources, entry.span, &entry.target);
            match &entry.target {
                Target::Node { node } => {
                    out.push_str(&format!("  not reached: node {node} ({place})\n"))
                }
                Target::Intent { .. } => {}
                Target::Arm { node, label, .. } | Target::Edge { node, label, .. } => {
                    out.push_str(&format!("  not taken: {label} in node {node} ({place})\n"))
                }
                Target::Call { node, api, .. } => {
                    if !calls_done.insert((node.clone(), api.clone())) {
                        continue;
                    }
                    let missing: Vec<&str> = self
                        .missed()
                        .filter_map(|e| match &e.target {
                            Target::Call {
                                node: n,
                                api: a,
                                outcome,
                            } if n == node && a == api => Some(outcome.label()),
                            _ => None,
                        })
                        .collect();
                    out.push_str(&format!(
                        "  never seen: call {api} in node {node} answered {} ({place})\n",
                        missing.join(", ")
                    ));
                }
            }
        }
        out
    }
}

/// `examples/weather.flow:40`; an arm after the first points at its own `elif`/`else` line.
fn location(program: &Program, sources: &SourceSet, span: SourceSpan, target: &Target) -> String {
    let name = program.source_map.files.get(span.file as usize);
    let file = name
        .and_then(|n| sources.files.iter().find(|f| &f.name == n))
        .or_else(|| sources.get(span.file));
    let Some(file) = file else {
        return name
            .cloned()
            .unwrap_or_else(|| "<unknown file>".to_string());
    };
    let mut at = span.start as usize;
    if let Target::Arm { arm, .. } = target {
        let stmt = file
            .text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("");
        if let Some(offset) = arm_offsets(stmt)
            .get(arm.saturating_sub(1))
            .filter(|_| *arm > 0)
        {
            at += offset;
        }
    }
    let (line, _) = file.line_col(at);
    format!("{}:{line}", file.name)
}

/// Offsets of the `elif` and `else` keywords in a branch statement's text (strings skipped).
fn arm_offsets(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut offsets = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'e' if (i == 0 || !is_word(bytes[i - 1]))
                && (bytes[i..].starts_with(b"elif") || bytes[i..].starts_with(b"else"))
                && !bytes.get(i + 4).is_some_and(|&b| is_word(b)) =>
            {
                offsets.push(i);
                i += 4;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    offsets
}

//! Sessions stored by name, so a conversation survives an edited flow.
//!
//! A runtime [`Session`] points into one compiled program by index (node ids, attribute ids,
//! statement numbers). Flows are edited and redeployed while conversations are open, and the
//! indices move. So `serve` stores a [`StoredSession`]: the node by name, attributes by name,
//! and each resume point as an [`Anchor`] — the node's name plus the statement the session
//! waits at, described by what it is (`ask email email`, `menu`, `run checkout`, ...) and
//! which occurrence of that description in the node it is.
//!
//! Restoring against the current program:
//! - attributes are matched by name; names the flow no longer has are dropped, new ones start
//!   unset;
//! - an anchor resumes at the same node by name, at the statement with the same description
//!   and occurrence (or else the first with that description);
//! - when the node is gone, or it no longer has that statement, the conversation cannot be
//!   resumed where it was: it goes back to the start node as a new conversation (attributes
//!   kept) and the turn begins with a `say` that tells the visitor so ([`RESTARTED`]).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::ir::{NodeId, Program, Stmt, Value};
use crate::runtime::{Said, Session, SessionState, Wait};

/// What the visitor is told when the flow changed under their conversation.
pub const RESTARTED: &str =
    "This bot has changed since your last message, so the conversation starts over.";

/// A session in flow-independent form (what the store keeps as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    /// Where the conversation is or waits.
    pub at: Anchor,
    /// Attribute values by name; unset ones are absent.
    pub attrs: BTreeMap<String, Value>,
    /// HTTP status of the last call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// System attributes by name.
    pub sys: HashMap<String, Value>,
    /// Where the conversation is in its life.
    pub state: SessionState,
    /// What the waiting statement keeps between turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Wait>,
    /// Return points of the sub-flows being run, innermost last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Anchor>,
    /// How many times each goal was reached.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub goals: BTreeMap<String, u32>,
    /// A fixed clock (RFC 3339), when one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_now: Option<String>,
    /// The recent conversation a program with an `ai` keeps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<Said>,
}

/// A place in a node: before statement `pc`, where the statement before it is described by
/// `after` (its `occurrence`-th statement with that description in the node).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    /// The node's name.
    pub node: String,
    /// Index of the next statement.
    pub pc: u32,
    /// Description of the statement before `pc`, to find the place again if the flow changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Which statement with that description it is (0-based).
    #[serde(default)]
    pub occurrence: u32,
}

/// The stored form of `s`, which runs on `program`.
pub fn store(program: &Program, s: &Session) -> StoredSession {
    let attrs = s
        .attrs
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((program.attrs.get(i)?.name.clone(), v.clone()?)))
        .collect();
    StoredSession {
        at: anchor(program, s.node, s.pc),
        attrs,
        status: s.status,
        sys: s.sys.clone(),
        state: s.state.clone(),
        wait: s.wait.clone(),
        calls: s
            .calls
            .iter()
            .map(|&(node, pc)| anchor(program, node, pc))
            .collect(),
        goals: s.goals.clone(),
        fixed_now: s.fixed_now.clone(),
        transcript: s.transcript.clone(),
    }
}

/// The node a stored session is at, by name.
pub fn node_name(program: &Program, s: &Session) -> String {
    program
        .nodes
        .get(s.node as usize)
        .map(|n| n.name.clone())
        .unwrap_or_default()
}

/// Restores `stored` onto `fresh` (a new session of `program`). `Err` carries the session
/// put back to the start, when the place it was at no longer exists.
pub fn restore(
    program: &Program,
    stored: StoredSession,
    mut fresh: Session,
) -> Result<Session, Box<Session>> {
    for (i, info) in program.attrs.iter().enumerate() {
        fresh.attrs[i] = stored.attrs.get(&info.name).cloned();
    }
    fresh.status = stored.status;
    fresh.sys = stored.sys;
    fresh.goals = stored.goals;
    fresh.fixed_now = stored.fixed_now;
    fresh.transcript = stored.transcript;
    let placed = find(program, &stored.at).and_then(|(node, pc)| {
        let calls = stored
            .calls
            .iter()
            .map(|a| find(program, a))
            .collect::<Option<Vec<_>>>()?;
        Some((node, pc, calls))
    });
    match placed {
        Some((node, pc, calls)) => {
            fresh.node = node;
            fresh.pc = pc;
            fresh.calls = calls;
            fresh.state = stored.state;
            fresh.wait = stored.wait;
            Ok(fresh)
        }
        // A closed or transferred chat has nowhere to resume; only a live one starts over.
        None if matches!(
            stored.state,
            SessionState::Closed | SessionState::Transferred
        ) =>
        {
            fresh.state = stored.state;
            Ok(fresh)
        }
        None => Err(Box::new(fresh)),
    }
}

fn anchor(program: &Program, node: NodeId, pc: u32) -> Anchor {
    let Some(n) = program.nodes.get(node as usize) else {
        return Anchor {
            node: String::new(),
            pc,
            after: None,
            occurrence: 0,
        };
    };
    let before = pc.checked_sub(1).and_then(|i| n.stmts.get(i as usize));
    let after = before.map(|stmt| describe(program, stmt));
    let occurrence = match &after {
        Some(d) => n.stmts[..pc as usize - 1]
            .iter()
            .filter(|s| &describe(program, s) == d)
            .count() as u32,
        None => 0,
    };
    Anchor {
        node: n.name.clone(),
        pc,
        after,
        occurrence,
    }
}

/// The node id and statement index of `a` in `program`, if it is still there.
fn find(program: &Program, a: &Anchor) -> Option<(NodeId, u32)> {
    let id = program.nodes.iter().position(|n| n.name == a.node)?;
    let node = &program.nodes[id];
    let Some(after) = &a.after else {
        return (a.pc as usize <= node.stmts.len()).then_some((id as NodeId, a.pc));
    };
    let matching: Vec<usize> = node
        .stmts
        .iter()
        .enumerate()
        .filter(|(_, s)| &describe(program, s) == after)
        .map(|(i, _)| i)
        .collect();
    let index = matching
        .get(a.occurrence as usize)
        .or_else(|| matching.first())?;
    Some((id as NodeId, *index as u32 + 1))
}

/// What a statement is, in words that survive recompiling: kinds and names, no indices.
fn describe(program: &Program, stmt: &Stmt) -> String {
    let attr = |id: u32| {
        program
            .attrs
            .get(id as usize)
            .map_or("?", |a| a.name.as_str())
    };
    match stmt {
        Stmt::Ask { attr: a, kind, .. } => format!("ask {} {kind:?}", attr(*a)),
        Stmt::Menu(m) => format!("menu {}", m.save.map_or("", attr)),
        Stmt::Carousel(_) => "carousel".into(),
        Stmt::Otp(_) => "otp".into(),
        Stmt::Form(f) => {
            let fields: Vec<&str> = f.fields.iter().map(|f| attr(f.attr)).collect();
            format!("form {}", fields.join(","))
        }
        Stmt::Appointment(_) => "appointment".into(),
        Stmt::Run { flow, .. } => {
            let name = program
                .flows
                .get(*flow as usize)
                .map_or("?", |f| f.name.as_str());
            format!("run {name}")
        }
        Stmt::Say(_) => "say".into(),
        Stmt::Set { attr: a, .. } => format!("set {}", attr(*a)),
        Stmt::Call(api) => {
            let name = program
                .apis
                .get(*api as usize)
                .map_or("?", |a| a.name.as_str());
            format!("call {name}")
        }
        Stmt::Reply(api) | Stmt::AskAi { api, .. } => {
            let name = program
                .apis
                .get(*api as usize)
                .map_or("?", |a| a.name.as_str());
            format!("ai {name}")
        }
        Stmt::Branch(_) => "branch".into(),
        Stmt::Goto(_) => "goto".into(),
        Stmt::Close => "close".into(),
        Stmt::SetLanguage(_) => "set sys.language".into(),
        Stmt::Email(_) => "email".into(),
        Stmt::Media { .. } => "media".into(),
        Stmt::Transfer { .. } => "transfer".into(),
        Stmt::Goal(name) => format!("goal {name}"),
        Stmt::Return => "return".into(),
    }
}

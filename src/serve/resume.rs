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
use std::fmt;

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

/// A [`StoredSession`] borrowed from a live session, to be written as JSON without
/// cloning the session's maps: the same fields in the same order with the same `serde`
/// attributes, so it reads back as a [`StoredSession`] (a test checks).
#[derive(Debug, Serialize)]
pub struct StoredSessionRef<'a> {
    at: AnchorRef<'a>,
    attrs: BTreeMap<&'a str, &'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    sys: &'a HashMap<String, Value>,
    state: &'a SessionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    wait: Option<&'a Wait>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    calls: Vec<AnchorRef<'a>>,
    #[serde(skip_serializing_if = "no_goals")]
    goals: &'a BTreeMap<String, u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixed_now: Option<&'a str>,
    #[serde(skip_serializing_if = "no_lines")]
    transcript: &'a [Said],
}

/// An [`Anchor`] with the node's name borrowed from the program.
#[derive(Debug, Serialize)]
struct AnchorRef<'a> {
    node: &'a str,
    pc: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    occurrence: u32,
}

fn no_goals(goals: &&BTreeMap<String, u32>) -> bool {
    goals.is_empty()
}

fn no_lines(lines: &&[Said]) -> bool {
    lines.is_empty()
}

/// The stored form of `s`, which runs on `program`, to be written as JSON.
pub fn store<'a>(program: &'a Program, s: &'a Session) -> StoredSessionRef<'a> {
    let attrs = s
        .attrs
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((program.attrs.get(i)?.name.as_str(), v.as_ref()?)))
        .collect();
    StoredSessionRef {
        at: anchor(program, s.node, s.pc),
        attrs,
        status: s.status,
        sys: &s.sys,
        state: &s.state,
        wait: s.wait.as_ref(),
        calls: s
            .calls
            .iter()
            .map(|&(node, pc)| anchor(program, node, pc))
            .collect(),
        goals: &s.goals,
        fixed_now: s.fixed_now.as_deref(),
        transcript: &s.transcript,
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

/// Restores `stored` onto `fresh` (a session of `program` at its start, e.g.
/// [`Session::at_start`]). `Err` carries the session put back to the start, when the place
/// it was at no longer exists.
pub fn restore(
    program: &Program,
    stored: StoredSession,
    mut fresh: Session,
) -> Result<Session, Box<Session>> {
    let mut attrs = stored.attrs;
    for (i, info) in program.attrs.iter().enumerate() {
        // Attribute names are unique in a program, so each value is taken once.
        fresh.attrs[i] = attrs.remove(&info.name);
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

fn anchor(program: &Program, node: NodeId, pc: u32) -> AnchorRef<'_> {
    let Some(n) = program.nodes.get(node as usize) else {
        return AnchorRef {
            node: "",
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
            .filter(|s| describes(program, s, d))
            .count() as u32,
        None => 0,
    };
    AnchorRef {
        node: &n.name,
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
    let mut matching = node
        .stmts
        .iter()
        .enumerate()
        .filter(|(_, s)| describes(program, s, after))
        .map(|(i, _)| i);
    let first = matching.next()?;
    let index = match a.occurrence {
        0 => first,
        n => matching.nth(n as usize - 1).unwrap_or(first),
    };
    Some((id as NodeId, index as u32 + 1))
}

/// Whether `stmt`'s description is `wanted`, compared as it is written: anchors are made and
/// found on every turn, and this makes no `String` per statement.
fn describes(program: &Program, stmt: &Stmt, wanted: &str) -> bool {
    let mut same = SameAs { rest: wanted };
    describe_into(&mut same, program, stmt).is_ok() && same.rest.is_empty()
}

/// A writer that fails as soon as what is written differs from the text it started with.
struct SameAs<'a> {
    rest: &'a str,
}

impl fmt::Write for SameAs<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.rest = self.rest.strip_prefix(s).ok_or(fmt::Error)?;
        Ok(())
    }
}

/// What a statement is, in words that survive recompiling: kinds and names, no indices.
fn describe(program: &Program, stmt: &Stmt) -> String {
    // Room for most descriptions, so writing one piece by piece does not grow it.
    let mut out = String::with_capacity(32);
    // Writing to a String cannot fail.
    let _ = describe_into(&mut out, program, stmt);
    out
}

/// [`describe`], written to `out`.
fn describe_into(out: &mut impl fmt::Write, program: &Program, stmt: &Stmt) -> fmt::Result {
    let attr = |id: u32| {
        program
            .attrs
            .get(id as usize)
            .map_or("?", |a| a.name.as_str())
    };
    let api = |id: u32| {
        program
            .apis
            .get(id as usize)
            .map_or("?", |a| a.name.as_str())
    };
    match stmt {
        Stmt::Ask { attr: a, kind, .. } => write!(out, "ask {} {kind:?}", attr(*a)),
        Stmt::Menu(m) => write!(out, "menu {}", m.save.map_or("", attr)),
        Stmt::Carousel(_) => out.write_str("carousel"),
        Stmt::Otp(_) => out.write_str("otp"),
        Stmt::Form(f) => {
            out.write_str("form ")?;
            for (i, field) in f.fields.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                out.write_str(attr(field.attr))?;
            }
            Ok(())
        }
        Stmt::Appointment(_) => out.write_str("appointment"),
        Stmt::Run { flow, .. } => {
            let name = program
                .flows
                .get(*flow as usize)
                .map_or("?", |f| f.name.as_str());
            write!(out, "run {name}")
        }
        Stmt::Say(_) => out.write_str("say"),
        Stmt::Set { attr: a, .. } => write!(out, "set {}", attr(*a)),
        Stmt::Call(id) => write!(out, "call {}", api(*id)),
        Stmt::Reply(id) | Stmt::AskAi { api: id, .. } => write!(out, "ai {}", api(*id)),
        Stmt::Branch(_) => out.write_str("branch"),
        Stmt::Goto(_) => out.write_str("goto"),
        Stmt::Close => out.write_str("close"),
        Stmt::SetLanguage(_) => out.write_str("set sys.language"),
        Stmt::Email(_) => out.write_str("email"),
        Stmt::Media { .. } => out.write_str("media"),
        Stmt::Transfer { .. } => out.write_str("transfer"),
        Stmt::Goal(name) => write!(out, "goal {name}"),
        Stmt::Return => out.write_str("return"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::compile::compile_str;
    use crate::ir::Number;
    use crate::runtime::{Engine, EngineConfig, Speaker};

    const FLOW: &str = r#"
bot "T" { start main }

flow details(reason) {
  node ask_details {
    say "For {reason}"
    ask name as name "Name?"
    ask email as email "Email?"
  }
}

node main {
  say "Hi"
  say "Again"
  run details("help")
  ask age as number "Age?"
}
"#;

    fn engine() -> Engine {
        let compiled = compile_str("t.flow", FLOW);
        assert!(
            compiled.diagnostics.is_empty(),
            "{:?}",
            compiled.diagnostics
        );
        let program = compiled.program.unwrap();
        Engine::new(Arc::new(program), EngineConfig::default()).unwrap()
    }

    fn node(program: &Program, name: &str) -> NodeId {
        program.nodes.iter().position(|n| n.name == name).unwrap() as NodeId
    }

    fn attr(program: &Program, name: &str) -> usize {
        program.attrs.iter().position(|a| a.name == name).unwrap()
    }

    /// A session in the sub-flow, waiting at its second `ask`, with every stored field set.
    fn busy_session(engine: &Engine) -> Session {
        let program = engine.program();
        let mut s = engine.new_session();
        s.sys.retain(|k, _| k == "channel");
        s.node = node(program, "details.ask_details");
        s.pc = 3;
        // After the second `say` (occurrence 1), and after the `run`.
        s.calls = vec![(node(program, "main"), 2), (node(program, "main"), 3)];
        s.attrs[attr(program, "name")] = Some(Value::Text("Ann \"A\"".into()));
        s.attrs[attr(program, "reason")] = Some(Value::Number(Number::Int(7)));
        s.status = Some(404);
        s.state = SessionState::Waiting;
        s.wait = Some(Wait::Form {
            missing: vec![1, 2],
        });
        s.goals.insert("signup".into(), 2);
        s.fixed_now = Some("2026-01-02T03:04:05Z".into());
        s.transcript = vec![Said {
            by: Speaker::Visitor,
            text: "hi".into(),
        }];
        s
    }

    #[test]
    fn a_stored_session_reads_back_as_written_and_restores_the_same_session() {
        let engine = engine();
        let program = engine.program();
        let mut quiet = engine.new_session();
        quiet.sys.retain(|k, _| k == "channel");
        for session in [busy_session(&engine), quiet] {
            let json = serde_json::to_string(&store(program, &session)).unwrap();
            let stored: StoredSession = serde_json::from_str(&json).unwrap();
            // The owned form writes the same text: same fields, order and omissions.
            assert_eq!(serde_json::to_string(&stored).unwrap(), json);
            let restored = restore(program, stored, engine.new_session()).unwrap();
            assert_eq!(restored, session, "{json}");
        }
    }

    #[test]
    fn a_blank_session_is_a_new_one_without_system_attributes() {
        let engine = engine();
        let mut new = engine.new_session();
        new.sys.clear();
        assert_eq!(Session::at_start(engine.program()), new);
    }

    #[test]
    fn a_description_matches_only_itself_whole() {
        let engine = engine();
        let program = engine.program();
        for node in &program.nodes {
            for stmt in &node.stmts {
                let d = describe(program, stmt);
                assert!(describes(program, stmt, &d), "{d}");
                assert!(!describes(program, stmt, &format!("{d}x")), "{d}");
                assert!(!describes(program, stmt, &d[..d.len() - 1]), "{d}");
                assert!(!describes(program, stmt, ""), "{d}");
            }
        }
    }

    #[test]
    fn a_row_stored_by_an_earlier_version_restores() {
        let engine = engine();
        let program = engine.program();
        let row = r#"{"at":{"node":"details.ask_details","pc":3,"after":"ask email Email","occurrence":0},"attrs":{"gone":1,"name":"Ann"},"sys":{"channel":"web"},"state":"waiting","calls":[{"node":"main","pc":9,"after":"say","occurrence":5},{"node":"main","pc":3,"after":"run details","occurrence":0}],"goals":{"signup":1}}"#;
        let stored: StoredSession = serde_json::from_str(row).unwrap();
        let s = restore(program, stored, engine.new_session()).unwrap();
        assert_eq!(
            (s.node, s.pc, s.calls.clone()),
            (
                node(program, "details.ask_details"),
                3,
                // No sixth `say`: the first one.
                vec![(node(program, "main"), 1), (node(program, "main"), 3)]
            )
        );
        assert_eq!(
            s.attrs[attr(program, "name")],
            Some(Value::Text("Ann".into()))
        );
        assert_eq!(s.attrs[attr(program, "age")], None);
        assert_eq!(s.goals.get("signup"), Some(&1));
        assert_eq!(s.state, SessionState::Waiting);
    }
}

//! `chatflow graph`: the flow as a graph, built from the IR, written as Mermaid or Graphviz dot.
//!
//! One vertex per node (labelled with the APIs it calls and `close` when the chat ends there),
//! one edge per `goto` and per branch arm, each arm labelled with its condition as source text
//! (rendered by [`crate::ir::show_expr`], the same text `chatflow run --trace` prints).
//!
//! Where a statement leads is [`ir::exits`]; [`notes`] says what it shows on its vertex.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::ir::{self, quote, show_template, OtpSend, Program, Stmt};

/// The text format `chatflow graph` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A Mermaid `flowchart` (renders on GitHub).
    Mermaid,
    /// Graphviz dot.
    Dot,
}

/// The graph of a program, independent of the output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// The bot's name.
    pub title: String,
    /// Name of the entry node.
    pub start: String,
    /// One vertex per node, in program order.
    pub vertices: Vec<Vertex>,
    /// Transitions between nodes, in statement order.
    pub edges: Vec<Edge>,
}

/// A node of the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vertex {
    /// The node's name.
    pub name: String,
    /// Lines under the name: `call weather`, `close`.
    pub notes: Vec<String>,
    /// The chat closes in this node (by `close` or by running out of statements).
    pub closes: bool,
}

/// A transition from one node to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Name of the node it leaves.
    pub from: String,
    /// Name of the node it enters.
    pub to: String,
    /// The branch condition (`else` for the default arm); `None` for `goto`.
    pub label: Option<String>,
}

/// Builds the graph of every node of the program, in IR order.
pub fn build(program: &Program) -> Graph {
    let name_of = |id: u32| {
        program
            .nodes
            .get(id as usize)
            .map_or_else(|| format!("node#{id}"), |n| n.name.clone())
    };
    let mut vertices = Vec::new();
    let mut edges = Vec::new();
    for node in &program.nodes {
        let mut vertex = Vertex {
            name: node.name.clone(),
            notes: Vec::new(),
            closes: false,
        };
        let mut ended = false;
        for stmt in &node.stmts {
            let effect = statement(program, stmt);
            vertex.notes.extend(effect.notes);
            for (target, label) in effect.edges {
                edges.push(Edge {
                    from: node.name.clone(),
                    to: name_of(target),
                    label,
                });
            }
            if effect.ends_node {
                ended = true;
                vertex.closes = effect.closes;
                break;
            }
        }
        // A node whose statements run out closes the chat; in a sub-flow (`flow.node`) it
        // returns instead.
        let in_flow = node.name.contains('.');
        if !ended && in_flow {
            vertex.notes.push("return".to_string());
        }
        vertex.closes = vertex.closes || (!ended && !in_flow);
        if vertex.closes {
            vertex.notes.push("close".to_string());
        }
        vertices.push(vertex);
    }
    Graph {
        title: program.bot.name.clone(),
        start: name_of(program.bot.start),
        vertices,
        edges,
    }
}

/// What one statement adds to its node's vertex.
#[derive(Debug, Default)]
pub struct Effect {
    /// Lines for the vertex label: `call weather`, `transfer department`.
    pub notes: Vec<String>,
    /// Targets, each with its edge label (`None` for a plain `goto`).
    pub edges: Vec<(u32, Option<String>)>,
    /// Nothing after this statement runs in this node.
    pub ends_node: bool,
    /// The chat closes here.
    pub closes: bool,
}

/// What a statement adds to the graph: its exits ([`ir::exits`]) as labelled edges, and a note
/// for what it does on the way (`call weather`).
pub fn statement(program: &Program, stmt: &Stmt) -> Effect {
    let exits = ir::exits(program, stmt);
    Effect {
        notes: notes(program, stmt),
        edges: exits
            .to
            .iter()
            .map(|(to, exit)| (*to, exit.label(program)))
            .collect(),
        ends_node: exits.ends_node,
        closes: exits.closes,
    }
}

fn notes(program: &Program, stmt: &Stmt) -> Vec<String> {
    let api_name = |id: u32| {
        program
            .apis
            .get(id as usize)
            .map_or("?", |a| a.name.as_str())
    };
    match stmt {
        Stmt::Call(api) => vec![format!("call {}", api_name(*api))],
        Stmt::Reply(api) => vec![format!("reply with {}", api_name(*api))],
        Stmt::AskAi { api, .. } => vec![format!("ask {}", api_name(*api))],
        Stmt::Goal(name) => vec![format!("goal {}", quote(name))],
        Stmt::Otp(otp) => vec![match &otp.send {
            OtpSend::Email(_) => "otp by email".to_string(),
            OtpSend::Call(api) => format!("otp: call {}", api_name(*api)),
        }],
        Stmt::Appointment(a) => vec![
            format!("call {}", api_name(a.slots_api)),
            format!("call {}", api_name(a.book_api)),
        ],
        Stmt::Transfer { kind, to, .. } => vec![format!(
            "transfer {} {}",
            transfer_word(*kind),
            quote(&show_template(program, to))
        )],
        Stmt::Run { flow, .. } => program
            .flows
            .get(*flow as usize)
            .map(|f| format!("run {}", f.name))
            .into_iter()
            .collect(),
        Stmt::Return => vec!["return".to_string()],
        _ => Vec::new(),
    }
}

fn transfer_word(kind: crate::ir::TransferKind) -> &'static str {
    match kind {
        crate::ir::TransferKind::Department => "department",
        crate::ir::TransferKind::Agent => "agent",
    }
}

/// Writes the graph in the given format.
pub fn render(graph: &Graph, format: Format) -> String {
    let mut out = String::new();
    // Writing into a `String` cannot fail.
    let _ = write_to(graph, format, &mut out);
    out
}

/// Writes the graph in `format` piece by piece, so the whole text of a large flow is never
/// held at once (`chatflow graph` writes straight to stdout).
pub fn write_to(graph: &Graph, format: Format, out: &mut impl fmt::Write) -> fmt::Result {
    match format {
        Format::Mermaid => write_mermaid(graph, out),
        Format::Dot => write_dot(graph, out),
    }
}

/// A Mermaid flowchart. Vertex ids are `n_NAME` so that no node name can clash with a Mermaid
/// keyword such as `end`; closing nodes are drawn as stadiums.
pub fn mermaid(graph: &Graph) -> String {
    render(graph, Format::Mermaid)
}

fn write_mermaid(graph: &Graph, out: &mut impl fmt::Write) -> fmt::Result {
    let ids = mermaid_ids(graph);
    let id = |name: &str| ids.get(name).map_or("n_unknown", String::as_str);
    out.write_str("flowchart TD\n")?;
    out.write_str("  flow_start((start))\n")?;
    for v in &graph.vertices {
        let label = mermaid_label(&vertex_label(v));
        let (open, close) = if v.closes { ("([", "])") } else { ("[", "]") };
        writeln!(out, "  {}{open}\"{label}\"{close}", id(&v.name))?;
    }
    writeln!(out, "  flow_start --> {}", id(&graph.start))?;
    for e in &graph.edges {
        match &e.label {
            Some(label) => writeln!(
                out,
                "  {} -->|\"{}\"| {}",
                id(&e.from),
                mermaid_label(label),
                id(&e.to)
            )?,
            None => writeln!(out, "  {} --> {}", id(&e.from), id(&e.to))?,
        }
    }
    Ok(())
}

/// `n_NAME`; a sub-flow node `flow.node` becomes `n_flow__node`. Should two names meet on one
/// id, the later one gets its index appended, so ids stay unique.
fn mermaid_ids(graph: &Graph) -> HashMap<String, String> {
    let mut ids = HashMap::new();
    let mut taken = HashSet::new();
    for (i, v) in graph.vertices.iter().enumerate() {
        let mut id = format!("n_{}", v.name.replace('.', "__"));
        if !taken.insert(id.clone()) {
            id = format!("{id}_{i}");
            taken.insert(id.clone());
        }
        ids.insert(v.name.clone(), id);
    }
    ids
}

/// Mermaid labels are quoted; characters Mermaid or its HTML rendering would read are written
/// as entity codes, and line breaks as `<br/>`.
pub fn mermaid_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out
}

/// A Graphviz digraph. Every id is quoted, so node names never meet dot keywords; closing
/// nodes get a double border.
pub fn dot(graph: &Graph) -> String {
    render(graph, Format::Dot)
}

fn write_dot(graph: &Graph, out: &mut impl fmt::Write) -> fmt::Result {
    writeln!(out, "digraph {} {{", dot_string(&graph.title))?;
    out.write_str("  node [shape=box];\n")?;
    out.write_str("  \"(start)\" [shape=point];\n")?;
    for v in &graph.vertices {
        let extra = if v.closes { ", peripheries=2" } else { "" };
        writeln!(
            out,
            "  {} [label={}{extra}];",
            dot_string(&v.name),
            dot_string(&vertex_label(v))
        )?;
    }
    writeln!(out, "  \"(start)\" -> {};", dot_string(&graph.start))?;
    for e in &graph.edges {
        write!(out, "  {} -> {}", dot_string(&e.from), dot_string(&e.to))?;
        if let Some(l) = &e.label {
            write!(out, " [label={}]", dot_string(l))?;
        }
        out.write_str(";\n")?;
    }
    out.write_str("}\n")
}

/// A dot double-quoted string: `"` and `\` escaped, line breaks as `\n`.
pub fn dot_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn vertex_label(v: &Vertex) -> String {
    let mut lines = vec![v.name.clone()];
    lines.extend(v.notes.iter().cloned());
    lines.join("\n")
}

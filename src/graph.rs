//! `chatflow graph`: the flow as a graph, built from the IR, written as Mermaid or Graphviz dot.
//!
//! One vertex per node (labelled with the APIs it calls and `close` when the chat ends there),
//! one edge per `goto` and per branch arm, each arm labelled with its condition as source text
//! (rendered by [`crate::testing::show_expr`], the same text `chatflow run --trace` prints).
//!
//! Adding a statement: one arm in [`statement`] saying what the statement adds to its node.

use crate::ir::{Program, Stmt};
use crate::testing::show_expr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

/// The graph of a program, independent of the output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub title: String,
    /// Name of the entry node.
    pub start: String,
    pub vertices: Vec<Vertex>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vertex {
    pub name: String,
    /// Lines under the name: `call weather`, `close`.
    pub notes: Vec<String>,
    /// The chat closes in this node (by `close` or by running out of statements).
    pub closes: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
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
        // A node whose statements run out closes the chat.
        vertex.closes = vertex.closes || !ended;
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
#[derive(Default)]
struct Effect {
    notes: Vec<String>,
    /// Targets, each with its edge label.
    edges: Vec<(u32, Option<String>)>,
    /// Nothing after this statement runs.
    ends_node: bool,
    closes: bool,
}

fn statement(program: &Program, stmt: &Stmt) -> Effect {
    match stmt {
        Stmt::Say(_) | Stmt::Ask { .. } | Stmt::Set { .. } => Effect::default(),
        Stmt::Call(api) => Effect {
            notes: vec![format!(
                "call {}",
                program.apis.get(*api as usize).map_or("?", |a| a.name.as_str())
            )],
            ..Effect::default()
        },
        Stmt::Goto(target) => Effect {
            edges: vec![(*target, None)],
            ends_node: true,
            ..Effect::default()
        },
        Stmt::Branch(table) => {
            let mut edges: Vec<(u32, Option<String>)> = table
                .arms
                .iter()
                .map(|arm| (arm.target, Some(show_expr(program, &arm.cond))))
                .collect();
            edges.push((table.otherwise, Some("else".to_string())));
            Effect {
                edges,
                ends_node: true,
                ..Effect::default()
            }
        }
        Stmt::Close => Effect {
            ends_node: true,
            closes: true,
            ..Effect::default()
        },
    }
}

/// Writes the graph in the given format.
pub fn render(graph: &Graph, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid(graph),
        Format::Dot => dot(graph),
    }
}

/// A Mermaid flowchart. Vertex ids are `n_NAME` so that no node name can clash with a Mermaid
/// keyword such as `end`; closing nodes are drawn as stadiums.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    out.push_str("  flow_start((start))\n");
    for v in &graph.vertices {
        let label = mermaid_label(&vertex_label(v));
        let (open, close) = if v.closes { ("([", "])") } else { ("[", "]") };
        out.push_str(&format!("  n_{}{open}\"{label}\"{close}\n", v.name));
    }
    out.push_str(&format!("  flow_start --> n_{}\n", graph.start));
    for e in &graph.edges {
        match &e.label {
            Some(label) => out.push_str(&format!(
                "  n_{} -->|\"{}\"| n_{}\n",
                e.from,
                mermaid_label(label),
                e.to
            )),
            None => out.push_str(&format!("  n_{} --> n_{}\n", e.from, e.to)),
        }
    }
    out
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
    let mut out = format!("digraph {} {{\n", dot_string(&graph.title));
    out.push_str("  node [shape=box];\n");
    out.push_str("  \"(start)\" [shape=point];\n");
    for v in &graph.vertices {
        let extra = if v.closes { ", peripheries=2" } else { "" };
        out.push_str(&format!(
            "  {} [label={}{extra}];\n",
            dot_string(&v.name),
            dot_string(&vertex_label(v))
        ));
    }
    out.push_str(&format!("  \"(start)\" -> {};\n", dot_string(&graph.start)));
    for e in &graph.edges {
        let label = e
            .label
            .as_ref()
            .map(|l| format!(" [label={}]", dot_string(l)))
            .unwrap_or_default();
        out.push_str(&format!("  {} -> {}{label};\n", dot_string(&e.from), dot_string(&e.to)));
    }
    out.push_str("}\n");
    out
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

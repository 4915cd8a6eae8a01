//! `chatflow graph`: snapshots of the examples in both formats, structural checks of the dot
//! output, label escaping, and the command.

use std::collections::HashSet;
use std::path::Path;

use chatflow::compile::{compile_path, compile_str};
use chatflow::graph::{build, dot, mermaid, Graph};
use chatflow::ir::Program;

use crate::common::chatflow;

fn example(name: &str) -> Program {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let compiled = compile_path(&path.to_string_lossy());
    compiled
        .program
        .unwrap_or_else(|| panic!("{name} compiles: {:?}", compiled.diagnostics))
}

fn program(text: &str) -> Program {
    let compiled = compile_str("test.flow", text);
    compiled
        .program
        .unwrap_or_else(|| panic!("compiles: {:?}", compiled.diagnostics))
}

#[test]
fn weather_example_as_mermaid() {
    insta::assert_snapshot!(mermaid(&build(&example("weather.flow"))));
}

#[test]
fn weather_example_as_dot() {
    insta::assert_snapshot!(dot(&build(&example("weather.flow"))));
}

#[test]
fn order_status_example_as_mermaid() {
    insta::assert_snapshot!(mermaid(&build(&example("order_status.flow"))));
}

#[test]
fn order_status_example_as_dot() {
    insta::assert_snapshot!(dot(&build(&example("order_status.flow"))));
}

#[test]
fn the_graph_has_every_node_goto_and_arm() {
    let g = build(&example("weather.flow"));
    assert_eq!(g.start, "greet");
    assert_eq!(g.vertices.len(), 7);
    let lookup = g
        .vertices
        .iter()
        .find(|v| v.name == "lookup")
        .expect("lookup");
    assert_eq!(lookup.notes, vec!["call weather"]);
    assert!(!lookup.closes);
    let chicago = g
        .vertices
        .iter()
        .find(|v| v.name == "chicago")
        .expect("chicago");
    assert!(chicago.closes);
    let labels: Vec<(&str, &str, Option<&str>)> = g
        .edges
        .iter()
        .filter(|e| e.from == "lookup")
        .map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_deref()))
        .collect();
    assert_eq!(
        labels,
        vec![
            (
                "lookup",
                "chicago",
                Some("status == 200 and city == \"Chicago\"")
            ),
            ("lookup", "report", Some("status == 200")),
            ("lookup", "unknown_city", Some("status in 400..499")),
            ("lookup", "no_answer", Some("status == 0")),
            ("lookup", "failed", Some("else")),
        ]
    );
    assert!(g
        .edges
        .iter()
        .any(|e| e.from == "greet" && e.to == "lookup" && e.label.is_none()));
}

#[test]
fn a_node_whose_statements_run_out_closes() {
    let g = build(&program("node a {\n  say \"hi\"\n}\n"));
    assert!(g.vertices[0].closes);
    assert_eq!(g.vertices[0].notes, vec!["close"]);
}

/// A small dot reader: statements of one digraph, braces balanced outside strings, every
/// edge endpoint declared as a vertex.
fn check_dot(text: &str) {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    let mut statements = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if in_string {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                current.push(c);
            }
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                assert!(depth >= 0, "unbalanced braces in\n{text}");
            }
            ';' => statements.push(std::mem::take(&mut current).trim().to_string()),
            c => current.push(c),
        }
    }
    assert_eq!(depth, 0, "unbalanced braces in\n{text}");
    assert!(!in_string, "unterminated string in\n{text}");
    assert!(text.starts_with("digraph \""), "{text}");
    let first_id = |s: &str| -> String {
        // A quoted id: up to the closing unescaped quote.
        let mut out = String::new();
        let mut chars = s.chars().skip(1);
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next().unwrap_or('\\')),
                '"' => break,
                c => out.push(c),
            }
        }
        out
    };
    let mut declared = HashSet::new();
    let mut edges = Vec::new();
    for statement in statements.iter().filter(|s| s.starts_with('"')) {
        let from = first_id(statement);
        let quoted_len = dot_quoted_len(statement);
        let rest = statement[quoted_len..].trim_start();
        if let Some(target) = rest.strip_prefix("->") {
            edges.push((from, first_id(target.trim_start())));
        } else {
            assert!(
                rest.is_empty() || rest.starts_with('['),
                "odd statement {statement:?}"
            );
            declared.insert(from);
        }
    }
    assert!(!edges.is_empty());
    for (from, to) in edges {
        assert!(declared.contains(&from), "edge from undeclared {from:?}");
        assert!(declared.contains(&to), "edge to undeclared {to:?}");
    }
}

/// Length in bytes of the quoted id at the start of `s`, quotes included.
fn dot_quoted_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[test]
fn dot_output_of_the_examples_is_well_formed() {
    check_dot(&dot(&build(&example("weather.flow"))));
    check_dot(&dot(&build(&example("order_status.flow"))));
}

const AWKWARD: &str = r#"bot "The \"quoted\" bot" {
  start a
}

node a {
  ask name
  if name == "a \"b\" c|d" or name matches "^#[<>&]\\d$" -> end
  else -> graph
}

node end {
  close
}

node graph {
  goto end
}
"#;

#[test]
fn labels_with_quotes_and_markup_are_escaped_in_dot() {
    let text = dot(&build(&program(AWKWARD)));
    check_dot(&text);
    assert!(
        text.starts_with("digraph \"The \\\"quoted\\\" bot\" {"),
        "{text}"
    );
    assert!(
        text.contains(r#"[label="name == \"a \\\"b\\\" c|d\" or name matches \"^#[<>&]\\\\d$\""]"#),
        "{text}"
    );
}

#[test]
fn labels_with_quotes_and_markup_are_escaped_in_mermaid() {
    let g: Graph = build(&program(AWKWARD));
    let text = mermaid(&g);
    // Node names that are Mermaid keywords (`end`, `graph`) are safe behind the `n_` prefix.
    assert!(text.contains("  n_end([\"end<br/>close\"])\n"), "{text}");
    assert!(text.contains("  n_a -->|\"else\"| n_graph\n"), "{text}");
    let edge = text
        .lines()
        .find(|l| l.contains("n_a -->|") && l.contains("or"))
        .expect("the arm");
    // Inside the quoted label there is no raw quote, `|`, `#`, `<`, `>` or `&`: only entity codes.
    let label = edge
        .strip_prefix("  n_a -->|\"")
        .and_then(|l| l.strip_suffix("\"| n_end"))
        .expect("quoted label");
    for c in ['"', '|', '<', '>', '&'] {
        assert!(!label.contains(c), "raw {c:?} in {label}");
    }
    assert!(
        label.split("#").skip(1).all(|part| part.contains(';')),
        "stray # in {label}"
    );
    assert!(
        label.contains("#quot;a \\#quot;b\\#quot; c#124;d#quot;"),
        "{label}"
    );
}

#[test]
fn the_command_prints_both_formats() {
    let o = chatflow(&["graph", "examples/weather.flow"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("flowchart TD\n"));
    let o = chatflow(&["graph", "examples/weather.flow", "--format", "dot"]);
    assert_eq!(o.status.code(), Some(0));
    check_dot(&String::from_utf8_lossy(&o.stdout));
    let o = chatflow(&["graph", "tests/inputs/err/unknown_node_in_branch.flow"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a flow that does not compile has no graph"
    );
    assert!(o.stdout.is_empty());
}

/// Statements of the actions contract, put into a compiled program by hand until the parser
/// reads them: a quick-reply menu (one link, two branches) and an `otp`.
fn program_with_menu() -> Program {
    use chatflow::ir::{
        Menu, MenuOption, MenuSource, MenuStyle, OptionKind, Otp, OtpSend, Stmt, Template,
        TemplatePart,
    };
    let mut p =
        program("node a {\n  goto b\n}\n\nnode b {\n  goto c\n}\n\nnode c {\n  goto a\n}\n");
    let label = |text: &str| Template {
        parts: vec![TemplatePart::Text(text.into())],
    };
    let option = |text: &str, kind| MenuOption {
        label: chatflow::ir::Text::Plain(label(text)),
        kind,
        intent: None,
    };
    p.nodes[0].stmts = vec![Stmt::Menu(Box::new(Menu {
        style: MenuStyle::QuickReplies,
        text: None,
        source: MenuSource::Static(vec![
            option("FAQ", OptionKind::Link(label("https://x.test/faq"))),
            option("Yes \"really\"", OptionKind::Branch(1)),
            option("No", OptionKind::Branch(2)),
        ]),
        save: None,
        threshold: None,
    }))];
    p.nodes[1].stmts = vec![Stmt::Otp(Box::new(Otp {
        send: OtpSend::Email(label("a@b.test")),
        prompt: None,
        digits: 6,
        tries: 3,
        ok: 2,
        fail: 0,
    }))];
    p
}

#[test]
fn menus_and_otp_become_labelled_edges() {
    let g = build(&program_with_menu());
    let edges: Vec<(&str, &str, Option<&str>)> = g
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_deref()))
        .collect();
    assert_eq!(
        edges,
        vec![
            ("a", "b", Some("\"Yes \\\"really\\\"\"")),
            ("a", "c", Some("\"No\"")),
            ("b", "c", Some("ok")),
            ("b", "a", Some("fail")),
            ("c", "a", None),
        ]
    );
    assert_eq!(g.vertices[1].notes, vec!["otp by email"]);
    assert!(
        !g.vertices[0].closes,
        "a menu that branches ends the node without closing"
    );
    check_dot(&dot(&g));
}

#[test]
fn coverage_counts_menu_options_by_the_node_entered_next() {
    use chatflow::runtime::Event;
    use chatflow::testing::coverage::{measure, Target};
    use chatflow::testing::TestOutcome;
    let program = program_with_menu();
    let entered = |node: &str| Event::NodeEntered { node: node.into() };
    let outcome = TestOutcome {
        name: "t".into(),
        span: Default::default(),
        failure: None,
        events: vec![entered("a"), entered("b"), entered("c"), entered("a")],
        turns: Vec::new(),
        waited: Default::default(),
        intents: Vec::new(),
    };
    let coverage = measure(&program, &[outcome]);
    let missed: Vec<String> = coverage
        .missed()
        .filter_map(|e| match &e.target {
            Target::Edge { label, .. } => Some(label.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(missed, vec!["\"No\" -> c", "fail -> a"]);
    assert_eq!(coverage.branches(), (2, 4));
}

#[test]
fn sub_flow_nodes_get_unique_mermaid_ids() {
    use chatflow::graph::{Edge, Vertex};
    let vertex = |name: &str| Vertex {
        name: name.into(),
        notes: Vec::new(),
        closes: false,
    };
    let g = Graph {
        title: "t".into(),
        start: "a__b".into(),
        vertices: vec![vertex("a__b"), vertex("a.b")],
        edges: vec![Edge {
            from: "a__b".into(),
            to: "a.b".into(),
            label: None,
        }],
    };
    let text = mermaid(&g);
    assert!(text.contains("  n_a__b[\"a__b\"]\n"), "{text}");
    assert!(text.contains("  n_a__b_1[\"a.b\"]\n"), "{text}");
    assert!(text.contains("  n_a__b --> n_a__b_1\n"), "{text}");
}

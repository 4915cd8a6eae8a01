//! The one answer, over the syntax tree, to "does this statement end its node, and where can it
//! lead". The checker warns about statements after the end; flow analysis follows the targets.
//! `ir::exits` answers the same for the IR (graphs, coverage); a test below checks that both
//! agree on every example and every ok input.

use crate::syntax::ast::{self, Ident, StmtKind};

/// Where a statement can lead. `run FLOW` leads into the flow, which is not a node name:
/// flow analysis follows it itself.
pub(crate) struct Exits<'a> {
    /// Node names, in the order the statement names them.
    pub to: Vec<&'a Ident>,
    /// Nothing after this statement runs in this node.
    pub ends_node: bool,
}

pub(crate) fn exits(kind: &StmtKind) -> Exits<'_> {
    fn ends(to: Vec<Option<&Ident>>) -> Exits<'_> {
        Exits {
            to: to.into_iter().flatten().collect(),
            ends_node: true,
        }
    }
    match kind {
        StmtKind::Goto(target) => ends(vec![Some(target)]),
        StmtKind::Branch(b) => ends(
            b.arms
                .iter()
                .map(|a| Some(&a.target))
                .chain([b.otherwise.as_ref()])
                .collect(),
        ),
        StmtKind::Close | StmtKind::Return | StmtKind::Transfer { .. } => ends(Vec::new()),
        StmtKind::Otp(otp) => ends(vec![otp.ok.as_ref(), otp.fail.as_ref()]),
        StmtKind::Appointment(a) => ends(vec![a.booked.as_ref(), a.failed.as_ref()]),
        StmtKind::Menu(m) => match &m.source {
            ast::MenuSource::Static(options) => option_exits(options.iter()),
            ast::MenuSource::Dynamic(d) => ends(vec![d.target.as_ref(), d.empty.as_ref()]),
        },
        StmtKind::Carousel(carousel) => match &**carousel {
            ast::Carousel::Static { cards, .. } => {
                option_exits(cards.iter().flat_map(|c| &c.buttons))
            }
            ast::Carousel::Dynamic { target, empty, .. } => {
                ends(vec![target.as_ref(), empty.as_ref()])
            }
        },
        StmtKind::Say(_)
        | StmtKind::Ask { .. }
        | StmtKind::Set { .. }
        | StmtKind::SetSys { .. }
        | StmtKind::Call(_)
        | StmtKind::Reply(_)
        | StmtKind::AskAi { .. }
        | StmtKind::Run { .. }
        | StmtKind::Goal(_)
        | StmtKind::Email(_)
        | StmtKind::Form(_)
        | StmtKind::Media { .. } => Exits {
            to: Vec::new(),
            ends_node: false,
        },
    }
}

/// Branch and postback options lead somewhere; links do not. A menu ends its node when any
/// option leads somewhere.
fn option_exits<'a>(options: impl Iterator<Item = &'a ast::MenuOption>) -> Exits<'a> {
    let to: Vec<&Ident> = options
        .filter_map(|o| match &o.kind {
            ast::OptionKind::Branch(t) | ast::OptionKind::Postback { target: t, .. } => Some(t),
            ast::OptionKind::Link(_) => None,
        })
        .collect();
    Exits {
        ends_node: !to.is_empty(),
        to,
    }
}

#[cfg(test)]
mod tests {
    use super::exits;
    use crate::ir::{self, Exit};
    use crate::syntax::{self, ast};

    /// For one node: whether it ends, and the names its statements lead to (up to the end).
    type Walk = (bool, Vec<String>);

    fn ast_walk(node: &ast::Node) -> Walk {
        let mut to = Vec::new();
        for stmt in &node.body {
            let exits = exits(&stmt.kind);
            to.extend(exits.to.iter().map(|t| t.name.to_string()));
            if exits.ends_node {
                return (true, to);
            }
        }
        (false, to)
    }

    fn ir_walk(program: &ir::Program, node: &ir::Node) -> Walk {
        let mut to = Vec::new();
        for stmt in &node.stmts {
            let exits = ir::exits(program, stmt);
            for (target, exit) in &exits.to {
                if !matches!(exit, Exit::Run) {
                    // Inside a flow, IR names are `flow.node`; the source wrote `node`.
                    let name = &program.nodes[*target as usize].name;
                    to.push(name.rsplit('.').next().unwrap_or(name).to_string());
                }
            }
            if exits.ends_node {
                return (true, to);
            }
        }
        (false, to)
    }

    #[test]
    fn the_syntax_walk_and_the_ir_walk_agree_on_every_example() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = ["examples", "tests/inputs/ok"]
            .iter()
            .flat_map(|dir| std::fs::read_dir(root.join(dir)).into_iter().flatten())
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "flow"))
            .collect();
        files.sort();
        let mut nodes_seen = 0;
        for path in files {
            let compiled = crate::compile::compile_path(&path.to_string_lossy());
            let Some(program) = compiled.program else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let (file, _) = syntax::parse(&text);
            for item in &file.items {
                let (prefix, nodes) = match item {
                    ast::Item::Node(n) => (String::new(), std::slice::from_ref(n)),
                    ast::Item::Flow(f) => (format!("{}.", f.name.name), &f.nodes[..]),
                    _ => continue,
                };
                for node in nodes {
                    let name = format!("{prefix}{}", node.name.name);
                    let ir_node = program.nodes.iter().find(|n| n.name == name);
                    let ir_node = ir_node.unwrap_or_else(|| panic!("{name} not in the IR"));
                    assert_eq!(
                        ast_walk(node),
                        ir_walk(&program, ir_node),
                        "{}: node {name}",
                        path.display()
                    );
                    nodes_seen += 1;
                }
            }
        }
        assert!(nodes_seen > 100, "only {nodes_seen} nodes compared");
    }
}

//! Nodes no path reaches, and flows nothing runs.

use super::*;

/// The nodes some path from one of `roots` enters.
pub(super) fn reachable(summaries: &Graph, roots: &[NodeId]) -> Vec<bool> {
    let mut seen = vec![false; summaries.len()];
    let mut queue: VecDeque<NodeId> = roots.iter().copied().collect();
    for &root in roots {
        seen[root as usize] = true;
    }
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

pub(super) fn report_unreachable(ctx: &mut Ctx<'_>, reachable: &[bool], start: NodeId) {
    let start_name = ctx.node_name(start as usize);
    // A node a "did you mean" named is reached once the typo is fixed: saying it is
    // unreachable would send the reader the wrong way.
    let unreachable: Vec<usize> = (0..ctx.nodes.len())
        .filter(|&n| !reachable[n] && !ctx.suggested.contains(&(n as NodeId)))
        .collect();
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

pub(super) fn unused_flow(ctx: &mut Ctx<'_>, f: FlowId) {
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

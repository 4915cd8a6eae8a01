//! `status` read where no path has made a `call` yet.

use super::*;

/// Forward "may not have called yet" analysis; errors where `status` is read under it.
pub(super) fn status_before_call(
    ctx: &mut Ctx<'_>,
    summaries: &Graph,
    reachable: &[bool],
    roots: &[NodeId],
) {
    let n = summaries.len();
    let mut uncalled = vec![false; n];
    let mut parent: Vec<Option<NodeId>> = vec![None; n];
    // A free-text jump may come before any call.
    for &root in roots {
        uncalled[root as usize] = true;
    }
    let mut queue: VecDeque<NodeId> = roots.iter().copied().collect();
    while let Some(node) = queue.pop_front() {
        if summaries.calls(node as usize) {
            continue;
        }
        for &s in summaries.succs(node as usize) {
            if !uncalled[s as usize] {
                uncalled[s as usize] = true;
                parent[s as usize] = Some(node);
                queue.push_back(s);
            }
        }
    }
    for node in 0..n {
        if !reachable[node] || !uncalled[node] {
            continue;
        }
        let read = summaries.events(node).iter().find_map(|e| match e {
            Event::Called => Some(None),
            Event::Run(f) if summaries.flow_calls[*f as usize] => Some(None),
            Event::Status { span, via } => Some(Some((*span, *via))),
            _ => None,
        });
        if let Some(Some((span, via))) = read {
            let help = if parent[node].is_none() {
                "no `call` comes before this in the start node; call an API before reading `status`"
                    .to_string()
            } else {
                format!(
                    "no `call` happens on the path {}; call an API before reading `status` on every path",
                    witness(ctx, &parent, node as NodeId)
                )
            };
            let name = &ctx.node_name(node);
            let message = match via {
                Some(api) => format!(
                    "API `{}` reads `status` in node `{name}` before any `call` has happened",
                    ctx.apis[api as usize].ast.name.name
                ),
                None => format!("`status` is read in node `{name}` before any `call` has happened"),
            };
            let diag = Diag::new(Code::StatusBeforeCall, message, span)
                .label("no call has set `status` on this path")
                .help(help);
            let file = ctx.nodes[node].file;
            ctx.error(diag, file);
        }
    }
}

/// `start -> a -> b`, shortened in the middle when long.
pub(super) fn witness(ctx: &Ctx<'_>, parent: &[Option<NodeId>], node: NodeId) -> String {
    let mut path = vec![node];
    let mut cur = node;
    while let Some(p) = parent[cur as usize] {
        if path.len() > parent.len() {
            break; // cannot happen for a BFS tree; a guard all the same
        }
        path.push(p);
        cur = p;
    }
    path.reverse();
    let names: Vec<String> = path.iter().map(|&n| ctx.node_name(n as usize)).collect();
    if names.len() > 8 {
        format!(
            "{} -> ... -> {}",
            names[..3].join(" -> "),
            names[names.len() - 3..].join(" -> ")
        )
    } else {
        names.join(" -> ")
    }
}

//! Loops that never give the user a turn.

use super::*;

/// Cycles among reachable nodes that contain no `ask`: the flow would spin until the turn's
/// step limit. Tarjan's algorithm, iterative so deep flows cannot overflow the stack.
pub(super) fn loops_without_wait(ctx: &mut Ctx<'_>, summaries: &Graph, reachable: &[bool]) {
    let n = summaries.len();
    let eligible = |v: usize| reachable[v] && !summaries.asks(v);
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next = 0u32;
    let mut sccs: Vec<Vec<usize>> = Vec::new();
    for root in 0..n {
        if !eligible(root) || index[root] != u32::MAX {
            continue;
        }
        // (node, next successor position)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(top) = work.last_mut() {
            let v = top.0;
            let succs = summaries.succs(v);
            if top.1 < succs.len() {
                let w = succs[top.1] as usize;
                top.1 += 1;
                if !eligible(w) {
                    continue;
                }
                if index[w] == u32::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                let is_cycle = scc.len() > 1 || summaries.succs(v).contains(&(v as NodeId));
                if is_cycle {
                    sccs.push(scc);
                }
            }
        }
    }
    for mut scc in sccs {
        scc.sort_unstable();
        report_loop(ctx, &scc);
    }
}

pub(super) fn report_loop(ctx: &mut Ctx<'_>, scc: &[usize]) {
    let first = scc[0];
    let mut names: Vec<String> = scc.iter().take(8).map(|&v| ctx.node_name(v)).collect();
    if scc.len() > 8 {
        names.push("...".into());
    }
    let (file, name) = (ctx.nodes[first].file, &ctx.nodes[first].ast.name);
    let message = if scc.len() == 1 {
        format!(
            "node `{}` leads back to itself with no `ask`: the flow would spin until the step limit",
            names[0]
        )
    } else {
        format!(
            "the nodes {} form a loop with no `ask`: the flow would spin until the step limit",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let diag = Diag::new(Code::LoopWithoutWait, message, name.span)
    .label("this loop never waits for the user")
    .help("put an `ask` (or a menu, form or other wait) somewhere on the loop, or leave it with a branch that can close the chat");
    ctx.error(diag, file);
}

//! Attributes read where some path has not set them.

use super::*;

/// Forward "may have been set" analysis; warns where an attribute is read but no path from
/// the start has passed a setter for it.
pub(super) fn unset_attributes(
    ctx: &mut Ctx<'_>,
    summaries: &Graph,
    reachable: &[bool],
    roots: &[NodeId],
) {
    let start = roots[0];
    let n = summaries.len();
    if ctx.attrs.is_empty() {
        return;
    }
    let mut gens = BitTable::new(n, ctx.attrs.len());
    for node in 0..n {
        for e in summaries.events(node) {
            match e {
                Event::Set(a) => gens.insert(node, *a),
                Event::Run(f) => {
                    let row = summaries.flow_row(*f);
                    gens.union_row(node, row);
                }
                _ => {}
            }
        }
    }
    let mut entry = BitTable::new(n, ctx.attrs.len());
    let mut out = vec![0u64; entry.words];
    // A free-text jump (`roots[1..]`) may come from any wait after anything was set: start
    // those nodes with every attribute some reachable node sets, so they warn of no read.
    if roots.len() > 1 {
        for node in (0..n).filter(|&i| reachable[i]) {
            for (o, g) in out.iter_mut().zip(gens.row(node)) {
                *o |= g;
            }
        }
        for &root in &roots[1..] {
            entry.union_row(root as usize, &out);
        }
    }
    let mut queued = reachable.to_vec();
    // Every reachable node is processed at least once, starting from the entry.
    let mut queue: VecDeque<NodeId> = VecDeque::from([start]);
    queue.extend((0..n as NodeId).filter(|&i| reachable[i as usize] && i != start));
    while let Some(node) = queue.pop_front() {
        let node = node as usize;
        queued[node] = false;
        for ((o, e), g) in out.iter_mut().zip(entry.row(node)).zip(gens.row(node)) {
            *o = e | g;
        }
        for &s in summaries.succs(node) {
            if entry.union_row(s as usize, &out) && !queued[s as usize] {
                queued[s as usize] = true;
                queue.push_back(s);
            }
        }
    }
    let mut set = vec![0u64; entry.words];
    for node in (0..n).filter(|&i| reachable[i]) {
        set.copy_from_slice(entry.row(node));
        let mut warned: Vec<AttrId> = Vec::new();
        for e in summaries.events(node) {
            match e {
                Event::Set(a) => set[*a as usize / 64] |= 1 << (a % 64),
                Event::Run(f) => {
                    for (x, y) in set.iter_mut().zip(summaries.flow_row(*f)) {
                        *x |= y;
                    }
                }
                Event::Read { attr, span, via }
                    if !contains(&set, *attr) && !warned.contains(attr) =>
                {
                    warned.push(*attr);
                    let diag = unset_diag(ctx, node, *attr, *span, *via);
                    let file = ctx.nodes[node].file;
                    ctx.error(diag, file);
                }
                _ => {}
            }
        }
    }
}

pub(super) fn unset_diag(
    ctx: &Ctx<'_>,
    node: usize,
    attr: AttrId,
    span: Span,
    via: Option<u32>,
) -> Diag {
    let name = ctx.attrs[attr as usize].name;
    let node_name = &ctx.node_name(node);
    let message = match via {
        Some(api) => format!(
            "API `{}` reads `{name}` in node `{node_name}`, but no path from the start sets it first",
            ctx.apis[api as usize].ast.name.name
        ),
        None => format!("`{name}` is read in node `{node_name}`, but no path from the start sets it first"),
    };
    Diag::new(Code::UnsetAttribute, message, span)
        .label("always unset here")
        .help(format!(
            "fill `{name}` (with `ask`, `set` or an API `save`) before this point, or check it with `{name} is set`"
        ))
}

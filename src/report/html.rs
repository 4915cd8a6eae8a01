//! The report as one self-contained HTML page: inline CSS, inline SVG drawn here, no script
//! and nothing fetched. The flow is drawn as a graph whose edges carry their traffic and whose
//! nodes are coloured by drop-off, beside a conversations-per-day chart and a goal funnel, and
//! the tables of the text report. Every number carries a `data-` attribute naming it, so a
//! browser test can read the page as a user sees it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;

use super::compute::{EdgeStats, NodeStats};
use super::render::{class_count, number, other_count, percent, API_CLASSES};
use super::Report;

const NODE_W: f64 = 150.0;
const NODE_H: f64 = 46.0;
const GAP_X: f64 = 40.0;
const GAP_Y: f64 = 70.0;

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #243b6b; color: #fff; padding: 16px 24px; }
header h1 { margin: 0; font-size: 20px; }
main { padding: 16px 24px; display: grid; gap: 16px; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 12px 16px; overflow-x: auto; }
h2 { font-size: 16px; margin: 0 0 8px; }
table { border-collapse: collapse; }
th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eef0f4; }
th:first-child, td:first-child { text-align: left; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #dde1e8; border-radius: 6px; padding: 6px 12px; min-width: 110px; }
.card b { display: block; font-size: 20px; }
svg text { font: 12px system-ui, sans-serif; }
.edge { fill: none; stroke: #7a8699; }
.edge.old { stroke-dasharray: 4 3; }
.count { fill: #243b6b; font-weight: 600; }
.legend span { display: inline-block; width: 14px; height: 14px; vertical-align: middle; border: 1px solid #888; }
"#;

/// The page.
pub fn page(report: &Report) -> String {
    let title = report
        .graph
        .as_ref()
        .map_or("Chatbot report".to_string(), |g| {
            format!("Chatbot report: {}", g.title)
        });
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body>\
         <header><h1>{t}</h1><div>{p}</div></header><main>",
        t = esc(&title),
        p = esc(&period(report)),
    );
    engagement(report, &mut out);
    per_day_chart(report, &mut out);
    flow_graph(report, &mut out);
    goal_funnel(report, &mut out);
    apis(report, &mut out);
    out.push_str("</main></body></html>\n");
    out
}

fn period(report: &Report) -> String {
    let p = &report.period;
    let from = p.since.as_deref().unwrap_or("the first conversation");
    let to = p.until.as_deref().unwrap_or("now");
    format!(
        "Conversations started from {from} to {to}; made {}",
        p.generated_at
    )
}

fn engagement(report: &Report, out: &mut String) {
    let e = &report.engagement;
    out.push_str("<section id=\"engagement\"><h2>Bot engagement</h2><div class=\"cards\">");
    for (metric, label, value) in [
        (
            "conversations",
            "conversations",
            e.conversations.to_string(),
        ),
        ("messages_in", "visitor messages", e.messages_in.to_string()),
        ("messages_out", "bot messages", e.messages_out.to_string()),
        ("completed", "completed", e.completed.to_string()),
        ("transferred", "transferred", e.transferred.to_string()),
        ("failed", "failed", e.failed.to_string()),
        ("abandoned", "abandoned", e.abandoned.to_string()),
        ("active", "active", e.active.to_string()),
        (
            "median_messages",
            "median messages",
            number(e.median_messages),
        ),
    ] {
        let _ = write!(
            out,
            "<div class=\"card\"><b data-metric=\"{metric}\">{}</b>{label}</div>",
            esc(&value)
        );
    }
    let _ = write!(
        out,
        "</div><p>Abandoned: {} expired, {} idle.</p></section>",
        e.expired, e.idle
    );
}

fn per_day_chart(report: &Report, out: &mut String) {
    out.push_str("<section id=\"per-day\"><h2>Conversations per day</h2>");
    if report.by_day.is_empty() {
        out.push_str("<p>No conversations.</p></section>");
        return;
    }
    let max = report
        .by_day
        .iter()
        .map(|d| d.conversations)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let bar = 36.0;
    let height = 160.0;
    let width = report.by_day.len() as f64 * (bar + 14.0) + 20.0;
    let _ = write!(
        out,
        "<svg width=\"{width}\" height=\"{}\" role=\"img\" aria-label=\"conversations per day\">",
        height + 40.0
    );
    for (i, d) in report.by_day.iter().enumerate() {
        let h = d.conversations as f64 / max * height;
        let x = 10.0 + i as f64 * (bar + 14.0);
        let y = 10.0 + height - h;
        let _ = write!(
            out,
            "<g class=\"day\" data-day=\"{day}\" data-conversations=\"{n}\">\
             <rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{h}\" fill=\"#4a72c4\"></rect>\
             <text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\">{n}</text>\
             <text x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\">{short}</text></g>",
            day = esc(&d.day),
            n = d.conversations,
            cx = x + bar / 2.0,
            ty = (y - 3.0).max(10.0),
            ly = height + 28.0,
            short = esc(d.day.get(5..).unwrap_or(&d.day)),
        );
    }
    out.push_str("</svg></section>");
}

/// Where each node is drawn: layers by distance from the start along the flow's edges, the
/// nodes no path reaches in a last layer.
fn layout(
    names: &[String],
    start: Option<&str>,
    edges: &[(String, String)],
) -> HashMap<String, (f64, f64)> {
    let mut next: HashMap<&str, Vec<&str>> = HashMap::new();
    for (from, to) in edges {
        next.entry(from).or_default().push(to);
    }
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut queue = VecDeque::new();
    if let Some(s) = start.or(names.first().map(String::as_str)) {
        depth.insert(s, 0);
        queue.push_back(s);
    }
    while let Some(n) = queue.pop_front() {
        let d = depth[n];
        for &m in next.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            if !depth.contains_key(m) {
                depth.insert(m, d + 1);
                queue.push_back(m);
            }
        }
    }
    let last = depth.values().max().map_or(0, |d| d + 1);
    let mut layers: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for name in names {
        let d = depth.get(name.as_str()).copied().unwrap_or(last);
        layers.entry(d).or_default().push(name);
    }
    let widest = layers.values().map(Vec::len).max().unwrap_or(1) as f64;
    let mut at = HashMap::new();
    for (row, (_, layer)) in layers.iter().enumerate() {
        let indent = (widest - layer.len() as f64) * (NODE_W + GAP_X) / 2.0;
        for (i, name) in layer.iter().enumerate() {
            let x = 20.0 + indent + i as f64 * (NODE_W + GAP_X);
            let y = 20.0 + row as f64 * (NODE_H + GAP_Y);
            at.insert(name.to_string(), (x, y));
        }
    }
    at
}

/// An edge to draw: from, to, and whether only older flow versions took it.
type DrawnEdge = (String, String, bool);

/// The graph's nodes and edges: the current flow's when given (with edges only older versions
/// took added, dashed), else the ones the report saw.
fn graph_parts(report: &Report) -> (Vec<String>, Option<String>, Vec<DrawnEdge>) {
    let mut names: Vec<String> = Vec::new();
    let mut edges: Vec<DrawnEdge> = Vec::new();
    let mut start = None;
    if let Some(g) = &report.graph {
        names.extend(g.vertices.iter().map(|v| v.name.clone()));
        start = Some(g.start.clone());
        for e in &g.edges {
            if !edges.iter().any(|(f, t, _)| *f == e.from && *t == e.to) {
                edges.push((e.from.clone(), e.to.clone(), false));
            }
        }
    }
    for n in &report.nodes {
        if !names.contains(&n.node) {
            names.push(n.node.clone());
        }
    }
    let old = report.graph.is_some();
    for e in &report.edges {
        for end in [&e.from, &e.to] {
            if !names.contains(end) {
                names.push(end.clone());
            }
        }
        if !edges.iter().any(|(f, t, _)| *f == e.from && *t == e.to) {
            edges.push((e.from.clone(), e.to.clone(), old));
        }
    }
    (names, start, edges)
}

fn flow_graph(report: &Report, out: &mut String) {
    out.push_str("<section id=\"flow\"><h2>Flow engagement</h2>");
    let (names, start, edges) = graph_parts(report);
    if names.is_empty() {
        out.push_str("<p>No nodes.</p></section>");
        return;
    }
    let pairs: Vec<(String, String)> = edges
        .iter()
        .map(|(f, t, _)| (f.clone(), t.clone()))
        .collect();
    let at = layout(&names, start.as_deref(), &pairs);
    let stats: HashMap<&str, &NodeStats> =
        report.nodes.iter().map(|n| (n.node.as_str(), n)).collect();
    let traffic: HashMap<(&str, &str), &EdgeStats> = report
        .edges
        .iter()
        .map(|e| ((e.from.as_str(), e.to.as_str()), e))
        .collect();
    let max_drop = report
        .nodes
        .iter()
        .map(|n| n.drop_off)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let width = at.values().map(|p| p.0).fold(0.0, f64::max) + NODE_W + 40.0;
    let height = at.values().map(|p| p.1).fold(0.0, f64::max) + NODE_H + 40.0;
    let _ = write!(
        out,
        "<p class=\"legend\">Edges carry the times each was taken; nodes are coloured by drop-off \
         (<span style=\"background:{}\"></span> none to <span style=\"background:{}\"></span> most). \
         Dashed: taken only on older flow versions.</p>\
         <svg id=\"flow-graph\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"the flow\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#7a8699\"/>\
         </marker></defs>",
        drop_colour(0.0),
        drop_colour(1.0)
    );
    for (from, to, old) in &edges {
        let (Some(&a), Some(&b)) = (at.get(from), at.get(to)) else {
            continue;
        };
        let count = traffic
            .get(&(from.as_str(), to.as_str()))
            .map_or(0, |e| e.count);
        edge_svg(out, (from, to), a, b, count, *old);
    }
    for name in &names {
        let Some(&(x, y)) = at.get(name) else {
            continue;
        };
        let s = stats.get(name.as_str());
        let (visits, drop) = s.map_or((0, 0), |s| (s.visits, s.drop_off));
        let _ = write!(
            out,
            "<g class=\"node\" data-node=\"{n}\" data-visits=\"{visits}\" data-drop-off=\"{drop}\">\
             <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"6\" \
             fill=\"{fill}\" stroke=\"#243b6b\"></rect>\
             <text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\" font-weight=\"600\">{n}</text>\
             <text x=\"{cx}\" y=\"{sy}\" text-anchor=\"middle\">{visits} visits · {drop} dropped</text></g>",
            n = esc(name),
            fill = drop_colour(drop as f64 / max_drop),
            cx = x + NODE_W / 2.0,
            ty = y + 19.0,
            sy = y + 36.0,
        );
    }
    out.push_str("</svg>");
    node_table(report, out);
    out.push_str("</section>");
}

fn edge_svg(
    out: &mut String,
    names: (&str, &str),
    a: (f64, f64),
    b: (f64, f64),
    count: u64,
    old: bool,
) {
    let (from, to) = names;
    let class = if old { "edge old" } else { "edge" };
    let width = 1.0 + (count as f64).ln_1p() * 1.5;
    let (path, label) = if from == to {
        let (x, y) = (a.0 + NODE_W, a.1 + NODE_H / 2.0);
        (
            format!(
                "M{},{} C{},{} {},{} {},{}",
                x,
                y - 10.0,
                x + 40.0,
                y - 30.0,
                x + 40.0,
                y + 30.0,
                x,
                y + 10.0
            ),
            (x + 34.0, y + 4.0),
        )
    } else {
        let down = b.1 > a.1;
        let (sx, sy) = (a.0 + NODE_W / 2.0, if down { a.1 + NODE_H } else { a.1 });
        let (ex, ey) = (b.0 + NODE_W / 2.0, if down { b.1 } else { b.1 + NODE_H });
        // Edges back up (loops) bend out to the side so they do not hide the ones going down.
        let bend = if down { 0.0 } else { NODE_W * 0.8 };
        let (mx, my) = ((sx + ex) / 2.0 + bend, (sy + ey) / 2.0);
        (
            format!("M{sx},{sy} Q{mx},{my} {ex},{ey}"),
            ((sx + ex) / 2.0 + bend / 2.0 + 6.0, my),
        )
    };
    let _ = write!(
        out,
        "<g data-edge=\"{f}->{t}\" data-count=\"{count}\"><path class=\"{class}\" d=\"{path}\" \
         stroke-width=\"{width:.1}\" marker-end=\"url(#arrow)\"></path>\
         <text class=\"count\" x=\"{lx:.1}\" y=\"{ly:.1}\">{count}</text></g>",
        f = esc(from),
        t = esc(to),
        lx = label.0,
        ly = label.1,
    );
}

/// White for no drop-off to red for the most.
fn drop_colour(share: f64) -> String {
    let lightness = 97.0 - 45.0 * share.clamp(0.0, 1.0);
    format!("hsl(4, 75%, {lightness:.0}%)")
}

fn node_table(report: &Report, out: &mut String) {
    out.push_str(
        "<table id=\"nodes\"><tr><th>node</th><th>visits</th><th>conversations</th>\
         <th>drop-off</th><th>invalid</th><th>fallbacks</th></tr>",
    );
    for n in &report.nodes {
        let gone = if n.in_flow == Some(false) {
            " (not in the current flow)"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr data-node=\"{name}\"><td>{name}{gone}</td><td data-metric=\"visits\">{}</td>\
             <td>{}</td><td data-metric=\"drop_off\">{}</td><td data-metric=\"invalid\">{}</td>\
             <td data-metric=\"fallbacks\">{}</td></tr>",
            n.visits,
            n.conversations,
            n.drop_off,
            n.invalid,
            n.fallbacks,
            name = esc(&n.node),
        );
    }
    out.push_str("</table>");
}

fn goal_funnel(report: &Report, out: &mut String) {
    let started = report.engagement.conversations;
    out.push_str("<section id=\"goals\"><h2>Goal funnel</h2>");
    let full = 420.0;
    let row = 30.0;
    let rows = report.goals.len() + 1;
    let _ = write!(
        out,
        "<svg width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"goal funnel\">",
        full + 260.0,
        rows as f64 * row + 10.0
    );
    let mut bar = |label: &str, reached: u64, share: f64, i: usize, goal: Option<&str>| {
        let w = (full * share).max(2.0);
        let x = 150.0 + (full - w) / 2.0;
        let y = 5.0 + i as f64 * row;
        let data = goal.map_or(String::new(), |g| {
            format!(" data-goal=\"{}\" data-reached=\"{reached}\"", esc(g))
        });
        let _ = write!(
            out,
            "<g class=\"funnel\"{data}><text x=\"0\" y=\"{ty}\">{label}</text>\
             <rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"#5b9b6b\"></rect>\
             <text x=\"{rx}\" y=\"{ty}\">{reached} ({pct})</text></g>",
            label = esc(label),
            ty = y + 17.0,
            h = row - 6.0,
            rx = 150.0 + full + 10.0,
            pct = percent(share),
        );
    };
    bar("started", started, 1.0, 0, None);
    for (i, g) in report.goals.iter().enumerate() {
        bar(&g.goal, g.reached, g.conversion, i + 1, Some(&g.goal));
    }
    out.push_str("</svg></section>");
}

fn apis(report: &Report, out: &mut String) {
    out.push_str("<section id=\"apis\"><h2>API health</h2><table><tr><th>api</th><th>calls</th>");
    for class in API_CLASSES {
        let _ = write!(out, "<th>{class}</th>");
    }
    out.push_str("<th>other</th><th>p50 ms</th><th>p95 ms</th></tr>");
    for a in &report.apis {
        let _ = write!(
            out,
            "<tr data-api=\"{n}\"><td>{n}</td><td data-metric=\"calls\">{}</td>",
            a.calls,
            n = esc(&a.api)
        );
        for class in API_CLASSES {
            let _ = write!(
                out,
                "<td data-metric=\"{class}\">{}</td>",
                class_count(a, class)
            );
        }
        let _ = write!(
            out,
            "<td data-metric=\"other\">{}</td><td data-metric=\"p50_ms\">{}</td><td data-metric=\"p95_ms\">{}</td></tr>",
            other_count(a),
            a.p50_ms,
            a.p95_ms
        );
    }
    out.push_str("</table></section>");
}

/// Text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<b a=\"1\">&'"), "&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn layers_follow_the_distance_from_the_start() {
        let names: Vec<String> = ["a", "b", "c", "lost"].map(String::from).to_vec();
        let edges = vec![
            ("a".to_string(), "b".to_string()),
            ("b".to_string(), "c".to_string()),
            ("c".to_string(), "a".to_string()),
        ];
        let at = layout(&names, Some("a"), &edges);
        assert!(at["a"].1 < at["b"].1 && at["b"].1 < at["c"].1);
        assert!(at["lost"].1 > at["c"].1, "unreached nodes go last");
    }
}

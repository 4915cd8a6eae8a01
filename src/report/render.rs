//! A [`Report`] as text (aligned tables), JSON, or CSV (one `section,key,metric,value` row per
//! number, easy to pivot in a spreadsheet).

use std::fmt::Write as _;

use super::Report;

/// The outcome classes API health always shows, in order; any other class is `other`.
pub const API_CLASSES: &[&str] = &["2xx", "4xx", "5xx", "timeout", "connect_error"];

/// The report as pretty JSON.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// The report as text: a heading and one aligned table per part.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let e = &report.engagement;
    let _ = writeln!(out, "Chatbot report, {}", period(report));
    out.push('\n');
    out.push_str("Bot engagement\n");
    let abandoned = format!("{} (expired {}, idle {})", e.abandoned, e.expired, e.idle);
    let lines: Vec<Vec<String>> = [
        ("conversations", e.conversations.to_string()),
        ("visitor messages", e.messages_in.to_string()),
        ("bot messages", e.messages_out.to_string()),
        ("completed", e.completed.to_string()),
        ("transferred", e.transferred.to_string()),
        ("failed", e.failed.to_string()),
        ("abandoned", abandoned),
        ("active", e.active.to_string()),
        ("median messages", number(e.median_messages)),
        (
            "median duration",
            format!("{} s", number(e.median_duration_s)),
        ),
    ]
    .into_iter()
    .map(|(k, v)| vec![k.to_string(), v])
    .collect();
    out.push_str(&table(&[], &lines, false));
    out.push('\n');
    let days: Vec<Vec<String>> = report
        .by_day
        .iter()
        .map(|d| {
            vec![
                d.day.clone(),
                d.conversations.to_string(),
                d.messages_in.to_string(),
                d.messages_out.to_string(),
                d.completed.to_string(),
                d.transferred.to_string(),
                d.failed.to_string(),
                d.abandoned.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "day",
            "conversations",
            "visitor msgs",
            "bot msgs",
            "completed",
            "transferred",
            "failed",
            "abandoned",
        ],
        &days,
        true,
    ));
    out.push('\n');
    flow_text(report, &mut out);
    goals_text(report, &mut out);
    apis_text(report, &mut out);
    out
}

fn period(report: &Report) -> String {
    let p = &report.period;
    match (&p.since, &p.until) {
        (None, None) => "all conversations".to_string(),
        (Some(s), None) => format!("conversations started from {s}"),
        (None, Some(u)) => format!("conversations started up to {u}"),
        (Some(s), Some(u)) => format!("conversations started {s} to {u}"),
    }
}

fn flow_text(report: &Report, out: &mut String) {
    out.push_str("Flow versions\n");
    let versions: Vec<Vec<String>> = report
        .flow_versions
        .iter()
        .map(|v| {
            let mark = match v.current {
                Some(true) => "current",
                Some(false) => "older",
                None => "",
            };
            vec![
                v.version.clone(),
                v.turns.to_string(),
                v.first_at.clone(),
                v.last_at.clone(),
                mark.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["version", "turns", "first turn", "last turn", ""],
        &versions,
        true,
    ));
    out.push('\n');
    out.push_str("Flow engagement\n");
    let nodes: Vec<Vec<String>> = report
        .nodes
        .iter()
        .map(|n| {
            let mut name = n.node.clone();
            if n.in_flow == Some(false) {
                name.push_str(" (not in the current flow)");
            }
            vec![
                name,
                n.visits.to_string(),
                n.conversations.to_string(),
                n.drop_off.to_string(),
                n.invalid.to_string(),
                n.fallbacks.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "node",
            "visits",
            "conversations",
            "drop-off",
            "invalid",
            "fallbacks",
        ],
        &nodes,
        true,
    ));
    out.push('\n');
    out.push_str("Paths taken\n");
    let edges: Vec<Vec<String>> = report
        .edges
        .iter()
        .map(|e| vec![e.from.clone(), e.to.clone(), e.count.to_string()])
        .collect();
    out.push_str(&table(&["from", "to", "count"], &edges, true));
    out.push('\n');
}

fn goals_text(report: &Report, out: &mut String) {
    out.push_str("Goals\n");
    let goals: Vec<Vec<String>> = report
        .goals
        .iter()
        .map(|g| vec![g.goal.clone(), g.reached.to_string(), percent(g.conversion)])
        .collect();
    out.push_str(&table(&["goal", "reached", "conversion"], &goals, true));
    let by_day: Vec<Vec<String>> = report
        .goals
        .iter()
        .flat_map(|g| {
            g.by_day.iter().map(|d| {
                vec![
                    g.goal.clone(),
                    d.day.clone(),
                    d.started.to_string(),
                    d.reached.to_string(),
                    percent(d.conversion),
                ]
            })
        })
        .collect();
    if !by_day.is_empty() {
        out.push('\n');
        out.push_str(&table(
            &["goal", "day", "started", "reached", "conversion"],
            &by_day,
            true,
        ));
    }
    out.push('\n');
}

fn apis_text(report: &Report, out: &mut String) {
    out.push_str("API health\n");
    let rows: Vec<Vec<String>> = report
        .apis
        .iter()
        .map(|a| {
            let mut row = vec![a.api.clone(), a.calls.to_string()];
            row.extend(API_CLASSES.iter().map(|c| class_count(a, c).to_string()));
            row.push(other_count(a).to_string());
            row.push(a.p50_ms.to_string());
            row.push(a.p95_ms.to_string());
            row
        })
        .collect();
    let mut headers = vec!["api", "calls"];
    headers.extend(API_CLASSES);
    headers.extend(["other", "p50 ms", "p95 ms"]);
    out.push_str(&table(&headers, &rows, true));
}

/// Calls of `api` in outcome class `class`.
pub fn class_count(api: &super::compute::ApiStats, class: &str) -> u64 {
    api.outcomes.get(class).copied().unwrap_or(0)
}

/// Calls of `api` in classes outside [`API_CLASSES`].
pub fn other_count(api: &super::compute::ApiStats) -> u64 {
    api.outcomes
        .iter()
        .filter(|(c, _)| !API_CLASSES.contains(&c.as_str()))
        .map(|(_, n)| n)
        .sum()
}

/// Rows under `headers` (none: no header line), two spaces in, columns two spaces apart;
/// the first column left-aligned, the others right-aligned. An empty table says `(none)`.
fn table(headers: &[&str], rows: &[Vec<String>], with_headers: bool) -> String {
    if rows.is_empty() {
        return "  (none)\n".to_string();
    }
    let columns = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(headers.len());
    let mut widths = vec![0; columns];
    let header_row: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let all = rows.iter().chain(with_headers.then_some(&header_row));
    for row in all {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        let mut text = String::from(" ");
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            text.push(' ');
            if i == 0 {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push(' ');
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    if with_headers {
        line(&header_row);
    }
    for row in rows {
        line(row);
    }
    out
}

/// The report as CSV: a header, then `section,key,metric,value` rows.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("section,key,metric,value\n");
    let mut row = |section: &str, key: &str, metric: &str, value: String| {
        let _ = writeln!(
            out,
            "{},{},{},{}",
            field(section),
            field(key),
            field(metric),
            field(&value)
        );
    };
    let e = &report.engagement;
    for (metric, value) in [
        ("conversations", e.conversations.to_string()),
        ("messages_in", e.messages_in.to_string()),
        ("messages_out", e.messages_out.to_string()),
        ("completed", e.completed.to_string()),
        ("transferred", e.transferred.to_string()),
        ("failed", e.failed.to_string()),
        ("abandoned", e.abandoned.to_string()),
        ("expired", e.expired.to_string()),
        ("idle", e.idle.to_string()),
        ("active", e.active.to_string()),
        ("median_messages", number(e.median_messages)),
        ("median_duration_s", number(e.median_duration_s)),
    ] {
        row("engagement", "", metric, value);
    }
    for d in &report.by_day {
        for (metric, value) in [
            ("conversations", d.conversations),
            ("messages_in", d.messages_in),
            ("messages_out", d.messages_out),
            ("completed", d.completed),
            ("transferred", d.transferred),
            ("failed", d.failed),
            ("abandoned", d.abandoned),
        ] {
            row("day", &d.day, metric, value.to_string());
        }
    }
    for v in &report.flow_versions {
        row("flow_version", &v.version, "turns", v.turns.to_string());
    }
    for n in &report.nodes {
        for (metric, value) in [
            ("visits", n.visits),
            ("conversations", n.conversations),
            ("drop_off", n.drop_off),
            ("invalid", n.invalid),
            ("fallbacks", n.fallbacks),
        ] {
            row("node", &n.node, metric, value.to_string());
        }
    }
    for e in &report.edges {
        row(
            "edge",
            &format!("{}->{}", e.from, e.to),
            "count",
            e.count.to_string(),
        );
    }
    for g in &report.goals {
        row("goal", &g.goal, "reached", g.reached.to_string());
        row("goal", &g.goal, "conversion", number(g.conversion));
    }
    for a in &report.apis {
        row("api", &a.api, "calls", a.calls.to_string());
        for class in API_CLASSES {
            row("api", &a.api, class, class_count(a, class).to_string());
        }
        row("api", &a.api, "other", other_count(a).to_string());
        row("api", &a.api, "p50_ms", a.p50_ms.to_string());
        row("api", &a.api, "p95_ms", a.p95_ms.to_string());
    }
    out
}

/// A CSV field, quoted when it has a comma, quote or line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A number in its shortest form, at most three decimals.
pub fn number(x: f64) -> String {
    // f64's `Display` is already the shortest form (`2`, `0.5`).
    format!("{}", (x * 1000.0).round() / 1000.0)
}

/// A ratio as a percentage with one decimal.
pub fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("plain"), "plain");
    }

    #[test]
    fn tables_align_and_say_none() {
        let t = table(
            &["a", "n"],
            &[vec!["x".into(), "10".into()], vec!["yy".into(), "2".into()]],
            true,
        );
        assert_eq!(t, "  a    n\n  x   10\n  yy   2\n");
        assert_eq!(table(&["a"], &[], true), "  (none)\n");
    }
}

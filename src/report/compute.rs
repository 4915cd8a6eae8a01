//! From stored rows to the numbers of a report: bot engagement, flow engagement, goals and API
//! health. Plain functions over [`Rows`]; no store, no clock (the caller says what `now` is).
//!
//! Definitions (also in `docs/reports.md`):
//! - a conversation is **completed** when the flow closed it, **transferred** when it went to
//!   a human, **failed** when its opening turn failed, **abandoned** when it expired (closed
//!   at its next message after `--session-ttl`) or has waited longer than [`Options::idle`];
//!   the rest are **active**;
//! - **length** is the number of visitor messages; its median is over all conversations;
//! - **drop-off** of a node counts the abandoned conversations that stopped in it;
//! - a goal's **conversion** is the share of the period's conversations that reached it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{Rows, TurnTrace};
use crate::graph::Graph;

/// How to compute a report.
#[derive(Debug, Clone)]
pub struct Options {
    /// The time idle is measured against.
    pub now: DateTime<Utc>,
    /// A waiting conversation idle longer than this counts as abandoned.
    pub idle: Duration,
    /// First day of the period (`YYYY-MM-DD`, UTC), shown in the report.
    pub since: Option<String>,
    /// Last day of the period, shown in the report.
    pub until: Option<String>,
    /// The flow as it is now (its graph, version and goals), when known: nodes and goals no
    /// conversation reached are listed with zeros, nodes gone from it are marked.
    pub flow: Option<FlowNow>,
}

/// The current flow, for a report that compares stored traffic with it.
#[derive(Debug, Clone)]
pub struct FlowNow {
    /// Its graph ([`crate::graph::build`]).
    pub graph: Graph,
    /// Its content hash, as stored with each turn.
    pub version: String,
    /// Its goals, in program order.
    pub goals: Vec<String>,
}

impl FlowNow {
    /// The current flow `program`, whose content hash is `version`.
    pub fn of(program: &crate::ir::Program, version: String) -> FlowNow {
        let mut goals: Vec<String> = Vec::new();
        for node in &program.nodes {
            for stmt in &node.stmts {
                if let crate::ir::Stmt::Goal(name) = stmt {
                    if !goals.contains(name) {
                        goals.push(name.clone());
                    }
                }
            }
        }
        FlowNow {
            graph: crate::graph::build(program),
            version,
            goals,
        }
    }
}

/// A report, as `--format json` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The period and when the report was made.
    pub period: Period,
    /// Bot engagement over the period.
    pub engagement: Engagement,
    /// Bot engagement by day (UTC).
    pub by_day: Vec<Day>,
    /// The flow versions the turns ran on.
    pub flow_versions: Vec<VersionUse>,
    /// Flow engagement per node, by name.
    pub nodes: Vec<NodeStats>,
    /// Transitions taken, with their counts.
    pub edges: Vec<EdgeStats>,
    /// Goal analysis.
    pub goals: Vec<GoalStats>,
    /// API health.
    pub apis: Vec<ApiStats>,
    /// The current flow's graph, for drawing it.
    #[serde(skip)]
    pub graph: Option<Graph>,
}

/// The period a report covers.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// First day, inclusive; `None`: from the first conversation.
    pub since: Option<String>,
    /// Last day, inclusive; `None`: up to now.
    pub until: Option<String>,
    /// When the report was computed (RFC 3339).
    pub generated_at: String,
}

/// Bot engagement.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Engagement {
    /// Conversations started in the period.
    pub conversations: u64,
    /// Messages from visitors.
    pub messages_in: u64,
    /// Messages from the bot.
    pub messages_out: u64,
    /// Closed by the flow.
    pub completed: u64,
    /// Handed to a human.
    pub transferred: u64,
    /// Failed to start.
    pub failed: u64,
    /// Expired or idle.
    pub abandoned: u64,
    /// Of the abandoned: closed at a message after the session TTL.
    pub expired: u64,
    /// Of the abandoned: still waiting, idle longer than the idle limit.
    pub idle: u64,
    /// Waiting, not idle yet.
    pub active: u64,
    /// Median visitor messages per conversation.
    pub median_messages: f64,
    /// Median time from the first to the last turn, in seconds.
    pub median_duration_s: f64,
}

/// One day of bot engagement.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    /// Conversations started that day.
    pub conversations: u64,
    /// Visitor messages that day.
    pub messages_in: u64,
    /// Bot messages that day.
    pub messages_out: u64,
    /// Of the conversations started that day: completed.
    pub completed: u64,
    /// ... transferred.
    pub transferred: u64,
    /// ... failed.
    pub failed: u64,
    /// ... abandoned.
    pub abandoned: u64,
}

/// How much one flow version ran.
#[derive(Debug, Clone, Serialize)]
pub struct VersionUse {
    /// The flow's content hash.
    pub version: String,
    /// Turns that ran on it.
    pub turns: u64,
    /// First turn on it (RFC 3339).
    pub first_at: String,
    /// Last turn on it.
    pub last_at: String,
    /// Whether it is the flow given to the report (`None`: no flow given).
    pub current: Option<bool>,
}

/// Flow engagement of one node.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeStats {
    /// The node's name.
    pub node: String,
    /// Entries into the node.
    pub visits: u64,
    /// Conversations that entered it.
    pub conversations: u64,
    /// Abandoned conversations that stopped here.
    pub drop_off: u64,
    /// Answers refused here (by attribute: see `invalid_by_attr`).
    pub invalid: u64,
    /// Refused answers per attribute asked here.
    pub invalid_by_attr: BTreeMap<String, u64>,
    /// Menu, carousel or form answers that matched nothing here.
    pub fallbacks: u64,
    /// The flow versions whose turns entered it.
    pub versions: Vec<String>,
    /// Whether the current flow has this node (`None`: no flow given).
    pub in_flow: Option<bool>,
}

/// A transition and how often it was taken.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeStats {
    /// The node it leaves.
    pub from: String,
    /// The node it enters.
    pub to: String,
    /// Times taken.
    pub count: u64,
}

/// One goal.
#[derive(Debug, Clone, Serialize)]
pub struct GoalStats {
    /// The goal's name.
    pub goal: String,
    /// Conversations that reached it.
    pub reached: u64,
    /// `reached / conversations` (0 without conversations).
    pub conversion: f64,
    /// By the day the conversations started.
    pub by_day: Vec<GoalDay>,
}

/// A goal on one day.
#[derive(Debug, Clone, Serialize)]
pub struct GoalDay {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    /// Conversations started that day.
    pub started: u64,
    /// Of those, the ones that reached the goal.
    pub reached: u64,
    /// `reached / started`.
    pub conversion: f64,
}

/// API health of one API.
#[derive(Debug, Clone, Serialize)]
pub struct ApiStats {
    /// The API's name.
    pub api: String,
    /// Calls made.
    pub calls: u64,
    /// Calls per outcome class (`2xx`, `4xx`, `5xx`, `timeout`, `connect_error`, ...).
    pub outcomes: BTreeMap<String, u64>,
    /// Median latency, ms (nearest rank).
    pub p50_ms: u64,
    /// 95th percentile latency, ms (nearest rank).
    pub p95_ms: u64,
}

/// How a conversation ended (or has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Completed,
    Transferred,
    Failed,
    Expired,
    Idle,
    Active,
}

impl Outcome {
    fn abandoned(self) -> bool {
        matches!(self, Outcome::Expired | Outcome::Idle)
    }
}

/// What one conversation contributed, gathered from its turns.
#[derive(Default)]
struct PerConversation {
    messages_in: u64,
    expired: bool,
    goals: BTreeSet<String>,
    nodes: BTreeSet<String>,
    first_at: Option<String>,
    last_at: Option<String>,
}

/// Computes a report from `rows`.
pub fn compute(rows: &Rows, options: &Options) -> Report {
    let mut per: HashMap<&str, PerConversation> = HashMap::new();
    let mut nodes: BTreeMap<String, NodeStats> = BTreeMap::new();
    let mut edges: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut versions: BTreeMap<String, VersionUse> = BTreeMap::new();
    let mut latencies: BTreeMap<String, (Vec<u64>, BTreeMap<String, u64>)> = BTreeMap::new();
    let mut days: BTreeMap<String, Day> = BTreeMap::new();
    let mut engagement = Engagement::default();

    for turn in &rows.turns {
        let trace = turn.trace();
        let conv = per.entry(turn.conversation.as_str()).or_default();
        let day = days.entry(day_of(&turn.at)).or_default();
        if turn.has_message {
            conv.messages_in += 1;
            engagement.messages_in += 1;
            day.messages_in += 1;
        }
        engagement.messages_out += u64::from(trace.sent);
        day.messages_out += u64::from(trace.sent);
        conv.expired |= trace.expired;
        conv.goals.extend(trace.goals.iter().cloned());
        if conv.first_at.is_none() {
            conv.first_at = Some(turn.at.clone());
        }
        conv.last_at = Some(turn.at.clone());
        count_version(&mut versions, turn);
        count_nodes(&mut nodes, &mut edges, &trace, &turn.flow_version, conv);
        for call in &trace.api {
            let (ms, classes) = latencies.entry(call.api.clone()).or_default();
            ms.push(call.ms);
            *classes.entry(call.class.clone()).or_default() += 1;
        }
    }

    let mut lengths = Vec::new();
    let mut durations = Vec::new();
    let mut goals_by_day: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut started_by_day: BTreeMap<String, u64> = BTreeMap::new();
    for c in &rows.conversations {
        let empty = PerConversation::default();
        let conv = per.get(c.id.as_str()).unwrap_or(&empty);
        let outcome = outcome(&c.state, &c.updated_at, conv.expired, options);
        let start_day = day_of(&c.created_at);
        engagement.conversations += 1;
        *started_by_day.entry(start_day.clone()).or_default() += 1;
        let day = days.entry(start_day.clone()).or_default();
        day.conversations += 1;
        tally(&mut engagement, day, outcome);
        if outcome.abandoned() {
            nodes.entry(c.node.clone()).or_default().drop_off += 1;
        }
        for goal in &conv.goals {
            *goals_by_day
                .entry(goal.clone())
                .or_default()
                .entry(start_day.clone())
                .or_default() += 1;
        }
        lengths.push(conv.messages_in as f64);
        durations.push(seconds_between(&c.created_at, &c.updated_at));
    }
    engagement.median_messages = median(&mut lengths);
    engagement.median_duration_s = median(&mut durations);

    let flow = options.flow.as_ref();
    Report {
        period: Period {
            since: options.since.clone(),
            until: options.until.clone(),
            generated_at: options
                .now
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
        by_day: days.into_iter().map(|(day, d)| Day { day, ..d }).collect(),
        engagement,
        flow_versions: finish_versions(versions, flow),
        nodes: finish_nodes(nodes, flow),
        edges: finish_edges(edges),
        goals: finish_goals(
            goals_by_day,
            &started_by_day,
            rows.conversations.len(),
            flow,
        ),
        apis: finish_apis(latencies),
        graph: flow.map(|f| f.graph.clone()),
    }
}

fn count_version(versions: &mut BTreeMap<String, VersionUse>, turn: &super::TurnRow) {
    let v = versions
        .entry(turn.flow_version.clone())
        .or_insert_with(|| VersionUse {
            version: turn.flow_version.clone(),
            turns: 0,
            first_at: turn.at.clone(),
            last_at: turn.at.clone(),
            current: None,
        });
    v.turns += 1;
    if turn.at < v.first_at {
        v.first_at.clone_from(&turn.at);
    }
    if turn.at > v.last_at {
        v.last_at.clone_from(&turn.at);
    }
}

fn count_nodes(
    nodes: &mut BTreeMap<String, NodeStats>,
    edges: &mut BTreeMap<(String, String), u64>,
    trace: &TurnTrace,
    version: &str,
    conv: &mut PerConversation,
) {
    for name in &trace.nodes {
        let n = nodes.entry(name.clone()).or_default();
        n.visits += 1;
        if conv.nodes.insert(name.clone()) {
            n.conversations += 1;
        }
        if !n.versions.iter().any(|v| v == version) {
            n.versions.push(version.to_string());
        }
    }
    for edge in &trace.edges {
        *edges.entry(edge.clone()).or_default() += 1;
    }
    for (node, attr) in &trace.invalid {
        let n = nodes.entry(node.clone()).or_default();
        n.invalid += 1;
        *n.invalid_by_attr.entry(attr.clone()).or_default() += 1;
    }
    for node in &trace.fallbacks {
        nodes.entry(node.clone()).or_default().fallbacks += 1;
    }
}

fn outcome(state: &str, updated_at: &str, expired: bool, options: &Options) -> Outcome {
    if expired {
        return Outcome::Expired;
    }
    match state {
        "closed" => Outcome::Completed,
        "transferred" => Outcome::Transferred,
        "failed" => Outcome::Failed,
        _ => match DateTime::parse_from_rfc3339(updated_at) {
            Ok(at) if options.now.signed_duration_since(at) > options.idle => Outcome::Idle,
            _ => Outcome::Active,
        },
    }
}

fn tally(e: &mut Engagement, day: &mut Day, outcome: Outcome) {
    match outcome {
        Outcome::Completed => {
            e.completed += 1;
            day.completed += 1;
        }
        Outcome::Transferred => {
            e.transferred += 1;
            day.transferred += 1;
        }
        Outcome::Failed => {
            e.failed += 1;
            day.failed += 1;
        }
        Outcome::Expired | Outcome::Idle => {
            e.abandoned += 1;
            day.abandoned += 1;
            if outcome == Outcome::Expired {
                e.expired += 1;
            } else {
                e.idle += 1;
            }
        }
        Outcome::Active => e.active += 1,
    }
}

fn finish_versions(
    versions: BTreeMap<String, VersionUse>,
    flow: Option<&FlowNow>,
) -> Vec<VersionUse> {
    let mut out: Vec<VersionUse> = versions
        .into_values()
        .map(|v| VersionUse {
            current: flow.map(|f| f.version == v.version),
            ..v
        })
        .collect();
    out.sort_by(|a, b| a.first_at.cmp(&b.first_at).then(a.version.cmp(&b.version)));
    out
}

/// Nodes in the current flow's order (with zeros for nodes nobody entered), then the nodes
/// only older versions had, by name. Without a flow: by name.
fn finish_nodes(mut nodes: BTreeMap<String, NodeStats>, flow: Option<&FlowNow>) -> Vec<NodeStats> {
    let mut out = Vec::new();
    if let Some(flow) = flow {
        for vertex in &flow.graph.vertices {
            let stats = nodes.remove(&vertex.name).unwrap_or_default();
            out.push(NodeStats {
                node: vertex.name.clone(),
                in_flow: Some(true),
                ..stats
            });
        }
    }
    for (name, stats) in nodes {
        out.push(NodeStats {
            node: name,
            in_flow: flow.map(|_| false),
            ..stats
        });
    }
    out
}

fn finish_edges(edges: BTreeMap<(String, String), u64>) -> Vec<EdgeStats> {
    edges
        .into_iter()
        .map(|((from, to), count)| EdgeStats { from, to, count })
        .collect()
}

fn finish_goals(
    mut reached: BTreeMap<String, BTreeMap<String, u64>>,
    started_by_day: &BTreeMap<String, u64>,
    conversations: usize,
    flow: Option<&FlowNow>,
) -> Vec<GoalStats> {
    let mut names: Vec<String> = flow.map(|f| f.goals.clone()).unwrap_or_default();
    let mut seen: Vec<&String> = reached.keys().filter(|g| !names.contains(g)).collect();
    seen.sort();
    let extra: Vec<String> = seen.into_iter().cloned().collect();
    names.extend(extra);
    names
        .into_iter()
        .map(|goal| {
            let days = reached.remove(&goal).unwrap_or_default();
            let total: u64 = days.values().sum();
            GoalStats {
                by_day: started_by_day
                    .iter()
                    .map(|(day, &started)| {
                        let r = days.get(day).copied().unwrap_or(0);
                        GoalDay {
                            day: day.clone(),
                            started,
                            reached: r,
                            conversion: ratio(r, started),
                        }
                    })
                    .collect(),
                goal,
                reached: total,
                conversion: ratio(total, conversations as u64),
            }
        })
        .collect()
}

fn finish_apis(latencies: BTreeMap<String, (Vec<u64>, BTreeMap<String, u64>)>) -> Vec<ApiStats> {
    latencies
        .into_iter()
        .map(|(api, (mut ms, outcomes))| {
            ms.sort_unstable();
            ApiStats {
                api,
                calls: ms.len() as u64,
                p50_ms: nearest_rank(&ms, 0.50),
                p95_ms: nearest_rank(&ms, 0.95),
                outcomes,
            }
        })
        .collect()
}

/// The `p` quantile of sorted `values` by nearest rank (0 for none).
pub fn nearest_rank(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median (mean of the middle two for an even count; 0 for none).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// `YYYY-MM-DD` of an RFC 3339 UTC time (its first ten characters).
fn day_of(at: &str) -> String {
    at.get(..10).unwrap_or(at).to_string()
}

fn seconds_between(from: &str, to: &str) -> f64 {
    match (
        DateTime::parse_from_rfc3339(from),
        DateTime::parse_from_rfc3339(to),
    ) {
        (Ok(a), Ok(b)) => (b.signed_duration_since(a).num_milliseconds().max(0) as f64) / 1000.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ConversationRow, TurnRow};

    fn conversation(
        id: &str,
        state: &str,
        node: &str,
        created: &str,
        updated: &str,
    ) -> ConversationRow {
        ConversationRow {
            id: id.into(),
            state: state.into(),
            node: node.into(),
            created_at: created.into(),
            updated_at: updated.into(),
        }
    }

    fn turn(conversation: &str, seq: i64, at: &str, trace: serde_json::Value) -> TurnRow {
        TurnRow {
            conversation: conversation.into(),
            seq,
            has_message: seq > 1,
            events: "[]".into(),
            trace: Some(trace.to_string()),
            flow_version: "v1".into(),
            at: at.into(),
        }
    }

    fn options() -> Options {
        Options {
            now: DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            idle: Duration::minutes(30),
            since: None,
            until: None,
            flow: None,
        }
    }

    fn sample() -> Rows {
        use serde_json::json;
        Rows {
            conversations: vec![
                conversation(
                    "a",
                    "closed",
                    "done",
                    "2026-03-01T10:00:00Z",
                    "2026-03-01T10:01:00Z",
                ),
                conversation(
                    "b",
                    "waiting",
                    "greet",
                    "2026-03-01T11:00:00Z",
                    "2026-03-01T11:00:00Z",
                ),
                conversation(
                    "c",
                    "closed",
                    "greet",
                    "2026-03-02T09:00:00Z",
                    "2026-03-02T11:50:00Z",
                ),
                conversation(
                    "d",
                    "waiting",
                    "greet",
                    "2026-03-02T11:59:00Z",
                    "2026-03-02T11:59:00Z",
                ),
            ],
            turns: vec![
                turn(
                    "a",
                    1,
                    "2026-03-01T10:00:00Z",
                    json!({"nodes": ["greet"], "sent": 2, "node": "greet"}),
                ),
                turn(
                    "a",
                    2,
                    "2026-03-01T10:01:00Z",
                    json!({
                        "nodes": ["lookup", "done"], "edges": [["greet", "lookup"], ["lookup", "done"]],
                        "goals": ["asked"], "sent": 1, "node": "done",
                        "api": [{"api": "weather", "class": "2xx", "ms": 10}, {"api": "weather", "class": "5xx", "ms": 30}]
                    }),
                ),
                turn(
                    "b",
                    1,
                    "2026-03-01T11:00:00Z",
                    json!({"nodes": ["greet"], "sent": 2, "node": "greet"}),
                ),
                turn(
                    "c",
                    1,
                    "2026-03-02T09:00:00Z",
                    json!({"nodes": ["greet"], "sent": 2, "node": "greet"}),
                ),
                turn(
                    "c",
                    2,
                    "2026-03-02T09:01:00Z",
                    json!({"invalid": [["greet", "city"]], "sent": 1, "node": "greet"}),
                ),
                turn(
                    "c",
                    3,
                    "2026-03-02T11:50:00Z",
                    json!({"expired": true, "sent": 1, "node": "greet"}),
                ),
                turn(
                    "d",
                    1,
                    "2026-03-02T11:59:00Z",
                    json!({"nodes": ["greet"], "sent": 2, "node": "greet"}),
                ),
            ],
        }
    }

    #[test]
    fn engagement_classifies_every_conversation() {
        let r = compute(&sample(), &options());
        let e = &r.engagement;
        assert_eq!(e.conversations, 4);
        assert_eq!(
            (e.completed, e.abandoned, e.expired, e.idle, e.active),
            (1, 2, 1, 1, 1)
        );
        assert_eq!((e.messages_in, e.messages_out), (3, 11));
        // lengths 1, 0, 2, 0 -> median 0.5
        assert_eq!(e.median_messages, 0.5);
        assert_eq!(r.by_day.len(), 2);
        assert_eq!(r.by_day[0].conversations, 2);
        assert_eq!(r.by_day[1].abandoned, 1);
    }

    #[test]
    fn flow_engagement_counts_visits_edges_and_drop_off() {
        let r = compute(&sample(), &options());
        let greet = r.nodes.iter().find(|n| n.node == "greet").unwrap();
        assert_eq!(
            (
                greet.visits,
                greet.conversations,
                greet.drop_off,
                greet.invalid
            ),
            (4, 4, 2, 1)
        );
        assert_eq!(greet.invalid_by_attr.get("city"), Some(&1));
        assert_eq!(r.edges.len(), 2);
        assert_eq!(
            (
                r.edges[0].from.as_str(),
                r.edges[0].to.as_str(),
                r.edges[0].count
            ),
            ("greet", "lookup", 1)
        );
    }

    #[test]
    fn goals_convert_from_the_conversations_started() {
        let r = compute(&sample(), &options());
        assert_eq!(r.goals.len(), 1);
        assert_eq!(r.goals[0].reached, 1);
        assert_eq!(r.goals[0].conversion, 0.25);
        assert_eq!(r.goals[0].by_day[0].conversion, 0.5);
        assert_eq!(r.goals[0].by_day[1].reached, 0);
    }

    #[test]
    fn api_health_by_outcome_with_percentiles() {
        let r = compute(&sample(), &options());
        let w = &r.apis[0];
        assert_eq!((w.calls, w.p50_ms, w.p95_ms), (2, 10, 30));
        assert_eq!(w.outcomes.get("5xx"), Some(&1));
    }

    #[test]
    fn nearest_rank_and_median() {
        let v: Vec<u64> = (1..=20).collect();
        assert_eq!(nearest_rank(&v, 0.5), 10);
        assert_eq!(nearest_rank(&v, 0.95), 19);
        assert_eq!(nearest_rank(&[], 0.5), 0);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    }
}

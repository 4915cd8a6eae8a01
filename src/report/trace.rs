//! What a stored turn keeps for reports: the nodes it entered, the edges it took, goals, API
//! calls (outcome class and latency), refused answers and fallbacks, condensed from the
//! engine's events (trace events included) into one small JSON value per turn.

use serde::{Deserialize, Serialize};

use crate::runtime::Event;

/// One turn, as reports read it. Stored as JSON in the turn's `trace` column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnTrace {
    /// Nodes entered, in order (a node entered twice is listed twice).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// Transitions taken (`goto`, branch arms, menu picks), as (from, to) node names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<(String, String)>,
    /// Goals reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goals: Vec<String>,
    /// API calls, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api: Vec<ApiTrace>,
    /// Refused answers, as (node, attribute).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<(String, String)>,
    /// Menus, carousels and forms whose answer matched nothing, by node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Messages the bot sent (texts, options, cards, media, forms).
    #[serde(default)]
    pub sent: u32,
    /// The node the conversation was in when the turn ended.
    #[serde(default)]
    pub node: String,
    /// The turn closed the conversation because it had been idle too long.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
}

/// One API call of a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiTrace {
    /// The API's name.
    pub api: String,
    /// `2xx`, `4xx`, `5xx`, `timeout`, `connect_error`, ... ([`outcome_class`]).
    pub class: String,
    /// Time from the first attempt to the last answer, in milliseconds.
    pub ms: u64,
}

/// The outcome class of an API call: the status family, or why no answer came.
pub fn outcome_class(status: u16, error: Option<&str>) -> &'static str {
    match (status, error) {
        (0, Some("timeout")) => "timeout",
        (0, Some("connect")) => "connect_error",
        (0, _) => "error",
        (100..=199, _) => "1xx",
        (200..=299, _) => "2xx",
        (300..=399, _) => "3xx",
        (400..=499, _) => "4xx",
        _ => "5xx",
    }
}

/// Whether an event is trace-only (emitted only with `EngineConfig::trace`): such events are
/// kept in the trace and not shown to visitors.
pub fn is_trace_only(event: &Event) -> bool {
    matches!(
        event,
        Event::NodeEntered { .. }
            | Event::Returned { .. }
            | Event::Condition { .. }
            | Event::Fallback { .. }
    )
}

impl TurnTrace {
    /// Condenses a turn's events. `waiting_in` is the node the conversation waited in before
    /// the turn (`None` for the opening turn), so the first node entered makes an edge from it.
    pub fn from_events(waiting_in: Option<&str>, events: &[Event]) -> TurnTrace {
        let mut trace = TurnTrace::default();
        let mut current: Option<String> = waiting_in.map(str::to_string);
        for event in events {
            match event {
                Event::NodeEntered { node } => {
                    if let Some(from) = current.take() {
                        trace.edges.push((from, node.clone()));
                    }
                    trace.nodes.push(node.clone());
                    current = Some(node.clone());
                }
                Event::Returned { node } => current = Some(node.clone()),
                Event::Fallback { node } => trace.fallbacks.push(node.clone()),
                Event::Invalid { attr, .. } => trace
                    .invalid
                    .push((current.clone().unwrap_or_default(), attr.clone())),
                Event::Goal { name, .. } => trace.goals.push(name.clone()),
                Event::ApiCall {
                    api,
                    status,
                    error,
                    latency_ms,
                    ..
                } => trace.api.push(ApiTrace {
                    api: api.clone(),
                    class: outcome_class(*status, error.as_deref()).to_string(),
                    ms: *latency_ms,
                }),
                Event::Say { .. }
                | Event::Choices { .. }
                | Event::Carousel { .. }
                | Event::Media { .. }
                | Event::Form { .. } => trace.sent += 1,
                _ => {}
            }
        }
        trace.node = current.unwrap_or_default();
        trace
    }

    /// What a turn stored before traces were kept tells: goals, API calls, refused answers
    /// and messages sent (no nodes or edges: those events were not recorded).
    pub fn from_stored_events(events: &str) -> TurnTrace {
        let events: Vec<Event> = serde_json::from_str::<Vec<serde_json::Value>>(events)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| serde_json::from_value(e).ok())
            .collect();
        TurnTrace::from_events(None, &events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entered(node: &str) -> Event {
        Event::NodeEntered { node: node.into() }
    }

    #[test]
    fn edges_start_at_the_node_the_turn_waited_in() {
        let events = vec![
            Event::Invalid {
                attr: "city".into(),
                kind: "text".into(),
                answer: "?".into(),
            },
            entered("lookup"),
            Event::ApiCall {
                api: "weather".into(),
                method: "GET".into(),
                url: "u".into(),
                status: 0,
                error: Some("timeout".into()),
                latency_ms: 7,
                attempts: 1,
            },
            entered("failed"),
            Event::Say { text: "x".into() },
            Event::Goal {
                name: "g".into(),
                count: 1,
            },
        ];
        let t = TurnTrace::from_events(Some("greet"), &events);
        assert_eq!(
            t.edges,
            vec![
                ("greet".to_string(), "lookup".to_string()),
                ("lookup".to_string(), "failed".to_string())
            ]
        );
        assert_eq!(t.nodes, vec!["lookup", "failed"]);
        assert_eq!(t.invalid, vec![("greet".to_string(), "city".to_string())]);
        assert_eq!(t.api[0].class, "timeout");
        assert_eq!(t.api[0].ms, 7);
        assert_eq!(t.goals, vec!["g"]);
        assert_eq!(t.sent, 1);
        assert_eq!(t.node, "failed");
    }

    #[test]
    fn a_return_moves_the_current_node_without_an_edge() {
        let events = vec![
            entered("main"),
            entered("sub.a"),
            Event::Returned {
                node: "main".into(),
            },
            entered("end"),
        ];
        let t = TurnTrace::from_events(None, &events);
        assert_eq!(
            t.edges,
            vec![
                ("main".to_string(), "sub.a".to_string()),
                ("main".to_string(), "end".to_string())
            ]
        );
    }

    #[test]
    fn outcome_classes() {
        assert_eq!(outcome_class(0, Some("connect")), "connect_error");
        assert_eq!(outcome_class(404, None), "4xx");
        assert_eq!(outcome_class(503, None), "5xx");
        assert_eq!(outcome_class(0, Some("too_large")), "error");
    }
}

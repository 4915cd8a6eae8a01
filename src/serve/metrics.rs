//! Prometheus text for `GET /metrics`: turns, API calls by API and outcome class, and
//! latency histograms. Conversations by state are read from the store at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BUCKETS.iter().zip(self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    turns: u64,
    turn_reruns: u64,
    turn_latency: Histogram,
    /// (api, outcome class) -> calls
    api_calls: BTreeMap<(String, &'static str), u64>,
    api_latency: BTreeMap<String, Histogram>,
    webhook_deliveries: BTreeMap<&'static str, u64>,
    channel_deliveries: BTreeMap<(&'static str, &'static str), u64>,
}

/// Counters and histograms exposed at `/metrics` in the Prometheus text format.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// One classification for `/metrics` and reports.
pub use crate::report::trace::outcome_class;

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Records one turn's duration.
    pub fn turn(&self, seconds: f64) {
        self.with(|m| {
            m.turns += 1;
            m.turn_latency.observe(seconds);
        });
    }

    /// Records a turn run again because another worker stored a turn of its conversation
    /// first.
    pub fn rerun(&self) {
        self.with(|m| m.turn_reruns += 1);
    }

    /// Records one API call by name and outcome class.
    pub fn api_call(&self, api: &str, class: &'static str, seconds: f64) {
        self.with(|m| {
            *m.api_calls.entry((api.to_string(), class)).or_default() += 1;
            m.api_latency
                .entry(api.to_string())
                .or_default()
                .observe(seconds);
        });
    }

    /// Records one webhook delivery attempt by outcome.
    pub fn webhook(&self, outcome: &'static str) {
        self.with(|m| *m.webhook_deliveries.entry(outcome).or_default() += 1);
    }

    /// Records one attempt to send a channel's reply, by channel and outcome (`delivered`,
    /// `failed`, `rejected`).
    pub fn channel_reply(&self, channel: &'static str, outcome: &'static str) {
        self.with(|m| *m.channel_deliveries.entry((channel, outcome)).or_default() += 1);
    }

    /// The exposition text, with conversations by state as read from the store.
    pub fn render(&self, by_state: &[(String, u64)]) -> String {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP chatflow_turns_total Turns processed (opening turns included).\n");
        out.push_str("# TYPE chatflow_turns_total counter\n");
        let _ = writeln!(out, "chatflow_turns_total {}", m.turns);
        out.push_str(
            "# HELP chatflow_turn_reruns_total Turns run again because another worker stored a turn of the conversation first.\n",
        );
        out.push_str("# TYPE chatflow_turn_reruns_total counter\n");
        let _ = writeln!(out, "chatflow_turn_reruns_total {}", m.turn_reruns);
        out.push_str("# HELP chatflow_conversations Stored conversations by state.\n");
        out.push_str("# TYPE chatflow_conversations gauge\n");
        for state in ["waiting", "closed", "transferred", "failed"] {
            let n = by_state
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "chatflow_conversations{{state=\"{state}\"}} {n}");
        }
        out.push_str(
            "# HELP chatflow_turn_duration_seconds Time from a message's arrival to its commit.\n",
        );
        out.push_str("# TYPE chatflow_turn_duration_seconds histogram\n");
        m.turn_latency
            .write(&mut out, "chatflow_turn_duration_seconds", "");
        out.push_str(
            "# HELP chatflow_api_calls_total API connector calls by API and outcome class.\n",
        );
        out.push_str("# TYPE chatflow_api_calls_total counter\n");
        for ((api, class), n) in &m.api_calls {
            let _ = writeln!(
                out,
                "chatflow_api_calls_total{{api=\"{}\",outcome=\"{class}\"}} {n}",
                escape(api)
            );
        }
        out.push_str(
            "# HELP chatflow_api_call_duration_seconds API connector call latency by API.\n",
        );
        out.push_str("# TYPE chatflow_api_call_duration_seconds histogram\n");
        for (api, h) in &m.api_latency {
            h.write(
                &mut out,
                "chatflow_api_call_duration_seconds",
                &format!("api=\"{}\"", escape(api)),
            );
        }
        out.push_str(
            "# HELP chatflow_webhook_deliveries_total Webhook delivery attempts by outcome.\n",
        );
        out.push_str("# TYPE chatflow_webhook_deliveries_total counter\n");
        for (outcome, n) in &m.webhook_deliveries {
            let _ = writeln!(
                out,
                "chatflow_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP chatflow_channel_replies_total Attempts to send a reply through a channel's API, by outcome.\n",
        );
        out.push_str("# TYPE chatflow_channel_replies_total counter\n");
        for ((channel, outcome), n) in &m.channel_deliveries {
            let _ = writeln!(
                out,
                "chatflow_channel_replies_total{{channel=\"{channel}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

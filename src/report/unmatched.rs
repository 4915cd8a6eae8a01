//! The untrained inbox (`chatflow report --unmatched`): the messages nothing understood,
//! grouped by similarity so that each group is ready to paste into an `intent` as samples.
//!
//! Messages are compared by the matcher's own features ([`Normaliser::features`]: stems, word
//! pairs, character trigrams, with the flow's synonyms and language when a flow is given) as
//! sets, by cosine similarity. Grouping is greedy and deterministic: messages in the order
//! they arrived (repeats, by their words, counted once); each joins the earliest group holding
//! a message at least [`SIMILAR`] alike, else starts a group. Groups are listed largest first,
//! then by their first message's arrival.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::ir::quote;
use crate::nlu::text::{phrase, Normaliser};

/// How alike two messages must be (cosine of their feature sets) to share a group.
pub const SIMILAR: f64 = 0.5;

/// A distinct message of a group and how many times it came.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// The message as first received.
    pub text: String,
    /// How many unmatched messages had these words.
    pub count: usize,
}

/// Messages alike enough to be samples of one intent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Unmatched messages in the group, repeats included.
    pub count: usize,
    /// The distinct messages, in arrival order.
    pub samples: Vec<Sample>,
}

/// Groups `messages` (in arrival order) as the module documentation says.
pub fn group(messages: &[String], normaliser: &Normaliser) -> Vec<Group> {
    let mut distinct: Vec<Sample> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for text in messages {
        let key = phrase(text);
        if key.is_empty() {
            continue;
        }
        match index.get(&key) {
            Some(&i) => distinct[i].count += 1,
            None => {
                index.insert(key, distinct.len());
                distinct.push(Sample {
                    text: text.trim().to_string(),
                    count: 1,
                });
            }
        }
    }
    let features: Vec<BTreeSet<String>> = distinct
        .iter()
        .map(|s| normaliser.features(&s.text).into_iter().collect())
        .collect();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for i in 0..distinct.len() {
        let home = members.iter().position(|group| {
            group
                .iter()
                .any(|&j| cosine(&features[i], &features[j]) >= SIMILAR)
        });
        match home {
            Some(g) => members[g].push(i),
            None => members.push(vec![i]),
        }
    }
    let mut groups: Vec<(usize, Group)> = members
        .into_iter()
        .map(|m| {
            let first = m[0];
            let samples: Vec<Sample> = m.into_iter().map(|i| distinct[i].clone()).collect();
            let count = samples.iter().map(|s| s.count).sum();
            (first, Group { count, samples })
        })
        .collect();
    groups.sort_by_key(|(first, g)| (std::cmp::Reverse(g.count), *first));
    groups.into_iter().map(|(_, g)| g).collect()
}

fn cosine(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(b).count() as f64;
    shared / ((a.len() * b.len()) as f64).sqrt()
}

/// The groups as text: one `intent` block per group, its samples quoted, ready to paste and
/// rename.
pub fn render_text(groups: &[Group]) -> String {
    let total: usize = groups.iter().map(|g| g.count).sum();
    if total == 0 {
        return "No unmatched messages.\n".to_string();
    }
    let mut out = format!(
        "{total} unmatched message{} in {} group{}. Paste a group into an intent to teach the bot.\n",
        plural(total),
        groups.len(),
        plural(groups.len())
    );
    for (n, g) in groups.iter().enumerate() {
        out.push_str(&format!(
            "\n# {} message{}\nintent unmatched_{} {{\n",
            g.count,
            plural(g.count),
            n + 1
        ));
        for s in &g.samples {
            let times = if s.count > 1 {
                format!("  # {} times", s.count)
            } else {
                String::new()
            };
            out.push_str(&format!("  {}{times}\n", quote(&s.text)));
        }
        out.push_str("}\n");
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn alike_messages_share_a_group_and_repeats_count_once() {
        let english = Normaliser {
            language: Some("en".into()),
            synonyms: Vec::new(),
        };
        let messages = texts(&[
            "do you sell hats?",
            "Where is my refund",
            "do you sell hats",
            "do you sell any hats",
            "where's my refund?",
            "opening hours",
        ]);
        let groups = group(&messages, &english);
        let shown: Vec<Vec<(&str, usize)>> = groups
            .iter()
            .map(|g| {
                g.samples
                    .iter()
                    .map(|s| (s.text.as_str(), s.count))
                    .collect()
            })
            .collect();
        assert_eq!(
            shown,
            [
                vec![("do you sell hats?", 2), ("do you sell any hats", 1)],
                vec![("Where is my refund", 1), ("where's my refund?", 1)],
                vec![("opening hours", 1)],
            ]
        );
        assert_eq!(groups[0].count, 3);
        // The same messages in the same order always give the same groups.
        assert_eq!(group(&messages, &english), groups);
    }

    #[test]
    fn the_text_is_intent_blocks_with_quoted_samples() {
        let groups = group(
            &texts(&["say \"hi\"", "say \"hi\"", "bye"]),
            &Normaliser::default(),
        );
        let text = render_text(&groups);
        assert!(
            text.starts_with("3 unmatched messages in 2 groups."),
            "{text}"
        );
        assert!(
            text.contains("intent unmatched_1 {\n  \"say \\\"hi\\\"\"  # 2 times\n}"),
            "{text}"
        );
        assert_eq!(render_text(&[]), "No unmatched messages.\n");
    }
}

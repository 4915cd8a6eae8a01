//! Understanding free text, compiled: the trained matcher, its classes and where they lead.

use serde::{Deserialize, Serialize};

use super::{NodeId, Text};
use crate::nlu::{Model, Normaliser};

/// Everything the runtime needs to match a message to an intent or an FAQ entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    /// Stemmer language and synonyms.
    pub normaliser: Normaliser,
    /// The confidence a match needs (the bot's `threshold`, 0.5 by default).
    pub threshold: f64,
    /// The intents, in order of first declaration, then the FAQ entries.
    pub classes: Vec<Class>,
    /// The trained classifier over [`Understanding::classes`].
    pub model: Model,
    /// The bot's `intent NAME -> NODE` rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<(String, NodeId)>,
}

/// One class of the matcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Class {
    /// The intent's name; an FAQ entry is `faq#N` (N counts from 1 in source order).
    pub name: String,
    /// The answer, for an FAQ entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faq: Option<FaqAnswer>,
}

/// What an FAQ entry does when one of its questions is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FaqAnswer {
    /// Say the text; the conversation stays where it was waiting.
    Say(Text),
    /// Continue at the node.
    Goto(NodeId),
}

/// The matcher's verdict on one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// The best class, when its confidence reaches the threshold.
    pub class: Option<usize>,
    /// The best class's confidence, 0..=1 (0 when nothing was known).
    pub confidence: f64,
}

impl Understanding {
    /// Matches a message; `threshold` overrides the bot's (a menu's own).
    pub fn judge(&self, text: &str, threshold: Option<f64>) -> Verdict {
        let features = self.normaliser.features(text);
        let threshold = threshold.unwrap_or(self.threshold);
        match self.model.classify(&features) {
            Some(m) if self.classes.len() > m.class => Verdict {
                class: (m.confidence >= threshold).then_some(m.class),
                confidence: m.confidence,
            },
            _ => Verdict {
                class: None,
                confidence: 0.0,
            },
        }
    }

    /// The class called `name`.
    pub fn class_id(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }
}

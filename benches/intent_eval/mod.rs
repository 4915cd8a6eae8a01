//! Intent data in the CLINC150 layout (`data_full.json`), trained and scored through the real
//! compiler and matcher. Shared by the `intent_accuracy` bench and the test on the shipped
//! sample (`tests/it/understanding.rs`).
//!
//! The layout: a JSON object whose `train`, `val` and `test` lists hold `[text, intent]` pairs
//! and whose `oos_train`, `oos_val` and `oos_test` lists hold out-of-scope `[text, "oos"]`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chatflow::compile::{compile_text_with, Loader};
use chatflow::ir::Understanding;
use chatflow::nlu::text::phrase;

/// One split of a data set: in-scope `(text, intent)` pairs and out-of-scope texts.
#[derive(Debug, Default)]
pub struct Split {
    pub in_scope: Vec<(String, String)>,
    pub out_of_scope: Vec<String>,
}

/// A data set: what the matcher is trained on, and what it is scored on.
#[derive(Debug, Default)]
pub struct Data {
    pub train: Split,
    pub val: Split,
    pub test: Split,
}

fn pairs(v: &serde_json::Value, key: &str) -> Result<Vec<(String, String)>, String> {
    let Some(list) = v.get(key) else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or(format!("`{key}` is not a list"))?;
    list.iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([t, i]) => match (t.as_str(), i.as_str()) {
                (Some(t), Some(i)) => Ok((t.to_string(), i.to_string())),
                _ => Err(format!("`{key}` has a pair that is not two strings")),
            },
            _ => Err(format!("`{key}` has an entry that is not [text, intent]")),
        })
        .collect()
}

fn split(v: &serde_json::Value, name: &str) -> Result<Split, String> {
    Ok(Split {
        in_scope: pairs(v, name)?,
        out_of_scope: pairs(v, &format!("oos_{name}"))?
            .into_iter()
            .map(|(t, _)| t)
            .collect(),
    })
}

/// Reads the CLINC150 layout.
pub fn parse(json: &str) -> Result<Data, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(Data {
        train: split(&v, "train")?,
        val: split(&v, "val")?,
        test: split(&v, "test")?,
    })
}

/// The training CSV for `intents from`, without phrases that a data set gives two intents
/// (the compiler refuses those, rightly); the number of rows left out.
pub fn training_csv(train: &[(String, String)]) -> (String, usize) {
    let mut first: HashMap<String, &str> = HashMap::new();
    let mut csv = String::from("phrase,intent\n");
    let mut dropped = 0;
    for (text, intent) in train {
        match first.get(&phrase(text)) {
            Some(&seen) if seen != intent => dropped += 1,
            _ => {
                first.insert(phrase(text), intent);
                csv.push('"');
                csv.push_str(&text.replace('"', "\"\""));
                csv.push_str("\",");
                csv.push_str(intent);
                csv.push('\n');
            }
        }
    }
    (csv, dropped)
}

/// The CSV served from memory to the compiler.
struct Csv(String);

impl Loader for Csv {
    fn load(&self, path: &str) -> Result<String, String> {
        if path.ends_with("train.csv") {
            Ok(self.0.clone())
        } else {
            Err("no such file".into())
        }
    }
}

/// Trains the matcher the way `chatflow build` does: a flow whose samples come from
/// `intents from "train.csv"`, compiled. Returns the matcher and the time compiling took.
pub fn train(data: &Data) -> Result<(Understanding, Duration, usize), String> {
    let (csv, dropped) = training_csv(&data.train.in_scope);
    let flow = "intents from \"train.csv\"\n\nbot \"Bench\" {\n  start main\n}\n\nnode main {\n  ask topic \"How can I help?\"\n  close\n}\n";
    let began = Instant::now();
    let compiled = compile_text_with("bench.flow", flow, &Csv(csv));
    let took = began.elapsed();
    let errors: Vec<String> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .take(3)
        .collect();
    let program = compiled
        .program
        .ok_or_else(|| format!("the flow did not compile: {errors:?}"))?;
    let understanding = program.understanding.ok_or("the flow has no matcher")?;
    Ok((understanding, took, dropped))
}

/// The matcher's answer for each message of a split: `(expected, best class, confidence)`,
/// where `expected` is `None` for out-of-scope messages.
pub fn verdicts(u: &Understanding, split: &Split) -> Vec<(Option<String>, Option<String>, f64)> {
    let judge = |text: &str| {
        let v = u.judge(text, Some(0.0));
        let class = v.class.map(|c| u.classes[c].name.clone());
        (class, v.confidence)
    };
    let mut out = Vec::new();
    for (text, intent) in &split.in_scope {
        let (class, confidence) = judge(text);
        out.push((Some(intent.clone()), class, confidence));
    }
    for text in &split.out_of_scope {
        let (class, confidence) = judge(text);
        out.push((None, class, confidence));
    }
    out
}

/// In-scope accuracy and out-of-scope recall under the threshold rule: a message whose best
/// confidence is below `threshold` is out of scope (`intent == none`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// In-scope messages given their own intent (a message turned away counts as wrong).
    pub in_scope_accuracy: f64,
    /// Out-of-scope messages turned away.
    pub out_of_scope_recall: f64,
}

pub fn score(verdicts: &[(Option<String>, Option<String>, f64)], threshold: f64) -> Scores {
    let (mut right, mut inside, mut away, mut outside) = (0usize, 0usize, 0usize, 0usize);
    for (expected, class, confidence) in verdicts {
        let matched = class.as_ref().filter(|_| *confidence >= threshold);
        match expected {
            Some(e) => {
                inside += 1;
                right += usize::from(matched == Some(e));
            }
            None => {
                outside += 1;
                away += usize::from(matched.is_none());
            }
        }
    }
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Scores {
        in_scope_accuracy: share(right, inside),
        out_of_scope_recall: share(away, outside),
    }
}

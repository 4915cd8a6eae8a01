//! Understanding free text: intents, `intents from`, synonyms, FAQ, sentiment, through the
//! compiler and the runtime.

use std::collections::HashMap;
use std::sync::Arc;

use chatflow::compile::{compile_str, compile_text_with, Compiled, Loader};
use chatflow::diagnostic::Code;
use chatflow::ir::{Value, BASE_FORMAT_VERSION, UNDERSTANDING_FORMAT_VERSION};
use chatflow::runtime::{Engine, EngineConfig, Event, LoadError};

// The intent benchmark's pipeline (`benches/intent_accuracy.rs`), run here on its sample.
#[allow(dead_code)]
#[path = "../../benches/intent_eval/mod.rs"]
mod intent_eval;

const SAMPLES: &str = r#"
intent order_status {
  "where is my order"
  "track my package"
  "has my parcel shipped"
  "when will my order arrive"
  "where is my delivery"
}
intent refund {
  "I want a refund"
  "give me my money back"
  "can I return this item"
  "refund my purchase"
  "send it back and get my money"
}
"#;

fn flow(rest: &str) -> String {
    format!("{SAMPLES}\n{rest}")
}

fn codes(c: &Compiled) -> Vec<Code> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

/// Files served from memory, for `intents from`.
struct Files(HashMap<&'static str, &'static str>);

impl Loader for Files {
    fn load(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .map(|t| t.to_string())
            .ok_or_else(|| "no such file".to_string())
    }
}

#[test]
fn unknown_intents_are_errors_with_a_suggestion() {
    let c = compile_str(
        "f.flow",
        &flow("node a {\n  choose \"x\" {\n    \"Track\" intent order_stats -> a\n  }\n}\n"),
    );
    assert_eq!(codes(&c), [Code::UnknownIntent]);
    let help = c.diagnostics[0].help.clone().unwrap_or_default();
    assert!(help.contains("did you mean `order_status`?"), "{help}");

    let c = compile_str(
        "f.flow",
        &flow("node a {\n  ask x\n  if intent == refnd -> a\n  else -> a\n}\n"),
    );
    assert_eq!(codes(&c), [Code::UnknownIntent]);
    let c = compile_str(
        "f.flow",
        &flow("node a {\n  ask x\n  if intent == none -> a\n  else -> a\n}\n"),
    );
    assert!(c.program.is_some(), "{:?}", codes(&c));
}

#[test]
fn sample_checks_few_and_duplicate_and_threshold() {
    let c = compile_str(
        "f.flow",
        "intent a { \"hello\" \"hi there\" }\nintent b { \"hello\" \"bye\" \"see you\" \"later\" \"ciao\" }\nnode n { say \"x\" }\n",
    );
    assert_eq!(codes(&c), [Code::FewSamples, Code::DuplicateSample]);
    let c = compile_str(
        "f.flow",
        &flow("bot \"b\" { threshold 1.5 }\nnode n { say \"x\" }\n"),
    );
    assert_eq!(codes(&c), [Code::BadThreshold]);
}

#[test]
fn intents_from_csv_relative_to_the_flow() {
    let files = Files(HashMap::from([(
        "dir/intents.csv",
        "phrase,intent\n\"hi, bot\",greet\nhello there,greet\ngood morning,greet\nhey,greet\nhowdy,greet\n",
    )]));
    let text = "intents from \"intents.csv\"\nnode n {\n  ask x\n  if intent == greet -> n\n  else -> n\n}\n";
    let c = compile_text_with("dir/main.flow", text, &files);
    assert!(c.program.is_some(), "{:?}", codes(&c));
    let u = c.program.unwrap().understanding.unwrap();
    assert_eq!(u.classes[0].name, "greet");

    let bad = Files(HashMap::from([("intents.csv", "hello there\n")]));
    // Without its samples, `greet` is also unknown to the condition.
    let c = compile_text_with("main.flow", text, &bad);
    assert_eq!(codes(&c), [Code::IntentsFile, Code::UnknownIntent]);
    assert!(c.diagnostics[0].help.is_some());
    let c = compile_text_with("main.flow", text, &Files(HashMap::new()));
    assert_eq!(codes(&c), [Code::IntentsFile, Code::UnknownIntent]);
}

#[test]
fn format_7_only_for_flows_that_understand_and_training_is_deterministic() {
    let plain = compile_str("f.flow", "node n { say \"x\" }\n")
        .program
        .unwrap();
    assert_eq!(plain.format_version, BASE_FORMAT_VERSION);
    assert!(plain.understanding.is_none());
    let text = flow("node n { say \"x\" }\n");
    let a = compile_str("f.flow", &text).program.unwrap();
    assert_eq!(
        (a.format_version, a.min_read_version),
        (UNDERSTANDING_FORMAT_VERSION, UNDERSTANDING_FORMAT_VERSION)
    );
    let b = compile_str("f.flow", &text).program.unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    // The IR reads back as it was written.
    let json = serde_json::to_string(&a).unwrap();
    let back: chatflow::ir::Program = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
}

#[test]
fn a_matcher_written_before_format_7_is_refused_for_its_version() {
    let program = compile_str("f.flow", &flow("node n { say \"x\" }\n"))
        .program
        .unwrap();
    let mut json = serde_json::to_value(&program).unwrap();
    // Format 5 stored the matcher densely: one row of weights per feature.
    json["format_version"] = 5.into();
    json["min_read_version"] = 5.into();
    let model = json["understanding"]["model"].as_object_mut().unwrap();
    let features = model["features"].as_array().unwrap().len();
    for key in ["starts", "kept_classes", "kept_weights"] {
        model.remove(key);
    }
    model.insert("weights".into(), vec![vec![0.25, -0.25]; features].into());
    let old: chatflow::ir::Program = serde_json::from_value(json).unwrap();
    let err = Engine::new(Arc::new(old), EngineConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::UnsupportedVersion {
                found: 5,
                min: UNDERSTANDING_FORMAT_VERSION,
                ..
            }
        ),
        "{err}"
    );
    // A program without a matcher still reads from format 2 on.
    let mut plain = compile_str("f.flow", "node n { say \"x\" }\n")
        .program
        .unwrap();
    plain.format_version = 5;
    assert!(Engine::new(Arc::new(plain), EngineConfig::default()).is_ok());
}

fn engine(text: &str) -> Engine {
    let c = compile_str("f.flow", text);
    let program = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    Engine::new(Arc::new(program), EngineConfig::default()).unwrap()
}

fn said(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Say { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn sys_attributes_are_set_for_every_message() {
    let e = engine(&flow(
        "node a {\n  ask x\n  say \"{sys.intent} {sys.intent_confidence} {sys.sentiment}\"\n  close\n}\n",
    ));
    let mut s = e.new_session();
    e.start(&mut s).await;
    let events = e.step(&mut s, "where is my parcel, great!").await;
    let line = said(&events).join("|");
    assert!(line.starts_with("order_status 0."), "{line}");
    assert!(matches!(s.sys.get("sentiment"), Some(Value::Number(n)) if n.to_f64() > 0.3));
}

#[tokio::test]
async fn an_faq_is_answered_where_the_conversation_waits() {
    let e = engine(&flow(
        "faq {\n  \"what are your opening hours\"\n  \"when are you open\"\n} -> \"9 to 5\"\n\
         node a {\n  ask city \"City?\"\n  say \"ok {city}\"\n  close\n}\n",
    ));
    let mut s = e.new_session();
    e.start(&mut s).await;
    let events = e.step(&mut s, "when are you open?").await;
    assert_eq!(said(&events), ["9 to 5", "City?"]);
    let events = e.step(&mut s, "Paris").await;
    assert_eq!(said(&events), ["ok Paris"]);
}

/// The intent benchmark's pipeline on its shipped sample (eight intents, 32 in-scope and 10
/// out-of-scope test messages): trained through the compiler, scored with the threshold rule.
#[test]
fn the_benchmark_sample_is_matched_and_out_of_scope_turned_away() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/data/intent_sample.json"
    );
    let data = intent_eval::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        (data.train.in_scope.len(), data.test.in_scope.len()),
        (96, 32)
    );
    assert_eq!(data.test.out_of_scope.len(), 10);
    let (u, _, dropped) = intent_eval::train(&data).unwrap();
    assert_eq!((u.classes.len(), dropped), (8, 0));
    let verdicts = intent_eval::verdicts(&u, &data.test);
    let s = intent_eval::score(&verdicts, u.threshold);
    // Measured: 31 of 32 in scope, 9 of 10 out of scope (a classifier that ignores the words
    // gets 1 in 8; one that is always sure turns nothing away).
    assert!(s.in_scope_accuracy >= 0.9, "{s:?}");
    assert!(s.out_of_scope_recall >= 0.7, "{s:?}");
    // Without the threshold every message gets an intent: nothing is turned away.
    assert_eq!(intent_eval::score(&verdicts, 0.0).out_of_scope_recall, 0.0);
}

#[test]
fn the_benchmark_csv_quotes_phrases_and_leaves_out_contradictions() {
    let train = [
        ("say \"hi\", bot".to_string(), "greet".to_string()),
        ("Say hi bot".to_string(), "greet".to_string()),
        ("say hi, bot!".to_string(), "leave".to_string()),
    ];
    let (csv, dropped) = intent_eval::training_csv(&train);
    assert_eq!(dropped, 1);
    assert_eq!(
        csv,
        "phrase,intent\n\"say \"\"hi\"\", bot\",greet\n\"Say hi bot\",greet\n"
    );
}

/// Nodes reached only through a bot intent rule or an FAQ's `-> NODE` are entered from any
/// wait: they are not unreachable, `status` there may be read before any call, and they see
/// the attributes set anywhere before.
#[test]
fn nodes_reached_by_intent_rules_and_faq_are_not_unreachable() {
    let text = flow(
        r#"bot "b" { start menu; intent refund -> refunds }
faq { "what are your opening hours" "when are you open" "are you open today" "opening times" "what time do you open" } -> hours
node menu {
  ask name "Your name?"
  choose "Help?" { "Orders" intent order_status -> orders }
}
node orders { close }
node refunds { say "Refunds for {name}."; close }
node hours { say "9 to 5."; close }
node lost { close }
"#,
    );
    let c = compile_str("f.flow", &text);
    let unreachable: Vec<&str> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::UnreachableNode)
        .map(|d| &text[d.span.start()..d.span.end()])
        .collect();
    assert_eq!(unreachable, ["lost"], "{:?}", c.diagnostics);
    assert!(
        !codes(&c).contains(&Code::UnsetAttribute),
        "{:?}",
        c.diagnostics
    );
    let read_status = flow(
        "bot \"b\" { start menu; intent refund -> refunds }\nnode menu { ask x }\nnode refunds { if status == 200 -> menu else -> menu }\n",
    );
    assert!(codes(&compile_str("f.flow", &read_status)).contains(&Code::StatusBeforeCall));
}

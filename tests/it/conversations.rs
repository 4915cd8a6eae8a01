//! Snapshots of whole conversations: the event stream of every turn, as JSON.
//!
//! Each `tests/conversations/*.chat` script names a flow and drives it:
//!
//! ```text
//! flow examples/weather.flow        # the flow, relative to the crate root
//! max_steps 20                      # optional
//! stub weather 200 {"main": {}}     # answers for the following turns (or `stub API timeout`)
//! clock 2026-11-27T10:00:00-06:00   # fixes the session's clock from here on
//! language es                       # sets sys.language before the next turn
//! > Chicago                         # a user message: one turn
//! ```
//!
//! The one-time code of `otp` is the fixed one, as in `chatflow test`.
//!
//! API calls go over real HTTP to a loopback [`StubServer`]. `latency_ms` is scrubbed to 0 so
//! the snapshots are deterministic.

use std::collections::HashMap;
use std::sync::Arc;

use chatflow::compile::compile_path;
use chatflow::ir::StubAnswer;
use chatflow::runtime::{Engine, EngineConfig, Event};
use chatflow::testing::{secret_names, StubServer, TEST_SECRET_PREFIX};
use serde_json::{json, Value};

enum Line {
    Stub(String, StubAnswer),
    User(String),
    Clock(String),
    Language(String),
}

struct Script {
    flow: String,
    max_steps: u32,
    lines: Vec<Line>,
}

fn parse_script(text: &str) -> Script {
    let mut script = Script {
        flow: String::new(),
        max_steps: EngineConfig::default().max_steps,
        lines: Vec::new(),
    };
    for raw in text.lines() {
        if let Some(user) = raw.strip_prefix("> ") {
            script.lines.push(Line::User(user.to_string()));
            continue;
        }
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "flow" => script.flow = rest.to_string(),
            "clock" => script.lines.push(Line::Clock(rest.to_string())),
            "language" => script.lines.push(Line::Language(rest.to_string())),
            "max_steps" => script.max_steps = rest.parse().expect("max_steps N"),
            "stub" => {
                let mut parts = rest.splitn(3, ' ');
                let api = parts.next().expect("stub API").to_string();
                let answer = match parts.next().expect("stub API STATUS") {
                    "timeout" => StubAnswer::Timeout,
                    status => StubAnswer::Status {
                        status: status.parse().expect("a status"),
                        body: parts
                            .next()
                            .map(|b| serde_json::from_str(b).expect("a JSON body")),
                    },
                };
                script.lines.push(Line::Stub(api, answer));
            }
            other => panic!("unknown script line `{other}`"),
        }
    }
    script
}

fn scrub(events: Vec<Event>) -> Value {
    let events = events
        .into_iter()
        .map(|mut e| {
            if let Event::ApiCall { latency_ms, .. } = &mut e {
                *latency_ms = 0;
            }
            serde_json::to_value(e).expect("events serialize")
        })
        .collect();
    Value::Array(events)
}

async fn converse(script: &Script) -> Value {
    let compiled = compile_path(&script.flow);
    let program = Arc::new(compiled.program.unwrap_or_else(|| {
        panic!(
            "{} does not compile: {:?}",
            script.flow, compiled.diagnostics
        )
    }));
    let server = StubServer::start(HashMap::new())
        .await
        .expect("stub server");
    let secrets = secret_names(&program)
        .into_iter()
        .map(|n| (n.clone(), format!("{TEST_SECRET_PREFIX}{n}")))
        .collect();
    let config = EngineConfig {
        max_steps: script.max_steps,
        trace: true,
        redirect_base: Some(server.base_url().to_string()),
        secrets: Some(Arc::new(secrets)),
        fixed_otp: true,
        ..EngineConfig::default()
    };
    let engine = Engine::new(program.clone(), config).expect("the engine loads");
    let mut session = engine.new_session();
    let mut turns = Vec::new();
    let mut started = false;
    for line in &script.lines {
        match line {
            Line::Stub(api, answer) => server.set(api, answer.clone()),
            Line::Clock(now) => session.fixed_now = Some(now.clone()),
            Line::Language(code) => {
                session
                    .sys
                    .insert("language".into(), chatflow::ir::Value::Text(code.clone()));
            }
            Line::User(text) => {
                if !started {
                    started = true;
                    turns.push(
                        json!({"user": null, "events": scrub(engine.start(&mut session).await)}),
                    );
                }
                let events = engine.step(&mut session, text).await;
                turns.push(json!({"user": text, "events": scrub(events)}));
            }
        }
    }
    let attrs: serde_json::Map<String, Value> = program
        .attrs
        .iter()
        .zip(&session.attrs)
        .map(|(info, value)| {
            (
                info.name.clone(),
                serde_json::to_value(value).expect("value"),
            )
        })
        .collect();
    let requests: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| {
            json!({
                "api": r.api,
                "method": r.method,
                "path": r.path_and_query(),
                "body": r.body,
            })
        })
        .collect();
    json!({
        "turns": turns,
        "end": {"state": session.state, "node": program.nodes[session.node as usize].name, "attrs": attrs},
        "requests_received": requests,
    })
}

#[test]
fn conversations() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    insta::glob!("../conversations", "*.chat", |path| {
        let text = std::fs::read_to_string(path).expect("read script");
        let script = parse_script(&text);
        let transcript = runtime.block_on(converse(&script));
        let pretty = serde_json::to_string_pretty(&transcript).expect("JSON");
        assert!(
            !pretty.contains(TEST_SECRET_PREFIX),
            "secrets stay out of events"
        );
        insta::assert_snapshot!(pretty);
    });
}

//! Brain AI: the `ai` statements against a real loopback server speaking the chat-completions
//! shape. The server answers `You said: LAST` (the last message's content) and records what it
//! was sent, so the tests check the request (model, messages, max_tokens, Authorization) and
//! that the key never shows in events, sessions or traces.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, Response};
use chatflow::diagnostic::Code;
use chatflow::runtime::{Engine, EngineConfig, Event, Session};
use serde_json::Value as J;

use crate::common::{compile_clean, says};

const KEY: &str = "sk-live-0123456789";

/// One request the model server received: its path, `Authorization` and JSON body.
#[derive(Debug, Clone)]
struct Asked {
    path: String,
    authorization: Option<String>,
    body: J,
}

/// A loopback chat-completions server. `/v1/chat/completions` answers `You said: LAST`;
/// `/status/N` answers N; `/empty` a 200 without choices; `/away` redirects to `elsewhere`.
struct Model {
    base: String,
    asked: Arc<Mutex<Vec<Asked>>>,
}

impl Model {
    async fn start(elsewhere: Option<String>) -> Model {
        let asked: Arc<Mutex<Vec<Asked>>> = Arc::default();
        let log = asked.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let (log, elsewhere) = (log.clone(), elsewhere.clone());
            async move { answer(req, log, elsewhere).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Model { base, asked }
    }

    fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }

    fn last(&self) -> Asked {
        self.asked().pop().expect("the model was asked")
    }
}

async fn answer(
    req: Request<Body>,
    log: Arc<Mutex<Vec<Asked>>>,
    elsewhere: Option<String>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let body: J = serde_json::from_slice(&bytes).unwrap_or(J::Null);
    let path = parts.uri.path().to_string();
    let authorization = parts
        .headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    log.lock().unwrap().push(Asked {
        path: path.clone(),
        authorization,
        body,
    });
    let json = |status: u16, body: J| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    match path.as_str() {
        "/empty" => json(200, serde_json::json!({"choices": []})),
        "/away" => Response::builder()
            .status(302)
            .header("location", elsewhere.unwrap_or_default())
            .body(Body::empty())
            .unwrap(),
        p if p.starts_with("/status/") => json(p[8..].parse().unwrap(), serde_json::json!({})),
        _ => json(
            200,
            serde_json::json!({
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant",
                    "content": format!("  You said: {last}\n")}, "finish_reason": "stop"}]
            }),
        ),
    }
}

/// A flow whose `free` node replies with the model at `url` (marked `internal`: loopback).
fn flow(url: &str, extra: &str) -> String {
    format!(
        r#"bot "Desk" {{ start name }}
ai brain {{
  live
  internal
  url "{url}"
  model "test-model"
  key "{{secret.AI_KEY}}"
  system "You help {{name}} of Desk."
  max_tokens 120
  {extra}
}}
node name {{
  ask name "Your name?"
  ask pin sensitive "Your PIN?"
  goto free
}}
node free {{
  ask question "Ask me anything."
  reply with brain
  if status == 200 -> free
  else -> down
}}
node down {{
  say "The assistant is away: {{sys.api_error}} {{status}}."
  goto free
}}
"#
    )
}

fn engine(src: &str) -> Engine {
    let (program, _) = compile_clean("brain.flow", src);
    let secrets = HashMap::from([("AI_KEY".to_string(), KEY.to_string())]);
    let config = EngineConfig {
        secrets: Some(Arc::new(secrets)),
        trace: true,
        ..EngineConfig::default()
    };
    Engine::new(program, config).unwrap()
}

/// Starts a conversation and answers the name and PIN questions.
async fn named(engine: &Engine) -> (Session, Vec<Event>) {
    let mut s = engine.new_session();
    let mut events = engine.start(&mut s).await;
    events.extend(engine.step(&mut s, "Ann").await);
    events.extend(engine.step(&mut s, "4321").await);
    (s, events)
}

fn shows(events: &[Event], s: &Session, text: &str) -> bool {
    serde_json::to_string(events).unwrap().contains(text)
        || serde_json::to_string(s).unwrap().contains(text)
}

#[tokio::test]
async fn reply_with_sends_the_conversation_and_says_the_models_text() {
    let model = Model::start(None).await;
    let engine = engine(&flow(&format!("{}/v1/chat/completions", model.base), ""));
    let (mut s, mut events) = named(&engine).await;
    let turn = engine.step(&mut s, "Where is my parcel?").await;
    assert!(
        says(&turn).contains(&"You said: Where is my parcel?".to_string()),
        "{turn:?}"
    );
    let asked = model.last();
    assert_eq!(asked.path, "/v1/chat/completions");
    assert_eq!(
        asked.authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(asked.body["model"], "test-model");
    assert_eq!(asked.body["max_tokens"], 120);
    let messages: Vec<(String, String)> = asked.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().into(),
                m["content"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("system", "You help Ann of Desk."),
        ("assistant", "Your name?"),
        ("user", "Ann"),
        ("assistant", "Your PIN?"),
        ("assistant", "Ask me anything."),
        ("user", "Where is my parcel?"),
    ]
    .iter()
    .map(|(r, c)| (r.to_string(), c.to_string()))
    .collect();
    // The PIN, an answer to a `sensitive` question, is never sent.
    assert_eq!(messages, expected);
    // The next reply carries the model's own answer as the assistant's line.
    let turn2 = engine.step(&mut s, "Thanks").await;
    let asked = model.last();
    let contents: Vec<&str> = asked.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(
        contents.contains(&"You said: Where is my parcel?"),
        "{contents:?}"
    );
    events.extend(turn);
    events.extend(turn2);
    assert!(!shows(&events, &s, KEY), "the key shows: {events:?}");
    assert!(!shows(&events, &s, "4321"), "the PIN shows: {events:?}");
}

#[tokio::test]
async fn ask_save_puts_the_answer_to_the_prompt_in_the_attribute() {
    let model = Model::start(None).await;
    let url = format!("{}/v1/chat/completions", model.base);
    let src = format!(
        r#"ai brain {{ internal; url "{url}"; model "m" }}
node start {{
  ask issue "What happened?"
  ask brain "Summarise {{issue}} in three words." save summary
  say "Summary: {{summary}}"
  close
}}
"#
    );
    let engine = engine(&src);
    let mut s = engine.new_session();
    engine.start(&mut s).await;
    let events = engine.step(&mut s, "The box was crushed").await;
    assert_eq!(
        says(&events),
        ["Summary: You said: Summarise The box was crushed in three words."]
    );
    let asked = model.last();
    // No `key`: no Authorization; no `system` or `max_tokens`: none sent.
    assert_eq!(asked.authorization, None);
    assert!(asked.body.get("max_tokens").is_none());
    let roles: Vec<&str> = asked.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["assistant", "user", "user"]);
}

#[tokio::test]
async fn a_model_that_fails_branches_like_a_call() {
    let model = Model::start(None).await;
    for (path, said) in [
        ("/status/503", "The assistant is away:  503."),
        ("/status/401", "The assistant is away:  401."),
        ("/empty", "The assistant is away: bad_answer 0."),
    ] {
        let engine = engine(&flow(&format!("{}{path}", model.base), ""));
        let (mut s, _) = named(&engine).await;
        let events = engine.step(&mut s, "Hello?").await;
        assert_eq!(says(&events)[0], said, "{path}: {events:?}");
    }
    // Nothing listens: no answer at all.
    let refused = crate::common::refused_base().await;
    let engine = engine(&flow(&format!("{refused}/v1/chat/completions"), ""));
    let (mut s, _) = named(&engine).await;
    let events = engine.step(&mut s, "Hello?").await;
    assert_eq!(says(&events)[0], "The assistant is away: connect 0.");
}

#[tokio::test]
async fn the_key_goes_only_to_the_models_host() {
    let elsewhere = Model::start(None).await;
    let model = Model::start(Some(format!("{}/v1/chat/completions", elsewhere.base))).await;
    let engine = engine(&flow(&format!("{}/away", model.base), "redirects any"));
    let (mut s, _) = named(&engine).await;
    engine.step(&mut s, "Hi").await;
    assert_eq!(
        model.last().authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    // A 302 after a POST goes on as a GET without the conversation, and without the key.
    let away = elsewhere.last();
    assert_eq!(away.authorization, None, "the key left its host");
    assert_eq!(away.body, J::Null);
    // By default a redirect to another origin is not followed at all.
    let engine = self::engine(&flow(&format!("{}/away", model.base), ""));
    let (mut s, _) = named(&engine).await;
    let events = engine.step(&mut s, "Hi").await;
    assert_eq!(says(&events)[0], "The assistant is away:  302.");
    assert_eq!(elsewhere.asked().len(), 1);
}

#[tokio::test]
async fn the_transcript_sent_is_bounded_by_lines_and_bytes() {
    let model = Model::start(None).await;
    let engine = engine(&flow(&format!("{}/v1/chat/completions", model.base), ""));
    let (mut s, _) = named(&engine).await;
    for i in 0..30 {
        engine.step(&mut s, &format!("message {i}")).await;
    }
    let messages = model.last().body["messages"].as_array().unwrap().clone();
    // The system message and at most 20 lines, the newest last.
    assert_eq!(messages.len(), 21, "{messages:?}");
    assert_eq!(messages[20]["content"], "message 29");
    assert!(s.transcript.len() <= 20);
    // Long messages: each is cut, and only the newest that fit in the byte budget are sent.
    let long = "x".repeat(5000);
    engine.step(&mut s, &long).await;
    engine.step(&mut s, &long).await;
    let messages = model.last().body["messages"].as_array().unwrap().clone();
    let bytes: usize = messages[1..]
        .iter()
        .map(|m| m["content"].as_str().unwrap().len())
        .sum();
    assert!(bytes <= 6000, "{bytes} bytes of transcript sent");
    assert_eq!(
        messages.last().unwrap()["content"].as_str().unwrap().len(),
        1000
    );
}

#[tokio::test]
async fn the_fallback_may_be_the_model_and_its_text_when_the_model_fails() {
    let model = Model::start(None).await;
    let src = |path: &str| {
        format!(
            r#"bot "b" {{ start menu; fallback reply with brain; fallback "Pick one, please." }}
ai brain {{ internal; url "{}{path}"; model "m" }}
node menu {{ choose "Help?" {{ "Orders" -> orders }} }}
node orders {{ close }}
"#,
            model.base
        )
    };
    let engine = engine(&src("/v1/chat/completions"));
    let mut s = engine.new_session();
    engine.start(&mut s).await;
    let events = engine.step(&mut s, "do you sell hats?").await;
    assert_eq!(says(&events), ["You said: do you sell hats?"]);
    assert!(events.iter().any(|e| matches!(e, Event::Choices { .. })));
    let engine = self::engine(&src("/status/500"));
    let mut s = engine.new_session();
    engine.start(&mut s).await;
    let events = engine.step(&mut s, "do you sell hats?").await;
    assert_eq!(says(&events), ["Pick one, please."]);
}

fn codes(src: &str) -> Vec<(Code, Option<String>)> {
    chatflow::compile::compile_str("t.flow", src)
        .diagnostics
        .into_iter()
        .map(|d| (d.code, d.help))
        .collect()
}

#[test]
fn misuse_of_an_ai_is_a_diagnostic_with_help() {
    let ai = "ai brain { url \"https://llm.example.test/v1/chat/completions\"; model \"m\" }\n";
    let api = "api orders { get \"https://shop.example.test/orders\" }\n";
    let unknown = codes(&format!("{ai}node n {{ reply with brian; close }}\n"));
    assert_eq!(
        unknown,
        [(Code::UnknownAi, Some("did you mean `brain`?".into()))]
    );
    let not_ai = codes(&format!(
        "{ai}{api}node n {{ call orders; ask orders \"x\" save y; close }}\n"
    ));
    assert_eq!(not_ai[0].0, Code::UnknownAi, "{not_ai:?}");
    let called = codes(&format!("{ai}node n {{ call brain; close }}\n"));
    assert_eq!(called[0].0, Code::UnknownApi);
    assert!(called[0].1.as_deref().unwrap().contains("reply with brain"));
    let draft = codes("ai b { draft; url \"https://l.example.test/v1\"; model \"m\" }\nnode n { reply with b; close }\n");
    assert_eq!(draft[0].0, Code::DraftApi);
    assert!(draft[0].1.as_deref().unwrap().contains("`ai b`"));
    let incomplete = codes("ai b { live }\nnode n { reply with b; close }\n");
    let missing: Vec<Code> = incomplete.iter().map(|(c, _)| *c).collect();
    assert_eq!(missing, [Code::MissingProperty, Code::MissingProperty]);
    let local = codes(
        "ai b { url \"http://127.0.0.1:8080/v1\"; model \"m\" }\nnode n { reply with b; close }\n",
    );
    assert_eq!(local[0].0, Code::PrivateHost, "the address guard applies");
}

#[test]
fn a_flow_with_an_ai_is_written_as_format_6_and_reads_back() {
    let src = "ai b { url \"https://l.example.test/v1\"; model \"m\"; key \"{secret.K}\" }\nnode n { reply with b; close }\n";
    let (program, _) = compile_clean("t.flow", src);
    assert_eq!((program.format_version, program.min_read_version), (6, 6));
    let json = serde_json::to_string(&*program).unwrap();
    assert!(
        json.contains("\"Secret\":\"K\""),
        "only the secret's name: {json}"
    );
    let back: chatflow::ir::Program = serde_json::from_str(&json).unwrap();
    assert_eq!(back, *program);
    let (plain, _) = compile_clean("t.flow", "node n { close }\n");
    assert_eq!(plain.format_version, 4);
}

/// The Brain AI sample flow: its tests pass on stubs (never a real model), and `chatflow fmt`
/// writes it back as it is.
#[tokio::test]
async fn the_sample_flow_passes_its_tests_and_formats_to_itself() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/inputs/ok/ai_brain.flow");
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        chatflow::syntax::format::format_source(&text).unwrap(),
        text
    );
    let (program, _) = compile_clean("ai_brain.flow", &text);
    let outcomes = chatflow::testing::run_tests(program, &Default::default()).await;
    assert_eq!(outcomes.len(), 5);
    for outcome in &outcomes {
        assert!(outcome.passed(), "{outcome:?}");
    }
}

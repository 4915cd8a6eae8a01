//! The interpreter: turns, asks, expressions, the step limit, sessions as data.

use crate::common;

use std::sync::Arc;

use chatflow::ir::*;
use chatflow::runtime::{Engine, EngineConfig, Event, LoadError, Session, SessionState};
use common::*;

/// The profile event that opens every conversation with a hand-built program.
fn profile() -> Event {
    Event::Profile {
        name: "test".into(),
        avatar: None,
    }
}

#[tokio::test]
async fn a_conversation_waits_at_asks_and_closes_when_statements_run_out() {
    let mut b = B::new();
    let stmts = vec![
        b.say("Hi!"),
        b.ask("city", AskKind::Text, Some("Which city?")),
        b.goto("reply"),
    ];
    b.add("greet", stmts);
    let stmts = vec![b.say("So, {city}.")];
    b.add("reply", stmts);
    let e = engine(&b);
    let mut s = e.new_session();
    assert_eq!(s.state, SessionState::New);
    assert!(s.attrs.iter().all(Option::is_none));

    let events = e.start(&mut s).await;
    assert_eq!(
        events,
        vec![
            profile(),
            Event::Say { text: "Hi!".into() },
            Event::Say {
                text: "Which city?".into()
            },
            Event::Ask {
                attr: "city".into(),
                kind: "text".into()
            },
        ]
    );
    assert_eq!(s.state, SessionState::Waiting);

    let events = e.step(&mut s, "Chicago").await;
    assert_eq!(
        events,
        vec![
            Event::Say {
                text: "So, Chicago.".into()
            },
            Event::Closed
        ]
    );
    assert_eq!(s.state, SessionState::Closed);
    assert_eq!(
        s.sys.get("last_message"),
        Some(&Value::Text("Chicago".into()))
    );

    let events = e.step(&mut s, "hello?").await;
    assert!(says(&events).is_empty());
    assert!(matches!(events.as_slice(), [Event::RuntimeError { .. }]));
}

/// Each kind: a bad answer is refused with a re-prompt and leaves the attribute unset; a good
/// one is stored with its type.
#[tokio::test]
async fn ask_kinds_refuse_bad_answers_and_store_good_ones() {
    let cases: [(AskKind, &str, &str, Value, &str); 7] = [
        (
            AskKind::Text,
            "   ",
            "anything",
            Value::Text("anything".into()),
            "Please type",
        ),
        (
            AskKind::Name,
            "R2-D2",
            "Ana O'Neil",
            Value::Text("Ana O'Neil".into()),
            "name",
        ),
        (
            AskKind::Email,
            "ana@",
            "ana@example.com",
            Value::Text("ana@example.com".into()),
            "email address",
        ),
        (
            AskKind::Phone,
            "12",
            "+1 (555) 010-9999",
            Value::Text("+1 (555) 010-9999".into()),
            "phone number",
        ),
        (
            AskKind::Number,
            "twelve",
            "1,234.5",
            Value::Number(Number::from_f64(1234.5)),
            "number",
        ),
        (
            AskKind::Date,
            "someday",
            "November 25, 2026",
            Value::Text("2026-11-25".into()),
            "date",
        ),
        (
            AskKind::Time,
            "25:61",
            "2:30 pm",
            Value::Text("14:30".into()),
            "time",
        ),
    ];
    for (kind, bad, good, stored, hint) in cases {
        let mut b = B::new();
        let stmts = vec![b.ask("x", kind, Some("Your answer?")), b.say("got {x}")];
        b.add("main", stmts);
        let e = engine(&b);
        let mut s = started(&e).await;

        let events = e.step(&mut s, bad).await;
        assert!(
            matches!(&events[0], Event::Invalid { attr, answer, .. } if attr == "x" && answer == bad),
            "{kind:?}: {events:?}"
        );
        let texts = says(&events);
        assert!(texts[0].contains(hint), "{kind:?}: {texts:?}");
        assert_eq!(texts[1], "Your answer?", "{kind:?}: the prompt is repeated");
        assert!(matches!(events.last(), Some(Event::Ask { .. })));
        assert_eq!(attr(&e, &s, "x"), None, "{kind:?}: stays unset");
        assert_eq!(s.state, SessionState::Waiting);

        let events = e.step(&mut s, good).await;
        assert_eq!(attr(&e, &s, "x"), Some(stored.clone()), "{kind:?}");
        assert!(
            matches!(events.last(), Some(Event::Closed)),
            "{kind:?}: {events:?}"
        );
    }
}

#[tokio::test]
async fn number_answers_compare_as_numbers_and_print_in_shortest_form() {
    let mut b = B::new();
    let cond = cmp(CmpOp::Ge, b.a("age"), lit_num(18.0));
    let stmts = vec![
        b.ask("age", AskKind::Number, None),
        b.branch(vec![(cond, "adult")], "minor"),
    ];
    b.add("main", stmts);
    let s1 = b.say("adult {age}");
    b.add("adult", vec![s1]);
    let s2 = b.say("minor {age}");
    b.add("minor", vec![s2]);
    let e = engine(&b);
    for (answer, expected) in [
        ("42", "adult 42"),
        ("9.5", "minor 9.5"),
        ("-2", "minor -2"),
        ("18.0", "adult 18"),
    ] {
        let mut s = started(&e).await;
        assert_eq!(says(&e.step(&mut s, answer).await), [expected]);
    }
}

/// `unset` compares unequal to everything and fails every other test.
#[tokio::test]
async fn unset_attributes_compare_unequal_and_fail_other_tests() {
    let mut b = B::new();
    let x = b.a("x");
    let n = b.a("n");
    let conditions: Vec<(&str, Expr, bool)> = vec![
        ("eq", cmp(CmpOp::Eq, x.clone(), lit_text("")), false),
        (
            "eq_null",
            cmp(CmpOp::Eq, x.clone(), Expr::Lit(Value::Null)),
            false,
        ),
        ("eq_unset", cmp(CmpOp::Eq, x.clone(), n.clone()), false),
        ("ne", cmp(CmpOp::Ne, x.clone(), lit_text("")), true),
        ("lt", cmp(CmpOp::Lt, n.clone(), lit_num(1.0)), false),
        ("ge", cmp(CmpOp::Ge, n.clone(), lit_num(1.0)), false),
        ("range", Expr::InRange(Box::new(n.clone()), 0, 10), false),
        (
            "status_range",
            Expr::InRange(Box::new(Expr::Status), 0, 999),
            false,
        ),
        (
            "status_ne",
            cmp(CmpOp::Ne, Expr::Status, lit_num(200.0)),
            true,
        ),
        (
            "list",
            Expr::InList(
                Box::new(x.clone()),
                vec![lit_text(""), Expr::Lit(Value::Null)],
            ),
            false,
        ),
        ("contains", text_test(TextOp::Contains, &x, ""), false),
        ("starts", text_test(TextOp::StartsWith, &x, ""), false),
        ("ends", text_test(TextOp::EndsWith, &x, ""), false),
        (
            "matches",
            Expr::Matches(Box::new(x.clone()), ".*".into()),
            false,
        ),
        ("is_set", Expr::IsSet(Box::new(x.clone())), false),
        (
            "not_set",
            Expr::Not(Box::new(Expr::IsSet(Box::new(x.clone())))),
            true,
        ),
        (
            "not_lt",
            Expr::Not(Box::new(cmp(CmpOp::Lt, n.clone(), lit_num(1.0)))),
            true,
        ),
    ];
    assert_conditions(b, vec![], conditions).await;
}

#[tokio::test]
async fn set_values_compare_by_type() {
    let mut b = B::new();
    let (x, n) = (b.a("x"), b.a("n"));
    let conditions: Vec<(&str, Expr, bool)> = vec![
        (
            "eq_text",
            cmp(CmpOp::Eq, x.clone(), lit_text("Chicago")),
            true,
        ),
        (
            "eq_num_vs_text",
            cmp(CmpOp::Eq, n.clone(), lit_text("404")),
            false,
        ),
        ("range", Expr::InRange(Box::new(n.clone()), 400, 499), true),
        (
            "range_edge",
            Expr::InRange(Box::new(n.clone()), 405, 499),
            false,
        ),
        (
            "list",
            Expr::InList(
                Box::new(x.clone()),
                vec![lit_text("Boston"), lit_text("Chicago")],
            ),
            true,
        ),
        ("contains", text_test(TextOp::Contains, &x, "ica"), true),
        ("starts", text_test(TextOp::StartsWith, &x, "Chi"), true),
        ("ends", text_test(TextOp::EndsWith, &x, "x"), false),
        (
            "matches",
            Expr::Matches(Box::new(n.clone()), "^4[0-9]{2}$".into()),
            true,
        ),
        (
            "lt_text",
            cmp(CmpOp::Lt, lit_text("2026-01-02"), lit_text("2026-11-25")),
            true,
        ),
        (
            "and_or",
            Expr::Or(
                Box::new(Expr::Lit(Value::Bool(false))),
                Box::new(Expr::And(
                    Box::new(Expr::IsSet(Box::new(x.clone()))),
                    Box::new(cmp(CmpOp::Gt, n.clone(), lit_num(400.0))),
                )),
            ),
            true,
        ),
    ];
    let values = vec![b.set("x", lit_text("Chicago")), b.set("n", lit_num(404.0))];
    assert_conditions(b, values, conditions).await;
}

/// Runs `before`, then sets an attribute named after each condition to its value, and checks
/// each one came out as expected.
async fn assert_conditions(mut b: B, before: Vec<Stmt>, conditions: Vec<(&str, Expr, bool)>) {
    let mut stmts = before;
    for (name, cond, _) in &conditions {
        stmts.push(b.set(name, cond.clone()));
    }
    b.add("main", stmts);
    let e = engine(&b);
    let s = started(&e).await;
    for (name, _, expected) in &conditions {
        assert_eq!(attr(&e, &s, name), Some(Value::Bool(*expected)), "{name}");
    }
}

/// `subject` (contains / starts with / ends with) `text`.
fn text_test(op: TextOp, subject: &Expr, text: &str) -> Expr {
    Expr::Text(op, Box::new(subject.clone()), Box::new(lit_text(text)))
}

#[tokio::test]
async fn templates_write_numbers_booleans_unset_and_sys_values() {
    let mut b = B::new();
    let stmts = vec![
        b.set("a", lit_num(24.0)),
        b.set("b", lit_num(3.5)),
        b.set("c", lit_num(-2.0)),
        b.set("d", Expr::Lit(Value::Bool(true))),
        b.set("e", Expr::Lit(Value::Null)),
        b.say("{a}|{b}|{c}|{d}|{e}|{unset}|{status}|{{x}}|{sys.channel}"),
        b.say("{sys.now}|{sys.date}|{sys.time}|{sys.visitor_id}"),
    ];
    b.add("main", stmts);
    let e = engine(&b);
    let mut s = e.new_session();
    let texts = says(&e.start(&mut s).await);
    assert_eq!(texts[0], "24|3.5|-2|true||||{x}|terminal");
    let parts: Vec<&str> = texts[1].split('|').collect();
    assert!(
        chrono::DateTime::parse_from_rfc3339(parts[0]).is_ok(),
        "{}",
        parts[0]
    );
    assert!(chrono::NaiveDate::parse_from_str(parts[1], "%Y-%m-%d").is_ok());
    assert!(chrono::NaiveTime::parse_from_str(parts[2], "%H:%M").is_ok());
    assert_eq!(parts[3].len(), 16);
}

fn looping_flow() -> B {
    let mut b = B::new();
    let stmts = vec![b.ask("x", AskKind::Text, Some("Go?")), b.goto("spin")];
    b.add("main", stmts);
    // spin -> spin2 -> spin ... when x == "loop", else done
    let cond = cmp(CmpOp::Eq, b.a("x"), lit_text("loop"));
    let stmts = vec![b.branch(vec![(cond, "spin2")], "done")];
    b.add("spin", stmts);
    let stmts = vec![b.goto("spin")];
    b.add("spin2", stmts);
    let stmts = vec![
        b.say("done with {x}"),
        b.ask("y", AskKind::Text, Some("Again?")),
    ];
    b.add("done", stmts);
    b
}

#[tokio::test]
async fn the_step_limit_ends_the_turn_and_the_session_stays_usable() {
    let e = step_limited(&looping_flow(), 50);
    let mut s = started(&e).await;

    let events = e.step(&mut s, "loop").await;
    let [Event::RuntimeError { message }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert!(message.contains("50"), "{message}");
    assert!(message.contains("spin"), "{message}");
    assert_eq!(s.state, SessionState::Waiting);

    // The next message answers the same question again.
    let events = e.step(&mut s, "fine").await;
    assert_eq!(says(&events), ["done with fine", "Again?"]);
    assert_eq!(s.state, SessionState::Waiting);
}

/// An engine whose start node loops before anything waits: the opening turn cannot finish.
fn spinning_engine() -> Engine {
    let mut b = B::new();
    let stmts = vec![b.say("spinning"), b.goto("main")];
    b.add("main", stmts);
    step_limited(&b, 3)
}

/// An engine for `b`'s program that fails a turn after `max_steps` node entries.
fn step_limited(b: &B, max_steps: u32) -> Engine {
    let config = EngineConfig {
        max_steps,
        ..Default::default()
    };
    Engine::new(b.build(), config).unwrap()
}

/// An engine for `program` that reports nodes, conditions and returns as trace events.
fn traced(program: Arc<Program>) -> Engine {
    let config = EngineConfig {
        trace: true,
        ..Default::default()
    };
    Engine::new(program, config).unwrap()
}

/// The messages of the runtime errors among `events`.
fn runtime_errors(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RuntimeError { message } => Some(message.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_step_limit_in_the_opening_turn_fails_the_conversation_once() {
    let e = spinning_engine();
    let mut s = e.new_session();
    let opening = e.start(&mut s).await;
    let errors = runtime_errors(&opening);
    assert_eq!(errors.len(), 1, "{opening:?}");
    assert!(errors[0].contains("step limit"), "{opening:?}");
    assert_eq!(s.state, SessionState::Failed);

    // A message is not swallowed by a restart: no second opening, no second step limit,
    // and the answer says the message was not read.
    let events = e.step(&mut s, "hello?").await;
    assert_eq!(says(&events), Vec::<String>::new(), "{events:?}");
    let errors = runtime_errors(&events);
    assert_eq!(errors.len(), 1, "{events:?}");
    assert!(
        errors[0].contains("failed") && errors[0].contains("hello?"),
        "{errors:?}"
    );
    assert_eq!(s.state, SessionState::Failed);
}

#[tokio::test]
async fn a_first_message_to_an_unstarted_conversation_that_fails_is_not_dropped() {
    let e = spinning_engine();
    let mut s = e.new_session();
    let events = e.step(&mut s, "hi there").await;
    let errors = runtime_errors(&events);
    assert_eq!(errors.len(), 2, "{events:?}");
    assert!(errors[0].contains("step limit"), "{errors:?}");
    assert!(errors[1].contains("hi there"), "{errors:?}");
    assert_eq!(s.state, SessionState::Failed);
}

#[tokio::test]
async fn the_step_limit_counts_node_entries() {
    // main -> a -> b -> c waits: 4 entries.
    let mut b = B::new();
    let stmts = vec![b.goto("a")];
    b.add("main", stmts);
    let stmts = vec![b.goto("b")];
    b.add("a", stmts);
    let stmts = vec![b.goto("c")];
    b.add("b", stmts);
    let stmts = vec![b.ask("x", AskKind::Text, None)];
    b.add("c", stmts);
    for (limit, ok) in [(4, true), (3, false)] {
        let e = step_limited(&b, limit);
        let mut s = e.new_session();
        let events = e.start(&mut s).await;
        let errored = events
            .iter()
            .any(|e| matches!(e, Event::RuntimeError { .. }));
        assert_eq!(!errored, ok, "limit {limit}: {events:?}");
    }
}

#[tokio::test]
async fn a_session_survives_serialisation_between_turns() {
    let mut b = B::new();
    let stmts = vec![
        b.ask("name", AskKind::Name, Some("Name?")),
        b.ask("age", AskKind::Number, Some("Age?")),
        b.goto("end"),
    ];
    b.add("main", stmts);
    let cond = cmp(CmpOp::Gt, b.a("age"), lit_num(30.0));
    let stmts = vec![b.branch(vec![(cond, "old")], "young")];
    b.add("end", stmts);
    let s1 = b.say("{name} is over 30");
    b.add("old", vec![s1]);
    let s2 = b.say("{name} is young");
    b.add("young", vec![s2]);
    let e = engine(&b);

    let mut s = started(&e).await;
    e.step(&mut s, "Ana").await;
    let json = serde_json::to_string(&s).unwrap();
    let mut restored: Session = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, s);
    // A fresh engine over the same program picks the conversation up.
    let e2 = engine(&b);
    let events = e2.step(&mut restored, "41").await;
    assert_eq!(says(&events), ["Ana is over 30"]);
    assert_eq!(
        attr(&e2, &restored, "age"),
        Some(Value::Number(Number::from_f64(41.0)))
    );
    assert_eq!(restored.state, SessionState::Closed);
}

#[tokio::test]
async fn trace_events_only_when_asked() {
    let mut b = B::new();
    let cond = cmp(CmpOp::Eq, b.a("x"), lit_text("a"));
    let stmts = vec![b.branch(vec![(cond, "one")], "two")];
    b.add("main", stmts);
    b.add("one", vec![Stmt::Close]);
    b.add("two", vec![Stmt::Close]);
    let quiet = engine(&b);
    let mut s = quiet.new_session();
    assert_eq!(quiet.start(&mut s).await, vec![profile(), Event::Closed]);

    let loud = traced(b.build());
    let mut s = loud.new_session();
    assert_eq!(
        loud.start(&mut s).await,
        vec![
            profile(),
            Event::NodeEntered {
                node: "main".into()
            },
            Event::Condition {
                node: "main".into(),
                arm: 0,
                result: false,
                target: "one".into()
            },
            Event::Condition {
                node: "main".into(),
                arm: 1,
                result: true,
                target: "two".into()
            },
            Event::NodeEntered { node: "two".into() },
            Event::Closed,
        ]
    );
}

#[tokio::test]
async fn status_branches_after_a_call() {
    let server = Server::start().await;
    let mut b = B::new();
    let api = b.http_api(
        "w",
        Method::Get,
        &format!("{}/status/{{code}}", server.base),
    );
    let api = b.api(api);
    let ok = cmp(CmpOp::Eq, Expr::Status, lit_num(200.0));
    let client = Expr::InRange(Box::new(Expr::Status), 400, 499);
    let stmts = vec![
        b.ask("code", AskKind::Number, None),
        Stmt::Call(api),
        b.branch(vec![(ok, "ok"), (client, "client")], "failed"),
    ];
    b.add("main", stmts);
    for (name, text) in [
        ("ok", "ok {status}"),
        ("client", "client {status}"),
        ("failed", "failed {status}"),
    ] {
        let stmt = b.say(text);
        b.add(name, vec![stmt]);
    }
    let e = engine(&b);
    for (code, expected) in [
        ("200", "ok 200"),
        ("404", "client 404"),
        ("503", "failed 503"),
    ] {
        let mut s = started(&e).await;
        assert_eq!(says(&e.step(&mut s, code).await), [expected]);
    }
}

#[test]
fn unsupported_ir_versions_and_bad_references_are_refused() {
    let mut b = B::new();
    b.add("main", vec![Stmt::Close]);
    let mut p = b.program();
    p.format_version = FORMAT_VERSION + 1;
    p.min_read_version = FORMAT_VERSION + 1;
    let err = Engine::new(Arc::new(p), EngineConfig::default()).unwrap_err();
    assert!(matches!(err, LoadError::UnsupportedVersion { .. }), "{err}");

    let mut p = b.program();
    p.nodes[0].stmts = vec![Stmt::Goto(7)];
    let err = Engine::new(Arc::new(p), EngineConfig::default()).unwrap_err();
    assert!(matches!(err, LoadError::BadReference(_)), "{err}");

    let mut p = b.program();
    p.nodes[0].stmts = vec![Stmt::Set {
        attr: 0,
        value: Expr::Matches(Box::new(lit_text("")), "(".into()),
    }];
    p.attrs.push(AttrInfo {
        name: "x".into(),
        ty: ValueType::Bool,
        sensitive: false,
    });
    let err = Engine::new(Arc::new(p), EngineConfig::default()).unwrap_err();
    assert!(matches!(err, LoadError::BadRegex { .. }), "{err}");
}

#[test]
fn engines_and_turns_can_move_between_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let mut b = B::new();
    b.add("main", vec![Stmt::Close]);
    let e = engine(&b);
    send_sync(&e);
    let mut s = e.new_session();
    send(e.step(&mut s, "hi"));
}

const WEATHER_FLOW: &str = r#"
bot "Weather desk" {
  start greet
}

api weather {
  live
  get "https://api.example.test/v1/weather?q={city}&units=metric"
  header "Authorization" = "Bearer {secret.WEATHER_TOKEN}"
  timeout 2s
  retry 2
  save temperature = body.main.temp
  save summary = body.weather[0].description
}

node greet {
  say "Hi! Which city are you in?"
  ask city
  goto lookup
}

node lookup {
  call weather
  if status == 200 and city == "Chicago" -> chicago
  elif status == 200 -> report
  elif status in 400..499 -> unknown_city
  else -> failed
}

node chicago { say "It is {temperature} degrees in {city}, with {summary}. Special offer today!" }
node report { say "It is {temperature} degrees in {city}." }
node unknown_city { say "I don't know {city}." }
node failed { say "The weather service is down ({sys.api_error})." }
"#;

fn compiled(src: &str) -> Arc<Program> {
    compile_clean("test.flow", src).0
}

/// Latency varies from run to run; everything else of the stream is pinned.
fn stable(mut events: Vec<Event>) -> Vec<Event> {
    for e in &mut events {
        if let Event::ApiCall { latency_ms, .. } = e {
            *latency_ms = 0;
        }
    }
    events
}

#[tokio::test]
async fn the_weather_conversation_from_source() {
    let server = Server::start().await;
    let secrets =
        std::collections::HashMap::from([("WEATHER_TOKEN".to_string(), "tok-123".to_string())]);
    let config = EngineConfig {
        redirect_base: Some(server.base.clone()),
        secrets: Some(Arc::new(secrets)),
        trace: true,
        ..Default::default()
    };
    let e = Engine::new(compiled(WEATHER_FLOW), config).unwrap();
    let mut s = e.new_session();
    let mut transcript = vec![("start".to_string(), e.start(&mut s).await)];
    transcript.push((
        "user: São Paulo & \"Rio\"".into(),
        stable(e.step(&mut s, "São Paulo & \"Rio\"").await),
    ));
    let mut s2 = started(&e).await;
    transcript.push((
        "user: Chicago".into(),
        stable(e.step(&mut s2, "Chicago").await),
    ));
    insta::assert_json_snapshot!("weather_conversation", transcript);

    let seen = server.seen();
    assert_eq!(seen[0].header("authorization"), Some("Bearer tok-123"));
    assert_eq!(
        seen[0].target,
        "/weather/v1/weather?q=S%C3%A3o%20Paulo%20%26%20%22Rio%22&units=metric"
    );
    assert!(!format!("{transcript:?}").contains("tok-123"));
}

#[tokio::test]
async fn failures_take_the_else_branch_with_a_reason() {
    let down = refused_base().await;
    let src = WEATHER_FLOW
        .replace("https://api.example.test", &down)
        // The stand-in server is on loopback: an internal service.
        .replace("api weather {", "api weather {\n  internal")
        .replace("retry 2", "retry 0")
        .replace(
            " header \"Authorization\" = \"Bearer {secret.WEATHER_TOKEN}\"",
            "",
        );
    let e = Engine::new(compiled(&src), EngineConfig::default()).unwrap();
    let mut s = started(&e).await;
    let events = e.step(&mut s, "Paris").await;
    assert_eq!(says(&events), ["The weather service is down (connect)."]);
}

#[tokio::test]
async fn a_flow_that_loops_without_waiting_hits_the_limit_from_source() {
    let src = r#"
node a {
  ask x "Go?"
  goto b
}
node b {
  if x == "stop" -> c
  else -> b2
}
node b2 { goto b }
node c { say "stopped" }
"#;
    let compiled = chatflow::compile::compile_str("loop.flow", src);
    // A loop that never waits is a warning, not an error: the program still runs.
    let program = compiled.program.expect("a warning only");
    let e = Engine::new(Arc::new(program), EngineConfig::default()).unwrap();
    let mut s = started(&e).await;
    let events = e.step(&mut s, "go").await;
    assert!(
        matches!(events.as_slice(), [Event::RuntimeError { message }] if message.contains("1000")),
        "{events:?}"
    );
    assert_eq!(says(&e.step(&mut s, "stop").await), ["stopped"]);
}

#[tokio::test]
async fn sessions_from_storage_that_do_not_fit_are_refused_or_fitted() {
    let mut b = B::new();
    let stmts = vec![b.ask("a", AskKind::Text, None), b.say("a={a}")];
    b.add("main", stmts);
    let e = engine(&b);
    let s = started(&e).await;

    let mut short = s.clone();
    short.attrs.clear();
    assert_eq!(says(&e.step(&mut short, "x").await), ["a=x"]);

    let mut lost = s.clone();
    lost.node = 99;
    let events = e.step(&mut lost, "x").await;
    assert!(
        matches!(events.as_slice(), [Event::RuntimeError { .. }]),
        "{events:?}"
    );
    lost.state = SessionState::New;
    let events = e.start(&mut lost).await;
    assert!(
        matches!(
            events.as_slice(),
            [Event::Profile { .. }, Event::Ask { .. }]
        ),
        "start resets the node: {events:?}"
    );
}

/// One engine serves many conversations at once: the server answers `/together` only once
/// several of the 1,000 sessions' requests wait on it at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_conversations_wait_on_their_apis_concurrently() {
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api(
        "together",
        Method::Get,
        &format!("{}/together?id={{id}}", server.base),
    );
    api.timeout_ms = 60_000; // a busy machine must not time out the first requests
    let api = b.api(api);
    let stmts = vec![
        b.ask("id", AskKind::Number, None),
        Stmt::Call(api),
        b.say("{id}: {status}"),
    ];
    b.add("main", stmts);
    let e = engine(&b);
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let e = e.clone();
            tokio::spawn(async move {
                let mut s = started(&e).await;
                says(&e.step(&mut s, &i.to_string()).await)
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap(), [format!("{i}: 200")]);
    }
    assert_eq!(server.seen().len(), 1000);
}

#[tokio::test]
async fn step_on_a_new_session_starts_it_and_answers_the_first_ask() {
    let mut b = B::new();
    let stmts = vec![b.say("Hi"), b.ask("a", AskKind::Text, None), b.say("a={a}")];
    b.add("main", stmts);
    let e = engine(&b);
    let mut s = e.new_session();
    assert_eq!(says(&e.step(&mut s, "x").await), ["Hi", "a=x"]);
    assert_eq!(s.state, SessionState::Closed);
}

#[tokio::test]
async fn an_idle_session_is_small() {
    let e = Engine::new(compiled(WEATHER_FLOW), EngineConfig::default()).unwrap();
    let s = started(&e).await;
    let json = serde_json::to_vec(&s).unwrap();
    assert!(json.len() < 2048, "{} bytes", json.len());
}

/// `return` and a flow node that runs out both report the caller resumed, and only in traces.
#[tokio::test]
async fn a_sub_flow_return_is_traced_as_returned_to_the_caller() {
    let src = r#"
flow tag(kind) {
  node first {
    if kind == "early" -> early
    else -> late
  }
  node early { return }
  node late { say "late {kind}" }
}

node main {
  run tag("early")
  run tag("late")
  say "back"
}
"#;
    let program = compiled(src);
    let quiet = Engine::new(program.clone(), EngineConfig::default()).unwrap();
    let events = quiet.start(&mut quiet.new_session()).await;
    assert!(
        !events.iter().any(|e| matches!(e, Event::Returned { .. })),
        "{events:?}"
    );
    assert_eq!(says(&events), ["late late", "back"]);

    let loud = traced(program);
    let events = loud.start(&mut loud.new_session()).await;
    let flow: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::NodeEntered { node } => Some(format!("entered {node}")),
            Event::Returned { node } => Some(format!("returned to {node}")),
            Event::Say { text } => Some(format!("say {text}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        flow,
        [
            "entered main",
            "entered tag.first",
            "entered tag.early",
            "returned to main",
            "entered tag.first",
            "entered tag.late",
            "say late late",
            "returned to main",
            "say back",
        ]
    );
}

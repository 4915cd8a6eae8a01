//! The API Connector against real loopback HTTP servers.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chatflow::ir::*;
use chatflow::runtime::{Backoff, Engine, EngineConfig, Event, SentRequest, Session};
use common::*;

use crate::clock::{advance_ms, hold_clock, wait_until};

const CITY: &str = "São Paulo & \"Rio\"";
const CITY_ENCODED: &str = "S%C3%A3o%20Paulo%20%26%20%22Rio%22";

/// Run a one-node flow: `pre` statements, `call api`, close. Returns the session and events.
async fn run_call(
    mut b: B,
    api: Api,
    pre: Vec<Stmt>,
    config: EngineConfig,
) -> (Session, Vec<Event>) {
    let id = b.api(api);
    b.add("main", pre);
    b.add("main", vec![Stmt::Call(id), Stmt::Close]);
    let engine = Engine::new(b.build(), config).unwrap();
    let mut s = engine.new_session();
    let events = engine.start(&mut s).await;
    (s, events)
}

fn set_text(b: &mut B, attr: &str, v: &str) -> Stmt {
    b.set(attr, lit_text(v))
}

/// The single ApiCall event: (url, status, error, attempts).
fn api_call(events: &[Event]) -> (String, u16, Option<String>, u32) {
    let found = calls(events);
    assert_eq!(found.len(), 1, "{events:?}");
    found[0].clone()
}

/// The single ApiCall event's `latency_ms`.
fn latency_ms(events: &[Event]) -> u64 {
    let latencies: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::ApiCall { latency_ms, .. } => Some(*latency_ms),
            _ => None,
        })
        .collect();
    assert_eq!(latencies.len(), 1, "{events:?}");
    latencies[0]
}

/// Retries follow each other at once: for tests of how often, not how long.
fn no_backoff() -> EngineConfig {
    EngineConfig {
        backoff: Backoff::NONE,
        ..EngineConfig::default()
    }
}

/// Waits until `server` has received `n` requests.
fn received(server: &Server, n: usize) -> impl Fn() -> bool + Send + 'static {
    let seen = server.seen.clone();
    move || seen.lock().unwrap().len() >= n
}

fn api_error(s: &Session) -> Option<String> {
    match s.sys.get("api_error") {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

fn attr(b: &B, s: &Session, name: &str) -> Option<Value> {
    let id = b.p.attrs.iter().position(|a| a.name == name).unwrap();
    s.attrs[id].clone()
}

#[tokio::test]
async fn url_values_are_percent_encoded_but_literal_text_is_not() {
    let server = Server::start().await;
    let mut b = B::new();
    let pre = vec![set_text(&mut b, "city", CITY)];
    let api = b.http_api(
        "weather",
        Method::Get,
        &format!("{}/weather?q={{city}}&units=metric", server.base),
    );
    let (s, events) = run_call(b, api, pre, EngineConfig::default()).await;

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].target,
        format!("/weather?q={CITY_ENCODED}&units=metric")
    );
    let (url, status, error, _) = api_call(&events);
    assert_eq!(
        url,
        format!("{}/weather?q={CITY_ENCODED}&units=metric", server.base)
    );
    assert_eq!((status, error), (200, None));
    assert_eq!(s.status, Some(200));
}

#[tokio::test]
async fn headers_carry_values_and_secrets_but_events_do_not() {
    let server = Server::start().await;
    let mut b = B::new();
    let pre = vec![set_text(&mut b, "city", "Chicago")];
    let mut api = b.http_api(
        "weather",
        Method::Get,
        &format!("{}/ok?key={{secret.TOKEN}}", server.base),
    );
    api.headers = vec![
        b.header("X-City", "{city}"),
        b.header("Authorization", "Bearer {secret.TOKEN}"),
    ];
    let secrets = HashMap::from([("TOKEN".to_string(), "s3cr3t-value".to_string())]);
    let config = EngineConfig {
        secrets: Some(Arc::new(secrets)),
        ..Default::default()
    };
    let (s, events) = run_call(b, api, pre, config).await;

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("x-city"), Some("Chicago"));
    assert_eq!(seen[0].header("authorization"), Some("Bearer s3cr3t-value"));
    assert_eq!(seen[0].target, "/ok?key=s3cr3t-value");
    let (url, status, _, _) = api_call(&events);
    assert_eq!(status, 200);
    assert_eq!(url, format!("{}/ok?key=***", server.base));
    let everything = format!("{events:?} {}", serde_json::to_string(&s).unwrap());
    assert!(
        !everything.contains("s3cr3t"),
        "secret leaked: {everything}"
    );
}

#[tokio::test]
async fn a_missing_secret_sends_nothing() {
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api("weather", Method::Get, &format!("{}/ok", server.base));
    api.headers = vec![b.header("Authorization", "Bearer {secret.NOPE}")];
    let config = EngineConfig {
        secrets: Some(Arc::default()),
        ..Default::default()
    };
    let (s, events) = run_call(b, api, vec![], config).await;
    assert!(server.seen().is_empty());
    assert_eq!(api_call(&events).1, 0);
    assert_eq!(api_error(&s).as_deref(), Some("missing_secret"));
}

#[tokio::test]
async fn header_values_with_cr_or_lf_are_refused() {
    let server = Server::start().await;
    for injected in ["x\r\nX-Injected: 1", "x\nX-Injected: 1", "x\rY"] {
        let mut b = B::new();
        let pre = vec![set_text(&mut b, "city", injected)];
        let mut api = b.http_api("weather", Method::Get, &format!("{}/ok", server.base));
        api.headers = vec![b.header("X-City", "{city}")];
        let (s, events) = run_call(b, api, pre, EngineConfig::default()).await;
        let (_, status, error, _) = api_call(&events);
        assert_eq!((status, error.as_deref()), (0, Some("bad_header")));
        assert_eq!(s.status, Some(0));
        assert_eq!(api_error(&s).as_deref(), Some("bad_header"));
    }
    assert!(server.seen().is_empty(), "no request may be sent");
}

#[tokio::test]
async fn json_bodies_escape_inserted_text_and_strings_stay_text() {
    let server = Server::start().await;
    let mut b = B::new();
    let pre = vec![
        set_text(&mut b, "city", CITY),
        b.set("n", lit_num(42.0)),
        b.set("vip", Expr::Lit(Value::Bool(true))),
    ];
    let mut api = b.http_api("book", Method::Post, &format!("{}/ok", server.base));
    let field = |b: &mut B, s: &str| JsonTemplate::String(b.t(s));
    api.body = Some(RequestBody::Json(JsonTemplate::Object(vec![
        ("city".into(), field(&mut b, "{city}")),
        ("note".into(), field(&mut b, "line1\nsays {city}!")),
        ("count".into(), field(&mut b, "{n}")),
        ("count_text".into(), field(&mut b, "n={n}")),
        ("vip".into(), field(&mut b, "{vip}")),
        ("missing".into(), field(&mut b, "{nothing}")),
        (
            "list".into(),
            JsonTemplate::Array(vec![
                field(&mut b, "{city}"),
                JsonTemplate::Number(Number::from_f64(1.5)),
                JsonTemplate::Bool(false),
                JsonTemplate::Null,
            ]),
        ),
    ])));
    let (_, events) = run_call(b, api, pre, EngineConfig::default()).await;
    assert_eq!(api_call(&events).1, 200);

    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "city": CITY,
            "note": format!("line1\nsays {CITY}!"),
            // A string is text even when it only inserts a number or a boolean.
            "count": "42",
            "count_text": "n=42",
            "vip": "true",
            "missing": "",
            "list": [CITY, 1.5, false, null],
        })
    );
}

#[tokio::test]
async fn bare_references_in_json_bodies_send_typed_values() {
    let server = Server::start().await;
    let mut b = B::new();
    let order: serde_json::Value =
        serde_json::from_str(r#"{"id": 9007199254740993, "tags": ["a", "b"], "gift": true}"#)
            .unwrap();
    let order = Value::Map(match order {
        serde_json::Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::from_value(v.clone()).unwrap()))
            .collect(),
        _ => unreachable!(),
    });
    let pre = vec![
        set_text(&mut b, "city", CITY),
        b.set("qty", lit_num(2.0)),
        b.set("price", lit_num(19.99)),
        b.set("order", Expr::Lit(order)),
        b.set("vip", Expr::Lit(Value::Bool(false))),
    ];
    let mut api = b.http_api("book", Method::Post, &format!("{}/ok", server.base));
    let mut field = |name: &str| JsonTemplate::Value(Expr::Attr(b.attr(name)));
    api.body = Some(RequestBody::Json(JsonTemplate::Object(vec![
        ("qty".into(), field("qty")),
        ("price".into(), field("price")),
        ("city".into(), field("city")),
        ("order".into(), field("order")),
        ("vip".into(), field("vip")),
        ("missing".into(), field("nothing")),
    ])));
    let (_, events) = run_call(b, api, pre, EngineConfig::default()).await;
    assert_eq!(api_call(&events).1, 200);
    let body = String::from_utf8(server.seen()[0].body.clone()).unwrap();
    // Compared as text: every digit of the id must be on the wire.
    assert_eq!(
        body,
        format!(
            r#"{{"qty":2,"price":19.99,"city":{},"order":{{"gift":true,"id":9007199254740993,"tags":["a","b"]}},"vip":false,"missing":null}}"#,
            serde_json::Value::String(CITY.into())
        )
    );
}

#[tokio::test]
async fn text_bodies_are_sent_as_is() {
    let server = Server::start().await;
    let mut b = B::new();
    let pre = vec![set_text(&mut b, "city", CITY), b.set("n", lit_num(3.5))];
    let mut api = b.http_api("book", Method::Post, &format!("{}/ok", server.base));
    api.body = Some(RequestBody::Text(b.t("city={city}&n={n} {{literal}}")));
    let (_, events) = run_call(b, api, pre, EngineConfig::default()).await;
    assert_eq!(api_call(&events).1, 200);
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        String::from_utf8_lossy(&seen[0].body),
        format!("city={CITY}&n=3.5 {{literal}}")
    );
}

/// On the paused clock, held still: each attempt waits its whole timeout, each retry its
/// backoff, and the call reports the sum as its latency.
#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out_on_every_attempt() {
    let _held = hold_clock();
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api("slow", Method::Get, &format!("{}/slow", server.base));
    api.timeout_ms = 200;
    api.retry = 2;
    let config = EngineConfig {
        backoff: Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_millis(150),
            jitter: 0.0,
        },
        ..EngineConfig::default()
    };
    let mut call = tokio::spawn(run_call(b, api, vec![], config));

    wait_until(received(&server, 1), &mut call).await;
    advance_ms(199).await;
    assert!(!call.is_finished(), "the first attempt still waits");
    advance_ms(1).await; // its timeout; then 100 ms of backoff
    advance_ms(99).await;
    assert_eq!(server.seen().len(), 1, "no retry during the backoff");
    advance_ms(1).await;

    wait_until(received(&server, 2), &mut call).await;
    advance_ms(200).await; // the second timeout; then 150 ms, the backoff's max
    advance_ms(149).await;
    assert_eq!(server.seen().len(), 2, "no retry during the backoff");
    advance_ms(1).await;

    wait_until(received(&server, 3), &mut call).await;
    advance_ms(199).await;
    assert!(!call.is_finished(), "the last attempt still waits");
    advance_ms(1).await;
    assert!(call.is_finished(), "the last timeout ends the call");

    let (s, events) = call.await.unwrap();
    let (_, status, error, attempts) = api_call(&events);
    assert_eq!(
        (status, error.as_deref(), attempts),
        (0, Some("timeout"), 3)
    );
    assert_eq!(latency_ms(&events), 200 + 100 + 200 + 150 + 200);
    assert_eq!(api_error(&s).as_deref(), Some("timeout"));
    assert_eq!(server.seen().len(), 3);
}

#[test]
fn backoff_doubles_up_to_its_max_and_jitter_spreads_it() {
    let backoff = Backoff::default();
    let ms = Duration::from_millis;
    let middle: Vec<Duration> = (0..7).map(|n| backoff.delay(n, 0.5)).collect();
    assert_eq!(
        middle,
        [
            ms(100),
            ms(200),
            ms(400),
            ms(800),
            ms(1600),
            ms(2000),
            ms(2000)
        ]
    );
    assert_eq!(backoff.delay(u32::MAX, 0.5), ms(2000), "no overflow");
    let near = |d: Duration, want: f64| (d.as_secs_f64() - want).abs() < 1e-6;
    assert!(near(backoff.delay(0, 0.0), 0.050), "-50 %");
    assert!(near(backoff.delay(1, 1.0), 0.300), "+50 %");
    assert!(
        near(backoff.delay(5, 0.25), 1.500),
        "the max is jittered too"
    );
    assert_eq!(Backoff::NONE.delay(3, 0.9), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn gets_are_retried_on_5xx_until_they_succeed() {
    let _held = hold_clock(); // no time passes: the attempt timeouts never fire
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api("flaky", Method::Get, &format!("{}/flaky", server.base));
    api.retry = 2;
    api.saves = vec![Save {
        attr: b.attr("ok"),
        path: vec![PathStep::Field("ok".into())],
    }];
    let (s, events) = run_call(b, api, vec![], no_backoff()).await;
    let (_, status, error, attempts) = api_call(&events);
    assert_eq!((status, error, attempts), (200, None, 3));
    assert_eq!(
        latency_ms(&events),
        0,
        "no backoff: the retries follow at once"
    );
    assert_eq!(server.seen().len(), 3);
    assert_eq!(s.attrs[0], Some(Value::Bool(true)));
}

#[tokio::test(start_paused = true)]
async fn retries_stop_after_the_limit() {
    let _held = hold_clock(); // no time passes: the attempt timeouts never fire
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api("flaky", Method::Get, &format!("{}/flaky", server.base));
    api.retry = 1;
    let (_, events) = run_call(b, api, vec![], no_backoff()).await;
    let (_, status, _, attempts) = api_call(&events);
    assert_eq!((status, attempts), (500, 2));
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn posts_are_not_retried_unless_allowed() {
    let _held = hold_clock(); // no time passes: the attempt timeouts never fire
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api("flaky", Method::Post, &format!("{}/flaky", server.base));
    api.retry = 2;
    let (_, events) = run_call(b, api.clone(), vec![], no_backoff()).await;
    assert_eq!(api_call(&events).1, 500);
    assert_eq!(server.seen().len(), 1, "a POST must not be retried");

    let server = Server::start().await;
    let mut b = B::new();
    api.url = b.t(&format!("{}/flaky", server.base));
    api.idempotent = true;
    let (_, events) = run_call(b, api, vec![], no_backoff()).await;
    assert_eq!(api_call(&events).1, 200);
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn oversized_answers_fail_with_too_large_and_save_nothing() {
    let server = Server::start().await;
    let streaming = streaming_server(5000).await;
    for url in [format!("{}/big", server.base), format!("{streaming}/")] {
        let mut b = B::new();
        let pre = vec![set_text(&mut b, "pad", "before")];
        let mut api = b.http_api("big", Method::Get, &url);
        api.saves = vec![Save {
            attr: b.attr("pad"),
            path: vec![PathStep::Field("pad".into())],
        }];
        let config = EngineConfig {
            max_response_bytes: 1000,
            ..Default::default()
        };
        let (s, events) = run_call(b, api, pre, config).await;
        let (_, status, error, _) = api_call(&events);
        assert_eq!((status, error.as_deref()), (0, Some("too_large")), "{url}");
        assert_eq!(
            s.attrs[0],
            Some(Value::Text("before".into())),
            "no save on too_large"
        );
    }
}

#[tokio::test]
async fn answers_under_the_cap_are_read_in_full() {
    let streaming = streaming_server(3000).await;
    let mut b = B::new();
    let api = b.http_api("stream", Method::Get, &format!("{streaming}/"));
    let id = b.api(api);
    b.add("main", vec![Stmt::Close]);
    let engine = Engine::new(
        b.build(),
        EngineConfig {
            max_response_bytes: 4000,
            ..Default::default()
        },
    )
    .unwrap();
    let mut s = engine.new_session();
    let report = engine.call_api(&mut s, id).await;
    assert_eq!(s.status, Some(200));
    assert_eq!(report.body.map(|b| b.len()), Some(3000));
}

#[tokio::test]
async fn non_json_and_empty_answers_unset_the_saves() {
    let server = Server::start().await;
    for path in ["/text", "/empty"] {
        let mut b = B::new();
        let pre = vec![set_text(&mut b, "x", "before")];
        let mut api = b.http_api("t", Method::Get, &format!("{}{path}", server.base));
        api.saves = vec![Save {
            attr: b.attr("x"),
            path: vec![PathStep::Field("a".into())],
        }];
        let (s, events) = run_call(b, api, pre, EngineConfig::default()).await;
        assert_eq!(api_call(&events).1, 200, "{path}");
        // Issue 11: what an earlier value said must not pass for this answer's data.
        assert_eq!(s.attrs[0], None, "{path}");
        assert_eq!(api_error(&s), None);
    }
}

#[tokio::test]
async fn redirects_are_followed_up_to_a_limit() {
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api("r", Method::Get, &format!("{}/redirect", server.base));
    api.saves = vec![Save {
        attr: b.attr("temp"),
        path: vec![
            PathStep::Field("main".into()),
            PathStep::Field("temp".into()),
        ],
    }];
    let (s, events) = run_call(b, api, vec![], EngineConfig::default()).await;
    assert_eq!(api_call(&events).1, 200);
    assert_eq!(s.attrs[0], Some(Value::Number(Number::from_f64(3.5))));
    let targets: Vec<String> = server.seen().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/redirect", "/weather"]);

    let mut b = B::new();
    let api = b.http_api("r", Method::Get, &format!("{}/loop", server.base));
    let (s, events) = run_call(b, api, vec![], EngineConfig::default()).await;
    assert_eq!(api_call(&events).2.as_deref(), Some("redirect"));
    assert_eq!(s.status, Some(0));
}

#[tokio::test]
async fn a_refused_connection_is_status_zero_connect() {
    let base = refused_base().await;
    let mut b = B::new();
    let api = b.http_api("down", Method::Get, &format!("{base}/ok"));
    let (s, events) = run_call(b, api, vec![], EngineConfig::default()).await;
    let (_, status, error, _) = api_call(&events);
    assert_eq!((status, error.as_deref()), (0, Some("connect")));
    assert_eq!(api_error(&s).as_deref(), Some("connect"));
}

#[tokio::test]
async fn a_url_that_does_not_parse_is_bad_url() {
    let mut b = B::new();
    let pre = vec![set_text(&mut b, "host", "")];
    let api = b.http_api("broken", Method::Get, "{host}/x");
    let (s, events) = run_call(b, api, pre, EngineConfig::default()).await;
    assert_eq!(api_call(&events).2.as_deref(), Some("bad_url"));
    assert_eq!(s.status, Some(0));
}

#[tokio::test]
async fn save_paths_follow_fields_and_indexes() {
    let server = Server::start().await;
    let mut b = B::new();
    let pre = vec![set_text(&mut b, "missing", "old")];
    let mut api = b.http_api("weather", Method::Get, &format!("{}/weather", server.base));
    let f = |s: &str| PathStep::Field(s.into());
    api.saves = vec![
        Save {
            attr: b.attr("temp"),
            path: vec![f("main"), f("temp")],
        },
        Save {
            attr: b.attr("summary"),
            path: vec![f("weather"), PathStep::Index(1), f("description")],
        },
        Save {
            attr: b.attr("missing"),
            path: vec![f("main"), f("nothing")],
        },
        Save {
            attr: b.attr("out_of_range"),
            path: vec![f("weather"), PathStep::Index(9)],
        },
        Save {
            attr: b.attr("tags"),
            path: vec![f("tags")],
        },
        Save {
            attr: b.attr("ok"),
            path: vec![f("ok")],
        },
    ];
    let b2 = B {
        p: b.p.clone(),
        entry: None,
    };
    let (s, _) = run_call(b, api, pre, EngineConfig::default()).await;
    assert_eq!(
        attr(&b2, &s, "temp"),
        Some(Value::Number(Number::from_f64(3.5)))
    );
    assert_eq!(attr(&b2, &s, "summary"), Some(Value::Text("wind".into())));
    assert_eq!(
        attr(&b2, &s, "missing"),
        None,
        "a missing path unsets the attribute"
    );
    assert_eq!(attr(&b2, &s, "out_of_range"), None);
    let tags = Value::List(vec![Value::Text("a".into()), Value::Text("b".into())]);
    assert_eq!(
        attr(&b2, &s, "tags"),
        Some(tags),
        "JSON arrays are saved as lists"
    );
    assert_eq!(attr(&b2, &s, "ok"), Some(Value::Bool(true)));
}

#[tokio::test]
async fn a_response_clears_the_previous_api_error() {
    let server = Server::start().await;
    let down = refused_base().await;
    let mut b = B::new();
    let bad = b.http_api("down", Method::Get, &format!("{down}/ok"));
    let good = b.http_api("up", Method::Get, &format!("{}/status/404", server.base));
    let (bad, good) = (b.api(bad), b.api(good));
    b.add("main", vec![Stmt::Call(bad), Stmt::Call(good), Stmt::Close]);
    let engine = Engine::new(b.build(), EngineConfig::default()).unwrap();
    let mut s = engine.new_session();
    let report = engine.call_api(&mut s, bad).await;
    assert!(matches!(report.event, Event::ApiCall { status: 0, .. }));
    assert_eq!(api_error(&s).as_deref(), Some("connect"));
    engine.call_api(&mut s, good).await;
    assert_eq!(s.status, Some(404));
    assert_eq!(api_error(&s), None);
}

#[tokio::test]
async fn redirect_base_sends_to_the_stub_server_and_reports_the_built_url() {
    let server = Server::start().await;
    let mut b = B::new();
    let pre = vec![set_text(&mut b, "city", CITY)];
    let api = b.http_api(
        "weather",
        Method::Get,
        "https://api.example.test/v1/weather?q={city}&units=metric",
    );
    let config = EngineConfig {
        redirect_base: Some(format!("{}/", server.base)),
        ..Default::default()
    };
    let (_, events) = run_call(b, api, pre, config).await;
    let (url, status, _, _) = api_call(&events);
    assert_eq!(status, 200);
    assert_eq!(
        url,
        format!("https://api.example.test/v1/weather?q={CITY_ENCODED}&units=metric")
    );
    assert_eq!(
        server.seen()[0].target,
        format!("/weather/v1/weather?q={CITY_ENCODED}&units=metric")
    );
}

#[tokio::test]
async fn call_api_reports_body_and_saves() {
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api("weather", Method::Get, &format!("{}/weather", server.base));
    api.saves = vec![
        Save {
            attr: b.attr("temp"),
            path: vec![
                PathStep::Field("main".into()),
                PathStep::Field("temp".into()),
            ],
        },
        Save {
            attr: b.attr("nope"),
            path: vec![PathStep::Field("nope".into())],
        },
    ];
    let id = b.api(api);
    b.add("main", vec![Stmt::Close]);
    let engine = Engine::new(b.build(), EngineConfig::default()).unwrap();
    let mut s = engine.new_session();
    let report = engine.call_api(&mut s, id).await;
    assert!(matches!(
        report.event,
        Event::ApiCall {
            status: 200,
            attempts: 1,
            ..
        }
    ));
    assert!(report.body.unwrap().contains("\"snow\""));
    assert_eq!(
        report.saved,
        vec![
            (
                "temp".to_string(),
                Some(Value::Number(Number::from_f64(3.5)))
            ),
            ("nope".to_string(), None)
        ]
    );
    assert_eq!(s.attrs[0], Some(Value::Number(Number::from_f64(3.5))));
}

/// The request `call_api` reports is the one the server received: values as the runtime writes
/// them (a list's whole numbers without `.0`), secrets masked only in the report.
#[tokio::test]
async fn call_api_reports_the_request_it_sent() {
    let server = Server::start().await;
    let mut b = B::new();
    let mut api = b.http_api(
        "echo",
        Method::Post,
        &format!("{}/ok?things={{things}}", server.base),
    );
    api.headers = vec![
        b.header("X-Things", "{things}"),
        b.header("X-Key", "k-{secret.KEY}"),
    ];
    api.body = Some(RequestBody::Json(JsonTemplate::Object(vec![
        ("things".into(), JsonTemplate::String(b.t("{things}"))),
        (
            "count".into(),
            JsonTemplate::Value(Expr::Attr(b.attr("count"))),
        ),
        ("key".into(), JsonTemplate::String(b.t("{secret.KEY}"))),
    ])));
    let id = b.api(api);
    b.add("main", vec![Stmt::Close]);
    let (things, count) = (b.attr("things"), b.attr("count"));
    let config = EngineConfig {
        secrets: Some(Arc::new(HashMap::from([(
            "KEY".to_string(),
            "sek".to_string(),
        )]))),
        ..Default::default()
    };
    let engine = Engine::new(b.build(), config).unwrap();
    let mut s = engine.new_session();
    s.attrs[things as usize] = Some(Value::List(vec![
        Value::Number(Number::from_f64(11.0)),
        Value::Number(Number::from_f64(2.5)),
    ]));
    s.attrs[count as usize] = Some(Value::Number(Number::from_f64(11.0)));
    let report = engine.call_api(&mut s, id).await;

    let request = report.request.expect("the request was sent");
    assert_eq!(
        request,
        SentRequest {
            method: "POST".into(),
            url: format!("{}/ok?things=%5B11%2C2.5%5D", server.base),
            headers: vec![
                ("X-Things".into(), "[11,2.5]".into()),
                ("X-Key".into(), "k-***".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: Some(r#"{"things":"[11,2.5]","count":11,"key":"***"}"#.into()),
        }
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, request.method);
    assert_eq!(format!("{}{}", server.base, seen[0].target), request.url);
    assert_eq!(seen[0].header("x-things"), Some("[11,2.5]"));
    assert_eq!(seen[0].header("x-key"), Some("k-sek"));
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8_lossy(&seen[0].body),
        request.body.unwrap().replace("***", "sek")
    );
}

#[tokio::test]
async fn call_api_reports_no_request_when_it_cannot_be_built() {
    let mut b = B::new();
    let api = b.http_api("keyed", Method::Get, "http://127.0.0.1:9/x?k={secret.NOPE}");
    let id = b.api(api);
    b.add("main", vec![Stmt::Close]);
    let config = EngineConfig {
        secrets: Some(Arc::default()),
        ..Default::default()
    };
    let engine = Engine::new(b.build(), config).unwrap();
    let mut s = engine.new_session();
    let report = engine.call_api(&mut s, id).await;
    assert_eq!(report.request, None);
    assert!(
        matches!(&report.event, Event::ApiCall { error: Some(e), url, attempts: 0, .. }
            if e == "missing_secret" && url == "http://127.0.0.1:9/x?k=***"),
        "{:?}",
        report.event
    );
}

#[tokio::test(start_paused = true)]
async fn transport_errors_are_retried_too() {
    let _held = hold_clock(); // no time passes: the attempt timeouts never fire
    let base = refused_base().await;
    let mut b = B::new();
    let mut api = b.http_api("down", Method::Get, &format!("{base}/ok"));
    api.retry = 2;
    let (_, events) = run_call(b, api, vec![], no_backoff()).await;
    let (_, status, error, attempts) = api_call(&events);
    assert_eq!(
        (status, error.as_deref(), attempts),
        (0, Some("connect"), 3)
    );
}

#[tokio::test(start_paused = true)]
async fn the_timeout_cap_shortens_long_timeouts() {
    let _held = hold_clock();
    let server = Server::start().await;
    let mut b = B::new();
    let api = b.http_api("slow", Method::Get, &format!("{}/slow", server.base)); // 5 s timeout
    let config = EngineConfig {
        timeout_cap_ms: Some(150),
        ..Default::default()
    };
    let mut call = tokio::spawn(run_call(b, api, vec![], config));
    wait_until(received(&server, 1), &mut call).await;
    advance_ms(149).await;
    assert!(!call.is_finished(), "the call still waits");
    advance_ms(1).await;
    assert!(call.is_finished(), "150 ms end the call, not 5 s");
    let (_, events) = call.await.unwrap();
    assert_eq!(api_call(&events).2.as_deref(), Some("timeout"));
    assert_eq!(latency_ms(&events), 150);
}

/// Six conversations calling one API at once, with `limit` calls allowed per origin: the
/// most the API held at once, and every call's status.
async fn six_at_once(limit: usize) -> (usize, Vec<u16>) {
    let (base, most) = slow_counting_api().await;
    let mut b = B::new();
    let api = b.http_api("slow", Method::Get, &format!("{base}/slow"));
    let id = b.api(api);
    b.add("main", vec![Stmt::Call(id), Stmt::Close]);
    let config = EngineConfig {
        max_calls_per_origin: limit,
        ..EngineConfig::default()
    };
    let engine = Engine::new(b.build(), config).unwrap();
    let runs: Vec<_> = (0..6)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let mut s = engine.new_session();
                let events = engine.start(&mut s).await;
                api_call(&events).1
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for run in runs {
        statuses.push(run.await.unwrap());
    }
    (most.load(std::sync::atomic::Ordering::SeqCst), statuses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_one_origin_wait_for_a_free_place_past_the_limit() {
    let (most, statuses) = six_at_once(2).await;
    assert_eq!(most, 2, "the API held more calls at once than the limit");
    assert_eq!(
        statuses, [200; 6],
        "every call waited its turn and was answered"
    );
    // Without a limit the same six are all held at once: the count above is the limit's.
    let (most, statuses) = six_at_once(0).await;
    assert_eq!(most, 6);
    assert_eq!(statuses, [200; 6]);
}

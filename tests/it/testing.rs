//! `chatflow::testing`: the stub server over real loopback HTTP, and the test runner.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chatflow::compile::compile_str;
use chatflow::ir::{Program, StubAnswer};
use chatflow::source::SourceSet;
use chatflow::testing::{
    closing_line, parse_stub_file, render_outcome, run_tests, StubScript, StubServer, TestOptions,
    TestOutcome,
};

use crate::clock::{advance_ms, hold_clock, wait_until};
use crate::common::compile_clean;

fn answers(pairs: &[(&str, StubAnswer)]) -> HashMap<String, StubScript> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.clone()]))
        .collect()
}

// ---- stub server ----------------------------------------------------------------------------

#[tokio::test]
async fn stub_server_answers_with_status_and_json_and_records_requests() {
    let body = serde_json::json!({"main": {"temp": 3.5}});
    let server = StubServer::start(answers(&[(
        "weather",
        StubAnswer::Status {
            status: 201,
            body: Some(body.clone()),
        },
    )]))
    .await
    .expect("starts");
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    let client = reqwest::Client::new();
    let response = client
        .post(format!(
            "{}/weather/v1/x?q=S%C3%A3o%20Paulo",
            server.base_url()
        ))
        .header("X-Token", "abc")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let got: serde_json::Value =
        serde_json::from_str(&response.text().await.expect("text")).expect("JSON");
    assert_eq!(got, body);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.api, "weather");
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/x");
    assert_eq!(r.query.as_deref(), Some("q=S%C3%A3o%20Paulo"));
    assert_eq!(r.path_and_query(), "/v1/x?q=S%C3%A3o%20Paulo");
    assert_eq!(r.header("x-token"), Some("abc"));
    assert_eq!(r.body, r#"{"a":1}"#);
    assert_eq!(server.requests_to("weather").len(), 1);
    assert!(server.requests_to("other").is_empty());
}

#[tokio::test]
async fn stub_server_without_a_body_answers_empty_and_unknown_apis_get_501() {
    let server = StubServer::start(answers(&[(
        "a",
        StubAnswer::Status {
            status: 404,
            body: None,
        },
    )]))
    .await
    .expect("starts");
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/a", server.base_url()))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.text().await.expect("text"), "");
    let r = client
        .get(format!("{}/b/x", server.base_url()))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 501);
    assert!(r.text().await.expect("text").contains("`b`"));
    // Answers can change while the server runs (a test's later `stub` lines).
    server.set(
        "b",
        StubAnswer::Status {
            status: 200,
            body: None,
        },
    );
    let r = client
        .get(format!("{}/b/x", server.base_url()))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(server.requests().len(), 3);
}

/// On the paused clock, held still: the client's timeout, not an answer, ends the request.
#[tokio::test(start_paused = true)]
async fn stub_timeout_never_answers_so_the_client_times_out() {
    let _held = hold_clock();
    let server = Arc::new(
        StubServer::start(answers(&[("slow", StubAnswer::Timeout)]))
            .await
            .expect("starts"),
    );
    let url = format!("{}/slow", server.base_url());
    let mut call = tokio::spawn(async move {
        let client = reqwest::Client::new();
        client
            .get(url)
            .timeout(Duration::from_millis(300))
            .send()
            .await
    });
    let watched = server.clone();
    wait_until(move || !watched.requests_to("slow").is_empty(), &mut call).await;
    advance_ms(299).await;
    assert!(!call.is_finished(), "the stub has not answered");
    advance_ms(1).await;
    assert!(call.is_finished(), "the client's timeout ends the request");
    let err = call.await.unwrap().expect_err("no answer");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        server.requests_to("slow").len(),
        1,
        "the request did arrive"
    );
}

#[tokio::test]
async fn a_dropped_stub_server_stops_listening() {
    let server = StubServer::start(HashMap::new()).await.expect("starts");
    let base = server.base_url().to_string();
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = reqwest::Client::new()
        .get(format!("{base}/x"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(r.is_err(), "nothing answers after drop");
}

#[test]
fn stub_files_parse_statuses_bodies_and_timeouts() {
    let parsed = parse_stub_file(
        r#"{"weather": {"status": 200, "body": {"t": 1}}, "slow": "timeout", "empty": {"status": 204}}"#,
    )
    .expect("valid");
    assert_eq!(
        parsed["weather"],
        vec![StubAnswer::Status {
            status: 200,
            body: Some(serde_json::json!({"t": 1}))
        }]
    );
    assert_eq!(parsed["slow"], vec![StubAnswer::Timeout]);
    assert_eq!(
        parsed["empty"],
        vec![StubAnswer::Status {
            status: 204,
            body: None
        }]
    );
}

#[test]
fn stub_files_may_give_an_api_a_list_of_answers() {
    let parsed = parse_stub_file(
        r#"{"pay": [{"status": 503}, "timeout", {"status": 200, "body": {"ok": true}}]}"#,
    )
    .expect("valid");
    assert_eq!(
        parsed["pay"],
        vec![
            StubAnswer::Status {
                status: 503,
                body: None
            },
            StubAnswer::Timeout,
            StubAnswer::Status {
                status: 200,
                body: Some(serde_json::json!({"ok": true}))
            },
        ]
    );
}

/// Answers of a script go to successive calls in order; the last one answers every later
/// call. Over real HTTP.
#[tokio::test]
async fn a_stub_script_answers_calls_in_order_then_repeats_its_last_answer() {
    let parsed = parse_stub_file(r#"{"pay": [{"status": 503}, {"status": 200}]}"#).expect("valid");
    let server = StubServer::start(parsed).await.expect("starts");
    server.push(
        "pay",
        StubAnswer::Status {
            status: 201,
            body: None,
        },
    );
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = client
            .post(format!("{}/pay/charge", server.base_url()))
            .send()
            .await
            .expect("answered");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [503, 200, 201, 201]);
}

#[test]
fn bad_stub_files_are_explained() {
    for (text, needle) in [
        ("not json", "not valid JSON"),
        ("[1]", "JSON object"),
        (r#"{"a": "later"}"#, "`a`"),
        (r#"{"a": {"status": 42}}"#, "status"),
        // The same rule as a `stub` line: 600 to 999 are not HTTP statuses.
        (r#"{"a": {"status": 600}}"#, "between 100 and 599"),
        (r#"{"a": {"status": 999}}"#, "between 100 and 599"),
        (r#"{"a": []}"#, "empty list"),
        (
            r#"{"a": [{"status": 200}, {"status": 1000}]}"#,
            "`a`, answer 2",
        ),
        (r#"{"a": {"status": "200"}}"#, "status"),
        (r#"{"a": {"status": 200, "bdy": {}}}"#, "unknown key `bdy`"),
    ] {
        let err = parse_stub_file(text).expect_err(text);
        assert!(err.contains(needle), "{text}: {err}");
    }
}

// ---- runner ---------------------------------------------------------------------------------

const ECHO: &str = r#"
api echo {
  live
  post "https://echo.example.test/v1/say?word={word}"
  header "Authorization" = "Bearer {secret.ECHO_TOKEN}"
  json {"word": "{word}"}
  timeout 30s
  save reply = body.reply
  save count = body.count
}

node start {
  ask word "Say a word."
  call echo
  if status == 200 -> answer
  elif status == 0 -> silent
  else -> broken
}

node answer {
  say "You said {reply}."
  say "That makes {count}."
  close
}

node silent {
  say "No answer: {sys.api_error}."
  close
}

node broken {
  say "Failed with {status}."
  ask word "Again?"
  goto start
}
"#;

async fn run(tests: &str) -> (Vec<TestOutcome>, Arc<Program>, SourceSet) {
    let (program, sources) = compile_clean("echo.flow", &format!("{ECHO}\n{tests}"));
    let outcomes = run_tests(program.clone(), &TestOptions::default()).await;
    (outcomes, program, sources)
}

fn failure_text(outcome: &TestOutcome, program: &Program, sources: &SourceSet) -> String {
    render_outcome(outcome, program, sources, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_tests_check_says_nodes_attrs_requests_and_close() {
    let (outcomes, ..) = run(r#"
test "all checks hold" {
  stub echo 200 {"reply": "hi", "count": 2}
  expect say "Say a word."
  user "hi there"
  expect node answer
  expect say "You said hi."
  expect say "That makes 2."
  expect attr reply == "hi"
  expect attr count == 2
  expect attr word == "hi there"
  expect request echo "https://echo.example.test/v1/say?word=hi%20there"
  expect closed
}

test "messages a test does not check are allowed" {
  stub echo 200 {"reply": "a", "count": 1}
  user "a"
  expect say "You said a."
}
"#)
    .await;
    for o in &outcomes {
        assert!(o.passed(), "{}: {:?}", o.name, o.failure);
    }
    assert_eq!(closing_line(&outcomes), "2 passed, 0 failed");
}

/// On the paused clock the 30 s timeout passes at once. The stub never answers, so the call
/// ends in a timeout however early tokio's jumps to the next timer make it fire.
#[tokio::test(start_paused = true)]
async fn a_stubbed_timeout_gives_status_0_and_names_the_error() {
    let (outcomes, ..) = run(r#"
test "a timeout gives status 0 and names the error" {
  stub echo timeout
  user "x"
  expect node silent
  expect say "No answer: timeout."
  expect attr reply is not set
  expect closed
}
"#)
    .await;
    assert!(outcomes[0].passed(), "{:?}", outcomes[0].failure);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_expectation_fails_when_it_does_not_hold() {
    let (outcomes, program, sources) = run(r#"
test "say" {
  stub echo 200 {"reply": "hi", "count": 1}
  user "hi"
  expect say "You said hello."
}

test "say runs out" {
  stub echo 200 {"reply": "hi", "count": 1}
  user "hi"
  expect say "You said hi."
  expect say "That makes 1."
  expect say "And one more."
}

test "node" {
  stub echo 500
  user "hi"
  expect node answer
}

test "attr" {
  stub echo 200 {"reply": "hi", "count": 7}
  user "hi"
  expect attr count == 8
}

test "attr not set" {
  stub echo 200 {"reply": "hi", "count": 7}
  user "hi"
  expect attr reply is not set
}

test "request" {
  stub echo 200 {"reply": "hi", "count": 1}
  user "a&b"
  expect request echo "https://echo.example.test/v1/say?word=a&b"
}

test "no request" {
  expect request echo "https://echo.example.test/v1/say?word="
}

test "closed" {
  stub echo 500
  user "hi"
  expect closed
}

test "messages of an earlier turn are dropped" {
  stub echo 500
  user "hi"
  user "again"
  expect say "Say a word."
  expect say "Failed with 500."
}
"#)
    .await;
    let failures: Vec<(&str, String, String)> = outcomes
        .iter()
        .map(|o| {
            let f = o
                .failure
                .as_ref()
                .unwrap_or_else(|| panic!("`{}` should fail", o.name));
            (o.name.as_str(), f.expected.clone(), f.actual.clone())
        })
        .collect();
    let expect = |name: &str, expected: &str, actual: &str| {
        let (_, e, a) = failures
            .iter()
            .find(|(n, ..)| *n == name)
            .expect("test present");
        assert_eq!(
            (e.as_str(), a.as_str()),
            (expected, actual),
            "test `{name}`"
        );
    };
    expect("say", r#"say "You said hello.""#, r#"say "You said hi.""#);
    expect(
        "say runs out",
        r#"say "And one more.""#,
        "no further message in this turn",
    );
    expect(
        "node",
        "node answer entered in this turn",
        "nodes entered in this turn: broken",
    );
    expect("attr", "count == 8", "count is 7");
    expect("attr not set", "reply is not set", r#"reply is "hi""#);
    expect(
        "request",
        r#"request echo "https://echo.example.test/v1/say?word=a&b""#,
        r#"request echo "https://echo.example.test/v1/say?word=a%26b""#,
    );
    expect(
        "no request",
        r#"request echo "https://echo.example.test/v1/say?word=""#,
        "no request to echo in this test",
    );
    expect(
        "closed",
        "the chat is closed",
        "the chat is open, in node `broken`",
    );
    expect(
        "messages of an earlier turn are dropped",
        r#"say "Failed with 500.""#,
        "no further message in this turn",
    );
    assert_eq!(closing_line(&outcomes), "0 passed, 9 failed");

    // The report points at the failing line of the source, with a snippet.
    let attr = outcomes.iter().find(|o| o.name == "attr").expect("present");
    let text = failure_text(attr, &program, &sources);
    let source = &sources.files[0].text;
    let at = source
        .find("expect attr count == 8")
        .expect("in the source");
    let line = source[..at].matches('\n').count() + 1;
    assert!(text.starts_with("FAIL attr\n"), "{text}");
    assert!(
        text.contains(&format!("echo.flow:{line}:3: expect attr failed")),
        "{text}"
    );
    assert!(text.contains("expected: count == 8"), "{text}");
    assert!(text.contains("expect attr count == 8"), "snippet: {text}");
    assert!(!text.contains("test-secret"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stubs_later_in_a_test_apply_to_later_turns() {
    let (outcomes, ..) = run(r#"
test "second answer differs" {
  stub echo 503
  user "one"
  expect say "Failed with 503."
  stub echo 200 {"reply": "two", "count": 2}
  user "again"
  expect say "Say a word."
  user "three"
  expect say "You said two."
  expect request echo "https://echo.example.test/v1/say?word=three"
}
"#)
    .await;
    assert!(outcomes[0].passed(), "{:?}", outcomes[0].failure);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_keep_source_order_and_render_pass_lines() {
    let mut tests = String::new();
    // More tests than run at once, so some wait for a slot.
    for i in 0..40 {
        tests.push_str(&format!(
            "test \"t{i}\" {{\n  stub echo 200 {{\"reply\": \"{i}\", \"count\": {i}}}\n  user \"w\"\n  expect say \"You said {i}.\"\n}}\n"
        ));
    }
    let (outcomes, program, sources) = run(&tests).await;
    let names: Vec<String> = outcomes.iter().map(|o| o.name.clone()).collect();
    let expected: Vec<String> = (0..40).map(|i| format!("t{i}")).collect();
    assert_eq!(names, expected);
    for outcome in &outcomes {
        assert!(outcome.passed(), "{}: {:?}", outcome.name, outcome.failure);
    }
    assert_eq!(failure_text(&outcomes[3], &program, &sources), "PASS t3\n");
}

// ---- showing conditions ---------------------------------------------------------------------

#[test]
fn conditions_are_shown_as_written_and_read_back_the_same() {
    let conditions = [
        r#"status == 200 and city == "Chicago""#,
        "(status == 200 or status == 201) and city is set",
        "not (city is not set or status in 400..499)",
        r#"city in ["Oslo", "Bergen"] and city starts_with "O""#,
        r#"city contains "o" or city ends_with "x" or city matches "^[A-Z]""#,
        "status >= 500 and status < 600 and sys.api_error != \"timeout\"",
        "status != 0 and (not city == \"x\")",
        "temp <= -2.5 or temp > 30",
        // List items are operands: compound ones keep their parentheses.
        r#"(status == 200) in [(city is set or temp > 3), (not city == "x"), true]"#,
        "(status == 200) == (city is set)",
    ];
    let compiled_expr = |cond: &str| {
        let source = format!(
            "api a {{\n  live\n  get \"https://x.test/\"\n  save temp = body.t\n}}\n\
             node n {{\n  ask city\n  call a\n  if {cond} -> n\n  else -> n\n}}\n"
        );
        let compiled = compile_str("show.flow", &source);
        let program = compiled
            .program
            .unwrap_or_else(|| panic!("`{cond}` compiles: {:?}", compiled.diagnostics));
        let arm = program.nodes[0]
            .stmts
            .iter()
            .find_map(|s| match s {
                chatflow::ir::Stmt::Branch(t) => Some(t.arms[0].cond.clone()),
                _ => None,
            })
            .expect("a branch");
        (program, arm)
    };
    for cond in conditions {
        let (program, expr) = compiled_expr(cond);
        let shown = chatflow::ir::show_expr(&program, &expr);
        let (_, again) = compiled_expr(&shown);
        assert_eq!(
            again, expr,
            "`{cond}` shown as `{shown}` reads back differently"
        );
    }
    let (program, expr) = compiled_expr(conditions[0]);
    assert_eq!(chatflow::ir::show_expr(&program, &expr), conditions[0]);
    let (program, expr) = compiled_expr(conditions[1]);
    assert_eq!(chatflow::ir::show_expr(&program, &expr), conditions[1]);
    for cond in &conditions[8..] {
        let (program, expr) = compiled_expr(cond);
        assert_eq!(&chatflow::ir::show_expr(&program, &expr), cond);
    }
}

#[test]
fn branch_arms_are_shown_with_their_keyword_for_traces_and_coverage() {
    let source = "node n {\n  ask city\n  if city == \"a\" -> n\n  elif city in [\"b\", \"c\"] -> n\n  else -> n\n}\n";
    let compiled = compile_str("arms.flow", source);
    let program = compiled
        .program
        .unwrap_or_else(|| panic!("compiles: {:?}", compiled.diagnostics));
    let table = program.nodes[0]
        .stmts
        .iter()
        .find_map(|s| match s {
            chatflow::ir::Stmt::Branch(t) => Some(t),
            _ => None,
        })
        .expect("a branch");
    let shown: Vec<String> = (0..3)
        .map(|arm| chatflow::ir::show_arm(&program, table, arm))
        .collect();
    assert_eq!(
        shown,
        [r#"if city == "a""#, r#"elif city in ["b", "c"]"#, "else"]
    );
}

// ---- the actions' test lines ----------------------------------------------------------------

const SHOP: &str = r#"
bot "Shop" {
  start menu
  fallback {
    en "Pardon?"
    es "¿Perdón?"
  }
  languages en, es
}

hours desk {
  zone "America/Chicago"
  mon-fri 09:00-17:00
}

node menu {
  say {
    en "Hello"
    es "Hola"
  }
  choose "Pick one" {
    "Cards" -> cards
    "Person" -> person
    "Mail" -> mail
    "Code" -> code
    link "FAQ" "https://x.test/faq"
  }
}

node cards {
  carousel {
    card "A" {
      link "More" "https://x.test/a"
      "Take A" -> done
    }
    card "B" {
      "Take B" -> done
    }
  }
}

node person {
  if open(desk) -> agent else -> closed_desk
}

node agent {
  transfer department "Billing" "Connecting you..."
}

node closed_desk {
  say "We are closed."
  close
}

node mail {
  email {
    to "a@x.test"
    subject "Hi"
    body "Body"
  }
  image "https://x.test/i.png" "A picture"
  goal "mailed"
  close
}

node code {
  otp {
    send email "a@x.test"
    ok -> done
    fail -> closed_desk
  }
}

node done {
  say "Done."
  close
}
"#;

async fn run_shop(tests: &str) -> Vec<TestOutcome> {
    let (program, _) = compile_clean("shop.flow", &format!("{SHOP}\n{tests}"));
    run_tests(program, &TestOptions::default()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_checks_clock_language_and_the_fixed_otp_pass_when_they_hold() {
    let outcomes = run_shop(
        r#"
test "menus and carousels" {
  expect say "Hello"
  expect choices "Cards", "Person", "Mail", "Code", "FAQ"
  user "Cards"
  expect choices "Take A", "Take B"
  user "Take B"
  expect say "Done."
  expect closed
}

test "email, media and goal" {
  user "Mail"
  expect email "a@x.test" "Hi"
  expect media image "https://x.test/i.png"
  expect goal "mailed"
  expect closed
}

test "the clock opens the desk on a Friday morning in Chicago" {
  clock "2026-11-27T10:00:00-06:00"
  user "Person"
  expect say "Connecting you..."
  expect transfer "Billing"
}

test "the clock closes the desk on a Saturday" {
  clock "2026-11-28T10:00:00-06:00"
  user "Person"
  expect say "We are closed."
}

test "a language line before the opening turn applies to it" {
  language "es"
  expect say "Hola"
}

test "a language line changes the next turns" {
  user "Nope"
  expect say "Pardon?"
  language "es"
  user "Nope"
  expect say "¿Perdón?"
  expect choices "Cards", "Person", "Mail", "Code", "FAQ"
}

test "tests know the one-time code" {
  user "Code"
  user "123456"
  expect node done
}
"#,
    )
    .await;
    for o in &outcomes {
        assert!(o.passed(), "{}: {:?}", o.name, o.failure);
    }
    assert_eq!(closing_line(&outcomes), "7 passed, 0 failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_checks_fail_with_what_the_turn_had() {
    let outcomes = run_shop(
        r#"
test "choices differ" {
  expect choices "Cards", "Person"
}

test "no choices" {
  user "Mail"
  expect choices "A"
}

test "carousel buttons" {
  user "Cards"
  expect choices "More", "Take A", "Take B"
}

test "no transfer" {
  clock "2026-11-28T10:00:00-06:00"
  user "Person"
  expect transfer "Billing"
}

test "transfer elsewhere" {
  clock "2026-11-27T10:00:00-06:00"
  user "Person"
  expect transfer "Sales"
}

test "email subject" {
  user "Mail"
  expect email "a@x.test" "Hello"
}

test "goal" {
  user "Mail"
  expect goal "bought"
}

test "no goal" {
  expect goal "mailed"
}

test "media" {
  user "Mail"
  expect media video "https://x.test/i.png"
}

test "a wrong code is not the fixed one" {
  user "Code"
  user "654321"
  expect node done
}
"#,
    )
    .await;
    let failure = |name: &str| {
        let o = outcomes
            .iter()
            .find(|o| o.name == name)
            .expect("test present");
        let f = o
            .failure
            .as_ref()
            .unwrap_or_else(|| panic!("`{name}` should fail"));
        (f.check.clone(), f.expected.clone(), f.actual.clone())
    };
    let check = |name: &str, expected: &str, actual: &str| {
        let (_, e, a) = failure(name);
        assert_eq!(
            (e.as_str(), a.as_str()),
            (expected, actual),
            "test `{name}`"
        );
    };
    check(
        "choices differ",
        r#"choices "Cards", "Person""#,
        r#"choices "Cards", "Person", "Mail", "Code", "FAQ""#,
    );
    check(
        "no choices",
        r#"choices "A""#,
        "no choices or carousel in this turn",
    );
    check(
        "carousel buttons",
        r#"choices "More", "Take A", "Take B""#,
        r#"choices "Take A", "Take B""#,
    );
    check(
        "no transfer",
        r#"transfer to "Billing""#,
        "no transfer in this turn",
    );
    check(
        "transfer elsewhere",
        r#"transfer to "Sales""#,
        r#"transfer to department "Billing""#,
    );
    check(
        "email subject",
        r#"email to "a@x.test" "Hello""#,
        r#"email to "a@x.test" "Hi""#,
    );
    check("goal", r#"goal "bought""#, r#"goal "mailed" (count 1)"#);
    check("no goal", r#"goal "mailed""#, "no goal in this turn");
    check(
        "media",
        r#"video "https://x.test/i.png""#,
        r#"image "https://x.test/i.png""#,
    );
    assert_eq!(
        failure("a wrong code is not the fixed one").0,
        "expect node"
    );
    assert_eq!(failure("media").0, "expect media");
    assert_eq!(closing_line(&outcomes), "0 passed, 10 failed");
}

/// `tests/inputs/ok/multilingual.flow`: translated labels, cards, form fields, captions and
/// email subjects are shown, and matched, in the conversation's language, which starts as the
/// bot's first declared language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn translated_texts_are_shown_and_matched_in_the_conversation_language() {
    let path = "tests/inputs/ok/multilingual.flow";
    let source = std::fs::read_to_string(path).expect("the multilingual input");
    let compiled = compile_str(path, &source);
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
    let program = Arc::new(compiled.program.expect("compiles"));
    let outcomes = run_tests(program, &TestOptions::default()).await;
    assert_eq!(outcomes.len(), 5);
    for o in &outcomes {
        assert!(o.passed(), "{}: {:?}", o.name, o.failure);
    }
}

//! The `chatflow` binary, run as a user runs it: exit codes, stdout/stderr, files.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use chatflow::diagnostic::Code;

use crate::common::{chatflow, chatflow_with_input};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

// ---- check ----------------------------------------------------------------------------------

#[test]
fn check_is_silent_and_succeeds_on_the_examples() {
    let o = chatflow(&[
        "check",
        "examples/weather.flow",
        "examples/order_status.flow",
    ]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "", "the examples have no warnings");
}

#[test]
fn check_reports_every_error_on_stderr_with_exit_1() {
    let o = chatflow(&["check", "tests/flows/broken.flow"]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(err.contains(Code::UnknownNode.name()), "{err}");
    assert!(err.contains("did you mean `report`?"), "{err}");
    assert!(err.contains(Code::TypeMismatch.name()), "{err}");
    assert!(err.contains("broken.flow:10"), "points at the line: {err}");
    assert!(
        !err.contains('\u{1b}'),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn check_json_format_prints_one_object_per_diagnostic_on_stdout() {
    let o = chatflow(&["check", "--format", "json", "tests/flows/broken.flow"]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let diags: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let codes: Vec<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(codes.contains(&Code::UnknownNode.name()), "{codes:?}");
    assert!(codes.contains(&Code::TypeMismatch.name()), "{codes:?}");
    let unknown = diags
        .iter()
        .find(|d| d["code"] == Code::UnknownNode.name())
        .expect("unknown_node is reported");
    assert_eq!(unknown["line"], 10);
    assert_eq!(unknown["file"], "tests/flows/broken.flow");
    assert_eq!(unknown["severity"], "error");
}

#[test]
fn check_warnings_go_to_stderr_and_fail_only_when_denied() {
    let o = chatflow(&["check", "tests/flows/warning.flow"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains(Code::UnreachableNode.name()),
        "{}",
        stderr(&o)
    );

    let o = chatflow(&["check", "--deny-warnings", "tests/flows/warning.flow"]);
    assert_eq!(code(&o), 1);
}

#[test]
fn unreadable_files_and_usage_errors_exit_2() {
    let o = chatflow(&["check", "tests/flows/no-such-file.flow"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no-such-file.flow"), "{}", stderr(&o));

    for args in [
        &["frobnicate"][..],
        &["check"],
        &["check", "--format", "yaml", "examples/weather.flow"],
        &["test", "tests/flows/no-such-file.flow"],
        &["run", "tests/flows/no-such-file.flow"],
        &[
            "run",
            "examples/weather.flow",
            "--stubs",
            "tests/flows/no-such-stubs.json",
        ],
        &["call", "examples/weather.flow", "wether"],
        &[
            "call",
            "examples/order_status.flow",
            "order_lookup",
            "--set",
            "order_id=abc",
        ],
        &[
            "call",
            "examples/order_status.flow",
            "order_lookup",
            "--set",
            "nope=1",
        ],
    ] {
        let o = chatflow(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn garbage_input_is_a_diagnostic_not_a_panic() {
    let dir = tempdir();
    let path = format!("{dir}/garbage.flow");
    std::fs::write(
        &path,
        "node { { \"\u{0}\u{7f} -> ->\nif if if\n\"unterminated",
    )
    .expect("write");
    let o = chatflow(&["check", &path]);
    assert_eq!(code(&o), 1, "stderr: {}", stderr(&o));
    assert!(stderr(&o).contains(Code::Syntax.name()), "{}", stderr(&o));
}

// ---- build ----------------------------------------------------------------------------------

#[test]
fn build_writes_the_ir_to_a_file_or_stdout() {
    let dir = tempdir();
    let out = format!("{dir}/weather.json");
    let o = chatflow(&["build", "examples/weather.flow", "-o", &out]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let text = std::fs::read_to_string(&out).expect("the IR file exists");
    let ir: serde_json::Value = serde_json::from_str(&text).expect("IR is JSON");
    // The weather desk understands no free text: it is written in the base format.
    assert_eq!(ir["format_version"], chatflow::ir::BASE_FORMAT_VERSION);
    assert_eq!(ir["bot"]["name"], "Weather desk");
    assert!(text.contains("\n  "), "pretty printed");

    let o = chatflow(&["build", "examples/weather.flow", "-o", "-"]);
    assert_eq!(code(&o), 0);
    let from_stdout: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("IR on stdout");
    assert_eq!(from_stdout, ir);
}

#[test]
fn build_of_a_broken_flow_writes_nothing() {
    let dir = tempdir();
    let out = format!("{dir}/broken.json");
    let o = chatflow(&["build", "tests/flows/broken.flow", "-o", &out]);
    assert_eq!(code(&o), 1);
    assert!(!std::path::Path::new(&out).exists());
    assert!(stderr(&o).contains(Code::UnknownNode.name()));
}

// ---- test -----------------------------------------------------------------------------------

#[test]
fn test_passes_on_the_examples() {
    let o = chatflow(&[
        "test",
        "examples/weather.flow",
        "examples/order_status.flow",
    ]);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    let lines: Vec<&str> = out.lines().collect();
    let last = lines.last().expect("a closing line");
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert_eq!(passed, lines.len() - 1, "one line per test");
    assert!(passed >= 15);
    assert!(lines[..lines.len() - 1]
        .iter()
        .all(|l| l.starts_with("PASS ")));
    assert_eq!(
        lines[0], "PASS Chicago visitors get the special offer",
        "source order"
    );
    assert!(
        !out.contains("test-secret"),
        "secrets never reach the output"
    );
}

#[test]
fn a_failing_test_prints_expected_actual_and_the_line() {
    let o = chatflow(&["test", "tests/flows/failing.flow"]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(
        out.starts_with("PASS echo answers\nFAIL echo answers with the wrong word\n"),
        "{out}"
    );
    assert!(
        out.contains("tests/flows/failing.flow:36:3: expect say failed"),
        "{out}"
    );
    assert!(out.contains("expected: say \"You said goodbye.\""), "{out}");
    assert!(out.contains("actual:   say \"You said hello.\""), "{out}");
    assert!(
        out.contains("36 │   expect say \"You said goodbye.\""),
        "a source snippet: {out}"
    );
    assert!(out.contains("FAIL a wrong URL is caught"), "{out}");
    assert!(
        out.contains("actual:   request echo \"https://echo.example.test/say?word=a%20b\""),
        "{out}"
    );
    assert!(out.ends_with("1 passed, 2 failed\n"), "{out}");
}

#[test]
fn test_runs_tests_of_imported_files_once() {
    let o = chatflow(&[
        "test",
        "tests/flows/imports/main.flow",
        "tests/flows/imports/./main.flow",
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o),
        "PASS greets\nPASS says goodbye by name\n2 passed, 0 failed\n"
    );
}

#[test]
fn test_explains_a_call_without_a_stub() {
    let dir = tempdir();
    let flow = format!("{dir}/nostub.flow");
    std::fs::write(
        &flow,
        "api a {\n  live\n  get \"https://a.test/x\"\n}\nnode n {\n  call a\n  if status == 200 -> ok\n  else -> ko\n}\n\
         node ok {\n  say \"ok\"\n}\nnode ko {\n  say \"ko {status}\"\n}\n\
         test \"forgot the stub\" {\n  expect say \"ok\"\n}\n",
    )
    .expect("write");
    let o = chatflow(&["test", &flow]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("actual:   say \"ko 501\""), "{out}");
    assert!(
        out.contains("note: API `a` was called but the test has no `stub a` line"),
        "{out}"
    );
}

#[test]
fn test_of_a_broken_file_prints_diagnostics_and_fails() {
    let o = chatflow(&["test", "tests/flows/broken.flow"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains(Code::UnknownNode.name()));
    assert!(
        stdout(&o).ends_with("0 passed, 1 failed\n"),
        "{}",
        stdout(&o)
    );
}

/// A file that does not compile gets a line saying so, and counts as a failure, so the
/// closing line never reads `N passed, 0 failed` while the command exits 1.
#[test]
fn test_names_each_file_that_did_not_compile_and_counts_it() {
    let o = chatflow(&[
        "test",
        "tests/flows/broken.flow",
        "tests/flows/imports/main.flow",
    ]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains(Code::UnknownNode.name()));
    // broken.flow has two mistakes: an unknown node and a status compared to text.
    assert_eq!(
        stdout(&o),
        "FAIL tests/flows/broken.flow: does not compile (2 errors, shown on stderr); \
         its tests did not run\nPASS greets\nPASS says goodbye by name\n2 passed, 1 failed\n"
    );
}

// ---- run ------------------------------------------------------------------------------------

#[test]
fn run_reads_piped_lines_and_answers_from_the_stubs() {
    let o = chatflow_with_input(
        &[
            "run",
            "examples/weather.flow",
            "--stubs",
            "examples/weather.stubs.json",
        ],
        "Chicago\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "== Weather desk ==\n\
         bot> Hi! Which city are you in?\n\
         you> Chicago\n\
         bot> It is 3.5 degrees in Chicago\n\
         bot> Chicago visitors get a free hot chocolate at the Lakeside Cafe today.\n\
         [chat closed]\n"
    );
    assert_eq!(stderr(&o), "", "no trace unless asked");
}

#[test]
fn run_takes_a_last_line_without_newline_and_bytes_that_are_not_utf8() {
    let o = chatflow_with_input(
        &[
            "run",
            "examples/weather.flow",
            "--stubs",
            "examples/weather.stubs.json",
        ],
        "Par\u{fffd}is",
    );
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).contains("you> Par\u{fffd}is\n"),
        "{}",
        stdout(&o)
    );

    let o = chatflow_with_input(
        &[
            "run",
            "examples/weather.flow",
            "--stubs",
            "examples/weather.stubs.json",
        ],
        b"Os\xfflo\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("bot> It is 3.5 degrees in Os\u{fffd}lo, light snow.\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn run_ends_quietly_at_the_end_of_input() {
    let o = chatflow_with_input(
        &[
            "run",
            "examples/order_status.flow",
            "--stubs",
            "examples/order_status.stubs.json",
        ],
        "12\n",
    );
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(
        out.ends_with("you> 12\nbot> Which email address did you order with?\n"),
        "{out}"
    );
    assert!(!out.contains("[chat closed]"));
}

#[test]
fn run_trace_shows_nodes_conditions_and_calls() {
    let o = chatflow_with_input(
        &[
            "run",
            "examples/weather.flow",
            "--trace",
            "--stubs",
            "examples/weather.stubs.json",
        ],
        "Paris\n",
    );
    assert_eq!(code(&o), 0);
    let trace = stderr(&o);
    assert!(trace.contains("trace: entered greet\n"), "{trace}");
    assert!(trace.contains("trace: entered lookup\n"), "{trace}");
    assert!(
        trace.contains(
            "trace: lookup: if status == 200 and city == \"Chicago\" -> chicago: false\n"
        ),
        "{trace}"
    );
    assert!(
        trace.contains("trace: lookup: elif status == 200 -> report: true\n"),
        "{trace}"
    );
    assert!(
        trace.contains("trace: call weather: GET https://api.example.test/v1/weather?q=Paris&units=metric -> 200 in "),
        "{trace}"
    );
    assert!(stdout(&o).contains("bot> It is 3.5 degrees in Paris, light snow.\n"));
}

#[test]
fn run_trace_shows_where_a_sub_flow_returns_to() {
    let o = chatflow_with_input(
        &["run", "tests/conversations/actions.flow", "--trace"],
        "Flow\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let trace = stderr(&o);
    let expected = "trace: entered greet_person.done\n\
                    trace: returned to subflow\n\
                    trace: entered greet_person.hello\n";
    assert!(trace.contains(expected), "{trace}");
    assert_eq!(
        trace.matches("trace: returned to subflow\n").count(),
        2,
        "{trace}"
    );
}

#[test]
fn run_refuses_a_stub_file_for_an_unknown_api() {
    let dir = tempdir();
    let stubs = format!("{dir}/stubs.json");
    std::fs::write(&stubs, r#"{"wether": {"status": 200}}"#).expect("write");
    let o = chatflow(&["run", "examples/weather.flow", "--stubs", &stubs]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("did you mean `weather`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_with_max_steps_stops_a_looping_turn() {
    let dir = tempdir();
    let flow = format!("{dir}/loop.flow");
    std::fs::write(
        &flow,
        "node a {\n  ask x \"Go?\"\n  goto b\n}\nnode b {\n  if x == \"stop\" -> done\n  else -> b\n}\nnode done {\n  say \"Stopped.\"\n}\n",
    )
    .expect("write");
    let o = chatflow_with_input(&["run", &flow, "--max-steps", "50"], "go\n");
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("[runtime error]"), "{}", stdout(&o));
}

#[test]
fn run_reports_a_conversation_whose_opening_fails_and_exits_1() {
    let dir = tempdir();
    let flow = format!("{dir}/spin.flow");
    std::fs::write(&flow, "node a {\n  say \"hi\"\n  goto a\n}\n").expect("write");
    let o = chatflow_with_input(&["run", &flow, "--max-steps", "5"], "hello\nagain\n");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches("[runtime error]").count(), 1, "{out}");
    assert_eq!(
        out.matches("bot> hi").count(),
        5,
        "one opening, not one per line: {out}"
    );
    assert!(
        stderr(&o).contains("the conversation failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_test_whose_opening_fails_says_so_at_its_first_user_line() {
    let dir = tempdir();
    let flow = format!("{dir}/spin.flow");
    std::fs::write(
        &flow,
        "node a {\n  say \"hi\"\n  goto a\n}\ntest \"talks\" {\n  user \"hello\"\n  expect say \"hi\"\n}\n",
    )
    .expect("write");
    let o = chatflow(&["test", &flow, "--max-steps", "5"]);
    assert_eq!(code(&o), 1);
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        out.contains("the conversation failed in its opening turn"),
        "{out}"
    );
    assert!(out.contains("step limit"), "{out}");
}

#[test]
fn a_smtp_address_without_a_port_is_a_usage_error() {
    for bad in [
        "notahost",
        "host:",
        ":25",
        "host:0",
        "host:99999",
        "host:smtp",
    ] {
        for command in ["run", "test"] {
            let o = chatflow(&[command, "examples/weather.flow", "--smtp", bad]);
            assert_eq!(code(&o), 2, "{command} --smtp {bad}: {}", stderr(&o));
            assert!(stderr(&o).contains("HOST:PORT"), "{}", stderr(&o));
        }
    }
    let o = chatflow_with_input(
        &["run", "examples/weather.flow", "--smtp", "localhost:2525"],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

// ---- call -----------------------------------------------------------------------------------

/// What the loopback server saw: the request line and the headers.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn weather_server(seen: Seen) -> SocketAddr {
    use axum::http::{HeaderMap, Uri};
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            seen.lock().expect("lock").push((uri.to_string(), auth));
            axum::Json(
                serde_json::json!({"main": {"temp": -4.5}, "weather": [{"description": "fog"}]}),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_sends_the_request_and_shows_status_answer_and_saves() {
    let seen: Seen = Arc::default();
    let addr = weather_server(seen.clone()).await;
    let dir = tempdir();
    let flow = format!("{dir}/call.flow");
    std::fs::write(
        &flow,
        format!(
            "api weather {{\n  live\n  internal\n  get \"http://{addr}/v1/weather?q={{city}}&days={{days}}\"\n  \
             header \"Authorization\" = \"Bearer {{secret.CALL_TEST_TOKEN}}\"\n  \
             save temperature = body.main.temp\n  save summary = body.weather[0].description\n  save missing = body.nope\n}}\n\
             node start {{\n  ask city\n  ask days as number\n  call weather\n  if status == 200 -> start\n  else -> start\n}}\n"
        ),
    )
    .expect("write");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_chatflow"))
            .args([
                "call",
                &flow,
                "weather",
                "--set",
                "city=São Paulo",
                "--set",
                "days=3",
            ])
            .env("CHATFLOW_SECRET_CALL_TEST_TOKEN", "hunter2-very-secret")
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    let out = stdout(&output);
    assert_eq!(code(&output), 0, "{out}{}", stderr(&output));
    assert!(
        out.starts_with(&format!(
            "GET http://{addr}/v1/weather?q=S%C3%A3o%20Paulo&days=3\n"
        )),
        "{out}"
    );
    assert!(out.contains("Authorization: Bearer ***\n"), "{out}");
    assert!(!out.contains("hunter2"), "the secret is masked: {out}");
    assert!(out.contains("status: 200 in "), "{out}");
    assert!(out.contains("\"temp\": -4.5"), "pretty JSON answer: {out}");
    assert!(out.contains("save temperature = -4.5\n"), "{out}");
    assert!(out.contains("save summary = \"fog\"\n"), "{out}");
    assert!(out.contains("save missing = not set\n"), "{out}");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![(
            "/v1/weather?q=S%C3%A3o%20Paulo&days=3".to_string(),
            Some("Bearer hunter2-very-secret".to_string())
        )],
        "the request really arrived, with the secret filled in"
    );
}

#[test]
fn call_with_stubs_shows_the_json_body_it_sends() {
    let o = chatflow(&[
        "call",
        "examples/order_status.flow",
        "open_ticket",
        "--set",
        "order_id=1042",
        "--set",
        "email=ann@example.com",
        "--set",
        "reason=said \"hi\"",
        "--stubs",
        "examples/order_status.stubs.json",
    ]);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert!(
        out.starts_with("POST https://support.example.test/v2/tickets\n"),
        "{out}"
    );
    assert!(
        out.contains("\n{\"subject\":\"Order 1042\","),
        "the body as sent, compact: {out}"
    );
    assert!(
        out.contains(r#""reason":"said \"hi\"""#),
        "JSON-escaped: {out}"
    );
    assert!(out.contains("status: 201"), "{out}");
    assert!(out.contains("save ticket_id = \"T-1001\"\n"), "{out}");
}

#[test]
fn call_without_an_answer_exits_1_and_says_why() {
    let dir = tempdir();
    let flow = format!("{dir}/down.flow");
    // Port 9 on loopback (discard) is closed on any sane test machine.
    std::fs::write(
        &flow,
        "api down {\n  live\n  internal\n  get \"http://127.0.0.1:9/x\"\n  timeout 1s\n}\nnode n {\n  call down\n  if status == 0 -> n\n  else -> n\n}\n",
    )
    .expect("write");
    let o = chatflow(&["call", &flow, "down"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("status: 0, no response (connect)"),
        "{}",
        stdout(&o)
    );
}

/// Run `chatflow call FILE API ARGS...` off the test's runtime, so its server keeps answering.
async fn call_binary(flow: String, api: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatflow"));
    command.arg("call").arg(flow).arg(api).args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    tokio::task::spawn_blocking(move || command.output().expect("runs"))
        .await
        .expect("joined")
}

/// The request part of `call`'s output: the request line, the headers, the body (when the
/// printout has one).
struct PrintedRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

fn printed_request(out: &str) -> PrintedRequest {
    let mut lines = out.lines();
    let first = lines.next().expect("a request line");
    let (method, url) = first.split_once(' ').expect("METHOD URL");
    let mut headers = Vec::new();
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(": ").expect("NAME: VALUE");
        headers.push((name.to_string(), value.to_string()));
    }
    let body = lines.next().filter(|l| !l.starts_with("status:"));
    PrintedRequest {
        method: method.to_string(),
        url: url.to_string(),
        headers,
        body: body.map(str::to_string),
    }
}

/// What `call` printed, with `***` read as `secret`, is exactly what the server received.
fn assert_printed_is_received(
    printed: &PrintedRequest,
    seen: &common::Seen,
    base: &str,
    secret: &str,
) {
    let unmask = |text: &str| text.replace("***", secret);
    assert_eq!(printed.method, seen.method);
    assert_eq!(printed.url, format!("{base}{}", seen.target));
    for (name, value) in &printed.headers {
        assert_eq!(
            seen.header(name),
            Some(unmask(value).as_str()),
            "header {name} as printed and as received"
        );
    }
    let received = String::from_utf8(seen.body.clone()).expect("a UTF-8 body");
    assert_eq!(printed.body.as_deref().map(unmask), Some(received));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_prints_the_request_the_server_received_not_one_rebuilt_after_the_saves() {
    let server = common::Server::start().await;
    let dir = tempdir();
    let flow = format!("{dir}/print.flow");
    // The answer (`/weather`) saves other values into the attributes the request was built
    // from: the printed request must still show what was sent.
    std::fs::write(
        &flow,
        format!(
            "api report {{\n  live\n  internal\n  post \"{base}/weather/v1?q={{city}}&n={{n}}\"\n  \
             header \"X-Trace\" = \"trace-{{n}}\"\n  \
             header \"Authorization\" = \"Bearer {{secret.CALL_PRINT_TOKEN}}\"\n  \
             json {{\n    \"n\": n,\n    \"city\": \"{{city}}\",\n    \"temp\": \"{{temp}}\",\n    \
             \"key\": \"k-{{secret.CALL_PRINT_TOKEN}}\"\n  }}\n  \
             save temp = body.main.temp\n  save city = body.name\n}}\n\
             node start {{\n  ask city\n  ask n as number\n  call report\n  say \"{{temp}}\"\n  close\n}}\n",
            base = server.base
        ),
    )
    .expect("write");
    let secret = "tok-never-printed";
    let output = call_binary(
        flow,
        "report",
        &["--set", "city=Oslo", "--set", "n=7", "--set", "temp=cold"],
        &[("CHATFLOW_SECRET_CALL_PRINT_TOKEN", secret)],
    )
    .await;
    let out = stdout(&output);
    assert_eq!(code(&output), 0, "{out}{}", stderr(&output));
    assert!(!out.contains(secret), "the secret is masked: {out}");
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "one request: {seen:?}");
    let printed = printed_request(&out);
    assert_printed_is_received(&printed, &seen[0], &server.base, secret);
    assert!(
        seen[0].header("authorization") == Some("Bearer tok-never-printed"),
        "the secret was sent: {:?}",
        seen[0].headers
    );
    assert_eq!(
        printed.body.as_deref(),
        Some(r#"{"n":7,"city":"Oslo","temp":"cold","key":"k-***"}"#),
        "the values before the saves, numbers as the runtime writes them"
    );
    assert!(
        out.contains("save temp = 3.5\n") && out.contains("save city = \"Chicago\"\n"),
        "the saves did change the attributes: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_fills_sys_otp_code_like_the_otp_that_sends_through_the_api() {
    let server = common::Server::start().await;
    let dir = tempdir();
    let flow = format!("{dir}/otp.flow");
    std::fs::write(
        &flow,
        format!(
            "api sms {{\n  live\n  internal\n  post \"{base}/ok\"\n  header \"X-Code\" = \"{{sys.otp_code}}\"\n  \
             json {{\n    \"to\": \"{{phone}}\",\n    \"text\": \"Your code: {{sys.otp_code}}\"\n  }}\n}}\n\
             node start {{\n  ask phone\n  otp {{\n    send call sms\n    digits 4\n    ok -> done\n    fail -> done\n  }}\n}}\n\
             node done {{\n  say \"Done.\"\n}}\n",
            base = server.base
        ),
    )
    .expect("write");
    let output = call_binary(flow, "sms", &["--set", "phone=555"], &[]).await;
    let out = stdout(&output);
    assert_eq!(code(&output), 0, "{out}{}", stderr(&output));
    assert!(out.contains("status: 200"), "no missing_secret: {out}");
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "one request: {seen:?}");
    let code_sent = seen[0]
        .header("x-code")
        .expect("the code header")
        .to_string();
    assert!(
        code_sent.len() == 4 && code_sent.bytes().all(|b| b.is_ascii_digit()),
        "a code of the otp's 4 digits: {code_sent:?}"
    );
    let printed = printed_request(&out);
    assert_printed_is_received(&printed, &seen[0], &server.base, &code_sent);
    assert_eq!(
        printed.body.as_deref(),
        Some(r#"{"to":"555","text":"Your code: ***"}"#),
        "the code is masked like a secret"
    );
}

/// A fresh directory under the target dir (no temp-dir crate needed).
fn tempdir() -> String {
    let dir = std::env::temp_dir().join(format!(
        "chatflow-cli-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir.display().to_string()
}

// ---- run: the actions in the terminal --------------------------------------------------------

use crate::common;

const ACTIONS: &str = "tests/conversations/actions.flow";

#[test]
fn run_shows_the_profile_numbered_options_and_forms() {
    let o = chatflow_with_input(&["run", ACTIONS], "Form\nAnn; many; 2026-12-01\n4\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "== Action desk ==  (avatar https://desk.example.test/avatar.png)\n\
             bot> Welcome to the action desk.\n\
             bot> What shall we try?\n  1) Buttons\n  2) Cards\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "you> Form\n\
             bot> Book a table\n  1. Your name (name)\n  2. How many people? (number)\n  3. Which day? (date)\n\
             \x20    (answer `guest; people; day` in this order, or JSON {\"guest\": ..., \"people\": ..., \"day\": ...})\n"
        ),
        "{out}"
    );
    // The invalid field is asked again alone, and the form is answered.
    assert!(
        out.contains("bot> Book a table\n  1. How many people? (number)\n"),
        "{out}"
    );
    assert!(
        out.ends_with("you> 4\nbot> Ann, 4 people, 2026-12-01.\n[chat closed]\n"),
        "{out}"
    );
}

#[test]
fn run_shows_buttons_cards_and_media() {
    let o = chatflow_with_input(&["run", ACTIONS], "Buttons\nBack\nCards\nPro\n");
    let out = stdout(&o);
    assert!(
        out.contains(
            "bot> Buttons:\n  1) Docs <https://desk.example.test/docs>\n  2) Call me\n  3) Back\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "bot> [card 1/2] Classic\n       $9 a month\n       [image] https://desk.example.test/classic.png\n\
             \x20      [Details <https://desk.example.test/classic>]\n       [Choose Classic]\n\
             bot> [card 2/2] Pro\n"
        ),
        "{out}"
    );
    assert!(
        out.ends_with("you> Pro\nbot> Plan: Choose Pro.\n[chat closed]\n"),
        "{out}"
    );

    let o = chatflow_with_input(&["run", ACTIONS], "Media\n");
    let out = stdout(&o);
    assert!(
        out.contains(
            "bot> [image] https://desk.example.test/map.png — The map\n\
             bot> [audio] https://desk.example.test/hello.mp3\n\
             bot> [video] https://desk.example.test/howto.mp4 — How to\n\
             bot> [file] https://desk.example.test/terms.pdf\n"
        ),
        "{out}"
    );
}

#[test]
fn run_records_emails_and_trace_shows_goals() {
    let o = chatflow_with_input(&["run", ACTIONS, "--trace", "--channel", "web"], "Mail\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains(
            "[email to ann@example.test: Hello from Action desk — recorded, not sent]\n\
             \x20    | Line one.\n     | Line two.\n\
             bot> Sent on web: \n"
        ),
        "{}",
        stdout(&o)
    );
    let o = chatflow_with_input(&["run", ACTIONS, "--trace"], "Buttons\nCALL_ME\n");
    let err = stderr(&o);
    assert!(
        err.contains("trace: goal called reached (1 time in this conversation)\n"),
        "{err}"
    );
    assert!(
        err.contains("trace: goal called reached (2 times in this conversation)\n"),
        "{err}"
    );
    assert!(
        !stdout(&o).contains("goal"),
        "goals stay out of the transcript"
    );
}

#[test]
fn run_delivers_emails_over_smtp() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (addr, mailbox) = rt.block_on(common::smtp_server());
    let o = chatflow_with_input(
        &[
            "run",
            ACTIONS,
            "--smtp",
            &addr,
            "--smtp-from",
            "desk@example.test",
        ],
        "Mail\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("[email to ann@example.test: Hello from Action desk — delivered]\n"),
        "{}",
        stdout(&o)
    );
    let mails = mailbox.lock().expect("mailbox").clone();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].from.contains("desk@example.test"),
        "{:?}",
        mails[0]
    );
    assert!(
        mails[0].to.iter().any(|t| t.contains("ann@example.test")),
        "{:?}",
        mails[0]
    );
    assert!(mails[0].data.contains("Line one."), "{:?}", mails[0]);
}

#[test]
fn run_with_a_refused_smtp_server_says_the_email_was_not_delivered() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("addr").to_string();
    drop(closed);
    let o = chatflow_with_input(&["run", ACTIONS, "--smtp", &addr], "Mail\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("[email to ann@example.test: Hello from Action desk — NOT delivered: "),
        "{out}"
    );
    assert!(
        !out.contains("bot> Sent on terminal: \n"),
        "sys.email_error is set: {out}"
    );
}

#[test]
fn run_otp_code_and_language_flags() {
    let o = chatflow_with_input(&["run", ACTIONS, "--otp-code"], "Code\n1234\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("     | Your verification code is 1234.\n"),
        "{out}"
    );
    assert!(
        out.ends_with("you> 1234\nbot> Verified.\n[chat closed]\n"),
        "{out}"
    );

    let o = chatflow_with_input(&["run", ACTIONS, "--language", "es"], "");
    assert!(
        stdout(&o).contains("bot> Bienvenido al mostrador de acciones.\nbot> ¿Qué probamos?\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn run_shows_a_transfer_and_forwards_later_messages() {
    // The agent node is reached from the menu only through the hours, so use a flow of its own.
    let dir = std::env::temp_dir().join(format!("chatflow-cli-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let flow = dir.join("transfer.flow");
    std::fs::write(
        &flow,
        "node start {\n  transfer department \"Billing\" \"One moment...\"\n}\n",
    )
    .expect("write");
    let o = chatflow_with_input(&["run", flow.to_str().expect("utf-8 path")], "Hello?\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "== transfer ==\n\
         bot> One moment...\n\
         [transferred to department Billing — waiting for a human]\n\
         you> Hello?\n\
         [forwarded to the human: Hello?]\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_takes_language_and_channel_for_every_conversation() {
    let dir = std::env::temp_dir().join(format!("chatflow-cli-lang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let flow = dir.join("lang.flow");
    std::fs::write(
        &flow,
        "bot \"L\" {\n  start s\n  languages en, es\n}\n\
         node s {\n  say {\n    en \"Hi on {sys.channel}\"\n    es \"Hola en {sys.channel}\"\n  }\n  close\n}\n\
         test \"greets\" {\n  expect say \"Hola en web\"\n}\n",
    )
    .expect("write");
    let path = flow.to_str().expect("utf-8 path");
    let o = chatflow(&["test", path, "--language", "es", "--channel", "web"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "PASS greets\n1 passed, 0 failed\n");
    let o = chatflow(&["test", path]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains(r#"actual:   say "Hi on terminal""#),
        "{}",
        stdout(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_first_declared_language_is_the_default_in_run_and_test() {
    let dir = std::env::temp_dir().join(format!("chatflow-cli-first-lang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let flow = dir.join("fr.flow");
    std::fs::write(
        &flow,
        "bot \"L\" {\n  start s\n  languages fr, en\n}\n\
         node s {\n  say {\n    fr \"Bonjour ({sys.language})\"\n    en \"Hello ({sys.language})\"\n  }\n  close\n}\n\
         test \"greets in French\" {\n  expect say \"Bonjour (fr)\"\n}\n",
    )
    .expect("write");
    let path = flow.to_str().expect("utf-8 path");
    let o = chatflow(&["test", path]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "PASS greets in French\n1 passed, 0 failed\n");
    let o = chatflow_with_input(&["run", path], "");
    assert!(stdout(&o).contains("bot> Bonjour (fr)\n"), "{}", stdout(&o));
    // `--language` still wins over the default.
    let o = chatflow_with_input(&["run", path, "--language", "en"], "");
    assert!(stdout(&o).contains("bot> Hello (en)\n"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

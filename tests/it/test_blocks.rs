//! What `test` blocks can say (issue 8): scripted stubs, stubbed timeouts on a virtual clock,
//! requests checked beyond their URL, and prompts of every action.

use std::sync::Arc;

use chatflow::compile::compile_str;
use chatflow::ir::Program;
use chatflow::source::SourceSet;
use chatflow::testing::{render_outcome, run_tests, TestOptions, TestOutcome};

use crate::common::compile_clean;

/// Compiles `source` (which must have no errors) and runs its tests.
async fn run_flow(source: &str) -> (Vec<TestOutcome>, Arc<Program>, SourceSet) {
    let (program, sources) = compile_clean("t.flow", source);
    let outcomes = run_tests(program.clone(), &TestOptions::default()).await;
    (outcomes, program, sources)
}

/// Every test passed; otherwise panics with the report of those that failed.
fn assert_all_pass(outcomes: &[TestOutcome], program: &Program, sources: &SourceSet) {
    let failed: String = outcomes
        .iter()
        .filter(|o| !o.passed())
        .map(|o| render_outcome(o, program, sources, false))
        .collect();
    assert!(failed.is_empty(), "{failed}");
}

/// The failure of the test named `name`, as `(check, expected, actual)`.
fn failure_of(outcomes: &[TestOutcome], name: &str) -> (String, String, String) {
    let outcome = outcomes
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no test `{name}`"));
    let f = outcome
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("`{name}` should fail"));
    (f.check.clone(), f.expected.clone(), f.actual.clone())
}

// ---- scripted stubs -------------------------------------------------------------------------

const PAY: &str = r#"
api pay {
  live
  get "https://pay.example.test/charge"
  retry 1
}

node start {
  call pay
  if status == 200 -> paid
  else -> failed
}

node paid {
  say "Paid."
  ask again "Once more?"
  goto start
}

node failed {
  say "Failed with {status}."
  close
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successive_stub_lines_answer_successive_calls() {
    let source = format!(
        "{PAY}\n{}",
        r#"
test "a retry after a 503 succeeds" {
  stub pay 503
  stub pay 200 {"ok": true}
  expect say "Paid."
  user "yes"
  expect say "Paid."
}

test "two 503s use up the one retry" {
  stub pay 503
  stub pay 503
  stub pay 200
  expect say "Failed with 503."
}

test "a stub line after a user line starts a new script" {
  stub pay 200
  stub pay 200
  stub pay 200
  expect say "Paid."
  user "yes"
  expect say "Paid."
  stub pay 404
  user "yes"
  expect say "Failed with 404."
}
"#
    );
    let (outcomes, program, sources) = run_flow(&source).await;
    assert_all_pass(&outcomes, &program, &sources);
}

// ---- stubbed timeouts on a virtual clock ----------------------------------------------------

const SLOW: &str = r#"
api quote {
  live
  get "https://quotes.example.test/q"
  timeout 2s
  retry 1
}

node start {
  call quote
  if status == 200 -> answered
  else -> late
}

node answered {
  say "Answered."
}

node late {
  say "No answer: {sys.api_error}."
}

test "a 2 s timeout, retried once" {
  stub quote timeout
  expect say "No answer: timeout."
}

test "a timeout, then an answer" {
  stub quote timeout
  stub quote 200
  expect say "Answered."
}
"#;

/// A stubbed `timeout` ends on the test's virtual clock: the clock moves by exactly the API's
/// timeout per attempt plus the retry's backoff (100 ms, no jitter in tests), and no real
/// timer runs. Were the timeouts real, the clock would not move at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stubbed_timeouts_move_the_virtual_clock_by_exactly_the_timeout() {
    // A watchdog against a regression that would wait forever, not a bound on the run time.
    let run = tokio::time::timeout(std::time::Duration::from_secs(120), run_flow(SLOW));
    let (outcomes, program, sources) = run.await.expect("the virtual timeouts ended");
    assert_all_pass(&outcomes, &program, &sources);
    let ms = std::time::Duration::from_millis;
    assert_eq!(outcomes[0].waited, ms(2000 + 100 + 2000));
    assert_eq!(outcomes[1].waited, ms(2000 + 100));
    let call = outcomes[0]
        .events
        .iter()
        .find_map(|e| match e {
            chatflow::runtime::Event::ApiCall {
                latency_ms,
                attempts,
                error,
                ..
            } => Some((*latency_ms, *attempts, error.clone())),
            _ => None,
        })
        .expect("an API call");
    assert_eq!(
        call,
        (4100, 2, Some("timeout".to_string())),
        "virtual latency"
    );
}

// ---- expect request: method, header, JSON body ----------------------------------------------

const ORDER: &str = r#"
api place_order {
  live
  post "https://shop.example.test/orders"
  header "Authorization" = "Bearer {secret.SHOP_TOKEN}"
  header "X-Channel" = "chat"
  json {"qty": qty, "items": [{"sku": "P-1", "by": "{name}"}], "gift": false}
}

node start {
  ask name "Your name?"
  ask qty as number "How many?"
  call place_order
  say "Ordered."
  close
}
"#;

const ORDER_TESTS: &str = r#"
test "every part holds" {
  stub place_order 201
  user "Ann"
  user "2"
  expect request place_order method post
  expect request place_order header "Authorization" == "Bearer ***"
  expect request place_order header "x-channel" == "chat"
  expect request place_order json "qty" == 2
  expect request place_order json "items[0].sku" == "P-1"
  expect request place_order json "items" == [{"sku": "P-1", "by": "Ann"}]
  expect request place_order json {"qty": 2.0, "items": [{"sku": "P-1", "by": "Ann"}], "gift": false}
}

test "method" {
  stub place_order 201
  user "Ann"
  user "2"
  expect request place_order method get
}

test "header" {
  stub place_order 201
  user "Ann"
  user "2"
  expect request place_order header "Authorization" == "Bearer abc"
}

test "missing header" {
  stub place_order 201
  user "Ann"
  user "2"
  expect request place_order header "X-Trace" == "1"
}

test "json path" {
  stub place_order 201
  user "Ann"
  user "2"
  expect request place_order json "qty" == "2"
}

test "json path missing" {
  stub place_order 201
  user "Ann"
  user "2"
  expect request place_order json "items[1].sku" == "P-2"
}

test "json whole" {
  stub place_order 201
  user "Ann"
  user "2"
  expect request place_order json {"qty": 2}
}

test "no request yet" {
  user "Ann"
  expect request place_order method post
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expect_request_checks_method_headers_and_the_json_body() {
    let (outcomes, program, sources) = run_flow(&format!("{ORDER}\n{ORDER_TESTS}")).await;
    let passed = &outcomes[0];
    assert!(
        passed.passed(),
        "{}",
        render_outcome(passed, &program, &sources, false)
    );
    let check = |name: &str, expected: &str, actual: &str| {
        assert_eq!(
            failure_of(&outcomes, name),
            (
                "expect request".to_string(),
                expected.to_string(),
                actual.to_string()
            ),
            "test `{name}`"
        );
    };
    check(
        "method",
        "request place_order method get",
        "request place_order method post",
    );
    // The secret is masked in what the failure shows, and compared masked.
    check(
        "header",
        r#"request place_order header "Authorization" == "Bearer abc""#,
        r#"request place_order header "Authorization" == "Bearer ***""#,
    );
    check(
        "missing header",
        r#"request place_order header "X-Trace" == "1""#,
        r#"request place_order no header "X-Trace""#,
    );
    check(
        "json path",
        r#"request place_order json "qty" == "2""#,
        r#"request place_order json "qty" == 2"#,
    );
    check(
        "json path missing",
        r#"request place_order json "items[1].sku" == "P-2""#,
        r#"request place_order json without "items[1].sku" in {"qty":2,"items":[{"sku":"P-1","by":"Ann"}],"gift":false}"#,
    );
    check(
        "json whole",
        r#"request place_order json {"qty":2}"#,
        r#"request place_order json {"qty":2,"items":[{"sku":"P-1","by":"Ann"}],"gift":false}"#,
    );
    check(
        "no request yet",
        "request place_order method post",
        "no request to place_order reached the stub server in this test",
    );
    let reports: String = outcomes
        .iter()
        .map(|o| render_outcome(o, &program, &sources, false))
        .collect();
    assert!(!reports.contains("test-secret"), "{reports}");
}

#[test]
fn a_json_path_that_is_not_one_is_a_compile_error() {
    let source = format!(
        "{ORDER}\ntest \"t\" {{\n  user \"Ann\"\n  expect request place_order json \"items[0.sku\" == 1\n}}\n"
    );
    let compiled = compile_str("t.flow", &source);
    let codes: Vec<&str> = compiled.diagnostics.iter().map(|d| d.code.name()).collect();
    assert_eq!(codes, ["chatflow::bad_json_path"]);
    for path in ["qty", "items[0].sku", "[2]", "a.b[1][0]"] {
        assert!(chatflow::ir::parse_json_path(path).is_some(), "{path}");
    }
    for path in ["", "a..b", "a.", ".a", "a[x]", "a[1", "a]"] {
        assert!(chatflow::ir::parse_json_path(path).is_none(), "{path}");
    }
}

// ---- expect say sees every prompt; expect choices ---------------------------------------------

const PROMPTS: &str = r#"
api free_slots {
  live
  get "https://cal.example.test/slots"
}

api book_slot {
  live
  post "https://cal.example.test/book"
  json {"slot": "{slot_id}"}
}

node start {
  choose "Which size?" {
    "Small" -> extras
    "Large" -> extras
  }
}

node extras {
  buttons "Anything else?" {
    link "Menu" "https://x.test/menu"
    "No" -> details
  }
}

node details {
  form "Your details" {
    field name as name "Your name"
    field people as number "How many people?"
  }
  say "Thanks, {name}."
  goto booking
}

node booking {
  appointment {
    slots call free_slots from body.slots
    label "{item.start}"
    prompt "Which time suits you?"
    save slot_id = item.id
    book call book_slot
    booked -> done
    failed -> done
  }
}

node done {
  say "Booked."
  close
}

test "every prompt is a message" {
  stub free_slots 200 {"slots": [{"id": "s1", "start": "10:00"}, {"id": "s2", "start": "11:00"}]}
  stub book_slot 200
  expect say "Which size?"
  expect choices "Small" "Large"
  user "Large"
  expect say "Anything else?"
  expect choices "Menu", "No"
  user "No"
  expect say "Your details"
  user "Ann; 2"
  expect say "Thanks, Ann."
  expect say "Which time suits you?"
  expect choices "10:00" "11:00"
  user "11:00"
  expect say "Booked."
  expect request book_slot json "slot" == "s2"
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expect_say_sees_the_prompts_of_menus_forms_and_appointments() {
    let (outcomes, program, sources) = run_flow(PROMPTS).await;
    assert_all_pass(&outcomes, &program, &sources);
}

// ---- coverage of the calls an appointment (or an otp) makes -------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_counts_the_api_outcomes_of_an_appointment() {
    use chatflow::testing::coverage::{measure, Outcome, Target};
    let (outcomes, program, sources) = run_flow(PROMPTS).await;
    assert_all_pass(&outcomes, &program, &sources);
    let coverage = measure(&program, &outcomes);
    assert_eq!(
        coverage.api_outcomes(),
        (2, 8),
        "slots and booking, 4 classes each"
    );
    let reached: Vec<(String, String, Outcome)> = coverage
        .entries
        .iter()
        .filter(|e| e.reached)
        .filter_map(|e| match &e.target {
            Target::Call { node, api, outcome } => Some((node.clone(), api.clone(), *outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reached,
        [
            (
                "booking".to_string(),
                "free_slots".to_string(),
                Outcome::Success
            ),
            (
                "booking".to_string(),
                "book_slot".to_string(),
                Outcome::Success
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_counts_the_api_outcomes_of_an_otp_sent_through_an_api() {
    use chatflow::testing::coverage::measure;
    let source = r#"
api sms {
  live
  post "https://sms.example.test/send"
  json {"code": "{sys.otp_code}"}
}

node start {
  otp {
    send call sms
    ok -> done
    fail -> done
  }
}

node done {
  say "Done."
  close
}

test "the code arrives" {
  stub sms 200
  user "123456"
  expect say "Done."
}
"#;
    let (outcomes, program, sources) = run_flow(source).await;
    assert_all_pass(&outcomes, &program, &sources);
    assert_eq!(measure(&program, &outcomes).api_outcomes(), (1, 4));
}

/// The ok input that shows the new test lines (its IR and formatting are pinned elsewhere)
/// also passes its own test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_lines_input_passes_its_test() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/inputs/ok/test_lines_requests.flow"
    );
    let source = std::fs::read_to_string(path).expect("readable");
    let (outcomes, program, sources) = run_flow(&source).await;
    assert_eq!(outcomes.len(), 1);
    assert_all_pass(&outcomes, &program, &sources);
}

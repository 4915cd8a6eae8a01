//! What `test` blocks can say (issue 8): scripted stubs, stubbed timeouts on a virtual clock,
//! requests checked beyond their URL, and prompts of every action.

use std::sync::Arc;

use chatflow::compile::compile_str;
use chatflow::ir::Program;
use chatflow::source::SourceSet;
use chatflow::testing::{render_outcome, run_tests, TestOptions, TestOutcome};

/// Compiles `source` (which must have no errors) and runs its tests.
async fn run_flow(source: &str) -> (Vec<TestOutcome>, Arc<Program>, SourceSet) {
    let compiled = compile_str("t.flow", source);
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let program = Arc::new(compiled.program.expect("compiles"));
    let outcomes = run_tests(program.clone(), &TestOptions::default()).await;
    (outcomes, program, compiled.sources)
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

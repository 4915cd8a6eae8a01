//! `chatflow test --coverage`: nodes, branch arms and API outcome classes that no test
//! reached, measured from real test runs against the stub server.

use std::sync::Arc;

use chatflow::compile::compile_str;
use chatflow::testing::coverage::{measure, Coverage, Outcome, Target};
use chatflow::testing::{run_tests, TestOptions};

use crate::common::chatflow;

const FLOW: &str = r#"api svc {
  live
  get "https://svc.example.test/words/{word}"
  timeout 1s
}

node start_here {
  ask word
  call svc
  if status == 200 and word == "hi" -> hello
  elif status in 400..499 -> missing
  else -> broken
}

node hello {
  say "hello"
  close
}

node missing {
  say "missing"
  close
}

node broken {
  say "broken"
  close
}

test "hi is found" {
  stub svc 200 {"ok": true}
  user "hi"
  expect node hello
}
"#;

const MISSING_TEST: &str = r#"
test "an unknown word is missing" {
  stub svc 404
  user "zzz"
  expect node missing
}
"#;

async fn coverage_of(text: &str) -> (Coverage, String) {
    let compiled = compile_str("cov.flow", text);
    let program = Arc::new(
        compiled
            .program
            .unwrap_or_else(|| panic!("compiles: {:?}", compiled.diagnostics)),
    );
    let outcomes = run_tests(program.clone(), &TestOptions::default()).await;
    assert!(outcomes.iter().all(|o| o.passed()), "{outcomes:?}");
    let coverage = measure(&program, &outcomes);
    let report = coverage.render("cov.flow", &program, &compiled.sources);
    (coverage, report)
}

fn missed_of(coverage: &Coverage) -> Vec<Target> {
    coverage.missed().map(|e| e.target.clone()).collect()
}

fn arm(node: &str, arm: usize, label: &str) -> Target {
    Target::Arm {
        node: node.into(),
        arm,
        label: label.into(),
    }
}

fn call(outcome: Outcome) -> Target {
    Target::Call {
        node: "start_here".into(),
        api: "svc".into(),
        outcome,
    }
}

#[tokio::test]
async fn an_arm_no_test_takes_is_reported_until_a_test_takes_it() {
    let (coverage, report) = coverage_of(FLOW).await;
    let missed = missed_of(&coverage);
    assert!(
        missed.contains(&arm("start_here", 1, "elif status in 400..499 -> missing")),
        "{missed:?}"
    );
    assert!(missed.contains(&arm("start_here", 2, "else -> broken")));
    assert!(!missed.contains(&arm(
        "start_here",
        0,
        "if status == 200 and word == \"hi\" -> hello"
    )));
    assert!(missed.contains(&Target::Node {
        node: "missing".into()
    }));
    assert!(!missed.contains(&Target::Node {
        node: "hello".into()
    }));
    assert!(!missed.contains(&call(Outcome::Success)));
    assert!(missed.contains(&call(Outcome::ClientError)));
    assert_eq!(coverage.nodes(), (2, 4));
    assert_eq!(coverage.branches(), (1, 3));
    assert_eq!(coverage.api_outcomes(), (1, 4));
    assert_eq!(
        report,
        "coverage of cov.flow: 2/4 nodes, 1/3 branches, 1/4 API outcomes\n\
         \x20 never seen: call svc in node start_here answered 4xx, 5xx, no response (cov.flow:9)\n\
         \x20 not taken: elif status in 400..499 -> missing in node start_here (cov.flow:11)\n\
         \x20 not taken: else -> broken in node start_here (cov.flow:12)\n\
         \x20 not reached: node missing (cov.flow:20)\n\
         \x20 not reached: node broken (cov.flow:25)\n"
    );

    let (coverage, report) = coverage_of(&format!("{FLOW}{MISSING_TEST}")).await;
    let missed = missed_of(&coverage);
    assert!(
        !missed.contains(&arm("start_here", 1, "elif status in 400..499 -> missing")),
        "{missed:?}"
    );
    assert!(!missed.contains(&Target::Node {
        node: "missing".into()
    }));
    assert!(!missed.contains(&call(Outcome::ClientError)));
    assert!(missed.contains(&arm("start_here", 2, "else -> broken")));
    assert!(!report.contains("elif status in 400..499"), "{report}");
    assert!(
        report.starts_with("coverage of cov.flow: 3/4 nodes, 2/3 branches, 2/4 API outcomes\n"),
        "{report}"
    );
}

#[tokio::test]
async fn timeouts_and_server_errors_count_as_their_own_outcomes() {
    let more = r#"
test "a timeout is broken" {
  stub svc timeout
  user "x"
  expect node broken
}

test "a 503 is broken" {
  stub svc 503
  user "y"
  expect node broken
}
"#;
    let (coverage, _) = coverage_of(&format!("{FLOW}{MISSING_TEST}{more}")).await;
    assert_eq!(coverage.api_outcomes(), (4, 4));
    assert_eq!(coverage.branches(), (3, 3));
    assert_eq!(coverage.nodes(), (4, 4));
    assert_eq!(coverage.missed().count(), 0);
}

#[test]
fn coverage_does_not_change_the_exit_code() {
    let o = chatflow(&["test", "--coverage", "examples/weather.flow"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "coverage of examples/weather.flow: 7/7 nodes, 5/5 branches, 4/4 API outcomes\n"
        ),
        "{out}"
    );

    let o = chatflow(&["test", "--coverage", "tests/flows/failing.flow"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failing test still fails the run"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("coverage of tests/flows/failing.flow: "),
        "{out}"
    );
}

/// After `run` returns, the caller's later call and menu belong to the caller, not to the
/// sub-flow node that ran last (once by running out of statements, once by `return`).
const SUBFLOW: &str = r#"api svc {
  live
  get "https://svc.example.test/ping"
  timeout 1s
}

flow note(kind) {
  node first {
    say "noted {kind}"
    if kind == "quick" -> quick
    else -> slow
  }
  node quick {
    return
  }
  node slow {
    say "slowly"
  }
}

node start_here {
  run note("quick")
  run note("slow")
  call svc
  choose "Again?" {
    "Yes" -> start_here
    "No" -> done
  }
}

node done {
  close
}

test "the sub-flow returns to the caller" {
  stub svc 200 {"ok": true}
  expect say "noted quick"
  expect say "noted slow"
  expect say "slowly"
  user "No"
  expect node done
}
"#;

#[tokio::test]
async fn calls_and_edges_after_a_sub_flow_returns_belong_to_the_caller() {
    let (coverage, report) = coverage_of(SUBFLOW).await;
    let missed = missed_of(&coverage);
    assert!(!missed.contains(&call(Outcome::Success)), "{report}");
    let no = Target::Edge {
        node: "start_here".into(),
        to: "done".into(),
        label: "\"No\" -> done".into(),
    };
    assert!(!missed.contains(&no), "{report}");
    assert!(
        report.contains("never seen: call svc in node start_here answered 4xx, 5xx, no response"),
        "{report}"
    );
    assert!(
        report.contains("not taken: \"Yes\" -> start_here in node start_here"),
        "{report}"
    );
}

/// Intents and FAQ entries count as reached when a test's visitor message matched them.
#[tokio::test]
async fn intents_and_faq_entries_no_test_matches_are_listed() {
    let flow = r#"bot "b" { start menu }
intent order_status { "where is my order" "track my package" "has my parcel shipped" "when will my order arrive" "where is my delivery" }
intent refund { "I want a refund" "give me my money back" "can I return this item" "refund my purchase" "send it back and get my money" }
faq { "what are your opening hours" "when are you open" "are you open today" "opening times" "what time do you open" } -> "9 to 5."
node menu {
  choose "Help?" {
    "Orders" intent order_status -> orders
    "Refunds" intent refund -> orders
  }
}
node orders { close }
test "a parcel" {
  user "where is my parcel"
  expect node orders
}
"#;
    let (coverage, report) = coverage_of(flow).await;
    assert_eq!(coverage.intents(), (1, 3));
    let missed = missed_of(&coverage);
    assert!(
        missed.contains(&Target::Intent {
            name: "refund".into()
        }),
        "{missed:?}"
    );
    assert!(!missed.contains(&Target::Intent {
        name: "order_status".into()
    }));
    assert!(
        report.starts_with("coverage of cov.flow: 2/2 nodes, 2/2 branches, 0/0 API outcomes, 1/3 intents and FAQ entries\n"),
        "{report}"
    );
    assert!(
        report.contains("  never matched: intent refund\n"),
        "{report}"
    );
    assert!(
        report.contains("  never matched: FAQ entry faq#1\n"),
        "{report}"
    );
    // A flow without intents keeps the line it always had.
    let (_, plain) = coverage_of(FLOW).await;
    assert!(!plain.contains("intents"), "{plain}");
}

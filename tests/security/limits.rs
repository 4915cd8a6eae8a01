//! Item 6: the limits limit. The step limit cannot be switched off; one call with its
//! retries has a deadline; a turn has a budget for all its calls and a cap on their number.

use std::time::Duration;

use chatflow::runtime::{Backoff, EngineConfig, Event};

use crate::support::*;

#[test]
fn max_steps_beyond_the_cap_is_a_usage_error() {
    let path = file("steps", "node a { goto a }\n");
    for n in ["4294967295", "1000001", "0"] {
        let out = run(&["run", &path, "--max-steps", n], "");
        assert_eq!(out.status.code(), Some(2), "{n}: {}", stderr(&out));
    }
    let out = run(&["run", &path, "--max-steps", "50"], "");
    assert!(stderr(&out).contains("step limit") || stdout(&out).contains("step limit"));
}

#[tokio::test]
async fn the_library_caps_max_steps_too() {
    let config = EngineConfig {
        max_steps: u32::MAX,
        ..EngineConfig::default()
    };
    let engine = engine("node a { goto a }\n", config);
    let (_, events) = start(&engine).await;
    let stopped = events.iter().any(|e| {
        matches!(e, Event::RuntimeError { message } if message.contains(&chatflow::runtime::MAX_STEPS_CAP.to_string()))
    });
    assert!(stopped, "{events:?}");
}

fn silent_api(server: &Server, extra: &str) -> String {
    format!(
        "api slow {{\n  live\n{INTERNAL}  get \"{}/slow\"\n  timeout 200ms\n  retry 10\n{extra}}}\n",
        server.base()
    )
}

#[tokio::test]
async fn retries_stop_at_the_call_deadline() {
    let server = Server::silent().await;
    let src = format!(
        "{}node a {{\n  call slow\n  close\n}}\n",
        silent_api(&server, "")
    );
    let config = EngineConfig {
        backoff: Backoff::NONE,
        call_deadline: Duration::from_millis(500),
        ..EngineConfig::default()
    };
    let (_, events) = start(&engine(&src, config)).await;
    let calls = calls(&events);
    assert_eq!(calls.len(), 1, "{events:?}");
    let (_, status, error, attempts) = &calls[0];
    assert_eq!((*status, error.as_deref()), (0, Some("timeout")));
    // 200 ms a try within 500 ms: never the 11 tries that `retry 10` asks for.
    assert!(*attempts <= 3, "{attempts} attempts");
}

#[test]
fn the_default_deadlines() {
    let c = EngineConfig::default();
    assert_eq!(c.call_deadline, Duration::from_secs(30));
    assert!(c.turn_budget >= c.call_deadline);
    assert!(c.max_calls_per_turn > 0 && c.max_calls_per_turn <= 100);
}

#[tokio::test]
async fn a_turn_stops_calling_when_its_budget_is_spent() {
    let server = Server::silent().await;
    let src = format!(
        "{}node a {{\n  call slow\n  call slow\n  call slow\n  call slow\n  close\n}}\n",
        silent_api(&server, "")
    );
    let config = EngineConfig {
        backoff: Backoff::NONE,
        call_deadline: Duration::from_millis(300),
        turn_budget: Duration::from_millis(500),
        ..EngineConfig::default()
    };
    let (_, events) = start(&engine(&src, config)).await;
    let errors: Vec<_> = calls(&events).into_iter().map(|c| c.2).collect();
    assert_eq!(errors.len(), 4);
    assert_eq!(
        errors.last().unwrap().as_deref(),
        Some("turn_budget"),
        "{errors:?}"
    );
    // Only the first two calls sent anything.
    let sent: u32 = calls(&events).iter().map(|c| c.3).sum();
    assert!(sent <= 4, "{sent} requests");
}

#[tokio::test]
async fn a_turn_makes_at_most_the_allowed_number_of_calls() {
    let server = Server::json(200, "{}").await;
    let src = format!(
        "api fast {{\n  live\n{INTERNAL}  get \"{}/fast\"\n}}\nnode a {{\n  call fast\n  goto a\n}}\n",
        server.base()
    );
    let config = EngineConfig {
        max_calls_per_turn: 5,
        max_steps: 100,
        ..EngineConfig::default()
    };
    let (_, events) = start(&engine(&src, config)).await;
    let calls = calls(&events);
    assert!(calls.len() > 5);
    assert!(calls[..5].iter().all(|c| c.1 == 200), "{calls:?}");
    assert_eq!(calls[5].2.as_deref(), Some("call_limit"));
    assert_eq!(server.requests().len(), 5);
}

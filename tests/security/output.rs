//! Item 8: output cannot attack the reader. Control characters from an API answer are escaped
//! in what `run` and `call` print, and known secret values are masked wherever they appear:
//! printed output, traces, events (what `serve` stores).

use std::collections::HashMap;
use std::sync::Arc;

use chatflow::runtime::{EngineConfig, Event};

use crate::support::*;

const SECRET: &str = "tok-9d8e7f6a";

/// A server whose JSON answer carries terminal escapes and echoes the request's token.
async fn echoing() -> Server {
    Server::start(|seen| {
        let token = seen.header("x-token").unwrap_or("").to_string();
        let body = serde_json::json!({"msg": format!("\u{1b}[2J\rHACKED\u{7} {token}")});
        Some((
            200,
            vec![("content-type".into(), "application/json".into())],
            body.to_string().into_bytes(),
        ))
    })
    .await
}

fn flow(server: &Server) -> String {
    format!(
        "api echo {{\n  live\n  internal\n  get \"{}/echo\"\n  header \"X-Token\" = \"{{secret.TOKEN}}\"\n  save msg = body.msg\n}}\nnode a {{\n  call echo\n  say \"{{msg}}\"\n  close\n}}\n",
        server.base()
    )
}

#[tokio::test]
async fn run_escapes_control_characters_and_masks_the_echoed_secret() {
    let server = echoing().await;
    let path = file("run_escape", &flow(&server));
    let out = tokio::task::spawn_blocking(move || {
        run_with(
            bin()
                .args(["run", &path, "--trace"])
                .env("CHATFLOW_SECRET_TOKEN", SECRET),
            "",
        )
    })
    .await
    .unwrap();
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    assert!(stdout.contains("\\x1b[2J\\rHACKED\\x07"), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(!text.contains(SECRET), "{text}");
    }
    assert_eq!(
        server.requests()[0].header("x-token"),
        Some(SECRET),
        "the secret was sent"
    );
}

#[tokio::test]
async fn call_escapes_and_masks_the_answer() {
    // A text answer (JSON would come out pretty-printed, its escapes kept).
    let server = Server::start(|seen| {
        let token = seen.header("x-token").unwrap_or("").to_string();
        let body = format!("\u{1b}[2J\rHACKED\u{7} {token}");
        Some((
            200,
            vec![("content-type".into(), "text/plain".into())],
            body.into_bytes(),
        ))
    })
    .await;
    let path = file("call_escape", &flow(&server));
    let out = tokio::task::spawn_blocking(move || {
        run_with(
            bin()
                .args(["call", &path, "echo"])
                .env("CHATFLOW_SECRET_TOKEN", SECRET),
            "",
        )
    })
    .await
    .unwrap();
    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr(&out));
    assert!(!stdout.contains(SECRET), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    assert!(stdout.contains("\\x1b[2J\\rHACKED\\x07 ***"), "{stdout}");
}

#[tokio::test]
async fn events_never_carry_a_secret_value() {
    let server = echoing().await;
    let secrets: HashMap<String, String> = [("TOKEN".to_string(), SECRET.to_string())].into();
    let config = EngineConfig {
        secrets: Some(Arc::new(secrets)),
        trace: true,
        ..EngineConfig::default()
    };
    let (_, events) = start(&engine(&flow(&server), config)).await;
    let shown = serde_json::to_string(&events).unwrap();
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Say { text } if text.ends_with("***"))),
        "{events:?}"
    );
}

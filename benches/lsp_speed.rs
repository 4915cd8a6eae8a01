//! Language-server latency: a generated 1,000-node flow is open; each round types one
//! character (`didChange` with the whole text, as full sync sends it), which recompiles and
//! publishes diagnostics, then asks for completion after `goto ` and a hover. Prints the
//! time from the keystroke to the last answer (median and worst of the rounds).
//! Run with `cargo bench --bench lsp_speed`. The aim (docs/performance.md) is 50 ms.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write;
use std::time::{Duration, Instant};

use chatflow::lsp::Server;
use lsp_server::{Notification, Request, RequestId};
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NODES: usize = 1_000;
const ROUNDS: usize = 30;

/// Groups of five nodes (ask, call + branch, report, retry, failure) over two APIs.
fn generate() -> String {
    let mut s = String::from("bot \"Generated\" { start ask_0 }\n\n");
    for a in 0..2 {
        let _ = writeln!(
            s,
            "api svc{a} {{\n  get \"https://svc{a}.example.test/v1/items?q={{city}}\"\n  timeout 3s\n  save result{a} = body.items[0].name\n}}\n"
        );
    }
    let groups = NODES / 5;
    for g in 0..groups {
        let a = g % 2;
        let next = if g + 1 < groups {
            format!("ask_{}", g + 1)
        } else {
            "ask_0".into()
        };
        let _ = write!(
            s,
            "node ask_{g} {{\n  ask city \"City for step {g}?\"\n  goto call_{g}\n}}\n\
node call_{g} {{\n  call svc{a}\n  if status == 200 -> report_{g}\n  elif status in 400..499 -> retry_{g}\n  else -> fail_{g}\n}}\n\
node report_{g} {{\n  say \"Found {{result{a}}} in {{city}}\"\n  goto {next}\n}}\n\
node retry_{g} {{\n  say \"Not found ({{status}}), try again\"\n  goto ask_{g}\n}}\n\
node fail_{g} {{\n  say \"Service down, sorry\"\n  close\n}}\n"
        );
    }
    s
}

fn main() {
    let uri = "file:///bench/big.flow";
    let text = generate();
    let mut server = Server::default();
    let open = json!({ "textDocument": { "uri": uri, "languageId": "chatflow", "version": 1, "text": text } });
    server.notification(Notification::new("textDocument/didOpen".into(), open));
    // The keystrokes go into the last node's `say`, one character at a time.
    let at = text.rfind("sorry").unwrap();
    let line = text[..at].matches('\n').count();
    let goto_line = text[..text.rfind("goto ask_0").unwrap()]
        .matches('\n')
        .count();
    let mut typed = text.clone();
    let mut times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        typed.insert(at, 'x');
        let start = Instant::now();
        let change = json!({
            "textDocument": { "uri": uri, "version": round + 2 },
            "contentChanges": [{ "text": typed }]
        });
        let published =
            server.notification(Notification::new("textDocument/didChange".into(), change));
        assert!(!published.is_empty());
        let completion = json!({ "textDocument": { "uri": uri }, "position": { "line": goto_line, "character": 7 } });
        let answer = server.request(Request::new(
            RequestId::from(1),
            "textDocument/completion".into(),
            completion,
        ));
        assert!(answer.response_result.is_ok());
        let hover = json!({ "textDocument": { "uri": uri }, "position": { "line": line - 2, "character": 8 } });
        server.request(Request::new(
            RequestId::from(2),
            "textDocument/hover".into(),
            hover,
        ));
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "lsp_speed: {NODES} nodes ({} KB): keystroke to diagnostics + completion + hover: median {:.1} ms, worst {:.1} ms ({ROUNDS} rounds)",
        text.len() / 1024,
        ms(times[ROUNDS / 2]),
        ms(times[ROUNDS - 1])
    );
}

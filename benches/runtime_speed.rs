//! Interpreter and API connector speed.
//!
//! 1. Node transitions per second on a branching flow that never waits: set/branch/goto over
//!    number and boolean attributes and a `status` obtained by one real loopback call at the
//!    start. The turn is ended by the step limit (raised to N), so it makes exactly N entries.
//! 2. Requests per second of a flow doing one `call` per turn (`step` in a loop), next to a bare
//!    reqwest loop against the same loopback axum server.
//!
//! Run: `cargo bench --bench runtime_speed`

// Tests and benches fail by panicking; the no-panic rule is for the library and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatflow::ir::*;
use chatflow::runtime::{Engine, EngineConfig, Event};

const TRANSITIONS: u32 = 5_000_000;
const REQUESTS: usize = 4_000;
const ROUNDS: usize = 7;

fn program(nodes: Vec<(&str, Vec<Stmt>)>, attrs: &[&str], apis: Vec<Api>) -> Arc<Program> {
    Arc::new(Program {
        format_version: FORMAT_VERSION,
        min_read_version: MIN_READ_VERSION,
        bot: BotInfo {
            name: "bench".into(),
            start: 0,
            greeting: None,
            avatar: None,
            fallback: None,
            languages: vec![],
            webhook: None,
            timezone: None,
            messages: vec![],
            fallback_ai: None,
        },
        apis,
        nodes: nodes
            .into_iter()
            .map(|(n, stmts)| Node {
                name: n.into(),
                stmts,
            })
            .collect(),
        attrs: attrs
            .iter()
            .map(|a| AttrInfo {
                name: a.to_string(),
                ty: ValueType::Any,
                sensitive: false,
            })
            .collect(),
        tests: vec![],
        hours: vec![],
        flows: vec![],
        source_map: SourceMap::default(),
        understanding: None,
    })
}

fn api(url: &str) -> Api {
    Api {
        name: "ok".into(),
        method: Method::Get,
        url: Template {
            parts: vec![TemplatePart::Text(url.into())],
        },
        headers: vec![],
        body: None,
        timeout_ms: 5000,
        retry: 0,
        idempotent: false,
        internal: true,
        redirects: Redirects::SameOrigin,
        saves: vec![Save {
            attr: 2,
            path: vec![PathStep::Field("ok".into())],
        }],
        ai: None,
    }
}

fn num(n: f64) -> Expr {
    Expr::Lit(Value::Number(chatflow::ir::Number::from_f64(n)))
}
fn eq(a: Expr, b: Expr) -> Expr {
    Expr::Cmp(CmpOp::Eq, Box::new(a), Box::new(b))
}
fn arm(cond: Expr, target: NodeId) -> BranchArm {
    BranchArm { cond, target }
}

/// Nodes: 0 start (call), 1 hub, 2..4 steps, 5 end. Attrs: 0 k, 1 flag, 2 ok.
fn branching_flow(url: &str) -> Arc<Program> {
    let (k, flag) = (Expr::Attr(0), Expr::Attr(1));
    let ok_status = eq(Expr::Status, num(200.0));
    let hub = Stmt::Branch(BranchTable {
        arms: vec![
            arm(
                Expr::And(
                    Box::new(ok_status.clone()),
                    Box::new(eq(k.clone(), num(1.0))),
                ),
                2,
            ),
            arm(eq(k.clone(), num(2.0)), 3),
            arm(
                Expr::InList(Box::new(k.clone()), vec![num(3.0), num(4.0)]),
                4,
            ),
        ],
        otherwise: 5,
    });
    let back = Stmt::Branch(BranchTable {
        arms: vec![arm(
            Expr::And(
                Box::new(eq(flag, Expr::Lit(Value::Bool(true)))),
                Box::new(Expr::InRange(Box::new(Expr::Status), 200, 299)),
            ),
            1,
        )],
        otherwise: 5,
    });
    program(
        vec![
            (
                "start",
                vec![
                    Stmt::Call(0),
                    Stmt::Set {
                        attr: 0,
                        value: num(1.0),
                    },
                    Stmt::Goto(1),
                ],
            ),
            ("hub", vec![hub]),
            (
                "one",
                vec![
                    Stmt::Set {
                        attr: 0,
                        value: num(2.0),
                    },
                    Stmt::Goto(1),
                ],
            ),
            (
                "two",
                vec![
                    Stmt::Set {
                        attr: 0,
                        value: num(3.0),
                    },
                    Stmt::Set {
                        attr: 1,
                        value: Expr::IsSet(Box::new(k)),
                    },
                    Stmt::Goto(1),
                ],
            ),
            (
                "three",
                vec![
                    Stmt::Set {
                        attr: 0,
                        value: num(1.0),
                    },
                    back,
                ],
            ),
            ("end", vec![Stmt::Close]),
        ],
        &["k", "flag", "ok"],
        vec![api(url)],
    )
}

/// One `call` per turn: ask, call, back to the ask.
fn call_per_turn_flow(url: &str) -> Arc<Program> {
    program(
        vec![(
            "main",
            vec![
                Stmt::Ask {
                    attr: 0,
                    kind: AskKind::Text,
                    prompt: None,
                },
                Stmt::Call(0),
                Stmt::Goto(0),
            ],
        )],
        &["x", "unused", "ok"],
        vec![api(url)],
    )
}

fn start_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new()
                .fallback(|| async { ([("content-type", "application/json")], r#"{"ok":true}"#) });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}/ok", listener.local_addr().unwrap()))
                .unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

async fn transitions(url: &str) -> f64 {
    let config = EngineConfig {
        max_steps: TRANSITIONS,
        ..Default::default()
    };
    let engine = Engine::new(branching_flow(url), config).unwrap();
    let mut best = 0f64;
    for _ in 0..3 {
        let mut s = engine.new_session();
        let started = Instant::now();
        let events = engine.start(&mut s).await;
        let elapsed = started.elapsed();
        // The profile event opens every conversation; the call comes next.
        assert!(
            matches!(events.first(), Some(Event::Profile { .. })),
            "{events:?}"
        );
        assert!(
            matches!(events.get(1), Some(Event::ApiCall { status: 200, .. })),
            "{events:?}"
        );
        assert!(
            matches!(events.last(), Some(Event::RuntimeError { .. })),
            "{events:?}"
        );
        best = best.max(f64::from(TRANSITIONS) / elapsed.as_secs_f64());
    }
    best
}

async fn bare_loop(client: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let body = response.bytes().await.unwrap();
        assert!(!body.is_empty());
    }
    started.elapsed()
}

async fn flow_loop(engine: &Engine) -> Duration {
    let mut s = engine.new_session();
    engine.start(&mut s).await;
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let events = engine.step(&mut s, "go").await;
        assert!(
            matches!(events.first(), Some(Event::ApiCall { status: 200, .. })),
            "{events:?}"
        );
    }
    started.elapsed()
}

fn main() {
    let url = start_server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let rate = transitions(&url).await;
        println!("node transitions: {:>12.0} /s  (target >= 1,000,000)", rate);

        let client = reqwest::Client::new();
        let engine = Engine::new(call_per_turn_flow(&url), EngineConfig::default()).unwrap();
        // Warm up both connection pools, then alternate and keep the best of each.
        bare_loop(&client, &url).await;
        flow_loop(&engine).await;
        let (mut bare, mut flow) = (Duration::MAX, Duration::MAX);
        // Loopback timings on two shared cores swing by ~10 % run to run; more rounds make the
        // best-of figures (and so the ratio) steadier.
        for _ in 0..ROUNDS {
            bare = bare.min(bare_loop(&client, &url).await);
            flow = flow.min(flow_loop(&engine).await);
        }
        let per_s = |d: Duration| REQUESTS as f64 / d.as_secs_f64();
        println!("bare reqwest loop: {:>10.0} req/s", per_s(bare));
        println!("flow, call/turn:   {:>10.0} req/s", per_s(flow));
        println!(
            "ratio flow/bare:   {:>10.1} %  (target >= 90 %)",
            100.0 * per_s(flow) / per_s(bare)
        );
    });
}

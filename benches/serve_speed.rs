//! `chatflow serve` throughput: turns per second and latency through HTTP with SQLite
//! persistence, at 1, 16 and 256 concurrent conversations, next to the same turns through the
//! library alone (no HTTP, no store), so the cost of each layer shows.
//!
//! Each conversation runs a counting flow (one `say` and one `ask` per turn); each client
//! sends its conversation's messages one after another over a kept-alive loopback connection.
//!
//! Run: `cargo bench --bench serve_speed` (optionally `-- TURNS_PER_CONVERSATION`).

// Tests and benches fail by panicking; the no-panic rule is for the library and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatflow::runtime::{Engine, EngineConfig};
use chatflow::serve::ServeOptions;
use chatflow::store::Store;

const LEVELS: [usize; 3] = [1, 16, 256];

fn counter_flow(n: usize) -> String {
    let mut flow = String::from("bot \"Counter\" {\n  start c0\n}\n");
    for k in 0..n {
        flow.push_str(&format!(
            "node c{k} {{\n  say \"count {k}\"\n  ask word\n  goto c{}\n}}\n",
            k + 1
        ));
    }
    flow.push_str(&format!("node c{n} {{\n  close\n}}\n"));
    flow
}

fn engine(turns: usize) -> Engine {
    let compiled = chatflow::compile::compile_str("bench.flow", &counter_flow(turns + 1));
    let program = compiled.program.expect("the bench flow compiles");
    Engine::new(Arc::new(program), EngineConfig::default()).expect("engine")
}

/// p50 and p99 of `samples` (sorted in place), in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    (at(0.50), at(0.99))
}

/// Turns through the library: `step` on in-memory sessions, `conversations` at once.
async fn library(engine: &Engine, conversations: usize, turns: usize) -> (f64, Vec<Duration>) {
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conversations {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = engine.new_session();
            engine.start(&mut s).await;
            let mut latencies = Vec::with_capacity(turns);
            for _ in 0..turns {
                let t = Instant::now();
                std::hint::black_box(engine.step(&mut s, "next").await);
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    (
        (conversations * turns) as f64 / began.elapsed().as_secs_f64(),
        all,
    )
}

/// Turns through `serve`: HTTP on loopback, SQLite in a temp file.
async fn http(base: &str, conversations: usize, turns: usize) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conversations)
        .build()
        .expect("client");
    let mut opened = Vec::new();
    for _ in 0..conversations {
        let r = client
            .post(format!("{base}/api/conversations"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("open");
        let v: serde_json::Value =
            serde_json::from_str(&r.text().await.expect("body")).expect("json");
        opened.push((
            v["id"].as_str().unwrap_or_default().to_string(),
            v["token"].as_str().unwrap_or_default().to_string(),
        ));
    }
    let began = Instant::now();
    let mut tasks = Vec::new();
    for (id, token) in opened {
        let (client, url) = (
            client.clone(),
            format!("{base}/api/conversations/{id}/messages"),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(turns);
            for k in 0..turns {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(format!("{{\"text\": \"next\", \"message_id\": \"m{k}\"}}"))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status().as_u16(), 200);
                std::hint::black_box(r.bytes().await.expect("body"));
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    (
        (conversations * turns) as f64 / began.elapsed().as_secs_f64(),
        all,
    )
}

fn main() {
    let turns: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(40);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let engine = engine(turns);
        let dir = std::env::temp_dir().join(format!("chatflow-serve-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        println!("{turns} turns per conversation; turns/s, p50 and p99 latency in ms");
        println!("{:>13} | {:>30} | {:>30}", "conversations", "library (no HTTP, no store)", "serve (HTTP + SQLite)");
        for (i, &n) in LEVELS.iter().enumerate() {
            let (lib_rate, mut lib_lat) = library(&engine, n, turns).await;
            let store = Store::open_sqlite(&dir.join(format!("bench-{i}.db"))).await.expect("store");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("addr"));
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(chatflow::serve::serve(listener, engine.clone(), store, ServeOptions::default(), async {
                let _ = stopped.await;
            }));
            let (http_rate, mut http_lat) = http(&base, n, turns).await;
            let _ = stop.send(());
            let _ = server.await;
            let (lp50, lp99) = percentiles(&mut lib_lat);
            let (hp50, hp99) = percentiles(&mut http_lat);
            println!(
                "{n:>13} | {lib_rate:>10.0}/s {lp50:>7.3} {lp99:>8.3} | {http_rate:>10.0}/s {hp50:>7.3} {hp99:>8.3}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}

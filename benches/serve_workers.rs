//! `chatflow serve` worker processes on PostgreSQL, one and three, beside one on SQLite: turns
//! per second and p50/p99 latency through HTTP.
//!
//! Starts a throwaway PostgreSQL cluster the way the test suite does (`tests/it/serve/pg.rs`:
//! `initdb` and `pg_ctl` from PATH or `/usr/lib/postgresql/*/bin`, removed afterwards) and runs
//! the real `chatflow` binary as the workers. A counting flow (`set n = n + 1`, one `say`, one
//! `ask` per turn); each conversation's client sends its messages one after another. "sticky"
//! sends a conversation's messages to one worker (as a load balancer routing by conversation
//! id would); "spread" sends each message to the next worker in turn, so workers race on one
//! conversation and the compare-and-swap reruns turns.
//!
//! Run: `cargo bench --bench serve_workers` (optionally `-- CONVERSATIONS TURNS`, default 64 40).
//! The cluster runs with `fsync=off`, like the test cluster: the figures are the service's cost,
//! not a disk's.

// Tests and benches fail by panicking; the no-panic rule is for the library and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "../tests/it/serve/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use common::{gather, percentiles, start_worker, TempDir, Worker};

const COUNTER: &str = include_str!("../tests/flows/counter.flow");

/// Runs the load over `bases`; turns/s and the latencies.
async fn load(
    bases: &[String],
    conversations: usize,
    turns: usize,
    spread: bool,
) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conversations)
        .build()
        .expect("client");
    let mut opened = Vec::new();
    for k in 0..conversations {
        let r = client
            .post(format!("{}/api/conversations", bases[k % bases.len()]))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("open");
        let v: serde_json::Value =
            serde_json::from_str(&r.text().await.expect("body")).expect("json");
        opened.push((
            k,
            v["id"].as_str().unwrap().to_string(),
            v["token"].as_str().unwrap().to_string(),
        ));
    }
    let began = Instant::now();
    let mut tasks = Vec::new();
    for (k, id, token) in opened {
        let (client, bases) = (client.clone(), bases.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(turns);
            for t in 0..turns {
                let w = if spread {
                    (k + t) % bases.len()
                } else {
                    k % bases.len()
                };
                let started = Instant::now();
                let r = client
                    .post(format!("{}/api/conversations/{id}/messages", bases[w]))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(format!("{{\"text\": \"next\", \"message_id\": \"m{t}\"}}"))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status().as_u16(), 200);
                let body = r.text().await.expect("body");
                assert!(
                    body.contains(&format!("count {} next", t + 1)),
                    "a lost update: {body}"
                );
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    gather(tasks, conversations * turns, began).await
}

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let conversations = numbers.first().copied().unwrap_or(64);
    let turns = numbers.get(1).copied().unwrap_or(40);
    common::runtime().block_on(async {
        let dir = TempDir::new("workers");
        let flow = dir.join("counter.flow");
        std::fs::write(&flow, COUNTER).expect("flow");
        println!(
            "{conversations} conversations x {turns} turns; turns/s, p50 and p99 latency in ms"
        );
        let sqlite = dir.join("bench.db").to_string_lossy().into_owned();
        let mut setups: Vec<(String, String, usize, bool)> =
            vec![("SQLite, 1 worker".into(), sqlite, 1, false)];
        for (label, workers, spread) in [
            ("PostgreSQL, 1 worker", 1, false),
            ("PostgreSQL, 3 workers, sticky", 3, false),
            ("PostgreSQL, 3 workers, spread", 3, true),
        ] {
            match pg::database().await {
                Some(url) => setups.push((label.into(), url, workers, spread)),
                None => println!("{label}: skipped, no PostgreSQL server programs"),
            }
        }
        for (label, store, workers, spread) in setups {
            let started: Vec<Worker> = (0..workers)
                .map(|_| start_worker(&flow, &store, "warn"))
                .collect();
            let bases: Vec<String> = started.iter().map(|w| w.base.clone()).collect();
            let (rate, mut latencies) = load(&bases, conversations, turns, spread).await;
            let (p50, p99) = percentiles(&mut latencies);
            println!("{label:>32} | {rate:>8.0}/s {p50:>8.2} {p99:>8.2}");
            drop(started);
        }
    });
}

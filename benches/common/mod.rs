//! What the serve benchmarks share: gathering the clients' latencies and summarising them.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

/// p50 and p99 of `samples` (sorted in place), in milliseconds.
pub fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    (at(0.50), at(0.99))
}

/// Waits for every client task; turns per second since `began` for `turns` turns in all, and
/// every latency.
pub async fn gather(
    tasks: Vec<JoinHandle<Vec<Duration>>>,
    turns: usize,
    began: Instant,
) -> (f64, Vec<Duration>) {
    let mut all = Vec::with_capacity(turns);
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    (turns as f64 / began.elapsed().as_secs_f64(), all)
}

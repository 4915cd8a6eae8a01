//! What the serve benchmarks share: starting `chatflow serve` processes, gathering the
//! clients' latencies and summarising them.
// Each bench uses a part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

/// The two-worker multi-thread runtime the benches drive their load from (2 cores here).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A fresh directory under the system's temporary directory for one bench run (flows, SQLite
/// files), removed when dropped, also when the bench panics.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `chatflow-NAME-bench-PID`, emptied first.
    pub fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("chatflow-{name}-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn join(&self, file: impl AsRef<std::path::Path>) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// CPU time of the threads of process `pid` (`"self"` or a number) whose name starts with
/// `name`, from `/proc/PID/task/*/schedstat`: on a busy machine wall-clock figures swing with
/// the neighbours' load, CPU time much less.
pub fn threads_cpu(pid: &str, name: &str) -> Duration {
    let run_ns = |dir: &std::path::Path| -> u64 {
        std::fs::read_to_string(dir.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let total = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|task| task.path())
        .filter(|dir| std::fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.starts_with(name)))
        .map(|dir| run_ns(&dir))
        .sum();
    Duration::from_nanos(total)
}

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

/// A `chatflow serve` process, killed when dropped.
pub struct Worker {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, from its ready line.
    pub base: String,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real `chatflow serve` binary on `flow` and `store` (conversations never expire)
/// with `CHATFLOW_LOG=log`, its log thrown away; returns once it is listening.
pub fn start_worker(flow: &std::path::Path, store: &str, log: &str) -> Worker {
    // `CHATFLOW_BIN` measures another build of the server (a copy kept aside, or a wrapper
    // such as valgrind's) under the same load.
    let bin =
        std::env::var_os("CHATFLOW_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_chatflow").into());
    let mut child = Command::new(bin)
        .arg("serve")
        .arg(flow)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--session-ttl",
            "off",
            "--store",
            store,
        ])
        .env("CHATFLOW_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chatflow serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected the ready line, got {line:?}"))
        .to_string();
    Worker { child, base }
}

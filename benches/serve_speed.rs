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

mod common;

use std::sync::Arc;

// The allocator the `chatflow` binary runs with, so the figures are those of `chatflow serve`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

use chatflow::runtime::{Engine, EngineConfig};
use chatflow::serve::ServeOptions;
use chatflow::store::Store;
use common::{gather, percentiles, threads_cpu, TempDir};

/// The server runtime's worker threads: "tokio-rt-worker" (older tokio: "tokio-runtime-worker").
const SERVER_THREADS: &str = "tokio-r";

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
    gather(tasks, conversations * turns, began).await
}

/// A minimal HTTP/1.1 keep-alive client over one loopback connection, as a load generator
/// like `wrk` is: it writes a request and reads the answer by `content-length`, so nearly all
/// the CPU a turn costs is the server's, not the client's.
struct RawClient {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    async fn connect(addr: std::net::SocketAddr) -> RawClient {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        RawClient {
            stream,
            buf: Vec::with_capacity(4096),
        }
    }

    /// POSTs `body` to `path` and returns the status and the answer's body.
    async fn post(&mut self, path: &str, token: Option<&str>, body: &str) -> (u16, Vec<u8>) {
        use tokio::io::AsyncWriteExt;
        let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n{auth}content-length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write");
        self.buf.clear();
        loop {
            if let Some(head_end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..head_end]).expect("head");
                let status: u16 = head[9..12].parse().expect("status");
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .expect("content-length");
                let total = head_end + 4 + length;
                while self.buf.len() < total {
                    self.read_more().await;
                }
                return (status, self.buf[head_end + 4..total].to_vec());
            }
            self.read_more().await;
        }
    }

    async fn read_more(&mut self) {
        use tokio::io::AsyncReadExt;
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Turns through `serve`: HTTP on loopback, SQLite in a temp file. One connection per
/// conversation, each sending its messages one after another.
async fn http(
    addr: std::net::SocketAddr,
    conversations: usize,
    turns: usize,
) -> (f64, Vec<Duration>) {
    let mut opened = Vec::new();
    for _ in 0..conversations {
        let mut client = RawClient::connect(addr).await;
        let (status, body) = client.post("/api/conversations", None, "{}").await;
        assert_eq!(status, 201);
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let id = v["id"].as_str().unwrap_or_default().to_string();
        let token = v["token"].as_str().unwrap_or_default().to_string();
        opened.push((client, id, token));
    }
    let began = Instant::now();
    let mut tasks = Vec::new();
    for (mut client, id, token) in opened {
        tasks.push(tokio::spawn(async move {
            let path = format!("/api/conversations/{id}/messages");
            let mut latencies = Vec::with_capacity(turns);
            for k in 0..turns {
                let t = Instant::now();
                let body = format!("{{\"text\": \"next\", \"message_id\": \"m{k}\"}}");
                let (status, answer) = client.post(&path, Some(&token), &body).await;
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
                std::hint::black_box(answer);
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    gather(tasks, conversations * turns, began).await
}

/// CPU time used by this process's threads whose name starts with `name`, or by the calling
/// thread when `name` is `None`, in nanoseconds from `/proc/.../schedstat`: on a busy machine
/// wall-clock rates swing with the neighbours' load, CPU time per turn much less.
fn cpu_time(name: Option<&str>) -> Duration {
    match name {
        None => std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .map_or(Duration::ZERO, Duration::from_nanos),
        Some(name) => threads_cpu("self", name),
    }
}

/// The load generator runs on its own thread and single-threaded runtime, apart from the
/// server's runtime, so client tasks never sit in the server's run queues.
/// Also returns the CPU time the load generator used.
fn drive(
    addr: std::net::SocketAddr,
    conversations: usize,
    turns: usize,
) -> (f64, Vec<Duration>, Duration) {
    std::thread::Builder::new()
        .name("bench-client".into())
        .spawn(move || {
            let (rate, latencies) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("client runtime")
                .block_on(http(addr, conversations, turns));
            (rate, latencies, cpu_time(None))
        })
        .expect("client thread")
        .join()
        .expect("client thread")
}

fn main() {
    let turns: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(40);
    // The log `chatflow serve` writes by default (one info line per turn, text), formatted in
    // full but thrown away rather than written to the terminal.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_ansi(false)
        .with_writer(std::io::sink)
        .try_init();
    // The server's runtime as `chatflow serve` builds it on a 2-core machine.
    let runtime = common::runtime();
    let engine = engine(turns);
    let dir = TempDir::new("serve");
    println!("{turns} turns per conversation; turns/s, p50 and p99 latency in ms;");
    println!(
        "CPU per turn in microseconds: the server's runtime, its SQLite thread, the load generator"
    );
    println!(
        "{:>13} | {:>30} | {:>30} | {:>20}",
        "conversations",
        "library (no HTTP, no store)",
        "serve (HTTP + SQLite)",
        "CPU server/store/client"
    );
    for (i, &n) in LEVELS.iter().enumerate() {
        let (lib_rate, mut lib_lat) = runtime.block_on(library(&engine, n, turns));
        let (addr, stop, server) = runtime.block_on(async {
            let store = Store::open_sqlite(&dir.join(format!("bench-{i}.db")))
                .await
                .expect("store");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(chatflow::serve::serve(
                listener,
                engine.clone(),
                store,
                ServeOptions::default(),
                async {
                    let _ = stopped.await;
                },
            ));
            (addr, stop, server)
        });
        let (server_before, store_before) = (
            cpu_time(Some(SERVER_THREADS)),
            cpu_time(Some("chatflow-sqlite")),
        );
        let (http_rate, mut http_lat, client_cpu) = drive(addr, n, turns);
        let per_turn = |d: Duration| d.as_secs_f64() * 1e6 / (n * turns) as f64;
        let server_cpu = per_turn(cpu_time(Some(SERVER_THREADS)).saturating_sub(server_before));
        let store_cpu = per_turn(cpu_time(Some("chatflow-sqlite")).saturating_sub(store_before));
        let client_cpu = per_turn(client_cpu);
        let _ = stop.send(());
        let _ = runtime.block_on(server);
        // Let this level's store thread end before the next level counts CPU time.
        std::thread::sleep(Duration::from_millis(200));
        let (lp50, lp99) = percentiles(&mut lib_lat);
        let (hp50, hp99) = percentiles(&mut http_lat);
        println!(
            "{n:>13} | {lib_rate:>10.0}/s {lp50:>7.3} {lp99:>8.3} | {http_rate:>10.0}/s {hp50:>7.3} {hp99:>8.3} | {server_cpu:>6.0} {store_cpu:>6.0} {client_cpu:>6.0}"
        );
    }
}

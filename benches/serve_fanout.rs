//! 10,000 conversations at once, each waiting on an API that takes 100 ms: are all answered,
//! how long the burst takes, how much memory `chatflow serve` needs for it, and how many bytes
//! an idle conversation keeps in the store. On SQLite, and on PostgreSQL when its server
//! programs are present (a throwaway cluster, as in `tests/it/serve/pg.rs`).
//!
//! Three roles, two processes:
//! - the server is the real `chatflow` binary (`chatflow serve`, default log level, its log
//!   thrown away), so its peak memory is its own (`VmHWM` in `/proc/PID/status`);
//! - the stub API (in this process, on a runtime of its own) answers every call after
//!   sleeping 100 ms;
//! - the load generator (in this process) opens the conversations, then sends one message to
//!   each, all at once, and waits until every one is answered; each answer must carry the text
//!   the API returned for that conversation.
//!
//! Each burst prints the CPU time of the three apart (the server's runtime and its SQLite
//! thread, the stub's threads, the load generator's), since on 2 cores they compete, and the
//! stored size of one idle conversation just opened and after its messages.
//!
//! Sockets: the flow's API calls are HTTP/1.1, so 10,000 calls in flight would hold 10,000
//! connections from the server to the stub, and as many accepted by the stub (`serve` lets at
//! most 2,048 calls be in flight to one origin by default, `--max-calls-per-origin`; each burst
//! prints how many connections the stub accepted). With the
//! visitors on HTTP/1.1 too the server process would need 20,000 descriptors, this machine's
//! hard limit. So the load generator speaks HTTP/2 (prior knowledge; `serve` accepts it on the
//! same port), as a load balancer or a chat gateway in front of the workers would: 64
//! connections carrying up to 200 streams each (hyper's default per-connection limit). The
//! stub listens with several `SO_REUSEPORT` sockets so 10,000 connects at once do not overflow
//! one accept queue (`somaxconn`). The soft open-file limit is raised to the hard one.
//!
//! Run: `cargo bench --bench serve_fanout` (optionally `-- CONVERSATIONS [sqlite|postgres]`,
//! default 10000 and both).

// Tests and benches fail by panicking; the no-panic rule is for the library and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "../tests/it/serve/pg.rs"]
mod pg;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{percentiles, start_worker, threads_cpu, TempDir, Worker};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http2::SendRequest;

// The allocator the `chatflow` binary runs with: the stub and the load generator share the
// two cores with the server, so they should not pay more per allocation than it does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long the stub API takes to answer.
const API_DELAY: Duration = Duration::from_millis(100);

/// Connections the stub API has accepted: how many the server's pool opened in a burst.
static STUB_CONNECTIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The load generator's HTTP/2 connections to the server.
const CONNECTIONS: usize = 64;

/// Messages sent to each conversation, one burst each: the first burst finds the server's
/// connection pool to the API empty, the second finds it warm.
const BURSTS: usize = 2;

fn flow(stub_port: u16) -> String {
    format!(
        r#"bot "Fan-out" {{
  start greet
}}

api lookup {{
  live
  internal
  get "http://127.0.0.1:{stub_port}/lookup?q={{word}}"
  timeout 10s
  save answer = body.answer
}}

node greet {{
  say "Hello, what shall I look up?"
  ask word
  goto lookup
}}

node lookup {{
  call lookup
  if status == 200 -> found
  else -> failed
}}

node found {{
  say "{{answer}}"
  ask word
  goto lookup
}}

node failed {{
  say "The lookup failed."
  ask word
  goto lookup
}}
"#
    )
}

/// Raises the soft open-file limit to the hard one (the server process inherits it); returns
/// the new soft limit.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            let _ = libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        }
    }
    limit.rlim_cur
}

/// The stub API's runtime: threads of its own (`stub-api`), so its CPU time is told apart
/// from the load generator's.
fn stub_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("stub-api")
        .enable_all()
        .build()
        .expect("stub runtime")
}

/// The stub API: `GET /lookup?q=WORD` answers `{"answer": "WORD checked"}` after
/// [`API_DELAY`]. Several listeners share the port (`SO_REUSEPORT`), each with its own accept
/// queue. Plain hyper HTTP/1.1 (keep-alive), as lean as a real API's front would be: the
/// server's calls are what is measured, not the stub's framework. Runs on the runtime that
/// calls it.
async fn start_stub() -> u16 {
    let mut port = 0;
    for _ in 0..4 {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_reuseport(true).expect("SO_REUSEPORT");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(([127, 0, 0, 1], port).into())
            .expect("bind the stub");
        let listener = socket.listen(4096).expect("listen");
        port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                STUB_CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper::service::service_fn(stub_answer),
                ));
            }
        });
    }
    port
}

/// One call to the stub API: the word of `q`, checked, as JSON; 404 off `/lookup`.
async fn stub_answer(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    if req.uri().path() != "/lookup" {
        let mut missing = hyper::Response::new(Full::new(Bytes::new()));
        *missing.status_mut() = hyper::StatusCode::NOT_FOUND;
        return Ok(missing);
    }
    tokio::time::sleep(API_DELAY).await;
    let word = form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let body = serde_json::to_vec(&serde_json::json!({ "answer": format!("{word} checked") }))
        .expect("json");
    let mut answer = hyper::Response::new(Full::new(Bytes::from(body)));
    answer.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(answer)
}

/// `KEY:` of `/proc/PID/status`, in KiB.
fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// The load generator: [`CONNECTIONS`] HTTP/2 connections to the server (hyper's client
/// connection, no pool or middleware on top), each carrying many requests at once.
struct Load {
    connections: Vec<SendRequest<Full<Bytes>>>,
    base: String,
}

/// One request: `POST url` with a JSON body (and a bearer token); the status and the body.
async fn post(
    mut conn: SendRequest<Full<Bytes>>,
    url: String,
    token: Option<String>,
    body: String,
) -> Result<(u16, Bytes), String> {
    let mut req = hyper::Request::post(url).header("content-type", "application/json");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    conn.ready().await.map_err(|e| e.to_string())?;
    let r = conn.send_request(req).await.map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body = r.into_body().collect().await.map_err(|e| e.to_string())?;
    Ok((status, body.to_bytes()))
}

impl Load {
    async fn new(base: &str) -> Load {
        let addr = base.strip_prefix("http://").expect("http base").to_string();
        let mut connections = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let stream = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (sender, connection) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(stream),
            )
            .await
            .expect("HTTP/2 handshake");
            tokio::spawn(connection);
            connections.push(sender);
        }
        Load {
            connections,
            base: base.to_string(),
        }
    }

    /// Opens `n` conversations, at most 512 at a time; their ids and tokens.
    async fn open(&self, n: usize) -> Vec<(String, String)> {
        let gate = Arc::new(tokio::sync::Semaphore::new(512));
        let mut tasks = Vec::with_capacity(n);
        for k in 0..n {
            let conn = self.connections[k % CONNECTIONS].clone();
            let url = format!("{}/api/conversations", self.base);
            let gate = Arc::clone(&gate);
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await.expect("gate");
                let (status, body) = post(conn, url, None, "{}".into()).await.expect("open");
                assert_eq!(status, 201);
                let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["token"].as_str().unwrap().to_string(),
                )
            }));
        }
        let mut opened = Vec::with_capacity(n);
        for t in tasks {
            opened.push(t.await.expect("task"));
        }
        opened
    }

    /// One message to every conversation at once. How many answers carried the API's answer,
    /// the wall time until the last answer, and each message's latency.
    async fn burst(
        &self,
        conversations: &[(String, String)],
        round: usize,
    ) -> (usize, Duration, Vec<Duration>) {
        let began = Instant::now();
        let mut tasks = Vec::with_capacity(conversations.len());
        for (k, (id, token)) in conversations.iter().enumerate() {
            let conn = self.connections[k % CONNECTIONS].clone();
            let url = format!("{}/api/conversations/{id}/messages", self.base);
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let word = format!("w{k}r{round}");
                let started = Instant::now();
                let body = format!(r#"{{"text": "{word}", "message_id": "m{round}"}}"#);
                let answered = match post(conn, url, Some(token), body).await {
                    Ok((200, body)) => std::str::from_utf8(&body)
                        .is_ok_and(|body| body.contains(&format!("{word} checked"))),
                    _ => false,
                };
                (answered, started.elapsed())
            }));
        }
        let mut answered = 0;
        let mut latencies = Vec::with_capacity(conversations.len());
        for t in tasks {
            let (ok, latency) = t.await.expect("task");
            answered += usize::from(ok);
            latencies.push(latency);
        }
        (answered, began.elapsed(), latencies)
    }
}

/// Bytes of one stored value as the bench counts it: text and blobs by length, numbers as 8.
fn sqlite_value_bytes(v: rusqlite::types::ValueRef<'_>) -> usize {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => 0,
        ValueRef::Integer(_) | ValueRef::Real(_) => 8,
        ValueRef::Text(b) | ValueRef::Blob(b) => b.len(),
    }
}

/// The stored bytes of the rows of `table` where `column = id`, by column name.
fn sqlite_row_bytes(
    conn: &rusqlite::Connection,
    table: &str,
    column: &str,
    id: &str,
    by_column: &mut Vec<(String, usize)>,
) {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} WHERE {column} = ?1"))
        .expect("prepare");
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([id]).expect("query");
    while let Some(row) = rows.next().expect("row") {
        for (i, name) in names.iter().enumerate() {
            let bytes = sqlite_value_bytes(row.get_ref(i).expect("value"));
            let key = format!("{table}.{name}");
            match by_column.iter_mut().find(|(k, _)| *k == key) {
                Some((_, total)) => *total += bytes,
                None => by_column.push((key, bytes)),
            }
        }
    }
}

/// Pages in use times the page size.
fn sqlite_used_bytes(conn: &rusqlite::Connection) -> u64 {
    let pragma = |name: &str| -> u64 {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0))
            .expect("pragma") as u64
    };
    (pragma("page_count") - pragma("freelist_count")) * pragma("page_size")
}

/// What one idle conversation keeps, on SQLite: its values column by column, and the file's
/// used pages per conversation beyond the empty store's.
fn sqlite_sizes(path: &str, id: &str, n: usize, empty: u64) -> (Vec<(String, usize)>, f64) {
    let conn = rusqlite::Connection::open(path).expect("open the store");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    let mut by_column = Vec::new();
    sqlite_row_bytes(&conn, "conversations", "id", id, &mut by_column);
    sqlite_row_bytes(&conn, "turns", "conversation", id, &mut by_column);
    let per = (sqlite_used_bytes(&conn) - empty) as f64 / n as f64;
    (by_column, per)
}

const PG_TABLES: &str =
    "pg_total_relation_size('conversations') + pg_total_relation_size('turns') \
                         + pg_total_relation_size('outbox')";

/// What one idle conversation keeps, on PostgreSQL: its values column by column
/// (`pg_column_size`, after compression), its rows (`pg_column_size` of the row: with the
/// tuple headers), and the tables with their indexes per conversation beyond the empty ones.
async fn postgres_sizes(
    url: &str,
    id: &str,
    n: usize,
    empty: i64,
) -> (Vec<(String, usize)>, usize, f64) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client.batch_execute("VACUUM").await.expect("vacuum");
    let mut by_column = Vec::new();
    let mut rows_total = 0;
    for (table, column) in [("conversations", "id"), ("turns", "conversation")] {
        let names: Vec<String> = client
            .query(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_name = $1 ORDER BY ordinal_position",
                &[&table],
            )
            .await
            .expect("columns")
            .iter()
            .map(|r| r.get(0))
            .collect();
        let sums: Vec<String> = names
            .iter()
            .map(|c| format!("COALESCE(SUM(pg_column_size({c})), 0)::bigint"))
            .collect();
        let row = client
            .query_one(
                &format!(
                    "SELECT {}, COALESCE(SUM(pg_column_size(x.*)), 0)::bigint FROM {table} x WHERE {column} = $1",
                    sums.join(", ")
                ),
                &[&id],
            )
            .await
            .expect("sizes");
        for (i, name) in names.iter().enumerate() {
            by_column.push((format!("{table}.{name}"), row.get::<_, i64>(i) as usize));
        }
        rows_total += row.get::<_, i64>(names.len()) as usize;
    }
    let total: i64 = client
        .query_one(&format!("SELECT ({PG_TABLES})::bigint"), &[])
        .await
        .expect("relation sizes")
        .get(0);
    (by_column, rows_total, (total - empty) as f64 / n as f64)
}

async fn postgres_empty_size(url: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .query_one(&format!("SELECT ({PG_TABLES})::bigint"), &[])
        .await
        .expect("relation sizes")
        .get(0)
}

fn print_columns(when: &str, by_column: &[(String, usize)]) {
    let total: usize = by_column.iter().map(|(_, b)| b).sum();
    let shown: Vec<String> = by_column
        .iter()
        .filter(|(_, b)| *b > 0)
        .map(|(k, b)| format!("{k} {b}"))
        .collect();
    println!(
        "    {when}: values of one idle conversation: {total} bytes ({})",
        shown.join(", ")
    );
}

/// What one idle conversation keeps in the store now (see [`sqlite_sizes`] and
/// [`postgres_sizes`]), printed under `when`.
async fn print_sizes(when: &str, store: &str, id: &str, n: usize, empty: i64) {
    if store.starts_with("postgres") {
        let (by_column, rows, per) = postgres_sizes(store, id, n, empty).await;
        print_columns(when, &by_column);
        println!("      its rows with tuple headers: {rows} bytes; tables and indexes: {per:.0} bytes per conversation");
    } else {
        let (by_column, per) = sqlite_sizes(store, id, n, empty as u64);
        print_columns(when, &by_column);
        println!("      store file: {per:.0} bytes per conversation (used pages beyond the empty store, / {n})");
    }
}

/// CPU time of the server (its runtime, its SQLite thread), the stub API and the load
/// generator, in that order.
fn cpu_split(pid: u32) -> [Duration; 4] {
    let pid = pid.to_string();
    [
        threads_cpu(&pid, "tokio-r"),
        threads_cpu(&pid, "chatflow-sqlite"),
        threads_cpu("self", "stub-api"),
        threads_cpu("self", "tokio-r"),
    ]
}

async fn run(label: &str, flow_path: &std::path::Path, store: &str, n: usize) {
    let sqlite = !store.starts_with("postgres");
    let server: Worker = start_worker(flow_path, store, "info");
    let pid = server.child.id();
    let empty = if sqlite {
        let conn = rusqlite::Connection::open(store).expect("open the store");
        sqlite_used_bytes(&conn) as i64
    } else {
        postgres_empty_size(store).await
    };
    let load = Load::new(&server.base).await;
    let began = Instant::now();
    let conversations = load.open(n).await;
    let opened = began.elapsed();
    let rss_open = proc_status_kib(pid, "VmRSS:");
    println!(
        "{label}: {n} conversations opened in {:.2} s; server RSS {:.0} MiB",
        opened.as_secs_f64(),
        rss_open as f64 / 1024.0
    );
    let id = &conversations[0].0;
    print_sizes("after opening (1 turn)", store, id, n, empty).await;
    for round in 1..=BURSTS {
        let before = cpu_split(pid);
        let accepted = STUB_CONNECTIONS.load(std::sync::atomic::Ordering::Relaxed);
        let (answered, wall, mut latencies) = load.burst(&conversations, round).await;
        let after = cpu_split(pid);
        let opened = STUB_CONNECTIONS.load(std::sync::atomic::Ordering::Relaxed) - accepted;
        let [runtime, sqlite_thread, stub, client] =
            [0, 1, 2, 3].map(|i| after[i].saturating_sub(before[i]).as_secs_f64());
        let (p50, p99) = percentiles(&mut latencies);
        println!(
            "  burst {round} ({}): {answered}/{n} answered with the API's answer in {:.2} s \
             (p50 {p50:.0} ms, p99 {p99:.0} ms); CPU s: server {:.2} (runtime {runtime:.2}, \
             SQLite thread {sqlite_thread:.2}), stub API {stub:.2}, load generator {client:.2}; \
             server peak RSS {:.0} MiB; {opened} new connections to the API",
            if round == 1 {
                "cold API pool"
            } else {
                "warm API pool"
            },
            wall.as_secs_f64(),
            runtime + sqlite_thread,
            proc_status_kib(pid, "VmHWM:") as f64 / 1024.0
        );
    }
    if sqlite {
        // Stop the server first, so its last WAL frames are checkpointed into the file.
        // SAFETY: kill sends a signal to our own child.
        unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        }
        let mut server = server;
        let _ = server.child.wait();
        print_sizes("after the bursts (3 turns)", store, id, n, empty).await;
    } else {
        print_sizes("after the bursts (3 turns)", store, id, n, empty).await;
        drop(server);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000usize);
    let only = args
        .iter()
        .find(|a| a.as_str() == "sqlite" || a.as_str() == "postgres");
    let limit = raise_fd_limit();
    println!(
        "open-file limit {limit}; {n} conversations, each message waits on an API taking {} ms",
        API_DELAY.as_millis()
    );
    let stub = stub_runtime();
    let port = stub.block_on(start_stub());
    common::runtime().block_on(async {
        let dir = TempDir::new("fanout");
        let flow_path = dir.join("fanout.flow");
        std::fs::write(&flow_path, flow(port)).expect("flow");
        if only.is_none_or(|o| o == "sqlite") {
            let store = dir.join("fanout.db").to_string_lossy().into_owned();
            run("SQLite", &flow_path, &store, n).await;
        }
        if only.is_none_or(|o| o == "postgres") {
            match pg::database().await {
                Some(url) => run("PostgreSQL", &flow_path, &url, n).await,
                None => println!("PostgreSQL: skipped, no PostgreSQL server programs"),
            }
        }
    });
    drop(stub);
}

//! The real `chatflow serve` process: the ready line, a clean stop on signals, and what a
//! kill does not lose.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::serve::support::{counter_flow, read, says, TempDir, TestStore};
use serde_json::json;

/// A running `chatflow serve` and its base URL.
pub struct Process {
    pub child: Child,
    pub base: String,
    /// Lines printed on stdout after the ready line.
    pub stray: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `chatflow serve FLOW --addr 127.0.0.1:0 --store DB ARGS` and waits for the
    /// ready line.
    pub fn start(flow: &Path, db: &Path, args: &[&str], env: &[(&str, &str)]) -> Process {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chatflow"));
        cmd.arg("serve")
            .arg(flow)
            .args(["--addr", "127.0.0.1:0", "--store"])
            .arg(db)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("chatflow serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let base = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("expected the ready line, got {first:?}"))
            .to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        // Nothing else may come on stdout: keep what does, for tests to look at.
        let stray = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&stray);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                seen.lock().unwrap().push(line);
            }
        });
        Process { child, base, stray }
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn write_flow(dir: &TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path(name);
    std::fs::write(&path, text).expect("write flow");
    path
}

#[tokio::test]
async fn serve_prints_one_ready_line_and_stops_cleanly_on_sigterm_and_sigint() {
    let dir = TempDir::new("serve-proc");
    let flow = write_flow(&dir, "c.flow", &counter_flow(5));
    let db = dir.path("s.db");
    for signal in ["TERM", "INT"] {
        let mut p = Process::start(&flow, &db, &[], &[]);
        let client = reqwest::Client::new();
        let (status, opened) = read(
            client
                .post(p.url("/api/conversations"))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(says(&opened), ["count 0"]);
        p.signal(signal);
        let stray = Arc::clone(&p.stray);
        let status = tokio::task::spawn_blocking(move || {
            let status = p.child.wait().expect("wait");
            drop(p);
            status
        })
        .await
        .unwrap();
        assert_eq!(status.code(), Some(0), "SIG{signal} ends serve with exit 0");
        assert!(
            stray.lock().unwrap().is_empty(),
            "one stdout line only: {stray:?}"
        );
    }
}

#[tokio::test]
async fn serve_refuses_bad_options_with_exit_2() {
    let dir = TempDir::new("serve-proc");
    let flow = write_flow(&dir, "c.flow", &counter_flow(2));
    let out = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .arg("serve")
        .arg(&flow)
        .args(["--session-ttl", "soon", "--store"])
        .arg(dir.path("s.db"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--session-ttl"));
    assert!(out.stdout.is_empty());
}

fn migrate(spec: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["migrate", "--store", spec])
        .stdin(Stdio::null())
        .output()
        .expect("chatflow migrate runs")
}

on_both_stores!(migrate_creates_the_schema_alone_and_is_idempotent);
async fn migrate_creates_the_schema_alone_and_is_idempotent(store: TestStore) {
    let version = match store.backend {
        "postgres" => chatflow::store::postgres::schema_version(),
        _ => chatflow::store::sqlite::schema_version(),
    };
    for _ in 0..2 {
        let out = migrate(&store.spec);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("is at schema version {version}")),
            "{stdout}"
        );
    }
    assert_eq!(store.open().await.schema_version().await.unwrap(), version);
}

#[tokio::test]
async fn a_store_url_password_never_reaches_the_output() {
    // Nothing listens on port 1: the connection is refused, and the error names the store.
    let out = migrate("postgres://bot:hunter2secret@127.0.0.1:1/chat");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("postgres://bot:***@127.0.0.1:1/chat"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2secret"));
}

/// The `THP_enabled` line of a process's status: 0 once it turned transparent huge pages off.
/// `None` on kernels that do not show it (before 6.x) or off Linux.
fn thp_enabled(pid: u32) -> Option<u8> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("THP_enabled:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Every command turns huge pages off: they inflate a one-shot run's peak memory, and in
/// `serve` zeroing them cost a third of a cold burst's CPU (docs/performance.md).
#[test]
fn every_command_serve_too_turns_huge_pages_off() {
    let Some(own) = thp_enabled(std::process::id()) else {
        eprintln!("skipped: this kernel does not show THP_enabled in /proc/PID/status");
        return;
    };
    // `fmt -` waits on stdin, so it can be looked at while it runs.
    let mut fmt = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chatflow fmt starts");
    let mut seen = None;
    for _ in 0..200 {
        seen = thp_enabled(fmt.id());
        if seen == Some(0) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    drop(fmt.stdin.take());
    let _ = fmt.wait();
    assert_eq!(seen, Some(0), "fmt runs without huge pages");

    let dir = TempDir::new("serve-proc");
    let flow = write_flow(&dir, "c.flow", &counter_flow(1));
    let p = Process::start(&flow, &dir.path("s.db"), &[], &[]);
    // Past the ready line, so past any switch at start-up. The test process itself keeps the
    // system's default (1 here), so a 0 is the server's own doing.
    assert_eq!(own, 1, "this test's own process has huge pages allowed");
    assert_eq!(
        thp_enabled(p.child.id()),
        Some(0),
        "serve runs without huge pages"
    );
}

/// `--max-calls-per-origin` and the config file's `max_calls_per_origin` reach the engine:
/// conversations opened at once, each calling one slow API, are held by it that many at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calls_in_flight_to_one_origin_follow_the_flag_and_the_config_file() {
    let dir = TempDir::new("serve-calls");
    let (base, most) = crate::common::slow_counting_api().await;
    let flow = write_flow(
        &dir,
        "slow.flow",
        &format!(
            "bot \"Slow\" {{\n  start greet\n}}\n\napi slow {{\n  live\n  internal\n  get \"{base}/slow\"\n  timeout 10s\n}}\n\nnode greet {{\n  call slow\n  say \"{{status}}\"\n  close\n}}\n"
        ),
    );
    let config = dir.path("serve.toml");
    std::fs::write(&config, "max_calls_per_origin = 2\n").unwrap();
    let config = config.display().to_string();
    let runs: [(&str, &[&str], usize); 2] = [
        ("a.db", &["--max-calls-per-origin", "1"], 1),
        ("b.db", &["--config", &config], 2),
    ];
    for (db, args, limit) in runs {
        most.store(0, std::sync::atomic::Ordering::SeqCst);
        let p = Process::start(&flow, &dir.path(db), args, &[]);
        let client = reqwest::Client::new();
        let opens: Vec<_> = (0..5)
            .map(|_| {
                let request = client
                    .post(p.url("/api/conversations"))
                    .header("content-type", "application/json")
                    .body(json!({}).to_string());
                tokio::spawn(async move { read(request.send().await.unwrap()).await })
            })
            .collect();
        for open in opens {
            let (status, answer) = open.await.unwrap();
            assert_eq!(status, 201, "{args:?}: {answer}");
            assert_eq!(says(&answer), ["200"], "{args:?}: {answer}");
        }
        assert_eq!(
            most.load(std::sync::atomic::Ordering::SeqCst),
            limit,
            "{args:?}"
        );
    }
}

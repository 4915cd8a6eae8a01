//! What the attack tests share: a raw loopback HTTP server that records every request byte
//! for byte, the binary, and flows compiled from source.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use chatflow::runtime::{Engine, EngineConfig, Event, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[path = "../shared/requests.rs"]
mod requests;
pub use requests::{calls, Seen};

/// What the server answers: status, extra headers, body. `None` never answers.
pub type Answer = Option<(u16, Vec<(String, String)>, Vec<u8>)>;

type Handler = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;

/// A loopback HTTP/1.1 server: one request per connection, every request recorded.
#[derive(Clone)]
pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub async fn start(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let server = Server {
            addr,
            seen: seen.clone(),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, handler) = (seen.clone(), handler.clone());
                tokio::spawn(async move { serve_one(stream, seen, handler).await });
            }
        });
        server
    }

    /// Answers every request with `status` and a JSON `body`.
    pub async fn json(status: u16, body: &str) -> Server {
        let body = body.as_bytes().to_vec();
        Server::start(move |_| {
            Some((
                status,
                vec![("content-type".into(), "application/json".into())],
                body.clone(),
            ))
        })
        .await
    }

    /// Accepts and reads requests but never answers.
    pub async fn silent() -> Server {
        Server::start(|_| None).await
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve_one(mut stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>, handler: Handler) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let request = Seen {
        method,
        target,
        headers,
        body,
    };
    let answer = handler(&request);
    seen.lock().unwrap().push(request);
    let Some((status, headers, body)) = answer else {
        // Hold the connection open without answering until the client gives up.
        let _ = stream.read(&mut chunk).await;
        std::future::pending::<()>().await;
        return;
    };
    let mut out = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `chatflow` binary.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chatflow"));
    cmd.env_remove("RUST_BACKTRACE");
    cmd
}

/// Runs the binary with `args`, `stdin` as input.
pub fn run(args: &[&str], stdin: &str) -> Output {
    run_with(bin().args(args), stdin)
}

pub fn run_with(cmd: &mut Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    out
}

/// A fresh directory for this test's files.
pub fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("chatflow-security-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `text` to `name` in a fresh directory and returns the path.
pub fn file(name: &str, text: &str) -> String {
    let path = dir(name).join(format!("{name}.flow"));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Compiles `src` (it must compile) into an engine with `config`.
pub fn engine(src: &str, config: EngineConfig) -> Engine {
    let compiled = chatflow::compile::compile_str("attack.flow", src);
    let program = compiled.program.unwrap_or_else(|| {
        panic!(
            "{}",
            chatflow::diagnostic::render(&compiled.diagnostics, &compiled.sources, false)
        )
    });
    Engine::new(Arc::new(program), config).unwrap()
}

/// Diagnostic codes of `src`.
pub fn codes(src: &str) -> Vec<&'static str> {
    chatflow::compile::compile_str("attack.flow", src)
        .diagnostics
        .iter()
        .map(|d| d.code.name())
        .collect()
}

/// Starts a conversation and returns it with the opening turn's events.
pub async fn start(engine: &Engine) -> (Session, Vec<Event>) {
    let mut s = engine.new_session();
    let events = engine.start(&mut s).await;
    (s, events)
}

/// The marker a flow's API needs to call the test's own loopback servers.
pub const INTERNAL: &str = "  internal\n";

//! Shared helpers for the runtime tests: a small IR builder (flows written by hand until the
//! compiler lands) and a recording loopback HTTP server.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use chatflow::ir::*;

/// Builds a [`Program`] node by node.
pub struct B {
    pub p: Program,
    /// The first node given to [`B::add`]: the entry.
    pub entry: Option<NodeId>,
}

impl B {
    pub fn new() -> B {
        B {
            entry: None,
            p: Program {
                format_version: FORMAT_VERSION,
                min_read_version: MIN_READ_VERSION,
                bot: BotInfo {
                    name: "test".into(),
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
                apis: vec![],
                nodes: vec![],
                attrs: vec![],
                tests: vec![],
                hours: vec![],
                flows: vec![],
                source_map: SourceMap::default(),
                understanding: None,
            },
        }
    }

    pub fn attr(&mut self, name: &str) -> AttrId {
        if let Some(i) = self.p.attrs.iter().position(|a| a.name == name) {
            return i as AttrId;
        }
        self.p.attrs.push(AttrInfo {
            name: name.into(),
            ty: ValueType::Any,
            sensitive: false,
        });
        (self.p.attrs.len() - 1) as AttrId
    }

    pub fn node(&mut self, name: &str) -> NodeId {
        if let Some(i) = self.p.nodes.iter().position(|n| n.name == name) {
            return i as NodeId;
        }
        self.p.nodes.push(Node {
            name: name.into(),
            stmts: vec![],
        });
        (self.p.nodes.len() - 1) as NodeId
    }

    /// Append statements to a node (created on first use; the first node is the entry).
    pub fn add(&mut self, node: &str, stmts: Vec<Stmt>) -> &mut Self {
        let id = self.node(node) as usize;
        self.entry.get_or_insert(id as NodeId);
        self.p.nodes[id].stmts.extend(stmts);
        self
    }

    pub fn api(&mut self, api: Api) -> ApiId {
        self.p.apis.push(api);
        (self.p.apis.len() - 1) as ApiId
    }

    /// A `{name}`-style template: `{x}`, `{sys.x}`, `{secret.X}`, `{status}`, `{{`, `}}`.
    /// A request header whose value is the template `value`.
    pub fn header(&mut self, name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: self.t(value),
        }
    }

    pub fn t(&mut self, s: &str) -> Template {
        let mut parts = vec![];
        let mut text = String::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if rest.starts_with("{{") || rest.starts_with("}}") {
                text.push(c);
                rest = &rest[2..];
            } else if c == '{' {
                let end = rest.find('}').expect("closing brace in test template");
                let name = &rest[1..end];
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                parts.push(if name == "status" {
                    TemplatePart::Status
                } else if let Some(n) = name.strip_prefix("sys.") {
                    TemplatePart::Sys(n.into())
                } else if let Some(n) = name.strip_prefix("secret.") {
                    TemplatePart::Secret(n.into())
                } else if name == "item" || name.starts_with("item.") {
                    TemplatePart::Item(path(name.strip_prefix("item").unwrap_or("")))
                } else {
                    TemplatePart::Attr(self.attr(name))
                });
                rest = &rest[end + 1..];
            } else {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !text.is_empty() {
            parts.push(TemplatePart::Text(text));
        }
        Template { parts }
    }

    /// A plain message text.
    pub fn text(&mut self, s: &str) -> Text {
        Text::Plain(self.t(s))
    }

    /// `save ATTR = item.PATH` for dynamic data (`path` like `.id` or `.a.0.b`).
    pub fn item_save(&mut self, attr: &str, path_text: &str) -> ItemSave {
        ItemSave {
            attr: self.attr(attr),
            path: path(path_text),
        }
    }

    /// A branch option `"label" -> node`.
    pub fn option(&mut self, label: &str, target: &str) -> MenuOption {
        MenuOption {
            label: self.text(label),
            kind: OptionKind::Branch(self.node(target)),
            intent: None,
        }
    }

    pub fn say(&mut self, s: &str) -> Stmt {
        Stmt::Say(Text::Plain(self.t(s)))
    }

    pub fn ask(&mut self, attr: &str, kind: AskKind, prompt: Option<&str>) -> Stmt {
        let prompt = prompt.map(|p| Text::Plain(self.t(p)));
        Stmt::Ask {
            attr: self.attr(attr),
            kind,
            prompt,
        }
    }

    pub fn set(&mut self, attr: &str, value: Expr) -> Stmt {
        Stmt::Set {
            attr: self.attr(attr),
            value,
        }
    }

    pub fn goto(&mut self, node: &str) -> Stmt {
        Stmt::Goto(self.node(node))
    }

    pub fn branch(&mut self, arms: Vec<(Expr, &str)>, otherwise: &str) -> Stmt {
        let arms = arms
            .into_iter()
            .map(|(cond, target)| BranchArm {
                cond,
                target: self.node(target),
            })
            .collect();
        Stmt::Branch(BranchTable {
            arms,
            otherwise: self.node(otherwise),
        })
    }

    pub fn a(&mut self, name: &str) -> Expr {
        Expr::Attr(self.attr(name))
    }

    pub fn http_api(&mut self, name: &str, method: Method, url: &str) -> Api {
        Api {
            name: name.into(),
            method,
            url: self.t(url),
            headers: vec![],
            body: None,
            timeout_ms: 5000,
            retry: 0,
            idempotent: false,
            // The tests' servers are on loopback.
            internal: true,
            redirects: Redirects::SameOrigin,
            saves: vec![],
            ai: None,
        }
    }

    pub fn program(&self) -> Program {
        let mut p = self.p.clone();
        p.bot.start = self.entry.unwrap_or(0);
        p
    }

    pub fn build(&self) -> Arc<Program> {
        Arc::new(self.program())
    }
}

/// `.a.0.b` → `[Field(a), Index(0), Field(b)]`.
pub fn path(text: &str) -> Vec<PathStep> {
    text.split('.')
        .filter(|p| !p.is_empty())
        .map(|p| match p.parse::<usize>() {
            Ok(i) => PathStep::Index(i),
            Err(_) => PathStep::Field(p.into()),
        })
        .collect()
}

pub fn lit_num(n: f64) -> Expr {
    Expr::Lit(Value::Number(Number::from_f64(n)))
}
pub fn lit_text(s: &str) -> Expr {
    Expr::Lit(Value::Text(s.into()))
}
pub fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    Expr::Cmp(op, Box::new(a), Box::new(b))
}

#[path = "../shared/requests.rs"]
mod requests;
pub use requests::{calls, Seen};

/// A loopback axum server that records every request. Routes:
/// `/ok` 200 `{"ok":true}`; `/weather` nested JSON; `/flaky` 500 twice then 200; `/slow` never
/// answers; `/together` answers once [`TOGETHER`] requests to it have arrived; `/big` a 4000-byte JSON body; `/text` a non-JSON 200; `/empty` an empty 200;
/// `/stores` two stores (`/nostores` none); `/slots` two appointment slots;
/// `/redirect` 302 to `/weather`; `/loop` redirects to itself; `/status/N` answers N.
/// How many requests to `/together` wait for each other.
pub const TOGETHER: usize = 10;

pub struct Server {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub async fn start() -> Server {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let flaky = Arc::new(AtomicUsize::new(0));
        let arrived = Arc::new(tokio::sync::watch::Sender::new(0));
        let (seen2, flaky2) = (seen.clone(), flaky.clone());
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let (seen, flaky, arrived) = (seen2.clone(), flaky2.clone(), arrived.clone());
            async move { handle(req, seen, flaky, arrived).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server { base, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(
    req: Request<Body>,
    seen: Arc<Mutex<Vec<Seen>>>,
    flaky: Arc<AtomicUsize>,
    arrived: Arc<tokio::sync::watch::Sender<usize>>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        target,
        headers,
        body,
    });
    let json = |status: u16, body: &str| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let path = parts.uri.path();
    match path {
        p if p.starts_with("/weather") => json(
            200,
            r#"{"main":{"temp":3.5},"weather":[{"description":"snow"},{"description":"wind"}],"name":"Chicago","ok":true,"tags":["a","b"]}"#,
        ),
        "/flaky" => {
            if flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                json(500, r#"{"error":"try later"}"#)
            } else {
                json(200, r#"{"ok":true}"#)
            }
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            json(200, "{}")
        }
        "/big" => json(200, &format!(r#"{{"pad":"{}"}}"#, "x".repeat(4000))),
        "/stores" => json(
            200,
            r#"{"stores":[{"id":1,"name":"North","city":"Chicago"},{"id":2,"name":"South","city":"Austin"}]}"#,
        ),
        "/nostores" => json(200, r#"{"stores":[]}"#),
        "/slots" => json(
            200,
            r#"{"slots":[{"id":"s1","start":"09:00"},{"id":"s2","start":"10:30"}]}"#,
        ),
        "/together" => {
            arrived.send_modify(|n| *n += 1);
            let mut count = arrived.subscribe();
            // Only a client that stops sending while one request waits gets here; fail, and
            // let the others through.
            let gathered =
                tokio::time::timeout(Duration::from_secs(30), count.wait_for(|n| *n >= TOGETHER))
                    .await
                    .is_ok_and(|r| r.is_ok());
            if gathered {
                json(200, r#"{"ok":true}"#)
            } else {
                arrived.send_replace(usize::MAX);
                json(504, r#"{"ok":false}"#)
            }
        }
        "/text" => Response::builder()
            .status(200)
            .body(Body::from("hello, not json"))
            .unwrap(),
        "/empty" => Response::builder().status(200).body(Body::empty()).unwrap(),
        "/redirect" => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", "/weather")
            .body(Body::empty())
            .unwrap(),
        "/loop" => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", "/loop")
            .body(Body::empty())
            .unwrap(),
        p if p.starts_with("/status/") => {
            let code = p["/status/".len()..].parse().unwrap_or(500);
            json(code, r#"{"ok":false}"#)
        }
        _ => json(200, r#"{"ok":true}"#),
    }
}

/// A raw server that answers every connection with a close-delimited body of `len` bytes
/// (no content-length), so the client must read it chunk by chunk.
pub async fn streaming_server(len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n")
                    .await;
                let chunk = vec![b' '; 1000];
                let mut sent = 0;
                while sent < len {
                    if sock.write_all(&chunk).await.is_err() {
                        return;
                    }
                    sent += chunk.len();
                }
            });
        }
    });
    base
}

/// One message an SMTP client delivered.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA section, unstuffed, without the final `.` line.
    pub data: String,
}

/// A minimal plain SMTP server on loopback that accepts every message and records it.
/// Returns `host:port` and the mailbox.
pub async fn smtp_server() -> (String, Arc<Mutex<Vec<Mail>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mailbox: Arc<Mutex<Vec<Mail>>> = Arc::default();
    let boxed = mailbox.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let mailbox = boxed.clone();
            tokio::spawn(async move {
                let (read, mut write) = sock.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                let mut mail = Mail::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 test\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.from = line[10..].trim().to_string();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        mail.to.push(line[8..].trim().to_string());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            mail.data.push_str(data.strip_prefix('.').unwrap_or(&data));
                            mail.data.push('\n');
                        }
                        mailbox.lock().unwrap().push(std::mem::take(&mut mail));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, mailbox)
}

/// An address where nothing listens.
pub async fn refused_base() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// The texts of the `say` events, in order.
pub fn says(events: &[chatflow::runtime::Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            chatflow::runtime::Event::Say { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Compiles `src` as the file `name`; any error diagnostic fails the test. Returns the program
/// and the sources, for rendering failures.
pub fn compile_clean(name: &str, src: &str) -> (Arc<Program>, chatflow::source::SourceSet) {
    let compiled = chatflow::compile::compile_str(name, src);
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let program = Arc::new(compiled.program.expect("no errors, so a program"));
    (program, compiled.sources)
}

/// An engine with the default configuration for a hand-built program.
pub fn engine(b: &B) -> chatflow::runtime::Engine {
    chatflow::runtime::Engine::new(b.build(), chatflow::runtime::EngineConfig::default()).unwrap()
}

/// A new session of `engine`, past its opening turn (whose events are not looked at).
pub async fn started(engine: &chatflow::runtime::Engine) -> chatflow::runtime::Session {
    let mut s = engine.new_session();
    engine.start(&mut s).await;
    s
}

/// A new session of `engine` and the events of its opening turn.
pub async fn opened(
    engine: &chatflow::runtime::Engine,
) -> (chatflow::runtime::Session, Vec<chatflow::runtime::Event>) {
    let mut s = engine.new_session();
    let events = engine.start(&mut s).await;
    (s, events)
}

/// A quick-reply button labelled `label`, as a `Choices` or `Card` event shows it.
pub fn reply(label: &str) -> chatflow::runtime::ChoiceView {
    chatflow::runtime::ChoiceView {
        label: label.into(),
        kind: "reply".into(),
        url: None,
        payload: None,
    }
}

/// The value of the attribute `name` in a session of `engine`'s program.
pub fn attr(
    engine: &chatflow::runtime::Engine,
    s: &chatflow::runtime::Session,
    name: &str,
) -> Option<Value> {
    let id = engine
        .program()
        .attrs
        .iter()
        .position(|a| a.name == name)
        .unwrap();
    s.attrs[id].clone()
}

/// Runs the `chatflow` binary from the crate root with nothing on its stdin.
pub fn chatflow(args: &[&str]) -> std::process::Output {
    chatflow_with_input(args, "")
}

/// Runs the `chatflow` binary from the crate root with `input` on its stdin.
pub fn chatflow_with_input(args: &[&str], input: impl AsRef<[u8]>) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_ref())
        .expect("stdin takes the input");
    child.wait_with_output().expect("the binary finishes")
}

/// A loopback API that holds each request 150 ms and counts how many it holds at once.
pub async fn slow_counting_api() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let now = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (now2, most2) = (now.clone(), most.clone());
    let app = axum::Router::new().fallback(move || {
        let (now, most) = (now2.clone(), most2.clone());
        async move {
            let held = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(held, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            "{}"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, most)
}

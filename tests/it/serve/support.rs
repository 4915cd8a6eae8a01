//! Starting servers, sending requests, flows used by several tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use chatflow::runtime::{Engine, EngineConfig};
use chatflow::serve::ServeOptions;
use chatflow::store::Store;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "chatflow-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The store of one test: a SQLite file in a temporary directory, or a database of its own
/// in the test PostgreSQL cluster ([`super::pg`]).
pub struct TestStore {
    /// What `--store` would say: a path or a `postgres://` URL.
    pub spec: String,
    /// Which backend, for messages.
    pub backend: &'static str,
    pub dir: TempDir,
}

impl TestStore {
    pub fn sqlite(tag: &str) -> TestStore {
        let dir = TempDir::new(tag);
        let spec = dir.path("s.db").to_str().expect("a UTF-8 path").to_string();
        TestStore {
            spec,
            backend: "sqlite",
            dir,
        }
    }

    /// `None` when the PostgreSQL suite is skipped (see [`super::pg`]).
    pub async fn postgres(tag: &str) -> Option<TestStore> {
        let spec = super::pg::database().await?;
        Some(TestStore {
            spec,
            backend: "postgres",
            dir: TempDir::new(tag),
        })
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.spec).await.expect("store opens")
    }
}

pub fn engine(flow: &str, config: EngineConfig) -> Engine {
    let compiled = chatflow::compile::compile_str("test.flow", flow);
    let program = compiled
        .program
        .unwrap_or_else(|| panic!("flow does not compile: {:?}", compiled.diagnostics));
    Engine::new(Arc::new(program), config).expect("engine")
}

/// A `serve` running in this process on a loopback port.
pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    done: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    pub async fn start(flow: &str, db: &Path, options: ServeOptions) -> Server {
        Server::start_engine(engine(flow, EngineConfig::default()), db, options).await
    }

    pub async fn start_engine(engine: Engine, db: &Path, options: ServeOptions) -> Server {
        let spec = db.to_str().expect("a UTF-8 path");
        Server::start_engine_on(engine, spec, options).await
    }

    /// A server of `flow` on the store `spec` (a SQLite path or a PostgreSQL URL).
    pub async fn start_on(flow: &str, spec: &str, options: ServeOptions) -> Server {
        Server::start_engine_on(engine(flow, EngineConfig::default()), spec, options).await
    }

    pub async fn start_engine_on(engine: Engine, spec: &str, options: ServeOptions) -> Server {
        let store = Store::open(spec).await.expect("store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let done = tokio::spawn(chatflow::serve::serve(
            listener,
            engine,
            store,
            options,
            async {
                let _ = rx.await;
            },
        ));
        Server {
            base,
            client: reqwest::Client::new(),
            stop: Some(tx),
            done: Some(done),
        }
    }

    /// Stops the server and waits until it has finished.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            done.await.expect("server task").expect("server result");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /api/conversations` with `body`: (status, JSON).
    pub async fn open(&self, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url("/api/conversations"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        read(r).await
    }

    /// Opens a conversation and returns (id, token, answer).
    pub async fn open_ok(&self) -> (String, String, Value) {
        let (status, body) = self.open(json!({})).await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().expect("id").to_string();
        let token = body["token"].as_str().expect("token").to_string();
        (id, token, body)
    }

    pub async fn say(
        &self,
        id: &str,
        token: &str,
        text: &str,
        message_id: Option<&str>,
    ) -> (u16, Value) {
        let mut body = json!({"text": text});
        if let Some(m) = message_id {
            body["message_id"] = json!(m);
        }
        let r = self
            .client
            .post(self.url(&format!("/api/conversations/{id}/messages")))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        read(r).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send().await.expect("send")).await
    }

    pub async fn transcript(&self, id: &str, token: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/conversations/{id}/transcript"), Some(token))
            .await;
        assert_eq!(status, 200, "{body}");
        body["turns"].as_array().expect("turns").clone()
    }
}

pub async fn read(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// The texts of the `say` events of an answer.
pub fn says(answer: &Value) -> Vec<String> {
    answer["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["type"] == "say")
                .filter_map(|e| e["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A flow that counts messages with one node per count (the language has no arithmetic):
/// the `k`-th message is answered `count k`. A lost update shows as a repeated count.
pub fn counter_flow(n: usize) -> String {
    let mut flow = String::from("bot \"Counter\" {\n  start c0\n}\n");
    for k in 0..n {
        flow.push_str(&format!(
            "node c{k} {{\n  say \"count {k}\"\n  ask word\n  goto c{}\n}}\n",
            k + 1
        ));
    }
    flow.push_str(&format!("node c{n} {{\n  say \"count {n}\"\n  close\n}}\n"));
    flow
}

/// Asks a name, then a city, then says both and closes.
pub const TWO_ASKS: &str = r#"
bot "Desk" {
  start first
}
node first {
  say "Your name?"
  ask name
  goto second
}
node second {
  say "Your city?"
  ask city
  say "Bye {name} from {city}"
  close
}
"#;

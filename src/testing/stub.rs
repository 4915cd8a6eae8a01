//! A real HTTP server on 127.0.0.1 that answers API calls with canned answers.
//!
//! Each API has a script of answers given to its calls in order; the last one answers every
//! later call (so a one-answer script answers every call the same way).
//!
//! The engine's `redirect_base` points at it, so a request for API `weather` built as
//! `https://api.example.test/v1/weather?q=Chicago` arrives here as
//! `GET /weather/v1/weather?q=Chicago`. Every request is recorded, so tests can check that it
//! really arrived and what it carried.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ir::StubAnswer;
use crate::runtime::VirtualClock;

/// One request as the stub server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The first path segment: the API's name.
    pub api: String,
    /// HTTP method, upper case.
    pub method: String,
    /// The path after `/{api}`, as the flow built it (still percent-encoded).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// Headers as received, in order.
    pub headers: Vec<(String, String)>,
    /// The body as received, lossily decoded as UTF-8.
    pub body: String,
}

impl RecordedRequest {
    /// Path and query the way they appear in a URL: `/v1/weather?q=Chicago`.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// The first header with this name, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The answers of one API, oldest first; see the module documentation.
pub type StubScript = Vec<StubAnswer>;

#[derive(Default)]
struct Shared {
    scripts: HashMap<String, Script>,
    requests: Vec<RecordedRequest>,
}

struct Script {
    answers: StubScript,
    /// Calls answered so far.
    calls: usize,
}

impl Script {
    fn new(answers: StubScript) -> Script {
        Script { answers, calls: 0 }
    }

    /// The answer for the next call: the next in line, then the last one again.
    fn next(&mut self) -> Option<StubAnswer> {
        let answer = self
            .answers
            .get(self.calls)
            .or_else(|| self.answers.last())
            .cloned();
        self.calls += 1;
        answer
    }
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Mutex<Shared>>,
    shutdown: watch::Receiver<bool>,
    /// Told when a request gets a `timeout` answer, so the caller's timeout ends at once.
    clock: Option<Arc<VirtualClock>>,
}

/// A running stub server; it stops when dropped.
pub struct StubServer {
    base_url: String,
    shared: Arc<Mutex<Shared>>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl StubServer {
    /// Binds 127.0.0.1 on a free port and starts serving `scripts` (API name -> answers).
    pub async fn start(scripts: HashMap<String, StubScript>) -> std::io::Result<StubServer> {
        Self::start_with_clock(scripts, None).await
    }

    /// Like [`StubServer::start`], for callers whose API timeouts run on `clock`: a request
    /// answered `timeout` moves it to the caller's deadline (see [`VirtualClock::expire_next`]).
    pub async fn start_with_clock(
        scripts: HashMap<String, StubScript>,
        clock: Option<Arc<VirtualClock>>,
    ) -> std::io::Result<StubServer> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let scripts = scripts
            .into_iter()
            .map(|(api, answers)| (api, Script::new(answers)))
            .collect();
        let shared = Arc::new(Mutex::new(Shared {
            scripts,
            requests: Vec::new(),
        }));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let app = Router::new().fallback(handle).with_state(AppState {
            shared: shared.clone(),
            shutdown: shutdown_rx,
            clock,
        });
        let task = tokio::spawn(async move {
            // An accept error ends serving; requests then fail with `connect`, which the
            // tests report, so there is nothing more useful to do with it here.
            let _ = axum::serve(listener, app).await;
        });
        Ok(StubServer {
            base_url: format!("http://{addr}"),
            shared,
            shutdown,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, for [`crate::runtime::EngineConfig::redirect_base`].
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sets (or replaces) the answer for one API: a script of that one answer.
    pub fn set(&self, api: &str, answer: StubAnswer) {
        let script = Script::new(vec![answer]);
        lock(&self.shared).scripts.insert(api.to_string(), script);
    }

    /// Adds an answer at the end of an API's script (starts one if it has none).
    pub fn push(&self, api: &str, answer: StubAnswer) {
        let mut shared = lock(&self.shared);
        match shared.scripts.get_mut(api) {
            Some(script) => script.answers.push(answer),
            None => {
                shared
                    .scripts
                    .insert(api.to_string(), Script::new(vec![answer]));
            }
        }
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }

    /// Requests received for one API, oldest first.
    pub fn requests_to(&self, api: &str) -> Vec<RecordedRequest> {
        lock(&self.shared)
            .requests
            .iter()
            .filter(|r| r.api == api)
            .cloned()
            .collect()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        // Releases handlers parked on a `timeout` answer, then stops accepting.
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

/// A poisoned lock only means another handler panicked mid-update; the data is still usable.
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (api, path) = split_api(uri.path());
    let request = RecordedRequest {
        api: api.clone(),
        method: method.as_str().to_string(),
        path,
        query: uri.query().map(str::to_string),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let answer = {
        let mut shared = lock(&state.shared);
        shared.requests.push(request);
        shared.scripts.get_mut(&api).and_then(Script::next)
    };
    match answer {
        Some(StubAnswer::Status { status, body }) => answer_with(status, body),
        Some(StubAnswer::Timeout) => {
            // Never answer: the API's own timeout ends the call. Released on shutdown.
            if let Some(clock) = &state.clock {
                clock.expire_next();
            }
            let mut shutdown = state.shutdown.clone();
            let _ = shutdown.wait_for(|stop| *stop).await;
            plain(StatusCode::SERVICE_UNAVAILABLE, "stub server stopped")
        }
        None => plain(
            StatusCode::NOT_IMPLEMENTED,
            &format!("no stub answer for API `{api}`"),
        ),
    }
}

/// `/weather/v1/x` -> (`weather`, `/v1/x`); `/weather` -> (`weather`, ``).
fn split_api(path: &str) -> (String, String) {
    let rest = path.strip_prefix('/').unwrap_or(path);
    match rest.find('/') {
        Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
        None => (rest.to_string(), String::new()),
    }
}

fn answer_with(status: u16, body: Option<serde_json::Value>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    let body = match body {
        Some(json) => {
            builder = builder.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "bad stub answer"))
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut response = Response::new(Body::from(text.to_string()));
    *response.status_mut() = status;
    response
}

/// The answer a stub gives to a call of `api`: for an `ai`, a text body
/// (`stub brain 200 "Hello"`) is the model's text, served as a chat completion.
pub fn answer_for(api: &crate::ir::Api, answer: StubAnswer) -> StubAnswer {
    match answer {
        StubAnswer::Status {
            status,
            body: Some(serde_json::Value::String(text)),
        } if api.ai.is_some() => StubAnswer::Status {
            status,
            body: Some(crate::runtime::completion_json(&text)),
        },
        other => other,
    }
}

/// Reads a `--stubs` file: `{"weather": {"status": 200, "body": {...}}, "other": "timeout"}`.
/// `body` is optional. An API may also have a list of answers, given to its calls in order
/// (`"pay": [{"status": 503}, {"status": 200}]`). Errors are messages for the user.
pub fn parse_stub_file(text: &str) -> Result<HashMap<String, StubScript>, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let object = json
        .as_object()
        .ok_or("expected a JSON object mapping API names to answers")?;
    let mut answers = HashMap::new();
    for (api, answer) in object {
        let script = match answer {
            serde_json::Value::Array(list) if list.is_empty() => {
                return Err(format!("`{api}`: an empty list of answers"))
            }
            serde_json::Value::Array(list) => list
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    parse_answer(a).map_err(|e| format!("`{api}`, answer {}: {e}", i + 1))
                })
                .collect::<Result<StubScript, String>>()?,
            single => vec![parse_answer(single).map_err(|e| format!("`{api}`: {e}"))?],
        };
        answers.insert(api.clone(), script);
    }
    Ok(answers)
}

fn parse_answer(answer: &serde_json::Value) -> Result<StubAnswer, String> {
    if answer.as_str() == Some("timeout") {
        return Ok(StubAnswer::Timeout);
    }
    let object = answer
        .as_object()
        .ok_or(r#"expected "timeout", {"status": 200, "body": ...} or a list of these"#)?;
    if let Some(key) = object.keys().find(|k| *k != "status" && *k != "body") {
        return Err(format!(
            "unknown key `{key}` (expected `status` and `body`)"
        ));
    }
    let status = object
        .get("status")
        .and_then(serde_json::Value::as_u64)
        .and_then(StubAnswer::status)
        .ok_or_else(|| format!("`status`: {}", StubAnswer::STATUS_RULE))?;
    Ok(StubAnswer::Status {
        status,
        body: object.get("body").cloned(),
    })
}

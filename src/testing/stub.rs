//! A real HTTP server on 127.0.0.1 that answers API calls with canned answers.
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

#[derive(Default)]
struct Shared {
    answers: HashMap<String, StubAnswer>,
    requests: Vec<RecordedRequest>,
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Mutex<Shared>>,
    shutdown: watch::Receiver<bool>,
}

/// A running stub server; it stops when dropped.
pub struct StubServer {
    base_url: String,
    shared: Arc<Mutex<Shared>>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl StubServer {
    /// Binds 127.0.0.1 on a free port and starts serving `answers` (API name -> answer).
    pub async fn start(answers: HashMap<String, StubAnswer>) -> std::io::Result<StubServer> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared {
            answers,
            requests: Vec::new(),
        }));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let app = Router::new().fallback(handle).with_state(AppState {
            shared: shared.clone(),
            shutdown: shutdown_rx,
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

    /// Sets (or replaces) the answer for one API.
    pub fn set(&self, api: &str, answer: StubAnswer) {
        lock(&self.shared).answers.insert(api.to_string(), answer);
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
        shared.answers.get(&api).cloned()
    };
    match answer {
        Some(StubAnswer::Status { status, body }) => answer_with(status, body),
        Some(StubAnswer::Timeout) => {
            // Never answer: the API's own timeout ends the call. Released on shutdown.
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

/// Reads a `--stubs` file: `{"weather": {"status": 200, "body": {...}}, "other": "timeout"}`.
/// `body` is optional. Errors are messages for the user.
pub fn parse_stub_file(text: &str) -> Result<HashMap<String, StubAnswer>, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let object = json
        .as_object()
        .ok_or("expected a JSON object mapping API names to answers")?;
    let mut answers = HashMap::new();
    for (api, answer) in object {
        answers.insert(
            api.clone(),
            parse_answer(answer).map_err(|e| format!("`{api}`: {e}"))?,
        );
    }
    Ok(answers)
}

fn parse_answer(answer: &serde_json::Value) -> Result<StubAnswer, String> {
    if answer.as_str() == Some("timeout") {
        return Ok(StubAnswer::Timeout);
    }
    let object = answer
        .as_object()
        .ok_or(r#"expected "timeout" or {"status": 200, "body": ...}"#)?;
    if let Some(key) = object.keys().find(|k| *k != "status" && *k != "body") {
        return Err(format!(
            "unknown key `{key}` (expected `status` and `body`)"
        ));
    }
    let status = object
        .get("status")
        .and_then(serde_json::Value::as_u64)
        .filter(|s| (100..=999).contains(s))
        .ok_or("`status` must be an HTTP status code between 100 and 999")?;
    Ok(StubAnswer::Status {
        status: status as u16,
        body: object.get("body").cloned(),
    })
}

//! A model's reply streamed to the web chat: `POST .../messages` with `Accept:
//! text/event-stream` against an in-process `serve` and a loopback model server that streams
//! its answer in pieces, held at a gate half-way so the test knows what has been sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response};
use chatflow::runtime::EngineConfig;
use chatflow::serve::ServeOptions;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::support::{engine, says, Server, TempDir};

/// The model's whole answer; its stream sends it in these pieces, the gate after the third.
pub const PIECES: [&str; 5] = ["Hello", " from", " the model.", " How can", " I help?"];
pub const ANSWER: &str = "Hello from the model. How can I help?";
const BEFORE_GATE: usize = 3;

/// A loopback chat-completions server. `/v1/chat/completions` streams [`PIECES`] when asked
/// to stream (waiting for a permit of `gate` before the fourth) and answers with one JSON
/// body otherwise (and at `/plain` always). Broken streams: `/drop` (the connection is cut), `/malformed` (an event
/// that is not JSON), `/huge` (ten 1000-byte pieces), `/endless` (a piece every 20 ms).
pub struct FakeModel {
    pub base: String,
    pub gate: Arc<Semaphore>,
    asked: Arc<Mutex<Vec<Value>>>,
}

impl FakeModel {
    pub async fn start() -> FakeModel {
        let gate = Arc::new(Semaphore::new(0));
        let asked: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (g, log) = (gate.clone(), asked.clone());
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let (gate, log) = (g.clone(), log.clone());
            async move { answer(req, gate, log).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeModel { base, gate, asked }
    }

    /// The bodies of the requests received so far.
    pub fn asked(&self) -> Vec<Value> {
        self.asked.lock().unwrap().clone()
    }
}

/// One SSE event of a completion chunk carrying `text`.
fn piece(text: &str) -> Bytes {
    let chunk = json!({"object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    Bytes::from(format!("data: {chunk}\n\n"))
}

type Item = Result<Bytes, std::io::Error>;

async fn answer(
    req: Request<Body>,
    gate: Arc<Semaphore>,
    log: Arc<Mutex<Vec<Value>>>,
) -> Response<Body> {
    let path = req.uri().path().to_string();
    let bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    log.lock().unwrap().push(body.clone());
    // `/plain` is a model that answers with one JSON body even when asked to stream.
    if body["stream"] != true || path == "/plain" {
        let completion = json!({"choices": [{"index": 0,
            "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}]});
        return Response::builder()
            .header("content-type", "application/json")
            .body(Body::from(completion.to_string()))
            .unwrap();
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Item>(4);
    tokio::spawn(async move {
        let send = |b: Bytes| {
            let tx = tx.clone();
            async move { tx.send(Ok(b)).await.is_ok() }
        };
        let pause = || tokio::time::sleep(Duration::from_millis(20));
        let role = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#;
        send(Bytes::from(format!("{role}\n\n"))).await;
        match path.as_str() {
            "/drop" | "/malformed" => {
                send(piece("Part of")).await;
                pause().await;
                send(piece(" an answer")).await;
                pause().await;
                if path == "/drop" {
                    let _ = tx.send(Err(std::io::Error::other("cut"))).await;
                } else {
                    send(Bytes::from("data: {\"choices\": [oops\n\n")).await;
                }
            }
            "/huge" => {
                for _ in 0..10 {
                    if !send(piece(&"x".repeat(1000))).await {
                        return;
                    }
                    pause().await;
                }
            }
            "/endless" => {
                while send(piece("more ")).await {
                    pause().await;
                }
            }
            _ => {
                for (i, text) in PIECES.iter().enumerate() {
                    if i == BEFORE_GATE {
                        gate.acquire().await.unwrap().forget();
                    }
                    send(piece(text)).await;
                    pause().await;
                }
                let stop = r#"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
                send(Bytes::from(format!("{stop}\n\ndata: [DONE]\n\n"))).await;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// A bot whose `free` node answers every question with the model at `url`, and says why when
/// the model fails.
pub fn flow(url: &str) -> String {
    format!(
        r#"bot "Desk" {{ start free }}
ai brain {{ live; internal; url "{url}"; model "m"; key "{{secret.AI_KEY}}" }}
node free {{
  ask question "Ask me anything."
  reply with brain
  if status == 200 -> free
  else -> down
}}
node down {{
  say "The assistant is away ({{sys.api_error}})."
  goto free
}}
"#
    )
}

/// A server answering with the model at `path`: answers over 4096 bytes are refused and a
/// call may take at most 500 ms in all.
async fn server(model: &FakeModel, path: &str, dir: &TempDir) -> Server {
    let config = EngineConfig {
        max_response_bytes: 4096,
        call_deadline: Duration::from_millis(500),
        secrets: Some(Arc::new(
            [("AI_KEY".to_string(), "sk-test-key".to_string())].into(),
        )),
        ..EngineConfig::default()
    };
    let engine = engine(&flow(&format!("{}{path}", model.base)), config);
    Server::start_engine(engine, &dir.path("s.db"), ServeOptions::default()).await
}

/// One server-sent event as received: its name and JSON data.
#[derive(Debug, Clone)]
struct Received {
    name: String,
    data: Value,
}

/// Reads a `text/event-stream` answer event by event.
struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

impl EventReader {
    async fn next(&mut self) -> Option<Received> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = "message".to_string();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                let data = serde_json::from_str(&data).expect("JSON data");
                return Some(Received { name, data });
            }
            let chunk = self.response.chunk().await.expect("the stream reads")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    async fn rest(&mut self) -> Vec<Received> {
        let mut out = Vec::new();
        while let Some(e) = self.next().await {
            out.push(e);
        }
        out
    }
}

/// Sends `text` asking for a stream.
async fn send_streamed(server: &Server, id: &str, token: &str, text: &str) -> EventReader {
    let response = server
        .client
        .post(server.url(&format!("/api/conversations/{id}/messages")))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(json!({"text": text}).to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let ty = response.headers()["content-type"].to_str().unwrap();
    assert!(ty.starts_with("text/event-stream"), "{ty}");
    EventReader {
        response,
        buffer: String::new(),
    }
}

fn delta_text(events: &[Received]) -> String {
    events
        .iter()
        .filter(|e| e.name == "delta")
        .map(|e| e.data["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn deltas_arrive_before_the_turn_ends_and_the_turn_holds_the_text_once() {
    let model = FakeModel::start().await;
    let dir = TempDir::new("stream-ok");
    let server = server(&model, "/v1/chat/completions", &dir).await;
    let (id, token, _) = server.open_ok().await;
    let mut reader = send_streamed(&server, &id, &token, "Hi there").await;
    // The model holds the rest of its answer until the gate opens, so the turn cannot have
    // ended: whatever arrives now was streamed before the end.
    let mut early = Vec::new();
    while delta_text(&early) != PIECES[..BEFORE_GATE].concat() {
        let e = reader.next().await.expect("a delta before the end");
        assert_eq!(e.name, "delta", "{e:?}");
        assert_eq!(e.data["reply"], 0);
        early.push(e);
    }
    model.gate.add_permits(1);
    let rest = reader.rest().await;
    let (last, deltas) = rest.split_last().expect("the turn's end");
    assert!(deltas.iter().all(|e| e.name == "delta"), "{rest:?}");
    assert_eq!(delta_text(&early) + &delta_text(deltas), ANSWER);
    assert_eq!(last.name, "turn", "{last:?}");
    assert_eq!(says(&last.data), [ANSWER, "Ask me anything."]);
    assert_eq!(model.asked()[0]["stream"], true);

    // The stored turn has the whole text once, like the streamed turn's end.
    let turns = server.transcript(&id, &token).await;
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[1]["events"], last.data["events"]);
    let stored = serde_json::to_string(&turns).unwrap();
    assert_eq!(stored.matches("Hello from").count(), 1, "{stored}");

    // A client that does not ask for a stream gets one JSON answer, and the model is asked
    // without `stream`.
    model.gate.add_permits(1);
    let (status, answer) = server.say(&id, &token, "Again", None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(says(&answer), [ANSWER, "Ask me anything."]);
    assert_eq!(model.asked()[1].get("stream"), None);
    server.stop().await;
}

#[tokio::test]
async fn a_stream_that_fails_retracts_its_text_and_takes_the_failure_branch() {
    let model = FakeModel::start().await;
    for (path, code, partial) in [
        ("/drop", "other", true),
        ("/malformed", "bad_answer", true),
        ("/huge", "too_large", false),
        ("/endless", "timeout", true),
    ] {
        let dir = TempDir::new("stream-fail");
        let server = server(&model, path, &dir).await;
        let (id, token, _) = server.open_ok().await;
        let events = send_streamed(&server, &id, &token, "Hi").await.rest().await;
        let (last, before) = events.split_last().expect("the turn's end");
        assert_eq!(last.name, "turn", "{path}: {events:?}");
        let away = format!("The assistant is away ({code}).");
        assert_eq!(
            says(&last.data),
            [away.as_str(), "Ask me anything."],
            "{path}"
        );
        let sent_text = before.iter().any(|e| e.name == "delta");
        assert!(
            sent_text || !partial,
            "{path}: no text before the failure: {events:?}"
        );
        if sent_text {
            // Text was shown: it is retracted before the turn ends.
            let retracted = before.iter().rposition(|e| e.name == "retract");
            let last_delta = before.iter().rposition(|e| e.name == "delta");
            assert!(retracted > last_delta, "{path}: {events:?}");
        }
        let stored = serde_json::to_string(&server.transcript(&id, &token).await).unwrap();
        assert!(
            !stored.contains("Part of") && !stored.contains("more "),
            "{path}: {stored}"
        );
        assert!(stored.contains(&away), "{path}: {stored}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_refused_streamed_message_keeps_its_status_and_json_error() {
    let model = FakeModel::start().await;
    let dir = TempDir::new("stream-refused");
    let server = server(&model, "/v1/chat/completions", &dir).await;
    let (id, _, _) = server.open_ok().await;
    let response = server
        .client
        .post(server.url(&format!("/api/conversations/{id}/messages")))
        .bearer_auth("not-the-token")
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(json!({"text": "Hi"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(model.asked().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_model_that_does_not_stream_is_one_turn_event() {
    let model = FakeModel::start().await;
    let dir = TempDir::new("stream-plain");
    let server = server(&model, "/plain", &dir).await;
    let (id, token, _) = server.open_ok().await;
    let events = send_streamed(&server, &id, &token, "Hi").await.rest().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].name, "turn");
    assert_eq!(says(&events[0].data), [ANSWER, "Ask me anything."]);
    assert_eq!(model.asked()[0]["stream"], true);
    server.stop().await;
}

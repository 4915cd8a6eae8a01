//! `POST /api/conversations/{id}/messages` with `Accept: text/event-stream`: the turn answered
//! as server-sent events, so the web chat shows a model's reply growing as it arrives
//! (docs/http-api.md, docs/web-chat.md).
//!
//! - `event: delta`, `data: {"reply": N, "text": "..."}`: more text of the turn's reply N.
//! - `event: retract`, `data: {"reply": N}`: reply N failed (or the turn is run again); its
//!   text so far is void. What the flow says instead comes with the turn.
//! - `event: turn`, `data: {"state": ..., "events": [...]}`: the end, the same answer as
//!   without streaming (and what is stored); it replaces every delta. The last event.
//! - `event: error`, `data: {"status": S, "error": {"code": ..., "message": ...}}`: the turn
//!   failed after the stream began (the store); the last event.
//!
//! Nothing is sent until the turn is under way: a request refused (401, 404, 409, ...) gets
//! its usual status and JSON error, and a turn that ends before any text was read is one
//! `turn` event.

use std::convert::Infallible;
use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::{JoinError, JoinHandle};

use super::http::{ApiError, AppState};
use super::service::{Answer, ServiceError};
use crate::runtime::{ReplyStream, Streamed};

type Turn = JoinHandle<Result<Answer, ServiceError>>;

/// Runs the visitor's message as a tracked task and answers with its stream.
pub(super) async fn message(
    state: &AppState,
    id: String,
    token: Option<String>,
    text: String,
    message_id: Option<String>,
) -> Result<Response, ApiError> {
    let (reply_stream, mut rx) = ReplyStream::new();
    let service = Arc::clone(&state.service);
    let mut turn: Turn = state.tasks.spawn(async move {
        service
            .message_streamed(&id, token.as_deref(), text, message_id, reply_stream)
            .await
    });
    // The first text read, or the turn's end: a turn refused before any text keeps its status.
    let first = tokio::select! {
        biased;
        Some(first) = rx.recv() => first,
        done = &mut turn => {
            let answer = joined(done)?;
            return Ok(respond(stream::iter([Ok(turn_event(&answer))])));
        }
    };
    Ok(respond(events(first, rx, turn)))
}

/// The SSE response; `X-Accel-Buffering: no` asks a proxy in front (nginx) to pass each
/// event on at once.
fn respond(events: impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static) -> Response {
    let mut response = Sse::new(events).into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    response
}

/// `first`, what follows it on `rx`, then the turn's end.
fn events(
    first: Streamed,
    rx: UnboundedReceiver<Streamed>,
    turn: Turn,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static {
    // The channel closes when the turn's task ends (it holds every sender).
    stream::unfold(Some((Some(first), rx, turn)), |state| async move {
        let (pending, mut rx, turn) = state?;
        let next = match pending {
            Some(item) => Some(item),
            None => rx.recv().await,
        };
        match next {
            Some(item) => Some((Ok(streamed_event(&item)), Some((None, rx, turn)))),
            None => {
                let last = match joined(turn.await) {
                    Ok(answer) => turn_event(&answer),
                    Err(e) => error_event(&e),
                };
                Some((Ok(last), None))
            }
        }
    })
}

fn joined(done: Result<Result<Answer, ServiceError>, JoinError>) -> Result<Answer, ApiError> {
    match done {
        Ok(answer) => Ok(answer?),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            e.to_string(),
        )),
    }
}

fn streamed_event(item: &Streamed) -> SseEvent {
    let (name, data) = streamed_data(item);
    SseEvent::default().event(name).data(data)
}

/// The event's name and its data, `{"reply": N, "text": "..."}` or `{"reply": N}`, written
/// straight from the item (one per piece of a reply, so no `serde_json::Value` first).
fn streamed_data(item: &Streamed) -> (&'static str, String) {
    #[derive(Serialize)]
    struct Delta<'a> {
        reply: u32,
        text: &'a str,
    }
    #[derive(Serialize)]
    struct Retract {
        reply: u32,
    }
    let (name, data) = match item {
        Streamed::Delta { reply, text } => {
            let delta = Delta {
                reply: *reply,
                text,
            };
            ("delta", serde_json::to_string(&delta))
        }
        Streamed::Retract { reply } => {
            ("retract", serde_json::to_string(&Retract { reply: *reply }))
        }
    };
    (name, data.unwrap_or_default())
}

fn turn_event(answer: &Answer) -> SseEvent {
    // `{"state": ..., "events": [...]}`: compact, so on one `data:` line.
    let data = serde_json::to_string(answer).unwrap_or_default();
    SseEvent::default().event("turn").data(data)
}

fn error_event(e: &ApiError) -> SseEvent {
    let (status, code, message) = e.parts();
    let data = json!({"status": status.as_u16(), "error": {"code": code, "message": message}});
    SseEvent::default().event("error").data(data.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_data_is_written_as_through_a_json_value() {
        let text = "Hel\"lo\n\u{e9}";
        let delta = Streamed::Delta {
            reply: 2,
            text: text.into(),
        };
        let want = json!({"reply": 2, "text": text}).to_string();
        assert_eq!(streamed_data(&delta), ("delta", want));
        let retract = Streamed::Retract { reply: 7 };
        let want = json!({"reply": 7}).to_string();
        assert_eq!(streamed_data(&retract), ("retract", want));
    }
}

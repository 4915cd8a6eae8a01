//! The HTTP API (`docs/http-api.md`): routes, request bodies, statuses and error shapes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value as Json_};
use tokio_util::task::TaskTracker;

use super::service::{constant_time_eq, OpenRequest, Service, ServiceError};

/// Largest request body.
pub const MAX_BODY: usize = 64 * 1024;
/// Largest message text.
pub const MAX_MESSAGE: usize = 4 * 1024;
/// Largest `message_id`.
const MAX_MESSAGE_ID: usize = 256;
/// Admin list page sizes.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

/// The OpenAPI description served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every route, as (method, path): what `/api/openapi.json` must describe (a test checks).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/conversations"),
    ("GET", "/api/conversations"),
    ("GET", "/api/conversations/{id}"),
    ("DELETE", "/api/conversations/{id}"),
    ("POST", "/api/conversations/{id}/messages"),
    ("GET", "/api/conversations/{id}/transcript"),
    ("GET", "/api/openapi.json"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/admin/report"),
    ("POST", "/channels/{name}/webhook"),
    ("GET", "/channels/{name}/webhook"),
];

/// What each HTTP handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The conversation service the handlers call.
    pub service: Arc<Service>,
    /// The admin token; `None` turns the admin endpoints off.
    pub admin_token: Option<Arc<str>>,
    /// Turns run as tracked tasks: a client that hangs up does not cancel a turn half-way,
    /// and shutdown waits for them.
    pub tasks: TaskTracker,
    /// The messaging channels served (`docs/channels.md`).
    pub channels: Arc<super::channels::Channels>,
}

/// The HTTP routes of `chatflow serve` over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/conversations", post(open).get(list))
        .route("/api/conversations/{id}", get(show).delete(erase))
        .route("/api/conversations/{id}/messages", post(message))
        .route("/api/conversations/{id}/transcript", get(transcript))
        .route("/api/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/admin/report", get(admin_report))
        .route(
            "/channels/{name}/webhook",
            post(super::channels::webhook).get(super::channels::verify_subscription),
        )
        .merge(super::web::routes())
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .with_state(state)
        .layer(axum::middleware::from_fn(super::web::cors))
}

/// An error answer: `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// Its status, code and message, for an error told inside a stream.
    pub(super) fn parts(&self) -> (StatusCode, &'static str, &str) {
        (self.status, self.code, &self.message)
    }

    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such conversation")
            }
            ServiceError::Unauthorized => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or wrong bearer token",
            ),
            ServiceError::Conflict(state) => {
                let code = if state == "failed" {
                    "conversation_failed"
                } else {
                    "conversation_closed"
                };
                ApiError::new(
                    StatusCode::CONFLICT,
                    code,
                    format!("the conversation is {state}"),
                )
            }
            ServiceError::Invalid(message) => ApiError::invalid(message),
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    other.to_string(),
                )
            }
        }
    }
}

/// The token of `Authorization: Bearer TOKEN`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks the admin token; admin endpoints do not exist (404) when none is configured.
fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(admin) = &state.admin_token else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "admin endpoints are off",
        ));
    };
    match bearer(headers) {
        Some(token) if constant_time_eq(token, admin) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong admin token",
        )),
    }
}

/// Reads a JSON body: 413 over [`MAX_BODY`], 415 when it is not JSON, 400 when it does not
/// parse, 422 when it parses but does not fit `T`. An empty body reads as `{}` when allowed.
async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    allow_empty: bool,
) -> Result<T, ApiError> {
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is over {MAX_BODY} bytes"),
        )
    })?;
    let empty_allowed = bytes.is_empty() && allow_empty;
    let bytes: &[u8] = if empty_allowed { b"{}" } else { &bytes };
    if !empty_allowed && !is_json(headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ));
    }
    parse_body(bytes)
}

/// `T` read straight from the body, with no `serde_json::Value` in between. A body that
/// does not read so is read again as before (a `Value`, then `T`), which gives the answer
/// it always got: 400 when it is not JSON at all, even if a misfit for `T` (422) comes
/// before the syntax error; 422 with the same message; and a key given twice, which only
/// the direct read refuses, still reads (the last one counts). A body that reads directly
/// reads the same both ways.
fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let value: Json_ = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    serde_json::from_value(value).map_err(|e| ApiError::invalid(e.to_string()))
}

/// The request's own headers (the `HeaderMap` extractor would clone them) and its body;
/// the rest of the request is dropped here.
fn headers_and_body(request: Request) -> (HeaderMap, Body) {
    let (Parts { headers, .. }, body) = request.into_parts();
    (headers, body)
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().as_bytes();
    // Media types are case-insensitive; compared without making a lowercase copy.
    let starts = |prefix: &[u8]| {
        essence.len() >= prefix.len() && essence[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    let ends = |suffix: &[u8]| {
        essence.len() >= suffix.len()
            && essence[essence.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    essence.eq_ignore_ascii_case(b"application/json") || (starts(b"application/") && ends(b"+json"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    language: Option<String>,
    channel: Option<String>,
    #[serde(default)]
    attributes: serde_json::Map<String, Json_>,
}

async fn open(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (headers, body) = headers_and_body(request);
    let body: OpenBody = json_body(&headers, body, true).await?;
    let req = OpenRequest {
        language: body.language,
        channel: Some(body.channel.unwrap_or_else(|| "web".to_string())),
        attributes: body.attributes,
    };
    let service = Arc::clone(&state.service);
    let opened = state
        .tasks
        .spawn(async move { service.open(req).await })
        .await
        .map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })??;
    let body = OpenedBody {
        id: &opened.id,
        token: &opened.token,
        state: &opened.answer.state,
        events: &opened.answer.events,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The answer to `POST /api/conversations`, in its documented key order.
#[derive(Serialize)]
struct OpenedBody<'a> {
    id: &'a str,
    token: &'a str,
    state: &'a str,
    events: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    text: String,
    message_id: Option<String>,
}

async fn message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (headers, body) = headers_and_body(request);
    let token = bearer(&headers).map(str::to_string);
    let body = match json_body::<MessageBody>(&headers, body, false)
        .await
        .and_then(checked_message)
    {
        Ok(body) => body,
        Err(e) => {
            // Strangers learn nothing from the body's checks: the token is checked first.
            // (A valid body goes on to `Service::message`, which checks it under the
            // conversation's lock with the same read that starts the turn.)
            state.service.authorize(&id, token.as_deref(), None).await?;
            return Err(e);
        }
    };
    if wants_stream(&headers) {
        return super::stream::message(&state, id, token, body.text, body.message_id).await;
    }
    let service = Arc::clone(&state.service);
    let answer = state
        .tasks
        .spawn(async move {
            service
                .message(&id, token.as_deref(), body.text, body.message_id)
                .await
        })
        .await
        .map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })??;
    // `{"state": ..., "events": [...]}`, the events as the turn serialized them.
    Ok(Json(answer).into_response())
}

/// The client asks for the turn as server-sent events (`Accept: text/event-stream`).
fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            let essence = v.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("text/event-stream")
        })
}

/// The limits on a message that JSON's shape does not say.
fn checked_message(body: MessageBody) -> Result<MessageBody, ApiError> {
    if body.text.len() > MAX_MESSAGE {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message_too_large",
            format!("the message is over {MAX_MESSAGE} bytes"),
        ));
    }
    if let Some(mid) = &body.message_id {
        if mid.is_empty() || mid.len() > MAX_MESSAGE_ID {
            return Err(ApiError::invalid(format!(
                "message_id must have 1 to {MAX_MESSAGE_ID} bytes"
            )));
        }
    }
    Ok(body)
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let c = state
        .service
        .authorize(&id, bearer(&headers), state.admin_token.as_deref())
        .await?;
    let attributes = state.service.attributes(&c)?;
    Ok(Json(json!({
        "id": c.id,
        "state": c.state,
        "node": c.node,
        "attributes": attributes,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }))
    .into_response())
}

async fn transcript(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state
        .service
        .authorize(&id, bearer(&headers), state.admin_token.as_deref())
        .await?;
    let turns = state
        .service
        .store
        .transcript(&id)
        .await
        .map_err(ServiceError::from)?;
    let turns: Vec<Json_> = turns
        .into_iter()
        .map(|t| {
            let events: Json_ = serde_json::from_str(&t.events).unwrap_or(Json_::Array(Vec::new()));
            json!({
                "message": t.message.map(|m| json!({"text": m.text, "message_id": m.message_id})),
                "events": events,
                "at": t.at,
                "state": t.state,
                "flow_version": t.flow_version,
            })
        })
        .collect();
    Ok(Json(json!({"turns": turns})).into_response())
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let limit = match query.get("limit") {
        None => DEFAULT_PAGE,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(format!(
                    "limit must be a number from 1 to {MAX_PAGE}"
                )))
            }
        },
    };
    let after = query.get("after").cloned();
    let rows = state
        .service
        .store
        .list(limit, after)
        .await
        .map_err(ServiceError::from)?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    let conversations: Vec<Json_> = rows
        .into_iter()
        .map(|r| {
            json!({"id": r.id, "state": r.state, "node": r.node, "created_at": r.created_at, "updated_at": r.updated_at})
        })
        .collect();
    Ok(Json(json!({"conversations": conversations, "next": next})).into_response())
}

async fn erase(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    if !state
        .service
        .store
        .delete(&id)
        .await
        .map_err(ServiceError::from)?
    {
        return Err(ServiceError::NotFound.into());
    }
    tracing::info!(conversation = %id, "conversation erased");
    Ok(Json(json!({"id": id, "deleted": true})).into_response())
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.service.store.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            e.to_string(),
        )
        .into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let by_state = state
        .service
        .store
        .count_by_state()
        .await
        .unwrap_or_default();
    let text = state.service.metrics.render(&by_state);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn admin_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let period = super::report::Period::parse(
        query.get("since").map(String::as_str),
        query.get("until").map(String::as_str),
    )
    .map_err(ApiError::invalid)?;
    let page = super::report::page(&state.service, period)
        .await
        .map_err(ServiceError::from)?;
    // The page has inline styles and nothing else: a browser may load nothing from it.
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ),
    ];
    Ok((headers, page).into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<MessageBody, (u16, &'static str, String)> {
        parse_body::<MessageBody>(body.as_bytes()).map_err(|e| {
            let (status, code, message) = (e.status, e.code, e.message);
            (status.as_u16(), code, message)
        })
    }

    #[test]
    fn a_body_that_is_not_json_is_400_even_after_a_misfit() {
        // The direct read stops at `5` (not a string); the syntax error comes later.
        let (status, code, _) = read(r#"{"text": 5, "message_id": }"#).err().unwrap();
        assert_eq!((status, code), (400, "malformed_json"));
        let (status, code, _) = read(r#"{"text": "hi"} x"#).err().unwrap();
        assert_eq!((status, code), (400, "malformed_json"));
    }

    #[test]
    fn a_misfit_is_422_with_the_message_it_always_had() {
        let (status, code, message) = read(r#"{"text": 5}"#).err().unwrap();
        assert_eq!((status, code), (422, "invalid_request"));
        // No "at line 1 column N": that is the direct read's message, not the answer's.
        assert_eq!(message, "invalid type: integer `5`, expected a string");
        let (_, _, message) = read(r#"{"text": "hi", "extra": 1}"#).err().unwrap();
        assert_eq!(
            message,
            "unknown field `extra`, expected `text` or `message_id`"
        );
    }

    #[test]
    fn json_media_types_are_told_in_any_case() {
        let with = |ct: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(ct));
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with(" application/vnd.api+JSON "));
        assert!(!with("text/json"));
        assert!(!with("application/jsonx"));
        assert!(!with("application+json"));
        assert!(!with("application/"));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn a_key_given_twice_reads_with_the_last_value() {
        let body = read(r#"{"text": "a", "message_id": "m", "text": "b"}"#).unwrap();
        assert_eq!(
            (body.text.as_str(), body.message_id.as_deref()),
            ("b", Some("m"))
        );
    }
}

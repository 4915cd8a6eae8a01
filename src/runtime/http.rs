//! The API Connector: builds a request from an API's templates, sends it with hyper's pooled
//! client (rustls, set up as reqwest sets it up: the platform's verifier, ALPN `h2` and
//! `http/1.1`), and reports what came back. hyper directly, not reqwest: a busy `serve` makes
//! one call per turn, and reqwest's layers (request and URL conversions, header copies, boxed
//! futures) were a quarter of a call's CPU (docs/performance.md).
//!
//! - URL: each inserted value is percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`); the
//!   literal URL text is kept as written. Credentials written in the URL (`user:pass@`) are
//!   sent as `Authorization: Basic` (marked secret) and not in the request line. Every
//!   request says `Accept: */*` unless the API sets `Accept`.
//! - `json {}` bodies are built with serde_json, so inserted text is JSON-escaped. A string whose
//!   template is exactly one `{attr}` (or `{status}`) holding a number or a boolean is sent as a
//!   raw JSON number or boolean, so `{"age": "{age}"}` sends `{"age": 42}`.
//! - `body "..."` is sent as rendered, with `content-type: text/plain; charset=utf-8` unless a
//!   header sets one. Inserted values are encoded for a declared JSON type (JSON-escaped), form
//!   type (form-encoded) or XML/HTML type (XML-escaped); any other type gets them as typed.
//! - `form {}` bodies are `application/x-www-form-urlencoded`, each field form-encoded.
//! - A header value with CR or LF after templating (or otherwise not a valid header value) is
//!   refused: nothing is sent, `status` is 0 and `sys.api_error` is `bad_header`.
//! - `{secret.NAME}` is read from [`EngineConfig::secrets`] (or the environment variable
//!   `CHATFLOW_SECRET_NAME` when that is `None`) when the request is built, and lives only in the request. URLs in events and the
//!   [`SentRequest`] show `***` in its place. A secret that is not defined fails the call with
//!   `missing_secret`.
//! - One attempt (connect, send, read the answer) is bounded by the API's `timeout`. Transport
//!   errors (`timeout`, `connect`, `other`) and 5xx answers are retried up to `retry` extra
//!   times, waiting [`EngineConfig::backoff`] between attempts (by default 100 ms × 2ⁿ, ±50 %
//!   jitter, at most 2 s), for GET, PUT and DELETE only unless the API allows retrying other
//!   methods.
//! - The answer is read in chunks up to [`EngineConfig::max_response_bytes`]; a longer one fails
//!   the call with `too_large` (status 0, nothing saved).
//! - Redirects (301, 302, 303, 307, 308) are followed by the connector, up to 5 hops (more fail
//!   with `redirect`), as the API's `redirects` allows: `same_origin` (the default) only to the
//!   API's own scheme, host and port, `any` anywhere, `none` never; a redirect not followed is
//!   the call's answer. When a hop leaves the origin, headers and a body that carry a secret,
//!   `Authorization` and `Cookie` are dropped. No `Referer` is sent. 303 (and 301/302 after a
//!   POST) continue as a GET without a body.
//! - Addresses (see [`super::guard`]): an API reaches public addresses only, unless marked
//!   `internal`; cloud-metadata addresses never; a refused one fails the call with `blocked`.
//!   The stub server of `redirect_base` is always reachable.
//! - A built URL whose path has a `.` or `..` segment (a visitor's `..` in `/users/{id}/x`) is
//!   refused with `dot_segment`: URL parsing would fold it and climb the path.
//! - Other failure codes: `bad_url` (the built URL does not parse or is not http/https),
//!   `other` (any other transport error). When the request could not even be built
//!   (`bad_header`, `bad_url`, `missing_secret`) the `ApiCall` event has `attempts == 0`.
//! - [`EngineConfig::timeout_cap_ms`] lowers every API's timeout (for fast test runs).
//! - Timeouts and backoff waits are on [`EngineConfig::clock`]: tokio's, or a virtual one
//!   (`chatflow test`), on which they take no real time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::eval::{Inserted, Scope, OTP_CODE};
use super::guard::{check_literal, is_blocked, redirect_target, strip_secrets, GuardedResolver};
use super::sent::{Filled, SentRequest};
use super::{Backoff, Clock, EngineConfig};
use crate::ir::{
    value_json, Api, JsonTemplate, Method, Number, PathStep, Redirects, RequestBody, Template,
    Value,
};
use crate::vocab::number_json;

/// Characters left as they are in an inserted URL value: RFC 3986 unreserved.
pub(super) const URL_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const MAX_REDIRECTS: usize = 5;

/// hyper's pooled client over the guarded resolver, plain HTTP or TLS.
type ApiClient = Client<HttpsConnector<TcpConnector<GuardedResolver>>, Full<Bytes>>;

/// Sends API requests. Cheap to clone; the connection pool is shared.
#[derive(Clone, Debug)]
pub struct HttpConnector {
    /// For APIs not marked `internal`: public addresses only.
    client: ApiClient,
    /// For APIs marked `internal`: private addresses too, never metadata.
    internal_client: ApiClient,
    redirect_base: Option<Arc<str>>,
    max_response_bytes: usize,
    secrets: Option<Arc<HashMap<String, String>>>,
    timeout_cap_ms: Option<u64>,
    backoff: Backoff,
    clock: Clock,
    in_flight: Arc<InFlight>,
}

/// The calls in flight to each origin, bounded by [`EngineConfig::max_calls_per_origin`]: a
/// burst of conversations calling one API waits for free calls instead of opening a
/// connection each (a TCP handshake, a socket and buffers on both ends, a descriptor).
#[derive(Debug, Default)]
struct InFlight {
    /// Calls allowed at once per origin; 0 is no limit.
    per_origin: usize,
    origins: std::sync::Mutex<rustc_hash::FxHashMap<url::Origin, Arc<tokio::sync::Semaphore>>>,
}

impl InFlight {
    /// A place for one call to `origin`, held until the call's answer is read; `None` when
    /// there is no limit.
    async fn enter(&self, origin: &url::Origin) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if self.per_origin == 0 {
            return None;
        }
        let semaphore = {
            let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
            match origins.get(origin) {
                Some(s) => s.clone(),
                None => {
                    let s = Arc::new(tokio::sync::Semaphore::new(self.per_origin));
                    origins.insert(origin.clone(), s.clone());
                    s
                }
            }
        };
        // The semaphore is never closed, so acquiring only fails if it were.
        semaphore.acquire_owned().await.ok()
    }
}

/// Reads an answer sent as server-sent events (`text/event-stream`, a model's streamed reply)
/// while it arrives, instead of the connector keeping its bytes.
pub(crate) trait StreamReader: Send {
    /// An attempt's answer begins (a retry's starts over).
    fn begin(&mut self);
    /// The next bytes of the answer; an error code fails the call.
    fn chunk(&mut self, bytes: &[u8]) -> Result<(), &'static str>;
    /// The answer ended; an error code fails the call.
    fn end(&mut self) -> Result<(), &'static str>;
}

/// A request ready to send: secrets already inserted.
pub(crate) struct Prepared {
    method: hyper::Method,
    url: url::Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    /// A secret went into the body: it is dropped when a redirect leaves the origin.
    body_secret: bool,
    internal: bool,
    redirects: Redirects,
    timeout: Duration,
    attempts_allowed: u32,
    /// The same request with its secrets masked.
    shown: SentRequest,
}

impl Prepared {
    /// The URL as shown in events.
    pub(crate) fn shown_url(&self) -> String {
        self.shown.url.clone()
    }
}

impl Outcome {
    /// A call refused before sending (a per-turn limit), with its error code.
    pub(crate) fn refused(display_url: String, code: &'static str) -> Outcome {
        Outcome {
            display_url,
            request: None,
            status: 0,
            error: Some(code),
            body: None,
            attempts: 0,
            latency: Duration::ZERO,
        }
    }
}

/// What one `call` produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The URL as the flow built it, secrets shown as `***`.
    pub display_url: String,
    /// What was sent, when the request could be built.
    pub request: Option<SentRequest>,
    /// 0 when no response arrived.
    pub status: u16,
    pub error: Option<&'static str>,
    pub body: Option<Vec<u8>>,
    pub attempts: u32,
    pub latency: Duration,
}

impl HttpConnector {
    /// A client with the configured limits (timeouts, response size), shared by every call.
    pub fn new(config: &EngineConfig) -> Result<HttpConnector, rustls::Error> {
        // Requests to the stub server (`redirect_base`) go to the harness's own loopback
        // server, which stays reachable.
        let stubbed = config.redirect_base.is_some();
        let tls = tls_config()?;
        let client = |internal: bool| api_client(&tls, (!stubbed).then_some(internal));
        Ok(HttpConnector {
            client: client(false),
            internal_client: client(true),
            redirect_base: config
                .redirect_base
                .as_deref()
                .map(|b| Arc::from(b.trim_end_matches('/'))),
            max_response_bytes: config.max_response_bytes,
            secrets: config.secrets.clone(),
            timeout_cap_ms: config.timeout_cap_ms,
            backoff: config.backoff,
            clock: config.clock.clone(),
            in_flight: Arc::new(InFlight {
                per_origin: config.max_calls_per_origin,
                ..InFlight::default()
            }),
        })
    }

    /// A secret's value; `sys.otp_code` (inserted like a secret so events mask it) is the
    /// session's pending code.
    fn secret(&self, scope: &Scope, name: &str) -> Option<String> {
        if name == OTP_CODE {
            return scope.otp_code().map(str::to_string);
        }
        match &self.secrets {
            Some(map) => map.get(name).cloned(),
            None => super::secrets::secret_from_env(name),
        }
    }

    /// Build the request for `api` from the session's data, with `body` as its body (an `ai`'s
    /// is built from the conversation; any other API's is its own). On failure, the display URL
    /// and the error code.
    pub(crate) fn prepare(
        &self,
        api: &Api,
        body: Option<&RequestBody>,
        scope: &Scope,
    ) -> Result<Prepared, (String, &'static str)> {
        let built_url = self.fill(scope, &api.url, encode_url_value);
        let display_url = built_url.masked();
        if built_url.missing {
            return Err((display_url, "missing_secret"));
        }
        if has_dot_segment(&built_url.text) {
            return Err((display_url, "dot_segment"));
        }
        let url = match self.target_url(&api.name, &built_url.text) {
            Some(u) => u,
            None => return Err((display_url, "bad_url")),
        };
        let (mut headers, mut shown_headers) = match self.headers(api, scope) {
            Ok(h) => h,
            Err(code) => return Err((display_url, code)),
        };
        let mut url = url;
        move_credentials(&mut url, &mut headers);
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        }
        let declared = body;
        let (body, shown_body, body_secret) = match self.body(api, declared, scope) {
            Ok(Some((sent, shown, secret))) => (Some(sent), Some(shown), secret),
            Ok(None) => (None, None, false),
            Err(code) => return Err((display_url, code)),
        };
        if body.is_some() && !headers.contains_key(CONTENT_TYPE) {
            let ct = match declared {
                Some(RequestBody::Json(_)) => "application/json",
                Some(RequestBody::Form(_)) => "application/x-www-form-urlencoded",
                _ => "text/plain; charset=utf-8",
            };
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            shown_headers.push(("Content-Type".to_string(), ct.to_string()));
        }
        let retryable =
            api.idempotent || matches!(api.method, Method::Get | Method::Put | Method::Delete);
        Ok(Prepared {
            method: method(api.method),
            url,
            headers,
            body: body.map(Bytes::from),
            body_secret,
            internal: api.internal,
            redirects: api.redirects,
            timeout: Duration::from_millis(
                api.timeout_ms
                    .min(self.timeout_cap_ms.unwrap_or(u64::MAX))
                    .max(1),
            ),
            attempts_allowed: if retryable {
                api.retry.saturating_add(1)
            } else {
                1
            },
            shown: SentRequest {
                method: api.method.as_str().to_string(),
                url: display_url,
                headers: shown_headers,
                body: shown_body,
            },
        })
    }

    /// Render `t` for a request: each inserted value through `encode`, secrets (and
    /// `sys.otp_code`) filled in, their places remembered for masking.
    fn fill(&self, scope: &Scope, t: &Template, encode: fn(&str, &mut String)) -> Filled {
        let mut text = String::with_capacity(64);
        let mut secrets = Vec::new();
        let mut missing = false;
        scope.render_with(t, &mut text, |out, ins| match ins {
            Inserted::Value(v) => encode(v, out),
            Inserted::Secret(name) => {
                let start = out.len();
                match self.secret(scope, name) {
                    Some(v) => encode(&v, out),
                    None => missing = true,
                }
                secrets.push(start..out.len());
            }
        });
        Filled {
            text,
            secrets,
            missing,
        }
    }

    /// The URL to send to: the built one, or the same path and query under `redirect_base`.
    fn target_url(&self, api_name: &str, built: &str) -> Option<url::Url> {
        let url = url::Url::parse(built).ok()?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return None;
        }
        let Some(base) = &self.redirect_base else {
            return Some(url);
        };
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        url::Url::parse(&format!("{base}/{api_name}{}{query}", url.path())).ok()
    }

    /// The API's headers as sent, and as shown (secrets masked, names as written).
    fn headers(&self, api: &Api, scope: &Scope) -> Result<(HeaderMap, ShownHeaders), &'static str> {
        let mut map = HeaderMap::new();
        let mut shown = Vec::with_capacity(api.headers.len());
        for header in &api.headers {
            let value = self.fill(scope, &header.value, push_plain);
            if value.missing {
                return Err("missing_secret");
            }
            if value.text.contains(['\r', '\n']) {
                return Err("bad_header");
            }
            let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| "bad_header")?;
            let mut sent = HeaderValue::from_str(&value.text).map_err(|_| "bad_header")?;
            sent.set_sensitive(value.has_secret());
            map.append(name, sent);
            shown.push((header.name.clone(), value.masked()));
        }
        Ok((map, shown))
    }

    /// The body as sent and as shown (secrets masked), and whether a secret went into it.
    fn body(
        &self,
        api: &Api,
        body: Option<&RequestBody>,
        scope: &Scope,
    ) -> Result<Option<SentBody>, &'static str> {
        let Some(body) = body else {
            return Ok(None);
        };
        let mut missing = false;
        let (sent, shown, secret) = match body {
            crate::ir::RequestBody::Text(t) => {
                let text = self.fill(scope, t, raw_body_encoder(api));
                missing = text.missing;
                let shown = text.masked();
                let secret = text.has_secret();
                (text.text.into_bytes(), shown, secret)
            }
            crate::ir::RequestBody::Form(JsonTemplate::Object(fields)) => {
                let mut sent = url::form_urlencoded::Serializer::new(String::new());
                let mut shown = url::form_urlencoded::Serializer::new(String::new());
                let mut secret = false;
                for (key, value) in fields {
                    let (value, masked) = self.form_value(scope, value, &mut missing);
                    secret |= masked.is_some();
                    sent.append_pair(key, &value);
                    shown.append_pair(key, masked.as_deref().unwrap_or(&value));
                }
                (sent.finish().into_bytes(), shown.finish(), secret)
            }
            crate::ir::RequestBody::Form(_) => (Vec::new(), String::new(), false),
            crate::ir::RequestBody::Json(j) => {
                let (sent, shown) = self.json_value(scope, j, &mut missing);
                let bytes = serde_json::to_vec(&sent).map_err(|_| "other")?;
                let secret = shown.is_some();
                let shown = match shown {
                    Some(masked) => serde_json::to_string(&masked).map_err(|_| "other")?,
                    None => String::from_utf8_lossy(&bytes).into_owned(),
                };
                (bytes, shown, secret)
            }
        };
        if missing {
            return Err("missing_secret");
        }
        Ok(Some((sent, shown, secret)))
    }

    /// A `form {}` field's value as text and, when a secret went into it, as shown.
    fn form_value(
        &self,
        scope: &Scope<'_>,
        t: &JsonTemplate,
        missing: &mut bool,
    ) -> (String, Option<String>) {
        match t {
            JsonTemplate::String(template) => {
                let text = self.fill(scope, template, push_plain);
                *missing |= text.missing;
                let shown = text.has_secret().then(|| text.masked());
                (text.text, shown)
            }
            JsonTemplate::Value(expr) => {
                let value = scope.eval_value(expr).ok().flatten();
                (crate::ir::value_text(value.as_ref()), None)
            }
            JsonTemplate::Number(n) => (number_json(*n).to_string(), None),
            JsonTemplate::Bool(b) => (b.to_string(), None),
            JsonTemplate::Null | JsonTemplate::Object(_) | JsonTemplate::Array(_) => {
                (String::new(), None)
            }
        }
    }

    /// A `json {}` template as sent and, when a secret went into it, as shown. A bare
    /// reference sends its value with its type (`null` when unset); a string template always
    /// sends text, its inserted values JSON-escaped by serde_json.
    fn json_value<'a>(
        &self,
        scope: &Scope<'a>,
        t: &'a JsonTemplate,
        missing: &mut bool,
    ) -> (serde_json::Value, Option<serde_json::Value>) {
        use serde_json::Value as J;
        match t {
            JsonTemplate::Object(fields) => {
                let (sent, shown) = split_shown(
                    fields
                        .iter()
                        .map(|(k, v)| (k.clone(), self.json_value(scope, v, missing)))
                        .collect(),
                );
                (
                    J::Object(sent.into_iter().collect()),
                    shown.map(|s| J::Object(s.into_iter().collect())),
                )
            }
            JsonTemplate::Array(items) => {
                let (sent, shown) = split_shown(
                    items
                        .iter()
                        .map(|i| ((), self.json_value(scope, i, missing)))
                        .collect(),
                );
                let values = |v: Vec<((), J)>| J::Array(v.into_iter().map(|(_, j)| j).collect());
                (values(sent), shown.map(values))
            }
            JsonTemplate::Value(expr) => (
                scope
                    .eval_value(expr)
                    .ok()
                    .flatten()
                    .map_or(J::Null, |v| value_json(&v)),
                None,
            ),
            JsonTemplate::String(template) => {
                let text = self.fill(scope, template, push_plain);
                *missing |= text.missing;
                let shown = text.has_secret().then(|| J::String(text.masked()));
                (J::String(text.text), shown)
            }
            JsonTemplate::Number(n) => (number_json(*n), None),
            JsonTemplate::Bool(b) => (J::Bool(*b), None),
            JsonTemplate::Null => (J::Null, None),
        }
    }

    /// Send with retries, all within `deadline`. Never fails: failures are `status == 0` with
    /// an error code. A 2xx answer of type `text/event-stream` goes to `reader` when there is
    /// one (its body in the outcome is then empty); the size cap counts its bytes all the
    /// same, and `deadline` bounds the whole stream.
    pub(crate) async fn send(
        &self,
        prepared: Prepared,
        deadline: Duration,
        reader: Option<&mut dyn StreamReader>,
    ) -> Outcome {
        let started = self.clock.stamp();
        let attempts = AtomicU32::new(0);
        let result = self
            .clock
            .timeout(deadline, self.attempts(&prepared, &attempts, reader))
            .await
            .unwrap_or(Err("timeout"));
        let (status, error, body) = match result {
            Ok((status, body)) => (status, None, Some(body)),
            Err(code) => (0, Some(code), None),
        };
        Outcome {
            display_url: prepared.shown.url.clone(),
            request: Some(prepared.shown),
            status,
            error,
            body,
            attempts: attempts.load(Ordering::Relaxed),
            latency: self.clock.elapsed(started),
        }
    }

    /// Attempts until one counts (or none is left), waiting the backoff between them.
    async fn attempts(
        &self,
        prepared: &Prepared,
        count: &AtomicU32,
        mut reader: Option<&mut dyn StreamReader>,
    ) -> Result<(u16, Vec<u8>), &'static str> {
        loop {
            let attempts = count.fetch_add(1, Ordering::Relaxed) + 1;
            let result = self
                .clock
                .timeout(
                    prepared.timeout,
                    self.attempt(prepared, reader.as_deref_mut()),
                )
                .await
                .unwrap_or(Err("timeout"));
            let transient = match &result {
                Ok((status, _)) => *status >= 500,
                Err(code) => matches!(*code, "timeout" | "connect" | "other"),
            };
            if transient && attempts < prepared.attempts_allowed {
                let wait = self.backoff.delay(attempts - 1, fastrand::f64());
                if !wait.is_zero() {
                    self.clock.sleep(wait).await;
                }
                continue;
            }
            return result;
        }
    }

    /// One attempt: the request, then the redirects its API allows, hop by hop, each hop's
    /// address checked again; then the answer, read up to the size limit.
    async fn attempt<'r>(
        &self,
        p: &Prepared,
        reader: Option<&mut (dyn StreamReader + 'r)>,
    ) -> Result<(u16, Vec<u8>), &'static str> {
        let client = if p.internal {
            &self.internal_client
        } else {
            &self.client
        };
        let origin = p.url.origin();
        // Held until the answer is read: the connection is busy until then.
        let _place = self.in_flight.enter(&origin).await;
        let mut url = std::borrow::Cow::Borrowed(&p.url);
        let mut method = p.method.clone();
        let mut headers = std::borrow::Cow::Borrowed(&p.headers);
        let mut body = p.body.clone();
        let mut hops = 0;
        let response = loop {
            if self.redirect_base.is_none() {
                check_literal(&url, p.internal)?;
            }
            let uri: hyper::Uri = url.as_str().parse().map_err(|_| "bad_url")?;
            let mut request = hyper::Request::new(Full::new(body.clone().unwrap_or_default()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri;
            *request.headers_mut() = headers.as_ref().clone();
            let response = client.request(request).await.map_err(|e| classify(&e))?;
            let Some(next) = redirect_target(response.status(), response.headers(), &url) else {
                break response;
            };
            let leaves = next.as_ref().is_none_or(|n| n.origin() != origin);
            match p.redirects {
                Redirects::None => break response,
                Redirects::SameOrigin if leaves => break response,
                _ => {}
            }
            hops += 1;
            let Some(mut next) = next.filter(|_| hops <= MAX_REDIRECTS) else {
                return Err("redirect");
            };
            let headers = headers.to_mut();
            if leaves {
                *headers = strip_secrets(headers);
                if p.body_secret {
                    body = None;
                }
            }
            let status = response.status().as_u16();
            if status == 303 || (matches!(status, 301 | 302) && method == hyper::Method::POST) {
                method = hyper::Method::GET;
                body = None;
            }
            if body.is_none() {
                headers.remove(CONTENT_TYPE);
            }
            move_credentials(&mut next, headers);
            url = std::borrow::Cow::Owned(next);
        };
        let status = response.status().as_u16();
        if response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|n| n > self.max_response_bytes as u64)
        {
            return Err("too_large");
        }
        let stream = is_event_stream(&response);
        let mut answer = response.into_body();
        if let Some(reader) = reader.filter(|_| stream) {
            reader.begin();
            let mut read = 0usize;
            while let Some(chunk) = next_chunk(&mut answer).await? {
                read += chunk.len();
                if read > self.max_response_bytes {
                    return Err("too_large");
                }
                reader.chunk(&chunk)?;
            }
            reader.end()?;
            return Ok((status, Vec::new()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = next_chunk(&mut answer).await? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err("too_large");
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }
}

/// The rustls setup reqwest's default client has: the crypto provider installed for the
/// process (else aws-lc-rs), TLS 1.2 and 1.3, the platform's certificate verifier.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// A pooled client whose names go through [`GuardedResolver`] (`internal: None`: unguarded).
/// Redirects are followed hop by hop in `attempt`; no proxy, so the guard sees the
/// addresses really connected to.
fn api_client(tls: &rustls::ClientConfig, internal: Option<bool>) -> ApiClient {
    let mut tcp = TcpConnector::new_with_resolver(GuardedResolver { internal });
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(tcp);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector)
}

/// The next piece of an answer's body (trailers skipped); `None` at its end.
async fn next_chunk(body: &mut Incoming) -> Result<Option<Bytes>, &'static str> {
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(|_| "other")?.into_data() {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// Credentials written in a URL (`user:pass@`), taken out of it into a `Basic` authorization
/// (marked sensitive, so a redirect leaving the origin drops it), as reqwest sends them; an
/// `Authorization` header already there wins. For the request and for every redirect hop.
fn move_credentials(url: &mut url::Url, headers: &mut HeaderMap) {
    if url.username().is_empty() && url.password().is_none() {
        return;
    }
    let basic = basic_authorization(url);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if let Some(basic) = basic.filter(|_| !headers.contains_key(AUTHORIZATION)) {
        headers.insert(AUTHORIZATION, basic);
    }
}

/// `Basic` with a URL's user and password, percent-decoded.
fn basic_authorization(url: &url::Url) -> Option<HeaderValue> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let user = decode(url.username());
    let password = url.password().map(decode).unwrap_or_default();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A 2xx answer of type `text/event-stream`: a stream to read as it arrives.
fn is_event_stream(response: &hyper::Response<Incoming>) -> bool {
    let event_stream = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/event-stream"));
    response.status().is_success() && event_stream
}

fn classify(e: &hyper_util::client::legacy::Error) -> &'static str {
    if is_blocked(e) {
        "blocked"
    } else if e.is_connect() {
        "connect"
    } else {
        "other"
    }
}

fn method(m: Method) -> hyper::Method {
    match m {
        Method::Get => hyper::Method::GET,
        Method::Post => hyper::Method::POST,
        Method::Put => hyper::Method::PUT,
        Method::Patch => hyper::Method::PATCH,
        Method::Delete => hyper::Method::DELETE,
    }
}

/// Whether the path of a built URL has a `.` or `..` segment (in any percent-encoded
/// spelling). URL parsing (WHATWG, as the `url` crate does it) would fold such a segment into its
/// neighbours, so `/users/{id}/orders` with `..` would reach `/orders`; and since it treats
/// `%2E` as a dot too, no encoding keeps a dot-segment from climbing: the call is refused.
fn has_dot_segment(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .split_once('/')
        .map_or("", |(_, path)| path);
    path.split(['/', '\\']).any(|segment| {
        let lower = segment.to_ascii_lowercase().replace("%2e", ".");
        lower == "." || lower == ".."
    })
}

/// How a raw `body`'s inserted values are encoded: for the `Content-Type` the API declares
/// (JSON-escaped, form-encoded, XML-escaped), as typed for any other.
fn raw_body_encoder(api: &Api) -> fn(&str, &mut String) {
    let declared: String = api
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("content-type"))
        .flat_map(|h| &h.value.parts)
        .filter_map(|p| match p {
            crate::ir::TemplatePart::Text(t) => Some(t.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    let media = declared.split(';').next().unwrap_or("").trim().to_string();
    if media == "application/json" || media.ends_with("+json") {
        push_json_escaped
    } else if media == "application/x-www-form-urlencoded" {
        push_form_encoded
    } else if media.ends_with("/xml") || media.ends_with("+xml") || media == "text/html" {
        push_xml_escaped
    } else {
        push_plain
    }
}

/// An inserted value inside a JSON string: escaped as serde_json escapes, without the quotes.
fn push_json_escaped(v: &str, out: &mut String) {
    let quoted = serde_json::Value::String(v.to_string()).to_string();
    out.push_str(&quoted[1..quoted.len() - 1]);
}

/// An inserted value in a form body: `application/x-www-form-urlencoded`.
fn push_form_encoded(v: &str, out: &mut String) {
    out.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
}

/// An inserted value in XML or HTML text or attribute values.
fn push_xml_escaped(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// An inserted URL value, percent-encoded.
fn encode_url_value(v: &str, out: &mut String) {
    out.extend(utf8_percent_encode(v, URL_VALUE));
}

/// An inserted header or body value, as it is.
fn push_plain(v: &str, out: &mut String) {
    out.push_str(v);
}

/// A body as sent, as shown, and whether a secret went into it.
type SentBody = (Vec<u8>, String, bool);

/// Header names as written and values with secrets masked.
type ShownHeaders = Vec<(String, String)>;

/// Children as sent and as shown: the shown list exists only when some child holds a secret.
type SentAndShown<K> = (
    Vec<(K, serde_json::Value)>,
    Option<Vec<(K, serde_json::Value)>>,
);

fn split_shown<K: Clone>(
    children: Vec<(K, (serde_json::Value, Option<serde_json::Value>))>,
) -> SentAndShown<K> {
    let shown = children.iter().any(|(_, (_, m))| m.is_some()).then(|| {
        children
            .iter()
            .map(|(k, (sent, masked))| (k.clone(), masked.clone().unwrap_or_else(|| sent.clone())))
            .collect()
    });
    let sent = children
        .into_iter()
        .map(|(k, (sent, _))| (k, sent))
        .collect();
    (sent, shown)
}

/// Follow a `save` path into a JSON answer (public for the fuzz targets).
pub fn lookup<'j>(json: &'j serde_json::Value, path: &[PathStep]) -> Option<&'j serde_json::Value> {
    path.iter().try_fold(json, |v, step| match step {
        PathStep::Field(f) => v.get(f.as_str()),
        PathStep::Index(i) => v.get(*i),
    })
}

/// A JSON value as an attribute value; arrays and objects become lists and maps.
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Number::from_json(n).map_or(Value::Null, Value::Number),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(items) => Value::List(items.iter().map(from_json).collect()),
        serde_json::Value::Object(fields) => Value::Map(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), from_json(v)))
                .collect(),
        ),
    }
}

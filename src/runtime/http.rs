//! The API Connector: builds a request from an API's templates, sends it with reqwest (rustls),
//! and reports what came back.
//!
//! - URL: each inserted value is percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`); the
//!   literal URL text is kept as written.
//! - `json {}` bodies are built with serde_json, so inserted text is JSON-escaped. A string whose
//!   template is exactly one `{attr}` (or `{status}`) holding a number or a boolean is sent as a
//!   raw JSON number or boolean, so `{"age": "{age}"}` sends `{"age": 42}`.
//! - `body "..."` is sent as rendered, with `content-type: text/plain; charset=utf-8` unless a
//!   header sets one.
//! - A header value with CR or LF after templating (or otherwise not a valid header value) is
//!   refused: nothing is sent, `status` is 0 and `sys.api_error` is `bad_header`.
//! - `{secret.NAME}` is read from [`EngineConfig::secrets`] (or the environment when that is
//!   `None`) when the request is built, and lives only in the request. URLs in events show
//!   `***` in its place. A secret that is not defined fails the call with `missing_secret`.
//! - One attempt (connect, send, read the answer) is bounded by the API's `timeout`. Transport
//!   errors (`timeout`, `connect`, `other`) and 5xx answers are retried up to `retry` extra
//!   times, waiting [`EngineConfig::backoff`] between attempts (by default 100 ms × 2ⁿ, ±50 %
//!   jitter, at most 2 s), for GET, PUT and DELETE only unless the API allows retrying other
//!   methods.
//! - The answer is read in chunks up to [`EngineConfig::max_response_bytes`]; a longer one fails
//!   the call with `too_large` (status 0, nothing saved).
//! - Redirects are followed up to 5 times; more fail with `redirect`.
//! - Other failure codes: `bad_url` (the built URL does not parse or is not http/https),
//!   `other` (any other transport error). When the request could not even be built
//!   (`bad_header`, `bad_url`, `missing_secret`) the `ApiCall` event has `attempts == 0`.
//! - [`EngineConfig::timeout_cap_ms`] lowers every API's timeout (for fast test runs).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

use super::eval::{is_otp_code, Inserted, Scope, Val, OTP_CODE};
use super::{Backoff, EngineConfig};
use crate::ir::{Api, JsonTemplate, Method, PathStep, Template, TemplatePart, Value};
use crate::vocab::number_json;

/// Characters left as they are in an inserted URL value: RFC 3986 unreserved.
const URL_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const MAX_REDIRECTS: usize = 5;

/// Sends API requests. Cheap to clone; the connection pool is shared.
#[derive(Clone, Debug)]
pub struct HttpConnector {
    client: reqwest::Client,
    redirect_base: Option<Arc<str>>,
    max_response_bytes: usize,
    secrets: Option<Arc<HashMap<String, String>>>,
    timeout_cap_ms: Option<u64>,
    backoff: Backoff,
}

/// A request ready to send: secrets already inserted.
pub(crate) struct Prepared {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    timeout: Duration,
    attempts_allowed: u32,
}

/// What one `call` produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The URL as the flow built it, secrets shown as `***`.
    pub display_url: String,
    /// 0 when no response arrived.
    pub status: u16,
    pub error: Option<&'static str>,
    pub body: Option<Vec<u8>>,
    pub attempts: u32,
    pub latency: Duration,
}

impl HttpConnector {
    pub fn new(config: &EngineConfig) -> Result<HttpConnector, reqwest::Error> {
        let mut builder =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS));
        if config.redirect_base.is_some() {
            builder = builder.no_proxy(); // the stub server is local
        }
        Ok(HttpConnector {
            client: builder.build()?,
            redirect_base: config
                .redirect_base
                .as_deref()
                .map(|b| Arc::from(b.trim_end_matches('/'))),
            max_response_bytes: config.max_response_bytes,
            secrets: config.secrets.clone(),
            timeout_cap_ms: config.timeout_cap_ms,
            backoff: config.backoff,
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
            None => std::env::var(name).ok(),
        }
    }

    /// Build the request for `api` from the session's data. On failure, the display URL and the
    /// error code.
    pub(crate) fn prepare(
        &self,
        api: &Api,
        scope: &Scope,
    ) -> Result<(Prepared, String), (String, &'static str)> {
        let display_url = render_url(scope, &api.url, &mut |_| None);
        let mut missing = false;
        let real_url = if has_secret(&api.url) {
            render_url(scope, &api.url, &mut |name| {
                let v = self.secret(scope, name);
                missing |= v.is_none();
                Some(v.unwrap_or_default())
            })
        } else {
            display_url.clone()
        };
        if missing {
            return Err((display_url, "missing_secret"));
        }
        let url = match self.target_url(&api.name, &real_url) {
            Some(u) => u,
            None => return Err((display_url, "bad_url")),
        };
        let headers = match self.headers(api, scope) {
            Ok(h) => h,
            Err(code) => return Err((display_url, code)),
        };
        let body = match self.body(api, scope) {
            Ok(b) => b,
            Err(code) => return Err((display_url, code)),
        };
        let retryable = api.retry_non_idempotent
            || matches!(api.method, Method::Get | Method::Put | Method::Delete);
        let prepared = Prepared {
            method: method(api.method),
            url,
            headers,
            body,
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
        };
        Ok((prepared, display_url))
    }

    /// The URL to send to: the built one, or the same path and query under `redirect_base`.
    fn target_url(&self, api_name: &str, built: &str) -> Option<reqwest::Url> {
        let url = reqwest::Url::parse(built).ok()?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return None;
        }
        let Some(base) = &self.redirect_base else {
            return Some(url);
        };
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        reqwest::Url::parse(&format!("{base}/{api_name}{}{query}", url.path())).ok()
    }

    fn headers(&self, api: &Api, scope: &Scope) -> Result<HeaderMap, &'static str> {
        let mut map = HeaderMap::new();
        for header in &api.headers {
            let mut value = String::new();
            let mut missing = false;
            scope.render_with(&header.value, &mut value, |out, ins| match ins {
                Inserted::Value(v) => out.push_str(v),
                Inserted::Secret(name) => match self.secret(scope, name) {
                    Some(s) => out.push_str(&s),
                    None => missing = true,
                },
            });
            if missing {
                return Err("missing_secret");
            }
            if value.contains(['\r', '\n']) {
                return Err("bad_header");
            }
            let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| "bad_header")?;
            let mut value = HeaderValue::from_str(&value).map_err(|_| "bad_header")?;
            value.set_sensitive(has_secret(&header.value));
            map.append(name, value);
        }
        Ok(map)
    }

    fn body(&self, api: &Api, scope: &Scope) -> Result<Option<Vec<u8>>, &'static str> {
        let Some(body) = &api.body else {
            return Ok(None);
        };
        let mut missing = false;
        let mut secret = |name: &str| {
            let v = self.secret(scope, name);
            missing |= v.is_none();
            v.unwrap_or_default()
        };
        let bytes = match body {
            crate::ir::RequestBody::Text(t) => {
                let mut out = String::new();
                scope.render_with(t, &mut out, |out, ins| match ins {
                    Inserted::Value(v) => out.push_str(v),
                    Inserted::Secret(name) => out.push_str(&secret(name)),
                });
                out.into_bytes()
            }
            crate::ir::RequestBody::Json(j) => {
                let value = json_value(scope, j, &mut secret);
                serde_json::to_vec(&value).map_err(|_| "other")?
            }
        };
        if missing {
            return Err("missing_secret");
        }
        Ok(Some(bytes))
    }

    /// Send with retries. Never fails: failures are `status == 0` with an error code.
    pub(crate) async fn send(
        &self,
        mut prepared: Prepared,
        display_url: String,
        api: &Api,
    ) -> Outcome {
        if prepared.body.is_some() && !prepared.headers.contains_key(CONTENT_TYPE) {
            let ct = match api.body {
                Some(crate::ir::RequestBody::Json(_)) => "application/json",
                _ => "text/plain; charset=utf-8",
            };
            prepared
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = match tokio::time::timeout(prepared.timeout, self.attempt(&prepared)).await
            {
                Ok(r) => r,
                Err(_) => Err("timeout"),
            };
            let transient = match &result {
                Ok((status, _)) => *status >= 500,
                Err(code) => matches!(*code, "timeout" | "connect" | "other"),
            };
            if transient && attempts < prepared.attempts_allowed {
                let wait = self.backoff.delay(attempts - 1, fastrand::f64());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                continue;
            }
            let (status, error, body) = match result {
                Ok((status, body)) => (status, None, Some(body)),
                Err(code) => (0, Some(code), None),
            };
            return Outcome {
                display_url,
                status,
                error,
                body,
                attempts,
                latency: started.elapsed(),
            };
        }
    }

    async fn attempt(&self, p: &Prepared) -> Result<(u16, Vec<u8>), &'static str> {
        let mut request = self
            .client
            .request(p.method.clone(), p.url.clone())
            .headers(p.headers.clone());
        if let Some(body) = &p.body {
            request = request.body(body.clone());
        }
        let mut response = request.send().await.map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|n| n > self.max_response_bytes as u64)
        {
            return Err("too_large");
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err("too_large");
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }
}

fn classify(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_redirect() {
        "redirect"
    } else if e.is_connect() {
        "connect"
    } else if e.is_builder() {
        "bad_url"
    } else {
        "other"
    }
}

fn method(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

fn has_secret(t: &Template) -> bool {
    t.parts.iter().any(|p| match p {
        TemplatePart::Secret(_) => true,
        TemplatePart::Sys(name) => is_otp_code(name),
        _ => false,
    })
}

/// Render a URL template, percent-encoding each inserted value; `secret` supplies secrets
/// (`None` writes the `***` mask).
fn render_url(
    scope: &Scope,
    t: &Template,
    secret: &mut dyn FnMut(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(64);
    scope.render_with(t, &mut out, |out, ins| match ins {
        Inserted::Value(v) => out.extend(utf8_percent_encode(v, URL_VALUE)),
        Inserted::Secret(name) => match secret(name) {
            Some(v) => out.extend(utf8_percent_encode(&v, URL_VALUE)),
            None => out.push_str("***"),
        },
    });
    out
}

fn json_value(
    scope: &Scope,
    t: &JsonTemplate,
    secret: &mut dyn FnMut(&str) -> String,
) -> serde_json::Value {
    use serde_json::Value as J;
    match t {
        JsonTemplate::Object(fields) => J::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), json_value(scope, v, secret)))
                .collect(),
        ),
        JsonTemplate::Array(items) => {
            J::Array(items.iter().map(|i| json_value(scope, i, secret)).collect())
        }
        JsonTemplate::String(template) => {
            if let [part @ (TemplatePart::Attr(_) | TemplatePart::Status)] =
                template.parts.as_slice()
            {
                match scope.part_value(part) {
                    Val::Num(n) => return number_json(n),
                    Val::Bool(b) => return J::Bool(b),
                    _ => {}
                }
            }
            let mut out = String::new();
            scope.render_with(template, &mut out, |out, ins| match ins {
                Inserted::Value(v) => out.push_str(v),
                Inserted::Secret(name) => out.push_str(&secret(name)),
            });
            J::String(out)
        }
        JsonTemplate::Number(n) => number_json(*n),
        JsonTemplate::Bool(b) => J::Bool(*b),
        JsonTemplate::Null => J::Null,
    }
}

/// Follow a `save` path into a JSON answer.
pub(crate) fn lookup<'j>(
    json: &'j serde_json::Value,
    path: &[PathStep],
) -> Option<&'j serde_json::Value> {
    path.iter().try_fold(json, |v, step| match step {
        PathStep::Field(f) => v.get(f.as_str()),
        PathStep::Index(i) => v.get(*i),
    })
}

/// A JSON value as an attribute value; arrays and objects become lists and maps.
pub(crate) fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map_or(Value::Null, Value::Number),
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

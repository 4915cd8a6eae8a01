//! The web chat (`docs/web-chat.md`): a page at `/` and a script a website embeds with one
//! `<script>` tag, both plain files compiled into the binary, and the CORS headers that let
//! that script call the API from another site.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The chat page: it loads `/widget.js` in page mode.
pub const PAGE: &str = include_str!("web/index.html");
/// The chat script; it loads `/widget.css` from its own origin.
pub const SCRIPT: &str = include_str!("web/widget.js");
/// The chat widget's stylesheet, served with the page and the widget script.
pub const STYLE: &str = include_str!("web/widget.css");

/// What the page may load: its own script and style, API calls to its own origin, and the
/// images and media the bot links to. Bot text never becomes markup, and this backs that up.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src https: http: data:; media-src https: http:; \
     base-uri 'none'; form-action 'none'";

/// `/`, `/widget.js` and `/widget.css`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(page))
        .route("/widget.js", get(script))
        .route("/widget.css", get(style))
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
        .into_response()
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Revalidated each load, so a redeployed server's widget is picked up at once.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// CORS for the API: any site may embed the widget, so any origin may call. This is safe
/// because the API authenticates with bearer tokens the caller holds, never with cookies,
/// so a foreign page gains nothing it could not do with curl.
pub async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

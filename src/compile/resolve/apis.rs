//! An `api` block's properties: each at most once, timeouts and retries in range, and a
//! request method that fits the body.

use super::{AiDef, ApiDef, Ctx};
use crate::address::{classify_host, AddressClass};
use crate::diagnostic::{Code, Diag};
use crate::source::FileId;
use crate::syntax::ast::{self, ApiProp, Method, Span};

/// The longest timeout an API may ask for.
const MAX_TIMEOUT_MS: u64 = 120_000;
const DEFAULT_TIMEOUT_MS: u64 = 5_000;
const MAX_RETRY: u32 = 10;

/// Where each property that may appear once was first given.
#[derive(Default)]
struct Seen {
    mode: Option<Span>,
    method: Option<Span>,
    body: Option<Span>,
    timeout: Option<Span>,
    retry: Option<Span>,
    idempotent: Option<Span>,
    internal: Option<Span>,
    redirects: Option<Span>,
    model: Option<Span>,
    key: Option<Span>,
    system: Option<Span>,
    max_tokens: Option<Span>,
}

/// Reads an API's properties, reporting repeats, values out of range and a body on a
/// request that cannot carry one.
pub(super) fn api_def<'a>(ctx: &mut Ctx<'a>, file: FileId, api: &'a ast::Api) -> ApiDef<'a> {
    let mut def = ApiDef {
        file,
        ast: api,
        live: true,
        mode_span: None,
        method: None,
        url: None,
        body: None,
        timeout_ms: DEFAULT_TIMEOUT_MS,
        retry: 0,
        idempotent: false,
        internal: false,
        redirects: Default::default(),
        ai: api.ai.then(AiDef::default),
    };
    let mut seen = Seen::default();
    for prop in &api.props {
        read_prop(ctx, file, &mut def, &mut seen, prop);
    }
    if api.ai {
        // A chat completion changes nothing on the server: repeating it is harmless.
        def.idempotent = true;
        check_ai(ctx, file, &def);
    } else {
        check_method(ctx, file, api, def.method, seen.body);
    }
    if let (Some(retry), Some(method)) = (seen.retry, def.method) {
        check_retry_method(ctx, file, &def, method, retry);
    }
    if let Some(url) = def.url {
        check_host(ctx, file, url, def.internal);
    }
    def
}

/// The URL's scheme, host and port must be literal text: a visitor's answer may fill the
/// path, the query or the fragment, never pick the server. A literal host that is loopback or
/// private needs `internal`; a cloud-metadata one is refused.
fn check_host(ctx: &mut Ctx<'_>, file: FileId, url: &ast::Template, internal: bool) {
    let Some(authority) = literal_authority(url) else {
        ctx.error(
            Diag::new(
                Code::TemplateInHost,
                "a template in the URL's scheme, host or port lets a visitor pick the server",
                url.span,
            )
            .label("the server is not fixed here")
            .help(
                "write the scheme, host and port as literal text (`https://api.example.test/...`); \
                 templates may fill the path and the query",
            ),
            file,
        );
        return;
    };
    let Ok(parsed) = url::Url::parse(&format!("http://{authority}/")) else {
        return;
    };
    let class = parsed.host().as_ref().and_then(classify_host);
    match class {
        Some(AddressClass::Internal) if !internal => ctx.error(
            Diag::new(
                Code::PrivateHost,
                format!("`{authority}` is a loopback or private address, which this API may not reach"),
                url.span,
            )
            .label("blocked at run time")
            .help("if the API is meant to call a service on this machine or your private network, mark it `internal`"),
            file,
        ),
        Some(AddressClass::Metadata) => ctx.error(
            Diag::new(
                Code::MetadataHost,
                format!("`{authority}` is a cloud-metadata address, which no API may reach"),
                url.span,
            )
            .label("never reachable")
            .help("metadata services hold the machine's credentials; call your own service instead"),
            file,
        ),
        _ => {}
    }
}

/// The URL's `host[:port]` when the scheme, host and port are literal text (`None` when a
/// template stands in any of them). A URL with no `://` in its literal start has its scheme
/// templated.
fn literal_authority(url: &ast::Template) -> Option<String> {
    let mut literal = String::new();
    for part in &url.parts {
        match part {
            ast::TemplatePart::Text(t) => literal.push_str(t),
            ast::TemplatePart::Ref(_) => break,
        }
    }
    let complete = url
        .parts
        .iter()
        .all(|p| matches!(p, ast::TemplatePart::Text(_)));
    let (_, rest) = literal.split_once("://")?;
    match rest.find(['/', '?', '#']) {
        Some(end) => Some(rest[..end].to_string()),
        None if complete => Some(rest.to_string()),
        None => None,
    }
}

fn read_prop<'a>(
    ctx: &mut Ctx<'a>,
    file: FileId,
    def: &mut ApiDef<'a>,
    seen: &mut Seen,
    prop: &'a ApiProp,
) {
    match prop {
        ApiProp::Mode { live, span } => {
            if ctx.once(file, &mut seen.mode, *span, "`live`/`draft`") {
                def.live = *live;
                def.mode_span = Some(*span);
            }
        }
        ApiProp::Request { method, url, span } => {
            let what = "method (get/post/put/patch/delete)";
            if ctx.once(file, &mut seen.method, *span, what) {
                def.method = Some(*method);
                def.url = Some(url);
            }
        }
        ApiProp::Body { span, .. } | ApiProp::Json { span, .. } | ApiProp::Form { span, .. } => {
            if ctx.once(
                file,
                &mut seen.body,
                *span,
                "body (`body`, `json` or `form`)",
            ) {
                def.body = Some(prop);
            }
        }
        ApiProp::Timeout { millis, span } => {
            ctx.once(file, &mut seen.timeout, *span, "`timeout`");
            check_timeout(ctx, file, *millis, *span);
            def.timeout_ms = *millis;
        }
        ApiProp::Retry { count, span } => {
            ctx.once(file, &mut seen.retry, *span, "`retry`");
            check_retry(ctx, file, *count, *span);
            def.retry = *count;
        }
        ApiProp::Internal { span } => {
            ctx.once(file, &mut seen.internal, *span, "`internal`");
            def.internal = true;
        }
        ApiProp::Redirects { mode, span } => {
            if ctx.once(file, &mut seen.redirects, *span, "`redirects` line") {
                def.redirects = *mode;
            }
        }
        ApiProp::Idempotent { span } => {
            ctx.once(file, &mut seen.idempotent, *span, "`idempotent`");
            def.idempotent = true;
        }
        ApiProp::Url { url, span } => {
            if ctx.once(file, &mut seen.method, *span, "`url`") {
                def.method = Some(Method::Post);
                def.url = Some(url);
            }
        }
        ApiProp::Model { model, span } => {
            if ctx.once(file, &mut seen.model, *span, "`model`") {
                def.ai.get_or_insert_with(AiDef::default).model = Some(model);
            }
        }
        ApiProp::Key { key, span } => {
            if ctx.once(file, &mut seen.key, *span, "`key`") {
                def.ai.get_or_insert_with(AiDef::default).key = Some(key);
            }
        }
        ApiProp::System { text, span } => {
            if ctx.once(file, &mut seen.system, *span, "`system`") {
                def.ai.get_or_insert_with(AiDef::default).system = Some(text);
            }
        }
        ApiProp::MaxTokens { count, span } => {
            if ctx.once(file, &mut seen.max_tokens, *span, "`max_tokens`") {
                check_max_tokens(ctx, file, *count, *span);
                def.ai.get_or_insert_with(AiDef::default).max_tokens = Some(*count);
            }
        }
        ApiProp::Header { .. } | ApiProp::Save { .. } => {}
    }
}

/// An `ai` needs the URL of its chat-completions endpoint and a model.
fn check_ai(ctx: &mut Ctx<'_>, file: FileId, def: &ApiDef<'_>) {
    let name = &def.ast.name;
    let missing = [
        (
            def.url.is_none(),
            "url",
            "url \"https://api.openai.com/v1/chat/completions\"",
        ),
        (
            def.ai.as_ref().is_none_or(|ai| ai.model.is_none()),
            "model",
            "model \"gpt-4o-mini\"",
        ),
    ];
    for (_, what, example) in missing.into_iter().filter(|(m, ..)| *m) {
        ctx.error(
            Diag::new(
                Code::MissingProperty,
                format!("`ai {}` has no `{what}`", name.name),
                name.span,
            )
            .label(format!("`{what}` is required"))
            .help(format!("add a line such as `{example}` inside the block")),
            file,
        );
    }
}

/// The largest `max_tokens`: more than any model answers in one chat message.
const MAX_TOKENS: u32 = 100_000;

fn check_max_tokens(ctx: &mut Ctx<'_>, file: FileId, count: u32, span: Span) {
    if count == 0 || count > MAX_TOKENS {
        ctx.error(
            Diag::new(
                Code::BadNumber,
                format!("a limit of {count} tokens is out of range"),
                span,
            )
            .label("token limit here")
            .help(format!(
                "use a limit between 1 and {MAX_TOKENS}, e.g. `max_tokens 300`"
            )),
            file,
        );
    }
}

fn check_timeout(ctx: &mut Ctx<'_>, file: FileId, millis: u64, span: Span) {
    if millis == 0 || millis > MAX_TIMEOUT_MS {
        ctx.error(
            Diag::new(
                Code::BadTimeout,
                format!("a timeout of {millis}ms is out of range"),
                span,
            )
            .label("timeout here")
            .help("use a timeout between 1ms and 120s, e.g. `timeout 5s`"),
            file,
        );
    }
}

fn check_retry(ctx: &mut Ctx<'_>, file: FileId, count: u32, span: Span) {
    if count > MAX_RETRY {
        ctx.error(
            Diag::new(Code::BadRetry, format!("{count} retries is too many"), span)
                .label("retry count here")
                .help(format!(
                    "use at most {MAX_RETRY} retries; each one waits longer than the last"
                )),
            file,
        );
    }
}

/// `retry` repeats only requests that may be sent twice: GET, PUT, DELETE, or an API marked
/// `idempotent`. On any other it would silently do nothing, so say so.
fn check_retry_method(
    ctx: &mut Ctx<'_>,
    file: FileId,
    def: &ApiDef<'_>,
    method: Method,
    retry: Span,
) {
    if def.retry == 0
        || def.idempotent
        || matches!(method, Method::Get | Method::Put | Method::Delete)
    {
        return;
    }
    let verb = method.as_str();
    ctx.error(
        Diag::new(
            Code::RetryNotIdempotent,
            format!(
                "a {verb} is never retried, so `retry {}` does nothing",
                def.retry
            ),
            retry,
        )
        .label(format!("ignored: a {verb} might act twice"))
        .help(
            "if sending the request twice does no harm (the server ignores a repeat, e.g. by an \
             idempotency key), mark the API `idempotent`; otherwise remove `retry`",
        ),
        file,
    );
}

/// An API needs a method, and a GET or DELETE carries no body.
fn check_method(
    ctx: &mut Ctx<'_>,
    file: FileId,
    api: &ast::Api,
    method: Option<Method>,
    body: Option<Span>,
) {
    match (method, body) {
        (None, _) => ctx.error(
            Diag::new(
                Code::MissingMethod,
                format!("API `{}` has no request method", api.name.name),
                api.name.span,
            )
            .label("no get/post/put/patch/delete line")
            .help("add a request line such as `get \"https://api.example.test/v1/...\"`"),
            file,
        ),
        (Some(method @ (Method::Get | Method::Delete)), Some(body)) => ctx.error(
            Diag::new(
                Code::BodyNotAllowed,
                format!("a {} request cannot carry a body", method.as_str()),
                body,
            )
            .label("body here")
            .help("use `post`, `put` or `patch` to send a body, or put the values in the URL"),
            file,
        ),
        _ => {}
    }
}

impl Ctx<'_> {
    /// Records the first occurrence of a property; reports later ones. True for the first.
    fn once(&mut self, file: FileId, seen: &mut Option<Span>, span: Span, what: &str) -> bool {
        match *seen {
            Some(first) => {
                self.error(
                    Diag::new(
                        Code::DuplicateProperty,
                        format!("an API has one {what}, this is a second one"),
                        span,
                    )
                    .label("repeated property")
                    .note(first, "first given here")
                    .help("remove one of the two lines"),
                    file,
                );
                false
            }
            None => {
                *seen = Some(span);
                true
            }
        }
    }
}

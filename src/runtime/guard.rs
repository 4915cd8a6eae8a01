//! The API Connector's address guard and redirect rules (docs/security.md).
//!
//! - **Addresses.** Every name is resolved by [`GuardedResolver`], which refuses the name when
//!   any of its A/AAAA records is an address the API may not reach ([`crate::address`]). The
//!   connection goes to the very addresses it returned (hyper's connector connects to the
//!   resolver's answer), so there is no window for DNS rebinding. URLs whose host is an IP
//!   literal never reach a resolver: [`check_literal`] judges them, on the first request and
//!   on every redirect hop.
//! - **Redirects** are followed by the connector itself, hop by hop (see `http.rs`), never by
//!   hyper: [`strip_secrets`] drops what carries a secret when the origin changes, and no
//!   `Referer` is ever sent.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::header::{HeaderMap, AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION};
use hyper::StatusCode;
use hyper_util::client::legacy::connect::dns::Name;

use crate::address::{allowed, classify, classify_host};

/// The error a refused address gives, found again in the client's error chain by
/// [`is_blocked`].
#[derive(Debug)]
pub(crate) struct Blocked {
    host: String,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` resolves to an address this API may not reach",
            self.host
        )
    }
}

impl Error for Blocked {}

/// Resolves names for one class of API (marked `internal` or not), refusing forbidden
/// addresses; `internal: None` refuses none (the test harness's own stub server).
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedResolver {
    pub internal: Option<bool>,
}

type Resolving = Pin<Box<dyn Future<Output = Result<Addrs, BoxError>> + Send>>;
type Addrs = std::vec::IntoIter<SocketAddr>;
type BoxError = Box<dyn Error + Send + Sync>;

impl tower_service::Service<Name> for GuardedResolver {
    type Response = Addrs;
    type Error = BoxError;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Resolving {
        let internal = self.internal;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let Some(internal) = internal else {
                return Ok(addrs.into_iter());
            };
            // One forbidden record refuses the name: a mix is how rebinding attacks start.
            if addrs.is_empty() || addrs.iter().any(|a| !allowed(classify(a.ip()), internal)) {
                return Err(Box::new(Blocked { host }) as BoxError);
            }
            Ok(addrs.into_iter())
        })
    }
}

/// A URL whose host is an IP literal (in any spelling) or `localhost` that the API may not
/// reach is refused before anything is sent.
pub(crate) fn check_literal(url: &url::Url, internal: bool) -> Result<(), &'static str> {
    match url.host().as_ref().and_then(classify_host) {
        Some(class) if !allowed(class, internal) => Err("blocked"),
        _ => Ok(()),
    }
}

/// Whether a client error came from [`GuardedResolver`] refusing an address.
pub(crate) fn is_blocked(e: &(dyn Error + 'static)) -> bool {
    let mut source: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<Blocked>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The headers still sent once a redirect has left the API's origin: none that carries a
/// secret (the connector marks those sensitive), no credentials of any kind.
pub(crate) fn strip_secrets(headers: &HeaderMap) -> HeaderMap {
    headers
        .iter()
        .filter(|(name, value)| {
            !value.is_sensitive()
                && *name != AUTHORIZATION
                && *name != COOKIE
                && *name != PROXY_AUTHORIZATION
        })
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

/// Where a redirect answer points, resolved against the URL it answered; `None` when the
/// answer is no redirect. `Some(None)`: a redirect whose `Location` is not a usable URL.
pub(crate) fn redirect_target(
    status: StatusCode,
    headers: &HeaderMap,
    from: &url::Url,
) -> Option<Option<url::Url>> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = headers.get(LOCATION)?;
    let next = location
        .to_str()
        .ok()
        .and_then(|l| from.join(l).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    Some(next)
}

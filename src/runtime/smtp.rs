//! Email delivery over plain SMTP (no TLS, no authentication): a local relay or a test server.
//! Built without the `smtp` cargo feature, every delivery fails with a reason saying so.

#[cfg(feature = "smtp")]
use std::time::Duration;

#[cfg(feature = "smtp")]
use lettre::message::header::ContentType;
#[cfg(feature = "smtp")]
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::SmtpConfig;

/// How long one delivery may take in all.
#[cfg(feature = "smtp")]
const TIMEOUT: Duration = Duration::from_secs(10);

/// Without lettre there is no way to deliver; say so in `sys.email_error`.
#[cfg(not(feature = "smtp"))]
pub(crate) async fn deliver(
    _config: &SmtpConfig,
    _to: &str,
    _subject: &str,
    _body: &str,
) -> Result<(), String> {
    Err("this build of chatflow has no SMTP support (cargo feature `smtp`)".to_string())
}

/// Deliver one message; `Err` carries a short reason for `sys.email_error`.
#[cfg(feature = "smtp")]
pub(crate) async fn deliver(
    config: &SmtpConfig,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), String> {
    let (host, port) = split_addr(&config.addr)?;
    let from = config
        .from
        .parse()
        .map_err(|e| format!("bad sender address {:?}: {e}", config.from))?;
    let to = to
        .trim()
        .parse()
        .map_err(|e| format!("bad recipient address {to:?}: {e}"))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_string())
        .map_err(|e| format!("cannot build the message: {e}"))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(TIMEOUT))
        .build();
    match tokio::time::timeout(TIMEOUT, transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("SMTP delivery failed: {e}")),
        Err(_) => Err("SMTP delivery timed out".to_string()),
    }
}

#[cfg(feature = "smtp")]
fn split_addr(addr: &str) -> Result<(&str, u16), String> {
    let bad = || format!("bad SMTP server address {addr:?} (expected HOST:PORT)");
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host, port))
}

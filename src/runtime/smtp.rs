//! Email delivery over plain SMTP (no TLS, no authentication): a local relay or a test server.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::SmtpConfig;

/// How long one delivery may take in all.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Deliver one message; `Err` carries a short reason for `sys.email_error`.
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

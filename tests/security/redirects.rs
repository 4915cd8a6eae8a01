//! Item 2: secrets do not follow redirects to other origins. Redirects stay within the API's
//! origin unless it says `redirects any`; leaving the origin drops every header and body part
//! that carries a secret; `Referer` is never sent.

use std::collections::HashMap;
use std::sync::Arc;

use chatflow::runtime::EngineConfig;

use crate::support::*;

const SECRET: &str = "s3cr3t-4f9a";

fn config() -> EngineConfig {
    let secrets: HashMap<String, String> = [("API_KEY".to_string(), SECRET.to_string())].into();
    EngineConfig {
        secrets: Some(Arc::new(secrets)),
        ..EngineConfig::default()
    }
}

/// A server that answers every request with a redirect to `to`.
async fn redirecting(status: u16, to: String) -> Server {
    Server::start(move |_| Some((status, vec![("location".into(), to.clone())], vec![]))).await
}

/// An API posting a secret in a header, the query and a JSON body.
fn api(base: &str, redirects: &str) -> String {
    format!(
        "api leak {{\n  live\n  internal\n{redirects}  post \"{base}/start?key={{secret.API_KEY}}\"\n  header \"X-Api-Key\" = \"{{secret.API_KEY}}\"\n  json {{ \"token\": \"{{secret.API_KEY}}\", \"q\": \"hello\" }}\n  save ok = body.ok\n}}\nnode a {{\n  call leak\n  say \"{{status}}\"\n  close\n}}\n"
    )
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_by_default() {
    let other = Server::json(200, r#"{"ok": true}"#).await;
    let first = redirecting(307, format!("{}/steal", other.base())).await;
    let engine = engine(&api(&first.base(), ""), config());
    let (_, events) = start(&engine).await;
    let calls = calls(&events);
    assert_eq!(calls[0].1, 307, "{calls:?}");
    assert!(
        other.requests().is_empty(),
        "the other origin got a request"
    );
}

#[tokio::test]
async fn leaving_the_origin_drops_every_secret_and_sends_no_referer() {
    for status in [307, 302, 308, 301] {
        let other = Server::json(200, r#"{"ok": true}"#).await;
        let first = redirecting(status, format!("{}/steal", other.base())).await;
        let engine = engine(&api(&first.base(), "  redirects any\n"), config());
        let (_, events) = start(&engine).await;
        assert_eq!(calls(&events)[0].1, 200, "{status}: {events:?}");
        let seen = other.requests();
        assert_eq!(seen.len(), 1, "{status}");
        let text = seen[0].text();
        assert!(
            !text.contains(SECRET),
            "{status}: the secret left the origin:\n{text}"
        );
        assert!(seen[0].header("x-api-key").is_none(), "{status}");
        assert!(seen[0].header("referer").is_none(), "{status}: {text}");
        // The first request had it all.
        assert!(first.requests()[0].text().contains(SECRET));
    }
}

#[tokio::test]
async fn a_same_origin_redirect_keeps_the_request_whole() {
    let server = Server::start(|seen| {
        if seen.target.starts_with("/start") {
            Some((307, vec![("location".into(), "/next".into())], vec![]))
        } else {
            Some((200, vec![], br#"{"ok": true}"#.to_vec()))
        }
    })
    .await;
    let engine = engine(&api(&server.base(), ""), config());
    let (_, events) = start(&engine).await;
    assert_eq!(calls(&events)[0].1, 200, "{events:?}");
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].target, "/next");
    assert_eq!(seen[1].header("x-api-key"), Some(SECRET));
    assert!(seen[1].header("referer").is_none());
}

#[tokio::test]
async fn redirects_none_answers_with_the_redirect() {
    let server =
        Server::start(|_| Some((302, vec![("location".into(), "/next".into())], vec![]))).await;
    let engine = engine(&api(&server.base(), "  redirects none\n"), config());
    let (_, events) = start(&engine).await;
    assert_eq!(calls(&events)[0].1, 302);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn every_hop_is_checked_against_the_address_guard() {
    // An internal API may reach loopback, but a redirect to the metadata service is refused
    // before anything is sent.
    let first = redirecting(302, "http://169.254.169.254/latest/meta-data/".into()).await;
    let engine = engine(&api(&first.base(), "  redirects any\n"), config());
    let (_, events) = start(&engine).await;
    let calls = calls(&events);
    assert_eq!(
        (calls[0].1, calls[0].2.as_deref()),
        (0, Some("blocked")),
        "{calls:?}"
    );
}

/// Credentials written in the URL (flow authors write them; a template may not fill the
/// authority) go as a `Basic` authorization, never in the request line, and are dropped like
/// any secret when a redirect leaves the origin. (reqwest did this for
/// the connector once; the connector on hyper does it itself.)
#[tokio::test]
async fn credentials_in_the_url_go_as_basic_auth_and_stay_in_their_origin() {
    let other = Server::json(200, r#"{"ok": true}"#).await;
    let first = redirecting(307, format!("{}/steal", other.base())).await;
    let src = format!(
        "api login {{\n  live\n  internal\n  redirects any\n  get \"http://ann%20lee:pa55w0rd@{}/start\"\n  save ok = body.ok\n}}\nnode a {{\n  call login\n  say \"{{status}}\"\n  close\n}}\n",
        first.addr
    );
    let engine = engine(&src, config());
    let (_, events) = start(&engine).await;
    assert_eq!(calls(&events)[0].1, 200, "{events:?}");
    let sent = &first.requests()[0];
    assert_eq!(sent.target, "/start");
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("ann lee:pa55w0rd");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert!(!sent.header("host").unwrap_or_default().contains('@'));
    // What every call says it accepts, as before (reqwest's default).
    assert_eq!(sent.header("accept"), Some("*/*"));
    let text = other.requests()[0].text();
    assert!(
        other.requests()[0].header("authorization").is_none(),
        "{text}"
    );
    assert!(
        !text.contains("pa55w0rd") && !text.contains(&basic),
        "{text}"
    );
}

#[test]
fn the_redirects_line_parses_formats_and_rejects_unknown_modes() {
    for mode in ["same_origin", "any", "none"] {
        let src = format!("api a {{\n  live\n  redirects {mode}\n  get \"https://x.test/\"\n}}\nnode n {{ call a; close }}\n");
        assert!(codes(&src).is_empty(), "{mode}: {:?}", codes(&src));
    }
    let bad = "api a {\n  live\n  redirects sometimes\n  get \"https://x.test/\"\n}\nnode n { call a; close }\n";
    assert_eq!(codes(bad), ["chatflow::syntax"]);
}

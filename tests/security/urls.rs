//! Item 4: a visitor's `.` or `..` never climbs the URL path, and the host is never a
//! visitor's pick (see also `addresses::a_template_in_the_scheme_host_or_port_is_an_error`).

use chatflow::runtime::EngineConfig;

use crate::support::*;

async fn call_with(server: &Server, id: &str) -> Vec<(String, u16, Option<String>, u32)> {
    let src = format!(
        "api orders {{\n  live\n  internal\n  get \"{}/v1/users/{{id}}/orders\"\n}}\nnode a {{\n  ask id\n  call orders\n  close\n}}\n",
        server.base()
    );
    let engine = engine(&src, EngineConfig::default());
    let (mut s, _) = start(&engine).await;
    let events = engine.step(&mut s, id).await;
    calls(&events)
}

#[tokio::test]
async fn a_dot_segment_from_a_visitor_is_never_sent() {
    let server = Server::json(200, "{}").await;
    for id in ["..", "."] {
        let calls = call_with(&server, id).await;
        assert_eq!(
            calls[0].2.as_deref(),
            Some("dot_segment"),
            "{id}: {calls:?}"
        );
    }
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.target.starts_with("/v1/users/")),
        "{:?}",
        server.requests()
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn values_with_dots_that_are_no_segment_are_sent_encoded_as_shown() {
    let server = Server::json(200, "{}").await;
    for (id, sent) in [
        ("a..b", "/v1/users/a..b/orders"),
        ("../x", "/v1/users/..%2Fx/orders"),
        ("...", "/v1/users/.../orders"),
        ("%2e%2e", "/v1/users/%252e%252e/orders"),
    ] {
        let calls = call_with(&server, id).await;
        assert_eq!(calls[0].1, 200, "{id}: {calls:?}");
        let seen = server.requests();
        assert_eq!(seen.last().unwrap().target, sent, "{id}");
        // The trace shows the URL as it was sent.
        assert!(calls[0].0.ends_with(sent), "{id}: {}", calls[0].0);
    }
}

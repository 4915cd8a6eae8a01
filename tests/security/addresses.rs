//! Item 3: the address guard. An API reaches loopback, private, link-local, CGNAT and
//! unspecified addresses only when marked `internal`, in every spelling of the address and
//! through names that resolve to them; metadata addresses never; the harness's stub server
//! stays reachable.

use chatflow::runtime::EngineConfig;

use crate::support::*;

fn flow(url: &str, internal: bool) -> String {
    let marker = if internal { "  internal\n" } else { "" };
    format!("api probe {{\n  live\n{marker}  get \"{url}\"\n  timeout 2s\n}}\nnode a {{\n  call probe\n  close\n}}\n")
}

#[tokio::test]
async fn loopback_in_every_spelling_is_refused_without_internal() {
    let server = Server::json(200, "{}").await;
    let port = server.port();
    for host in [
        "127.0.0.1",
        "[::1]",
        "0x7f000001",
        "2130706433",
        "017700000001",
        "[::ffff:127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "localhost",
        "127.1",
        "0.0.0.0",
    ] {
        let url = format!("http://{host}:{port}/x");
        let (_, events) = start(&engine(&flow(&url, false), EngineConfig::default())).await;
        let calls = calls(&events);
        assert_eq!(
            (calls[0].1, calls[0].2.as_deref()),
            (0, Some("blocked")),
            "{url}: {calls:?}"
        );
    }
    assert!(server.requests().is_empty(), "a request got through");
}

#[tokio::test]
async fn an_internal_api_reaches_loopback() {
    let server = Server::json(200, "{}").await;
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("http://{host}:{}/x", server.port());
        let (_, events) = start(&engine(&flow(&url, true), EngineConfig::default())).await;
        assert_eq!(calls(&events)[0].1, 200, "{url}: {events:?}");
    }
}

#[test]
fn a_literal_private_host_without_internal_warns_with_the_fix() {
    for url in [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://[::1]/",
    ] {
        let compiled = chatflow::compile::compile_str("a.flow", &flow(url, false));
        let d = &compiled.diagnostics;
        assert_eq!(d.len(), 1, "{url}: {d:?}");
        assert_eq!(d[0].code.name(), "chatflow::private_host");
        assert!(d[0].help.as_deref().unwrap_or("").contains("`internal`"));
        assert!(compiled.program.is_some(), "a warning only");
        assert!(codes(&flow(url, true)).is_empty(), "{url}");
    }
    assert!(codes(&flow("https://api.example.test/x", false)).is_empty());
}

#[test]
fn a_metadata_host_is_an_error_even_when_internal() {
    for url in ["http://169.254.169.254/latest/", "http://[fd00:ec2::254]/"] {
        assert_eq!(
            codes(&flow(url, true)),
            ["chatflow::metadata_host"],
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_metadata_address_is_refused_at_run_time_even_when_internal() {
    // Built past the compiler (an IR file can say anything): the guard still holds.
    let src = flow("http://169.254.169.254/latest/", true);
    let compiled = chatflow::compile::compile_str("a.flow", &src);
    assert!(compiled.program.is_none());
    let ok = flow("http://127.0.0.2/latest/", true);
    let mut program = chatflow::compile::compile_str("a.flow", &ok)
        .program
        .unwrap();
    program.apis[0].url = chatflow::ir::Template {
        parts: vec![chatflow::ir::TemplatePart::Text(
            "http://[::ffff:169.254.169.254]/x".into(),
        )],
    };
    let engine =
        chatflow::runtime::Engine::new(std::sync::Arc::new(program), EngineConfig::default())
            .unwrap();
    let (_, events) = start(&engine).await;
    assert_eq!(calls(&events)[0].2.as_deref(), Some("blocked"));
}

#[tokio::test]
async fn the_stub_server_stays_reachable() {
    let stub = Server::json(200, r#"{"v": 1}"#).await;
    let config = EngineConfig {
        redirect_base: Some(stub.base()),
        ..EngineConfig::default()
    };
    let (_, events) = start(&engine(&flow("https://api.example.test/x", false), config)).await;
    assert_eq!(calls(&events)[0].1, 200, "{events:?}");
    assert_eq!(stub.requests().len(), 1);
}

#[test]
fn a_template_in_the_scheme_host_or_port_is_an_error() {
    for url in [
        "http://{id}:18080/",
        "{base}/v1/x",
        "http://api.test:{port}/x",
        "http{s}://api.test/",
    ] {
        let src = format!("api a {{\n  live\n  get \"{url}\"\n}}\nnode n {{\n  ask id\n  ask base\n  ask port\n  ask s\n  call a\n  close\n}}\n");
        assert!(
            codes(&src).contains(&"chatflow::template_in_host"),
            "{url}: {:?}",
            codes(&src)
        );
    }
    let ok = "api a {\n  live\n  get \"https://api.test/v1/{id}?q={id}\"\n}\nnode n {\n  ask id\n  call a\n  close\n}\n";
    assert!(codes(ok).is_empty(), "{:?}", codes(ok));
}

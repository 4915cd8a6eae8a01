//! Item 5: a visitor's quotes, `&`, CR/LF and control characters never change a body's
//! structure: `form { }` encodes, a raw body is encoded for its declared type, and the
//! compiler warns about raw bodies that insert values unencoded.

use chatflow::runtime::EngineConfig;

use crate::support::*;

const HOSTILE: &str = "Ann\", \"role\": \"admin&role=admin\r\nX: y\u{1}";

async fn send(server: &Server, body: &str) -> Vec<u8> {
    let src = format!(
        "api signup {{\n  live\n  internal\n  post \"{}/signup\"\n{body}}}\nnode a {{\n  ask name\n  call signup\n  close\n}}\n",
        server.base()
    );
    let engine = engine(&src, EngineConfig::default());
    let (mut s, _) = start(&engine).await;
    let events = engine.step(&mut s, HOSTILE).await;
    assert_eq!(calls(&events)[0].1, 200, "{events:?}");
    server.requests().last().unwrap().body.clone()
}

#[tokio::test]
async fn a_form_body_encodes_every_value() {
    let server = Server::json(200, "{}").await;
    let body = send(
        &server,
        "  form { \"name\": \"{name}\", \"role\": \"guest\", \"n\": 2 }\n",
    )
    .await;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("name".to_string(), HOSTILE.to_string()),
            ("role".to_string(), "guest".to_string()),
            ("n".to_string(), "2".to_string())
        ]
    );
    let seen = server.requests();
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn a_raw_body_is_encoded_for_its_declared_type() {
    let server = Server::json(200, "{}").await;
    let json = send(
        &server,
        "  header \"Content-Type\" = \"application/json\"\n  body \"{{\\\"name\\\": \\\"{name}\\\", \\\"role\\\": \\\"guest\\\"}}\"\n",
    )
    .await;
    let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(parsed["name"], HOSTILE);
    assert_eq!(parsed["role"], "guest");
    assert_eq!(parsed.as_object().unwrap().len(), 2);

    let form = send(
        &server,
        "  header \"Content-Type\" = \"application/x-www-form-urlencoded\"\n  body \"name={name}&role=guest\"\n",
    )
    .await;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&form).into_owned().collect();
    assert_eq!(pairs.len(), 2, "{pairs:?}");
    assert_eq!(pairs[1], ("role".to_string(), "guest".to_string()));
}

#[test]
fn the_compiler_warns_about_unencoded_raw_bodies() {
    let api = |body: &str| {
        format!("api a {{\n  post \"https://x.test/\"\n{body}}}\nnode n {{\n  ask name\n  call a\n  close\n}}\n")
    };
    assert_eq!(
        codes(&api("  body \"{{\\\"name\\\": \\\"{name}\\\"}}\"\n")),
        ["chatflow::json_like_body"]
    );
    assert_eq!(
        codes(&api("  body \"name={name}&role=guest\"\n")),
        ["chatflow::raw_body_template"]
    );
    let declared = "  header \"Content-Type\" = \"application/x-www-form-urlencoded\"\n  body \"name={name}\"\n";
    assert!(codes(&api(declared)).is_empty());
    assert!(codes(&api("  body \"fixed text\"\n")).is_empty());
    assert!(codes(&api("  form { \"name\": \"{name}\" }\n")).is_empty());
    assert_eq!(
        codes(&api("  form { \"name\": [\"{name}\"] }\n")),
        ["chatflow::bad_form"]
    );
}

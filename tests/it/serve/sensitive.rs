//! `sensitive` attributes under `serve`: used within their turn (the API gets the value), then
//! never in clear anywhere — answers, transcripts for the visitor and the admin, the
//! conversation view, reports, and the raw SQLite files.

use std::collections::HashMap;
use std::process::Command;

use chatflow::ir::StubAnswer;
use chatflow::runtime::EngineConfig;
use chatflow::serve::ServeOptions;
use chatflow::testing::StubServer;
use serde_json::{json, Value};

use crate::serve::support::{engine, says, Server, TempDir};

const BANK: &str = r#"
bot "Bank" {
  start pin
}

api verify {
  live
  get "https://bank.example.test/verify?pin={pin}"
  save token sensitive = body.token
}

node pin {
  ask pin sensitive as number "Your PIN?"
  call verify
  say "Checked {pin} with token {token}."
  ask city "Your city?"
  if pin is set -> leak
  else -> done
}

node leak {
  say "still {pin}"
  close
}

node done {
  say "Bye from {city}."
  close
}
"#;

const PIN: &str = "47119923";
const BAD_PIN: &str = "pin x9z7q";
const TOKEN: &str = "tok-5521-zz";

fn assert_clear_of_secrets(what: &str, text: &str) {
    for secret in [PIN, "x9z7q", TOKEN] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

#[test]
fn sensitive_attributes_are_marked_in_the_ir_and_formatted_back() {
    let compiled = chatflow::compile::compile_str("bank.flow", BANK);
    let program = compiled.program.expect("compiles");
    let mut marked: Vec<&str> = program
        .attrs
        .iter()
        .filter(|a| a.sensitive)
        .map(|a| a.name.as_str())
        .collect();
    marked.sort_unstable();
    assert_eq!(marked, ["pin", "token"]);
    let formatted = chatflow::syntax::format::format_source(BANK).expect("formats");
    assert!(
        formatted.contains("ask pin sensitive as number \"Your PIN?\""),
        "{formatted}"
    );
    assert!(
        formatted.contains("save token sensitive = body.token"),
        "{formatted}"
    );
}

#[tokio::test]
async fn a_sensitive_value_is_used_in_its_turn_and_never_shown_or_stored() {
    let stubs = StubServer::start(HashMap::from([(
        "verify".to_string(),
        vec![StubAnswer::Status {
            status: 200,
            body: Some(json!({"token": TOKEN})),
        }],
    )]))
    .await
    .unwrap();
    let config = EngineConfig {
        redirect_base: Some(stubs.base_url().to_string()),
        ..EngineConfig::default()
    };
    let dir = TempDir::new("sensitive");
    let db = dir.path("s.db");
    let options = ServeOptions {
        admin_token: Some("admin".into()),
        ..ServeOptions::default()
    };
    let server = Server::start_engine(engine(BANK, config), &db, options).await;
    let (id, token, opened) = server.open_ok().await;
    assert_eq!(says(&opened), ["Your PIN?"]);

    let (_, refused) = server.say(&id, &token, BAD_PIN, None).await;
    assert_clear_of_secrets("a refused answer", &refused.to_string());
    let (status, answer) = server.say(&id, &token, PIN, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(says(&answer), ["Checked *** with token ***.", "Your city?"]);
    assert_clear_of_secrets("the answer", &answer.to_string());
    // The API itself got the value: it is usable within its turn.
    let sent = stubs.requests_to("verify");
    assert_eq!(
        sent[0].query.as_deref(),
        Some(format!("pin={PIN}").as_str())
    );

    let (_, last) = server.say(&id, &token, "Oslo", None).await;
    assert_eq!(
        says(&last),
        ["Bye from Oslo."],
        "the next turn reads pin as unset"
    );

    let visitor = server.transcript(&id, &token).await;
    assert_clear_of_secrets(
        "the visitor's transcript",
        &Value::from(visitor.clone()).to_string(),
    );
    assert_eq!(visitor[1]["message"]["text"], "***");
    assert_eq!(visitor[2]["message"]["text"], "***");
    let admin = server.transcript(&id, "admin").await;
    assert_clear_of_secrets("the admin's transcript", &Value::from(admin).to_string());
    let (_, view) = server
        .get(&format!("/api/conversations/{id}"), Some("admin"))
        .await;
    assert_clear_of_secrets("the conversation view", &view.to_string());
    assert_eq!(view["attributes"], json!({"city": "Oslo"}));
    let (_, page) = server.get("/admin/report", Some("admin")).await;
    assert_clear_of_secrets("the report page", &page.to_string());
    server.stop().await;

    let report = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["report", "--format", "json", "--store"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(report.status.success());
    assert_clear_of_secrets("the JSON report", &String::from_utf8_lossy(&report.stdout));

    // The raw files: the database and whatever WAL or shared memory it left.
    let mut files = 0;
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("s.db")
        {
            let bytes = std::fs::read(&path).unwrap();
            assert_clear_of_secrets(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
            files += 1;
        }
    }
    assert!(files >= 1);
}

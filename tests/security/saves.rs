//! Item 10: an answer without JSON unsets what the API saves, so a branch never acts on the
//! last call's data; a test note says why a call without a stub really failed.

use chatflow::runtime::EngineConfig;

use crate::support::*;

#[tokio::test]
async fn a_non_json_answer_unsets_the_saves_of_an_earlier_call() {
    let server = Server::start(|seen| {
        if seen.target == "/first" {
            Some((200, vec![], br#"{"role": "admin"}"#.to_vec()))
        } else {
            Some((200, vec![], b"<html>maintenance</html>".to_vec()))
        }
    })
    .await;
    let src = format!(
        "api lookup {{\n  live\n  internal\n  get \"{}/{{which}}\"\n  save role = body.role\n}}\nnode a {{\n  set which = \"first\"\n  call lookup\n  set which = \"second\"\n  call lookup\n  if role is set -> admin\n  else -> guest\n}}\nnode admin {{\n  say \"admin\"\n  close\n}}\nnode guest {{\n  say \"guest\"\n  close\n}}\n",
        server.base()
    );
    let (_, events) = start(&engine(&src, EngineConfig::default())).await;
    let said: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            chatflow::runtime::Event::Say { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(said, ["guest"]);
}

#[test]
fn a_test_note_reports_the_real_cause_of_a_failed_call() {
    // `..` in a path segment is refused before any request is sent.
    let src = "api profile {\n  get \"https://api.example.test/v1/{id}\"\n}\nnode a {\n  set id = \"..\"\n  call profile\n  say \"{status}\"\n  close\n}\ntest \"no stub\" {\n  expect say \"200\"\n}\n";
    let path = file("note", src);
    let out = run(&["test", &path], "");
    let text = stdout(&out) + &stderr(&out);
    assert!(text.contains("dot_segment` before any request"), "{text}");
    assert!(!text.contains("answered 501"), "{text}");
}

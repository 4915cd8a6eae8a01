//! Go to definition, references and rename.

use serde_json::json;

use crate::Client;

const FLOW: &str = r#"bot "Shop" { start greet }

api orders {
  get "https://shop.test/orders/{order_id}"
  save status_text = body.status
}

node greet {
  ask order_id "Your order number?"
  call orders
  if status == 200 -> report
  else -> greet
}

node report {
  say "Order {order_id}: {status_text}"
  run survey(order_id)
}

flow survey(ref) {
  node rate {
    ask score as number "How was it?"
    goto thanks
  }
  node thanks { return }
}

test "report" {
  stub orders 200 {"status": "sent"}
  user "42"
  expect node report
  expect attr order_id == "42"
}
"#;

fn open(name: &str) -> Client {
    let mut c = Client::start(name);
    c.open("shop.flow", FLOW);
    c
}

#[test]
fn definition_of_nodes_apis_attributes_and_flows() {
    let mut c = open("nav_def");
    let mut answers = Vec::new();
    for (needle, shift) in [
        ("report\n  else", 2),
        ("orders\n  if", 0),
        ("order_id}: ", 3),
        ("survey(order_id)", 1),
        ("thanks\n  }", 0),
        ("report\n  expect attr", 0),
    ] {
        let at = c.at("shop.flow", FLOW, needle, shift);
        answers.push(c.result("textDocument/definition", at));
    }
    insta::assert_json_snapshot!(c.redact(&json!(answers)));
    c.stop();
}

#[test]
fn references_of_an_attribute_include_templates_and_tests() {
    let mut c = open("nav_refs");
    let mut at = c.at("shop.flow", FLOW, "order_id \"Your", 0);
    at["context"] = json!({ "includeDeclaration": true });
    let refs = c.result("textDocument/references", at);
    insta::assert_json_snapshot!(c.redact(&refs));
    c.stop();
}

#[test]
fn rename_rewrites_every_use_and_refuses_keywords_and_taken_names() {
    let mut c = open("nav_rename");
    let at = c.at("shop.flow", FLOW, "report\n  else", 0);
    let prepared = c.result("textDocument/prepareRename", at.clone());
    assert_eq!(prepared["placeholder"], "report");
    let mut rename = at.clone();
    rename["newName"] = json!("summary");
    let edit = c.result("textDocument/rename", rename.clone());
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!(c.redact(&edit));
    });

    rename["newName"] = json!("goto");
    let refused = c.request("textDocument/rename", rename.clone());
    let reason = refused["error"]["message"].as_str().unwrap();
    assert!(reason.contains("keyword"), "{reason}");
    rename["newName"] = json!("greet");
    let refused = c.request("textDocument/rename", rename.clone());
    let reason = refused["error"]["message"].as_str().unwrap();
    assert!(reason.contains("already exists"), "{reason}");
    rename["newName"] = json!("two words");
    assert!(c
        .request("textDocument/rename", rename)
        .get("error")
        .is_some());
    c.stop();
}

/// A node of a flow and a top-level node may share a name: renaming one leaves the other.
#[test]
fn rename_of_a_flows_node_stays_in_the_flow() {
    let mut c = open("nav_rename_flow");
    let mut rename = c.at("shop.flow", FLOW, "thanks\n  }", 0);
    rename["newName"] = json!("report");
    let edit = c.result("textDocument/rename", rename);
    let edits = &edit["changes"][c.uri("shop.flow")];
    assert_eq!(edits.as_array().map(Vec::len), Some(2), "{edit}");
    c.stop();
}

/// Across files: the importer is open, so renaming in the library finds its uses.
#[test]
fn rename_across_an_import() {
    let mut c = Client::start("nav_import");
    let lib = "node help { say \"Help\"; close }\n";
    let main = "import \"lib.flow\"\nnode start { goto help }\n";
    c.write("lib.flow", lib);
    c.open("main.flow", main);
    c.open("lib.flow", lib);
    let mut rename = c.at("lib.flow", lib, "help", 0);
    rename["newName"] = json!("support");
    let edit = c.result("textDocument/rename", rename);
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!(c.redact(&edit["changes"]));
    });
    // Go to definition of the import's path: the imported file.
    let at = c.at("main.flow", main, "lib.flow", 1);
    let def = c.result("textDocument/definition", at);
    assert_eq!(def[0]["uri"], c.uri("lib.flow"));
    c.stop();
}

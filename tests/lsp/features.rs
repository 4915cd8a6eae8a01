//! Completion, hover, the outline, folding, semantic tokens, formatting, code actions, the
//! test code lens and the graph command.

use serde_json::{json, Value};

use crate::Client;

const FLOW: &str = r#"bot "Weather" { start greet }

api weather {
  get "https://api.test/v1/weather?q={city}"
  header "Authorization" = "Bearer {secret.TOKEN}"
  timeout 2s
  retry 1
  save temperature = body.main.temp
}

node greet {
  ask city "Which city?"
  call weather
  if status == 200 -> report
  else -> failed
}

node report {
  say "It is {temperature} degrees in {city}."
  close
}

node failed { say "Sorry."; close }

test "reports" {
  stub weather 200 {"main": {"temp": 21}}
  user "Paris"
  expect say "It is 21 degrees in Paris."
}
"#;

fn open(name: &str, text: &str) -> Client {
    let mut c = Client::start(name);
    c.open("w.flow", text);
    c
}

fn labels(answer: &Value) -> Vec<String> {
    answer
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["label"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Completion where the cursor is at the end of `prefix` (found in `text`).
fn complete(c: &mut Client, text: &str, prefix: &str) -> Vec<String> {
    let at = c.at("w.flow", text, prefix, prefix.chars().count());
    labels(&c.result("textDocument/completion", at))
}

#[test]
fn completion_by_context() {
    let text = FLOW
        .replace("  close\n}\n\nnode failed", "  goto \n}\n\nnode failed")
        .replace(
            "  call weather\n",
            "  call weather\n  say \"{ci} {sys.}\"\n  ask n as \n  if not \n",
        );
    // Opened as it was, then typed into: the lines being typed do not parse yet.
    let mut c = open("complete", FLOW);
    c.change("w.flow", 2, &text);
    let mut answers = serde_json::Map::new();
    for (what, prefix) in [
        ("after goto", "  goto "),
        ("after ->", "status == 200 -> "),
        ("after call", "  call "),
        ("in a template", "say \"{ci"),
        ("sys. in a template", "{ci} {sys."),
        ("after as", "ask n as "),
        ("in a condition", "if not "),
        ("secret. in a template", "Bearer {secret."),
    ] {
        answers.insert(what.into(), json!(complete(&mut c, &text, prefix)));
    }
    insta::assert_json_snapshot!(answers);
    c.stop();
}

/// `body.` in an API offers the fields of the answers its tests stub, level by level, with
/// an example value; only that API's stubs count.
#[test]
fn body_paths_from_the_answers_tests_stub() {
    let text = FLOW.replace(
        "  user \"Paris\"\n",
        "  stub other 200 {\"elsewhere\": 1}\n  user \"Paris\"\n",
    ) + "test \"more\" {\n  stub weather 200 {\"main\": {\"temp\": 3, \"humidity\": 80}, \"name\": \"Oslo\"}\n}\n";
    let mut c = open("body", &text);
    let top = c.at("w.flow", &text, "save temperature = body.", 24);
    let answer = c.result("textDocument/completion", top);
    assert_eq!(labels(&answer), ["main", "name"]);
    assert_eq!(answer[1]["detail"], "e.g. \"Oslo\"");
    assert_eq!(
        complete(&mut c, &text, "save temperature = body.main."),
        ["temp", "humidity"]
    );
    // While the line is being typed (it does not parse), the stubs still count.
    let typing = text.replace("body.main.temp", "body.main.");
    c.change("w.flow", 2, &typing);
    assert_eq!(
        complete(&mut c, &typing, "save temperature = body.main."),
        ["temp", "humidity"]
    );
    c.stop();
}

/// Workspace symbols cover every `.flow` file under the workspace folder, also those no open
/// document imports (hidden folders skipped).
#[test]
fn workspace_symbols_from_every_flow_file_of_the_workspace() {
    let mut c = crate::Client::start_in_workspace("workspace-symbols");
    c.write(
        "other.flow",
        "node lonely {\n  say \"x\"\n}\nflow pay() {\n  node card { close }\n}\n",
    );
    std::fs::create_dir_all(c.dir.join("sub")).unwrap();
    c.write(
        "sub/deep.flow",
        "api deep_api {\n  get \"https://x.test\"\n}\n",
    );
    std::fs::create_dir_all(c.dir.join(".cache")).unwrap();
    c.write(".cache/hidden.flow", "node hidden { close }\n");
    c.open("w.flow", FLOW);
    let found = c.result("workspace/symbol", json!({ "query": "" }));
    let mut names: Vec<(String, String)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let uri = s["location"]["uri"].as_str().unwrap();
            let file = uri.rsplit('/').next().unwrap().to_string();
            (s["name"].as_str().unwrap().to_string(), file)
        })
        .collect();
    names.sort();
    let want = [
        ("deep_api", "deep.flow"),
        ("failed", "w.flow"),
        ("greet", "w.flow"),
        ("lonely", "other.flow"),
        ("pay", "other.flow"),
        ("pay.card", "other.flow"),
        ("report", "w.flow"),
        ("weather", "w.flow"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(n, f)| (n.to_string(), f.to_string()))
        .collect();
    assert_eq!(names, want);
    let found = c.result("workspace/symbol", json!({ "query": "pay." }));
    assert_eq!(found.as_array().unwrap().len(), 1);
    let range = &found[0]["location"]["range"]["start"];
    assert_eq!(range, &json!({ "line": 4, "character": 7 }));
    c.stop();
}

#[test]
fn hover_on_an_attribute_an_api_a_node_and_a_diagnostic() {
    let text = FLOW.replace("else -> failed", "else -> faild");
    let mut c = open("hover", &text);
    let mut answers = Vec::new();
    for (needle, shift) in [
        ("temperature} degrees", 2),
        ("weather\n  if", 1),
        ("report\n  else", 1),
        ("faild", 1),
    ] {
        let at = c.at("w.flow", &text, needle, shift);
        answers.push(c.result("textDocument/hover", at)["contents"]["value"].clone());
    }
    insta::assert_json_snapshot!(answers);
    c.stop();
}

#[test]
fn outline_folding_and_semantic_tokens() {
    let mut c = open("outline", FLOW);
    let doc = json!({ "textDocument": { "uri": c.uri("w.flow") } });
    let symbols = c.result("textDocument/documentSymbol", doc.clone());
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "bot Weather",
            "weather",
            "greet",
            "report",
            "failed",
            "test \"reports\""
        ]
    );
    let folds = c.result("textDocument/foldingRange", doc.clone());
    let lines: Vec<(u64, u64)> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [(2, 8), (10, 15), (17, 20), (24, 28)]);
    let tokens = c.result("textDocument/semanticTokens/full", doc);
    insta::assert_json_snapshot!(tokens);
    let found = c.result("workspace/symbol", json!({ "query": "rep" }));
    assert_eq!(found[0]["name"], "report");
    c.stop();
}

#[test]
fn formatting_is_chatflow_fmt() {
    let text = "node a {say \"x\";close}\n";
    let mut c = open("format", text);
    let params = json!({ "textDocument": { "uri": c.uri("w.flow") }, "options": { "tabSize": 2, "insertSpaces": true } });
    let edits = c.result("textDocument/formatting", params.clone());
    let formatted = chatflow::syntax::format::format_source(text).unwrap();
    assert_eq!(edits[0]["newText"], formatted);
    assert_eq!(
        edits[0]["range"]["end"],
        json!({ "line": 1, "character": 0 })
    );
    c.change("w.flow", 2, &formatted);
    assert_eq!(
        c.result("textDocument/formatting", params.clone()),
        json!([])
    );
    // Syntax errors: nothing is changed.
    c.change("w.flow", 3, "node a { say }\n");
    assert_eq!(c.result("textDocument/formatting", params), Value::Null);
    c.stop();
}

#[test]
fn code_actions_fix_a_typo_and_add_a_missing_else() {
    let text = "node greet {\n  ask x\n  goto confrim\n}\n\nnode confirm {\n  ask y\n  if y == \"a\" -> greet\n}\n";
    let mut c = open("actions", text);
    let params = json!({
        "textDocument": { "uri": c.uri("w.flow") },
        "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 9, "character": 0 } },
        "context": { "diagnostics": [] }
    });
    let actions = c.result("textDocument/codeAction", params);
    let summary: Vec<Value> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| json!({ "title": a["title"], "edit": c.redact(&a["edit"]) }))
        .collect();
    insta::assert_json_snapshot!(summary);
    c.stop();
}

#[test]
fn code_lens_runs_a_test_and_the_graph_command_draws_the_flow() {
    let mut c = open("lens", FLOW);
    let lenses = c.result(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": c.uri("w.flow") } }),
    );
    assert_eq!(lenses.as_array().map(Vec::len), Some(1));
    let command = &lenses[0]["command"];
    assert_eq!(command["title"], "▶ Run test");
    assert_eq!(lenses[0]["range"]["start"]["line"], 24);
    let run = c.result(
        "workspace/executeCommand",
        json!({ "command": command["command"], "arguments": command["arguments"] }),
    );
    assert_eq!(run["passed"], true, "{run}");
    assert!(run["report"].as_str().unwrap().contains("reports"), "{run}");
    let graph = c.result(
        "workspace/executeCommand",
        json!({ "command": "chatflow.graph", "arguments": [c.uri("w.flow")] }),
    );
    let program = chatflow::compile::compile_str("w.flow", FLOW)
        .program
        .unwrap();
    let expected = chatflow::graph::render(
        &chatflow::graph::build(&program),
        chatflow::graph::Format::Mermaid,
    );
    assert_eq!(graph, json!(expected));
    c.stop();
}

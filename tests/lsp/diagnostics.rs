//! Diagnostics on open, change and save; imports; UTF-16 columns.

use serde_json::json;

use crate::Client;

const BROKEN: &str = "bot \"Demo\" { start greet }\n\nnode greet {\n  say \"Héllo 👋, world\"; goto confrim\n}\n\nnode confirm { close }\n";

#[test]
fn diagnostics_carry_code_help_and_related_locations() {
    let mut c = Client::start("diag_open");
    c.open("main.flow", BROKEN);
    let diags = c.diagnostics("main.flow");
    insta::assert_json_snapshot!(c.redact(&diags));
    c.stop();
}

/// The column counts UTF-16 units: `é` is one (two bytes), `👋` two (four bytes).
#[test]
fn columns_after_non_ascii_text_are_utf16() {
    let mut c = Client::start("diag_utf16");
    c.open("main.flow", BROKEN);
    let diags = c.diagnostics("main.flow");
    let expected = Client::pos(BROKEN, "confrim", 0);
    assert_eq!(diags[0]["range"]["start"], expected);
    // Before `confrim` on its line: 33 bytes, 29 characters, 30 UTF-16 units.
    assert_eq!(expected["character"], 30);
    c.stop();
}

#[test]
fn a_change_rechecks_and_clears_fixed_diagnostics() {
    let mut c = Client::start("diag_change");
    c.open("main.flow", BROKEN);
    assert_eq!(c.diagnostics("main.flow").as_array().map(Vec::len), Some(1));
    c.change("main.flow", 2, &BROKEN.replace("confrim", "confirm"));
    assert_eq!(c.diagnostics("main.flow"), json!([]));
    c.change("main.flow", 3, "node a {\n  goto\n}\n");
    let diags = c.diagnostics("main.flow");
    assert_eq!(diags[0]["code"], "chatflow::syntax");
    c.stop();
}

/// A change in an imported file re-checks the files that import it.
#[test]
fn an_imported_files_change_rechecks_its_importer() {
    let mut c = Client::start("diag_imports");
    let lib = "node help { say \"Help\"; close }\n";
    c.write("lib.flow", lib);
    let main = "import \"lib.flow\"\nnode start { goto help }\n";
    c.open("main.flow", main);
    assert_eq!(c.diagnostics("main.flow"), json!([]));
    c.open("lib.flow", lib);
    // The library alone would have no start; it is checked as part of its importer.
    assert_eq!(c.diagnostics("lib.flow"), json!([]));
    c.change("lib.flow", 2, "node helper { say \"Help\"; close }\n");
    let diags = c.diagnostics("main.flow");
    assert_eq!(diags[0]["code"], "chatflow::unknown_node", "{diags}");
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `helper`?"));
    // The library's own text is not saved: the importer read the editor's buffer.
    c.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": c.uri("lib.flow") } }),
    );
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": c.uri("lib.flow") } }),
    );
    // Closed, the library is read from disk again, where `help` still exists.
    assert_eq!(c.diagnostics("main.flow"), json!([]));
    c.stop();
}

//! `chatflow lsp`: a language server over stdio (docs/editors.md).
//!
//! Everything it knows comes from the compiler: diagnostics are `check`'s, names resolve
//! through the symbol index the compiler builds while resolving ([`crate::compile::symbols`]),
//! formatting is `chatflow fmt`'s and the graph is `chatflow graph`'s. Built on rust-analyzer's
//! `lsp-server` (synchronous): each message is answered in order, after the edits before it.

mod complete;
mod edit;
mod files;
mod hover;
mod navigate;
mod outline;
mod position;
mod server;
mod workspace;

pub use server::Server;

use lsp_server::{Connection, Message};

/// Serves one editor over stdin and stdout until it says `exit`.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = serde_json::to_value(server::capabilities()).map_err(|e| e.to_string())?;
    let init = connection
        .initialize(capabilities)
        .map_err(|e| format!("initialize: {e}"))?;
    let mut server = Server::with_roots(workspace_roots(&init));
    for message in &connection.receiver {
        match message {
            Message::Request(req) => {
                if connection
                    .handle_shutdown(&req)
                    .map_err(|e| format!("shutdown: {e}"))?
                {
                    break;
                }
                let response = server.request(req);
                send(&connection, Message::Response(response))?;
            }
            Message::Notification(note) => {
                for out in server.notification(note) {
                    send(&connection, Message::Notification(out))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io_threads.join().map_err(|e| format!("stdio: {e}"))
}

/// The folders of the workspace, from `initialize`: its `workspaceFolders`, else `rootUri`,
/// else `rootPath`.
fn workspace_roots(init: &serde_json::Value) -> Vec<std::path::PathBuf> {
    let from_uri = |v: &serde_json::Value| {
        let uri = lsp_types::Url::parse(v.as_str()?).ok()?;
        uri.to_file_path().ok()
    };
    let folders: Vec<std::path::PathBuf> = init["workspaceFolders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| from_uri(&f["uri"]))
        .collect();
    if !folders.is_empty() {
        return folders;
    }
    from_uri(&init["rootUri"])
        .or_else(|| init["rootPath"].as_str().map(std::path::PathBuf::from))
        .into_iter()
        .collect()
}

fn send(connection: &Connection, message: Message) -> Result<(), String> {
    connection
        .sender
        .send(message)
        .map_err(|e| format!("the editor went away: {e}"))
}

#[cfg(test)]
mod robustness {
    //! Random edits of real flows, each followed by every kind of request at random places:
    //! the server answers them all (a panic fails the test) and keeps its ranges in the text.

    use lsp_server::{Notification, Request, RequestId};
    use serde_json::{json, Value};

    use super::Server;

    const INPUTS: &[&str] = &[
        include_str!("../../examples/weather.flow"),
        include_str!("../../tests/inputs/ok/actions_flows.flow"),
        include_str!("../../tests/inputs/ok/expressions.flow"),
    ];

    /// Pieces an edit inserts: the language's punctuation, non-ASCII text, names.
    const PIECES: &[&str] = &[
        "{", "}", "\"", "->", ".", " ", "\n", "é", "👋", "goto ", "sys.", "{secret.", "node x {",
        "if ", "else", "call ", "(", ")", "#", "\r\n",
    ];

    const REQUESTS: &[&str] = &[
        "textDocument/definition",
        "textDocument/references",
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/prepareRename",
        "textDocument/rename",
        "textDocument/documentSymbol",
        "textDocument/foldingRange",
        "textDocument/semanticTokens/full",
        "textDocument/formatting",
        "textDocument/codeAction",
        "textDocument/codeLens",
    ];

    fn edit(rng: &mut fastrand::Rng, text: &str) -> String {
        let floor = |i: usize| crate::source::floor_boundary(text, i);
        let a = floor(rng.usize(..=text.len()));
        match rng.u8(..3) {
            0 => {
                let b = floor((a + rng.usize(..40)).min(text.len()));
                format!("{}{}", &text[..a], &text[b..])
            }
            _ => {
                let piece = PIECES[rng.usize(..PIECES.len())];
                format!("{}{piece}{}", &text[..a], &text[a..])
            }
        }
    }

    fn params(method: &str, uri: &str, rng: &mut fastrand::Rng) -> Value {
        let pos = json!({ "line": rng.u32(..60), "character": rng.u32(..90) });
        let doc = json!({ "uri": uri });
        match method {
            "textDocument/documentSymbol"
            | "textDocument/foldingRange"
            | "textDocument/semanticTokens/full"
            | "textDocument/codeLens" => json!({ "textDocument": doc }),
            "textDocument/formatting" => {
                json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } })
            }
            "textDocument/codeAction" => json!({
                "textDocument": doc,
                "range": { "start": { "line": 0, "character": 0 }, "end": pos },
                "context": { "diagnostics": [] }
            }),
            "textDocument/references" => json!({
                "textDocument": doc, "position": pos, "context": { "includeDeclaration": true }
            }),
            "textDocument/rename" => {
                json!({ "textDocument": doc, "position": pos, "newName": "n2" })
            }
            _ => json!({ "textDocument": doc, "position": pos }),
        }
    }

    #[test]
    fn random_edits_never_break_the_server() {
        let uri = "file:///tmp/chatflow-robustness/m.flow";
        let mut rng = fastrand::Rng::with_seed(0x15b_ed17);
        let mut id = 0;
        for input in INPUTS {
            let mut server = Server::default();
            let open = json!({ "textDocument": { "uri": uri, "languageId": "chatflow", "version": 1, "text": input } });
            server.notification(Notification::new("textDocument/didOpen".into(), open));
            let mut text = input.to_string();
            for version in 2..26 {
                text = if version % 10 == 0 {
                    input.to_string()
                } else {
                    edit(&mut rng, &text)
                };
                let change = json!({
                    "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "text": text }]
                });
                let out =
                    server.notification(Notification::new("textDocument/didChange".into(), change));
                let lines = text.split('\n').count() as u64;
                for note in out {
                    for d in note.params["diagnostics"].as_array().into_iter().flatten() {
                        let end = d["range"]["end"]["line"].as_u64().unwrap_or(u64::MAX);
                        assert!(end < lines, "a diagnostic past the text: {d}");
                    }
                }
                for method in REQUESTS {
                    id += 1;
                    let p = params(method, uri, &mut rng);
                    let req = Request::new(RequestId::from(id), method.to_string(), p);
                    let response = server.request(req);
                    if let Err(e) = &response.response_result {
                        // Refusals are answers too; a malformed request never happens here.
                        assert_ne!(
                            e.code,
                            lsp_server::ErrorCode::InvalidParams as i32,
                            "{method}: {}",
                            e.message
                        );
                    }
                }
            }
        }
    }
}

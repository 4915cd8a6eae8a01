//! A minimal editor: spawns `chatflow lsp`, speaks JSON-RPC with Content-Length framing over
//! its stdin and stdout, and keeps the notifications it receives.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    /// Notifications not yet looked at, oldest first.
    pub notes: Vec<Value>,
    /// The test's own directory of flow files.
    pub dir: PathBuf,
}

/// A fresh directory for one test's files.
pub fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("lsp")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a test directory");
    dir
}

impl Client {
    /// Starts the server and goes through `initialize`, with no workspace folder.
    pub fn start(name: &str) -> Client {
        Client::start_with(name, false)
    }

    /// Starts the server with the test's directory as the workspace (`rootUri`).
    pub fn start_in_workspace(name: &str) -> Client {
        Client::start_with(name, true)
    }

    fn start_with(name: &str, workspace: bool) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chatflow"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("chatflow lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut client = Client {
            child,
            stdin,
            stdout,
            next_id: 1,
            notes: Vec::new(),
            dir: test_dir(name),
        };
        let root = if workspace {
            json!(client.uri(""))
        } else {
            Value::Null
        };
        let init = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": root, "capabilities": {} }),
        );
        assert!(init["result"]["capabilities"].is_object(), "{init}");
        client.notify("initialized", json!({}));
        client
    }

    pub fn uri(&self, file: &str) -> String {
        url::Url::from_file_path(self.dir.join(file))
            .expect("an absolute path")
            .to_string()
    }

    /// Replaces this test's directory URI by `file:///ROOT` in a JSON answer, for snapshots.
    pub fn redact(&self, value: &Value) -> Value {
        let root = self.uri("");
        let text = value
            .to_string()
            .replace(root.trim_end_matches('/'), "file:///ROOT");
        serde_json::from_str(&text).expect("still JSON")
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn read(&mut self) -> Value {
        let mut length = None;
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).expect("read a header");
            assert!(n > 0, "the server closed its stdout");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = Some(v.parse::<usize>().expect("a length"));
            }
        }
        let mut body = vec![0; length.expect("a Content-Length header")];
        self.stdout.read_exact(&mut body).expect("read a body");
        serde_json::from_slice(&body).expect("a JSON message")
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.read();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.notes.push(message);
        }
    }

    /// The result of a request, which must not be an error.
    pub fn result(&mut self, method: &str, params: Value) -> Value {
        let answer = self.request(method, params);
        assert!(answer.get("error").is_none(), "{method}: {answer}");
        answer["result"].clone()
    }

    /// Writes a file of the test's directory (an import read from disk).
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.join(file), text).expect("write a flow");
    }

    pub fn open(&mut self, file: &str, text: &str) {
        let uri = self.uri(file);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "chatflow", "version": 1, "text": text } }),
        );
    }

    pub fn change(&mut self, file: &str, version: i64, text: &str) {
        let uri = self.uri(file);
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// The diagnostics last published for `file`, after every message sent so far was handled
    /// (a request round-trip orders them: the server answers in order).
    pub fn diagnostics(&mut self, file: &str) -> Value {
        self.request("workspace/symbol", json!({ "query": "" }));
        let uri = self.uri(file);
        let last = self
            .notes
            .iter()
            .rev()
            .find(|n| {
                n["method"] == "textDocument/publishDiagnostics"
                    && n["params"]["uri"] == uri.as_str()
            })
            .cloned()
            .unwrap_or(Value::Null);
        last["params"]["diagnostics"].clone()
    }

    /// A position in `file`'s text: the line and UTF-16 column where `needle` starts, plus
    /// `shift` characters.
    pub fn pos(text: &str, needle: &str, shift: usize) -> Value {
        let at = text.find(needle).expect("the needle is in the text");
        let before = &text[..at];
        let line = before.matches('\n').count();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let mut col = text[line_start..at].encode_utf16().count();
        col += needle
            .chars()
            .take(shift)
            .map(char::len_utf16)
            .sum::<usize>();
        json!({ "line": line, "character": col })
    }

    pub fn at(&self, file: &str, text: &str, needle: &str, shift: usize) -> Value {
        json!({ "textDocument": { "uri": self.uri(file) }, "position": Self::pos(text, needle, shift) })
    }

    /// `shutdown`, `exit`, and the process ends with status 0.
    pub fn stop(mut self) {
        let answer = self.request("shutdown", Value::Null);
        assert!(answer.get("error").is_none(), "{answer}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("the server exits");
        assert!(status.success(), "{status}");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

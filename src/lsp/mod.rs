//! `chatflow lsp`: a language server over stdio (docs/editors.md).
//!
//! Everything it knows comes from the compiler: diagnostics are `check`'s, names resolve
//! through the symbol index the compiler builds while resolving ([`crate::compile::symbols`]),
//! formatting is `chatflow fmt`'s and the graph is `chatflow graph`'s. Built on rust-analyzer's
//! `lsp-server` (synchronous): each message is answered in order, after the edits before it.

mod complete;
mod edit;
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
    connection
        .initialize(capabilities)
        .map_err(|e| format!("initialize: {e}"))?;
    let mut server = Server::default();
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

fn send(connection: &Connection, message: Message) -> Result<(), String> {
    connection
        .sender
        .send(message)
        .map_err(|e| format!("the editor went away: {e}"))
}

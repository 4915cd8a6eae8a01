//! `chatflow lsp` driven as an editor drives it: the built binary over stdio, JSON-RPC with
//! Content-Length framing; answers are snapshotted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod diagnostics;
mod features;
mod navigate;

pub use client::Client;

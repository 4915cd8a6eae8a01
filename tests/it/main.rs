//! The integration tests, one binary: a module per area. One binary links once, where thirteen
//! binaries each linked the whole library and its dependencies again.
//!
//! Run one area with `cargo test --test it cli::`, one test with its name as a filter.

// Tests and benches fail by panicking; the no-panic rule is for the library and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod brain;
mod channels;
mod cli;
mod clock;
mod common;
mod compile_snapshots;
mod conversations;
mod coverage;
mod expressions;
mod fmt;
mod fuzz;
mod graph;
mod http_connector;
mod runtime;
mod runtime_actions;
mod serve;
mod syntax;
mod syntax_actions;
mod test_blocks;
mod testing;
mod tls_api;
mod understanding;
mod webchat;

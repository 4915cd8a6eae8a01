//! `chatflow serve`: the HTTP API over real loopback sockets and a real SQLite file.
//!
//! In-process servers (`support::Server`) for the API contract; the real `chatflow` binary
//! (`process`) for what a process does: the ready line, signals, kills and restarts.

mod api;
mod durability;
mod process;
pub mod report;
mod sensitive;
mod store;
pub mod support;
mod turns;

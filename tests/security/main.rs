//! Attack tests for the hardening of issue 11 (`docs/security.md`): each feeds the binary or
//! the library what an attacker would (hostile sources, visitor input, API answers, redirects)
//! over real loopback sockets, and checks that its guard holds. Each fails when its guard is
//! removed.
//!
//! Run one area with `cargo test --test security redirects::`.

// Tests fail by panicking; the no-panic rule is for the library and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Counts heap per thread for `memory`; the system allocator otherwise.
#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;

mod addresses;
mod bodies;
mod diagnostics;
mod fuzz;
mod limits;
mod memory;
mod output;
mod redirects;
mod saves;
mod secrets;
mod support;
mod urls;

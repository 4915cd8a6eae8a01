//! chatflow: chatbot conversation flows as code.
//!
//! ```text
//! source ──syntax──▶ AST ──compile──▶ IR ──runtime──▶ events
//! ```
//!
//! - [`syntax`] parses `.flow` text (pest grammar in `grammar/chatflow.pest`) into a typed AST.
//! - [`compile`] resolves names, checks types and the flow graph, and lowers to [`ir`].
//! - [`runtime`] runs the IR: sessions, the interpreter, the HTTP API connector.
//! - [`source`] (spans, files), [`vocab`] (the enums AST and IR share) and [`diagnostic`] are
//!   the bottom, shared by all phases. Each module uses only those below it (checked by a test
//!   in `src/layers.rs`): source, vocab, diagnostic, syntax, ir, compile, runtime, graph, testing.
//! - [`testing`] runs `test` blocks against a local stub server, and measures their coverage.
//! - [`graph`] draws a program as a Mermaid or dot graph; [`syntax::format`] is `chatflow fmt`.

pub mod compile;
pub mod diagnostic;
pub mod graph;
pub mod ir;
pub mod runtime;
pub mod serve;
pub mod source;
pub mod store;
pub mod syntax;
pub mod testing;
pub mod vocab;

#[cfg(test)]
mod layers;

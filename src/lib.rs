//! chatflow: chatbot conversation flows as code.
//!
//! ```text
//! source ──syntax──▶ AST ──compile──▶ IR ──runtime──▶ events
//! ```
//!
//! - [`syntax`] parses `.flow` text (pest grammar in `grammar/chatflow.pest`) into a typed AST.
//! - [`compile`] resolves names, checks types and the flow graph, and lowers to [`ir`].
//! - [`runtime`] runs the IR: sessions, the interpreter, the HTTP API connector.
//! - [`diagnostic`] is shared by all phases.
//! - [`testing`] runs `test` blocks against a local stub server, and measures their coverage.
//! - [`graph`] draws a program as a Mermaid or dot graph; [`syntax::format`] is `chatflow fmt`.

pub mod compile;
pub mod diagnostic;
pub mod graph;
pub mod ir;
pub mod runtime;
pub mod syntax;
pub mod testing;

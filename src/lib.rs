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
//!
//! # Embedding
//!
//! Compile a flow once, load it into an [`Engine`](runtime::Engine), and run each
//! conversation one turn at a time. A [`Session`](runtime::Session) is plain serde data, so it
//! can be stored (here as JSON) between turns and resumed by any engine holding the same
//! program. `examples/embed.rs` is the same as a program; `docs/embedding.md` lists the cargo
//! features (`default-features = false` gives the compiler and runtime alone).
//!
//! ```
//! use std::sync::Arc;
//!
//! use chatflow::compile::compile_str;
//! use chatflow::runtime::{Engine, EngineConfig, Event, Session, SessionState};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let flow = r#"
//!     bot "Greeter" { start greet }
//!     node greet {
//!       ask name as name "Hi! What is your name?"
//!       say "Nice to meet you, {name}."
//!       close
//!     }
//! "#;
//! let compiled = compile_str("greeter.flow", flow);
//! assert!(compiled.diagnostics.is_empty());
//! let program = compiled.program.ok_or("the flow has errors")?;
//! let engine = Engine::new(Arc::new(program), EngineConfig::default())?;
//!
//! // First turn: the bot asks. The session goes to storage as JSON.
//! let mut session = engine.new_session();
//! let events = engine.start(&mut session).await;
//! assert!(events.contains(&Event::Say { text: "Hi! What is your name?".into() }));
//! let stored: String = serde_json::to_string(&session)?;
//!
//! // Next turn, perhaps in another process: load, answer, store again.
//! let mut session: Session = serde_json::from_str(&stored)?;
//! let events = engine.step(&mut session, "Ann").await;
//! assert!(events.contains(&Event::Say { text: "Nice to meet you, Ann.".into() }));
//! assert_eq!(session.state, SessionState::Closed);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod address;
pub mod channels;
pub mod compile;
pub mod diagnostic;
pub mod graph;
pub mod ir;
#[cfg(feature = "lsp")]
pub mod lsp;
pub mod nlu;
pub mod report;
pub mod runtime;
#[cfg(feature = "serve")]
pub mod serve;
pub mod source;
#[cfg(feature = "serve")]
pub mod store;
pub mod syntax;
pub mod testing;
pub mod vocab;

#[cfg(test)]
mod layers;

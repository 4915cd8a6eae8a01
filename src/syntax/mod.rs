//! Parse flow text into a typed AST with spans.

pub mod ast;

use crate::diagnostic::Diag;

/// Parses one file. Always returns a (possibly partial) AST together with every syntax
/// diagnostic found; the caller treats the file as broken if any diagnostic is an error.
/// Diagnostics carry `file == 0`; the caller sets the real file id.
pub fn parse(text: &str) -> (ast::File, Vec<Diag>) {
    let _ = text;
    todo!("syntax helper")
}

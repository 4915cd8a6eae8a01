//! Parse flow text into a typed AST with spans.
//!
//! The pest grammar (`grammar/chatflow.pest`) is run one top-level item at a time. When an item
//! fails, its diagnostic is recorded and parsing resumes at the next line that starts with a
//! top-level keyword, so every broken item gets its own diagnostic and the good ones are kept.

pub mod ast;
mod build;
mod errors;
mod fast;
pub mod format;
pub mod keywords;
mod leaf;
mod template;
mod text;
pub use text::Str;

use pest::Parser;

use crate::diagnostic::Diag;
pub use errors::in_test_block;
pub use keywords::is_reserved;

/// The pest parser, in a private room: its generated `Rule` enum is an implementation detail,
/// not part of the library's API.
mod pest_parser {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/chatflow.pest"]
    pub(crate) struct FlowParser;
}
pub(crate) use pest_parser::{FlowParser, Rule};

/// Parses one file. Always returns a (possibly partial) AST together with every syntax
/// diagnostic found; the caller treats the file as broken if any diagnostic is an error.
/// Diagnostics carry `file == 0`; the caller sets the real file id.
pub fn parse(text: &str) -> (ast::File, Vec<Diag>) {
    parse_items(text, true)
}

/// [`parse`] without the fast path: every item goes through the pest grammar. The result
/// must equal [`parse`]'s; tests compare the two.
#[doc(hidden)]
pub fn parse_with_pest_only(text: &str) -> (ast::File, Vec<Diag>) {
    parse_items(text, false)
}

fn parse_items(text: &str, fast_path: bool) -> (ast::File, Vec<Diag>) {
    let mut items = Vec::new();
    let diags = read_items(text, fast_path, |item| items.push(item));
    (ast::File { items }, diags)
}

/// [`parse`], handing each item to `each` as soon as it is read instead of keeping the
/// tree: the formatter holds one item at a time. Returns every syntax diagnostic.
pub(crate) fn parse_each(text: &str, each: impl FnMut(ast::Item)) -> Vec<Diag> {
    read_items(text, true, each)
}

fn read_items(text: &str, fast_path: bool, mut each: impl FnMut(ast::Item)) -> Vec<Diag> {
    let mut diags = Vec::new();
    let mut pos = 0;
    loop {
        pos = skip_between_items(text, pos);
        if pos >= text.len() {
            break;
        }
        if let Some((item, end)) = fast_path
            .then(|| fast::item(text, pos, &mut diags))
            .flatten()
        {
            each(item);
            pos = end;
            continue;
        }
        let rest = &text[pos..];
        match FlowParser::parse(Rule::item_entry, rest) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { break };
                if pair.as_rule() == Rule::EOI {
                    break;
                }
                let end = pair.as_span().end();
                let mut b = build::Builder::new(pos, &mut diags);
                each(b.item(pair));
                pos += end.max(1);
            }
            Err(err) => {
                diags.push(errors::syntax_error(text, pos, &err));
                match errors::resume_point(text, pos, &err) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
        }
    }
    diags
}

/// Skips blank lines, spaces, `;` and comments between items.
fn skip_between_items(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\n' | b'\r' | b';' => pos += 1,
            b'#' => {
                while pos < bytes.len() && bytes[pos] != b'\n' && bytes[pos] != b'\r' {
                    pos += 1;
                }
            }
            // A byte order mark.
            0xEF if bytes[pos..].starts_with("\u{FEFF}".as_bytes()) => pos += 3,
            _ => break,
        }
    }
    pos
}

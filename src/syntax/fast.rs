//! A hand-written fast path over the same grammar as `grammar/chatflow.pest`.
//!
//! pest spends most of its time in bookkeeping (call limits, stack probes, error attempts) on
//! every token, which makes it several times too slow for the compile-speed target. Most
//! files are valid, so this reader tries each item first. It accepts only what the pest
//! grammar accepts and builds the same AST (differential tests in `tests/it/syntax.rs` and over
//! the fuzz corpus in `tests/it/fuzz.rs` check this); on anything unexpected it gives up, and
//! the item is read again by pest, which then produces the AST or the syntax error. Diagnostics
//! from the shared leaf builders are kept only when the item is accepted. Keywords come from
//! the one list in `keywords.rs`.

use super::ast::*;
use super::keywords::{self, Kw};
use super::leaf::{self, lit, null_expr, reference, NameRole, MAX_CHAIN, MAX_DEPTH};
use super::template::{str_lit, template};
use crate::diagnostic::Diag;

mod exprs;
mod items;
mod statements;
mod test_steps;
mod tokens;

/// Reads one item starting at `pos` (after separators). Returns the item and where it ends.
pub fn item(text: &str, pos: usize, diags: &mut Vec<Diag>) -> Option<(Item, usize)> {
    let mut r = Reader {
        t: text,
        b: text.as_bytes(),
        p: pos,
        diags: Vec::new(),
        depth: 0,
        in_value: false,
    };
    let item = r.item()?;
    diags.append(&mut r.diags);
    Some((item, r.p))
}

/// A position in the text being read, with what the shared leaf builders reported so far.
struct Reader<'a> {
    t: &'a str,
    b: &'a [u8],
    p: usize,
    diags: Vec<Diag>,
    depth: u32,
    /// Inside the value of a `set`, where strings are templates.
    in_value: bool,
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path must take ordinary items itself; if it stepped aside everywhere, the
    /// differential tests would still pass but parsing would be several times slower.
    #[test]
    fn takes_every_ordinary_item() {
        let items = [
            "import \"a.flow\"",
            "bot \"b\" { start greet }",
            "api weather {\n  live\n  get \"https://x.test/?q={city}\"\n  header \"A\" = \"B {secret.T}\"\n  json {\"a\": [1, \"{x}\"], \"b\": {\"c\": null}}\n  timeout 2s\n  retry 2\n  save t = body.main[0].temp\n}",
            "node lookup {\n  call weather\n  if status == 200 and city == \"Chicago\" -> chicago\n  elif status in 400..499 -> unknown\n  elif not (x is set or y contains \"a\") -> a\n  else -> failed\n}",
            "node n { ask age as number \"Age?\"; set ok = age >= 18; say \"hi {name}\"; goto m }",
            "test \"t\" {\n  stub weather 200 {\"main\": {\"temp\": 3.5}}\n  stub other timeout\n  user \"x\"\n  expect say \"y\"\n  expect node n\n  expect attr a == 3.5\n  expect attr b is not set\n  expect request weather \"u\"\n  expect closed\n}",
        ];
        for src in items {
            let mut diags = Vec::new();
            let (_, end) =
                item(src, 0, &mut diags).unwrap_or_else(|| panic!("fast path refused {src:?}"));
            assert_eq!(end, src.len(), "{src:?}");
            assert!(diags.is_empty(), "{src:?}: {diags:?}");
        }
    }

    #[test]
    fn steps_aside_on_errors() {
        for src in [
            "node n { shout }",
            "node n { say \"open }",
            "api a { timeout 5 }",
            "node n { if x -> }",
        ] {
            let mut diags = Vec::new();
            assert!(item(src, 0, &mut diags).is_none(), "{src:?}");
            assert!(diags.is_empty());
        }
    }
}

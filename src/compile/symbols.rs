//! The symbol index for editors: every definition and use of a node, API, attribute, flow,
//! intent, hours table and imported file, with its span. Built from what resolution recorded
//! (`Ctx::saw`) while it resolved each name, so an editor's "go to definition" follows the
//! compiler's own scoping rules (a flow's nodes, `flow.node` in tests, ...), never a copy.

use std::collections::HashMap;

use super::resolve::{Ctx, Sym};
use crate::ir::ValueType;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, ApiProp, Method};

/// What kind of thing a symbol names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// `node NAME`, top-level or inside a flow.
    Node,
    /// `api NAME`
    Api,
    /// An attribute, filled by `ask`, `set`, `save`, a form field or a flow parameter.
    Attribute,
    /// `flow NAME(...)`
    Flow,
    /// `intent NAME`
    Intent,
    /// `hours NAME`
    Hours,
    /// A file joined by `import`.
    File,
}

/// A place in one file of the compilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file (an index into `Compiled::sources`).
    pub file: FileId,
    /// The name's bytes (a whole file is `0..0`).
    pub span: Span,
}

/// What an API does, for an editor's hover.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiSummary {
    /// The request's method, when written.
    pub method: Option<Method>,
    /// The URL template as written, quotes included.
    pub url: Option<String>,
    /// The request's time limit in milliseconds.
    pub timeout_ms: u64,
    /// Attempts after the first.
    pub retry: u32,
    /// `live` (the default) or `draft`.
    pub live: bool,
    /// The attributes its `save` lines fill.
    pub saves: Vec<String>,
}

/// What else is known about a symbol.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// Nothing more.
    None,
    /// An attribute's inferred type and whether it is `sensitive`.
    Attribute {
        /// The type inferred from everything that fills it.
        ty: ValueType,
        /// Marked `sensitive` somewhere.
        sensitive: bool,
    },
    /// An API's request.
    Api(ApiSummary),
}

/// One named thing and everywhere it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Symbol {
    /// What it is.
    pub kind: SymbolKind,
    /// The name as written at its definition (a sub-flow's node: its local name).
    pub name: String,
    /// The name as the IR and messages show it: `flow.node` for a sub-flow's node.
    pub qualified: String,
    /// Where it is defined. An attribute has no one definition: every place that fills it.
    pub defs: Vec<Location>,
    /// Every other place that names it.
    pub uses: Vec<Location>,
    /// The whole item of the first definition (a node's block, an API's block, ...).
    pub item: Option<Location>,
    /// Type, request, ...
    pub detail: Detail,
}

/// The symbols of one compilation; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SymbolIndex {
    /// Every symbol, in the order: nodes, APIs, attributes, flows, hours, intents, files.
    pub symbols: Vec<Symbol>,
    /// Node symbol -> node symbol for each `goto`, branch arm, option and the like; `None` as
    /// the source for the bot's `start` and intent routes.
    pub edges: Vec<(Option<usize>, usize)>,
    /// `(file, span, symbol)` of every definition and use, sorted.
    positions: Vec<(FileId, Span, usize)>,
}

impl SymbolIndex {
    /// The symbol whose name is written at byte `offset` of `file` (the end of a name counts,
    /// so a cursor just after it finds it), with the span of that name.
    pub fn at(&self, file: FileId, offset: usize) -> Option<(usize, Span)> {
        let from = self
            .positions
            .partition_point(|&(f, s, _)| (f, s.start()) < (file, 0));
        self.positions[from..]
            .iter()
            .take_while(|(f, s, _)| *f == file && s.start() <= offset)
            .filter(|(_, s, _)| offset <= s.end())
            .min_by_key(|(_, s, _)| s.len())
            .map(|&(_, span, sym)| (sym, span))
    }

    /// Every definition and use of symbol `sym`, definitions first.
    pub fn locations(&self, sym: usize) -> impl Iterator<Item = &Location> {
        self.symbols
            .get(sym)
            .into_iter()
            .flat_map(|s| s.defs.iter().chain(&s.uses))
    }

    /// The symbols of one kind.
    pub fn of_kind(&self, kind: SymbolKind) -> impl Iterator<Item = (usize, &Symbol)> {
        self.symbols
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.kind == kind)
    }
}

/// Builds the index from the tables and what resolution recorded.
pub(crate) fn build(ctx: &Ctx<'_>) -> SymbolIndex {
    let mut b = Builder {
        ctx,
        index: SymbolIndex::default(),
        by_sym: HashMap::new(),
    };
    b.definitions();
    for seen in &ctx.seen {
        let sym = match (b.by_sym.get(&seen.sym), &seen.sym) {
            (Some(&sym), _) => sym,
            // An intent declared only in an `intents from` file: known, defined nowhere here.
            (None, Sym::Intent(name)) => {
                let s = Builder::symbol(SymbolKind::Intent, name, None, None);
                b.add(Some(seen.sym.clone()), s)
            }
            (None, _) => continue,
        };
        let name = b.index.symbols[sym].name.clone();
        let at = b.narrow(seen.file, seen.span, &name);
        let s = &mut b.index.symbols[sym];
        let list = if seen.fills { &mut s.defs } else { &mut s.uses };
        if !list.contains(&at) {
            list.push(at);
        }
    }
    b.imports();
    b.edges();
    let mut positions: Vec<(FileId, Span, usize)> = Vec::new();
    for (i, s) in b.index.symbols.iter().enumerate() {
        for l in s.defs.iter().chain(&s.uses) {
            if !l.span.is_empty() {
                positions.push((l.file, l.span, i));
            }
        }
    }
    positions.sort_by_key(|&(f, s, i)| (f, s.start(), s.end(), i));
    positions.dedup();
    b.index.positions = positions;
    b.index
}

struct Builder<'c, 'a> {
    ctx: &'c Ctx<'a>,
    index: SymbolIndex,
    by_sym: HashMap<Sym, usize>,
}

impl Builder<'_, '_> {
    fn add(&mut self, sym: Option<Sym>, s: Symbol) -> usize {
        let i = self.index.symbols.len();
        if let Some(sym) = sym {
            self.by_sym.insert(sym, i);
        }
        self.index.symbols.push(s);
        i
    }

    fn symbol(
        kind: SymbolKind,
        name: &str,
        def: Option<Location>,
        item: Option<Location>,
    ) -> Symbol {
        Symbol {
            kind,
            name: name.to_string(),
            qualified: name.to_string(),
            defs: def.into_iter().collect(),
            uses: Vec::new(),
            item,
            detail: Detail::None,
        }
    }

    fn definitions(&mut self) {
        let ctx = self.ctx;
        let at = |file, span| Some(Location { file, span });
        for (i, n) in ctx.nodes.iter().enumerate() {
            let mut s = Self::symbol(
                SymbolKind::Node,
                &n.ast.name.name,
                at(n.file, n.ast.name.span),
                at(n.file, n.ast.span),
            );
            s.qualified = ctx.node_name(i);
            self.add(Some(Sym::Node(i as u32)), s);
        }
        for (i, a) in ctx.apis.iter().enumerate() {
            let mut s = Self::symbol(
                SymbolKind::Api,
                &a.ast.name.name,
                at(a.file, a.ast.name.span),
                at(a.file, a.ast.span),
            );
            s.detail = Detail::Api(ApiSummary {
                method: a.method,
                url: a.url.map(|u| ctx.snippet(a.file, u.span).to_string()),
                timeout_ms: a.timeout_ms,
                retry: a.retry,
                live: a.live,
                saves: a
                    .ast
                    .props
                    .iter()
                    .filter_map(|p| match p {
                        ApiProp::Save { attr, .. } => Some(attr.name.to_string()),
                        _ => None,
                    })
                    .collect(),
            });
            self.add(Some(Sym::Api(i as u32)), s);
        }
        for (i, a) in ctx.attrs.iter().enumerate() {
            let mut s = Self::symbol(SymbolKind::Attribute, a.name, None, None);
            s.detail = Detail::Attribute {
                ty: a.ty,
                sensitive: a.sensitive,
            };
            self.add(Some(Sym::Attr(i as u32)), s);
        }
        for (i, f) in ctx.flows.iter().enumerate() {
            let s = Self::symbol(
                SymbolKind::Flow,
                &f.ast.name.name,
                at(f.file, f.ast.name.span),
                at(f.file, f.ast.span),
            );
            self.add(Some(Sym::Flow(i as u32)), s);
        }
        for (i, h) in ctx.hours.iter().enumerate() {
            let s = Self::symbol(
                SymbolKind::Hours,
                &h.ast.name.name,
                at(h.file, h.ast.name.span),
                at(h.file, h.ast.span),
            );
            self.add(Some(Sym::Hours(i as u32)), s);
        }
        for (file, ast_file) in ctx.files.iter().enumerate() {
            for item in &ast_file.items {
                let ast::Item::Intent(i) = item else { continue };
                let def = Location {
                    file: file as FileId,
                    span: i.name.span,
                };
                let key = Sym::Intent(i.name.name.to_string());
                match self.by_sym.get(&key) {
                    Some(&sym) => self.index.symbols[sym].defs.push(def),
                    None => {
                        let item = at(file as FileId, i.span);
                        let s = Self::symbol(SymbolKind::Intent, &i.name.name, Some(def), item);
                        self.add(Some(key), s);
                    }
                }
            }
        }
        // An attribute's first fill stands for its item.
        for s in &mut self.index.symbols {
            if s.kind == SymbolKind::Attribute {
                s.item = s.defs.first().copied();
            }
        }
    }

    /// The span of `name` inside `span` (a template's `{name}`, a quoted intent, the node of
    /// `flow.node`): the last place it is written there as a whole word.
    fn narrow(&self, file: FileId, span: Span, name: &str) -> Location {
        let text = self.ctx.snippet(file, span);
        let word = |i: usize| {
            let before = text[..i].chars().next_back();
            let after = text[i + name.len()..].chars().next();
            let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !part(before) && !part(after)
        };
        let found = text.rmatch_indices(name).map(|(i, _)| i).find(|&i| word(i));
        let span = match found {
            Some(i) => Span::new(span.start() + i, span.start() + i + name.len()),
            None => span,
        };
        Location { file, span }
    }

    /// `import "path"`: a use of the imported file, whose definition is the file itself.
    fn imports(&mut self) {
        let ctx = self.ctx;
        let by_name: HashMap<&str, FileId> = ctx
            .sources
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), i as FileId))
            .collect();
        for (file, ast_file) in ctx.files.iter().enumerate() {
            let Some(from) = ctx.sources.get(file) else {
                continue;
            };
            for item in &ast_file.items {
                let ast::Item::Import(import) = item else {
                    continue;
                };
                let key = super::load::import_key(&from.name, &import.path.value);
                let Some(&target) = by_name.get(key.as_str()) else {
                    continue;
                };
                let use_at = Location {
                    file: file as FileId,
                    span: import.path.span,
                };
                let def = Location {
                    file: target,
                    span: Span::new(0, 0),
                };
                match self
                    .index
                    .symbols
                    .iter()
                    .position(|s| s.kind == SymbolKind::File && s.defs.first() == Some(&def))
                {
                    Some(i) => self.index.symbols[i].uses.push(use_at),
                    None => {
                        let mut s = Self::symbol(SymbolKind::File, &key, Some(def), Some(def));
                        s.uses.push(use_at);
                        self.add(None, s);
                    }
                }
            }
        }
    }

    /// Node-to-node edges: each use of a node, from the node whose block holds it.
    fn edges(&mut self) {
        let ctx = self.ctx;
        let mut blocks: Vec<(FileId, Span, usize)> = ctx
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.file, n.ast.span, i))
            .collect();
        blocks.sort_by_key(|&(f, s, _)| (f, s.start()));
        let inside = |at: &Location| {
            let i =
                blocks.partition_point(|&(f, s, _)| (f, s.start()) <= (at.file, at.span.start()));
            let (f, s, node) = *blocks.get(i.checked_sub(1)?)?;
            (f == at.file && at.span.end() <= s.end()).then_some(node)
        };
        for (to, s) in self.index.symbols.iter().enumerate() {
            if s.kind != SymbolKind::Node {
                continue;
            }
            for u in &s.uses {
                // Tests (`expect node`) are not edges of the flow.
                if in_test(ctx, u) {
                    continue;
                }
                self.index.edges.push((inside(u), to));
            }
        }
        self.index.edges.sort_unstable();
        self.index.edges.dedup();
    }
}

fn in_test(ctx: &Ctx<'_>, at: &Location) -> bool {
    ctx.tests.iter().any(|(f, t)| {
        *f == at.file && t.span.start() <= at.span.start() && at.span.end() <= t.span.end()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile_for_editor, NoImports};

    const FLOW: &str = r#"intent book { "book a table" "reserve" "a table please" "booking" "table for two" }
hours desk { zone "UTC"; mon-fri 09:00-17:00 }
node start {
  ask what
  if sys.intent == "book" and open(desk) -> booked
  else -> start
}
node booked { say "Booked: {what}"; close }
"#;

    fn at<'i>(index: &'i SymbolIndex, needle: &str) -> (&'i Symbol, Span) {
        let offset = FLOW.find(needle).expect("needle") + 1;
        let (sym, span) = index.at(0, offset).expect("a symbol there");
        (&index.symbols[sym], span)
    }

    #[test]
    fn uses_resolve_to_their_definitions_with_the_names_span() {
        let compiled = compile_for_editor("t.flow", FLOW, &NoImports);
        assert!(
            compiled.diagnostics.is_empty(),
            "{:?}",
            compiled.diagnostics
        );
        let index = compiled.symbols.expect("an index");
        let (hours, span) = at(&index, "desk)");
        assert_eq!(
            (hours.kind, &FLOW[span.start()..span.end()]),
            (SymbolKind::Hours, "desk")
        );
        assert_eq!(
            hours.defs[0].span.start(),
            FLOW.find("desk {").expect("def")
        );
        // The quoted intent: the name inside the quotes.
        let (intent, span) = at(&index, "book\" and");
        assert_eq!(
            (intent.kind, &FLOW[span.start()..span.end()]),
            (SymbolKind::Intent, "book")
        );
        // `{what}` in a template: the name inside the braces; `ask what` fills it.
        let (attr, span) = at(&index, "what}");
        assert_eq!(&FLOW[span.start()..span.end()], "what");
        assert_eq!(attr.defs[0].span.start(), FLOW.find("what\n").expect("ask"));
        // Edges: the start node reaches `booked` and itself; the bot's start is implicit.
        let node = |n: &str| index.symbols.iter().position(|s| s.name == n);
        assert!(index
            .edges
            .contains(&(node("start"), node("booked").expect("booked"))));
    }

    /// `reply with AI` and `ask AI ... save` are uses of the `ai` (go to definition, rename).
    #[test]
    fn the_ai_statements_use_their_ai() {
        let flow = "ai brain { url \"https://llm.test/v1\"; model \"m\" }\n\
                    node n { ask q; reply with brain; ask brain \"Sum up\" save s; say \"{s}\"; close }\n";
        let compiled = compile_for_editor("t.flow", flow, &NoImports);
        let index = compiled.symbols.expect("an index");
        for needle in ["brain;", "brain \"Sum"] {
            let (sym, _) = index
                .at(0, flow.find(needle).expect("needle") + 1)
                .expect("a use");
            let sym = &index.symbols[sym];
            assert_eq!((sym.kind, sym.name.as_str()), (SymbolKind::Api, "brain"));
            assert_eq!(sym.defs[0].span.start(), flow.find("brain {").expect("def"));
        }
    }

    /// A compile that nobody asked an index of records nothing.
    #[test]
    fn plain_compiles_build_no_index() {
        assert!(crate::compile::compile_str("t.flow", FLOW)
            .symbols
            .is_none());
    }
}

//! The document's outline (its items from the parser), workspace symbols and semantic tokens
//! (from the symbol index), folding ranges (each item and sub-flow node).

use lsp_types::{
    DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, FoldingRange, FoldingRangeKind,
    FoldingRangeParams, Location, SemanticToken, SemanticTokenModifier, SemanticTokenType,
    SemanticTokens, SemanticTokensLegend, SemanticTokensParams, SymbolInformation,
    SymbolKind as LspKind, WorkspaceSymbolParams,
};

use crate::compile::symbols::SymbolKind;
use crate::source::Span;
use crate::syntax::{self, ast};

use super::position::Lines;
use super::workspace::Workspace;

/// Semantic token types, in legend order; [`token_type`] indexes it.
const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::FUNCTION,
    SemanticTokenType::INTERFACE,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::TYPE,
    SemanticTokenType::STRING,
];

pub(super) fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TOKEN_TYPES.to_vec(),
        token_modifiers: vec![SemanticTokenModifier::DECLARATION],
    }
}

fn token_type(kind: SymbolKind) -> u32 {
    match kind {
        SymbolKind::Node => 0,
        SymbolKind::Api => 1,
        SymbolKind::Attribute => 2,
        SymbolKind::Flow => 3,
        SymbolKind::Intent => 4,
        SymbolKind::Hours => 5,
        SymbolKind::File => 6,
    }
}

/// One outline entry: what, its name's span, the item's span, its children.
struct Entry {
    name: String,
    kind: LspKind,
    span: Span,
    name_span: Span,
    children: Vec<Entry>,
    /// A definition others can name, so a workspace symbol (not the bot, a test, an import).
    is_symbol: bool,
}

/// The items of a parsed file, as the outline shows them.
fn entries(file: &ast::File) -> Vec<Entry> {
    file.items.iter().filter_map(item_entry).collect()
}

/// How the outline shows one item, or `None` for the items it leaves out: the one place that
/// says, for each kind of item, its label, symbol kind and children.
fn item_entry(item: &ast::Item) -> Option<Entry> {
    use ast::Item;
    Some(match item {
        Item::Bot(b) => labelled(
            format!("bot {}", b.name.value),
            LspKind::OBJECT,
            b.span,
            &b.name,
        ),
        Item::Test(t) => labelled(
            format!("test \"{}\"", t.name.value),
            LspKind::EVENT,
            t.span,
            &t.name,
        ),
        Item::Import(i) => labelled(i.path.value.to_string(), LspKind::FILE, i.span, &i.path),
        Item::Api(a) => named(&a.name, SymbolKind::Api, a.span),
        Item::Node(n) => named(&n.name, SymbolKind::Node, n.span),
        Item::Hours(h) => named(&h.name, SymbolKind::Hours, h.span),
        Item::Intent(i) => named(&i.name, SymbolKind::Intent, i.span),
        Item::Flow(f) => Entry {
            children: f
                .nodes
                .iter()
                .map(|n| named(&n.name, SymbolKind::Node, n.span))
                .collect(),
            ..named(&f.name, SymbolKind::Flow, f.span)
        },
        Item::IntentsFrom(_) | Item::Synonyms(_) | Item::Faq(_) => return None,
    })
}

/// A definition, shown by its name.
fn named(name: &ast::Ident, kind: SymbolKind, span: Span) -> Entry {
    Entry {
        name: name.name.to_string(),
        kind: lsp_kind(kind),
        span,
        name_span: name.span,
        children: Vec::new(),
        is_symbol: true,
    }
}

/// An item named by a string (the bot, a test, an import), shown with `label`.
fn labelled(label: String, kind: LspKind, span: Span, name: &ast::StrLit) -> Entry {
    Entry {
        name: label,
        kind,
        span,
        name_span: name.span,
        children: Vec::new(),
        is_symbol: false,
    }
}

/// The LSP symbol kind of a kind of definition, the same in the outline and workspace symbols.
fn lsp_kind(kind: SymbolKind) -> LspKind {
    match kind {
        SymbolKind::Node => LspKind::FUNCTION,
        SymbolKind::Api => LspKind::INTERFACE,
        SymbolKind::Flow => LspKind::MODULE,
        SymbolKind::Hours => LspKind::CONSTANT,
        SymbolKind::Intent => LspKind::ENUM_MEMBER,
        SymbolKind::Attribute => LspKind::VARIABLE,
        SymbolKind::File => LspKind::FILE,
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be written.
fn to_symbol(e: Entry, lines: &Lines<'_>) -> DocumentSymbol {
    DocumentSymbol {
        name: e.name,
        detail: None,
        kind: e.kind,
        tags: None,
        deprecated: None,
        range: lines.range(e.span),
        selection_range: lines.range(e.name_span),
        children: (!e.children.is_empty()).then(|| {
            e.children
                .into_iter()
                .map(|c| to_symbol(c, lines))
                .collect()
        }),
    }
}

pub(super) fn document_symbols(
    ws: &Workspace,
    p: DocumentSymbolParams,
) -> Option<DocumentSymbolResponse> {
    let doc = ws.docs.get(&p.text_document.uri)?;
    let (file, _) = syntax::parse(&doc.text);
    let index = crate::source::LineIndex::new(&doc.text);
    let lines = Lines::new(&doc.text, &index);
    let symbols = entries(&file)
        .into_iter()
        .map(|e| to_symbol(e, &lines))
        .collect();
    Some(DocumentSymbolResponse::Nested(symbols))
}

pub(super) fn folding_ranges(ws: &Workspace, p: FoldingRangeParams) -> Option<Vec<FoldingRange>> {
    let doc = ws.docs.get(&p.text_document.uri)?;
    let (file, _) = syntax::parse(&doc.text);
    let index = crate::source::LineIndex::new(&doc.text);
    let lines = Lines::new(&doc.text, &index);
    let mut out = Vec::new();
    let mut fold = |span: Span| {
        let r = lines.range(span);
        if r.end.line > r.start.line {
            out.push(FoldingRange {
                start_line: r.start.line,
                end_line: r.end.line,
                kind: Some(FoldingRangeKind::Region),
                ..Default::default()
            });
        }
    };
    for e in entries(&file) {
        fold(e.span);
        for c in e.children {
            fold(c.span);
        }
    }
    Some(out)
}

#[allow(deprecated)] // `SymbolInformation::deprecated` must still be written.
pub(super) fn workspace_symbols(
    ws: &Workspace,
    p: WorkspaceSymbolParams,
) -> Option<Vec<SymbolInformation>> {
    let query = p.query.to_lowercase();
    let mut out: Vec<SymbolInformation> = Vec::new();
    for root in ws.analyses.keys() {
        let Some(view) = ws.analysis_for(root) else {
            continue;
        };
        let Some(index) = view.symbols() else {
            continue;
        };
        for s in &index.symbols {
            if matches!(s.kind, SymbolKind::Attribute | SymbolKind::File) {
                continue; // attributes and imported files are no workspace symbols
            }
            if !s.qualified.to_lowercase().contains(&query) {
                continue;
            }
            let Some(def) = s.defs.first() else { continue };
            let Some(location): Option<Location> = view.location(def.file, def.span) else {
                continue;
            };
            if out.iter().any(|o| o.location == location) {
                continue;
            }
            out.push(SymbolInformation {
                name: s.qualified.clone(),
                kind: lsp_kind(s.kind),
                tags: None,
                deprecated: None,
                location,
                container_name: None,
            });
        }
    }
    out.extend(unread_files(ws, &query));
    Some(out)
}

/// The symbols of the `.flow` files under the workspace's folders that no compilation read
/// (a flow no open document imports), from the parser: their items, and a flow's nodes as
/// `flow.node`.
#[allow(deprecated)] // `SymbolInformation::deprecated` must still be written.
fn unread_files(ws: &Workspace, query: &str) -> Vec<SymbolInformation> {
    let read: std::collections::BTreeSet<&str> = ws
        .analyses
        .values()
        .flat_map(|c| c.sources.files.iter().map(|f| f.name.as_str()))
        .collect();
    let mut out = Vec::new();
    for path in super::files::flow_files(&ws.roots) {
        let name = path.to_string_lossy();
        if read.contains(name.as_ref()) {
            continue;
        }
        let too_large = std::fs::metadata(&path)
            .is_ok_and(|m| m.len() > crate::compile::max_source_bytes() as u64);
        let (Ok(uri), false) = (lsp_types::Url::from_file_path(&path), too_large) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let (file, _) = syntax::parse(&text);
        let index = crate::source::LineIndex::new(&text);
        let lines = Lines::new(&text, &index);
        let mut found = Vec::new();
        for e in entries(&file) {
            for c in &e.children {
                found.push((format!("{}.{}", e.name, c.name), c.kind, c.name_span));
            }
            if !e.is_symbol {
                continue;
            }
            found.push((e.name, e.kind, e.name_span));
        }
        for (symbol, kind, span) in found {
            if symbol.to_lowercase().contains(query) {
                out.push(SymbolInformation {
                    name: symbol,
                    kind,
                    tags: None,
                    deprecated: None,
                    location: Location::new(uri.clone(), lines.range(span)),
                    container_name: None,
                });
            }
        }
    }
    out
}

pub(super) fn semantic_tokens(ws: &Workspace, p: SemanticTokensParams) -> Option<SemanticTokens> {
    let view = ws.analysis_for(&p.text_document.uri)?;
    let index = view.symbols()?;
    let lines = view.lines(view.file)?;
    let mut found: Vec<(u32, u32, u32, u32, u32)> = Vec::new();
    for s in &index.symbols {
        let defs = s.defs.iter().map(|l| (l, 1));
        let uses = s.uses.iter().map(|l| (l, 0));
        for (l, modifier) in defs.chain(uses) {
            if l.file != view.file || l.span.is_empty() {
                continue;
            }
            let r = lines.range(l.span);
            if r.start.line != r.end.line {
                continue;
            }
            let len = r.end.character - r.start.character;
            found.push((
                r.start.line,
                r.start.character,
                len,
                token_type(s.kind),
                modifier,
            ));
        }
    }
    found.sort_unstable();
    found.dedup_by_key(|t| (t.0, t.1));
    let mut data = Vec::with_capacity(found.len());
    let (mut line, mut col) = (0, 0);
    let mut end_of_last = (0, 0);
    for (l, c, len, ty, modifiers) in found {
        // Tokens may not overlap: a name inside a longer one (`flow.node`) keeps the first.
        if (l, c) < end_of_last {
            continue;
        }
        let delta_start = if l == line { c - col } else { c };
        data.push(SemanticToken {
            delta_line: l - line,
            delta_start,
            length: len,
            token_type: ty,
            token_modifiers_bitset: modifiers,
        });
        (line, col) = (l, c);
        end_of_last = (l, c + len);
    }
    Some(SemanticTokens {
        result_id: None,
        data,
    })
}

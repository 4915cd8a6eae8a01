//! Go to definition, find references and rename, through the compiler's symbol index.

use std::collections::HashMap;

use lsp_server::ErrorCode;
use lsp_types::{
    GotoDefinitionParams, GotoDefinitionResponse, Location, PrepareRenameResponse, ReferenceParams,
    RenameParams, TextDocumentPositionParams, TextEdit, WorkspaceEdit,
};

use crate::compile::symbols::{Symbol, SymbolKind};
use crate::source::Span;

use super::workspace::{View, Workspace};

/// The symbol under the cursor: the view, its index and the symbol, and the name's span.
pub(super) fn symbol_at<'w>(
    ws: &'w Workspace,
    at: &TextDocumentPositionParams,
) -> Option<(View<'w>, usize, Span)> {
    let view = ws.analysis_for(&at.text_document.uri)?;
    let offset = view.lines(view.file)?.offset(at.position);
    let (sym, span) = view.symbols()?.at(view.file, offset)?;
    Some((view, sym, span))
}

pub(super) fn definition(
    ws: &Workspace,
    p: GotoDefinitionParams,
) -> Option<GotoDefinitionResponse> {
    let (view, sym, _) = symbol_at(ws, &p.text_document_position_params)?;
    let s = view.symbols()?.symbols.get(sym)?;
    let found: Vec<Location> = s
        .defs
        .iter()
        .filter_map(|l| view.location(l.file, l.span))
        .collect();
    (!found.is_empty()).then_some(GotoDefinitionResponse::Array(found))
}

pub(super) fn references(ws: &Workspace, p: ReferenceParams) -> Option<Vec<Location>> {
    let (view, sym, _) = symbol_at(ws, &p.text_document_position)?;
    let s = view.symbols()?.symbols.get(sym)?;
    let defs = s.defs.iter().filter(|_| p.context.include_declaration);
    Some(
        defs.chain(&s.uses)
            .filter(|l| !l.span.is_empty())
            .filter_map(|l| view.location(l.file, l.span))
            .collect(),
    )
}

type Refusal = (ErrorCode, String);

fn refuse(reason: String) -> Refusal {
    (ErrorCode::RequestFailed, reason)
}

/// The kinds whose names rename across files.
fn renamable(kind: SymbolKind) -> Option<&'static str> {
    match kind {
        SymbolKind::Node => Some("node"),
        SymbolKind::Api => Some("API"),
        SymbolKind::Attribute => Some("attribute"),
        SymbolKind::Flow => Some("flow"),
        _ => None,
    }
}

pub(super) fn prepare_rename(
    ws: &Workspace,
    p: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>, Refusal> {
    let Some((view, sym, span)) = symbol_at(ws, &p) else {
        return Ok(None);
    };
    let Some(s) = view.symbols().and_then(|i| i.symbols.get(sym)) else {
        return Ok(None);
    };
    if renamable(s.kind).is_none() {
        return Err(refuse(format!(
            "`{}` cannot be renamed: only nodes, APIs, attributes and flows are",
            s.name
        )));
    }
    let Some(lines) = view.lines(view.file) else {
        return Ok(None);
    };
    Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
        range: lines.range(span),
        placeholder: s.name.clone(),
    }))
}

pub(super) fn rename(ws: &Workspace, p: RenameParams) -> Result<Option<WorkspaceEdit>, Refusal> {
    let Some((view, sym, _)) = symbol_at(ws, &p.text_document_position) else {
        return Ok(None);
    };
    let Some(index) = view.symbols() else {
        return Ok(None);
    };
    let Some(s) = index.symbols.get(sym) else {
        return Ok(None);
    };
    let new = p.new_name.trim();
    check_new_name(index.symbols.iter(), s, new)?;
    let mut changes: HashMap<lsp_types::Url, Vec<TextEdit>> = HashMap::new();
    for l in index.locations(sym).filter(|l| !l.span.is_empty()) {
        // Only where the name is written as is (a narrowed span); never rewrite other text.
        if view.text(l.file).get(l.span.start()..l.span.end()) != Some(s.name.as_str()) {
            continue;
        }
        if let Some(loc) = view.location(l.file, l.span) {
            let edits = changes.entry(loc.uri).or_default();
            let edit = TextEdit::new(loc.range, new.to_string());
            if !edits.contains(&edit) {
                edits.push(edit);
            }
        }
    }
    Ok(Some(WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }))
}

/// A new name must be a name the grammar reads, not a reserved word, and not the name of
/// another thing of the same kind (in the same flow, for a flow's nodes).
fn check_new_name<'s>(
    all: impl Iterator<Item = &'s Symbol>,
    s: &Symbol,
    new: &str,
) -> Result<(), Refusal> {
    let Some(what) = renamable(s.kind) else {
        return Err(refuse(format!(
            "`{}` cannot be renamed: only nodes, APIs, attributes and flows are",
            s.name
        )));
    };
    let mut chars = new.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return Err(refuse(format!(
            "`{new}` is not a name: names start with a letter or `_` and go on with letters, digits and `_`"
        )));
    }
    if crate::syntax::is_reserved(new) {
        return Err(refuse(format!(
            "`{new}` is a keyword of the language and cannot name a {what}"
        )));
    }
    let scope = |q: &str| q.rsplit_once('.').map(|(flow, _)| flow.to_string());
    let taken = all
        .filter(|o| o.kind == s.kind && o.name == new)
        .find(|o| s.kind != SymbolKind::Node || scope(&o.qualified) == scope(&s.qualified));
    if let Some(other) = taken {
        return Err(refuse(format!(
            "a {what} named `{}` already exists; renaming `{}` to it would merge the two",
            other.qualified, s.name
        )));
    }
    Ok(())
}

//! Outline.

use lsp_types::{
    DocumentSymbolParams, DocumentSymbolResponse, FoldingRange, FoldingRangeParams, SemanticTokens,
    SemanticTokensLegend, SemanticTokensParams, SymbolInformation, WorkspaceSymbolParams,
};

use super::workspace::Workspace;

pub(super) fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend::default()
}

pub(super) fn document_symbols(
    _ws: &Workspace,
    _p: DocumentSymbolParams,
) -> Option<DocumentSymbolResponse> {
    None
}

pub(super) fn workspace_symbols(
    _ws: &Workspace,
    _p: WorkspaceSymbolParams,
) -> Option<Vec<SymbolInformation>> {
    None
}

pub(super) fn folding_ranges(_ws: &Workspace, _p: FoldingRangeParams) -> Option<Vec<FoldingRange>> {
    None
}

pub(super) fn semantic_tokens(_ws: &Workspace, _p: SemanticTokensParams) -> Option<SemanticTokens> {
    None
}

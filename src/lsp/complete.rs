//! Completion.

use lsp_types::{CompletionParams, CompletionResponse};

use super::workspace::Workspace;

pub(super) fn completion(_ws: &Workspace, _p: CompletionParams) -> Option<CompletionResponse> {
    None
}

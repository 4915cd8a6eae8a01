//! Edits.

use lsp_server::ErrorCode;
use lsp_types::{
    CodeActionParams, CodeActionResponse, CodeLens, CodeLensParams, DocumentFormattingParams,
    ExecuteCommandParams, TextEdit,
};
use serde_json::Value;

use super::workspace::Workspace;

pub(super) const COMMANDS: &[&str] = &["chatflow.graph"];

pub(super) fn format(_ws: &Workspace, _p: DocumentFormattingParams) -> Option<Vec<TextEdit>> {
    None
}

pub(super) fn code_actions(_ws: &Workspace, _p: CodeActionParams) -> Option<CodeActionResponse> {
    None
}

pub(super) fn code_lenses(_ws: &Workspace, _p: CodeLensParams) -> Option<Vec<CodeLens>> {
    None
}

pub(super) fn execute(
    _ws: &Workspace,
    _p: ExecuteCommandParams,
) -> Result<Option<Value>, (ErrorCode, String)> {
    Ok(None)
}

//! The server's state and the dispatch of each request and notification to its feature.

use lsp_server::{ErrorCode, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, CodeLensRequest, Completion, DocumentSymbolRequest, ExecuteCommand,
    FoldingRangeRequest, Formatting, GotoDefinition, HoverRequest, PrepareRenameRequest,
    References, Rename, Request as _, SemanticTokensFullRequest, WorkspaceSymbolRequest,
};
use lsp_types::{
    CodeActionProviderCapability, CodeLensOptions, CompletionOptions, ExecuteCommandOptions,
    FoldingRangeProviderCapability, HoverProviderCapability, OneOf, PublishDiagnosticsParams,
    RenameOptions, SemanticTokensFullOptions, SemanticTokensOptions,
    SemanticTokensServerCapabilities, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::workspace::Workspace;
use super::{complete, edit, hover, navigate, outline};

/// What the server can do, as `initialize` answers.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(
                [">", " ", "{", ".", "("]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: outline::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: Default::default(),
            },
        )),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: edit::COMMANDS.iter().map(|c| c.to_string()).collect(),
            work_done_progress_options: Default::default(),
        }),
        ..Default::default()
    }
}

/// The language server without its transport: `chatflow lsp` feeds it stdin's messages;
/// benches feed it directly.
#[derive(Default)]
pub struct Server {
    ws: Workspace,
}

impl Server {
    /// A server whose workspace is these folders: workspace symbols come from every `.flow`
    /// file under them, open or not.
    pub fn with_roots(roots: Vec<std::path::PathBuf>) -> Server {
        let mut ws = Workspace::default();
        ws.roots = roots;
        Server { ws }
    }

    /// Answers one request. Parameters that do not parse get an `InvalidParams` error.
    pub fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        match self.dispatch(req) {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    fn dispatch(&mut self, req: Request) -> Result<Value, (ErrorCode, String)> {
        let ws = &self.ws;
        let p = &req.params;
        let v = match req.method.as_str() {
            GotoDefinition::METHOD => json(navigate::definition(ws, params(p)?)),
            References::METHOD => json(navigate::references(ws, params(p)?)),
            PrepareRenameRequest::METHOD => json(navigate::prepare_rename(ws, params(p)?)?),
            Rename::METHOD => json(navigate::rename(ws, params(p)?)?),
            Completion::METHOD => json(complete::completion(ws, params(p)?)),
            HoverRequest::METHOD => json(hover::hover(ws, params(p)?)),
            DocumentSymbolRequest::METHOD => json(outline::document_symbols(ws, params(p)?)),
            WorkspaceSymbolRequest::METHOD => json(outline::workspace_symbols(ws, params(p)?)),
            FoldingRangeRequest::METHOD => json(outline::folding_ranges(ws, params(p)?)),
            SemanticTokensFullRequest::METHOD => json(outline::semantic_tokens(ws, params(p)?)),
            Formatting::METHOD => json(edit::format(ws, params(p)?)),
            CodeActionRequest::METHOD => json(edit::code_actions(ws, params(p)?)),
            CodeLensRequest::METHOD => json(edit::code_lenses(ws, params(p)?)),
            ExecuteCommand::METHOD => json(edit::execute(ws, params(p)?)?),
            other => {
                return Err((
                    ErrorCode::MethodNotFound,
                    format!("chatflow lsp does not answer `{other}`"),
                ))
            }
        };
        Ok(v)
    }

    /// Handles one notification; returns the notifications to send back (diagnostics).
    pub fn notification(&mut self, note: Notification) -> Vec<Notification> {
        let p = &note.params;
        let changed = match note.method.as_str() {
            DidOpenTextDocument::METHOD => params::<lsp_types::DidOpenTextDocumentParams>(p)
                .map(|o| self.ws.set(o.text_document.uri, o.text_document.text)),
            DidChangeTextDocument::METHOD => {
                params::<lsp_types::DidChangeTextDocumentParams>(p).map(|c| {
                    // Full sync: the last change holds the whole text.
                    match c.content_changes.into_iter().last() {
                        Some(change) => self.ws.set(c.text_document.uri, change.text),
                        None => Vec::new(),
                    }
                })
            }
            DidSaveTextDocument::METHOD => params::<lsp_types::DidSaveTextDocumentParams>(p)
                .map(|s| self.ws.recompile_around(&s.text_document.uri)),
            DidCloseTextDocument::METHOD => params::<lsp_types::DidCloseTextDocumentParams>(p)
                .map(|c| self.ws.close(&c.text_document.uri)),
            _ => return Vec::new(),
        };
        if changed.is_err() {
            return Vec::new();
        }
        self.ws
            .diagnostics()
            .into_iter()
            .map(|(uri, diagnostics)| {
                let params = PublishDiagnosticsParams {
                    uri,
                    diagnostics,
                    version: None,
                };
                Notification::new(PublishDiagnostics::METHOD.to_string(), params)
            })
            .collect()
    }
}

fn params<P: DeserializeOwned>(value: &Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(value.clone()).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn json(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

//! Formatting (`chatflow fmt`), code actions (the compiler's "did you mean" and a missing
//! `else`), the "Run test" code lens and the commands: `chatflow.runTest` and
//! `chatflow.graph` (the current flow's Mermaid graph, `chatflow graph`'s).

use std::collections::HashMap;
use std::sync::Arc;

use lsp_server::ErrorCode;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse,
    CodeLens, CodeLensParams, Command, DocumentFormattingParams, ExecuteCommandParams, TextEdit,
    Url, WorkspaceEdit,
};
use serde_json::{json, Value};

use crate::diagnostic::{Code, Diag};
use crate::source::{LineIndex, Span};
use crate::syntax::{self, ast};

use super::position::Lines;
use super::workspace::Workspace;

/// The commands the server runs (`workspace/executeCommand`).
pub(super) const COMMANDS: &[&str] = &[GRAPH, RUN_TEST];
const GRAPH: &str = "chatflow.graph";
const RUN_TEST: &str = "chatflow.runTest";

type Failure = (ErrorCode, String);

pub(super) fn format(ws: &Workspace, p: DocumentFormattingParams) -> Option<Vec<TextEdit>> {
    let doc = ws.docs.get(&p.text_document.uri)?;
    // A file with syntax errors is left as it is, as `chatflow fmt` leaves it.
    let formatted = syntax::format::format_source(&doc.text).ok()?;
    if formatted == doc.text {
        return Some(Vec::new());
    }
    let index = LineIndex::new(&doc.text);
    let lines = Lines::new(&doc.text, &index);
    let whole = lines.range(Span::new(0, doc.text.len()));
    Some(vec![TextEdit::new(whole, formatted)])
}

pub(super) fn code_actions(ws: &Workspace, p: CodeActionParams) -> Option<CodeActionResponse> {
    let uri = &p.text_document.uri;
    let view = ws.analysis_for(uri)?;
    let lines = view.lines(view.file)?;
    let (from, to) = (lines.offset(p.range.start), lines.offset(p.range.end));
    let text = view.text(view.file);
    let mut actions = Vec::new();
    for d in &view.compiled.diagnostics {
        if d.file != view.file || d.span.end() < from || to < d.span.start() {
            continue;
        }
        let Some((title, edit)) = fix(d, text) else {
            continue;
        };
        let edit = TextEdit::new(lines.range(edit.0), edit.1);
        let diagnostic = super::workspace::to_lsp(d, view.compiled.sources.get(view.file)?);
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic]),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                ..Default::default()
            }),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    Some(actions)
}

/// The fix a diagnostic offers: its help's "did you mean `x`?", or an `else` after the last
/// arm of a branch (leading where that arm leads, the author's to change).
fn fix(d: &Diag, text: &str) -> Option<(String, (Span, String))> {
    if let Some(name) = d
        .help
        .as_deref()
        .and_then(|h| h.split("did you mean `").nth(1))
        .and_then(|rest| rest.split("`?").next())
    {
        return Some((format!("Replace with `{name}`"), (d.span, name.to_string())));
    }
    if d.code == Code::MissingElse {
        let arm = text.get(d.span.start()..d.span.end())?;
        let target = arm.split_whitespace().last()?;
        let line_start = text[..d.span.start()].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = text[line_start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        return Some((
            format!("Add `else -> {target}`"),
            (
                Span::new(d.span.end(), d.span.end()),
                format!("\n{indent}else -> {target}"),
            ),
        ));
    }
    None
}

pub(super) fn code_lenses(ws: &Workspace, p: CodeLensParams) -> Option<Vec<CodeLens>> {
    let uri = &p.text_document.uri;
    let doc = ws.docs.get(uri)?;
    let (file, _) = syntax::parse(&doc.text);
    let index = LineIndex::new(&doc.text);
    let lines = Lines::new(&doc.text, &index);
    let lenses = file
        .items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Test(t) => Some(CodeLens {
                range: lines.range(t.name.span),
                command: Some(Command {
                    title: "▶ Run test".into(),
                    command: RUN_TEST.into(),
                    arguments: Some(vec![json!(uri), json!(t.name.value)]),
                }),
                data: None,
            }),
            _ => None,
        })
        .collect();
    Some(lenses)
}

pub(super) fn execute(ws: &Workspace, p: ExecuteCommandParams) -> Result<Option<Value>, Failure> {
    let uri: Url = p
        .arguments
        .first()
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .ok_or((
            ErrorCode::InvalidParams,
            "the first argument is the document's URI".into(),
        ))?;
    let view = ws
        .analysis_for(&uri)
        .ok_or((ErrorCode::InvalidParams, format!("`{uri}` is not open")))?;
    let program = view.compiled.program.as_ref().ok_or((
        ErrorCode::RequestFailed,
        "the flow has errors; fix them first".to_string(),
    ))?;
    match p.command.as_str() {
        GRAPH => {
            let graph = crate::graph::build(program);
            Ok(Some(json!(crate::graph::render(
                &graph,
                crate::graph::Format::Mermaid
            ))))
        }
        RUN_TEST => {
            let name = p.arguments.get(1).and_then(Value::as_str);
            let mut program = program.clone();
            program.tests.retain(|t| name.is_none_or(|n| t.name == n));
            if program.tests.is_empty() {
                return Err((ErrorCode::InvalidParams, "no test has this name".into()));
            }
            run_tests(program, view.compiled).map(Some)
        }
        other => Err((
            ErrorCode::InvalidParams,
            format!("unknown command `{other}`"),
        )),
    }
}

/// Runs tests as `chatflow test` does and reports as it prints.
fn run_tests(
    program: crate::ir::Program,
    compiled: &crate::compile::Compiled,
) -> Result<Value, Failure> {
    use crate::testing::{render_outcome, run_tests, TestOptions};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            (
                ErrorCode::InternalError,
                format!("cannot start the tests: {e}"),
            )
        })?;
    let program = Arc::new(program);
    let outcomes = runtime.block_on(run_tests(program.clone(), &TestOptions::default()));
    let report: String = outcomes
        .iter()
        .map(|o| render_outcome(o, &program, &compiled.sources, false))
        .collect();
    let passed = outcomes.iter().all(|o| o.passed());
    Ok(json!({ "passed": passed, "report": report }))
}

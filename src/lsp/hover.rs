//! Hover: what a name is (an attribute's type and where it is set, an API's request, a
//! node's edges) and, over a diagnostic, its code's explanation from `docs/diagnostics.md`.

use std::fmt::Write as _;

use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use crate::compile::symbols::{Detail, Location, Symbol, SymbolIndex, SymbolKind};
use crate::diagnostic::Code;
use crate::ir::ValueType;

use super::navigate::symbol_at;
use super::workspace::{View, Workspace};

/// The diagnostics page, one section per code.
const DIAGNOSTICS_DOC: &str = include_str!("../../docs/diagnostics.md");

pub(super) fn hover(ws: &Workspace, p: HoverParams) -> Option<Hover> {
    let at = &p.text_document_position_params;
    let view = ws.analysis_for(&at.text_document.uri)?;
    let lines = view.lines(view.file)?;
    let offset = lines.offset(at.position);
    let mut parts = Vec::new();
    let mut range = None;
    if let Some((view, sym, span)) = symbol_at(ws, at) {
        if let Some(index) = view.symbols() {
            parts.push(describe(&view, index, sym));
            range = Some(lines.range(span));
        }
    }
    let mut codes: Vec<Code> = view
        .compiled
        .diagnostics
        .iter()
        .filter(|d| d.file == view.file && d.span.start() <= offset && offset <= d.span.end())
        .map(|d| d.code)
        .collect();
    codes.dedup();
    parts.extend(codes.into_iter().filter_map(explain));
    if parts.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: parts.join("\n\n---\n\n"),
        }),
        range,
    })
}

fn describe(view: &View<'_>, index: &SymbolIndex, sym: usize) -> String {
    let Some(s) = index.symbols.get(sym) else {
        return String::new();
    };
    let mut out = String::new();
    match s.kind {
        SymbolKind::Attribute => {
            let (ty, sensitive) = match s.detail {
                Detail::Attribute { ty, sensitive } => (ty, sensitive),
                _ => (ValueType::Any, false),
            };
            let _ = write!(out, "attribute `{}`: {}", s.name, type_name(ty));
            if sensitive {
                out.push_str(", sensitive");
            }
            out.push_str("\n\nset at ");
            out.push_str(&places(view, &s.defs));
        }
        SymbolKind::Api => {
            let _ = write!(out, "api `{}`", s.name);
            if let Detail::Api(a) = &s.detail {
                let method = a.method.map_or("(no request)".to_string(), |m| {
                    format!("{m:?}").to_uppercase()
                });
                let url = a.url.as_deref().unwrap_or("");
                let _ = write!(
                    out,
                    "\n\n`{method} {url}`\n\ntimeout {}",
                    duration(a.timeout_ms)
                );
                let _ = write!(out, ", retries {}", a.retry);
                if !a.live {
                    out.push_str(", draft");
                }
                if !a.saves.is_empty() {
                    let _ = write!(out, "\n\nsaves {}", a.saves.join(", "));
                }
            }
        }
        SymbolKind::Node => {
            let _ = write!(out, "node `{}`", s.qualified);
            let from: Vec<String> = index
                .edges
                .iter()
                .filter(|(_, to)| *to == sym)
                .map(|(from, _)| match from {
                    Some(f) => name(index.symbols.get(*f)),
                    None => "(start)".to_string(),
                })
                .collect();
            let to: Vec<String> = index
                .edges
                .iter()
                .filter(|(from, _)| *from == Some(sym))
                .map(|(_, to)| name(index.symbols.get(*to)))
                .collect();
            let list = |v: Vec<String>| {
                if v.is_empty() {
                    "none".into()
                } else {
                    v.join(", ")
                }
            };
            let _ = write!(out, "\n\nfrom: {}\n\nto: {}", list(from), list(to));
        }
        kind => {
            let what = match kind {
                SymbolKind::Flow => "flow",
                SymbolKind::Intent => "intent",
                SymbolKind::Hours => "hours",
                _ => "file",
            };
            let _ = write!(
                out,
                "{what} `{}`\n\ndefined at {}",
                s.name,
                places(view, &s.defs)
            );
        }
    }
    out
}

fn name(s: Option<&Symbol>) -> String {
    s.map_or("?".into(), |s| format!("`{}`", s.qualified))
}

/// `file:line` of each place (the file's name only where it is another file).
fn places(view: &View<'_>, at: &[Location]) -> String {
    let shown: Vec<String> = at
        .iter()
        .filter_map(|l| {
            let f = view.compiled.sources.get(l.file)?;
            let (line, _) = f.line_col(l.span.start());
            Some(if l.file == view.file {
                format!("line {line}")
            } else {
                let base = std::path::Path::new(&f.name)
                    .file_name()
                    .map_or(f.name.clone(), |b| b.to_string_lossy().into_owned());
                format!("{base}:{line}")
            })
        })
        .collect();
    if shown.is_empty() {
        "no place".into()
    } else {
        shown.join(", ")
    }
}

fn type_name(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Text => "text",
        ValueType::Number => "number",
        ValueType::Bool => "boolean",
        ValueType::Any => "any (from JSON or mixed)",
    }
}

fn duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The section of `docs/diagnostics.md` under the code's heading.
pub(super) fn explain(code: Code) -> Option<String> {
    let name = format!("`{}`", code.name());
    let start = DIAGNOSTICS_DOC
        .match_indices("\n### ")
        .map(|(i, _)| i + 1)
        .find(|&i| {
            DIAGNOSTICS_DOC[i..]
                .lines()
                .next()
                .is_some_and(|heading| heading.contains(&name))
        })?;
    let rest = &DIAGNOSTICS_DOC[start..];
    let body_start = rest.find('\n').map_or(rest.len(), |i| i + 1);
    let body = &rest[body_start..];
    let end = ["\n## ", "\n### "]
        .iter()
        .filter_map(|h| body.find(h))
        .min()
        .unwrap_or(body.len());
    let severity = match code.severity() {
        crate::diagnostic::Severity::Error => "error",
        crate::diagnostic::Severity::Warning => "warning",
    };
    Some(format!(
        "**{}** ({severity})\n\n{}",
        code.name(),
        body[..end].trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_explanation() {
        for &code in Code::ALL {
            let text = explain(code).expect("a section");
            assert!(text.len() > code.name().len() + 20, "{code}: {text}");
            assert!(!text.contains("\n### "), "{code}: one section only");
        }
    }
}

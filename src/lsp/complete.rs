//! Completion: what may be written at the cursor, by what precedes it on its line. The
//! candidates come from the compiler (the symbol index, the keyword list, the ask kinds, the
//! system attributes, the functions); only the choice of list is made here.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, InsertTextFormat,
};

use crate::compile::symbols::{SymbolIndex, SymbolKind};
use crate::ir::{AskKind, SysAttr};
use crate::syntax::keywords::KEYWORDS;
use crate::vocab::Func;

use super::workspace::{View, Workspace};

/// Statement and item snippets offered at the start of a line.
const SNIPPETS: &[(&str, &str)] = &[
    ("node", "node ${1:name} {\n  $0\n}"),
    (
        "api",
        "api ${1:name} {\n  get \"${2:https://}\"\n  save ${3:attr} = body.${4:field}\n}",
    ),
    ("if", "if ${1:condition} -> ${2:node}\nelse -> ${3:node}"),
    ("ask", "ask ${1:attr} as ${2:text} \"${3:question}\""),
    ("say", "say \"$1\""),
    (
        "test",
        "test \"${1:name}\" {\n  user \"$2\"\n  expect say \"$3\"\n}",
    ),
];

pub(super) fn completion(ws: &Workspace, p: CompletionParams) -> Option<CompletionResponse> {
    let at = &p.text_document_position;
    let view = ws.analysis_for(&at.text_document.uri)?;
    let text = view.text(view.file);
    let offset = view.lines(view.file)?.offset(at.position);
    let clean = ws.clean.get(view.root).and_then(|c| c.symbols.as_ref());
    let items = items_at(ws, &view, clean, text, offset);
    Some(CompletionResponse::Array(items))
}

/// What the cursor follows, from the text of its line.
#[derive(Debug, PartialEq)]
enum Context {
    Node,
    Api,
    AskKind,
    Flow,
    Hours,
    Intent,
    /// Inside `{...}` of a template: attributes, `sys.`, `secret.`, `status`, `item`.
    Template,
    SysName,
    SecretName,
    /// A condition or a value: attributes, `sys.`, `status`, functions.
    Value,
    /// Where a name is written for an `ask`/`set`: the attributes there are.
    Attribute,
    /// After `body.` (and the path so far, here without its last `.`): the fields of the
    /// API's answer.
    Body(String),
    LineStart,
    Other,
}

fn context(line: &str) -> Context {
    let word_end = line
        .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
        .len();
    let before_word = &line[..word_end];
    if let Some(open) = open_template(line) {
        let inside = &line[open + 1..];
        return match inside {
            s if s.starts_with("sys.") => Context::SysName,
            s if s.starts_with("secret.") => Context::SecretName,
            _ => Context::Template,
        };
    }
    if before_word.ends_with("sys.") {
        return Context::SysName;
    }
    if let Some(path) = body_path(line) {
        return Context::Body(path);
    }
    let words: Vec<&str> = before_word.split_whitespace().collect();
    let last = words.last().copied().unwrap_or("");
    let last2 = words.len().checked_sub(2).map_or("", |i| words[i]);
    match last {
        "->" | "goto" | "start" | "ok" | "fail" | "booked" | "failed" | "empty" => Context::Node,
        "node" if last2 == "expect" => Context::Node,
        "call" | "stub" | "book" => Context::Api,
        "request" if last2 == "expect" => Context::Api,
        "with" if last2 == "reply" => Context::Api,
        "as" => Context::AskKind,
        "run" => Context::Flow,
        "intent" => Context::Intent,
        "set" | "ask" | "save" | "field" | "from" | "attr" => Context::Attribute,
        _ if before_word.ends_with("open(") => Context::Hours,
        "" => Context::LineStart,
        _ if before_word.trim_end().ends_with(['{', ';']) => Context::LineStart,
        "if" | "elif" | "and" | "or" | "not" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "="
        | "+" | "-" | "*" | "/" | "(" | "," | "in" | "contains" => Context::Value,
        _ => Context::Other,
    }
}

/// The text of the cursor's line before it.
fn line_before(text: &str, offset: usize) -> &str {
    let offset = crate::source::floor_boundary(text, offset);
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    &text[line_start..offset]
}

/// When the line ends in a `body.` path (`body.items[0].na`), the path before the field
/// being written (`items[0]`).
fn body_path(line: &str) -> Option<String> {
    let at = line.rfind("body.")?;
    let word_start = line[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
    let rest = &line[at + "body.".len()..];
    let path_chars = rest
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
    (word_start && path_chars).then(|| rest.rsplit_once('.').map_or("", |(p, _)| p).to_string())
}

/// The byte offset of a `{` that opens a template reference still open at the line's end.
fn open_template(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut open = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' if open.is_none() => in_string = !in_string,
            '{' if in_string => {
                if chars.peek().map(|&(_, c)| c) == Some('{') {
                    chars.next();
                } else {
                    open = Some(i);
                }
            }
            '}' if in_string => open = None,
            _ => {}
        }
    }
    open.filter(|&o| {
        line[o + 1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

fn items_at(
    ws: &Workspace,
    view: &View<'_>,
    clean: Option<&SymbolIndex>,
    text: &str,
    offset: usize,
) -> Vec<CompletionItem> {
    let offset = crate::source::floor_boundary(text, offset);
    let line = line_before(text, offset);
    let Some(now) = view.symbols() else {
        return Vec::new();
    };
    // The names defined now, and those of the last version that parsed.
    let index: &[&SymbolIndex] = &match clean {
        Some(clean) => vec![now, clean],
        None => vec![now],
    };
    let names = |kind| names_of(index, kind, CompletionItemKind::VARIABLE);
    match context(line) {
        Context::Node => nodes(view, index, offset),
        Context::Api => names_of(index, SymbolKind::Api, CompletionItemKind::FUNCTION),
        Context::Flow => names_of(index, SymbolKind::Flow, CompletionItemKind::MODULE),
        Context::Hours => names_of(index, SymbolKind::Hours, CompletionItemKind::CONSTANT),
        Context::Intent => names_of(index, SymbolKind::Intent, CompletionItemKind::ENUM_MEMBER),
        Context::AskKind => AskKind::ALL
            .iter()
            .map(|(k, _)| item(k, CompletionItemKind::ENUM_MEMBER, None))
            .collect(),
        Context::SysName => SysAttr::ALL
            .iter()
            .map(|a| item(a.name(), CompletionItemKind::PROPERTY, Some(a.summary())))
            .collect(),
        Context::SecretName => secrets(text),
        Context::Template => {
            let mut out = names(SymbolKind::Attribute);
            for word in ["sys.", "secret.", "status", "item"] {
                out.push(item(word, CompletionItemKind::KEYWORD, None));
            }
            out
        }
        Context::Value => {
            let mut out = names(SymbolKind::Attribute);
            out.push(item("sys.", CompletionItemKind::KEYWORD, None));
            out.push(item("status", CompletionItemKind::KEYWORD, None));
            out.extend(
                Func::ALL
                    .iter()
                    .map(|f| item(f.name(), CompletionItemKind::FUNCTION, None)),
            );
            out
        }
        Context::Attribute => names(SymbolKind::Attribute),
        Context::Body(path) => body_fields(ws, view, text, offset, &path),
        Context::LineStart => {
            let mut out = keywords();
            out.extend(SNIPPETS.iter().map(|(label, body)| CompletionItem {
                label: (*label).to_string(),
                kind: Some(CompletionItemKind::SNIPPET),
                insert_text: Some((*body).to_string()),
                insert_text_format: Some(InsertTextFormat::SNIPPET),
                ..Default::default()
            }));
            out
        }
        Context::Other => keywords(),
    }
}

/// The fields at `path` of the answers the tests stub for the API whose block the cursor is
/// in (`stub weather 200 {"main": {"temp": 21}}`), each with an example value. The stubs are
/// read from every file of the compilation and every open document.
fn body_fields(
    ws: &Workspace,
    view: &View<'_>,
    text: &str,
    offset: usize,
    path: &str,
) -> Vec<CompletionItem> {
    let Some(api) = enclosing_api(text, offset) else {
        return Vec::new();
    };
    let steps = match path {
        "" => Vec::new(),
        p => match crate::ir::parse_json_path(p) {
            Some(steps) => steps,
            None => return Vec::new(),
        },
    };
    let compiled = view.compiled.sources.files.iter().map(|f| &*f.text);
    let open = ws.docs.values().map(|d| d.text.as_str());
    let mut texts: Vec<&str> = compiled.chain(open).collect();
    texts.sort_unstable();
    texts.dedup();
    let mut fields: Vec<(String, String)> = Vec::new();
    for text in texts {
        for body in stubbed_bodies(text, api) {
            let Some(serde_json::Value::Object(map)) = walk(&body, &steps) else {
                continue;
            };
            for (key, value) in map {
                if !fields.iter().any(|(k, _)| k == key) {
                    fields.push((key.clone(), example(value)));
                }
            }
        }
    }
    fields
        .into_iter()
        .map(|(key, value)| {
            item(
                &key,
                CompletionItemKind::FIELD,
                Some(&format!("e.g. {value}")),
            )
        })
        .collect()
}

/// The name of the `api` item the offset is in: the last line before it that starts at the
/// margin with a word (an item's first line) is `api NAME ...`. By the text, not the parse:
/// the line being typed seldom parses.
fn enclosing_api(text: &str, offset: usize) -> Option<&str> {
    let before = &text[..crate::source::floor_boundary(text, offset)];
    let item = before
        .lines()
        .rev()
        .skip(1)
        .find(|l| l.starts_with(|c: char| c.is_ascii_alphabetic() || c == '}'))?;
    let name = item.strip_prefix("api ")?.trim_start();
    let end = name
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(name.len());
    Some(&name[..end]).filter(|n| !n.is_empty())
}

/// The JSON bodies of the `stub API STATUS {json}` lines of `text`'s tests for `api`.
fn stubbed_bodies(text: &str, api: &str) -> Vec<serde_json::Value> {
    use crate::syntax::ast::{Item, StubAnswer, TestStepKind};
    if !text.contains("stub") {
        return Vec::new();
    }
    let (file, _) = crate::syntax::parse(text);
    let mut out = Vec::new();
    for item in file.items {
        let Item::Test(test) = item else { continue };
        for step in test.steps {
            if let TestStepKind::Stub {
                api: name,
                answer:
                    StubAnswer::Status {
                        body: Some(body), ..
                    },
            } = step.kind
            {
                if name.name == api {
                    out.push(body);
                }
            }
        }
    }
    out
}

fn walk<'j>(
    value: &'j serde_json::Value,
    steps: &[crate::vocab::PathStep],
) -> Option<&'j serde_json::Value> {
    steps.iter().try_fold(value, |v, step| match step {
        crate::vocab::PathStep::Field(f) => v.get(f),
        crate::vocab::PathStep::Index(i) => v.get(i),
    })
}

/// A value as a short example: itself when short, else its kind.
fn example(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match value {
        serde_json::Value::Object(_) if text.len() > 40 => "{…}".into(),
        serde_json::Value::Array(a) if text.len() > 40 => format!("[…] ({} items)", a.len()),
        _ if text.chars().count() > 40 => {
            let cut: String = text.chars().take(39).collect();
            format!("{cut}…")
        }
        _ => text,
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<&str>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: detail.map(str::to_string),
        ..Default::default()
    }
}

fn names_of(
    index: &[&SymbolIndex],
    kind: SymbolKind,
    item_kind: CompletionItemKind,
) -> Vec<CompletionItem> {
    let mut names: Vec<&str> = index
        .iter()
        .flat_map(|i| i.of_kind(kind))
        .map(|(_, s)| s.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|n| item(n, item_kind, None))
        .collect()
}

/// Node names a target here may use: the flow's own inside a flow, the top-level ones
/// elsewhere (the compiler's scoping; `flow.node` names too inside a test).
fn nodes(view: &View<'_>, index: &[&SymbolIndex], offset: usize) -> Vec<CompletionItem> {
    let inside = |kind| {
        index[0].of_kind(kind).find(|(_, s)| {
            s.item.is_some_and(|l| {
                l.file == view.file && l.span.start() <= offset && offset <= l.span.end()
            })
        })
    };
    let flow = inside(SymbolKind::Flow).map(|(_, s)| format!("{}.", s.name));
    let in_test = in_test_block(view, offset);
    let mut names: Vec<String> = index
        .iter()
        .flat_map(|i| i.of_kind(SymbolKind::Node))
        .filter_map(|(_, s)| match (&flow, s.qualified.split_once('.')) {
            (Some(f), Some(_)) => s.qualified.strip_prefix(f.as_str()).map(str::to_string),
            (None, None) => Some(s.name.clone()),
            (None, Some(_)) if in_test => Some(s.qualified.clone()),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .iter()
        .map(|n| item(n, CompletionItemKind::CLASS, None))
        .collect()
}

fn in_test_block(view: &View<'_>, offset: usize) -> bool {
    crate::syntax::in_test_block(view.text(view.file), offset)
}

/// The secret names the document already uses.
fn secrets(text: &str) -> Vec<CompletionItem> {
    let mut names: Vec<&str> = text
        .match_indices("secret.")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|n| !n.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|n| item(n, CompletionItemKind::CONSTANT, Some("a secret")))
        .collect()
}

fn keywords() -> Vec<CompletionItem> {
    let mut words: Vec<&str> = KEYWORDS.iter().map(|(_, w, _)| *w).collect();
    words.sort_unstable();
    words.dedup();
    words
        .into_iter()
        .map(|w| item(w, CompletionItemKind::KEYWORD, None))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_from_the_line_before_the_cursor() {
        let cases = [
            ("  if status == 200 -> rep", Context::Node),
            ("  goto ", Context::Node),
            ("  expect node ", Context::Node),
            ("  call we", Context::Api),
            ("  reply with ", Context::Api),
            ("  fallback reply with br", Context::Api),
            ("  ask city as ", Context::AskKind),
            ("  say \"Hi {na", Context::Template),
            ("  say \"Hi {sys.", Context::SysName),
            ("  header \"A\" = \"Bearer {secret.", Context::SecretName),
            ("  say \"{{literal} ", Context::Other),
            ("  if ci", Context::Value),
            ("  run ", Context::Flow),
            ("  if open(", Context::Hours),
            ("", Context::LineStart),
            ("  ", Context::LineStart),
            ("node a { ", Context::LineStart),
            ("  save t = body.", Context::Body(String::new())),
            ("  save t = body.main.te", Context::Body("main".into())),
            (
                "  save t = body.items[0].",
                Context::Body("items[0]".into()),
            ),
            ("  save t = nobody.", Context::Other),
        ];
        for (line, expected) in cases {
            assert_eq!(context(line), expected, "{line:?}");
        }
    }

    #[test]
    fn the_api_around_the_cursor_is_found_by_its_first_line() {
        let text = "api weather {\n  get \"x\"\n  save t = body.\n}\nnode a {\n  say \"x\"\n}\n";
        let inside = text.find("body.").unwrap() + 5;
        assert_eq!(enclosing_api(text, inside), Some("weather"));
        let in_node = text.find("say").unwrap();
        assert_eq!(enclosing_api(text, in_node), None);
    }
}

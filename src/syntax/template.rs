//! String literals: unescaping plain strings and splitting templates into text and references.
//! Both walk the raw source text of the literal, so every span is an exact source offset.

use super::ast::{PathStep, Ref, RefKind, Span, StrLit, Template, TemplatePart};
use crate::diagnostic::{Code, Diag};

/// The text between the quotes of a raw literal (the grammar guarantees both quotes).
fn inner(raw: &str) -> &str {
    raw.get(1..raw.len().saturating_sub(1)).unwrap_or("")
}

/// Appends the character escaped by `\` at `rest` (which starts after the backslash) and
/// returns how many bytes it took. Unknown escapes are kept as written, so a regex such as
/// `"\d+"` means what it says.
fn push_escape(out: &mut String, rest: &str) -> usize {
    let Some(c) = rest.chars().next() else {
        out.push('\\');
        return 0;
    };
    match c {
        'n' => out.push('\n'),
        't' => out.push('\t'),
        'r' => out.push('\r'),
        '"' => out.push('"'),
        '\\' => out.push('\\'),
        other => {
            out.push('\\');
            out.push(other);
        }
    }
    c.len_utf8()
}

/// Unescapes a plain string literal (`raw` includes the quotes).
pub fn str_lit(raw: &str, start: usize) -> StrLit {
    let span = Span::new(start, start + raw.len());
    let body = inner(raw);
    if !body.contains('\\') {
        return StrLit {
            value: body.into(),
            span,
        };
    }
    let mut value = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find('\\') {
        value.push_str(&rest[..i]);
        let used = push_escape(&mut value, &rest[i + 1..]);
        rest = &rest[i + 1 + used..];
    }
    value.push_str(rest);
    StrLit {
        value: value.into(),
        span,
    }
}

/// Splits a template literal (`raw` includes the quotes, `start` is its source offset) into
/// text and `{references}`. Problems become diagnostics; the template keeps what was valid.
pub fn template(raw: &str, start: usize, diags: &mut Vec<Diag>) -> Template {
    let span = Span::new(start, start + raw.len());
    let body = inner(raw);
    let base = start + 1; // offset of `body` in the source
    let bytes = body.as_bytes();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < bytes.len() {
        // Copy the run up to the next special byte in one go.
        let run = bytes[i..]
            .iter()
            .position(|b| matches!(b, b'\\' | b'{' | b'}'))
            .map_or(bytes.len(), |n| i + n);
        text.push_str(&body[i..run]);
        i = run;
        if i >= bytes.len() {
            break;
        }
        match bytes[i] {
            b'\\' => i += 1 + push_escape(&mut text, &body[i + 1..]),
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                text.push('{');
                i += 2;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                text.push('}');
                i += 2;
            }
            b'}' => {
                diags.push(unmatched_brace(Span::new(base + i, base + i + 1)));
                i += 1;
            }
            _ => match body[i + 1..].find('}') {
                None => {
                    diags.push(unterminated(Span::new(base + i, base + body.len())));
                    break;
                }
                Some(len) => {
                    let end = i + 1 + len + 1; // past the `}`
                    let ref_span = Span::new(base + i, base + end);
                    match reference(&body[i + 1..end - 1]) {
                        Some(kind) => {
                            if !text.is_empty() {
                                parts.push(TemplatePart::Text(std::mem::take(&mut text).into()));
                            }
                            parts.push(TemplatePart::Ref(Ref {
                                kind,
                                span: ref_span,
                            }));
                        }
                        None => diags.push(bad_ref(&body[i..end], ref_span)),
                    }
                    i = end;
                }
            },
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text.into()));
    }
    // A template lives as long as the syntax tree: no spare room (most have one to three parts).
    parts.shrink_to_fit();
    Template { parts, span }
}

fn is_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `name`, `status`, `sys.NAME`, `secret.NAME`, `item...`; anything else is not a reference.
fn reference(inside: &str) -> Option<RefKind> {
    if let Some(steps) = inside.strip_prefix("item") {
        if steps.is_empty() || steps.starts_with(['.', '[']) {
            return item_path(steps).map(RefKind::Item);
        }
    }
    if let Some((prefix, name)) = inside.split_once('.') {
        if !is_name(name) {
            return None;
        }
        return match prefix {
            "sys" => Some(RefKind::Sys(name.into())),
            "secret" => Some(RefKind::Secret(name.into())),
            _ => None,
        };
    }
    if !is_name(inside) {
        return None;
    }
    Some(match inside {
        "status" => RefKind::Status,
        name => RefKind::Attr(name.into()),
    })
}

/// The steps after `item`: `.field` and `[index]`, as in `{item.tags[0].name}`.
fn item_path(mut rest: &str) -> Option<Vec<PathStep>> {
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let field = &after[..end];
            if !is_name(field) {
                return None;
            }
            steps.push(PathStep::Field(field.to_owned()));
            rest = &after[end..];
        } else {
            let after = rest.strip_prefix('[')?;
            let (digits, tail) = after.split_once(']')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            steps.push(PathStep::Index(digits.parse().ok()?));
            rest = tail;
        }
    }
    Some(steps)
}

fn unterminated(span: Span) -> Diag {
    Diag::new(Code::UnterminatedTemplate, "this `{` is never closed", span)
        .label("opened here")
        .help("close it with `}`, or write `{{` for a literal brace")
}

fn unmatched_brace(span: Span) -> Diag {
    Diag::new(Code::UnmatchedBrace, "this `}` closes nothing", span)
        .label("unmatched `}`")
        .help("write `}}` for a literal brace")
}

fn bad_ref(written: &str, span: Span) -> Diag {
    let inside = &written[1..written.len() - 1];
    let help = match inside.split_once('.') {
        Some((prefix, _)) if is_name(prefix) => format!(
            "only `sys.`, `secret.` and `item.` prefixes exist; `{prefix}.` is not one of them. Write `{{sys.NAME}}`, `{{secret.NAME}}`, `{{item.FIELD}}` or an attribute `{{name}}`, or `{{{{` for a literal brace"
        ),
        _ => "write an attribute name like `{name}`, `{sys.NAME}` or `{secret.NAME}`, or `{{` and `}}` for literal braces".to_owned(),
    };
    Diag::new(
        Code::BadTemplateRef,
        format!("`{written}` is not a valid reference"),
        span,
    )
    .label("not a reference")
    .help(help)
}

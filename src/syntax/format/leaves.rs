//! How the leaves are written: strings and templates re-escaped canonically, numbers,
//! durations, paths, JSON and conditions.

use super::*;

/// `500ms`, `2s`: seconds when whole, else milliseconds.
pub(super) fn duration(millis: u64) -> String {
    if millis.is_multiple_of(1000) && millis > 0 {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

pub(super) fn save_path(path: &SavePath) -> String {
    path_string("body", &path.steps)
}

/// `body.main.temp`, `item.tags[0]`, `body["odd key"]`.
pub(super) fn path_string(root: &str, steps: &[PathStep]) -> String {
    let mut out = String::from(root);
    for step in steps {
        match step {
            PathStep::Field(name) if is_name(name) => out.push_str(&format!(".{name}")),
            PathStep::Field(name) => out.push_str(&format!("[{}]", plain(name))),
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

pub(super) fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn literal(lit: &Literal) -> String {
    match lit {
        Literal::Number(n) => number_text(*n),
        Literal::String(s) => plain(s),
        Literal::Bool(b) => b.to_string(),
        Literal::Null => "null".to_string(),
    }
}

/// A plain string literal with canonical escapes.
pub fn plain(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    escape_into(value, false, &mut out);
    out.push('"');
    out
}

/// A template literal: text escaped (`{` as `{{`), references as `{name}`.
pub fn template(t: &Template) -> String {
    let mut out = String::from("\"");
    for part in &t.parts {
        match part {
            TemplatePart::Text(text) => escape_into(text, true, &mut out),
            TemplatePart::Ref(r) => {
                out.push('{');
                out.push_str(&ref_name(&r.kind));
                out.push('}');
            }
        }
    }
    out.push('"');
    out
}

pub(super) fn ref_name(kind: &RefKind) -> String {
    match kind {
        RefKind::Status => "status".to_string(),
        RefKind::Attr(name) => name.to_string(),
        RefKind::Sys(name) => format!("sys.{name}"),
        RefKind::Secret(name) => format!("secret.{name}"),
        RefKind::Item(steps) => path_string("item", steps),
    }
}

/// Escapes `"`, newline, tab and CR. A backslash is written bare when the character after it
/// does not form an escape (so a regex keeps reading `"\d+"`), else doubled. In templates,
/// braces are doubled.
pub(super) fn escape_into(value: &str, in_template: bool, out: &mut String) {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '{' if in_template => out.push_str("{{"),
            '}' if in_template => out.push_str("}}"),
            '\\' => {
                let bare = match chars.peek() {
                    None => false,
                    Some('n' | 't' | 'r' | '"' | '\\' | '\n' | '\t' | '\r') => false,
                    Some('{' | '}') => !in_template,
                    Some(_) => true,
                };
                out.push_str(if bare { "\\" } else { "\\\\" });
            }
            c => out.push(c),
        }
    }
}

/// A stub body on one line: `{"name": "Chicago", "temps": [1, 2]}`.
pub(super) fn json_value(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(json_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", json_string(k), json_value(v)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        other => other.to_string(),
    }
}

pub(super) fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

pub(super) fn json_inline(value: &JsonTemplate) -> String {
    match value {
        JsonTemplate::Object(members, _) => {
            let members: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", plain(&k.value), json_inline(v)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        JsonTemplate::Array(items, _) => {
            let items: Vec<String> = items.iter().map(json_inline).collect();
            format!("[{}]", items.join(", "))
        }
        JsonTemplate::String(t) => template(t),
        JsonTemplate::Number(n, _) => number_text(*n),
        JsonTemplate::Bool(b, _) => b.to_string(),
        JsonTemplate::Null(_) => "null".to_string(),
        JsonTemplate::Ref(e) => expr(e),
    }
}

pub(super) fn json_is_empty(value: &JsonTemplate) -> bool {
    match value {
        JsonTemplate::Object(members, _) => members.is_empty(),
        JsonTemplate::Array(items, _) => items.is_empty(),
        _ => true,
    }
}

pub(super) fn json_span(value: &JsonTemplate) -> Span {
    match value {
        JsonTemplate::Object(_, span)
        | JsonTemplate::Array(_, span)
        | JsonTemplate::Number(_, span)
        | JsonTemplate::Bool(_, span)
        | JsonTemplate::Null(span) => *span,
        JsonTemplate::String(t) => t.span,
        JsonTemplate::Ref(e) => e.span,
    }
}

/// A condition with canonical spacing and only the parentheses the grammar needs.
pub fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_condition(e, &condition, &mut out);
    out
}

/// A syntax-tree condition node as the shared printer sees it.
pub(super) fn condition(e: &Expr) -> Condition<'_, Expr> {
    match &e.kind {
        ExprKind::Lit(l) => Condition::Operand(literal(l)),
        ExprKind::Ref(r) => Condition::Operand(ref_name(&r.kind)),
        ExprKind::Open(hours) => Condition::Operand(format!("open({})", hours.name)),
        ExprKind::Or(a, b) => Condition::Or(a, b),
        ExprKind::And(a, b) => Condition::And(a, b),
        ExprKind::Not(inner) => Condition::Not(inner),
        ExprKind::Cmp { op, lhs, rhs } => Condition::Binary(lhs, op.spaced(), rhs),
        ExprKind::Text { op, lhs, rhs } => Condition::Binary(lhs, op.spaced(), rhs),
        ExprKind::InRange {
            value, low, high, ..
        } => Condition::InRange(value, *low, *high),
        ExprKind::InList { value, items } => Condition::InList(value, items),
        ExprKind::Matches { value, pattern } => Condition::Matches(value, plain(&pattern.value)),
        ExprKind::IsSet { value, negated } => Condition::IsSet(value, *negated),
        ExprKind::Arith { op, lhs, rhs } => Condition::Arith(lhs, *op, rhs),
        ExprKind::Call { name, args } => Condition::Call(&name.name, args),
        ExprKind::Template(t) => Condition::Operand(template(t)),
    }
}

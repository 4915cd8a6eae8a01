//! Building blocks shared by both AST builders (pest pairs and the fast path): each takes the
//! token's text and its source offset, and reports problems as diagnostics.

use super::ast::*;
use super::is_reserved;
use crate::diagnostic::{Code, Diag};

/// Deeper expressions than this are refused (keeps recursion, and dropping, bounded).
pub const MAX_DEPTH: u32 = 200;
/// Longest chain of `and`/`or` operands (the chain becomes a left-leaning tree).
pub const MAX_CHAIN: usize = 1000;

/// What a name is about to name, for the reserved-word message.
#[derive(Clone, Copy)]
pub enum NameRole {
    Node,
    Api,
    Attribute,
    Kind,
    Flow,
    Hours,
    Function,
}

impl NameRole {
    fn noun(self) -> &'static str {
        match self {
            NameRole::Node => "a node",
            NameRole::Api => "an API",
            NameRole::Attribute => "an attribute",
            NameRole::Kind => "an answer kind",
            NameRole::Flow => "a flow",
            NameRole::Hours => "business hours",
            NameRole::Function => "a function",
        }
    }
}

fn span_of(text: &str, start: usize) -> Span {
    Span::new(start, start + text.len())
}

pub fn ident(name: &str, start: usize, role: NameRole, diags: &mut Vec<Diag>) -> Ident {
    let span = span_of(name, start);
    if is_reserved(name) {
        diags.push(
            Diag::new(
                Code::ReservedWord,
                format!(
                    "`{name}` is a reserved word and cannot name {}",
                    role.noun()
                ),
                span,
            )
            .label("reserved word")
            .help(format!(
                "choose another name, such as `{name}_1` or `my_{name}`"
            )),
        );
    }
    Ident {
        name: name.into(),
        span,
    }
}

pub fn bad_number(text: &str, start: usize, what: &str, help: &str, diags: &mut Vec<Diag>) {
    diags.push(
        Diag::new(
            Code::BadNumber,
            format!("`{text}` is not a valid {what}"),
            span_of(text, start),
        )
        .label(format!("invalid {what}"))
        .help(help.to_owned()),
    );
}

pub fn number(text: &str, start: usize, diags: &mut Vec<Diag>) -> Number {
    match Number::parse(text) {
        Some(n) => n,
        None => {
            bad_number(text, start, "number", "write a smaller number", diags);
            Number::Int(0)
        }
    }
}

pub fn retry(text: &str, start: usize, diags: &mut Vec<Diag>) -> u32 {
    text.parse::<u32>().unwrap_or_else(|_| {
        let help = "write a small whole number such as `2`";
        bad_number(text, start, "retry count", help, diags);
        0
    })
}

pub fn max_tokens(text: &str, start: usize, diags: &mut Vec<Diag>) -> u32 {
    text.parse::<u32>().unwrap_or_else(|_| {
        let help = "write a whole number of tokens such as `300`";
        bad_number(text, start, "token limit", help, diags);
        0
    })
}

pub fn duration(text: &str, start: usize, diags: &mut Vec<Diag>) -> u64 {
    let digits_end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => 3_600_000,
    };
    match digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
    {
        Some(ms) => ms,
        None => {
            let help = "write a shorter duration such as `2s` or `500ms`";
            bad_number(text, start, "duration", help, diags);
            0
        }
    }
}

pub fn index(text: &str, start: usize, diags: &mut Vec<Diag>) -> Option<usize> {
    match text.parse::<usize>() {
        Ok(i) => Some(i),
        Err(_) => {
            bad_number(text, start, "index", "write a smaller index", diags);
            None
        }
    }
}

pub fn range_bound(text: &str, start: usize, diags: &mut Vec<Diag>) -> i64 {
    text.parse::<i64>().unwrap_or_else(|_| {
        let help = "range bounds must fit in 64 bits";
        bad_number(text, start, "range bound", help, diags);
        0
    })
}

pub fn http_status(text: &str, start: usize, diags: &mut Vec<Diag>) -> u16 {
    match text.parse::<u64>().ok().and_then(crate::vocab::stub_status) {
        Some(s) => s,
        None => {
            let help = crate::vocab::STUB_STATUS_RULE;
            bad_number(text, start, "HTTP status", help, diags);
            0
        }
    }
}

/// An arithmetic operator as the grammar's `add_op`/`mul_op` matched it.
pub fn arith_op(text: &str) -> ArithOp {
    match text {
        "+" => ArithOp::Add,
        "-" => ArithOp::Sub,
        "*" => ArithOp::Mul,
        "/" => ArithOp::Div,
        _ => ArithOp::Rem,
    }
}

pub fn cmp_op(text: &str) -> CmpOp {
    match text {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        _ => CmpOp::Ge,
    }
}

/// A stub body: JSON text handed to serde_json; its error points into the text.
pub fn stub_json(text: &str, start: usize, diags: &mut Vec<Diag>) -> Option<serde_json::Value> {
    test_json(text, start, "the stub body", diags)
}

/// JSON written in a test line (`what` it is, for the message); its error points into the text.
pub fn test_json(
    text: &str,
    start: usize,
    what: &str,
    diags: &mut Vec<Diag>,
) -> Option<serde_json::Value> {
    match serde_json::from_str(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let end = start + text.len();
            let at = (start + offset_of(text, e.line(), e.column())).min(end);
            // serde_json points just past the problem; step back onto a character.
            let mut from = at.saturating_sub(1).max(start);
            while from > start && !text.is_char_boundary(from - start) {
                from -= 1;
            }
            let to = if at > from { at } else { (from + 1).min(end) };
            let mut to = to;
            while to < end && !text.is_char_boundary(to - start) {
                to += 1;
            }
            diags.push(
                Diag::new(
                    Code::BadJson,
                    format!("{what} is not valid JSON: {e}"),
                    Span::new(from, to),
                )
                .label("invalid JSON here")
                .help("write the body as JSON, e.g. `{\"name\": \"Chicago\", \"temp\": 3.5}`"),
            );
            None
        }
    }
}

/// Byte offset of a 1-based line and column (serde_json counts columns in bytes).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + column.min(l.len());
        }
        offset += l.len();
    }
    text.len()
}

/// `sys.NAME` in a condition; other prefixes are refused.
pub fn dotted(text: &str, start: usize, diags: &mut Vec<Diag>) -> Expr {
    let span = span_of(text, start);
    let (prefix, name) = text.split_once('.').unwrap_or((text, ""));
    if prefix != "sys" {
        let help = if prefix == "secret" {
            "secrets may only be inserted into templates (`{secret.NAME}` in a URL, header or body), never compared".to_owned()
        } else {
            format!("conditions can read `status`, an attribute like `{prefix}`, or a system attribute like `sys.{name}`")
        };
        diags.push(
            Diag::new(
                Code::Syntax,
                format!("`{text}` cannot be used in a condition"),
                span,
            )
            .label("unknown reference")
            .help(help),
        );
    }
    reference(RefKind::Sys(name.into()), span)
}

pub fn too_deep(span: Span) -> Diag {
    Diag::new(Code::Syntax, "this condition is nested too deeply", span)
        .label("too deep")
        .help("split the condition into simpler parts")
}

pub fn too_long(span: Span) -> Diag {
    Diag::new(Code::Syntax, "this condition is too long", span)
        .label("too many `and`/`or` parts")
        .help("split the condition over several nodes")
}

pub fn lit(l: Literal, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Lit(l),
        span,
    }
}

pub fn null_expr(span: Span) -> Expr {
    lit(Literal::Null, span)
}

pub fn reference(kind: RefKind, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Ref(Ref { kind, span }),
        span,
    }
}

pub fn empty_ident() -> Ident {
    Ident {
        name: Str::default(),
        span: Span::default(),
    }
}

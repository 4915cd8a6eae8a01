//! Shows IR values and conditions the way a flow writes them, for traces and test reports.

use super::{BranchTable, Expr, Program, Value};

/// Shows a value the way a flow writes it: numbers in shortest form, text quoted.
pub fn show_value(value: Option<&Value>) -> String {
    match value {
        None => "not set".to_string(),
        Some(Value::Null) => "null".to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => show_number(*n),
        Some(Value::Text(t)) => quote(t),
        Some(v @ (Value::List(_) | Value::Map(_))) => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// `24`, `3.5`, `-2`: Rust's shortest round-trip form, without a trailing `.0`.
pub fn show_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A string in double quotes with `"` and `\` and control characters escaped.
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// A condition as source text: `status == 200 and city == "Chicago"`.
pub fn show_expr(program: &Program, expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(program, expr, 0, &mut out);
    out
}

/// Arm `arm` of a branch as the flow wrote it, without its target: `if status == 200`,
/// `elif city == "Oslo"`, or `else` for `arm == arms.len()` (and beyond). Shared by
/// `run --trace` and coverage, so both name an arm the same way.
pub fn show_arm(program: &Program, table: &BranchTable, arm: usize) -> String {
    match table.arms.get(arm) {
        None => "else".to_string(),
        Some(a) => {
            let keyword = if arm == 0 { "if" } else { "elif" };
            format!("{keyword} {}", show_expr(program, &a.cond))
        }
    }
}

/// Binding strength: `or` < `and` < `not` < comparisons < operands.
fn precedence(expr: &Expr) -> u8 {
    match expr {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        Expr::Not(..) => 3,
        Expr::Lit(_) | Expr::Attr(_) | Expr::Status | Expr::Sys(_) | Expr::Open(_) => 6,
        _ => 5,
    }
}

fn write_expr(program: &Program, expr: &Expr, min: u8, out: &mut String) {
    let parens = precedence(expr) < min;
    if parens {
        out.push('(');
    }
    match expr {
        Expr::Lit(v) => out.push_str(&show_value(Some(v))),
        Expr::Attr(id) => out.push_str(
            program
                .attrs
                .get(*id as usize)
                .map_or("?", |a| a.name.as_str()),
        ),
        Expr::Status => out.push_str("status"),
        Expr::Open(id) => out.push_str(&format!(
            "open({})",
            program
                .hours
                .get(*id as usize)
                .map_or("?", |h| h.name.as_str())
        )),
        Expr::Sys(name) => out.push_str(&format!("sys.{name}")),
        Expr::Not(inner) if matches!(**inner, Expr::IsSet(_)) => {
            if let Expr::IsSet(e) = &**inner {
                write_expr(program, e, 6, out);
            }
            out.push_str(" is not set");
        }
        Expr::Not(e) => {
            out.push_str("not ");
            write_expr(program, e, 3, out);
        }
        Expr::And(a, b) => binary(program, a, " and ", b, (2, 3), out),
        Expr::Or(a, b) => binary(program, a, " or ", b, (1, 2), out),
        Expr::Cmp(op, a, b) => binary(program, a, op.spaced(), b, (6, 6), out),
        Expr::Text(op, a, b) => binary(program, a, op.spaced(), b, (6, 6), out),
        Expr::InRange(e, lo, hi) => {
            write_expr(program, e, 6, out);
            out.push_str(&format!(" in {lo}..{hi}"));
        }
        Expr::InList(e, items) => {
            write_expr(program, e, 6, out);
            out.push_str(" in [");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                // Items are operands in the grammar: a compound item needs its parentheses.
                write_expr(program, item, 6, out);
            }
            out.push(']');
        }
        Expr::Matches(e, pattern) => {
            write_expr(program, e, 6, out);
            out.push_str(&format!(" matches {}", quote(pattern)));
        }
        Expr::IsSet(e) => {
            write_expr(program, e, 6, out);
            out.push_str(" is set");
        }
    }
    if parens {
        out.push(')');
    }
}

/// `mins`: the binding strength each operand needs to go without parentheses. `and`/`or`
/// chain to the left, so their right operand needs one more than the operator itself.
fn binary(program: &Program, a: &Expr, op: &str, b: &Expr, mins: (u8, u8), out: &mut String) {
    write_expr(program, a, mins.0, out);
    out.push_str(op);
    write_expr(program, b, mins.1, out);
}

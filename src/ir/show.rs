//! Shows IR values and conditions the way a flow writes them, for traces and test reports.

use super::{BranchTable, Expr, PathStep, Program, Template, TemplatePart, Value};
use crate::vocab::{number_json, number_text, write_condition, Condition};

/// A value as a template inserts it: text as is, numbers in their shortest form
/// ([`number_text`]), lists and maps as compact JSON, unset and `null` as nothing.
pub fn value_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => number_text(*n),
        Some(Value::Text(t)) => t.clone(),
        Some(v @ (Value::List(_) | Value::Map(_))) => value_json(v).to_string(),
    }
}

/// Shows a value the way a flow writes it, for traces and test reports: like
/// [`value_text`], but text quoted, `null` as `null` and unset as `not set`.
pub fn show_value(value: Option<&Value>) -> String {
    match value {
        None => "not set".to_string(),
        Some(Value::Null) => "null".to_string(),
        Some(Value::Text(t)) => quote(t),
        other => value_text(other),
    }
}

/// A value as JSON, numbers as [`number_json`] writes them (`2`, not `2.0`).
pub fn value_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => number_json(*n),
        Value::Text(s) => J::String(s.clone()),
        Value::List(items) => J::Array(items.iter().map(value_json).collect()),
        Value::Map(fields) => J::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), value_json(v)))
                .collect(),
        ),
    }
}

/// A template as written, without quotes: `Order {order_id}`.
pub fn show_template(program: &Program, t: &Template) -> String {
    let mut out = String::new();
    for part in &t.parts {
        match part {
            TemplatePart::Text(text) => out.push_str(&text.replace('{', "{{").replace('}', "}}")),
            TemplatePart::Attr(id) => out.push_str(&format!(
                "{{{}}}",
                program
                    .attrs
                    .get(*id as usize)
                    .map_or("?", |a| a.name.as_str())
            )),
            TemplatePart::Status => out.push_str("{status}"),
            TemplatePart::Sys(name) => out.push_str(&format!("{{sys.{name}}}")),
            TemplatePart::Secret(name) => out.push_str(&format!("{{secret.{name}}}")),
            TemplatePart::Item(steps) => {
                out.push_str("{item");
                for step in steps {
                    match step {
                        PathStep::Field(f) => out.push_str(&format!(".{f}")),
                        PathStep::Index(i) => out.push_str(&format!("[{i}]")),
                    }
                }
                out.push('}');
            }
        }
    }
    out
}

/// A string in double quotes with `"` and `\` and control characters escaped.
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// A condition or value as source text: `status == 200 and city == "Chicago"`, `total * 2`.
pub fn show_expr(program: &Program, expr: &Expr) -> String {
    let mut out = String::new();
    write_condition(expr, &|e| condition(program, e), &mut out);
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

/// An IR condition node as the shared printer sees it.
fn condition<'e>(program: &Program, expr: &'e Expr) -> Condition<'e, Expr> {
    let name = |names: Option<&str>| names.unwrap_or("?").to_string();
    match expr {
        Expr::Lit(v) => Condition::Operand(show_value(Some(v))),
        Expr::Attr(id) => Condition::Operand(name(
            program.attrs.get(*id as usize).map(|a| a.name.as_str()),
        )),
        Expr::Status => Condition::Operand("status".to_string()),
        Expr::Open(id) => Condition::Operand(format!(
            "open({})",
            name(program.hours.get(*id as usize).map(|h| h.name.as_str()))
        )),
        Expr::Sys(sys) => Condition::Operand(format!("sys.{sys}")),
        Expr::Not(inner) => match &**inner {
            Expr::IsSet(e) => Condition::IsSet(e, true),
            _ => Condition::Not(inner),
        },
        Expr::And(a, b) => Condition::And(a, b),
        Expr::Or(a, b) => Condition::Or(a, b),
        Expr::Cmp(op, a, b) => Condition::Binary(a, op.spaced(), b),
        Expr::Text(op, a, b) => Condition::Binary(a, op.spaced(), b),
        Expr::InRange(e, low, high) => Condition::InRange(e, *low, *high),
        Expr::InList(e, items) => Condition::InList(e, items),
        Expr::Matches(e, pattern) => Condition::Matches(e, quote(pattern)),
        Expr::IsSet(e) => Condition::IsSet(e, false),
        Expr::Arith(op, a, b) => Condition::Arith(a, *op, b),
        Expr::Call(func, args) => Condition::Call(func.name(), args),
        Expr::Template(t) => Condition::Operand(quote(&show_template(program, t))),
    }
}

#[cfg(test)]
mod tests {
    use super::{show_value, value_text, Value};
    use crate::vocab::Number;

    #[test]
    fn values_as_templates_insert_them_and_as_flows_write_them() {
        let list = Value::List(vec![
            Value::Number(Number::from_f64(1.0)),
            Value::Number(Number::from_f64(-0.0)),
            Value::Number(Number::from_f64(3.5)),
        ]);
        let cases = [
            (None, "", "not set"),
            (Some(Value::Null), "", "null"),
            (Some(Value::Bool(true)), "true", "true"),
            (Some(Value::Number(Number::Int(24))), "24", "24"),
            (
                Some(Value::Text("a \"b\"".into())),
                "a \"b\"",
                r#""a \"b\"""#,
            ),
            // Lists are compact JSON, whole numbers without `.0`.
            (Some(list), "[1,0,3.5]", "[1,0,3.5]"),
        ];
        for (value, inserted, shown) in cases {
            assert_eq!(value_text(value.as_ref()), inserted, "{value:?}");
            assert_eq!(show_value(value.as_ref()), shown, "{value:?}");
        }
    }
}

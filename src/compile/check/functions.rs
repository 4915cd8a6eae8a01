//! Arithmetic and function calls: `a + b` needs numbers; `len(x)`, `round(x, 2)`, ... need a
//! known name, the right number of arguments and arguments of the right type.

use super::*;
use crate::compile::types::call_type;
use crate::vocab::{ArithOp, Func};

/// `a + b` and friends: both sides must be numbers (or of a type only known at run time).
pub(super) fn check_arith(
    ctx: &mut Ctx<'_>,
    file: FileId,
    op: ArithOp,
    lhs: &ast::Expr,
    rhs: &ast::Expr,
) -> ValueType {
    for side in [lhs, rhs] {
        let ty = check_expr(ctx, file, side);
        if matches!(ty, ValueType::Text | ValueType::Bool) {
            let help = match &side.kind {
                ExprKind::Lit(Literal::String(s)) if Number::parse(s.trim()).is_some() => {
                    format!("write the number without quotes: `{}`", s.trim())
                }
                ExprKind::Template(t) if template_number(t).is_some() => format!(
                    "write the number without quotes: `{}`",
                    template_number(t).unwrap_or_default()
                ),
                _ if ty == ValueType::Text => "arithmetic needs numbers: ask for the value `as number`, or convert text with `number(x)` (unset when it is not a number); build text with a template such as `\"{first} {last}\"`".to_string(),
                _ => "arithmetic needs numbers; `true` and `false` cannot be added or multiplied".to_string(),
            };
            ctx.error(
                Diag::new(
                    Code::TypeMismatch,
                    format!(
                        "`{}` is {}, and `{}` works on numbers",
                        ctx.snippet(file, side.span),
                        type_name(ty),
                        op.as_str()
                    ),
                    side.span,
                )
                .label(format!("{}, not a number", type_name(ty)))
                .help(help),
                file,
            );
            break; // one report per operator
        }
    }
    ValueType::Number
}

/// The number a template of plain text spells, such as `"2"`.
fn template_number(t: &ast::Template) -> Option<String> {
    match t.parts.as_slice() {
        [ast::TemplatePart::Text(s)] if Number::parse(s.trim()).is_some() => {
            Some(s.trim().to_string())
        }
        _ => None,
    }
}

/// `NAME(args)`: a known function, its number of arguments, their types.
pub(super) fn check_function_call(
    ctx: &mut Ctx<'_>,
    file: FileId,
    e: &ast::Expr,
    name: &ast::Ident,
    args: &[ast::Expr],
) -> ValueType {
    let types: Vec<ValueType> = args.iter().map(|a| check_expr(ctx, file, a)).collect();
    let Some(func) = Func::from_name(&name.name) else {
        unknown_function(ctx, file, name);
        return ValueType::Any;
    };
    if args.len() != func.params().len() {
        let wanted = func.params().len();
        ctx.error(
            Diag::new(
                Code::BadCall,
                format!(
                    "`{}` takes {wanted} argument{}, but {} {} given",
                    func.name(),
                    if wanted == 1 { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                e.span,
            )
            .label(format!("call `{}`", func.signature()))
            .help(format!("`{}`: {}", func.signature(), func.summary())),
            file,
        );
        return call_type(&name.name);
    }
    for (i, (arg, ty)) in args.iter().zip(&types).enumerate() {
        let refused = match (func, i) {
            (Func::Len | Func::Lower | Func::Upper | Func::Trim, 0) => {
                matches!(ty, ValueType::Number | ValueType::Bool)
            }
            (Func::Round, _) => matches!(ty, ValueType::Text | ValueType::Bool),
            _ => false,
        };
        if refused {
            let wants = match func {
                Func::Len => "a list or text",
                Func::Round => "a number",
                _ => "text",
            };
            let help = match func {
                Func::Round => "round numbers only; convert text with `number(x)` first",
                Func::Len => "`len` counts the elements of a list saved from an API (or the characters of a text)",
                _ => "convert the value with `text(x)` first, or use it in a template",
            };
            ctx.error(
                Diag::new(
                    Code::TypeMismatch,
                    format!(
                        "`{}` needs {wants}, but `{}` is {}",
                        func.name(),
                        ctx.snippet(file, arg.span),
                        type_name(*ty)
                    ),
                    arg.span,
                )
                .label(format!("{}, not {wants}", type_name(*ty)))
                .help(help),
                file,
            );
        }
    }
    if let (Func::Round, Some(digits)) = (func, args.get(1)) {
        check_digits(ctx, file, digits);
    }
    call_type(&name.name)
}

/// `round(x, DIGITS)` with a literal: a whole number of places, 0 to 28.
fn check_digits(ctx: &mut Ctx<'_>, file: FileId, digits: &ast::Expr) {
    let ExprKind::Lit(Literal::Number(n)) = &digits.kind else {
        return;
    };
    if n.as_i64().is_some_and(|d| (0..=28).contains(&d)) {
        return;
    }
    ctx.error(
        Diag::new(
            Code::BadCall,
            format!("`round` cannot keep {n} decimal places"),
            digits.span,
        )
        .label("not a whole number from 0 to 28")
        .help("give the number of decimal places as a whole number from 0 to 28, e.g. `round(price, 2)`"),
        file,
    );
}

fn unknown_function(ctx: &mut Ctx<'_>, file: FileId, name: &ast::Ident) {
    let names = Func::ALL.iter().map(|f| f.name());
    let help = if name.name == "open" {
        "`open(NAME)` takes the name of an `hours` item, such as `open(support)`".to_string()
    } else {
        did_you_mean(&name.name, names.clone()).unwrap_or_else(|| {
            format!(
                "the functions are: {}",
                Func::ALL
                    .iter()
                    .map(|f| f.signature())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    };
    let (code, message) = if name.name == "open" {
        (
            Code::BadCall,
            "`open` needs the name of business hours".to_string(),
        )
    } else {
        (
            Code::UnknownFunction,
            format!("unknown function `{}`", name.name),
        )
    };
    ctx.error(
        Diag::new(code, message, name.span)
            .label("not a function")
            .help(help),
        file,
    );
}

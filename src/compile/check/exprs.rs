//! Types of references and expressions: comparisons that can never hold, `status` and
//! `item` where they mean nothing, regexes and ranges.

use super::*;

/// Checks a reference and returns its type.
pub(super) fn check_ref(ctx: &mut Ctx<'_>, file: FileId, r: &ast::Ref, place: Place) -> ValueType {
    match &r.kind {
        RefKind::Attr(name) => match ctx.attr_ids.get(name.as_str()) {
            Some(&id) => {
                ctx.saw(Sym::Attr(id), file, r.span);
                ctx.attrs[id as usize].ty
            }
            None => {
                ctx.unknown_attribute(file, name, r.span);
                ValueType::Any
            }
        },
        RefKind::Item(_) => {
            if !place.item {
                ctx.error(
                    Diag::new(
                        Code::ItemOutsideList,
                        "`item` is only defined while a list is shown",
                        r.span,
                    )
                    .label("no list element here")
                    .help("use `{item...}` in the `label` or card of a `from LIST` block, or in an appointment's `label`; store a field with `save ATTR = item.FIELD` to use it later"),
                    file,
                );
            }
            ValueType::Any
        }
        RefKind::Sys(name) if name == SysAttr::OtpCode.name() && !place.otp_code => {
            ctx.error(
                Diag::new(
                    Code::SecretOutsideApi,
                    "the one-time code `sys.otp_code` would be shown to the user",
                    r.span,
                )
                .label("one-time code used here")
                .help("`{sys.otp_code}` may only be used in an API's URL, headers or body, or in the email an `otp` sends"),
                file,
            );
            ValueType::Text
        }
        RefKind::Sys(name) => {
            if SysAttr::from_name(name).is_some_and(SysAttr::is_number) {
                return ValueType::Number;
            }
            if SysAttr::from_name(name).is_none() {
                let names = SysAttr::ALL.iter().map(|a| a.name());
                let help = did_you_mean(name, names.clone()).unwrap_or_else(|| {
                    format!(
                        "the system attributes are: {}",
                        names.collect::<Vec<_>>().join(", ")
                    )
                });
                ctx.error(
                    Diag::new(
                        Code::UnknownSys,
                        format!("unknown system attribute `sys.{name}`"),
                        r.span,
                    )
                    .label("not a system attribute")
                    .help(help),
                    file,
                );
            }
            ValueType::Text
        }
        RefKind::Secret(name) => {
            if !place.secrets {
                ctx.error(
                    Diag::new(
                        Code::SecretOutsideApi,
                        format!("the secret `{name}` would be shown to the user"),
                        r.span,
                    )
                    .label("secret used here")
                    .help("secrets may only be used in an API's URL, headers or body; they must never reach a user"),
                    file,
                );
            }
            ValueType::Text
        }
        RefKind::Status => ref_type_fixed(&r.kind),
    }
}

/// A condition must be true or false; bare text or numbers are refused.
pub(super) fn check_condition(ctx: &mut Ctx<'_>, file: FileId, e: &ast::Expr) {
    let ty = check_expr(ctx, file, e);
    if matches!(ty, ValueType::Text | ValueType::Number) {
        ctx.error(
            Diag::new(
                Code::TypeMismatch,
                format!(
                    "a condition must be true or false, but this is {}",
                    type_name(ty)
                ),
                e.span,
            )
            .label("not a condition")
            .help("compare the value with something, e.g. `city == \"Chicago\"` or `city is set`"),
            file,
        );
    }
}

/// Checks an expression and returns its type.
pub(crate) fn check_expr(ctx: &mut Ctx<'_>, file: FileId, e: &ast::Expr) -> ValueType {
    match &e.kind {
        ExprKind::Lit(lit) => literal_type(lit),
        ExprKind::Ref(r) => check_ref(ctx, file, r, Place::USER),
        ExprKind::Open(name) => {
            hours::check_open(ctx, file, name);
            ValueType::Bool
        }
        ExprKind::Or(a, b) | ExprKind::And(a, b) => {
            check_condition(ctx, file, a);
            check_condition(ctx, file, b);
            ValueType::Bool
        }
        ExprKind::Not(a) => {
            check_condition(ctx, file, a);
            ValueType::Bool
        }
        ExprKind::Cmp { op, lhs, rhs } => {
            let lt = check_expr(ctx, file, lhs);
            let rt = check_expr(ctx, file, rhs);
            check_cmp(ctx, file, e, *op, (lhs, lt), (rhs, rt));
            ValueType::Bool
        }
        ExprKind::InRange {
            value,
            low,
            high,
            bounds_span,
        } => {
            let ty = check_expr(ctx, file, value);
            if matches!(ty, ValueType::Text | ValueType::Bool) {
                mismatch(
                    ctx,
                    file,
                    e.span,
                    format!(
                        "`{}` is {}, so it is never in a number range",
                        ctx.snippet(file, value.span),
                        type_name(ty)
                    ),
                    "`in A..B` checks numbers; use `==` or `in [\"a\", \"b\"]` for text",
                );
            }
            if low > high {
                ctx.error(
                    Diag::new(
                        Code::BadRange,
                        format!(
                            "the range {low}..{high} is empty: its low end is above its high end"
                        ),
                        *bounds_span,
                    )
                    .label("empty range")
                    .help(format!("write the smaller number first: `{high}..{low}`")),
                    file,
                );
            }
            ValueType::Bool
        }
        ExprKind::InList { value, items } => {
            let ty = check_expr(ctx, file, value);
            for item in items {
                let it = check_expr(ctx, file, item);
                if !comparable(ty, it) {
                    mismatch(
                        ctx,
                        file,
                        item.span,
                        format!(
                            "`{}` is {} but this item is {}: it can never match",
                            ctx.snippet(file, value.span),
                            type_name(ty),
                            type_name(it)
                        ),
                        "make every item the same type as the value",
                    );
                }
            }
            ValueType::Bool
        }
        ExprKind::Text { lhs, rhs, .. } => {
            for side in [lhs, rhs] {
                let ty = check_expr(ctx, file, side);
                if matches!(ty, ValueType::Number | ValueType::Bool) {
                    mismatch(
                        ctx,
                        file,
                        side.span,
                        format!(
                            "`{}` is {}, and text operators need text",
                            ctx.snippet(file, side.span),
                            type_name(ty)
                        ),
                        "`contains`, `starts_with` and `ends_with` work on text; compare numbers with `==`, `<` or `in A..B`",
                    );
                }
            }
            ValueType::Bool
        }
        ExprKind::Matches { value, pattern } => {
            check_expr(ctx, file, value);
            if let Err(err) = regex::Regex::new(&pattern.value) {
                let reason = err.to_string();
                let last = reason.lines().last().unwrap_or("invalid pattern").trim();
                let last = last.trim_start_matches("error:").trim().to_string();
                ctx.error(
                    Diag::new(
                        Code::BadRegex,
                        format!("this regular expression is invalid: {last}"),
                        pattern.span,
                    )
                    .label("invalid pattern")
                    .help("fix the pattern; the syntax is that of the Rust `regex` crate (no look-around or back-references)"),
                    file,
                );
            }
            ValueType::Bool
        }
        ExprKind::IsSet { value, .. } => {
            check_expr(ctx, file, value);
            ValueType::Bool
        }
        ExprKind::Arith { op, lhs, rhs } => check_arith(ctx, file, *op, lhs, rhs),
        ExprKind::Call { name, args } => check_function_call(ctx, file, e, name, args),
        ExprKind::Template(t) => {
            check_template(ctx, file, t, Place::USER);
            ValueType::Text
        }
    }
}

pub(super) fn check_cmp(
    ctx: &mut Ctx<'_>,
    file: FileId,
    e: &ast::Expr,
    op: CmpOp,
    (lhs, lt): (&ast::Expr, ValueType),
    (rhs, rt): (&ast::Expr, ValueType),
) {
    match op {
        CmpOp::Eq | CmpOp::Ne => {
            if !comparable(lt, rt) {
                let help = quote_help(lhs, lt, rhs, rt);
                mismatch(
                    ctx,
                    file,
                    e.span,
                    format!(
                        "`{}` is {} and `{}` is {}: they are never equal",
                        ctx.snippet(file, lhs.span),
                        type_name(lt),
                        ctx.snippet(file, rhs.span),
                        type_name(rt)
                    ),
                    &help,
                );
            }
        }
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            for (side, ty) in [(lhs, lt), (rhs, rt)] {
                if matches!(ty, ValueType::Text | ValueType::Bool) {
                    mismatch(
                        ctx,
                        file,
                        side.span,
                        format!(
                            "`{}` is {}, and `<`, `<=`, `>`, `>=` compare numbers",
                            ctx.snippet(file, side.span),
                            type_name(ty)
                        ),
                        "order comparisons need numbers; ask for the value `as number` or compare text with `==`",
                    );
                    break; // one report per comparison
                }
            }
        }
    }
}

/// A help line for `==` between a number and text: suggest dropping or adding quotes.
pub(super) fn quote_help(lhs: &ast::Expr, lt: ValueType, rhs: &ast::Expr, rt: ValueType) -> String {
    for (side, other_ty) in [(rhs, lt), (lhs, rt)] {
        if let ExprKind::Lit(Literal::String(s)) = &side.kind {
            if other_ty == ValueType::Number && s.trim().parse::<f64>().is_ok() {
                return format!("write the number without quotes: `{}`", s.trim());
            }
        }
    }
    "compare values of the same type: numbers with numbers, text with text".to_string()
}

pub(super) fn mismatch(ctx: &mut Ctx<'_>, file: FileId, span: Span, message: String, help: &str) {
    ctx.error(
        Diag::new(Code::TypeMismatch, message, span)
            .label("can never be true")
            .help(help),
        file,
    );
}

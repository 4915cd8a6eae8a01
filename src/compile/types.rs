//! Attribute types, inferred from every place that fills an attribute.
//!
//! `ask x as number` gives Number, any other `ask` Text, `set x = EXPR` the type of EXPR
//! (arithmetic and `len`/`round`/`number` a number, templates and the text functions text), and
//! `save x = body...` Any (a JSON answer may hold anything). Conflicting definitions give Any.

use super::resolve::{Ctx, Filler};
use crate::ir::ValueType;
use crate::syntax::ast::{self, ExprKind, Literal, RefKind};
use crate::vocab::Func;

/// A type while inference runs: `None` means "no definition seen yet".
type Slot = Option<ValueType>;

fn join(a: Slot, b: ValueType) -> Slot {
    match a {
        None => Some(b),
        Some(a) if a == b => Some(a),
        Some(_) => Some(ValueType::Any),
    }
}

/// Fills `ctx.attrs[..].ty` from `ctx.fillers`.
pub(crate) fn infer(ctx: &mut Ctx<'_>) {
    let mut slots: Vec<Slot> = vec![None; ctx.attrs.len()];
    // Fixed (expression-independent) definitions first.
    let mut sets: Vec<(u32, &ast::Expr)> = Vec::new();
    for (id, filler) in &ctx.fillers {
        match filler {
            Filler::Fixed(ty) => slots[*id as usize] = join(slots[*id as usize], *ty),
            Filler::Expr(e) => sets.push((*id, e)),
        }
    }
    // `set` may copy other attributes: iterate to a fixed point. Each slot only moves up
    // (None -> type -> Any), so this ends; the cap is a guard, not a limit that matters.
    for _ in 0..(2 * slots.len() + 2) {
        let mut changed = false;
        for &(id, expr) in &sets {
            let Some(ty) = expr_type(ctx, &slots, expr) else {
                continue;
            };
            let new = join(slots[id as usize], ty);
            if new != slots[id as usize] {
                slots[id as usize] = new;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for (attr, slot) in ctx.attrs.iter_mut().zip(slots) {
        attr.ty = slot.unwrap_or(ValueType::Any);
    }
}

/// The type of an expression during inference; `None` while a copied attribute is unknown.
fn expr_type(ctx: &Ctx<'_>, slots: &[Slot], expr: &ast::Expr) -> Option<ValueType> {
    match &expr.kind {
        ExprKind::Lit(lit) => Some(literal_type(lit)),
        ExprKind::Ref(r) => match &r.kind {
            RefKind::Attr(name) => ctx
                .attr_ids
                .get(name.as_str())
                .map_or(Some(ValueType::Any), |&id| slots[id as usize]),
            other => Some(ref_type_fixed(other)),
        },
        ExprKind::Arith { .. } => Some(ValueType::Number),
        ExprKind::Template(_) => Some(ValueType::Text),
        ExprKind::Call { name, .. } => Some(call_type(&name.name)),
        _ => Some(ValueType::Bool),
    }
}

/// What a function call gives; `Any` for a name that is no function (reported elsewhere).
pub(crate) fn call_type(name: &str) -> ValueType {
    match Func::from_name(name) {
        Some(Func::Len | Func::Round | Func::Number) => ValueType::Number,
        Some(Func::Lower | Func::Upper | Func::Trim | Func::Text) => ValueType::Text,
        None => ValueType::Any,
    }
}

pub(crate) fn literal_type(lit: &Literal) -> ValueType {
    match lit {
        Literal::Number(_) => ValueType::Number,
        Literal::String(_) => ValueType::Text,
        Literal::Bool(_) => ValueType::Bool,
        Literal::Null => ValueType::Any,
    }
}

/// Types of references that do not depend on inference.
pub(crate) fn ref_type_fixed(kind: &RefKind) -> ValueType {
    match kind {
        RefKind::Status => ValueType::Number,
        RefKind::Sys(_) => ValueType::Text,
        RefKind::Attr(_) | RefKind::Secret(_) | RefKind::Item(_) => ValueType::Any,
    }
}

/// Whether values of these two types may ever be equal.
pub(crate) fn comparable(a: ValueType, b: ValueType) -> bool {
    a == ValueType::Any || b == ValueType::Any || a == b
}

pub(crate) fn type_name(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Text => "text",
        ValueType::Number => "a number",
        ValueType::Bool => "a boolean",
        ValueType::Any => "any value",
    }
}

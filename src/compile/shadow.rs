//! Shadowed branch arms: an arm can never be taken when every value that makes its condition
//! true also makes an earlier arm's condition true. [`implies`] is a sound but incomplete
//! check over `and`/`or` with value atoms (`==`, ranges, lists, order comparisons, `is set`).

use super::resolve::Ctx;
use crate::diagnostic::{Code, Diag};
use crate::source::FileId;
use crate::syntax::ast::{self, CmpOp, ExprKind, Literal, RefKind};

pub(crate) fn check_arms(ctx: &mut Ctx<'_>, file: FileId, arms: &[ast::BranchArm]) {
    for (j, later) in arms.iter().enumerate() {
        let covering = arms[..j].iter().find(|earlier| {
            let mut fuel = 10_000u32;
            implies(&later.cond, &earlier.cond, &mut fuel)
        });
        if let Some(earlier) = covering {
            ctx.error(
                Diag::new(
                    Code::ShadowedCondition,
                    "this arm can never be taken",
                    later.span,
                )
                .label("every value that makes this true is caught above")
                .note(earlier.span, "this earlier arm already covers it")
                .help("remove this arm, or move it above the arm that covers it"),
                file,
            );
        }
    }
}

/// True when `later` being true guarantees `earlier` is true. `fuel` bounds the work on
/// deeply nested conditions; running out answers "no".
pub(crate) fn implies(later: &ast::Expr, earlier: &ast::Expr, fuel: &mut u32) -> bool {
    if *fuel == 0 {
        return false;
    }
    *fuel -= 1;
    if same(later, earlier) || matches!(earlier.kind, ExprKind::Lit(Literal::Bool(true))) {
        return true;
    }
    if let ExprKind::Or(b1, b2) = &earlier.kind {
        if implies(later, b1, fuel) || implies(later, b2, fuel) {
            return true;
        }
    }
    if let ExprKind::And(b1, b2) = &earlier.kind {
        return implies(later, b1, fuel) && implies(later, b2, fuel);
    }
    match &later.kind {
        ExprKind::Or(a1, a2) => implies(a1, earlier, fuel) && implies(a2, earlier, fuel),
        ExprKind::And(a1, a2) => implies(a1, earlier, fuel) || implies(a2, earlier, fuel),
        _ => match (atom(later), atom(earlier)) {
            (Some((r1, c1)), Some((r2, c2))) => r1 == r2 && subsumes(&c1, &c2),
            _ => false,
        },
    }
}

/// Structural equality, ignoring spans.
fn same(a: &ast::Expr, b: &ast::Expr) -> bool {
    use ExprKind::*;
    match (&a.kind, &b.kind) {
        (Lit(x), Lit(y)) => x == y,
        (Ref(x), Ref(y)) => x.kind == y.kind,
        (Or(a1, a2), Or(b1, b2)) | (And(a1, a2), And(b1, b2)) => same(a1, b1) && same(a2, b2),
        (Not(x), Not(y)) => same(x, y),
        (
            Cmp { op, lhs, rhs },
            Cmp {
                op: op2,
                lhs: l2,
                rhs: r2,
            },
        ) => op == op2 && same(lhs, l2) && same(rhs, r2),
        (
            InRange {
                value, low, high, ..
            },
            InRange {
                value: v2,
                low: l2,
                high: h2,
                ..
            },
        ) => low == l2 && high == h2 && same(value, v2),
        (
            InList { value, items },
            InList {
                value: v2,
                items: i2,
            },
        ) => {
            same(value, v2)
                && items.len() == i2.len()
                && items.iter().zip(i2).all(|(x, y)| same(x, y))
        }
        (
            Text { op, lhs, rhs },
            Text {
                op: op2,
                lhs: l2,
                rhs: r2,
            },
        ) => op == op2 && same(lhs, l2) && same(rhs, r2),
        (
            Matches { value, pattern },
            Matches {
                value: v2,
                pattern: p2,
            },
        ) => pattern.value == p2.value && same(value, v2),
        (
            IsSet { value, negated },
            IsSet {
                value: v2,
                negated: n2,
            },
        ) => negated == n2 && same(value, v2),
        (
            Arith { op, lhs, rhs },
            Arith {
                op: op2,
                lhs: l2,
                rhs: r2,
            },
        ) => op == op2 && same(lhs, l2) && same(rhs, r2),
        (Call { name, args }, Call { name: n2, args: a2 }) => {
            name.name == n2.name
                && args.len() == a2.len()
                && args.iter().zip(a2).all(|(x, y)| same(x, y))
        }
        (Template(x), Template(y)) => x.parts == y.parts,
        _ => false,
    }
}

/// What an atom says about one reference.
#[derive(Debug)]
enum Con<'a> {
    Eq(&'a Literal),
    Range(i64, i64),
    List(Vec<&'a Literal>),
    /// `ref OP number` with the reference on the left.
    Order(CmpOp, f64),
    IsSet,
}

fn atom(e: &ast::Expr) -> Option<(&RefKind, Con<'_>)> {
    match &e.kind {
        ExprKind::Cmp { op, lhs, rhs } => {
            let (r, lit, op) = match (&lhs.kind, &rhs.kind) {
                (ExprKind::Ref(r), ExprKind::Lit(l)) => (r, l, *op),
                (ExprKind::Lit(l), ExprKind::Ref(r)) => (r, l, flip(*op)),
                _ => return None,
            };
            match (op, lit) {
                (CmpOp::Eq, Literal::Null) => None,
                (CmpOp::Eq, lit) => Some((&r.kind, Con::Eq(lit))),
                (CmpOp::Ne, _) => None,
                (op, Literal::Number(n)) => Some((&r.kind, Con::Order(op, n.to_f64()))),
                _ => None,
            }
        }
        ExprKind::InRange {
            value, low, high, ..
        } => Some((ref_of(value)?, Con::Range(*low, *high))),
        ExprKind::InList { value, items } => {
            let lits = items
                .iter()
                .map(|i| match &i.kind {
                    ExprKind::Lit(l) => Some(l),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some((ref_of(value)?, Con::List(lits)))
        }
        ExprKind::IsSet {
            value,
            negated: false,
        } => Some((ref_of(value)?, Con::IsSet)),
        _ => None,
    }
}

fn ref_of(e: &ast::Expr) -> Option<&RefKind> {
    match &e.kind {
        ExprKind::Ref(r) => Some(&r.kind),
        _ => None,
    }
}

/// `5 < x` is `x > 5`.
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn number(lit: &Literal) -> Option<f64> {
    match lit {
        Literal::Number(n) => Some(n.to_f64()),
        _ => None,
    }
}

fn satisfies(x: f64, op: CmpOp, m: f64) -> bool {
    match op {
        CmpOp::Eq => x == m,
        CmpOp::Ne => x != m,
        CmpOp::Lt => x < m,
        CmpOp::Le => x <= m,
        CmpOp::Gt => x > m,
        CmpOp::Ge => x >= m,
    }
}

/// Whether constraint `a` on a value implies constraint `b` on the same value. Every value
/// constraint implies the value is set (an unset attribute fails them all).
fn subsumes(a: &Con<'_>, b: &Con<'_>) -> bool {
    match (a, b) {
        (_, Con::IsSet) => true,
        (Con::IsSet, _) => false,
        (Con::List(items), b) => items.iter().all(|v| subsumes(&Con::Eq(v), b)),
        (Con::Eq(v), Con::Eq(w)) => v == w,
        (Con::Eq(v), Con::Range(lo, hi)) => {
            number(v).is_some_and(|n| n.fract() == 0.0 && n >= *lo as f64 && n <= *hi as f64)
        }
        (Con::Eq(v), Con::List(items)) => items.contains(v),
        (Con::Eq(v), Con::Order(op, m)) => number(v).is_some_and(|n| satisfies(n, *op, *m)),
        (Con::Range(lo, hi), Con::Range(lo2, hi2)) => lo2 <= lo && hi <= hi2,
        (Con::Range(lo, hi), Con::Eq(w)) => lo == hi && number(w).is_some_and(|n| n == *lo as f64),
        (Con::Range(lo, hi), Con::List(items)) => {
            hi.saturating_sub(*lo) < 1_000
                && (*lo..=*hi).all(|i| items.iter().any(|v| number(v) == Some(i as f64)))
        }
        (Con::Range(lo, hi), Con::Order(op, m)) => {
            satisfies(*lo as f64, *op, *m) && satisfies(*hi as f64, *op, *m)
        }
        (Con::Order(op, m), Con::Order(op2, m2)) => order_implies(*op, *m, *op2, *m2),
        (Con::Order(..), _) => false,
    }
}

/// `x op m` implies `x op2 m2`, for order operators.
fn order_implies(op: CmpOp, m: f64, op2: CmpOp, m2: f64) -> bool {
    use CmpOp::*;
    match (op, op2) {
        (Gt, Gt) | (Gt, Ge) | (Ge, Ge) => m >= m2,
        (Ge, Gt) => m > m2,
        (Lt, Lt) | (Lt, Le) | (Le, Le) => m <= m2,
        (Le, Lt) => m < m2,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::compile_str;
    use crate::diagnostic::Code;

    /// Compiles `if A -> t elif B -> t else -> t` and says whether B was flagged.
    fn shadowed(a: &str, b: &str) -> bool {
        let src = format!(
            "api w {{ get \"https://x.test\"; save any = body.x }}\n\
             node s {{ ask city; ask n as number; call w; if {a} -> t elif {b} -> t else -> t }}\n\
             node t {{ close }}\n"
        );
        let compiled = compile_str("t.flow", &src);
        let errors: Vec<_> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        assert!(errors.is_empty(), "{a} / {b}: {errors:?}");
        compiled
            .diagnostics
            .iter()
            .any(|d| d.code == Code::ShadowedCondition)
    }

    #[test]
    fn covered_arms_are_flagged() {
        assert!(shadowed("status == 200", "status == 200"));
        assert!(shadowed("status in 400..499", "status == 404"));
        assert!(shadowed("status in 400..499", "status in 410..420"));
        assert!(shadowed("status in [1, 2, 3]", "status in [3, 1]"));
        assert!(shadowed("status in 1..3", "status in [2, 3]"));
        assert!(shadowed("n > 5", "n >= 6"));
        assert!(shadowed("n >= 5", "n in 5..9"));
        assert!(shadowed("true", "city == \"x\""));
        assert!(shadowed("city is set", "city == \"x\""));
        assert!(shadowed("city == \"a\" or n > 1", "n > 2 and any == 1"));
        assert!(shadowed(
            "status == 200",
            "(status == 200 and city == \"x\") or status == 200"
        ));
    }

    #[test]
    fn reachable_arms_are_not_flagged() {
        assert!(!shadowed(
            "status == 200 and city == \"Chicago\"",
            "status == 200"
        ));
        assert!(!shadowed("n > 5", "n >= 5"));
        assert!(!shadowed("status in 400..499", "status in 400..500"));
        assert!(!shadowed("status == 200", "status != 200"));
        assert!(!shadowed("status in [1, 2]", "status in 1..3"));
        assert!(!shadowed("city == \"a\"", "any == \"a\""));
        assert!(!shadowed("n == 3", "n == 3.5"));
        assert!(!shadowed("not (city == \"a\")", "city == \"b\""));
        assert!(!shadowed("city is not set", "city == \"a\""));
    }
}

//! The one printer of conditions and expressions: `fmt` (over the syntax tree) and traces,
//! graphs and coverage (over the IR) describe each node of their tree as a [`Condition`], and
//! this module writes it with canonical spacing and only the parentheses the grammar needs,
//! from one precedence table.

use super::ArithOp;

/// One node of a condition, as the printer sees it.
pub enum Condition<'e, E> {
    /// An operand already written: a literal, a name, `open(hours)`.
    Operand(String),
    /// `a or b`
    Or(&'e E, &'e E),
    /// `a and b`
    And(&'e E, &'e E),
    /// `not a`
    Not(&'e E),
    /// A comparison or text operator with its spaces: `" == "`, `" contains "`.
    Binary(&'e E, &'static str, &'e E),
    /// Inclusive integer range test.
    InRange(&'e E, i64, i64),
    /// Equal to any of the values.
    InList(&'e E, &'e [E]),
    /// The pattern already quoted.
    Matches(&'e E, String),
    /// `x is set`, or `x is not set` when `negated`.
    IsSet(&'e E, bool),
    /// `a + b`, `a * b`, ...
    Arith(&'e E, ArithOp, &'e E),
    /// `len(x)`, `round(x, 2)`: the function's name and its arguments.
    Call(&'e str, &'e [E]),
}

/// Binding strength, loosest first: `or` < `and` < `not` < comparisons < `+ -` < `* / %` <
/// operands (literals, names, calls, parentheses).
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const COMPARISON: u8 = 5;
const SUM: u8 = 6;
const PRODUCT: u8 = 7;
const OPERAND: u8 = 8;

fn arith_strength(op: ArithOp) -> u8 {
    match op.precedence() {
        1 => SUM,
        _ => PRODUCT,
    }
}

impl<E> Condition<'_, E> {
    fn strength(&self) -> u8 {
        match self {
            Condition::Or(..) => OR,
            Condition::And(..) => AND,
            Condition::Not(..) => NOT,
            Condition::Operand(_) | Condition::Call(..) => OPERAND,
            Condition::Arith(_, op, _) => arith_strength(*op),
            _ => COMPARISON,
        }
    }
}

/// Writes `expr`, asking `view` what each node is.
pub fn write_condition<'e, E>(
    expr: &'e E,
    view: &impl Fn(&'e E) -> Condition<'e, E>,
    out: &mut String,
) {
    write(expr, view, 0, out);
}

/// `min`: the binding strength `expr` needs to go without parentheses. Sides of comparisons,
/// `in`, `matches` and `is set` may be sums; list items must be operands; `and`, `or` and the
/// arithmetic operators chain to the left, so their right side needs one more than the
/// operator itself.
fn write<'e, E>(expr: &'e E, view: &impl Fn(&'e E) -> Condition<'e, E>, min: u8, out: &mut String) {
    let node = view(expr);
    let parens = node.strength() < min;
    if parens {
        out.push('(');
    }
    let binary = |a, op: &str, b, mins: (u8, u8), out: &mut String| {
        write(a, view, mins.0, out);
        out.push_str(op);
        write(b, view, mins.1, out);
    };
    match node {
        Condition::Operand(text) => out.push_str(&text),
        Condition::Or(a, b) => binary(a, " or ", b, (OR, AND), out),
        Condition::And(a, b) => binary(a, " and ", b, (AND, NOT), out),
        Condition::Not(e) => {
            out.push_str("not ");
            write(e, view, NOT, out);
        }
        Condition::Binary(a, op, b) => binary(a, op, b, (SUM, SUM), out),
        Condition::Arith(a, op, b) => {
            let strength = arith_strength(op);
            let spaced = format!(" {} ", op.as_str());
            binary(a, &spaced, b, (strength, strength + 1), out)
        }
        Condition::Call(name, args) => {
            out.push_str(name);
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(arg, view, 0, out);
            }
            out.push(')');
        }
        Condition::InRange(e, low, high) => {
            write(e, view, SUM, out);
            out.push_str(&format!(" in {low}..{high}"));
        }
        Condition::InList(e, items) => {
            write(e, view, SUM, out);
            out.push_str(" in [");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(item, view, OPERAND, out);
            }
            out.push(']');
        }
        Condition::Matches(e, pattern) => {
            write(e, view, SUM, out);
            out.push_str(" matches ");
            out.push_str(&pattern);
        }
        Condition::IsSet(e, negated) => {
            write(e, view, SUM, out);
            out.push_str(if negated { " is not set" } else { " is set" });
        }
    }
    if parens {
        out.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::{write_condition, ArithOp, Condition};

    /// A tiny tree to print: just enough shapes to show where parentheses go.
    enum T {
        Name(&'static str),
        Or(Box<T>, Box<T>),
        And(Box<T>, Box<T>),
        Not(Box<T>),
        Eq(Box<T>, Box<T>),
        IsSet(Box<T>),
        In(Box<T>, Vec<T>),
        Op(Box<T>, ArithOp, Box<T>),
        Call(Vec<T>),
    }

    fn show(t: &T) -> String {
        let mut out = String::new();
        write_condition(
            t,
            &|t: &T| match t {
                T::Name(n) => Condition::Operand(n.to_string()),
                T::Or(a, b) => Condition::Or(a, b),
                T::And(a, b) => Condition::And(a, b),
                T::Not(e) => Condition::Not(e),
                T::Eq(a, b) => Condition::Binary(a, " == ", b),
                T::IsSet(e) => Condition::IsSet(e, false),
                T::In(e, items) => Condition::InList(e, items),
                T::Op(a, op, b) => Condition::Arith(a, *op, b),
                T::Call(args) => Condition::Call("round", args),
            },
            &mut out,
        );
        out
    }

    fn b(t: T) -> Box<T> {
        Box::new(t)
    }

    #[test]
    fn parentheses_only_where_the_grammar_needs_them() {
        use T::*;
        let (a, c, d) = (|| b(Name("a")), || b(Name("c")), || b(Name("d")));
        assert_eq!(show(&Or(b(And(a(), c())), d())), "a and c or d");
        assert_eq!(show(&And(b(Or(a(), c())), d())), "(a or c) and d");
        // Left-leaning chains print flat; a right-nested one keeps its parentheses.
        assert_eq!(show(&Or(b(Or(a(), c())), d())), "a or c or d");
        assert_eq!(show(&Or(a(), b(Or(c(), d())))), "a or (c or d)");
        assert_eq!(show(&Not(b(And(a(), c())))), "not (a and c)");
        assert_eq!(show(&And(b(Not(a())), c())), "not a and c");
        assert_eq!(show(&Eq(b(Eq(a(), c())), d())), "(a == c) == d");
        assert_eq!(show(&IsSet(b(Not(a())))), "(not a) is set");
        assert_eq!(
            show(&In(a(), vec![Name("c"), Or(c(), d())])),
            "a in [c, (c or d)]"
        );
    }

    #[test]
    fn arithmetic_binds_tighter_than_comparisons_and_products_than_sums() {
        use ArithOp::{Add, Mul, Sub};
        use T::*;
        let (a, c, d) = (|| b(Name("a")), || b(Name("c")), || b(Name("d")));
        let op = |x, o, y| b(Op(x, o, y));
        assert_eq!(show(&Eq(op(a(), Add, c()), d())), "a + c == d");
        assert_eq!(show(&Op(op(a(), Add, c()), Mul, d())), "(a + c) * d");
        assert_eq!(show(&Op(a(), Add, op(c(), Mul, d()))), "a + c * d");
        // Left-leaning chains print flat; `a - (c - d)` keeps its parentheses.
        assert_eq!(show(&Op(op(a(), Sub, c()), Sub, d())), "a - c - d");
        assert_eq!(show(&Op(a(), Sub, op(c(), Sub, d()))), "a - (c - d)");
        assert_eq!(show(&IsSet(op(a(), Add, c()))), "a + c is set");
        assert_eq!(show(&In(a(), vec![Op(c(), Add, d())])), "a in [(c + d)]");
        assert_eq!(
            show(&Call(vec![Op(a(), Mul, c()), Name("d")])),
            "round(a * c, d)"
        );
        assert_eq!(show(&Op(b(Call(vec![])), Mul, a())), "round() * a");
    }
}

//! Builds expressions: `or`/`and` chains, `not`, comparisons, arithmetic, calls and operands,
//! with the depth and length limits that keep the tree bounded.

use super::*;

impl Builder<'_> {
    pub(super) fn expr(&mut self, p: P) -> Expr {
        let span = self.span(&p);
        if self.depth >= MAX_DEPTH {
            self.diags.push(leaf::too_deep(span));
            return Expr {
                kind: ExprKind::Lit(Literal::Null),
                span,
            };
        }
        self.depth += 1;
        let e = self.expr_inner(p, span);
        self.depth -= 1;
        e
    }

    pub(super) fn expr_inner(&mut self, p: P, span: Span) -> Expr {
        match p.as_rule() {
            Rule::expr | Rule::and_expr => {
                let is_or = p.as_rule() == Rule::expr;
                let mut operands = p
                    .into_inner()
                    .filter(|q| !matches!(q.as_rule(), Rule::kw_or | Rule::kw_and));
                let Some(first) = operands.next() else {
                    return null_expr(span);
                };
                let mut acc = self.expr(first);
                for (n, next) in operands.enumerate() {
                    if n >= MAX_CHAIN {
                        self.diags.push(leaf::too_long(span));
                        break;
                    }
                    let rhs = self.expr(next);
                    let both = acc.span.to(rhs.span);
                    let (l, r) = (Box::new(acc), Box::new(rhs));
                    let kind = if is_or {
                        ExprKind::Or(l, r)
                    } else {
                        ExprKind::And(l, r)
                    };
                    acc = Expr { kind, span: both };
                }
                acc
            }
            Rule::not_expr => {
                let mut inner = p.into_inner();
                match inner.next() {
                    Some(first) if first.as_rule() == Rule::kw_not => {
                        let operand = inner.next().map_or(null_expr(span), |q| self.expr(q));
                        Expr {
                            kind: ExprKind::Not(Box::new(operand)),
                            span,
                        }
                    }
                    Some(first) => self.expr(first),
                    None => null_expr(span),
                }
            }
            Rule::cmp => self.cmp(p, span),
            Rule::intent_cmp => self.intent_cmp(p, span),
            Rule::paren => match p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                Some(e) => {
                    let mut e = self.expr(e);
                    e.span = span;
                    e
                }
                None => null_expr(span),
            },
            Rule::number => Expr {
                kind: ExprKind::Lit(Literal::Number(self.number(&p))),
                span,
            },
            Rule::string if self.in_value => Expr {
                kind: ExprKind::Template(self.template_of(&p)),
                span,
            },
            Rule::string => Expr {
                kind: ExprKind::Lit(Literal::String(self.str_of(&p).value)),
                span,
            },
            Rule::sum | Rule::product => self.arith(p, span),
            Rule::func_call => {
                let mut inner = p.into_inner();
                let name = self.next_ident(&mut inner, NameRole::Function);
                let args = inner
                    .filter(|q| q.as_rule() == Rule::expr)
                    .map(|q| self.expr(q))
                    .collect();
                Expr {
                    kind: ExprKind::Call { name, args },
                    span,
                }
            }
            Rule::kw_true => lit(Literal::Bool(true), span),
            Rule::kw_false => lit(Literal::Bool(false), span),
            Rule::kw_null => lit(Literal::Null, span),
            Rule::kw_status => reference(RefKind::Status, span),
            Rule::ident => {
                let id = self.ident(&p, NameRole::Attribute);
                reference(RefKind::Attr(id.name), span)
            }
            Rule::dotted_ref => leaf::dotted(p.as_str(), self.at(&p), self.diags),
            Rule::open_call => {
                let hours = self.next_ident(&mut p.into_inner(), NameRole::Hours);
                Expr {
                    kind: ExprKind::Open(hours),
                    span,
                }
            }
            _ => null_expr(span),
        }
    }

    /// `a + b - c` or `a * b / c`: operands and operators, folded to the left.
    pub(super) fn arith(&mut self, p: P, span: Span) -> Expr {
        let mut inner = p.into_inner();
        let Some(first) = inner.next() else {
            return null_expr(span);
        };
        let mut acc = self.expr(first);
        let mut count = 0;
        while let (Some(op), Some(next)) = (inner.next(), inner.next()) {
            count += 1;
            if count > MAX_CHAIN {
                self.diags.push(leaf::too_long(span));
                break;
            }
            let rhs = self.expr(next);
            let both = acc.span.to(rhs.span);
            acc = Expr {
                kind: ExprKind::Arith {
                    op: leaf::arith_op(op.as_str()),
                    lhs: Box::new(acc),
                    rhs: Box::new(rhs),
                },
                span: both,
            };
        }
        acc
    }

    pub(super) fn cmp(&mut self, p: P, span: Span) -> Expr {
        let mut inner = p.into_inner();
        let Some(first) = inner.next() else {
            return null_expr(span);
        };
        let lhs = self.expr(first);
        let Some(op) = inner.next() else {
            return lhs;
        };
        let kind = match op.as_rule() {
            Rule::cmp_op => {
                let op = leaf::cmp_op(op.as_str());
                let rhs = inner.next().map_or(null_expr(span), |q| self.expr(q));
                ExprKind::Cmp {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            Rule::kw_contains | Rule::kw_starts_with | Rule::kw_ends_with => {
                let op = match op.as_rule() {
                    Rule::kw_contains => TextOp::Contains,
                    Rule::kw_starts_with => TextOp::StartsWith,
                    _ => TextOp::EndsWith,
                };
                let rhs = inner.next().map_or(null_expr(span), |q| self.expr(q));
                ExprKind::Text {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                }
            }
            Rule::kw_matches => ExprKind::Matches {
                value: Box::new(lhs),
                pattern: self.next_str(&mut inner),
            },
            Rule::kw_is => ExprKind::IsSet {
                value: Box::new(lhs),
                negated: inner.next().is_some_and(|q| q.as_rule() == Rule::kw_not),
            },
            Rule::kw_in => match inner.next() {
                Some(r) if r.as_rule() == Rule::range => self.range(lhs, r),
                Some(l) => ExprKind::InList {
                    value: Box::new(lhs),
                    items: l
                        .into_inner()
                        .filter(|q| {
                            !matches!(q.as_rule(), Rule::lbracket | Rule::rbracket | Rule::comma)
                        })
                        .map(|q| self.expr(q))
                        .collect(),
                },
                None => return lhs,
            },
            _ => return lhs,
        };
        Expr { kind, span }
    }

    pub(super) fn range(&mut self, value: Expr, r: P) -> ExprKind {
        let bounds_span = self.span(&r);
        let mut bounds = r.into_inner().filter(|q| q.as_rule() == Rule::int);
        let base = self.base;
        let diags = &mut *self.diags;
        let mut bound = |b: Option<P>| -> i64 {
            b.map_or(0, |b| {
                leaf::range_bound(b.as_str(), base + b.as_span().start(), diags)
            })
        };
        let low = bound(bounds.next());
        let high = bound(bounds.next());
        ExprKind::InRange {
            value: Box::new(value),
            low,
            high,
            bounds_span,
        }
    }
}

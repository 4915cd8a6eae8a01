//! Expressions on the fast path, loosest first as in the grammar: `or`, `and`, `not`,
//! comparisons, `+ -`, `* / %`, then operands (literals, calls, references, parentheses).

use super::*;

impl<'a> Reader<'a> {
    pub(super) fn expr(&mut self) -> Option<Expr> {
        self.chain(Kw::Or, Self::and_expr, ExprKind::Or)
    }

    pub(super) fn and_expr(&mut self) -> Option<Expr> {
        self.chain(Kw::And, Self::not_expr, ExprKind::And)
    }

    /// `operand (word operand)*`, folded to the left.
    pub(super) fn chain(
        &mut self,
        word: Kw,
        operand: fn(&mut Self) -> Option<Expr>,
        make: fn(Box<Expr>, Box<Expr>) -> ExprKind,
    ) -> Option<Expr> {
        let mut acc = operand(self)?;
        let mut count = 0;
        loop {
            let save = self.p;
            self.skip();
            if !self.kw(word) {
                self.p = save;
                return Some(acc);
            }
            count += 1;
            if count >= MAX_CHAIN {
                return None;
            }
            self.skip();
            let rhs = operand(self)?;
            let span = acc.span.to(rhs.span);
            acc = Expr {
                kind: make(Box::new(acc), Box::new(rhs)),
                span,
            };
        }
    }

    pub(super) fn not_expr(&mut self) -> Option<Expr> {
        let start = self.p;
        if self.kw(Kw::Not) {
            self.skip();
            self.depth_in()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Some(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span: self.span_from(start),
            });
        }
        self.cmp()
    }

    pub(super) fn cmp(&mut self) -> Option<Expr> {
        let start = self.p;
        // `intent == NAME` is the grammar's `intent_cmp`: left to pest.
        if self.b[start..].starts_with(b"intent")
            && !self.b.get(start + 6).is_some_and(|&b| is_ident_char(b))
        {
            let rest = self.t[start + 6..].trim_start_matches([' ', '\t']);
            if rest.starts_with("==") || rest.starts_with("!=") {
                return None;
            }
        }
        let lhs = self.sum()?;
        let save = self.p;
        self.skip();
        let kind = if let Some(op) = self.cmp_op() {
            self.skip();
            let rhs = self.sum()?;
            ExprKind::Cmp {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            }
        } else if self.kw(Kw::In) {
            self.skip();
            if self.peek() == Some(b'[') {
                self.p += 1;
                let mut items = Vec::new();
                self.skip();
                if self.peek() != Some(b']') {
                    loop {
                        items.push(self.operand()?);
                        self.skip();
                        if self.punct(",").is_none() {
                            break;
                        }
                        self.skip();
                    }
                }
                self.punct("]")?;
                ExprKind::InList {
                    value: Box::new(lhs),
                    items,
                }
            } else {
                let range_start = self.p;
                let (low, low_at) = self.int_raw(true)?;
                self.skip();
                self.punct("..")?;
                self.skip();
                let (high, high_at) = self.int_raw(true)?;
                let low = leaf::range_bound(low, low_at, &mut self.diags);
                let high = leaf::range_bound(high, high_at, &mut self.diags);
                ExprKind::InRange {
                    value: Box::new(lhs),
                    low,
                    high,
                    bounds_span: self.span_from(range_start),
                }
            }
        } else if let Some(op) = self.text_op() {
            self.skip();
            let rhs = self.sum()?;
            ExprKind::Text {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            }
        } else if self.kw(Kw::Matches) {
            self.skip();
            ExprKind::Matches {
                value: Box::new(lhs),
                pattern: self.str_lit()?,
            }
        } else if self.kw(Kw::Is) {
            self.skip();
            let negated = self.kw(Kw::Not);
            if negated {
                self.skip();
            }
            if !self.kw(Kw::Set) {
                return None;
            }
            ExprKind::IsSet {
                value: Box::new(lhs),
                negated,
            }
        } else {
            self.p = save;
            return Some(lhs);
        };
        Some(Expr {
            kind,
            span: self.span_from(start),
        })
    }

    /// `product (("+" | "-") product)*`; a `-` that starts `->` ends the sum.
    pub(super) fn sum(&mut self) -> Option<Expr> {
        self.arith_chain(Self::product, |r| match r.peek()? {
            b'+' => Some(ArithOp::Add),
            b'-' if r.b.get(r.p + 1) != Some(&b'>') => Some(ArithOp::Sub),
            _ => None,
        })
    }

    /// `operand (("*" | "/" | "%") operand)*`
    pub(super) fn product(&mut self) -> Option<Expr> {
        self.arith_chain(Self::operand, |r| match r.peek()? {
            b'*' => Some(ArithOp::Mul),
            b'/' => Some(ArithOp::Div),
            b'%' => Some(ArithOp::Rem),
            _ => None,
        })
    }

    /// `operand (op operand)*`, folded to the left; every operator is one byte.
    pub(super) fn arith_chain(
        &mut self,
        operand: fn(&mut Self) -> Option<Expr>,
        op: fn(&Self) -> Option<ArithOp>,
    ) -> Option<Expr> {
        let mut acc = operand(self)?;
        let mut count = 0;
        loop {
            let save = self.p;
            self.skip();
            let Some(op) = op(self) else {
                self.p = save;
                return Some(acc);
            };
            count += 1;
            if count >= MAX_CHAIN {
                return None;
            }
            self.p += 1;
            self.skip();
            let rhs = operand(self)?;
            let span = acc.span.to(rhs.span);
            acc = Expr {
                kind: ExprKind::Arith {
                    op,
                    lhs: Box::new(acc),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
    }

    /// `NAME(expr, ...)` after the name (`start`..`self.p`); `None` when no `(` follows.
    pub(super) fn call(&mut self, start: usize) -> Option<Expr> {
        let name = leaf::ident(
            &self.t[start..self.p],
            start,
            NameRole::Function,
            &mut self.diags,
        );
        self.skip();
        self.punct("(")?;
        self.depth_in()?;
        let mut args = Vec::new();
        self.skip();
        if self.peek() != Some(b')') {
            loop {
                args.push(self.expr()?);
                self.skip();
                if self.punct(",").is_none() {
                    break;
                }
                self.skip();
            }
        }
        self.punct(")")?;
        self.depth -= 1;
        Some(Expr {
            kind: ExprKind::Call { name, args },
            span: self.span_from(start),
        })
    }

    pub(super) fn cmp_op(&mut self) -> Option<CmpOp> {
        let two = self.b.get(self.p..self.p + 2).unwrap_or(&[]);
        let len = match two {
            b"==" | b"!=" | b"<=" | b">=" => 2,
            _ if matches!(self.peek(), Some(b'<' | b'>')) => 1,
            _ => return None,
        };
        let op = leaf::cmp_op(&self.t[self.p..self.p + len]);
        self.p += len;
        Some(op)
    }

    pub(super) fn text_op(&mut self) -> Option<TextOp> {
        if self.kw(Kw::Contains) {
            Some(TextOp::Contains)
        } else if self.kw(Kw::StartsWith) {
            Some(TextOp::StartsWith)
        } else if self.kw(Kw::EndsWith) {
            Some(TextOp::EndsWith)
        } else {
            None
        }
    }

    pub(super) fn operand(&mut self) -> Option<Expr> {
        let start = self.p;
        match self.peek()? {
            b'(' => {
                self.p += 1;
                self.skip();
                self.depth_in()?;
                let mut e = self.expr()?;
                self.depth -= 1;
                self.skip();
                self.punct(")")?;
                e.span = self.span_from(start);
                Some(e)
            }
            b'"' if self.in_value => {
                let t = self.template()?;
                Some(Expr {
                    span: t.span,
                    kind: ExprKind::Template(t),
                })
            }
            b'"' => {
                let s = self.str_lit()?;
                Some(lit(Literal::String(s.value), s.span))
            }
            b'-' | b'0'..=b'9' => {
                let (text, at) = self.number_raw(false)?;
                let n = leaf::number(text, at, &mut self.diags);
                Some(lit(Literal::Number(n), self.span_from(start)))
            }
            _ => {
                // Same order as the grammar: literals, then `a.b`, then `status`, then names.
                let (s, e) = self.ident_raw()?;
                let span = Span::new(s, e);
                let word = keywords::lookup(&self.t[s..e]);
                match word {
                    Some(Kw::True) => return Some(lit(Literal::Bool(true), span)),
                    Some(Kw::False) => return Some(lit(Literal::Bool(false), span)),
                    Some(Kw::Null) => return Some(null_expr(span)),
                    _ => {}
                }
                // `open(...)` is read by pest (`open_call` before `func_call`).
                let after_name = self.p;
                self.skip();
                if self.peek() == Some(b'(') {
                    if word == Some(Kw::Open) {
                        return None;
                    }
                    self.p = after_name;
                    return self.call(start);
                }
                self.p = after_name;
                if self.peek() == Some(b'.')
                    && self
                        .b
                        .get(self.p + 1)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                {
                    self.p += 1;
                    self.ident_raw()?;
                    return Some(leaf::dotted(&self.t[start..self.p], start, &mut self.diags));
                }
                Some(if word == Some(Kw::Status) {
                    reference(RefKind::Status, span)
                } else {
                    let id = leaf::ident(&self.t[s..e], s, NameRole::Attribute, &mut self.diags);
                    reference(RefKind::Attr(id.name), span)
                })
            }
        }
    }

    pub(super) fn depth_in(&mut self) -> Option<()> {
        // Well below where the pair builder refuses (about seven levels per parenthesis).
        if self.depth >= MAX_DEPTH / 8 {
            return None; // let pest and the pair builder explain it
        }
        self.depth += 1;
        Some(())
    }
}

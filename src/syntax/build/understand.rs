//! Builds the items of understanding free text: `intent`, `intents from`, `synonyms`, `faq`,
//! and the `intent == NAME` condition.

use super::*;

impl Builder<'_> {
    pub(super) fn intent(&mut self, mut inner: Pairs<Rule>, span: Span) -> IntentDef {
        let name = match inner.find(|q| q.as_rule() == Rule::ident) {
            Some(q) => self.word(&q),
            None => leaf::empty_ident(),
        };
        let samples = inner
            .filter(|q| q.as_rule() == Rule::string)
            .map(|q| self.str_of(&q))
            .collect();
        IntentDef {
            name,
            samples,
            span,
        }
    }

    pub(super) fn synonyms(&mut self, inner: Pairs<Rule>, span: Span) -> Synonyms {
        let mut rules = Vec::new();
        for rule in inner.filter(|q| q.as_rule() == Rule::synonym_rule) {
            let rule_span = self.span(&rule);
            let mut strings: Vec<StrLit> = rule
                .into_inner()
                .filter(|q| q.as_rule() == Rule::string)
                .map(|q| self.str_of(&q))
                .collect();
            let Some(canonical) = strings.pop() else {
                continue;
            };
            rules.push(SynonymRule {
                variants: strings,
                canonical,
                span: rule_span,
            });
        }
        Synonyms { rules, span }
    }

    pub(super) fn faq(&mut self, inner: Pairs<Rule>, span: Span) -> Faq {
        let mut questions = Vec::new();
        let mut answer = None;
        let mut after_arrow = false;
        for q in inner {
            match q.as_rule() {
                Rule::arrow => after_arrow = true,
                Rule::string if !after_arrow => questions.push(self.str_of(&q)),
                Rule::ident => answer = Some(FaqAnswer::Goto(self.ident(&q, NameRole::Node))),
                Rule::string | Rule::text_set => answer = self.text_of(q).map(FaqAnswer::Say),
                _ => {}
            }
        }
        Faq {
            questions,
            answer: answer.unwrap_or(FaqAnswer::Say(Text::Plain(Template {
                parts: Vec::new(),
                span: Span::default(),
            }))),
            span,
        }
    }

    pub(super) fn threshold(&mut self, p: P) -> Threshold {
        let span = self.span(&p);
        let value = p
            .into_inner()
            .find(|q| q.as_rule() == Rule::number)
            .and_then(|q| q.as_str().parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        Threshold { value, span }
    }

    /// `intent == NAME` reads as `sys.intent == "NAME"` (and `!=` likewise).
    pub(super) fn intent_cmp(&mut self, p: P, span: Span) -> Expr {
        let mut inner = p.into_inner();
        let kw = inner.next();
        let op = inner.next();
        let name = inner.next();
        let (Some(kw), Some(op), Some(name)) = (kw, op, name) else {
            return null_expr(span);
        };
        let lhs = reference(RefKind::Sys("intent".into()), self.span(&kw));
        let rhs = lit(Literal::String(name.as_str().into()), self.span(&name));
        Expr {
            kind: ExprKind::Cmp {
                op: leaf::cmp_op(op.as_str()),
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        }
    }
}

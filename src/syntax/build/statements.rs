//! Builds nodes and the core statements: `say`, `ask`, `set`, `call`, branches, `goto`, `close`
//! (the actions are in `actions.rs`).

use super::*;

impl Builder<'_> {
    pub(super) fn node(&mut self, mut inner: Pairs<Rule>, span: Span) -> Node {
        let name = self.next_ident(&mut inner, NameRole::Node);
        let mut body = Vec::new();
        for p in inner {
            if let Some(stmt) = self.stmt(p) {
                body.push(stmt);
            }
        }
        Node { name, body, span }
    }

    pub(super) fn stmt(&mut self, p: P) -> Option<Stmt> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let kind = match rule {
            Rule::say => StmtKind::Say(self.next_text(&mut inner)),
            Rule::ask => self.ask(inner),
            Rule::set => {
                let attr = self.next_ident(&mut inner, NameRole::Attribute);
                let mut sensitive = false;
                let value = inner.find(|p| {
                    sensitive |= p.as_rule() == Rule::kw_sensitive;
                    p.as_rule() == Rule::expr
                })?;
                self.in_value = true;
                let value = Box::new(self.expr(value));
                self.in_value = false;
                StmtKind::Set {
                    attr,
                    value,
                    sensitive,
                }
            }
            Rule::call => StmtKind::Call(self.next_ident(&mut inner, NameRole::Api)),
            Rule::reply_with => StmtKind::Reply(self.next_ident(&mut inner, NameRole::Api)),
            Rule::ask_ai => {
                let ai = self.next_ident(&mut inner, NameRole::Api);
                let prompt = Box::new(self.next_text(&mut inner));
                let attr = self.next_ident(&mut inner, NameRole::Attribute);
                StmtKind::AskAi { ai, prompt, attr }
            }
            Rule::goto => StmtKind::Goto(self.next_ident(&mut inner, NameRole::Node)),
            Rule::close => StmtKind::Close,
            Rule::branch => StmtKind::Branch(self.branch(inner)),
            _ => self.action(rule, inner)?,
        };
        Some(Stmt { kind, span })
    }

    pub(super) fn ask(&mut self, inner: Pairs<Rule>) -> StmtKind {
        let mut attr = None;
        let mut kind = None;
        let mut prompt = None;
        let mut sensitive = false;
        for p in inner {
            match p.as_rule() {
                Rule::kw_sensitive => sensitive = true,
                Rule::ident if attr.is_none() => attr = Some(self.ident(&p, NameRole::Attribute)),
                Rule::ident => kind = Some(self.ident(&p, NameRole::Kind)),
                Rule::string | Rule::text_set => prompt = self.text_of(p),
                _ => {}
            }
        }
        StmtKind::Ask {
            attr: attr.unwrap_or(leaf::empty_ident()),
            kind: kind.map(Box::new),
            prompt: prompt.map(Box::new),
            sensitive,
        }
    }

    pub(super) fn branch(&mut self, inner: Pairs<Rule>) -> Branch {
        let mut arms = Vec::new();
        let mut otherwise = None;
        let mut otherwise_span = None;
        for arm in inner {
            let span = self.span(&arm);
            let is_else = arm.as_rule() == Rule::else_arm;
            let mut parts = arm.into_inner();
            if is_else {
                otherwise = Some(self.next_ident(&mut parts, NameRole::Node));
                otherwise_span = Some(span);
                continue;
            }
            let Some(cond) = parts.find(|p| p.as_rule() == Rule::expr) else {
                continue;
            };
            let cond = self.expr(cond);
            let target = self.next_ident(&mut parts, NameRole::Node);
            arms.push(BranchArm { cond, target, span });
        }
        Branch {
            arms: arms.into_boxed_slice(),
            otherwise,
            otherwise_span,
        }
    }
}

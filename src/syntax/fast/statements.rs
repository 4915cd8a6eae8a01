//! The core statements on the fast path: `say`, `ask`, `set`, `call`, `if`/`elif`/`else`,
//! `goto`, `close`. The actions are left to pest.

use super::*;

impl<'a> Reader<'a> {
    pub(super) fn stmt(&mut self) -> Option<Stmt> {
        let start = self.p;
        let kind = match self.peek()? {
            b's' if self.kw(Kw::Say) => {
                self.skip();
                StmtKind::Say(Text::Plain(self.template()?))
            }
            b'a' if self.kw(Kw::Ask) => self.ask()?,
            b's' if self.kw(Kw::Set) => {
                self.skip();
                let attr = self.ident(NameRole::Attribute)?;
                let sensitive = self.sensitive();
                self.skip();
                self.punct("=")?;
                self.skip();
                self.in_value = true;
                let value = self.expr();
                self.in_value = false;
                StmtKind::Set {
                    attr,
                    value: Box::new(value?),
                    sensitive,
                }
            }
            b'c' if self.kw(Kw::Call) => {
                self.skip();
                StmtKind::Call(self.ident(NameRole::Api)?)
            }
            b'i' if self.kw(Kw::If) => StmtKind::Branch(self.branch(start)?),
            b'g' if self.kw(Kw::Goto) => {
                self.skip();
                StmtKind::Goto(self.ident(NameRole::Node)?)
            }
            b'c' if self.kw(Kw::Close) => StmtKind::Close,
            _ => return None,
        };
        Some(Stmt {
            kind,
            span: self.span_from(start),
        })
    }

    pub(super) fn ask(&mut self) -> Option<StmtKind> {
        self.skip();
        let attr = self.ident(NameRole::Attribute)?;
        let sensitive = self.sensitive();
        let mut kind = None;
        let mut prompt = None;
        let save = self.p;
        self.skip();
        if self.kw(Kw::As) {
            self.skip();
            kind = Some(self.ident(NameRole::Kind)?);
        } else {
            self.p = save;
        }
        let save = self.p;
        self.skip();
        if self.peek() == Some(b'"') {
            prompt = Some(self.template()?);
        } else {
            self.p = save;
        }
        Some(StmtKind::Ask {
            attr,
            kind: kind.map(Box::new),
            prompt: prompt.map(|p| Box::new(Text::Plain(p))),
            sensitive,
        })
    }

    /// An optional `sensitive` after an attribute's name (nothing is read when absent).
    pub(super) fn sensitive(&mut self) -> bool {
        let save = self.p;
        self.skip();
        if self.kw(Kw::Sensitive) {
            true
        } else {
            self.p = save;
            false
        }
    }

    /// After `if`: the arms, each `elif`/`else` possibly on a new line.
    pub(super) fn branch(&mut self, start: usize) -> Option<Branch> {
        let mut arms = vec![self.arm(start)?];
        loop {
            let save = self.p;
            self.skip_nl();
            let at = self.p;
            if self.kw(Kw::Elif) {
                arms.push(self.arm(at)?);
            } else {
                self.p = save;
                break;
            }
        }
        let save = self.p;
        self.skip_nl();
        let at = self.p;
        let (mut otherwise, mut otherwise_span) = (None, None);
        if self.kw(Kw::Else) {
            self.skip();
            self.punct("->")?;
            self.skip();
            otherwise = Some(self.ident(NameRole::Node)?);
            otherwise_span = Some(self.span_from(at));
        } else {
            self.p = save;
        }
        Some(Branch {
            arms: arms.into_boxed_slice(),
            otherwise,
            otherwise_span,
        })
    }

    /// `COND -> NODE` after `if`/`elif` (which began at `start`).
    pub(super) fn arm(&mut self, start: usize) -> Option<BranchArm> {
        self.skip();
        let cond = self.expr()?;
        self.skip();
        self.punct("->")?;
        self.skip();
        let target = self.ident(NameRole::Node)?;
        Some(BranchArm {
            cond,
            target,
            span: self.span_from(start),
        })
    }
}

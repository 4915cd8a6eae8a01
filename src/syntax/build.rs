//! Turns pest pairs of one top-level item into the typed AST. The grammar has already
//! checked the shape, so a pair that is not where it should be means a grammar/builder
//! mismatch; the builder then degrades gracefully instead of panicking.

mod actions;
mod exprs;
mod items;
mod statements;
mod test_steps;
mod understand;

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::leaf::{self, lit, null_expr, reference, NameRole, MAX_CHAIN, MAX_DEPTH};
use super::template::{str_lit, template};
use super::Rule;
use crate::diagnostic::{Code, Diag};

type P<'i> = Pair<'i, Rule>;

pub struct Builder<'d> {
    /// Offset of the parsed slice in the whole file.
    base: usize,
    diags: &'d mut Vec<Diag>,
    depth: u32,
    /// Inside the value of a `set`, where strings are templates.
    in_value: bool,
}

impl<'d> Builder<'d> {
    pub fn new(base: usize, diags: &'d mut Vec<Diag>) -> Self {
        Builder {
            base,
            diags,
            depth: 0,
            in_value: false,
        }
    }

    /// The pair's span, ending at its last token: pest counts the whitespace and comments
    /// skipped before an optional part that did not match as part of the pair. Every
    /// non-atomic rule ends with a non-silent token, so the deepest last child marks the end.
    fn span(&self, p: &P) -> Span {
        let start = p.as_span().start();
        let mut last = p.clone();
        // `save_path` is compound-atomic: exact already, and it may end in a literal `]`.
        while !matches!(last.as_rule(), Rule::save_path | Rule::item_path) {
            match last.clone().into_inner().next_back() {
                Some(child) => last = child,
                None => break,
            }
        }
        Span::new(self.base + start, self.base + last.as_span().end())
    }

    pub fn item(&mut self, p: P) -> Item {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        match rule {
            Rule::import => Item::Import(Import {
                path: self.next_str(&mut inner),
                span,
            }),
            Rule::bot => Item::Bot(self.bot(inner, span)),
            Rule::api => Item::Api(self.api(inner, span)),
            Rule::ai => Item::Api(Api {
                ai: true,
                ..self.api(inner, span)
            }),
            Rule::test => Item::Test(self.test(inner, span)),
            Rule::hours => Item::Hours(self.hours(inner, span)),
            Rule::flow => Item::Flow(self.flow(inner, span)),
            Rule::intent => Item::Intent(self.intent(inner, span)),
            Rule::intents_from => Item::IntentsFrom(IntentsFrom {
                path: self.next_str(&mut inner),
                span,
            }),
            Rule::synonyms => Item::Synonyms(self.synonyms(inner, span)),
            Rule::faq => Item::Faq(self.faq(inner, span)),
            _ => Item::Node(self.node(inner, span)),
        }
    }

    // ---- leaves ---------------------------------------------------------------------------

    fn ident(&mut self, p: &P, role: NameRole) -> Ident {
        leaf::ident(
            p.as_str(),
            self.base + p.as_span().start(),
            role,
            self.diags,
        )
    }

    /// A node name in a test: `node`, or `flow.node` for a node of a sub-flow. Each part is
    /// checked like a name; the whole dotted text is the name the compiler resolves.
    fn node_path(&mut self, inner: &mut Pairs<Rule>) -> Ident {
        let Some(p) = inner.find(|p| matches!(p.as_rule(), Rule::ident | Rule::dotted_ref)) else {
            return leaf::empty_ident();
        };
        let start = self.at(&p);
        let text = p.as_str();
        let mut offset = start;
        for part in text.split('.') {
            leaf::ident(part, offset, NameRole::Node, self.diags);
            offset += part.len() + 1;
        }
        Ident {
            name: text.into(),
            span: Span::new(start, start + text.len()),
        }
    }

    fn at(&self, p: &P) -> usize {
        self.base + p.as_span().start()
    }

    /// The next `ident` pair among `inner`, skipping keywords and punctuation.
    fn next_ident(&mut self, inner: &mut Pairs<Rule>, role: NameRole) -> Ident {
        match inner.find(|p| p.as_rule() == Rule::ident) {
            Some(p) => self.ident(&p, role),
            None => leaf::empty_ident(),
        }
    }

    fn str_of(&self, p: &P) -> StrLit {
        str_lit(p.as_str(), self.base + p.as_span().start())
    }

    fn next_str(&mut self, inner: &mut Pairs<Rule>) -> StrLit {
        match inner.find(|p| p.as_rule() == Rule::string) {
            Some(p) => self.str_of(&p),
            None => StrLit {
                value: Str::default(),
                span: Span::default(),
            },
        }
    }

    fn template_of(&mut self, p: &P) -> Template {
        template(p.as_str(), self.base + p.as_span().start(), self.diags)
    }

    fn next_template(&mut self, inner: &mut Pairs<Rule>) -> Template {
        match inner.find(|p| p.as_rule() == Rule::string) {
            Some(p) => self.template_of(&p),
            None => Template {
                parts: Vec::new(),
                span: Span::default(),
            },
        }
    }

    /// A word that is not checked against the reserved list: a language code (`is` is
    /// Icelandic) or a day name, which the compiler validates.
    fn word(&self, p: &P) -> Ident {
        Ident {
            name: p.as_str().into(),
            span: Span::new(self.at(p), self.at(p) + p.as_str().len()),
        }
    }

    /// A message text from a `string` or `text_set` pair.
    fn text_of(&mut self, p: P) -> Option<Text> {
        match p.as_rule() {
            Rule::string => Some(Text::Plain(self.template_of(&p))),
            Rule::text_set => {
                let span = self.span(&p);
                let mut texts = Vec::new();
                for lt in p.into_inner().filter(|q| q.as_rule() == Rule::lang_text) {
                    let mut parts = lt.into_inner();
                    let lang = match parts.find(|q| q.as_rule() == Rule::ident) {
                        Some(q) => self.word(&q),
                        None => leaf::empty_ident(),
                    };
                    texts.push((lang, self.next_template(&mut parts)));
                }
                Some(Text::Translated { texts, span })
            }
            _ => None,
        }
    }

    /// The next message text among `inner`.
    fn next_text(&mut self, inner: &mut Pairs<Rule>) -> Text {
        inner
            .find(|p| matches!(p.as_rule(), Rule::string | Rule::text_set))
            .and_then(|p| self.text_of(p))
            .unwrap_or(Text::Plain(Template {
                parts: Vec::new(),
                span: Span::default(),
            }))
    }

    fn number(&mut self, p: &P) -> Number {
        leaf::number(p.as_str(), self.at(p), self.diags)
    }
}

/// An HTTP method as the `method` rule spells it.
fn method_of(word: &str) -> Method {
    match word {
        "post" => Method::Post,
        "put" => Method::Put,
        "patch" => Method::Patch,
        "delete" => Method::Delete,
        _ => Method::Get,
    }
}

//! Builds the bot-builder actions of docs/actions.md, business hours and sub-flows.
//! Block lines may come in any order and may repeat; the first of a kind is kept and the
//! compiler reports what is missing, so the grammar stays lenient.

use pest::iterators::Pairs;

use super::{Builder, P};
use crate::syntax::ast::*;
use crate::syntax::leaf::{self, NameRole};
use crate::syntax::Rule;

/// Sets `slot` unless an earlier line already did.
fn first<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

impl Builder<'_> {
    /// The statement for an action rule, or `None` for a rule that is not one.
    pub(super) fn action(&mut self, rule: Rule, mut inner: Pairs<Rule>) -> Option<StmtKind> {
        Some(match rule {
            Rule::set_sys => {
                let target = inner.find(|p| p.as_rule() == Rule::sys_target)?;
                let name = self.next_ident(&mut target.into_inner(), NameRole::Attribute);
                let value = inner.find(|p| p.as_rule() == Rule::expr)?;
                StmtKind::SetSys {
                    name,
                    value: Box::new(self.expr(value)),
                }
            }
            Rule::menu => StmtKind::Menu(Box::new(self.menu(inner))),
            Rule::carousel => StmtKind::Carousel(Box::new(self.carousel(inner)?)),
            Rule::email => StmtKind::Email(Box::new(self.email(inner))),
            Rule::otp => StmtKind::Otp(Box::new(self.otp(inner))),
            Rule::form => StmtKind::Form(Box::new(self.form(inner))),
            Rule::media => {
                let kind = self.media_kind(&mut inner);
                let url = self.next_template(&mut inner);
                let caption = inner
                    .find(|p| matches!(p.as_rule(), Rule::string | Rule::text_set))
                    .and_then(|p| self.text_of(p))
                    .map(Box::new);
                StmtKind::Media { kind, url, caption }
            }
            Rule::transfer => {
                let kind = match inner.find(|p| p.as_rule() == Rule::transfer_kind) {
                    Some(k) if k.as_str() == "agent" => TransferKind::Agent,
                    _ => TransferKind::Department,
                };
                let to = self.next_template(&mut inner);
                let message = inner
                    .find(|p| matches!(p.as_rule(), Rule::string | Rule::text_set))
                    .and_then(|p| self.text_of(p))
                    .map(Box::new);
                StmtKind::Transfer { kind, to, message }
            }
            Rule::appointment => StmtKind::Appointment(Box::new(self.appointment(inner))),
            Rule::goal => StmtKind::Goal(self.next_str(&mut inner)),
            Rule::run => {
                let flow = self.next_ident(&mut inner, NameRole::Flow);
                let args = inner
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr(p))
                    .collect();
                StmtKind::Run { flow, args }
            }
            Rule::return_stmt => StmtKind::Return,
            _ => return None,
        })
    }

    /// The kind of a `media_kind` pair among `inner`.
    pub(super) fn media_kind(&mut self, inner: &mut Pairs<Rule>) -> MediaKind {
        match inner
            .find(|p| p.as_rule() == Rule::media_kind)
            .map(|p| p.as_str())
        {
            Some("audio") => MediaKind::Audio,
            Some("video") => MediaKind::Video,
            Some("file") => MediaKind::File,
            _ => MediaKind::Image,
        }
    }

    fn target(&mut self, p: P) -> Ident {
        self.next_ident(&mut p.into_inner(), NameRole::Node)
    }

    fn menu(&mut self, inner: Pairs<Rule>) -> Menu {
        let mut style = MenuStyle::QuickReplies;
        let mut text = None;
        let mut options = Vec::new();
        let mut dynamic = None;
        let mut save = None;
        let mut threshold = None;
        for p in inner {
            match p.as_rule() {
                Rule::kw_buttons => style = MenuStyle::Buttons,
                Rule::string | Rule::text_set => text = self.text_of(p),
                Rule::option_branch | Rule::option_link | Rule::option_postback => {
                    options.push(self.option(p));
                }
                Rule::save_attr => {
                    let attr = self.next_ident(&mut p.into_inner(), NameRole::Attribute);
                    first(&mut save, attr);
                }
                Rule::from_block => dynamic = Some(self.dynamic(p)),
                Rule::threshold => threshold = Some(self.threshold(p)),
                _ => {}
            }
        }
        let source = match dynamic {
            Some(d) => MenuSource::Dynamic(d),
            None => MenuSource::Static(options),
        };
        Menu {
            style,
            text,
            source,
            save,
            threshold,
        }
    }

    fn option(&mut self, p: P) -> MenuOption {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let label = self.next_text(&mut inner);
        let mut intent = None;
        if rule == Rule::option_branch {
            let mut rest = inner.clone();
            if let Some(q) = rest.find(|q| q.as_rule() == Rule::option_intent) {
                intent = q
                    .into_inner()
                    .find(|w| w.as_rule() == Rule::ident)
                    .map(|w| self.word(&w));
                inner = rest;
            }
        }
        let kind = match rule {
            Rule::option_link => OptionKind::Link(self.next_template(&mut inner)),
            Rule::option_postback => {
                let payload = self.next_str(&mut inner);
                let target = self.next_ident(&mut inner, NameRole::Node);
                OptionKind::Postback { payload, target }
            }
            _ => OptionKind::Branch(self.next_ident(&mut inner, NameRole::Node)),
        };
        MenuOption {
            label,
            kind,
            intent,
            span,
        }
    }

    fn item_save(&mut self, p: P) -> ItemSave {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let attr = self.next_ident(&mut inner, NameRole::Attribute);
        let path = match inner.find(|q| q.as_rule() == Rule::item_path) {
            Some(q) => self.save_path(q).steps,
            None => Vec::new(),
        };
        ItemSave { attr, path, span }
    }

    /// `from LIST { ... }` of `choose` / `buttons`.
    fn dynamic(&mut self, p: P) -> DynamicItems {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let list = self.next_ident(&mut inner, NameRole::Attribute);
        let mut d = DynamicItems {
            list,
            label: None,
            saves: Vec::new(),
            target: None,
            empty: None,
            span,
        };
        for q in inner {
            match q.as_rule() {
                Rule::dyn_label => {
                    let label = self.next_text(&mut q.into_inner());
                    first(&mut d.label, label);
                }
                Rule::item_save => d.saves.push(self.item_save(q)),
                Rule::dyn_target => first(&mut d.target, self.target(q)),
                Rule::dyn_empty => first(&mut d.empty, self.target(q)),
                _ => {}
            }
        }
        d
    }

    fn carousel(&mut self, inner: Pairs<Rule>) -> Option<Carousel> {
        let mut cards = Vec::new();
        let mut save = None;
        for p in inner {
            match p.as_rule() {
                Rule::carousel_from => return Some(self.carousel_from(p)),
                Rule::card => cards.push(self.card(p)),
                Rule::save_attr => {
                    let attr = self.next_ident(&mut p.into_inner(), NameRole::Attribute);
                    first(&mut save, attr);
                }
                _ => {}
            }
        }
        Some(Carousel::Static { cards, save })
    }

    fn card(&mut self, p: P) -> Card {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let title = self.next_text(&mut inner);
        let mut card = Card {
            title,
            subtitle: None,
            image: None,
            buttons: Vec::new(),
            span,
        };
        for q in inner {
            match q.as_rule() {
                Rule::card_subtitle => {
                    let t = self.next_text(&mut q.into_inner());
                    first(&mut card.subtitle, t);
                }
                Rule::card_image => {
                    let t = self.next_template(&mut q.into_inner());
                    first(&mut card.image, t);
                }
                Rule::option_branch | Rule::option_link | Rule::option_postback => {
                    card.buttons.push(self.option(q));
                }
                _ => {}
            }
        }
        card
    }

    fn carousel_from(&mut self, p: P) -> Carousel {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let list = self.next_ident(&mut inner, NameRole::Attribute);
        let mut card = CardTemplate {
            title: None,
            subtitle: None,
            image: None,
            button: None,
            span,
        };
        let (mut saves, mut target, mut empty) = (Vec::new(), None, None);
        for q in inner {
            let rule = q.as_rule();
            match rule {
                Rule::card_image => {
                    let t = self.next_template(&mut q.into_inner());
                    first(&mut card.image, t);
                }
                Rule::card_title | Rule::card_subtitle | Rule::card_button => {
                    let t = self.next_text(&mut q.into_inner());
                    let slot = match rule {
                        Rule::card_title => &mut card.title,
                        Rule::card_subtitle => &mut card.subtitle,
                        _ => &mut card.button,
                    };
                    first(slot, t);
                }
                Rule::item_save => saves.push(self.item_save(q)),
                Rule::dyn_target => first(&mut target, self.target(q)),
                Rule::dyn_empty => first(&mut empty, self.target(q)),
                _ => {}
            }
        }
        Carousel::Dynamic {
            list,
            card: Box::new(card),
            saves,
            target,
            empty,
        }
    }

    fn email(&mut self, inner: Pairs<Rule>) -> Email {
        let mut e = Email {
            to: None,
            subject: None,
            body: None,
        };
        for p in inner {
            match p.as_rule() {
                Rule::email_to => {
                    let t = self.next_template(&mut p.into_inner());
                    first(&mut e.to, t);
                }
                Rule::email_subject => {
                    let t = self.next_text(&mut p.into_inner());
                    first(&mut e.subject, t);
                }
                Rule::email_body => {
                    let t = self.next_text(&mut p.into_inner());
                    first(&mut e.body, t);
                }
                _ => {}
            }
        }
        e
    }

    /// A whole number with its span (`digits 6`, `tries 3`).
    fn count(&mut self, p: P) -> Option<(u32, Span)> {
        let n = p.into_inner().find(|q| q.as_rule() == Rule::uint)?;
        let help = "write a small whole number such as `3`";
        let span = Span::new(self.at(&n), self.at(&n) + n.as_str().len());
        match n.as_str().parse::<u32>() {
            Ok(v) => Some((v, span)),
            Err(_) => {
                leaf::bad_number(n.as_str(), self.at(&n), "count", help, self.diags);
                None
            }
        }
    }

    fn otp(&mut self, inner: Pairs<Rule>) -> Otp {
        let mut o = Otp {
            send: None,
            prompt: None,
            digits: None,
            tries: None,
            ok: None,
            fail: None,
        };
        for p in inner {
            match p.as_rule() {
                Rule::otp_send => {
                    let mut parts = p.into_inner();
                    let send =
                        match parts.find(|q| matches!(q.as_rule(), Rule::string | Rule::ident)) {
                            Some(q) if q.as_rule() == Rule::string => {
                                OtpSend::Email(self.template_of(&q))
                            }
                            Some(q) => OtpSend::Call(self.ident(&q, NameRole::Api)),
                            None => continue,
                        };
                    first(&mut o.send, send);
                }
                Rule::prompt => {
                    let t = self.next_text(&mut p.into_inner());
                    first(&mut o.prompt, t);
                }
                Rule::otp_digits => {
                    if let Some(n) = self.count(p) {
                        first(&mut o.digits, n);
                    }
                }
                Rule::otp_tries => {
                    if let Some(n) = self.count(p) {
                        first(&mut o.tries, n);
                    }
                }
                Rule::otp_ok => first(&mut o.ok, self.target(p)),
                Rule::otp_fail => first(&mut o.fail, self.target(p)),
                _ => {}
            }
        }
        o
    }

    fn form(&mut self, inner: Pairs<Rule>) -> Form {
        let mut title = None;
        let mut fields = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::string | Rule::text_set => title = self.text_of(p),
                Rule::form_field => fields.push(self.form_field(p)),
                _ => {}
            }
        }
        Form { title, fields }
    }

    fn form_field(&mut self, p: P) -> FormField {
        let span = self.span(&p);
        let mut attr = None;
        let mut kind = None;
        let mut label = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::ident if attr.is_none() => attr = Some(self.ident(&q, NameRole::Attribute)),
                Rule::ident => kind = Some(self.ident(&q, NameRole::Kind)),
                Rule::string | Rule::text_set => label = self.text_of(q),
                _ => {}
            }
        }
        FormField {
            attr: attr.unwrap_or_else(leaf::empty_ident),
            kind,
            label: label.unwrap_or(Text::Plain(Template {
                parts: Vec::new(),
                span,
            })),
            span,
        }
    }

    fn appointment(&mut self, inner: Pairs<Rule>) -> Appointment {
        let mut a = Appointment {
            slots: None,
            label: None,
            prompt: None,
            saves: Vec::new(),
            book: None,
            booked: None,
            failed: None,
        };
        for p in inner {
            match p.as_rule() {
                Rule::appt_slots => {
                    let mut parts = p.into_inner();
                    let api = self.next_ident(&mut parts, NameRole::Api);
                    if let Some(path) = parts.find(|q| q.as_rule() == Rule::save_path) {
                        let path = self.save_path(path);
                        first(&mut a.slots, (api, path));
                    }
                }
                Rule::dyn_label => {
                    let t = self.next_text(&mut p.into_inner());
                    first(&mut a.label, t);
                }
                Rule::prompt => {
                    let t = self.next_text(&mut p.into_inner());
                    first(&mut a.prompt, t);
                }
                Rule::item_save => a.saves.push(self.item_save(p)),
                Rule::appt_book => {
                    let api = self.next_ident(&mut p.into_inner(), NameRole::Api);
                    first(&mut a.book, api);
                }
                Rule::appt_booked => first(&mut a.booked, self.target(p)),
                Rule::appt_failed => first(&mut a.failed, self.target(p)),
                _ => {}
            }
        }
        a
    }

    // ---- top-level items ------------------------------------------------------------------

    pub(super) fn hours(&mut self, mut inner: Pairs<Rule>, span: Span) -> Hours {
        let name = self.next_ident(&mut inner, NameRole::Hours);
        let mut rules = Vec::new();
        for p in inner {
            let rule_span = self.span(&p);
            match p.as_rule() {
                Rule::hours_zone => rules.push(HoursRule::Zone(self.next_str(&mut p.into_inner()))),
                Rule::hours_closed => rules.push(HoursRule::Closed(
                    p.into_inner()
                        .filter(|q| q.as_rule() == Rule::date)
                        .map(|q| self.as_written(&q))
                        .collect(),
                )),
                Rule::hours_weekly => {
                    let parts: Vec<P> = p.into_inner().collect();
                    let days: Vec<Ident> = parts
                        .iter()
                        .filter(|q| q.as_rule() == Rule::ident)
                        .map(|q| self.word(q))
                        .collect();
                    let times: Vec<StrLit> = parts
                        .iter()
                        .filter(|q| q.as_rule() == Rule::time_of_day)
                        .map(|q| self.as_written(q))
                        .collect();
                    let mut days = days.into_iter();
                    let mut times = times.into_iter();
                    let (Some(first_day), Some(from), Some(to)) =
                        (days.next(), times.next(), times.next())
                    else {
                        continue;
                    };
                    rules.push(HoursRule::Weekly {
                        first_day,
                        last_day: days.next(),
                        from,
                        to,
                        span: rule_span,
                    });
                }
                _ => {}
            }
        }
        Hours { name, rules, span }
    }

    /// A token kept as written (a date, a time of day), as a [`StrLit`].
    fn as_written(&self, p: &P) -> StrLit {
        StrLit {
            value: p.as_str().into(),
            span: Span::new(self.at(p), self.at(p) + p.as_str().len()),
        }
    }

    pub(super) fn flow(&mut self, mut inner: Pairs<Rule>, span: Span) -> Flow {
        let name = self.next_ident(&mut inner, NameRole::Flow);
        let mut params = Vec::new();
        let mut nodes = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::ident => params.push(self.ident(&p, NameRole::Attribute)),
                Rule::node => {
                    let node_span = self.span(&p);
                    nodes.push(self.node(p.into_inner(), node_span));
                }
                _ => {}
            }
        }
        Flow {
            name,
            params,
            nodes,
            span,
        }
    }
}

//! The bot-builder actions (`docs/actions.md`): offering them, and taking the answer to the
//! ones that wait.

use super::{jump, Called, Engine};
use crate::ir::value_text;
use crate::ir::{
    ApiId, Appointment, AttrId, Card, CardTemplate, Carousel, Email, Form, ItemSave, Menu,
    MenuOption, MenuSource, MenuStyle, NodeId, OptionKind, Otp, OtpSend, Stmt, SysAttr, Template,
    TransferKind, Value,
};
use crate::runtime::eval::{lookup_value, Scope};
use crate::runtime::validate::{kind_name, validate};
use crate::runtime::{
    http, otp, smtp, CardView, ChoiceView, Event, FormFieldView, Session, SessionState, Wait,
};

/// What the interpreter does after a statement or an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Keep running from `s.node` / `s.pc`.
    Go,
    /// End the turn: the session waits (or was handed over or closed).
    Stay,
    /// The session was not waiting for an answer.
    Stop,
}

const DEFAULT_FALLBACK: &str = "Sorry, I didn't understand. Please choose one of the options.";
const WRONG_CODE: &str = "That code is not correct. Please try again.";
const OTP_SUBJECT: &str = "Your verification code";
/// The code length of an `otp` without `digits` (the compiler's default).
const DEFAULT_OTP_DIGITS: u32 = 6;
/// The button of a dynamic card without a `button` template.
const DEFAULT_BUTTON: &str = "Choose";

impl Engine {
    /// Run one action statement.
    pub(super) async fn action(
        &self,
        s: &mut Session,
        stmt: &Stmt,
        events: &mut Vec<Event>,
    ) -> Next {
        match stmt {
            Stmt::SetLanguage(expr) => {
                let language = self.scope(s).eval(expr).as_text().map(|t| t.into_owned());
                if let Some(language) = language {
                    s.set_sys(SysAttr::Language, language);
                }
                Next::Go
            }
            Stmt::Menu(menu) => self.offer_menu(s, menu, events),
            Stmt::Carousel(carousel) => self.offer_carousel(s, carousel, events),
            Stmt::Email(email) => {
                let (to, subject, body) = self.render_email(s, email);
                self.send_email(s, to, subject, body, events).await;
                Next::Go
            }
            Stmt::Otp(otp) => self.start_otp(s, otp, events).await,
            Stmt::Form(form) => {
                let missing: Vec<u32> = (0..form.fields.len() as u32).collect();
                events.push(self.form_event(s, form, &missing));
                s.wait = Some(Wait::Form { missing });
                wait(s)
            }
            Stmt::Media { kind, url, caption } => {
                let scope = self.scope(s);
                events.push(Event::Media {
                    kind: kind.as_str().into(),
                    url: scope.render(url),
                    caption: caption.as_ref().map(|c| scope.render(c)),
                });
                Next::Go
            }
            Stmt::Transfer { kind, to, message } => {
                let scope = self.scope(s);
                if let Some(message) = message {
                    events.push(Event::Say {
                        text: scope.render_text(message),
                    });
                }
                events.push(Event::Transfer {
                    kind: transfer_kind(*kind).into(),
                    to: scope.render(to),
                });
                s.state = SessionState::Transferred;
                Next::Stay
            }
            Stmt::Appointment(a) => self.offer_slots(s, a, events).await,
            Stmt::Goal(name) => {
                let count = s.goals.entry(name.clone()).or_insert(0);
                *count = count.saturating_add(1);
                events.push(Event::Goal {
                    name: name.clone(),
                    count: *count,
                });
                Next::Go
            }
            // The interpreter runs the core statements itself.
            _ => Next::Go,
        }
    }

    /// The answer to the waiting statement `stmt` (not an `ask`).
    pub(super) async fn answer(
        &self,
        s: &mut Session,
        stmt: &Stmt,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        match stmt {
            Stmt::Menu(menu) => self.answer_menu(s, menu, input, events),
            Stmt::Carousel(carousel) => self.answer_carousel(s, carousel, input, events),
            Stmt::Otp(otp) => self.answer_otp(s, otp, input, events),
            Stmt::Form(form) => self.answer_form(s, form, input, events),
            Stmt::Appointment(a) => self.answer_slots(s, a, input, events).await,
            _ => Next::Stop,
        }
    }

    // ---- menus ----

    fn offer_menu(&self, s: &mut Session, menu: &Menu, events: &mut Vec<Event>) -> Next {
        match &menu.source {
            MenuSource::Static(options) => {
                events.push(self.static_choices(s, menu, options));
                if options.iter().any(branches) {
                    wait(s)
                } else {
                    Next::Go
                }
            }
            MenuSource::Dynamic(d) => {
                let labels = {
                    let scope = self.scope(s);
                    let Some(items) = list(s, d.list) else {
                        jump(s, d.empty);
                        return Next::Go;
                    };
                    items
                        .iter()
                        .map(|item| item_label(&scope, d.label.as_ref(), item))
                        .collect::<Vec<_>>()
                };
                events.push(self.dynamic_choices(s, menu, &labels));
                s.wait = Some(Wait::Items {
                    labels,
                    titles: Vec::new(),
                });
                wait(s)
            }
        }
    }

    fn answer_menu(
        &self,
        s: &mut Session,
        menu: &Menu,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        match &menu.source {
            MenuSource::Static(options) => {
                let labels: Vec<String> = {
                    let scope = self.scope(s);
                    options.iter().map(|o| scope.render(&o.label)).collect()
                };
                let picked = pick_option(input, &labels, options, true);
                let Some((value, target)) = picked.and_then(|i| chosen(&labels[i], &options[i]))
                else {
                    self.no_match(s, events);
                    events.push(self.static_choices(s, menu, options));
                    return Next::Stay;
                };
                save_text(s, menu.save, value);
                jump(s, target);
                Next::Go
            }
            MenuSource::Dynamic(d) => {
                let Some(Wait::Items { labels, .. }) = &s.wait else {
                    return Next::Stop;
                };
                match pick_label(input, labels, true) {
                    Some(i) => {
                        let label = labels[i].clone();
                        save_text(s, menu.save, label);
                        self.pick_item(s, d.list, i, &d.saves, d.target, d.empty)
                    }
                    None => {
                        let labels = labels.clone();
                        self.no_match(s, events);
                        events.push(self.dynamic_choices(s, menu, &labels));
                        Next::Stay
                    }
                }
            }
        }
    }

    fn static_choices(&self, s: &Session, menu: &Menu, options: &[MenuOption]) -> Event {
        let scope = self.scope(s);
        Event::Choices {
            style: menu_style(menu.style).into(),
            text: menu.text.as_ref().map(|t| scope.render_text(t)),
            options: options.iter().map(|o| choice_view(&scope, o)).collect(),
        }
    }

    fn dynamic_choices(&self, s: &Session, menu: &Menu, labels: &[String]) -> Event {
        Event::Choices {
            style: menu_style(menu.style).into(),
            text: menu.text.as_ref().map(|t| self.scope(s).render_text(t)),
            options: labels.iter().map(|l| reply(l)).collect(),
        }
    }

    /// Element `i` of the list attribute was chosen: run the saves and go on.
    fn pick_item(
        &self,
        s: &mut Session,
        list_attr: AttrId,
        i: usize,
        saves: &[ItemSave],
        target: NodeId,
        empty: NodeId,
    ) -> Next {
        s.wait = None;
        let item = list(s, list_attr).and_then(|items| items.get(i)).cloned();
        match item {
            Some(item) => {
                run_item_saves(s, saves, &item);
                jump(s, target);
            }
            // The list changed under the wait (a session from storage): treat it as empty.
            None => jump(s, empty),
        }
        Next::Go
    }

    /// Say the bot's fallback (or the built-in sentence).
    fn no_match(&self, s: &Session, events: &mut Vec<Event>) {
        let text = match &self.inner.program.bot.fallback {
            Some(t) => self.scope(s).render_text(t),
            None => DEFAULT_FALLBACK.to_string(),
        };
        events.push(Event::Say { text });
    }

    // ---- carousels ----

    fn offer_carousel(
        &self,
        s: &mut Session,
        carousel: &Carousel,
        events: &mut Vec<Event>,
    ) -> Next {
        match carousel {
            Carousel::Static { cards, .. } => {
                events.push(self.static_cards(s, cards));
                if cards.iter().flat_map(|c| &c.buttons).any(branches) {
                    wait(s)
                } else {
                    Next::Go
                }
            }
            Carousel::Dynamic {
                list: list_attr,
                card,
                empty,
                ..
            } => {
                let Some(views) = self.dynamic_cards(s, *list_attr, card) else {
                    jump(s, *empty);
                    return Next::Go;
                };
                let titles = views.iter().map(|v| v.title.clone()).collect();
                let labels = views
                    .iter()
                    .map(|v| {
                        v.buttons
                            .first()
                            .map(|b| b.label.clone())
                            .unwrap_or_default()
                    })
                    .collect();
                events.push(Event::Carousel { cards: views });
                s.wait = Some(Wait::Items { labels, titles });
                wait(s)
            }
        }
    }

    fn answer_carousel(
        &self,
        s: &mut Session,
        carousel: &Carousel,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        match carousel {
            Carousel::Static { cards, save } => {
                let (titles, buttons): (Vec<String>, Vec<(usize, String, &MenuOption)>) = {
                    let scope = self.scope(s);
                    let titles = cards.iter().map(|c| scope.render(&c.title)).collect();
                    let buttons = cards
                        .iter()
                        .enumerate()
                        .flat_map(|(ci, c)| c.buttons.iter().map(move |b| (ci, b)))
                        .map(|(ci, b)| (ci, scope.render(&b.label), b))
                        .collect();
                    (titles, buttons)
                };
                let labels: Vec<String> = buttons.iter().map(|(_, l, _)| l.clone()).collect();
                let by_title = |card: usize| {
                    buttons
                        .iter()
                        .position(|(ci, _, b)| *ci == card && branches(b))
                };
                let picked = pick_unique_label(input, &labels)
                    .or_else(|| pick_label(input, &titles, false).and_then(by_title))
                    .or_else(|| pick_payload(input, buttons.iter().map(|(_, _, b)| *b)));
                let Some((value, target)) =
                    picked.and_then(|i| chosen(&buttons[i].1, buttons[i].2))
                else {
                    self.no_match(s, events);
                    events.push(self.static_cards(s, cards));
                    return Next::Stay;
                };
                save_text(s, *save, value);
                jump(s, target);
                Next::Go
            }
            Carousel::Dynamic {
                list: list_attr,
                card,
                saves,
                target,
                empty,
            } => {
                let Some(Wait::Items { labels, titles }) = &s.wait else {
                    return Next::Stop;
                };
                match pick_unique_label(input, labels).or_else(|| pick_label(input, titles, false))
                {
                    Some(i) => self.pick_item(s, *list_attr, i, saves, *target, *empty),
                    None => {
                        self.no_match(s, events);
                        match self.dynamic_cards(s, *list_attr, card) {
                            Some(cards) => events.push(Event::Carousel { cards }),
                            None => {
                                s.wait = None;
                                jump(s, *empty);
                                return Next::Go;
                            }
                        }
                        Next::Stay
                    }
                }
            }
        }
    }

    fn static_cards(&self, s: &Session, cards: &[Card]) -> Event {
        let scope = self.scope(s);
        let cards = cards
            .iter()
            .map(|c| CardView {
                title: scope.render(&c.title),
                subtitle: c.subtitle.as_ref().map(|t| scope.render(t)),
                image: c.image.as_ref().map(|t| scope.render(t)),
                buttons: c.buttons.iter().map(|b| choice_view(&scope, b)).collect(),
            })
            .collect();
        Event::Carousel { cards }
    }

    /// One card per element of the list attribute; `None` when the list is missing or empty.
    fn dynamic_cards(
        &self,
        s: &Session,
        list_attr: AttrId,
        card: &CardTemplate,
    ) -> Option<Vec<CardView>> {
        let scope = self.scope(s);
        let items = list(s, list_attr)?;
        let views = items
            .iter()
            .map(|item| {
                let scope = scope.with_item(item);
                let opt = |t: &Option<Template>| t.as_ref().map(|t| scope.render(t));
                let button = opt(&card.button).unwrap_or_else(|| DEFAULT_BUTTON.to_string());
                CardView {
                    title: opt(&card.title).unwrap_or_else(|| value_text(Some(item))),
                    subtitle: opt(&card.subtitle),
                    image: opt(&card.image),
                    buttons: vec![reply(&button)],
                }
            })
            .collect();
        Some(views)
    }

    // ---- email ----

    fn render_email(&self, s: &Session, email: &Email) -> (String, String, String) {
        let scope = self.scope(s);
        (
            scope.render(&email.to),
            scope.render(&email.subject),
            scope.render(&email.body),
        )
    }

    /// Record the email and, with an SMTP server configured, deliver it. A failure sets
    /// `sys.email_error`; the flow goes on either way.
    async fn send_email(
        &self,
        s: &mut Session,
        to: String,
        subject: String,
        body: String,
        events: &mut Vec<Event>,
    ) {
        let (delivered, error) = match &self.inner.config.smtp {
            None => (false, None),
            Some(smtp) => match smtp::deliver(smtp, &to, &subject, &body).await {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e)),
            },
        };
        match &error {
            Some(e) => {
                s.set_sys(SysAttr::EmailError, e.clone());
            }
            None if delivered => {
                s.clear_sys(SysAttr::EmailError);
            }
            None => {}
        }
        events.push(Event::Email {
            to,
            subject,
            body,
            delivered,
            error,
        });
    }

    // ---- one-time passwords ----

    async fn start_otp(&self, s: &mut Session, otp: &Otp, events: &mut Vec<Event>) -> Next {
        let code = match new_code(otp.digits, self.inner.config.fixed_otp) {
            Ok(code) => code,
            Err(message) => {
                events.push(Event::RuntimeError { message });
                jump(s, otp.fail);
                return Next::Go;
            }
        };
        match otp::sealed_wait(&code, otp.tries.max(1)) {
            Ok(sealed) => s.wait = Some(sealed),
            Err(message) => {
                events.push(Event::RuntimeError { message });
                jump(s, otp.fail);
                return Next::Go;
            }
        }
        match &otp.send {
            OtpSend::Email(to) => {
                let scope = Scope {
                    otp_code: Some(&code),
                    ..self.scope(s)
                };
                let to = scope.render(to);
                let body = format!("Your verification code is {code}.");
                self.send_email(s, to, OTP_SUBJECT.into(), body, events)
                    .await;
            }
            OtpSend::Call(api) => {
                let called = self.call_with_code(s, *api, Some(&code)).await;
                events.push(called.event);
            }
        }
        self.otp_prompt(s, otp, events);
        wait(s)
    }

    /// The code [`Engine::call_api`] inserts as `{sys.otp_code}`: made as the first `otp` that
    /// sends through `api` would make it (6 digits, the default, when none does).
    pub(super) fn code_for_call(&self, api: ApiId) -> Result<String, String> {
        let sends_through = |stmt: &Stmt| match stmt {
            Stmt::Otp(otp) => match otp.send {
                OtpSend::Call(through) if through == api => Some(otp.digits),
                _ => None,
            },
            _ => None,
        };
        let digits = self
            .inner
            .program
            .nodes
            .iter()
            .flat_map(|node| &node.stmts)
            .find_map(sends_through)
            .unwrap_or(DEFAULT_OTP_DIGITS);
        new_code(digits, self.inner.config.fixed_otp)
    }

    fn otp_prompt(&self, s: &Session, otp: &Otp, events: &mut Vec<Event>) {
        let text = match &otp.prompt {
            Some(p) => self.scope(s).render_text(p),
            None => format!(
                "Please enter the {}-digit code we sent you.",
                code_len(otp.digits)
            ),
        };
        events.push(Event::Say { text });
    }

    fn answer_otp(&self, s: &mut Session, otp: &Otp, input: &str, events: &mut Vec<Event>) -> Next {
        let Some(Wait::Otp {
            salt,
            digest,
            tries_left,
        }) = &mut s.wait
        else {
            return Next::Stop;
        };
        let answer: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if otp::answer_matches(&answer, salt, digest) {
            s.wait = None;
            jump(s, otp.ok);
            return Next::Go;
        }
        *tries_left = tries_left.saturating_sub(1);
        if *tries_left == 0 {
            s.wait = None;
            jump(s, otp.fail);
            return Next::Go;
        }
        events.push(Event::Say {
            text: WRONG_CODE.into(),
        });
        self.otp_prompt(s, otp, events);
        Next::Stay
    }

    // ---- forms ----

    fn form_event(&self, s: &Session, form: &Form, missing: &[u32]) -> Event {
        let scope = self.scope(s);
        let attrs = &self.inner.program.attrs;
        let fields = missing
            .iter()
            .filter_map(|&i| form.fields.get(i as usize))
            .map(|f| FormFieldView {
                attr: attrs[f.attr as usize].name.clone(),
                kind: kind_name(f.kind).into(),
                label: scope.render(&f.label),
            })
            .collect();
        Event::Form {
            title: form.title.as_ref().map(|t| scope.render_text(t)),
            fields,
        }
    }

    fn answer_form(
        &self,
        s: &mut Session,
        form: &Form,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        let missing = match s.wait.take() {
            Some(Wait::Form { missing }) => missing,
            other => {
                s.wait = other;
                return Next::Stop;
            }
        };
        let attrs = &self.inner.program.attrs;
        let names: Vec<&str> = missing
            .iter()
            .filter_map(|&i| form.fields.get(i as usize))
            .map(|f| attrs[f.attr as usize].name.as_str())
            .collect();
        let answers = form_answers(input, &names);
        let mut still = Vec::new();
        for (&i, answer) in missing.iter().zip(answers) {
            let Some(field) = form.fields.get(i as usize) else {
                continue;
            };
            let Some(answer) = answer else {
                still.push(i);
                continue;
            };
            match validate(field.kind, &answer) {
                Some(value) => s.attrs[field.attr as usize] = Some(value),
                None => {
                    let attr = attrs[field.attr as usize].name.clone();
                    events.push(Event::Invalid {
                        attr,
                        kind: kind_name(field.kind).into(),
                        answer,
                    });
                    still.push(i);
                }
            }
        }
        if still.is_empty() {
            return Next::Go;
        }
        events.push(self.form_event(s, form, &still));
        s.wait = Some(Wait::Form { missing: still });
        Next::Stay
    }

    // ---- appointments ----

    async fn offer_slots(&self, s: &mut Session, a: &Appointment, events: &mut Vec<Event>) -> Next {
        let Called { event, body, .. } = self.call(s, a.slots_api).await;
        events.push(event);
        let answered = matches!(s.status, Some(200..=299));
        let slots = body
            .filter(|_| answered)
            .and_then(|b| slot_list(&b, &a.slots_path));
        let Some(slots) = slots else {
            jump(s, a.failed);
            return Next::Go;
        };
        let labels: Vec<String> = {
            let scope = self.scope(s);
            slots
                .iter()
                .map(|slot| item_label(&scope, a.label.as_ref(), slot))
                .collect()
        };
        events.push(self.slot_choices(s, a, &labels));
        s.wait = Some(Wait::Slots { labels, slots });
        wait(s)
    }

    async fn answer_slots(
        &self,
        s: &mut Session,
        a: &Appointment,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        let Some(Wait::Slots { labels, slots }) = &s.wait else {
            return Next::Stop;
        };
        let Some(slot) = pick_label(input, labels, true)
            .and_then(|i| slots.get(i))
            .cloned()
        else {
            let labels = labels.clone();
            self.no_match(s, events);
            events.push(self.slot_choices(s, a, &labels));
            return Next::Stay;
        };
        s.wait = None;
        run_item_saves(s, &a.saves, &slot);
        let event = self.call(s, a.book_api).await.event;
        events.push(event);
        let booked = matches!(s.status, Some(200..=299));
        jump(s, if booked { a.booked } else { a.failed });
        Next::Go
    }

    fn slot_choices(&self, s: &Session, a: &Appointment, labels: &[String]) -> Event {
        Event::Choices {
            style: menu_style(MenuStyle::QuickReplies).into(),
            text: a.prompt.as_ref().map(|t| self.scope(s).render_text(t)),
            options: labels.iter().map(|l| reply(l)).collect(),
        }
    }
}

fn wait(s: &mut Session) -> Next {
    s.state = SessionState::Waiting;
    Next::Stay
}

/// The non-empty list held by an attribute.
fn list(s: &Session, attr: AttrId) -> Option<&[Value]> {
    match s.attrs.get(attr as usize)? {
        Some(Value::List(items)) if !items.is_empty() => Some(items),
        _ => None,
    }
}

/// The non-empty list at `path` in a JSON answer.
fn slot_list(body: &[u8], path: &[crate::ir::PathStep]) -> Option<Vec<Value>> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    match http::from_json(http::lookup(&json, path)?) {
        Value::List(items) if !items.is_empty() => Some(items),
        _ => None,
    }
}

fn item_label(scope: &Scope, label: Option<&Template>, item: &Value) -> String {
    match label {
        Some(t) => scope.with_item(item).render(t),
        None => value_text(Some(item)),
    }
}

fn run_item_saves(s: &mut Session, saves: &[ItemSave], item: &Value) {
    for save in saves {
        s.attrs[save.attr as usize] = lookup_value(item, &save.path).cloned();
    }
}

fn save_text(s: &mut Session, attr: Option<AttrId>, value: String) {
    if let Some(attr) = attr {
        s.attrs[attr as usize] = Some(Value::Text(value));
    }
}

fn branches(o: &MenuOption) -> bool {
    !matches!(o.kind, OptionKind::Link(_))
}

/// What a picked option stores and where it goes; links go nowhere.
fn chosen(label: &str, o: &MenuOption) -> Option<(String, NodeId)> {
    match &o.kind {
        OptionKind::Branch(target) => Some((label.to_string(), *target)),
        OptionKind::Postback { payload, target } => Some((payload.clone(), *target)),
        OptionKind::Link(_) => None,
    }
}

fn same_text(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The option an answer names: its label, its 1-based number (when `numbers`).
fn pick_label(input: &str, labels: &[String], numbers: bool) -> Option<usize> {
    labels.iter().position(|l| same_text(l, input)).or_else(|| {
        let n: usize = input.trim().parse().ok().filter(|_| numbers)?;
        (1..=labels.len()).contains(&n).then(|| n - 1)
    })
}

/// A label match that names exactly one option.
fn pick_unique_label(input: &str, labels: &[String]) -> Option<usize> {
    let mut matches = labels
        .iter()
        .enumerate()
        .filter(|(_, l)| same_text(l, input))
        .map(|(i, _)| i);
    let first = matches.next()?;
    matches.next().is_none().then_some(first)
}

fn pick_payload<'o>(input: &str, options: impl Iterator<Item = &'o MenuOption>) -> Option<usize> {
    let input = input.trim();
    options
        .into_iter()
        .position(|o| matches!(&o.kind, OptionKind::Postback { payload, .. } if payload == input))
}

/// A static menu's option by label, number or postback payload.
fn pick_option(
    input: &str,
    labels: &[String],
    options: &[MenuOption],
    numbers: bool,
) -> Option<usize> {
    pick_label(input, labels, numbers).or_else(|| pick_payload(input, options.iter()))
}

fn reply(label: &str) -> ChoiceView {
    ChoiceView {
        label: label.to_string(),
        kind: "reply".into(),
        url: None,
        payload: None,
    }
}

fn choice_view(scope: &Scope, o: &MenuOption) -> ChoiceView {
    let label = scope.render(&o.label);
    match &o.kind {
        OptionKind::Branch(_) => reply(&label),
        OptionKind::Link(url) => ChoiceView {
            label,
            kind: "link".into(),
            url: Some(scope.render(url)),
            payload: None,
        },
        OptionKind::Postback { payload, .. } => ChoiceView {
            label,
            kind: "postback".into(),
            url: None,
            payload: Some(payload.clone()),
        },
    }
}

/// The values of a form answer for the fields named `names`, in order (`None`: not given).
/// A JSON object is read by attribute name; anything else is split at `;` and new lines.
fn form_answers(input: &str, names: &[&str]) -> Vec<Option<String>> {
    let trimmed = input.trim();
    if trimmed.starts_with('{') {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(trimmed) {
            return names
                .iter()
                .map(|n| map.get(*n).and_then(json_answer))
                .collect();
        }
    }
    let mut parts = trimmed.split([';', '\n']).map(str::trim);
    names
        .iter()
        .map(|_| parts.next().filter(|p| !p.is_empty()).map(str::to_string))
        .collect()
}

fn json_answer(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn code_len(digits: u32) -> usize {
    digits.clamp(1, 32) as usize
}

/// A code of `digits` digits from the OS random generator (or `1234567890...` when fixed).
fn new_code(digits: u32, fixed: bool) -> Result<String, String> {
    let len = code_len(digits);
    if fixed {
        return Ok("1234567890".chars().cycle().take(len).collect());
    }
    let mut code = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while code.len() < len {
        getrandom::getrandom(&mut buf).map_err(|e| format!("cannot generate a code: {e}"))?;
        // Bytes >= 250 are dropped so every digit is equally likely.
        code.extend(
            buf.iter()
                .filter(|&&b| b < 250)
                .map(|b| char::from(b'0' + b % 10))
                .take(len - code.len()),
        );
    }
    Ok(code)
}

fn menu_style(style: MenuStyle) -> &'static str {
    match style {
        MenuStyle::QuickReplies => "quick_replies",
        MenuStyle::Buttons => "buttons",
    }
}

fn transfer_kind(kind: TransferKind) -> &'static str {
    match kind {
        TransferKind::Department => "department",
        TransferKind::Agent => "agent",
    }
}

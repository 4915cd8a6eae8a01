//! The bot-builder actions (`docs/actions.md`): offering them, and taking the answer to the
//! ones that wait. Each kind lives in a file beside this one; the helpers they share are here.

mod forms;
mod menus;
mod messages;
mod understand;

use super::{jump, Called, Engine};
use crate::ir::value_text;
use crate::ir::{
    ApiId, Appointment, AttrId, Card, CardTemplate, Carousel, Email, Form, ItemSave, Menu,
    MenuOption, MenuSource, MenuStyle, Message, NodeId, OptionKind, Otp, OtpSend, Stmt, SysAttr,
    Text, TransferKind, Value,
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

/// The code length of an `otp` without `digits` (the compiler's default).
const DEFAULT_OTP_DIGITS: u32 = 6;

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
                    caption: caption.as_ref().map(|c| scope.render_text(c)),
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
            Stmt::Menu(menu) => self.answer_menu(s, menu, input, events).await,
            Stmt::Carousel(carousel) => self.answer_carousel(s, carousel, input, events).await,
            Stmt::Otp(otp) => self.answer_otp(s, otp, input, events),
            Stmt::Form(form) => self.answer_form(s, form, input, events),
            Stmt::Appointment(a) => self.answer_slots(s, a, input, events).await,
            _ => Next::Stop,
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

fn item_label(scope: &Scope, label: Option<&Text>, item: &Value) -> String {
    match label {
        Some(t) => scope.with_item(item).render_text(t),
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
    let label = scope.render_text(&o.label);
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

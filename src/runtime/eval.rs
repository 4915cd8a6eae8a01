//! Expressions and templates over a session's data.
//!
//! Evaluation borrows from the session wherever it can ([`Val`]), so a branch or a `set` of a
//! number does not allocate.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use regex::Regex;

use super::Session;
use crate::ir::{
    value_json, ArithOp, CmpOp, Expr, Func, HoursId, Number, Program, SysAttr, Template,
    TemplatePart, Text, TextOp, Value,
};
use crate::vocab::write_number;

/// A value during evaluation; `Unset` is an attribute that holds nothing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Unset,
    /// A calculation that failed (`division_by_zero`, `not_a_number`): unset, with the reason
    /// that `set` puts in `sys.error`.
    Failed(&'static str),
    Null,
    Bool(bool),
    Num(Number),
    Text(Cow<'a, str>),
}

impl<'a> Val<'a> {
    pub(crate) fn of(value: Option<&'a Value>) -> Val<'a> {
        match value {
            None => Val::Unset,
            Some(Value::Null) => Val::Null,
            Some(Value::Bool(b)) => Val::Bool(*b),
            Some(Value::Number(n)) => Val::Num(*n),
            Some(Value::Text(s)) => Val::Text(Cow::Borrowed(s)),
            // Lists and objects read as their compact JSON text.
            Some(v @ (Value::List(_) | Value::Map(_))) => {
                Val::Text(Cow::Owned(value_json(v).to_string()))
            }
        }
    }

    pub(crate) fn into_value(self) -> Option<Value> {
        match self {
            Val::Unset | Val::Failed(_) => None,
            Val::Null => Some(Value::Null),
            Val::Bool(b) => Some(Value::Bool(b)),
            Val::Num(n) => Some(Value::Number(n)),
            Val::Text(s) => Some(Value::Text(s.into_owned())),
        }
    }

    /// Truth of a value used as a condition: unset, null, false, 0 and "" are false.
    fn truthy(&self) -> bool {
        match self {
            Val::Unset | Val::Failed(_) | Val::Null => false,
            Val::Bool(b) => *b,
            Val::Num(n) => n.to_f64() != 0.0,
            Val::Text(s) => !s.is_empty(),
        }
    }

    /// The text a template writes for this value.
    fn write_to(&self, out: &mut String) {
        match self {
            Val::Unset | Val::Failed(_) | Val::Null => {}
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Num(n) => write_number(*n, out),
            Val::Text(s) => out.push_str(s),
        }
    }

    /// Text form for the text operators: text as is, numbers and booleans as templates write them.
    /// Whether the value is missing: unset, or a failed calculation.
    fn is_unset(&self) -> bool {
        matches!(self, Val::Unset | Val::Failed(_))
    }

    pub(crate) fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Unset | Val::Failed(_) | Val::Null => None,
            Val::Text(s) => Some(Cow::Borrowed(s)),
            other => {
                let mut s = String::new();
                other.write_to(&mut s);
                Some(Cow::Owned(s))
            }
        }
    }
}

/// Follow a path into a list element (dynamic data); `None` when a step is missing.
pub(crate) fn lookup_value<'v>(v: &'v Value, path: &[crate::ir::PathStep]) -> Option<&'v Value> {
    use crate::ir::PathStep;
    path.iter().try_fold(v, |v, step| match (step, v) {
        (PathStep::Field(f), Value::Map(m)) => m.get(f.as_str()),
        (PathStep::Index(i), Value::List(l)) => l.get(*i),
        _ => None,
    })
}

/// The template name of the OTP code, inserted like a secret so that events mask it.
pub(crate) const OTP_CODE: &str = "sys.otp_code";

pub(crate) fn is_otp_code(sys_name: &str) -> bool {
    sys_attr(sys_name) == Some(SysAttr::OtpCode)
}

/// The system attribute named `sys_name`, with or without its `sys.` prefix.
fn sys_attr(sys_name: &str) -> Option<SysAttr> {
    SysAttr::from_name(sys_name.strip_prefix("sys.").unwrap_or(sys_name))
}

/// Where evaluation reads from: the session, the program, the engine's precompiled regexes
/// and time zones, and the list element of a dynamic-data block.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub session: &'a Session,
    pub regexes: &'a HashMap<String, Regex>,
    pub program: &'a Program,
    /// Indexed by `HoursId`.
    pub zones: &'a [Tz],
    /// The bot's `timezone`, for `sys.date` and `sys.time`.
    pub bot_zone: Tz,
    pub item: Option<&'a Value>,
    /// The OTP code being sent: only set while `otp` sends it, since sessions keep a hash.
    pub otp_code: Option<&'a str>,
}

impl<'a> Scope<'a> {
    /// The same scope reading `{item...}` from `item`.
    pub(crate) fn with_item(&self, item: &'a Value) -> Scope<'a> {
        Scope {
            item: Some(item),
            ..*self
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.session
            .fixed_now
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
    }

    /// [`Scope::now`] in the bot's time zone (UTC unless the bot names one).
    fn local_now(&self) -> DateTime<Tz> {
        self.now().with_timezone(&self.bot_zone)
    }

    /// The code of the OTP being sent or checked.
    pub(crate) fn otp_code(&self) -> Option<&'a str> {
        self.otp_code
    }

    pub(crate) fn sys(&self, name: &str) -> Val<'a> {
        let name = name.strip_prefix("sys.").unwrap_or(name);
        match SysAttr::from_name(name) {
            Some(attr) => self.sys_attr(attr),
            // Not a name the compiler accepts: only a program made by other means holds it.
            None => Val::of(self.session.sys.get(name)),
        }
    }

    /// The value of a system attribute: computed, or kept in the session.
    fn sys_attr(&self, attr: SysAttr) -> Val<'a> {
        let owned = |s: String| Val::Text(Cow::Owned(s));
        match attr {
            SysAttr::Now => owned(
                self.now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            SysAttr::Date => owned(self.local_now().format("%Y-%m-%d").to_string()),
            SysAttr::Time => owned(self.local_now().format("%H:%M").to_string()),
            SysAttr::BotName => Val::Text(Cow::Borrowed(&self.program.bot.name)),
            SysAttr::OtpCode => self
                .otp_code()
                .map_or(Val::Unset, |c| Val::Text(Cow::Borrowed(c))),
            SysAttr::Channel
            | SysAttr::VisitorId
            | SysAttr::Language
            | SysAttr::LastMessage
            | SysAttr::ApiError
            | SysAttr::EmailError
            | SysAttr::Error
            | SysAttr::Intent
            | SysAttr::IntentConfidence
            | SysAttr::Sentiment => Val::of(self.session.sys.get(attr.name())),
        }
    }

    /// Whether business hours `id` are open at [`Scope::now`] in their zone.
    fn open(&self, id: HoursId) -> bool {
        let (Some(table), Some(zone)) = (
            self.program.hours.get(id as usize),
            self.zones.get(id as usize),
        ) else {
            return false;
        };
        let local = self.now().with_timezone(zone);
        let date = local.format("%Y-%m-%d").to_string();
        if table.closed.contains(&date) {
            return false;
        }
        let day = local.weekday().num_days_from_monday() as u8;
        let minute = (local.hour() * 60 + local.minute()) as u16;
        table
            .weekly
            .iter()
            .any(|&(d, from, to)| d == day && from <= minute && minute < to)
    }

    pub(crate) fn eval(&self, expr: &'a Expr) -> Val<'a> {
        match expr {
            Expr::Lit(v) => Val::of(Some(v)),
            Expr::Attr(id) => Val::of(
                self.session
                    .attrs
                    .get(*id as usize)
                    .and_then(Option::as_ref),
            ),
            Expr::Status => match self.session.status {
                Some(s) => Val::Num(Number::from(s)),
                None => Val::Unset,
            },
            Expr::Sys(name) => self.sys(name),
            Expr::Arith(op, a, b) => arith(*op, &self.eval(a), &self.eval(b)),
            Expr::Call(func, args) => self.call(*func, args),
            Expr::Template(t) => Val::Text(Cow::Owned(self.render(t))),
            _ => Val::Bool(self.test(expr)),
        }
    }

    /// A stored value as it is, lists and maps included (which [`Val`] reads as JSON text).
    fn whole(&self, expr: &'a Expr) -> Option<&'a Value> {
        match expr {
            Expr::Lit(v) => Some(v),
            Expr::Attr(id) => self
                .session
                .attrs
                .get(*id as usize)
                .and_then(Option::as_ref),
            _ => None,
        }
    }

    /// A built-in function; an argument it cannot use gives unset.
    fn call(&self, func: Func, args: &'a [Expr]) -> Val<'a> {
        let Some(first) = args.first() else {
            return Val::Unset;
        };
        if func == Func::Len {
            let count = match self.whole(first) {
                Some(Value::List(items)) => items.len(),
                Some(Value::Map(fields)) => fields.len(),
                _ => match self.eval(first) {
                    Val::Text(t) => t.chars().count(),
                    failed @ Val::Failed(_) => return failed,
                    _ => return Val::Unset,
                },
            };
            return i64::try_from(count).map_or(Val::Unset, |n| Val::Num(Number::Int(n)));
        }
        let value = self.eval(first);
        let text = |f: fn(&str) -> String| match value.as_text() {
            Some(t) => Val::Text(Cow::Owned(f(&t))),
            None => Val::Unset,
        };
        match (func, &value) {
            (_, failed @ Val::Failed(_)) => failed.clone(),
            (Func::Lower, _) => text(str::to_lowercase),
            (Func::Upper, _) => text(str::to_uppercase),
            (Func::Trim, _) => text(|t| t.trim().to_string()),
            (Func::Text, _) => text(str::to_string),
            (Func::Number, Val::Num(n)) => Val::Num(*n),
            (Func::Number, Val::Text(t)) => Number::parse(t.trim()).map_or(Val::Unset, Val::Num),
            (Func::Round, Val::Num(n)) => {
                let digits = args.get(1).map(|d| self.eval(d));
                match digits {
                    Some(Val::Num(d)) => d
                        .as_i64()
                        .and_then(|d| n.round(d))
                        .map_or(Val::Unset, Val::Num),
                    _ => Val::Unset,
                }
            }
            _ => Val::Unset,
        }
    }

    /// The value `set` stores: like [`Scope::eval`], but a list or map (a literal or another
    /// attribute's) is copied as it is rather than as its JSON text.
    /// `Err` names why a calculation failed (`division_by_zero`, `not_a_number`): the
    /// attribute is then unset and `sys.error` says why.
    pub(crate) fn eval_value(&self, expr: &'a Expr) -> Result<Option<Value>, &'static str> {
        match self.whole(expr) {
            Some(v @ (Value::List(_) | Value::Map(_))) => Ok(Some(v.clone())),
            _ => match self.eval(expr) {
                Val::Failed(why) => Err(why),
                v => Ok(v.into_value()),
            },
        }
    }

    /// Evaluate `expr` as a condition.
    pub(crate) fn test(&self, expr: &'a Expr) -> bool {
        match expr {
            Expr::Lit(_)
            | Expr::Attr(_)
            | Expr::Status
            | Expr::Sys(_)
            | Expr::Arith(..)
            | Expr::Call(..)
            | Expr::Template(_) => self.eval(expr).truthy(),
            Expr::Open(id) => self.open(*id),
            Expr::Not(e) => !self.test(e),
            Expr::And(a, b) => self.test(a) && self.test(b),
            Expr::Or(a, b) => self.test(a) || self.test(b),
            Expr::Cmp(op, a, b) => compare(*op, &self.eval(a), &self.eval(b)),
            Expr::InRange(e, low, high) => match self.eval(e) {
                Val::Num(n) => n >= Number::Int(*low) && n <= Number::Int(*high),
                _ => false,
            },
            Expr::InList(e, items) => {
                let v = self.eval(e);
                !v.is_unset() && items.iter().any(|item| equal(&v, &self.eval(item)))
            }
            Expr::Text(op, a, b) => {
                let (a, b) = (self.eval(a), self.eval(b));
                match (a.as_text(), b.as_text()) {
                    (Some(a), Some(b)) => match op {
                        TextOp::Contains => a.contains(&*b),
                        TextOp::StartsWith => a.starts_with(&*b),
                        TextOp::EndsWith => a.ends_with(&*b),
                    },
                    _ => false,
                }
            }
            Expr::Matches(e, pattern) => {
                let v = self.eval(e);
                match (v.as_text(), self.regexes.get(pattern)) {
                    (Some(text), Some(re)) => re.is_match(&text),
                    _ => false,
                }
            }
            Expr::IsSet(e) => !self.eval(e).is_unset(),
        }
    }

    /// Render a template; `encode` transforms each inserted value (not the literal text).
    pub(crate) fn render_with(
        &self,
        template: &'a Template,
        out: &mut String,
        mut insert: impl FnMut(&mut String, Inserted<'_>),
    ) {
        let mut buf = String::new();
        for part in &template.parts {
            match part {
                TemplatePart::Text(t) => out.push_str(t),
                TemplatePart::Secret(name) => insert(out, Inserted::Secret(name)),
                TemplatePart::Sys(name) if is_otp_code(name) => {
                    insert(out, Inserted::Secret(OTP_CODE))
                }
                other => {
                    buf.clear();
                    self.part_value(other).write_to(&mut buf);
                    insert(out, Inserted::Value(&buf));
                }
            }
        }
    }

    /// Render a template for a message: values inserted as they are, secrets never.
    pub(crate) fn render(&self, template: &'a Template) -> String {
        let mut out = String::new();
        self.render_with(template, &mut out, |out, ins| match ins {
            Inserted::Value(v) => out.push_str(v),
            Inserted::Secret(_) => out.push_str("***"),
        });
        out
    }

    pub(crate) fn part_value(&self, part: &'a TemplatePart) -> Val<'a> {
        match part {
            TemplatePart::Text(t) => Val::Text(Cow::Borrowed(t)),
            TemplatePart::Attr(id) => Val::of(
                self.session
                    .attrs
                    .get(*id as usize)
                    .and_then(Option::as_ref),
            ),
            TemplatePart::Status => match self.session.status {
                Some(s) => Val::Num(Number::from(s)),
                None => Val::Unset,
            },
            TemplatePart::Sys(name) => self.sys(name),
            TemplatePart::Secret(_) => Val::Unset,
            TemplatePart::Item(path) => {
                Val::of(self.item.and_then(|item| lookup_value(item, path)))
            }
        }
    }

    /// Render a message text in the session's language (`sys.language`), falling back to the
    /// first language given.
    pub(crate) fn render_text(&self, text: &'a Text) -> String {
        match text {
            Text::Plain(t) => self.render(t),
            Text::Translated(texts) => {
                let lang = self.sys_attr(SysAttr::Language);
                let lang = lang.as_text();
                texts
                    .iter()
                    .find(|(l, _)| lang.as_deref() == Some(l.as_str()))
                    .or(texts.first())
                    .map(|(_, t)| self.render(t))
                    .unwrap_or_default()
            }
        }
    }
}

/// A value being inserted into a template.
pub(crate) enum Inserted<'a> {
    Value(&'a str),
    Secret(&'a str),
}

/// `==`: unset equals nothing; numbers numerically; different types never match.
fn equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Unset | Val::Failed(_), _) | (_, Val::Unset | Val::Failed(_)) => false,
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Text(x), Val::Text(y)) => x == y,
        _ => false,
    }
}

/// `a + b` and friends: numbers only. Unset (or `null`) in, unset out; anything else that is
/// not a number, and division by zero, fail with the reason.
fn arith<'a>(op: ArithOp, a: &Val, b: &Val) -> Val<'a> {
    match (a, b) {
        (Val::Failed(why), _) | (_, Val::Failed(why)) => Val::Failed(why),
        (Val::Num(x), Val::Num(y)) => match x.apply(op, *y) {
            Some(n) => Val::Num(n),
            None if matches!(op, ArithOp::Div | ArithOp::Rem) && y.to_f64() == 0.0 => {
                Val::Failed("division_by_zero")
            }
            None => Val::Failed("out_of_range"),
        },
        (Val::Unset | Val::Null, _) | (_, Val::Unset | Val::Null) => Val::Unset,
        _ => Val::Failed("not_a_number"),
    }
}

fn compare(op: CmpOp, a: &Val, b: &Val) -> bool {
    use std::cmp::Ordering;
    match op {
        CmpOp::Eq => return equal(a, b),
        CmpOp::Ne => return !equal(a, b),
        _ => {}
    }
    // Ordering: numbers numerically, text by code point (so ISO dates and HH:MM times order).
    let ord = match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Text(x), Val::Text(y)) => Some(x.cmp(y)),
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
        CmpOp::Eq | CmpOp::Ne => false,
    }
}

/// Collect every `matches` pattern of an expression.
pub(crate) fn collect_patterns<'e>(expr: &'e Expr, out: &mut Vec<&'e str>) {
    match expr {
        Expr::Lit(_)
        | Expr::Attr(_)
        | Expr::Status
        | Expr::Sys(_)
        | Expr::Open(_)
        | Expr::Template(_) => {}
        Expr::Not(e) | Expr::IsSet(e) | Expr::InRange(e, _, _) => collect_patterns(e, out),
        Expr::And(a, b)
        | Expr::Or(a, b)
        | Expr::Cmp(_, a, b)
        | Expr::Text(_, a, b)
        | Expr::Arith(_, a, b) => {
            collect_patterns(a, out);
            collect_patterns(b, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| collect_patterns(a, out)),
        Expr::InList(e, items) => {
            collect_patterns(e, out);
            items.iter().for_each(|i| collect_patterns(i, out));
        }
        Expr::Matches(e, pattern) => {
            collect_patterns(e, out);
            out.push(pattern);
        }
    }
}

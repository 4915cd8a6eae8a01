//! Load-time checks: every index in a program points at something, so the interpreter can
//! index freely and a bad IR is refused instead of panicking.

use chrono_tz::Tz;

use super::LoadError;
use crate::ir::{
    ApiId, AttrId, Carousel, Expr, FlowId, HoursId, ItemSave, JsonTemplate, MenuOption, MenuSource,
    NodeId, OptionKind, OtpSend, Program, RequestBody, Stmt, Template, TemplatePart, Text,
};

type Checked = Result<(), LoadError>;

/// The sizes of the program's tables.
struct Refs {
    nodes: usize,
    apis: usize,
    attrs: usize,
    hours: usize,
    flows: usize,
}

fn bad(what: &str, id: u32) -> Checked {
    Err(LoadError::BadReference(format!(
        "{what} id {id} is out of range"
    )))
}

impl Refs {
    fn node(&self, id: NodeId) -> Checked {
        if (id as usize) < self.nodes {
            Ok(())
        } else {
            bad("node", id)
        }
    }
    fn api(&self, id: ApiId) -> Checked {
        if (id as usize) < self.apis {
            Ok(())
        } else {
            bad("API", id)
        }
    }
    fn attr(&self, id: AttrId) -> Checked {
        if (id as usize) < self.attrs {
            Ok(())
        } else {
            bad("attribute", id)
        }
    }
    fn hours(&self, id: HoursId) -> Checked {
        if (id as usize) < self.hours {
            Ok(())
        } else {
            bad("hours", id)
        }
    }
    fn flow(&self, id: FlowId) -> Checked {
        if (id as usize) < self.flows {
            Ok(())
        } else {
            bad("flow", id)
        }
    }

    fn template(&self, t: &Template) -> Checked {
        t.parts.iter().try_for_each(|part| match part {
            TemplatePart::Attr(a) => self.attr(*a),
            _ => Ok(()),
        })
    }
    fn opt_template(&self, t: Option<&Template>) -> Checked {
        t.map_or(Ok(()), |t| self.template(t))
    }
    fn text(&self, t: Option<&Text>) -> Checked {
        t.into_iter()
            .flat_map(Text::templates)
            .try_for_each(|t| self.template(t))
    }
    fn json(&self, j: &JsonTemplate) -> Checked {
        match j {
            JsonTemplate::Object(fields) => fields.iter().try_for_each(|(_, v)| self.json(v)),
            JsonTemplate::Array(items) => items.iter().try_for_each(|v| self.json(v)),
            JsonTemplate::String(t) => self.template(t),
            _ => Ok(()),
        }
    }
    fn item_saves(&self, saves: &[ItemSave]) -> Checked {
        saves.iter().try_for_each(|s| self.attr(s.attr))
    }
    fn options(&self, options: &[MenuOption]) -> Checked {
        options.iter().try_for_each(|o| {
            self.text(Some(&o.label))?;
            match &o.kind {
                OptionKind::Branch(n) | OptionKind::Postback { target: n, .. } => self.node(*n),
                OptionKind::Link(url) => self.template(url),
            }
        })
    }

    fn expr(&self, e: &Expr) -> Checked {
        match e {
            Expr::Attr(a) => self.attr(*a),
            Expr::Open(h) => self.hours(*h),
            Expr::Lit(_) | Expr::Status | Expr::Sys(_) => Ok(()),
            Expr::Not(x) | Expr::IsSet(x) | Expr::InRange(x, _, _) | Expr::Matches(x, _) => {
                self.expr(x)
            }
            Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Text(_, a, b)
            | Expr::Arith(_, a, b) => {
                self.expr(a)?;
                self.expr(b)
            }
            // A call with too few arguments is unset at run time, not a crash.
            Expr::Call(_, args) => args.iter().try_for_each(|a| self.expr(a)),
            Expr::Template(t) => self.template(t),
            Expr::InList(x, items) => {
                self.expr(x)?;
                items.iter().try_for_each(|i| self.expr(i))
            }
        }
    }

    fn stmt(&self, p: &Program, stmt: &Stmt) -> Checked {
        match stmt {
            Stmt::Say(t) => self.text(Some(t)),
            Stmt::Ask { attr, prompt, .. } => {
                self.attr(*attr)?;
                self.text(prompt.as_ref())
            }
            Stmt::Set { attr, value } => {
                self.attr(*attr)?;
                self.expr(value)
            }
            Stmt::SetLanguage(value) => self.expr(value),
            Stmt::Call(api) => self.api(*api),
            Stmt::Reply(api) => ai(p, *api),
            Stmt::AskAi { api, prompt, attr } => {
                ai(p, *api)?;
                self.attr(*attr)?;
                self.text(Some(prompt))
            }
            Stmt::Close | Stmt::Return | Stmt::Goal(_) => Ok(()),
            Stmt::Branch(t) => {
                self.node(t.otherwise)?;
                t.arms.iter().try_for_each(|arm| {
                    self.node(arm.target)?;
                    self.expr(&arm.cond)
                })
            }
            Stmt::Goto(n) => self.node(*n),
            Stmt::Menu(m) => {
                self.text(m.text.as_ref())?;
                m.save.map_or(Ok(()), |a| self.attr(a))?;
                match &m.source {
                    MenuSource::Static(options) => self.options(options),
                    MenuSource::Dynamic(d) => {
                        self.attr(d.list)?;
                        self.text(d.label.as_ref())?;
                        self.item_saves(&d.saves)?;
                        self.node(d.target)?;
                        self.node(d.empty)
                    }
                }
            }
            Stmt::Carousel(carousel) => match &**carousel {
                Carousel::Static { cards, save } => {
                    save.map_or(Ok(()), |a| self.attr(a))?;
                    cards.iter().try_for_each(|c| {
                        self.text(Some(&c.title))?;
                        self.text(c.subtitle.as_ref())?;
                        self.opt_template(c.image.as_ref())?;
                        self.options(&c.buttons)
                    })
                }
                Carousel::Dynamic {
                    list,
                    card,
                    saves,
                    target,
                    empty,
                } => {
                    self.attr(*list)?;
                    [&card.title, &card.subtitle, &card.button]
                        .into_iter()
                        .try_for_each(|t| self.text(t.as_ref()))?;
                    self.opt_template(card.image.as_ref())?;
                    self.item_saves(saves)?;
                    self.node(*target)?;
                    self.node(*empty)
                }
            },
            Stmt::Email(e) => {
                self.template(&e.to)?;
                self.text(Some(&e.subject))?;
                self.text(Some(&e.body))
            }
            Stmt::Otp(o) => {
                match &o.send {
                    OtpSend::Email(to) => self.template(to)?,
                    OtpSend::Call(api) => self.api(*api)?,
                }
                self.text(o.prompt.as_ref())?;
                self.node(o.ok)?;
                self.node(o.fail)
            }
            Stmt::Form(f) => {
                self.text(f.title.as_ref())?;
                f.fields.iter().try_for_each(|field| {
                    self.attr(field.attr)?;
                    self.text(Some(&field.label))
                })
            }
            Stmt::Media { url, caption, .. } => {
                self.template(url)?;
                self.text(caption.as_deref())
            }
            Stmt::Transfer { to, message, .. } => {
                self.template(to)?;
                self.text(message.as_deref())
            }
            Stmt::Appointment(a) => {
                self.api(a.slots_api)?;
                self.api(a.book_api)?;
                self.text(a.label.as_ref())?;
                self.text(a.prompt.as_ref())?;
                self.item_saves(&a.saves)?;
                self.node(a.booked)?;
                self.node(a.failed)
            }
            Stmt::Run { flow, args } => {
                self.flow(*flow)?;
                let params = p.flows[*flow as usize].params.len();
                if args.len() != params {
                    return Err(LoadError::BadReference(format!(
                        "`run {}` passes {} arguments to {params} parameters",
                        p.flows[*flow as usize].name,
                        args.len()
                    )));
                }
                args.iter().try_for_each(|a| self.expr(a))
            }
        }
    }
}

/// Every index in the program must point at something, so the interpreter can index freely.
/// An `ai` statement must name an API that is a language model.
fn ai(p: &Program, id: ApiId) -> Checked {
    match p.apis.get(id as usize) {
        Some(api) if api.ai.is_some() => Ok(()),
        _ => bad("ai", id),
    }
}

pub(super) fn check_references(p: &Program) -> Checked {
    let refs = Refs {
        nodes: p.nodes.len(),
        apis: p.apis.len(),
        attrs: p.attrs.len(),
        hours: p.hours.len(),
        flows: p.flows.len(),
    };
    refs.node(p.bot.start)?;
    refs.text(p.bot.greeting.as_ref())?;
    refs.text(p.bot.fallback.as_ref())?;
    refs.opt_template(p.bot.avatar.as_ref())?;
    p.bot.fallback_ai.map_or(Ok(()), |id| ai(p, id))?;
    for api in &p.apis {
        refs.text(api.ai.as_ref().and_then(|ai| ai.system.as_ref()))?;
        refs.template(&api.url)?;
        api.headers
            .iter()
            .try_for_each(|h| refs.template(&h.value))?;
        match &api.body {
            Some(RequestBody::Text(t)) => refs.template(t)?,
            Some(RequestBody::Json(j) | RequestBody::Form(j)) => refs.json(j)?,
            None => {}
        }
        api.saves.iter().try_for_each(|s| refs.attr(s.attr))?;
    }
    for flow in &p.flows {
        refs.node(flow.entry)?;
        flow.params.iter().try_for_each(|a| refs.attr(*a))?;
    }
    for node in &p.nodes {
        node.stmts.iter().try_for_each(|stmt| refs.stmt(p, stmt))?;
    }
    Ok(())
}

/// Parse each hours table's zone and check its rules.
/// The bot's `timezone`, UTC when it names none.
pub(super) fn parse_bot_zone(p: &Program) -> Result<Tz, LoadError> {
    match &p.bot.timezone {
        None => Ok(Tz::UTC),
        Some(name) => name
            .parse()
            .map_err(|_| LoadError::BadReference(format!("the bot's unknown time zone {name:?}"))),
    }
}

pub(super) fn parse_zones(p: &Program) -> Result<Vec<Tz>, LoadError> {
    p.hours
        .iter()
        .map(|h| {
            let bad = |why: String| LoadError::BadReference(format!("hours `{}`: {why}", h.name));
            let zone: Tz = h
                .zone
                .parse()
                .map_err(|_| bad(format!("unknown time zone {:?}", h.zone)))?;
            if let Some(rule) = h
                .weekly
                .iter()
                .find(|(day, from, to)| *day > 6 || from >= to || *to > 24 * 60)
            {
                return Err(bad(format!("malformed weekly rule {rule:?}")));
            }
            Ok(zone)
        })
        .collect()
}

//! Printing the bot-builder actions (docs/actions.md). Each statement with a block prints its
//! header (through `with_text`, since a message text may be a translation set), then its
//! children as [`Part`]s in source order, then its closing brace.

use super::{path_string, plain, template, Gap, Part, Printer};
use crate::syntax::ast::*;

/// The header of an action block: `word [TEXT][after_text] {`.
struct Head<'t> {
    word: String,
    text: Option<&'t Text>,
    after_text: String,
}

fn head(word: impl Into<String>) -> Head<'static> {
    Head {
        word: word.into(),
        text: None,
        after_text: String::new(),
    }
}

impl Printer<'_> {
    /// Header line(s) ending in `{`, the children one level deeper, and `}` at the span's end.
    fn action_block(&mut self, span: Span, indent: usize, gap: Gap, head: Head<'_>, parts: Vec<(usize, Part<'_>)>) {
        let suffix = format!("{} {{", head.after_text);
        self.with_text(indent, span.start, gap, head.word, head.text, &suffix);
        self.parts(indent + 1, parts);
        self.close(indent, span.end.saturating_sub(1), "}");
    }

    pub(super) fn menu(&mut self, menu: &Menu, span: Span, indent: usize, gap: Gap) {
        let word = match menu.style {
            MenuStyle::QuickReplies => "choose",
            MenuStyle::Buttons => "buttons",
        };
        let mut parts = Vec::new();
        if let Some(attr) = &menu.save {
            parts.push((attr.span.start, Part::Line(format!("save {}", attr.name))));
        }
        let after_text = match &menu.source {
            MenuSource::Static(options) => {
                parts.extend(options.iter().map(|o| (o.span.start, Part::Line(option(o)))));
                String::new()
            }
            MenuSource::Dynamic(items) => {
                if let Some(label) = &items.label {
                    parts.push((label.span.start, Part::Line(format!("label {}", template(label)))));
                }
                parts.extend(item_parts(&items.saves, &items.target, &items.empty));
                format!(" from {}", items.list.name)
            }
        };
        let head = Head {
            word: word.into(),
            text: menu.text.as_ref(),
            after_text,
        };
        self.action_block(span, indent, gap, head, parts);
    }

    pub(super) fn carousel(&mut self, carousel: &Carousel, span: Span, indent: usize, gap: Gap) {
        match carousel {
            Carousel::Static { cards, save } => {
                let mut parts: Vec<(usize, Part<'_>)> = cards.iter().map(|c| (c.span.start, Part::Card(c))).collect();
                if let Some(attr) = save {
                    parts.push((attr.span.start, Part::Line(format!("save {}", attr.name))));
                }
                self.action_block(span, indent, gap, head("carousel"), parts);
            }
            Carousel::Dynamic {
                list,
                card,
                saves,
                target,
                empty,
            } => {
                let fields = [
                    ("title", &card.title),
                    ("subtitle", &card.subtitle),
                    ("image", &card.image),
                    ("button", &card.button),
                ];
                let mut parts = template_lines(&fields);
                parts.extend(item_parts(saves, target, empty));
                let head = head(format!("carousel from {}", list.name));
                self.action_block(span, indent, gap, head, parts);
            }
        }
    }

    /// `card "Title" { subtitle ..; image ..; buttons }`
    pub(super) fn card(&mut self, card: &Card, indent: usize, gap: Gap) {
        let mut parts = template_lines(&[("subtitle", &card.subtitle), ("image", &card.image)]);
        parts.extend(card.buttons.iter().map(|o| (o.span.start, Part::Line(option(o)))));
        let head = head(format!("card {}", template(&card.title)));
        self.action_block(card.span, indent, gap, head, parts);
    }

    pub(super) fn email(&mut self, email: &Email, span: Span, indent: usize, gap: Gap) {
        let parts = template_lines(&[("to", &email.to), ("subject", &email.subject), ("body", &email.body)]);
        self.action_block(span, indent, gap, head("email"), parts);
    }

    pub(super) fn otp(&mut self, otp: &Otp, span: Span, indent: usize, gap: Gap) {
        let mut parts = Vec::new();
        match &otp.send {
            Some(OtpSend::Email(to)) => parts.push((to.span.start, Part::Line(format!("send email {}", template(to))))),
            Some(OtpSend::Call(api)) => parts.push((api.span.start, Part::Line(format!("send call {}", api.name)))),
            None => {}
        }
        if let Some(text) = &otp.prompt {
            parts.push((text.span().start, Part::Text { prefix: "prompt".into(), text }));
        }
        for (word, value) in [("digits", otp.digits), ("tries", otp.tries)] {
            if let Some((n, span)) = value {
                parts.push((span.start, Part::Line(format!("{word} {n}"))));
            }
        }
        parts.extend(targets(&[("ok", &otp.ok), ("fail", &otp.fail)]));
        self.action_block(span, indent, gap, head("otp"), parts);
    }

    pub(super) fn form(&mut self, form: &Form, span: Span, indent: usize, gap: Gap) {
        let parts = form
            .fields
            .iter()
            .map(|f| {
                let kind = f.kind.as_ref().map(|k| format!(" as {}", k.name)).unwrap_or_default();
                let line = format!("field {}{kind} {}", f.attr.name, template(&f.label));
                (f.span.start, Part::Line(line))
            })
            .collect();
        let head = Head {
            text: form.title.as_ref(),
            ..head("form")
        };
        self.action_block(span, indent, gap, head, parts);
    }

    pub(super) fn appointment(&mut self, a: &Appointment, span: Span, indent: usize, gap: Gap) {
        let mut parts = Vec::new();
        if let Some((api, path)) = &a.slots {
            let line = format!("slots call {} from {}", api.name, path_string("body", &path.steps));
            parts.push((api.span.start, Part::Line(line)));
        }
        parts.extend(template_lines(&[("label", &a.label)]));
        if let Some(text) = &a.prompt {
            parts.push((text.span().start, Part::Text { prefix: "prompt".into(), text }));
        }
        parts.extend(item_parts(&a.saves, &None, &None));
        if let Some(api) = &a.book {
            parts.push((api.span.start, Part::Line(format!("book call {}", api.name))));
        }
        parts.extend(targets(&[("booked", &a.booked), ("failed", &a.failed)]));
        self.action_block(span, indent, gap, head("appointment"), parts);
    }
}

/// `"Label" -> node`, `link "Label" "url"`, `postback "Label" "PAYLOAD" -> node`.
fn option(o: &MenuOption) -> String {
    match &o.kind {
        OptionKind::Branch(target) => format!("{} -> {}", template(&o.label), target.name),
        OptionKind::Link(url) => format!("link {} {}", template(&o.label), template(url)),
        OptionKind::Postback { payload, target } => {
            format!("postback {} {} -> {}", template(&o.label), plain(&payload.value), target.name)
        }
    }
}

/// `word "template"` lines for the fields that are present.
fn template_lines<'t>(fields: &[(&str, &Option<Template>)]) -> Vec<(usize, Part<'t>)> {
    fields
        .iter()
        .filter_map(|(word, value)| {
            let t = value.as_ref()?;
            Some((t.span.start, Part::Line(format!("{word} {}", template(t)))))
        })
        .collect()
}

/// `word -> node` lines for the targets that are present (`-> node` when `word` is empty).
fn targets<'t>(fields: &[(&str, &Option<Ident>)]) -> Vec<(usize, Part<'t>)> {
    fields
        .iter()
        .filter_map(|(word, target)| {
            let t = target.as_ref()?;
            let line = if word.is_empty() {
                format!("-> {}", t.name)
            } else {
                format!("{word} -> {}", t.name)
            };
            Some((t.span.start, Part::Line(line)))
        })
        .collect()
}

/// The shared tail of dynamic-data blocks: `save A = item.x`, `-> node`, `empty -> node`.
fn item_parts<'t>(saves: &[ItemSave], target: &Option<Ident>, empty: &Option<Ident>) -> Vec<(usize, Part<'t>)> {
    let mut parts: Vec<(usize, Part<'t>)> = saves
        .iter()
        .map(|s| {
            let line = format!("save {} = {}", s.attr.name, path_string("item", &s.path));
            (s.span.start, Part::Line(line))
        })
        .collect();
    parts.extend(targets(&[("", target), ("empty", empty)]));
    parts
}

/// One line of an `hours` item: `zone "..."`, `mon-fri 09:00-17:00`, `closed 2026-12-25, ...`.
pub(super) fn hours_rule(rule: &HoursRule) -> (usize, Part<'_>) {
    match rule {
        HoursRule::Zone(zone) => (zone.span.start, Part::Line(format!("zone {}", plain(&zone.value)))),
        HoursRule::Weekly {
            first_day,
            last_day,
            from,
            to,
            span,
        } => {
            let days = match last_day {
                Some(last) => format!("{}-{}", first_day.name, last.name),
                None => first_day.name.clone(),
            };
            (span.start, Part::Line(format!("{days} {}-{}", from.value, to.value)))
        }
        HoursRule::Closed(dates) => {
            let at = dates.first().map_or(0, |d| d.span.start);
            let dates: Vec<&str> = dates.iter().map(|d| d.value.as_str()).collect();
            (at, Part::Line(format!("closed {}", dates.join(", "))))
        }
    }
}

pub(super) fn media_kind(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Audio => "audio",
        MediaKind::Video => "video",
        MediaKind::File => "file",
    }
}

pub(super) fn transfer_kind(kind: TransferKind) -> &'static str {
    match kind {
        TransferKind::Department => "department",
        TransferKind::Agent => "agent",
    }
}

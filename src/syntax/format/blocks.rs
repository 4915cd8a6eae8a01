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
    fn action_block(
        &mut self,
        span: Span,
        indent: usize,
        gap: Gap,
        head: Head<'_>,
        parts: Vec<(usize, Part<'_>)>,
    ) {
        let suffix = format!("{} {{", head.after_text);
        self.with_text(indent, span.start(), gap, head.word, head.text, &suffix);
        self.parts(indent + 1, parts);
        self.close(indent, span.end().saturating_sub(1), "}");
    }

    pub(super) fn menu(&mut self, menu: &Menu, span: Span, indent: usize, gap: Gap) {
        let word = match menu.style {
            MenuStyle::QuickReplies => "choose",
            MenuStyle::Buttons => "buttons",
        };
        let mut parts = Vec::new();
        if let Some(attr) = &menu.save {
            parts.push((attr.span.start(), Part::Line(format!("save {}", attr.name))));
        }
        if let Some(t) = &menu.threshold {
            parts.push((t.span.start(), Part::Line(format!("threshold {}", t.value))));
        }
        let after_text = match &menu.source {
            MenuSource::Static(options) => {
                parts.extend(options.iter().map(|o| (o.span.start(), option(o))));
                String::new()
            }
            MenuSource::Dynamic(items) => {
                parts.extend(text_lines(&[("label", &items.label)]));
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
                let mut parts: Vec<(usize, Part<'_>)> = cards
                    .iter()
                    .map(|c| (c.span.start(), Part::Card(c)))
                    .collect();
                if let Some(attr) = save {
                    parts.push((attr.span.start(), Part::Line(format!("save {}", attr.name))));
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
                let mut parts = text_lines(&[
                    ("title", &card.title),
                    ("subtitle", &card.subtitle),
                    ("button", &card.button),
                ]);
                parts.extend(template_lines(&[("image", &card.image)]));
                parts.extend(item_parts(saves, target, empty));
                let head = head(format!("carousel from {}", list.name));
                self.action_block(span, indent, gap, head, parts);
            }
        }
    }

    /// `card "Title" { subtitle ..; image ..; buttons }`
    pub(super) fn card(&mut self, card: &Card, indent: usize, gap: Gap) {
        let mut parts = text_lines(&[("subtitle", &card.subtitle)]);
        parts.extend(template_lines(&[("image", &card.image)]));
        parts.extend(card.buttons.iter().map(|o| (o.span.start(), option(o))));
        let head = Head {
            text: Some(&card.title),
            ..head("card")
        };
        self.action_block(card.span, indent, gap, head, parts);
    }

    /// The bot's `messages` block: one `NAME TEXT` line (or block) per message.
    pub(super) fn messages(
        &mut self,
        entries: &[(Ident, Text)],
        span: Span,
        indent: usize,
        gap: Gap,
    ) {
        let parts = entries
            .iter()
            .map(|(name, text)| (name.span.start(), Part::text(name.name.clone(), text)))
            .collect();
        self.action_block(span, indent, gap, head("messages"), parts);
    }

    pub(super) fn email(&mut self, email: &Email, span: Span, indent: usize, gap: Gap) {
        let mut parts = template_lines(&[("to", &email.to)]);
        parts.extend(text_lines(&[
            ("subject", &email.subject),
            ("body", &email.body),
        ]));
        self.action_block(span, indent, gap, head("email"), parts);
    }

    pub(super) fn otp(&mut self, otp: &Otp, span: Span, indent: usize, gap: Gap) {
        let mut parts = Vec::new();
        match &otp.send {
            Some(OtpSend::Email(to)) => parts.push((
                to.span.start(),
                Part::Line(format!("send email {}", template(to))),
            )),
            Some(OtpSend::Call(api)) => parts.push((
                api.span.start(),
                Part::Line(format!("send call {}", api.name)),
            )),
            None => {}
        }
        if let Some(text) = &otp.prompt {
            parts.push((text.span().start(), Part::text("prompt", text)));
        }
        for (word, value) in [("digits", otp.digits), ("tries", otp.tries)] {
            if let Some((n, span)) = value {
                parts.push((span.start(), Part::Line(format!("{word} {n}"))));
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
                let kind = f
                    .kind
                    .as_ref()
                    .map(|k| format!(" as {}", k.name))
                    .unwrap_or_default();
                let prefix = format!("field {}{kind}", f.attr.name);
                (f.span.start(), Part::text(prefix, &f.label))
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
            let line = format!(
                "slots call {} from {}",
                api.name,
                path_string("body", &path.steps)
            );
            parts.push((api.span.start(), Part::Line(line)));
        }
        parts.extend(text_lines(&[("label", &a.label)]));
        if let Some(text) = &a.prompt {
            parts.push((text.span().start(), Part::text("prompt", text)));
        }
        parts.extend(item_parts(&a.saves, &None, &None));
        if let Some(api) = &a.book {
            parts.push((
                api.span.start(),
                Part::Line(format!("book call {}", api.name)),
            ));
        }
        parts.extend(targets(&[("booked", &a.booked), ("failed", &a.failed)]));
        self.action_block(span, indent, gap, head("appointment"), parts);
    }
}

/// `"Label" -> node`, `link "Label" "url"`, `postback "Label" "PAYLOAD" -> node`; the label
/// may be a translation set.
fn option(o: &MenuOption) -> Part<'_> {
    let (prefix, suffix) = match &o.kind {
        OptionKind::Branch(target) => match &o.intent {
            Some(intent) => (
                String::new(),
                format!(" intent {} -> {}", intent.name, target.name),
            ),
            None => (String::new(), format!(" -> {}", target.name)),
        },
        OptionKind::Link(url) => ("link".to_string(), format!(" {}", template(url))),
        OptionKind::Postback { payload, target } => (
            "postback".to_string(),
            format!(" {} -> {}", plain(&payload.value), target.name),
        ),
    };
    Part::Text {
        prefix,
        text: &o.label,
        suffix,
    }
}

/// `word TEXT` lines (or blocks, for translation sets) for the fields that are present.
fn text_lines<'t>(fields: &[(&str, &'t Option<Text>)]) -> Vec<(usize, Part<'t>)> {
    fields
        .iter()
        .filter_map(|(word, value)| {
            let t = value.as_ref()?;
            Some((t.span().start(), Part::text(*word, t)))
        })
        .collect()
}

/// `word "template"` lines for the fields that are present.
fn template_lines<'t>(fields: &[(&str, &Option<Template>)]) -> Vec<(usize, Part<'t>)> {
    fields
        .iter()
        .filter_map(|(word, value)| {
            let t = value.as_ref()?;
            Some((
                t.span.start(),
                Part::Line(format!("{word} {}", template(t))),
            ))
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
            Some((t.span.start(), Part::Line(line)))
        })
        .collect()
}

/// The shared tail of dynamic-data blocks: `save A = item.x`, `-> node`, `empty -> node`.
fn item_parts<'t>(
    saves: &[ItemSave],
    target: &Option<Ident>,
    empty: &Option<Ident>,
) -> Vec<(usize, Part<'t>)> {
    let mut parts: Vec<(usize, Part<'t>)> = saves
        .iter()
        .map(|s| {
            let line = format!("save {} = {}", s.attr.name, path_string("item", &s.path));
            (s.span.start(), Part::Line(line))
        })
        .collect();
    parts.extend(targets(&[("", target), ("empty", empty)]));
    parts
}

/// One line of an `hours` item: `zone "..."`, `mon-fri 09:00-17:00`, `closed 2026-12-25, ...`.
pub(super) fn hours_rule(rule: &HoursRule) -> (usize, Part<'_>) {
    match rule {
        HoursRule::Zone(zone) => (
            zone.span.start(),
            Part::Line(format!("zone {}", plain(&zone.value))),
        ),
        HoursRule::Weekly {
            first_day,
            last_day,
            from,
            to,
            span,
        } => {
            let days = match last_day {
                Some(last) => format!("{}-{}", first_day.name, last.name),
                None => first_day.name.to_string(),
            };
            (
                span.start(),
                Part::Line(format!("{days} {}-{}", from.value, to.value)),
            )
        }
        HoursRule::Closed(dates) => {
            let at = dates.first().map_or(0, |d| d.span.start());
            let dates: Vec<&str> = dates.iter().map(|d| d.value.as_str()).collect();
            (at, Part::Line(format!("closed {}", dates.join(", "))))
        }
    }
}

pub(super) fn transfer_kind(kind: TransferKind) -> &'static str {
    match kind {
        TransferKind::Department => "department",
        TransferKind::Agent => "agent",
    }
}

#[cfg(test)]
mod tests {
    //! The printed form of every action, pinned to the syntax of docs/actions.md. The AST is
    //! built by hand (spans only need to increase in source order).

    use std::cell::Cell;

    use super::super::{Layout, Printer};
    use crate::syntax::ast::*;

    /// Hands out increasing spans, so children keep the order they are built in.
    struct Pos(Cell<usize>);

    impl Pos {
        fn span(&self) -> Span {
            let start = self.0.get();
            self.0.set(start + 10);
            Span::new(start, start + 5)
        }
        fn id(&self, name: &str) -> Ident {
            Ident {
                name: name.into(),
                span: self.span(),
            }
        }
        fn tpl(&self, text: &str) -> Template {
            Template {
                parts: vec![TemplatePart::Text(text.into())],
                span: self.span(),
            }
        }
        fn lit(&self, text: &str) -> StrLit {
            StrLit {
                value: text.into(),
                span: self.span(),
            }
        }
        fn text(&self, text: &str) -> Text {
            Text::Plain(self.tpl(text))
        }
        fn stmt(&self, kind: StmtKind) -> Stmt {
            Stmt {
                kind,
                span: self.span(),
            }
        }
        fn option(&self, label: &str, kind: OptionKind) -> MenuOption {
            MenuOption {
                label: self.text(label),
                kind,
                intent: None,
                span: self.span(),
            }
        }
    }

    fn print(items: &[Item]) -> String {
        let mut printer = Printer::new("");
        for item in items {
            printer.item(item, super::Gap::Force);
        }
        let mut layout = Layout::new("", Vec::new());
        layout.push(printer.lines);
        layout.finish()
    }

    fn node(p: &Pos, name: &str, body: Vec<Stmt>) -> Item {
        Item::Node(Node {
            name: p.id(name),
            body,
            span: p.span(),
        })
    }

    #[test]
    fn messages_menus_and_carousels() {
        let p = Pos(Cell::new(0));
        let say = p.stmt(StmtKind::Say(Text::Translated {
            texts: vec![
                (p.id("en"), p.tpl("Hello {name}!")),
                (p.id("es"), p.tpl("¡Hola!")),
            ],
            span: p.span(),
        }));
        let choose = p.stmt(StmtKind::Menu(Box::new(Menu {
            style: MenuStyle::QuickReplies,
            text: Some(p.text("What can I help you with?")),
            source: MenuSource::Static(vec![
                p.option("Track an order", OptionKind::Branch(p.id("track"))),
                p.option("Talk to a person", OptionKind::Branch(p.id("human"))),
            ]),
            save: Some(p.id("topic")),
            threshold: None,
        })));
        let buttons = p.stmt(StmtKind::Menu(Box::new(Menu {
            style: MenuStyle::Buttons,
            text: Some(p.text("Pick an option")),
            source: MenuSource::Static(vec![
                p.option(
                    "Read the FAQ",
                    OptionKind::Link(p.tpl("https://acme.test/faq")),
                ),
                p.option(
                    "Call me back",
                    OptionKind::Postback {
                        payload: p.lit("CALLBACK"),
                        target: p.id("callback"),
                    },
                ),
            ]),
            save: None,
            threshold: None,
        })));
        let dynamic = p.stmt(StmtKind::Menu(Box::new(Menu {
            style: MenuStyle::QuickReplies,
            text: Some(p.text("Which store?")),
            source: MenuSource::Dynamic(DynamicItems {
                list: p.id("store_list"),
                label: Some(Text::Plain(Template {
                    parts: vec![
                        TemplatePart::Ref(Ref {
                            kind: RefKind::Item(vec![PathStep::Field("name".into())]),
                            span: p.span(),
                        }),
                        TemplatePart::Text(" store".into()),
                    ],
                    span: p.span(),
                })),
                saves: vec![ItemSave {
                    attr: p.id("store_id"),
                    path: vec![PathStep::Field("id".into())],
                    span: p.span(),
                }],
                target: Some(p.id("store_chosen")),
                empty: Some(p.id("no_stores")),
                span: p.span(),
            }),
            save: None,
            threshold: None,
        })));
        let carousel = p.stmt(StmtKind::Carousel(Box::new(Carousel::Static {
            cards: vec![Card {
                title: p.text("Classic"),
                subtitle: Some(p.text("$9 a month")),
                image: None,
                buttons: vec![p.option("Choose Classic", OptionKind::Branch(p.id("classic")))],
                span: p.span(),
            }],
            save: None,
        })));
        let out = print(&[node(
            &p,
            "welcome",
            vec![say, choose, buttons, dynamic, carousel],
        )]);
        assert_eq!(
            out,
            r#"node welcome {
  say {
    en "Hello {{name}}!"
    es "¡Hola!"
  }
  choose "What can I help you with?" {
    "Track an order" -> track
    "Talk to a person" -> human
    save topic
  }
  buttons "Pick an option" {
    link "Read the FAQ" "https://acme.test/faq"
    postback "Call me back" "CALLBACK" -> callback
  }
  choose "Which store?" from store_list {
    label "{item.name} store"
    save store_id = item.id
    -> store_chosen
    empty -> no_stores
  }
  carousel {
    card "Classic" {
      subtitle "$9 a month"
      "Choose Classic" -> classic
    }
  }
}
"#
        );
    }

    #[test]
    fn workflow_actions() {
        let p = Pos(Cell::new(0));
        let email = p.stmt(StmtKind::Email(Box::new(Email {
            to: Some(p.tpl("a@b.test")),
            subject: Some(p.text("Hi")),
            body: Some(p.text("Body")),
        })));
        let otp = p.stmt(StmtKind::Otp(Box::new(Otp {
            send: Some(OtpSend::Call(p.id("sms"))),
            prompt: Some(p.text("Code?")),
            digits: Some((6, p.span())),
            tries: Some((3, p.span())),
            ok: Some(p.id("verified")),
            fail: Some(p.id("locked")),
        })));
        let form = p.stmt(StmtKind::Form(Box::new(Form {
            title: Some(p.text("Book a call")),
            fields: vec![FormField {
                attr: p.id("people"),
                kind: Some(p.id("number")),
                label: p.text("How many?"),
                span: p.span(),
            }],
        })));
        let media = p.stmt(StmtKind::Media {
            kind: MediaKind::Image,
            url: p.tpl("https://x.test/m.png"),
            caption: Some(Box::new(p.text("Map"))),
        });
        let transfer = p.stmt(StmtKind::Transfer {
            kind: TransferKind::Department,
            to: p.tpl("Billing"),
            message: Some(Box::new(p.text("One moment"))),
        });
        let appointment = p.stmt(StmtKind::Appointment(Box::new(Appointment {
            slots: Some((
                p.id("free_slots"),
                SavePath {
                    steps: vec![PathStep::Field("slots".into())],
                    span: p.span(),
                },
            )),
            label: None,
            prompt: Some(p.text("Which time?")),
            saves: vec![ItemSave {
                attr: p.id("slot_id"),
                path: vec![PathStep::Field("id".into())],
                span: p.span(),
            }],
            book: Some(p.id("book_slot")),
            booked: Some(p.id("confirmed")),
            failed: Some(p.id("no_booking")),
        })));
        let goal = p.stmt(StmtKind::Goal(p.lit("order_tracked")));
        let lang = p.stmt(StmtKind::SetSys {
            name: p.id("language"),
            value: Box::new(Expr {
                kind: ExprKind::Lit(Literal::String("es".into())),
                span: p.span(),
            }),
        });
        let run = p.stmt(StmtKind::Run {
            flow: p.id("verify"),
            args: vec![Expr {
                kind: ExprKind::Ref(Ref {
                    kind: RefKind::Attr("email".into()),
                    span: p.span(),
                }),
                span: p.span(),
            }],
        });
        let ret = p.stmt(StmtKind::Return);
        let out = print(&[node(
            &p,
            "n",
            vec![
                email,
                otp,
                form,
                media,
                transfer,
                appointment,
                goal,
                lang,
                run,
                ret,
            ],
        )]);
        assert_eq!(
            out,
            r#"node n {
  email {
    to "a@b.test"
    subject "Hi"
    body "Body"
  }
  otp {
    send call sms
    prompt "Code?"
    digits 6
    tries 3
    ok -> verified
    fail -> locked
  }
  form "Book a call" {
    field people as number "How many?"
  }
  image "https://x.test/m.png" "Map"
  transfer department "Billing" "One moment"
  appointment {
    slots call free_slots from body.slots
    prompt "Which time?"
    save slot_id = item.id
    book call book_slot
    booked -> confirmed
    failed -> no_booking
  }
  goal "order_tracked"
  set sys.language = "es"
  run verify(email)
  return
}
"#
        );
    }

    #[test]
    fn bot_profile_hours_flows_and_test_lines() {
        let p = Pos(Cell::new(0));
        let bot = Item::Bot(Bot {
            name: p.lit("Acme"),
            settings: vec![
                BotSetting::Start(p.id("welcome")),
                BotSetting::Greeting(p.text("Hi")),
                BotSetting::Avatar(p.tpl("https://acme.test/a.png")),
                BotSetting::Fallback(p.text("Sorry?")),
                BotSetting::Languages(vec![p.id("en"), p.id("es")]),
            ],
            span: p.span(),
        });
        let hours = Item::Hours(Hours {
            name: p.id("support"),
            rules: vec![
                HoursRule::Zone(p.lit("America/Chicago")),
                HoursRule::Weekly {
                    first_day: p.id("mon"),
                    last_day: Some(p.id("fri")),
                    from: p.lit("09:00"),
                    to: p.lit("17:00"),
                    span: p.span(),
                },
                HoursRule::Closed(vec![p.lit("2026-12-25"), p.lit("2027-01-01")]),
            ],
            span: p.span(),
        });
        let check = Node {
            name: p.id("check"),
            body: vec![p.stmt(StmtKind::Branch(Branch {
                arms: vec![BranchArm {
                    cond: Expr {
                        kind: ExprKind::Open(p.id("support")),
                        span: p.span(),
                    },
                    target: p.id("ok"),
                    span: p.span(),
                }]
                .into(),
                otherwise: Some(p.id("bad")),
                otherwise_span: Some(p.span()),
            }))],
            span: p.span(),
        };
        let ok = Node {
            name: p.id("ok"),
            body: vec![p.stmt(StmtKind::Return)],
            span: p.span(),
        };
        let flow = Item::Flow(Flow {
            name: p.id("verify"),
            params: vec![p.id("address")],
            nodes: vec![check, ok],
            span: p.span(),
        });
        let steps = vec![
            TestStepKind::Clock(p.lit("2026-11-27T15:00:00-06:00")),
            TestStepKind::Language(p.lit("es")),
            TestStepKind::ExpectChoices(vec![p.lit("A"), p.lit("B")]),
            TestStepKind::ExpectTransfer(p.lit("Billing")),
            TestStepKind::ExpectEmail {
                to: p.lit("to@x.test"),
                subject: p.lit("Subject"),
            },
            TestStepKind::ExpectGoal(p.lit("g")),
            TestStepKind::ExpectMedia {
                kind: MediaKind::Video,
                url: p.lit("https://x.test/v.mp4"),
            },
        ];
        let test = Item::Test(Test {
            name: p.lit("t"),
            steps: steps
                .into_iter()
                .map(|kind| TestStep {
                    kind,
                    span: p.span(),
                })
                .collect(),
            span: p.span(),
        });
        let out = print(&[bot, hours, flow, test]);
        assert_eq!(
            out,
            r#"bot "Acme" {
  start welcome
  greeting "Hi"
  avatar "https://acme.test/a.png"
  fallback "Sorry?"
  languages en, es
}

hours support {
  zone "America/Chicago"
  mon-fri 09:00-17:00
  closed 2026-12-25, 2027-01-01
}

flow verify(address) {
  node check {
    if open(support) -> ok
    else -> bad
  }

  node ok {
    return
  }
}

test "t" {
  clock "2026-11-27T15:00:00-06:00"
  language "es"
  expect choices "A", "B"
  expect transfer "Billing"
  expect email "to@x.test" "Subject"
  expect goal "g"
  expect media video "https://x.test/v.mp4"
}
"#
        );
    }
}

//! Parser tests for the bot-builder actions of docs/actions.md: every example block, one-line
//! forms, translation sets, contextual keywords, and friendly syntax errors.

use chatflow::diagnostic::Code;
use chatflow::syntax::ast::*;
use chatflow::syntax::{parse, parse_with_pest_only};

/// Parses and insists on no diagnostics; also checks the fast path agrees with pest.
fn ok(src: &str) -> File {
    let (file, diags) = parse(src);
    assert!(
        diags.is_empty(),
        "unexpected diagnostics for {src:?}: {diags:#?}"
    );
    assert_eq!(
        (file.clone(), diags),
        parse_with_pest_only(src),
        "fast path and pest disagree"
    );
    file
}

fn slice(src: &str, span: Span) -> &str {
    &src[span.start()..span.end()]
}

/// The statements of the only (or first) node.
fn stmts(file: &File) -> &[Stmt] {
    file.items
        .iter()
        .find_map(|i| match i {
            Item::Node(n) => Some(&n.body[..]),
            _ => None,
        })
        .expect("a node")
}

/// Parses `body` as the statements of one node.
fn in_node(body: &str) -> (String, File) {
    let src = format!("node n {{\n{body}\n}}\n");
    let file = ok(&src);
    (src, file)
}

fn plain(t: &Template) -> String {
    t.parts
        .iter()
        .map(|p| match p {
            TemplatePart::Text(s) => s.to_string(),
            TemplatePart::Ref(r) => format!("{{{:?}}}", r.kind),
        })
        .collect()
}

/// The template of a plain (untranslated) text.
fn tpl(t: &Text) -> &Template {
    match t {
        Text::Plain(t) => t,
        Text::Translated { .. } => panic!("a plain text, not {t:?}"),
    }
}

fn text_plain(t: &Text) -> String {
    match t {
        Text::Plain(t) => plain(t),
        Text::Translated { .. } => panic!("expected a plain text, got {t:?}"),
    }
}

const BOT: &str = r#"bot "Acme support" {
  start welcome
  greeting "Hi, I'm Ava, Acme's assistant."   # said once, before the start node runs
  avatar "https://acme.test/ava.png"          # profile picture, reported in the `profile` event
  fallback "Sorry, I didn't catch that."      # said when an answer matches no option
  languages en, es                            # declared languages; the first is the default
}
"#;

#[test]
fn bot_profile() {
    let file = ok(BOT);
    let Item::Bot(bot) = &file.items[0] else {
        panic!()
    };
    assert_eq!(bot.settings.len(), 5);
    assert!(matches!(&bot.settings[0], BotSetting::Start(id) if id.name == "welcome"));
    assert!(
        matches!(&bot.settings[1], BotSetting::Greeting(t) if text_plain(t) == "Hi, I'm Ava, Acme's assistant.")
    );
    let BotSetting::Avatar(a) = &bot.settings[2] else {
        panic!()
    };
    assert_eq!(slice(BOT, a.span), "\"https://acme.test/ava.png\"");
    assert!(
        matches!(&bot.settings[3], BotSetting::Fallback(t) if text_plain(t).starts_with("Sorry"))
    );
    let BotSetting::Languages(langs) = &bot.settings[4] else {
        panic!()
    };
    let names: Vec<_> = langs.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["en", "es"]);
    assert_eq!(slice(BOT, langs[1].span), "es");
    // One line, and language codes that are reserved words elsewhere (`is` is Icelandic).
    let file = ok(r#"bot "b" { start a; greeting { en "Hi" es "Hola" }; languages en, is }"#);
    let Item::Bot(bot) = &file.items[0] else {
        panic!()
    };
    assert!(
        matches!(&bot.settings[1], BotSetting::Greeting(Text::Translated { texts, .. }) if texts.len() == 2)
    );
    assert!(matches!(&bot.settings[2], BotSetting::Languages(l) if l[1].name == "is"));
}

#[test]
fn translation_sets_everywhere() {
    let body = r#"  say {
    en "Hello {name}!"
    es "¡Hola {name}!"
  }
  say { en "Hi" es "Hola" }
  say { en "Hi"; es "Hola" }
  ask city as text { en "City?" es "¿Ciudad?" }
  choose { en "Pick" es "Elige" } { "A" -> n }
  buttons { en "Pick" } { "A" -> n }
  form { en "Book" } { field name "Name" }
  transfer agent "a@b.test" { en "Wait" es "Espera" }
  otp { prompt { en "Code?" es "¿Código?" }; ok -> n; fail -> n }
  appointment { prompt { en "When?" }; booked -> n }"#;
    let (src, file) = in_node(body);
    let s = stmts(&file);
    assert_eq!(s.len(), 10);
    let StmtKind::Say(Text::Translated { texts, span }) = &s[0].kind else {
        panic!("{:?}", s[0])
    };
    assert_eq!(
        slice(&src, *span),
        "{\n    en \"Hello {name}!\"\n    es \"¡Hola {name}!\"\n  }"
    );
    assert_eq!(texts[0].0.name, "en");
    assert_eq!(slice(&src, texts[1].0.span), "es");
    assert_eq!(slice(&src, texts[1].1.span), "\"¡Hola {name}!\"");
    assert!(slice(&src, s[0].span).starts_with("say {") && slice(&src, s[0].span).ends_with('}'));
    for st in &s[1..3] {
        assert!(
            matches!(&st.kind, StmtKind::Say(Text::Translated { texts, .. }) if texts.len() == 2)
        );
    }
    assert!(
        matches!(&s[3].kind, StmtKind::Ask { prompt: Some(p), kind: Some(k), .. } if matches!(**p, Text::Translated { .. }) && k.name == "text")
    );
    assert!(matches!(
        menu(&s[4].kind),
        Some(Menu {
            text: Some(Text::Translated { .. }),
            ..
        })
    ));
    assert!(matches!(
        menu(&s[5].kind),
        Some(Menu {
            style: MenuStyle::Buttons,
            text: Some(Text::Translated { .. }),
            ..
        })
    ));
    assert!(matches!(
        &s[6].kind,
        StmtKind::Form(f) if matches!(f.title, Some(Text::Translated { .. }))
    ));
    assert!(matches!(
        &s[7].kind,
        StmtKind::Transfer {
            message: Some(m),
            kind: TransferKind::Agent,
            ..
        } if matches!(**m, Text::Translated { .. })
    ));
    assert!(matches!(
        otp(&s[8].kind),
        Some(Otp {
            prompt: Some(Text::Translated { .. }),
            ..
        })
    ));
    assert!(matches!(
        appointment(&s[9].kind),
        Some(Appointment {
            prompt: Some(Text::Translated { .. }),
            ..
        })
    ));
}

#[test]
fn set_sys_language() {
    let (src, file) = in_node(r#"set sys.language = "es""#);
    let StmtKind::SetSys { name, value } = &stmts(&file)[0].kind else {
        panic!()
    };
    assert_eq!(name.name, "language");
    assert_eq!(slice(&src, name.span), "language");
    assert_eq!(slice(&src, value.span), "\"es\"");
    assert_eq!(
        slice(&src, stmts(&file)[0].span),
        r#"set sys.language = "es""#
    );
}

#[test]
fn quick_replies_and_buttons() {
    let body = r#"choose "What can I help you with?" {
  "Track an order" -> track
  "Talk to a person" -> human
}
buttons "Pick an option" {
  link "Read the FAQ" "https://acme.test/faq"
  postback "Call me back" "CALLBACK" -> callback
  "Open a ticket" -> ticket
  save picked
}"#;
    let (src, file) = in_node(body);
    let s = stmts(&file);
    assert_eq!(s.len(), 2);
    let StmtKind::Menu(m) = &s[0].kind else {
        panic!()
    };
    assert_eq!(m.style, MenuStyle::QuickReplies);
    assert_eq!(
        text_plain(m.text.as_ref().unwrap()),
        "What can I help you with?"
    );
    let MenuSource::Static(opts) = &m.source else {
        panic!()
    };
    assert_eq!(opts.len(), 2);
    assert_eq!(plain(tpl(&opts[0].label)), "Track an order");
    assert!(matches!(&opts[1].kind, OptionKind::Branch(t) if t.name == "human"));
    assert_eq!(slice(&src, opts[1].span), "\"Talk to a person\" -> human");
    assert!(slice(&src, s[0].span).starts_with("choose") && slice(&src, s[0].span).ends_with('}'));
    let StmtKind::Menu(b) = &s[1].kind else {
        panic!()
    };
    assert_eq!(b.style, MenuStyle::Buttons);
    assert_eq!(b.save.as_ref().map(|s| s.name.as_str()), Some("picked"));
    let MenuSource::Static(opts) = &b.source else {
        panic!()
    };
    assert!(
        matches!(&opts[0].kind, OptionKind::Link(url) if plain(url) == "https://acme.test/faq")
    );
    assert_eq!(
        slice(&src, opts[0].span),
        "link \"Read the FAQ\" \"https://acme.test/faq\""
    );
    let OptionKind::Postback { payload, target } = &opts[1].kind else {
        panic!()
    };
    assert_eq!(payload.value, "CALLBACK");
    assert_eq!(target.name, "callback");
    assert_eq!(slice(&src, target.span), "callback");
    // One-line form.
    let (_, file) = in_node(r#"choose "Q" { "A" -> a; "B" -> b }; buttons "X" { link "L" "u" }"#);
    assert_eq!(stmts(&file).len(), 2);
    // No text at all: the compiler decides whether that is fine.
    let (_, file) = in_node(r#"choose { "A" -> a }"#);
    assert!(matches!(
        menu(&stmts(&file)[0].kind),
        Some(Menu { text: None, .. })
    ));
    // An empty block parses; the compiler reports `no_options`.
    let (_, file) = in_node(r#"choose "Q" {}"#);
    assert!(
        matches!(menu(&stmts(&file)[0].kind), Some(Menu { source: MenuSource::Static(o), .. }) if o.is_empty())
    );
}

#[test]
fn carousel_of_cards() {
    let body = r#"carousel {
  card "Classic" {
    subtitle "$9 a month"
    image "https://acme.test/classic.png"
    link "Details" "https://acme.test/classic"
    "Choose Classic" -> classic
  }
  card "Pro" {
    subtitle "$29 a month"
    "Choose Pro" -> pro
  }
}"#;
    let (src, file) = in_node(body);
    let Some(Carousel::Static { cards, save }) = carousel(&stmts(&file)[0].kind) else {
        panic!()
    };
    assert!(save.is_none());
    assert_eq!(cards.len(), 2);
    assert_eq!(plain(tpl(&cards[0].title)), "Classic");
    assert_eq!(
        plain(tpl(cards[0].subtitle.as_ref().unwrap())),
        "$9 a month"
    );
    assert_eq!(
        plain(cards[0].image.as_ref().unwrap()),
        "https://acme.test/classic.png"
    );
    assert_eq!(cards[0].buttons.len(), 2);
    assert!(matches!(&cards[0].buttons[0].kind, OptionKind::Link(_)));
    assert!(matches!(&cards[1].buttons[0].kind, OptionKind::Branch(t) if t.name == "pro"));
    assert!(slice(&src, cards[1].span).starts_with("card \"Pro\" {"));
    assert!(slice(&src, cards[1].span).ends_with('}'));
    let (_, file) = in_node(
        r#"carousel { card "A" { "Go" -> a }; card "B" { image "x"; "Go" -> b }; save pick }"#,
    );
    let Some(Carousel::Static { cards, save }) = carousel(&stmts(&file)[0].kind) else {
        panic!()
    };
    assert_eq!(cards.len(), 2);
    assert_eq!(save.as_ref().unwrap().name, "pick");
}

const DYNAMIC: &str = r#"api stores { live; get "https://acme.test/stores?zip={zip}"; save store_list = body.stores }

node pick_store {
  call stores
  choose "Which store?" from store_list {
    label "{item.name} ({item.city})"
    save store_id = item.id
    save store_name = item.name
    -> store_chosen
    empty -> no_stores
  }
}
"#;

#[test]
fn dynamic_quick_replies() {
    let file = ok(DYNAMIC);
    let Item::Node(n) = &file.items[1] else {
        panic!()
    };
    let StmtKind::Menu(m) = &n.body[1].kind else {
        panic!()
    };
    let MenuSource::Dynamic(d) = &m.source else {
        panic!()
    };
    assert_eq!(d.list.name, "store_list");
    let label = tpl(d.label.as_ref().unwrap());
    assert_eq!(
        label.parts[0],
        TemplatePart::Ref(Ref {
            kind: RefKind::Item(vec![PathStep::Field("name".into())]),
            span: Span::new(label.span.start() + 1, label.span.start() + 12),
        })
    );
    assert_eq!(slice(DYNAMIC, label.span), "\"{item.name} ({item.city})\"");
    assert_eq!(d.saves.len(), 2);
    assert_eq!(d.saves[0].attr.name, "store_id");
    assert_eq!(d.saves[0].path, vec![PathStep::Field("id".into())]);
    assert_eq!(
        slice(DYNAMIC, d.saves[1].span),
        "save store_name = item.name"
    );
    assert_eq!(d.target.as_ref().unwrap().name, "store_chosen");
    assert_eq!(d.empty.as_ref().unwrap().name, "no_stores");
    assert!(slice(DYNAMIC, d.span).starts_with("from store_list {"));
    assert!(slice(DYNAMIC, d.span).ends_with('}'));
    // One line; the whole element; index steps.
    let (src, file) = in_node(
        r#"buttons "X" from items { label "{item}"; save a = item; save b = item.tags[0]["x y"]; -> n; empty -> n }"#,
    );
    let Some(Menu {
        source: MenuSource::Dynamic(d),
        style: MenuStyle::Buttons,
        ..
    }) = menu(&stmts(&file)[0].kind)
    else {
        panic!()
    };
    assert!(
        matches!(&tpl(d.label.as_ref().unwrap()).parts[0], TemplatePart::Ref(Ref { kind: RefKind::Item(p), .. }) if p.is_empty())
    );
    assert!(d.saves[0].path.is_empty());
    assert_eq!(
        d.saves[1].path,
        vec![
            PathStep::Field("tags".into()),
            PathStep::Index(0),
            PathStep::Field("x y".into())
        ]
    );
    assert_eq!(
        slice(&src, d.saves[1].span),
        "save b = item.tags[0][\"x y\"]"
    );
}

#[test]
fn dynamic_carousel() {
    let (src, file) = in_node(
        r#"carousel from products { title "{item.name}"; subtitle "{item.price}"; image "{item.img}"; button "Buy"; save sku = item.sku; -> bought; empty -> none }"#,
    );
    let Some(Carousel::Dynamic {
        list,
        card,
        saves,
        target,
        empty,
    }) = carousel(&stmts(&file)[0].kind)
    else {
        panic!()
    };
    assert_eq!(list.name, "products");
    assert_eq!(
        slice(&src, card.title.as_ref().unwrap().span()),
        "\"{item.name}\""
    );
    assert!(card.subtitle.is_some() && card.image.is_some());
    assert_eq!(plain(tpl(card.button.as_ref().unwrap())), "Buy");
    assert_eq!(saves[0].attr.name, "sku");
    assert_eq!(target.as_ref().unwrap().name, "bought");
    assert_eq!(empty.as_ref().unwrap().name, "none");
}

#[test]
fn item_refs_in_templates() {
    let (_, file) = in_node(r#"say "{item} {item.a[0]} {item.b.c} {items}""#);
    let StmtKind::Say(Text::Plain(t)) = &stmts(&file)[0].kind else {
        panic!()
    };
    let refs: Vec<_> = t
        .parts
        .iter()
        .filter_map(|p| match p {
            TemplatePart::Ref(r) => Some(r.kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        refs,
        vec![
            RefKind::Item(vec![]),
            RefKind::Item(vec![PathStep::Field("a".into()), PathStep::Index(0)]),
            RefKind::Item(vec![
                PathStep::Field("b".into()),
                PathStep::Field("c".into())
            ]),
            RefKind::Attr("items".into()),
        ]
    );
    for bad in ["{item.}", "{item[x]}", "{item.a b}", "{item[]}"] {
        let (_, d) = parse(&format!("node n {{ say \"{bad}\" }}"));
        assert_eq!(d.len(), 1, "{bad}: {d:#?}");
        assert_eq!(d[0].code, Code::BadTemplateRef, "{bad}");
    }
}

#[test]
fn send_email() {
    let body = r#"email {
  to "{email}"
  subject "Your ticket {ticket_id}"
  body "Hi {name}, we have opened ticket {ticket_id} for you."
}"#;
    let (src, file) = in_node(body);
    let StmtKind::Email(e) = &stmts(&file)[0].kind else {
        panic!()
    };
    assert_eq!(slice(&src, e.to.as_ref().unwrap().span), "\"{email}\"");
    assert!(plain(tpl(e.subject.as_ref().unwrap())).starts_with("Your ticket"));
    assert!(e.body.is_some());
    let (_, file) = in_node(r#"email { to "a@b.test"; subject "S" }"#);
    assert!(matches!(
        email(&stmts(&file)[0].kind),
        Some(Email { body: None, .. })
    ));
}

#[test]
fn one_time_passwords() {
    let body = r#"otp {
  send email "{email}"              # or: send call sms_api   (the API reads {sys.otp_code})
  prompt "Enter the 6-digit code we emailed you"
  digits 6                          # default 6
  tries 3                           # default 3
  ok -> verified
  fail -> locked
}"#;
    let (src, file) = in_node(body);
    let StmtKind::Otp(o) = &stmts(&file)[0].kind else {
        panic!()
    };
    assert!(matches!(&o.send, Some(OtpSend::Email(t)) if slice(&src, t.span) == "\"{email}\""));
    assert!(text_plain(o.prompt.as_ref().unwrap()).starts_with("Enter"));
    let (digits, span) = o.digits.unwrap();
    assert_eq!(digits, 6);
    assert_eq!(slice(&src, span), "6");
    assert_eq!(o.tries.map(|t| t.0), Some(3));
    assert_eq!(o.ok.as_ref().unwrap().name, "verified");
    assert_eq!(slice(&src, o.fail.as_ref().unwrap().span), "locked");
    // Lenient: missing parts are left to the compiler.
    let (_, file) = in_node("otp { send call sms_api; ok -> v }");
    let StmtKind::Otp(o) = &stmts(&file)[0].kind else {
        panic!()
    };
    assert!(matches!(&o.send, Some(OtpSend::Call(api)) if api.name == "sms_api"));
    assert!(o.fail.is_none() && o.digits.is_none() && o.prompt.is_none());
}

#[test]
fn forms() {
    let body = r#"form "Book a call" {
  field name as name "Your name"
  field email as email "Your email"
  field people as number "How many people?"
}"#;
    let (src, file) = in_node(body);
    let StmtKind::Form(f) = &stmts(&file)[0].kind else {
        panic!()
    };
    assert_eq!(text_plain(f.title.as_ref().unwrap()), "Book a call");
    assert_eq!(f.fields.len(), 3);
    assert_eq!(f.fields[1].attr.name, "email");
    assert_eq!(f.fields[1].kind.as_ref().unwrap().name, "email");
    assert_eq!(plain(tpl(&f.fields[2].label)), "How many people?");
    assert_eq!(
        slice(&src, f.fields[2].span),
        "field people as number \"How many people?\""
    );
    let (_, file) = in_node(r#"form { field a "A"; field b as date "B" }"#);
    let StmtKind::Form(f) = &stmts(&file)[0].kind else {
        panic!()
    };
    assert!(f.title.is_none() && f.fields[0].kind.is_none());
}

#[test]
fn media() {
    let body = r#"image "https://acme.test/map.png" "Our store"     # optional caption
audio "https://acme.test/hello.mp3"
video "https://acme.test/howto.mp4" "How to reset"
file "https://acme.test/terms.pdf" "Terms.pdf""#;
    let (src, file) = in_node(body);
    let s = stmts(&file);
    let kinds: Vec<_> = s
        .iter()
        .map(|st| match &st.kind {
            StmtKind::Media { kind, .. } => *kind,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            MediaKind::Image,
            MediaKind::Audio,
            MediaKind::Video,
            MediaKind::File
        ]
    );
    let StmtKind::Media { url, caption, .. } = &s[0].kind else {
        panic!()
    };
    assert_eq!(plain(url), "https://acme.test/map.png");
    assert_eq!(
        slice(&src, caption.as_ref().unwrap().span()),
        "\"Our store\""
    );
    assert_eq!(
        slice(&src, s[0].span),
        "image \"https://acme.test/map.png\" \"Our store\""
    );
    assert!(matches!(&s[1].kind, StmtKind::Media { caption: None, .. }));
}

#[test]
fn chat_transfer() {
    let body = r#"transfer department "Billing" "Connecting you to our billing team..."
transfer agent "alice@acme.test" "Alice will be with you in a moment."
transfer agent "bob@acme.test""#;
    let (src, file) = in_node(body);
    let s = stmts(&file);
    let StmtKind::Transfer { kind, to, message } = &s[0].kind else {
        panic!()
    };
    assert_eq!(*kind, TransferKind::Department);
    assert_eq!(slice(&src, to.span), "\"Billing\"");
    assert!(text_plain(message.as_ref().unwrap()).starts_with("Connecting"));
    assert!(matches!(
        &s[1].kind,
        StmtKind::Transfer {
            kind: TransferKind::Agent,
            ..
        }
    ));
    assert!(matches!(
        &s[2].kind,
        StmtKind::Transfer { message: None, .. }
    ));
}

#[test]
fn appointments() {
    let body = r#"appointment {
  slots call free_slots from body.slots       # an API whose answer holds a list of slots
  label "{item.start}"                        # how a slot is shown; default `{item}`
  prompt "Which time suits you?"
  save slot_id = item.id
  book call book_slot                         # an API that books {slot_id}
  booked -> confirmed                         # booking answered 2xx
  failed -> no_booking                        # no slots, a failed call, or a non-2xx booking
}"#;
    let (src, file) = in_node(body);
    let StmtKind::Appointment(a) = &stmts(&file)[0].kind else {
        panic!()
    };
    let (api, path) = a.slots.as_ref().unwrap();
    assert_eq!(api.name, "free_slots");
    assert_eq!(path.steps, vec![PathStep::Field("slots".into())]);
    assert_eq!(slice(&src, path.span), "body.slots");
    assert!(matches!(
        &tpl(a.label.as_ref().unwrap()).parts[0],
        TemplatePart::Ref(Ref {
            kind: RefKind::Item(_),
            ..
        })
    ));
    assert_eq!(
        text_plain(a.prompt.as_ref().unwrap()),
        "Which time suits you?"
    );
    assert_eq!(a.saves[0].attr.name, "slot_id");
    assert_eq!(a.book.as_ref().unwrap().name, "book_slot");
    assert_eq!(a.booked.as_ref().unwrap().name, "confirmed");
    assert_eq!(slice(&src, a.failed.as_ref().unwrap().span), "no_booking");
}

const HOURS: &str = r#"hours support {
  zone "America/Chicago"
  mon-fri 09:00-17:00
  sat 10:00-14:00
  closed 2026-12-25, 2027-01-01
}

node route {
  if open(support) -> desk else -> after_hours
}
"#;

#[test]
fn business_hours_and_open() {
    let file = ok(HOURS);
    let Item::Hours(h) = &file.items[0] else {
        panic!()
    };
    assert_eq!(h.name.name, "support");
    assert_eq!(h.rules.len(), 4);
    assert!(matches!(&h.rules[0], HoursRule::Zone(z) if z.value == "America/Chicago"));
    let HoursRule::Weekly {
        first_day,
        last_day,
        from,
        to,
        span,
    } = &h.rules[1]
    else {
        panic!()
    };
    assert_eq!(first_day.name, "mon");
    assert_eq!(last_day.as_ref().unwrap().name, "fri");
    assert_eq!(from.value, "09:00");
    assert_eq!(slice(HOURS, to.span), "17:00");
    assert_eq!(slice(HOURS, *span), "mon-fri 09:00-17:00");
    assert!(matches!(
        &h.rules[2],
        HoursRule::Weekly { last_day: None, .. }
    ));
    let HoursRule::Closed(dates) = &h.rules[3] else {
        panic!()
    };
    assert_eq!(
        dates.iter().map(|d| d.value.as_str()).collect::<Vec<_>>(),
        ["2026-12-25", "2027-01-01"]
    );
    assert_eq!(slice(HOURS, dates[1].span), "2027-01-01");
    assert!(
        slice(HOURS, h.span).starts_with("hours support {") && slice(HOURS, h.span).ends_with('}')
    );
    let Item::Node(n) = &file.items[1] else {
        panic!()
    };
    let StmtKind::Branch(b) = &n.body[0].kind else {
        panic!()
    };
    let ExprKind::Open(id) = &b.arms[0].cond.kind else {
        panic!("{:?}", b.arms[0].cond)
    };
    assert_eq!(id.name, "support");
    assert_eq!(slice(HOURS, b.arms[0].cond.span), "open(support)");
    // One line; `open` stays an ordinary attribute name without parentheses.
    ok(r#"hours h { zone "UTC"; mon 09:00-12:00; mon 13:00-17:00 }"#);
    let (_, file) = in_node("if open == 1 and not open(h) -> a else -> b");
    let StmtKind::Branch(b) = &stmts(&file)[0].kind else {
        panic!()
    };
    let ExprKind::And(l, r) = &b.arms[0].cond.kind else {
        panic!()
    };
    assert!(
        matches!(&l.kind, ExprKind::Cmp { lhs, .. } if matches!(&lhs.kind, ExprKind::Ref(Ref { kind: RefKind::Attr(a), .. }) if a == "open"))
    );
    assert!(matches!(&r.kind, ExprKind::Not(e) if matches!(e.kind, ExprKind::Open(_))));
}

#[test]
fn goals() {
    let (src, file) = in_node(r#"goal "order_tracked""#);
    let StmtKind::Goal(g) = &stmts(&file)[0].kind else {
        panic!()
    };
    assert_eq!(g.value, "order_tracked");
    assert_eq!(slice(&src, g.span), "\"order_tracked\"");
}

const FLOW: &str = r#"flow verify_email(address) {
  node check {
    if address matches "^[^@ ]+@[^@ ]+\\.[a-z]+$" -> ok else -> bad
  }
  node ok { set email_ok = true; return }
  node bad { say "{address} does not look right"; set email_ok = false; return }
}

node signup {
  run verify_email(email)
  if email_ok == true -> welcome else -> ask_again
}
"#;

#[test]
fn sub_flows() {
    let file = ok(FLOW);
    let Item::Flow(f) = &file.items[0] else {
        panic!()
    };
    assert_eq!(f.name.name, "verify_email");
    assert_eq!(
        f.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["address"]
    );
    assert_eq!(f.nodes.len(), 3);
    assert_eq!(f.nodes[1].name.name, "ok");
    assert!(matches!(f.nodes[1].body[1].kind, StmtKind::Return));
    assert_eq!(slice(FLOW, f.nodes[1].body[1].span), "return");
    assert!(slice(FLOW, f.span).starts_with("flow verify_email(address) {"));
    assert!(slice(FLOW, f.span).ends_with('}'));
    let Item::Node(n) = &file.items[1] else {
        panic!()
    };
    let StmtKind::Run { flow, args } = &n.body[0].kind else {
        panic!()
    };
    assert_eq!(flow.name, "verify_email");
    assert_eq!(args.len(), 1);
    assert_eq!(slice(FLOW, args[0].span), "email");
    assert_eq!(slice(FLOW, n.body[0].span), "run verify_email(email)");
    // Several parameters and arguments, none, and one line.
    let file = ok(
        r#"flow f(a, b) { node x { return } }; flow g() { node y { close } }; node n { run f(1, "x" ); run g() }"#,
    );
    assert!(matches!(&file.items[0], Item::Flow(f) if f.params.len() == 2));
    assert!(matches!(&file.items[1], Item::Flow(f) if f.params.is_empty()));
    let Item::Node(n) = &file.items[2] else {
        panic!()
    };
    assert!(matches!(&n.body[0].kind, StmtKind::Run { args, .. } if args.len() == 2));
    assert!(matches!(&n.body[1].kind, StmtKind::Run { args, .. } if args.is_empty()));
}

const TESTS: &str = r#"test "actions" {
  clock "2026-11-27T15:00:00-06:00"
  language "es"
  user "hi"
  expect choices "A", "B"
  expect transfer "Billing"
  expect email "to@x.test" "Subject"
  expect goal "name"
  expect media image "https://acme.test/map.png"
  expect media file "u"
}
"#;

#[test]
fn test_lines() {
    let file = ok(TESTS);
    let Item::Test(t) = &file.items[0] else {
        panic!()
    };
    let k: Vec<_> = t.steps.iter().map(|s| &s.kind).collect();
    assert!(matches!(k[0], TestStepKind::Clock(c) if c.value == "2026-11-27T15:00:00-06:00"));
    assert!(matches!(k[1], TestStepKind::Language(l) if l.value == "es"));
    let TestStepKind::ExpectChoices(ch) = k[3] else {
        panic!()
    };
    assert_eq!(
        ch.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(),
        ["A", "B"]
    );
    assert_eq!(slice(TESTS, ch[1].span), "\"B\"");
    assert!(matches!(k[4], TestStepKind::ExpectTransfer(x) if x.value == "Billing"));
    assert!(
        matches!(k[5], TestStepKind::ExpectEmail { to, subject } if to.value == "to@x.test" && subject.value == "Subject")
    );
    assert!(matches!(k[6], TestStepKind::ExpectGoal(g) if g.value == "name"));
    assert!(
        matches!(k[7], TestStepKind::ExpectMedia { kind: MediaKind::Image, url } if url.value.ends_with("map.png"))
    );
    assert!(matches!(
        k[8],
        TestStepKind::ExpectMedia {
            kind: MediaKind::File,
            ..
        }
    ));
    assert_eq!(slice(TESTS, t.steps[3].span), "expect choices \"A\", \"B\"");
}

#[test]
fn contextual_keywords_stay_names() {
    ok(r#"node n {
  ask email as email "Your email?"
  ask file as file
  set label = "x"
  set title = label
  set ok = true
  call to
  if subject == "x" and empty is set -> file else -> choose
}
node file { goto return }
node choose { close }
node return { close }
api to { live; get "https://x.test"; save from = body.item }
test "t" { expect attr label == "x"; expect node file }
"#);
    // Words of one construct are names inside another.
    ok(
        r#"node n { choose "Q" { "A" -> link; "B" -> card }; form { field label "L"; field to as email "T" } }"#,
    );
    ok(r#"node n { choose "Q" from empty { -> empty; empty -> label } }"#);
}

#[test]
fn everything_old_and_new_together_agrees_with_pest() {
    let all = format!("{BOT}{DYNAMIC}{HOURS}{FLOW}{TESTS}");
    ok(&all);
    ok(&all.replace('\n', "\r\n"));
}

fn error(src: &str) -> chatflow::diagnostic::Diag {
    let (_, d) = parse(src);
    assert_eq!(d.len(), 1, "{src}: {d:#?}");
    assert_eq!(d[0].code, Code::Syntax, "{src}");
    d.into_iter().next().unwrap()
}

#[test]
fn friendly_syntax_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "node n { choose \"Q\" { bogus } }",
            "bogus",
            "expected an option (`\"Label\" -> node`, `link`, `postback`), `save` or a new line",
        ),
        (
            "node n { choose \"Q\" { \"A\" a } }",
            "a",
            "expected `->` and a node name",
        ),
        (
            "node n { choose \"Q\" from l { title \"x\" } }",
            "title",
            "`label`, `save ATTR = item.FIELD`, `-> node` or `empty -> node`",
        ),
        (
            "node n { otp { sned email \"x\" } }",
            "sned",
            "`send email \"...\"` or `send call API`",
        ),
        (
            "node n { otp { send sms \"x\" } }",
            "sms",
            "expected `call` or `email`",
        ),
        (
            "node n { form \"F\" { name \"x\" } }",
            "name",
            "expected `field ATTR as KIND \"label\"`",
        ),
        (
            "node n { transfer team \"x\" }",
            "team",
            "expected `department` or `agent`",
        ),
        (
            "node n { carousel { \"A\" -> a } }",
            "\"A\"",
            "`card \"Title\" { ... }`",
        ),
        ("node n { shout \"x\" }", "shout", "an action (`choose`"),
        ("hours h { mon 9-17 }", "9", "a time such as `09:00`"),
        ("hours h { mon-fri 09:00 17:00 }", "17", "expected `-`"),
        (
            "bot \"b\" { greet \"hi\" }",
            "greet",
            "a bot setting (`start NODE`, `greeting`",
        ),
        (
            "test \"t\" { expect chioces \"A\" }",
            "chioces",
            "`choices`",
        ),
        (
            "node n { say { en hello } }",
            "hello",
            "expected a string in double quotes",
        ),
        ("node n { run f(1 }", "}", "`)`"),
        (
            "node n { set sys.language \"es\" }",
            "\"es\"",
            "expected `=`",
        ),
        ("flow f(a) { say \"x\" }", "say", "`bot`, `api`, `node`"),
    ];
    let mut wrong = Vec::new();
    for (src, at, want) in cases {
        let d = error(src);
        if !d.message.contains(want) || slice(src, d.span) != *at || d.help.is_none() {
            wrong.push(format!(
                "{src}\n  got: {} at {:?}",
                d.message,
                slice(src, d.span)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_inside_a_flow_resume_after_it() {
    let src = "flow f(a) {\n  node x { shout }\n  node y { close }\n}\nnode after { close }\n";
    let (file, d) = parse(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(file
        .items
        .iter()
        .any(|i| matches!(i, Item::Node(n) if n.name.name == "after")));
}

/// Small edits of files using the actions: the fast path must agree with pest or step aside,
/// and nothing panics.
#[test]
fn fast_path_matches_pest_on_mutated_actions() {
    let src = r#"bot "b" { start n; greeting { en "Hi" es "Hola" }; languages en, es }
hours h { zone "UTC"; mon-fri 09:00-17:00; closed 2026-12-25 }
flow f(a, b) { node x { run f(1, a); return } }
node n {
  say "{item.a[0]} {x}"; set sys.language = "es"
  choose "Q" from l { label "{item}"; save s = item.id; -> n; empty -> n }
  buttons "B" { link "L" "u"; postback "P" "PAY" -> n; "A" -> n; save c }
  carousel { card "C" { subtitle "s"; image "i"; "Go" -> n } }
  email { to "t"; subject "s"; body "b" }
  otp { send call sms; prompt "p"; digits 6; tries 3; ok -> n; fail -> n }
  form "F" { field a as email "A" }
  image "u" "c"; transfer agent "a" "m"; goal "g"
  appointment { slots call s from body.x; book call b; booked -> n; failed -> n }
  if open(h) -> n else -> n
}
test "t" { clock "2026-01-01T00:00:00Z"; language "es"; expect choices "A", "B"; expect media image "u" }
"#;
    ok(src);
    let inserts = [
        "\"", "{", "}", "(", ")", ";", "\n", " ", "-", ".", ",", "=", "x", "->", "[", "é",
    ];
    let boundaries: Vec<usize> = (0..=src.len())
        .filter(|&i| src.is_char_boundary(i))
        .collect();
    for (n, &i) in boundaries.iter().enumerate() {
        if let Some(&j) = boundaries.get(n + 1) {
            let edited = format!("{}{}", &src[..i], &src[j..]);
            assert_eq!(parse(&edited), parse_with_pest_only(&edited), "{edited}");
        }
        let ins = inserts[n % inserts.len()];
        let edited = format!("{}{}{}", &src[..i], ins, &src[i..]);
        assert_eq!(parse(&edited), parse_with_pest_only(&edited), "{edited}");
    }
}

// ---- the formatter on the actions ----------------------------------------------------------

/// The AST as JSON with every span (any `{start, end}` object) blanked out.
fn without_spans(file: &File) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if map.len() == 2 && map.contains_key("start") && map.contains_key("end") {
                    *v = serde_json::Value::Null;
                    return;
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(file).expect("the AST serializes");
    strip(&mut v);
    v
}

fn assert_formats_faithfully(src: &str) {
    let before = ok(src);
    let once = chatflow::syntax::format::format_source(src)
        .unwrap_or_else(|d| panic!("format refused {src}: {d:#?}"));
    let after = ok(&once);
    assert_eq!(
        without_spans(&before),
        without_spans(&after),
        "meaning changed:\n{src}\n---\n{once}"
    );
    let twice = chatflow::syntax::format::format_source(&once).expect("formats again");
    assert_eq!(once, twice, "not idempotent:\n{once}");
}

#[test]
fn formatter_keeps_every_action() {
    let everything = format!(
        "{BOT}{DYNAMIC}{HOURS}{FLOW}{TESTS}node all {{\n{}\n}}\n",
        [
            r#"say { en "Hello {name}!"; es "¡Hola {name}!" }"#,
            r#"ask city as text { en "City?" es "¿Ciudad?" }"#,
            r#"set sys.language = "es""#,
            r#"buttons "Pick" { link "FAQ" "https://x.test"; postback "Call" "CALL" -> n; "A" -> n; save picked }"#,
            r#"choose from l { label "{item.name}"; save a = item.tags[0]["x y"]; -> n; empty -> n }"#,
            r#"carousel { card "C" { subtitle "s"; image "i"; link "D" "u"; "Go" -> n }; save pick }"#,
            r#"carousel from p { title "{item.t}"; subtitle "s"; image "i"; button "Buy"; save s = item.id; -> n; empty -> n }"#,
            r#"email { to "{email}"; subject "S"; body "B" }"#,
            r#"otp { send email "{email}"; prompt { en "Code?" }; digits 6; tries 3; ok -> n; fail -> n }"#,
            r#"otp { send call sms; ok -> n }"#,
            r#"form { en "Book" } { field a as email "A"; field b "B" }"#,
            r#"image "u" "c"; audio "u"; video "u" "c"; file "u""#,
            r#"transfer department "Billing" { en "Wait" }; transfer agent "a@b.test""#,
            r#"appointment { slots call s from body.x[0]; label "{item}"; prompt "When?"; save id = item.id; book call b; booked -> n; failed -> n }"#,
            r#"goal "g"; run f(1, "x", a == 2); run g()"#,
            r#"if open(support) and open == 1 -> n else -> n"#,
        ]
        .join("\n")
    );
    assert_formats_faithfully(&everything);
    // The documented examples, one-line forms included.
    for src in [BOT, DYNAMIC, HOURS, FLOW, TESTS] {
        assert_formats_faithfully(src);
        assert_formats_faithfully(&src.replace("\n  ", "; ").replace("{;", "{"));
    }
}

// The large actions are boxed in the syntax tree (`StmtKind`); these reach inside.
fn menu(kind: &StmtKind) -> Option<&Menu> {
    match kind {
        StmtKind::Menu(m) => Some(m),
        _ => None,
    }
}

fn carousel(kind: &StmtKind) -> Option<&Carousel> {
    match kind {
        StmtKind::Carousel(c) => Some(c),
        _ => None,
    }
}

fn email(kind: &StmtKind) -> Option<&Email> {
    match kind {
        StmtKind::Email(e) => Some(e),
        _ => None,
    }
}

fn otp(kind: &StmtKind) -> Option<&Otp> {
    match kind {
        StmtKind::Otp(o) => Some(o),
        _ => None,
    }
}

fn appointment(kind: &StmtKind) -> Option<&Appointment> {
    match kind {
        StmtKind::Appointment(a) => Some(a),
        _ => None,
    }
}

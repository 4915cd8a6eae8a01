//! The bot-builder actions at run time (docs/actions.md), on hand-built IR, with real
//! loopback HTTP and SMTP servers.

use crate::common;

use chatflow::ir::*;
use chatflow::runtime::{
    CardView, ChoiceView, Engine, EngineConfig, Event, LoadError, Session, SessionState, SmtpConfig,
};
use common::*;

fn engine_with(b: &B, config: EngineConfig) -> Engine {
    Engine::new(b.build(), config).unwrap()
}

fn text(s: &str) -> Option<Value> {
    Some(Value::Text(s.into()))
}

/// The labels of the last `Choices` event.
fn choices(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Choices { options, .. } => {
                Some(options.iter().map(|o| o.label.clone()).collect())
            }
            _ => None,
        })
        .unwrap_or_default()
}

// ---- profile, greeting, languages ----

#[tokio::test]
async fn a_conversation_starts_with_the_profile_then_the_greeting() {
    let mut b = B::new();
    b.p.bot.name = "Acme".into();
    b.p.bot.avatar = Some(b.t("https://acme.test/{sys.bot_name}.png"));
    b.p.bot.greeting = Some(b.text("Hi, I'm Ava."));
    let stmts = vec![b.say("How can I help?")];
    b.add("main", stmts);
    let e = engine(&b);
    let mut s = e.new_session();
    assert_eq!(
        e.start(&mut s).await,
        vec![
            Event::Profile {
                name: "Acme".into(),
                avatar: Some("https://acme.test/Acme.png".into())
            },
            Event::Say {
                text: "Hi, I'm Ava.".into()
            },
            Event::Say {
                text: "How can I help?".into()
            },
            Event::Closed,
        ]
    );
}

#[tokio::test]
async fn set_language_picks_the_translation_and_unknown_languages_use_the_first() {
    let mut b = B::new();
    b.p.bot.languages = vec!["en".into(), "es".into()];
    let hello = Text::Translated(vec![
        ("en".into(), b.t("Hello")),
        ("es".into(), b.t("Hola")),
    ]);
    let stmts = vec![
        Stmt::Say(hello.clone()),
        Stmt::SetLanguage(lit_text("es")),
        Stmt::Say(hello.clone()),
        Stmt::SetLanguage(lit_text("fr")),
        Stmt::Say(hello),
    ];
    b.add("main", stmts);
    let e = engine(&b);
    let mut s = e.new_session();
    assert_eq!(says(&e.start(&mut s).await), ["Hello", "Hola", "Hello"]);
    assert_eq!(s.sys.get("language"), Some(&Value::Text("fr".into())));
}

#[tokio::test]
async fn a_new_session_speaks_the_first_declared_language() {
    let mut b = B::new();
    b.p.bot.languages = vec!["fr".into(), "en".into()];
    let hello = Text::Translated(vec![
        ("fr".into(), b.t("Bonjour")),
        ("en".into(), b.t("Hello")),
    ]);
    b.add("main", vec![Stmt::Say(hello)]);
    let e = engine(&b);
    let mut s = e.new_session();
    assert_eq!(s.sys.get("language"), Some(&Value::Text("fr".into())));
    assert_eq!(says(&e.start(&mut s).await), ["Bonjour"]);
    // A configured language wins; a bot without languages starts in English.
    let config = EngineConfig {
        language: Some("en".into()),
        ..Default::default()
    };
    let mut s = engine_with(&b, config).new_session();
    assert_eq!(s.sys.get("language"), Some(&Value::Text("en".into())));
    let mut plain = B::new();
    plain.add("main", vec![]);
    s = engine(&plain).new_session();
    assert_eq!(s.sys.get("language"), Some(&Value::Text("en".into())));
}

// ---- menus ----

/// `buttons "Pick" { link "FAQ" ...; postback "Call me" "CALLBACK" -> callback; "Ticket" -> ticket }`
fn buttons_flow() -> B {
    let mut b = B::new();
    let options = vec![
        MenuOption {
            label: b.text("FAQ"),
            kind: OptionKind::Link(b.t("https://acme.test/faq")),
            intent: None,
        },
        MenuOption {
            label: b.text("Call me"),
            kind: OptionKind::Postback {
                payload: "CALLBACK".into(),
                target: b.node("callback"),
            },
            intent: None,
        },
        b.option("Open a ticket", "ticket"),
    ];
    let menu = Menu {
        style: MenuStyle::Buttons,
        text: Some(b.text("Pick an option")),
        source: MenuSource::Static(options),
        save: Some(b.attr("picked")),
        threshold: None,
    };
    b.add("main", vec![Stmt::Menu(Box::new(menu))]);
    let stmts = vec![b.say("callback")];
    b.add("callback", stmts);
    let stmts = vec![b.say("ticket")];
    b.add("ticket", stmts);
    b
}

#[tokio::test]
async fn a_menu_offers_its_options_and_waits() {
    let b = buttons_flow();
    let e = engine(&b);
    let (s, events) = opened(&e).await;
    assert_eq!(
        events[1],
        Event::Choices {
            style: "buttons".into(),
            text: Some("Pick an option".into()),
            options: vec![
                ChoiceView {
                    label: "FAQ".into(),
                    kind: "link".into(),
                    url: Some("https://acme.test/faq".into()),
                    payload: None
                },
                ChoiceView {
                    label: "Call me".into(),
                    kind: "postback".into(),
                    url: None,
                    payload: Some("CALLBACK".into())
                },
                reply("Open a ticket"),
            ],
        }
    );
    assert_eq!(events.len(), 2);
    assert_eq!(s.state, SessionState::Waiting);
}

#[tokio::test]
async fn a_menu_answer_picks_by_label_number_or_payload_and_saves_it() {
    let b = buttons_flow();
    let e = engine(&b);
    for (answer, said, saved) in [
        ("  open A TICKET ", "ticket", "Open a ticket"),
        ("3", "ticket", "Open a ticket"),
        ("2", "callback", "CALLBACK"),
        ("call me", "callback", "CALLBACK"),
        ("CALLBACK", "callback", "CALLBACK"),
    ] {
        let mut s = started(&e).await;
        let events = e.step(&mut s, answer).await;
        assert_eq!(says(&events), [said], "{answer:?}");
        assert_eq!(attr(&e, &s, "picked"), text(saved), "{answer:?}");
        assert_eq!(s.state, SessionState::Closed);
    }
}

#[tokio::test]
async fn an_unmatched_answer_gets_the_fallback_and_the_options_again() {
    let b = buttons_flow();
    let e = engine(&b);
    let mut s = started(&e).await;
    // A link is not a choice, and neither are numbers out of range.
    for answer in ["pizza", "1", "4", "0", ""] {
        let events = e.step(&mut s, answer).await;
        assert_eq!(
            says(&events),
            ["Sorry, I didn't understand. Please choose one of the options."],
            "{answer:?}"
        );
        assert_eq!(choices(&events), ["FAQ", "Call me", "Open a ticket"]);
        assert_eq!(s.state, SessionState::Waiting);
        assert_eq!(attr(&e, &s, "picked"), None);
    }
    assert_eq!(says(&e.step(&mut s, "open a ticket").await), ["ticket"]);

    let mut b = buttons_flow();
    b.p.bot.fallback = Some(b.text("Hmm, {sys.last_message}? Pick one."));
    let e = engine(&b);
    let mut s = started(&e).await;
    assert_eq!(
        says(&e.step(&mut s, "pizza").await),
        ["Hmm, pizza? Pick one."]
    );
}

#[tokio::test]
async fn a_menu_of_links_only_does_not_wait() {
    let mut b = B::new();
    let options = vec![MenuOption {
        label: b.text("FAQ"),
        kind: OptionKind::Link(b.t("https://acme.test/faq")),
        intent: None,
    }];
    let menu = Menu {
        style: MenuStyle::Buttons,
        text: None,
        source: MenuSource::Static(options),
        save: None,
        threshold: None,
    };
    let stmts = vec![Stmt::Menu(Box::new(menu)), b.say("after")];
    b.add("main", stmts);
    let e = engine(&b);
    let (s, events) = opened(&e).await;
    assert_eq!(choices(&events), ["FAQ"]);
    assert_eq!(says(&events), ["after"]);
    assert_eq!(s.state, SessionState::Closed);
}

// ---- dynamic data ----

/// `call stores; choose "Which store?" from store_list { label ...; save ...; -> chosen; empty -> none }`
fn stores_flow(server: &Server, path: &str) -> B {
    let mut b = B::new();
    let mut api = b.http_api("stores", Method::Get, &format!("{}{path}", server.base));
    api.saves = vec![Save {
        attr: b.attr("store_list"),
        path: path_steps("stores"),
    }];
    let api = b.api(api);
    let dynamic = DynamicItems {
        list: b.attr("store_list"),
        label: Some(b.text("{item.name} ({item.city})")),
        saves: vec![
            b.item_save("store_id", "id"),
            b.item_save("store_name", "name"),
        ],
        target: b.node("chosen"),
        empty: b.node("none"),
    };
    let menu = Menu {
        style: MenuStyle::QuickReplies,
        text: Some(b.text("Which store?")),
        source: MenuSource::Dynamic(dynamic),
        save: Some(b.attr("store_label")),
        threshold: None,
    };
    b.add("main", vec![Stmt::Call(api), Stmt::Menu(Box::new(menu))]);
    let stmts = vec![b.say("store {store_id}: {store_name}")];
    b.add("chosen", stmts);
    let stmts = vec![b.say("no stores")];
    b.add("none", stmts);
    b
}

fn path_steps(text: &str) -> Vec<PathStep> {
    path(text)
}

#[tokio::test]
async fn a_dynamic_menu_offers_the_list_from_an_api_answer() {
    let server = Server::start().await;
    let e = engine(&stores_flow(&server, "/stores"));
    let (mut s, events) = opened(&e).await;
    assert!(
        matches!(&events[1], Event::ApiCall { status: 200, .. }),
        "{events:?}"
    );
    assert_eq!(
        events[2],
        Event::Choices {
            style: "quick_replies".into(),
            text: Some("Which store?".into()),
            options: vec![reply("North (Chicago)"), reply("South (Austin)")],
        }
    );
    assert!(matches!(attr(&e, &s, "store_list"), Some(Value::List(l)) if l.len() == 2));

    let events = e.step(&mut s, "nowhere").await;
    assert_eq!(
        says(&events),
        ["Sorry, I didn't understand. Please choose one of the options."]
    );
    assert_eq!(choices(&events), ["North (Chicago)", "South (Austin)"]);

    let events = e.step(&mut s, "2").await;
    assert_eq!(says(&events), ["store 2: South"]);
    assert_eq!(
        attr(&e, &s, "store_id"),
        Some(Value::Number(Number::from_f64(2.0)))
    );
    assert_eq!(attr(&e, &s, "store_label"), text("South (Austin)"));

    let mut s = started(&e).await;
    assert_eq!(
        says(&e.step(&mut s, "north (chicago)").await),
        ["store 1: North"]
    );
}

#[tokio::test]
async fn a_dynamic_menu_with_an_empty_or_missing_list_takes_the_empty_branch() {
    let server = Server::start().await;
    for path in ["/nostores", "/ok", "/status/500"] {
        let e = engine(&stores_flow(&server, path));
        let (_, events) = opened(&e).await;
        assert_eq!(says(&events), ["no stores"], "{path}");
        assert!(!events.iter().any(|e| matches!(e, Event::Choices { .. })));
    }
}

#[tokio::test]
async fn plain_string_elements_render_themselves() {
    let mut b = B::new();
    let list = Value::List(vec![Value::Text("red".into()), Value::Text("blue".into())]);
    let set = b.set("colors", Expr::Lit(list));
    let dynamic = DynamicItems {
        list: b.attr("colors"),
        label: None,
        saves: vec![b.item_save("color", "")],
        target: b.node("done"),
        empty: b.node("done"),
    };
    let menu = Menu {
        style: MenuStyle::QuickReplies,
        text: None,
        source: MenuSource::Dynamic(dynamic),
        save: None,
        threshold: None,
    };
    b.add("main", vec![set, Stmt::Menu(Box::new(menu))]);
    let stmts = vec![b.say("{color}")];
    b.add("done", stmts);
    let e = engine(&b);
    let mut s = e.new_session();
    assert_eq!(choices(&e.start(&mut s).await), ["red", "blue"]);
    assert_eq!(says(&e.step(&mut s, "Blue").await), ["blue"]);
}

#[tokio::test]
async fn a_session_survives_serialisation_mid_menu() {
    let server = Server::start().await;
    let e = engine(&stores_flow(&server, "/stores"));
    let s = started(&e).await;
    let json = serde_json::to_string(&s).unwrap();
    let mut restored: Session = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, s);
    assert_eq!(says(&e.step(&mut restored, "1").await), ["store 1: North"]);
    assert_eq!(
        server.seen().len(),
        1,
        "the restored session did not call again"
    );
}

// ---- carousels ----

fn card(b: &mut B, title: &str, buttons: Vec<MenuOption>) -> Card {
    Card {
        title: b.text(title),
        subtitle: Some(b.text("sub")),
        image: None,
        buttons,
    }
}

#[tokio::test]
async fn a_carousel_branches_by_button_label_or_card_title() {
    let mut b = B::new();
    let link = MenuOption {
        label: b.text("Details"),
        kind: OptionKind::Link(b.t("https://acme.test/classic")),
        intent: None,
    };
    let classic = vec![link, b.option("Choose Classic", "classic")];
    let pro = vec![b.option("Choose Pro", "pro")];
    let cards = vec![card(&mut b, "Classic", classic), card(&mut b, "Pro", pro)];
    let save = Some(b.attr("plan"));
    b.add(
        "main",
        vec![Stmt::Carousel(Box::new(Carousel::Static { cards, save }))],
    );
    let stmts = vec![b.say("classic")];
    b.add("classic", stmts);
    let stmts = vec![b.say("pro")];
    b.add("pro", stmts);
    let e = engine(&b);
    let (mut s, events) = opened(&e).await;
    let Event::Carousel { cards } = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0].title, "Classic");
    assert_eq!(cards[0].buttons[0].kind, "link");
    assert_eq!(s.state, SessionState::Waiting);

    assert_eq!(says(&e.step(&mut s, "choose pro").await), ["pro"]);
    assert_eq!(attr(&e, &s, "plan"), text("Choose Pro"));

    let mut s = started(&e).await;
    let events = e.step(&mut s, "Details").await;
    assert_eq!(
        says(&events),
        ["Sorry, I didn't understand. Please choose one of the options."]
    );
    assert!(matches!(events.last(), Some(Event::Carousel { .. })));
    assert_eq!(
        says(&e.step(&mut s, "classic").await),
        ["classic"],
        "a card title picks its button"
    );
}

#[tokio::test]
async fn a_carousel_without_branch_buttons_goes_on() {
    let mut b = B::new();
    let cards = vec![card(&mut b, "Info", vec![])];
    let stmts = vec![
        Stmt::Carousel(Box::new(Carousel::Static { cards, save: None })),
        b.say("after"),
    ];
    b.add("main", stmts);
    let e = engine(&b);
    let (_, events) = opened(&e).await;
    assert!(matches!(&events[1], Event::Carousel { cards } if cards.len() == 1));
    assert_eq!(says(&events), ["after"]);
}

/// `stores_flow` with its menu replaced by a dynamic carousel: one card per store, titled by
/// name, with the given subtitle and button templates.
fn stores_carousel(server: &Server, subtitle: Option<&str>, button: Option<&str>) -> B {
    let mut b = stores_flow(server, "/stores");
    let card = CardTemplate {
        title: Some(b.text("{item.name}")),
        subtitle: subtitle.map(|t| b.text(t)),
        image: None,
        button: button.map(|t| b.text(t)),
    };
    let carousel = Carousel::Dynamic {
        list: b.attr("store_list"),
        card,
        saves: vec![
            b.item_save("store_id", "id"),
            b.item_save("store_name", "name"),
        ],
        target: b.node("chosen"),
        empty: b.node("none"),
    };
    let main = b.node("main") as usize;
    b.p.nodes[main].stmts[1] = Stmt::Carousel(Box::new(carousel));
    b
}

#[tokio::test]
async fn a_dynamic_carousel_builds_cards_from_the_list() {
    let server = Server::start().await;
    let b = stores_carousel(&server, Some("{item.city}"), None);
    let e = engine(&b);
    let (mut s, events) = opened(&e).await;
    assert_eq!(
        events[2],
        Event::Carousel {
            cards: vec![
                CardView {
                    title: "North".into(),
                    subtitle: Some("Chicago".into()),
                    image: None,
                    buttons: vec![reply("Choose")]
                },
                CardView {
                    title: "South".into(),
                    subtitle: Some("Austin".into()),
                    image: None,
                    buttons: vec![reply("Choose")]
                },
            ]
        }
    );
    // "Choose" is on every card, so it does not pick; the title does.
    assert_eq!(
        says(&e.step(&mut s, "choose").await),
        ["Sorry, I didn't understand. Please choose one of the options."]
    );
    assert_eq!(says(&e.step(&mut s, "south").await), ["store 2: South"]);
}

// ---- email ----

fn email_flow() -> B {
    let mut b = B::new();
    let pre = vec![
        b.set("name", lit_text("Ana")),
        b.set("email", lit_text("ana@x.test")),
    ];
    let email = Email {
        to: b.t("{email}"),
        subject: b.text("Ticket for {name}"),
        body: b.text("Hi {name}, ticket 42 is open."),
    };
    let stmts = vec![
        Stmt::Email(Box::new(email)),
        b.say("sent? {sys.email_error}"),
    ];
    b.add("main", pre);
    b.add("main", stmts);
    b
}

/// An engine for [`email_flow`] that sends its mail through the SMTP server at `addr`.
fn email_engine(addr: String) -> Engine {
    let smtp = Some(SmtpConfig {
        addr,
        from: "bot@acme.test".into(),
    });
    let config = EngineConfig {
        smtp,
        ..Default::default()
    };
    engine_with(&email_flow(), config)
}

#[tokio::test]
async fn email_is_recorded_as_an_event_without_an_smtp_server() {
    let e = engine(&email_flow());
    let (_, events) = opened(&e).await;
    assert!(events.contains(&Event::Email {
        to: "ana@x.test".into(),
        subject: "Ticket for Ana".into(),
        body: "Hi Ana, ticket 42 is open.".into(),
        delivered: false,
        error: None,
    }));
    assert_eq!(says(&events), ["sent? "]);
}

#[tokio::test]
async fn email_is_delivered_over_smtp() {
    let (addr, mailbox) = smtp_server().await;
    let e = email_engine(addr);
    let (s, events) = opened(&e).await;
    assert!(
        events.iter().any(|ev| matches!(
            ev,
            Event::Email {
                delivered: true,
                error: None,
                ..
            }
        )),
        "{events:?}"
    );
    let mail = mailbox.lock().unwrap().clone();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, ["<ana@x.test>"]);
    assert_eq!(mail[0].from, "<bot@acme.test>");
    assert!(
        mail[0].data.contains("Subject: Ticket for Ana"),
        "{}",
        mail[0].data
    );
    assert!(
        mail[0].data.contains("Hi Ana, ticket 42 is open."),
        "{}",
        mail[0].data
    );
    assert_eq!(s.sys.get("email_error"), None);
}

#[tokio::test]
async fn a_failed_delivery_sets_sys_email_error_and_the_flow_goes_on() {
    let refused = refused_base()
        .await
        .trim_start_matches("http://")
        .to_string();
    let e = email_engine(refused);
    let (s, events) = opened(&e).await;
    let error = events.iter().find_map(|ev| match ev {
        Event::Email {
            delivered: false,
            error: Some(err),
            ..
        } => Some(err.clone()),
        _ => None,
    });
    assert!(error.is_some(), "{events:?}");
    assert!(matches!(s.sys.get("email_error"), Some(Value::Text(t)) if !t.is_empty()));
    assert!(says(&events)[0].starts_with("sent? SMTP"), "{events:?}");
    assert_eq!(s.state, SessionState::Closed);
}

// ---- OTP ----

fn otp_flow(send: impl FnOnce(&mut B) -> OtpSend, tries: u32) -> B {
    let mut b = B::new();
    let send = send(&mut b);
    let otp = Otp {
        send,
        prompt: Some(b.text("Enter the code")),
        digits: 6,
        tries,
        ok: b.node("verified"),
        fail: b.node("locked"),
    };
    b.add("main", vec![Stmt::Otp(Box::new(otp))]);
    let stmts = vec![b.say("verified")];
    b.add("verified", stmts);
    let stmts = vec![b.say("locked")];
    b.add("locked", stmts);
    b
}

fn fixed() -> EngineConfig {
    EngineConfig {
        fixed_otp: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn otp_by_email_accepts_the_right_code() {
    let b = otp_flow(|b| OtpSend::Email(b.t("ana@x.test")), 3);
    let e = engine_with(&b, fixed());
    let (mut s, events) = opened(&e).await;
    assert!(
        matches!(&events[1], Event::Email { to, body, .. } if to == "ana@x.test" && body.contains("123456"))
    );
    assert_eq!(says(&events), ["Enter the code"]);
    assert_eq!(s.state, SessionState::Waiting);
    assert_eq!(says(&e.step(&mut s, " 123456 ").await), ["verified"]);
    assert_eq!(s.wait, None, "the code is forgotten once checked");
}

#[tokio::test]
async fn a_wrong_otp_reprompts_then_the_right_one_passes() {
    let b = otp_flow(|b| OtpSend::Email(b.t("ana@x.test")), 3);
    let e = engine_with(&b, fixed());
    let mut s = started(&e).await;
    let events = e.step(&mut s, "000000").await;
    assert_eq!(
        says(&events),
        [
            "That code is not correct. Please try again.",
            "Enter the code"
        ]
    );
    assert_eq!(s.state, SessionState::Waiting);
    assert_eq!(says(&e.step(&mut s, "12345").await).len(), 2);
    assert_eq!(says(&e.step(&mut s, "123456").await), ["verified"]);
}

#[tokio::test]
async fn otp_tries_used_up_take_the_fail_branch() {
    let b = otp_flow(|b| OtpSend::Email(b.t("ana@x.test")), 2);
    let e = engine_with(&b, fixed());
    let mut s = started(&e).await;
    assert_eq!(says(&e.step(&mut s, "1").await).len(), 2);
    assert_eq!(says(&e.step(&mut s, "2").await), ["locked"]);
    assert_eq!(s.state, SessionState::Closed);
}

#[tokio::test]
async fn otp_by_api_sends_a_random_code_masked_in_events() {
    let server = Server::start().await;
    let base = server.base.clone();
    let b = otp_flow(
        move |b| {
            let api = b.http_api(
                "sms",
                Method::Get,
                &format!("{base}/ok?code={{sys.otp_code}}"),
            );
            OtpSend::Call(b.api(api))
        },
        3,
    );
    let e = engine(&b);
    let (mut s, events) = opened(&e).await;
    let Event::ApiCall {
        url, status: 200, ..
    } = &events[1]
    else {
        panic!("{events:?}")
    };
    assert!(url.ends_with("/ok?code=***"), "{url}");
    let target = server.seen()[0].target.clone();
    let code = target.strip_prefix("/ok?code=").unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
    let json = serde_json::to_string(&events).unwrap();
    assert!(!json.contains(&code), "the code stays out of events");
    assert_eq!(says(&e.step(&mut s, &code).await), ["verified"]);
}

/// A stored session waiting for the code holds only a salted hash: neither the code nor a
/// `code` field, and after a serde round trip the right code passes and a wrong one does not.
#[tokio::test]
async fn a_waiting_otp_session_stores_no_code_yet_checks_it_after_a_round_trip() {
    let b = otp_flow(|b| OtpSend::Email(b.t("ana@x.test")), 3);
    let e = engine_with(&b, fixed());
    let s = started(&e).await;
    assert_eq!(s.state, SessionState::Waiting);
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("\"code\""), "{json}");
    assert!(!json.contains("otp_code"), "{json}");
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let wait = &value["wait"];
    assert_eq!(wait["for"], "otp", "{json}");
    let is_hex = |v: &serde_json::Value, len: usize| {
        v.as_str()
            .is_some_and(|h| h.len() == len && h.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    assert!(is_hex(&wait["salt"], 32), "{json}");
    assert!(is_hex(&wait["digest"], 64), "{json}");
    // Random hex could contain "123456" by chance; everything else must not.
    value["wait"]["salt"] = serde_json::Value::Null;
    value["wait"]["digest"] = serde_json::Value::Null;
    value["sys"]["visitor_id"] = serde_json::Value::Null;
    assert!(!value.to_string().contains("123456"), "{json}");

    let mut stored: Session = serde_json::from_str(&json).unwrap();
    assert_eq!(stored, s);
    let events = e.step(&mut stored, "654321").await;
    assert_eq!(
        says(&events),
        [
            "That code is not correct. Please try again.",
            "Enter the code"
        ]
    );
    let json = serde_json::to_string(&stored).unwrap();
    let mut stored: Session = serde_json::from_str(&json).unwrap();
    assert_eq!(says(&e.step(&mut stored, "123456").await), ["verified"]);
}

// ---- forms ----

fn form_flow() -> B {
    let mut b = B::new();
    let fields = vec![
        FormField {
            attr: b.attr("name"),
            kind: AskKind::Name,
            label: b.text("Your name"),
        },
        FormField {
            attr: b.attr("email"),
            kind: AskKind::Email,
            label: b.text("Your email"),
        },
        FormField {
            attr: b.attr("people"),
            kind: AskKind::Number,
            label: b.text("How many people?"),
        },
    ];
    let form = Form {
        title: Some(b.text("Book a call")),
        fields,
    };
    let stmts = vec![
        Stmt::Form(Box::new(form)),
        b.say("{name} <{email}> x{people}"),
    ];
    b.add("main", stmts);
    b
}

fn form_fields(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Form { fields, .. } => Some(fields.iter().map(|f| f.attr.clone()).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_form_takes_a_json_answer() {
    let e = engine(&form_flow());
    let (mut s, events) = opened(&e).await;
    let Event::Form { title, fields } = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(title.as_deref(), Some("Book a call"));
    assert_eq!(
        (
            fields[2].attr.as_str(),
            fields[2].kind.as_str(),
            fields[2].label.as_str()
        ),
        ("people", "number", "How many people?")
    );
    let events = e
        .step(
            &mut s,
            r#"{"name": "Ana", "email": "ana@x.test", "people": 2}"#,
        )
        .await;
    assert_eq!(says(&events), ["Ana <ana@x.test> x2"]);
    assert_eq!(
        attr(&e, &s, "people"),
        Some(Value::Number(Number::from_f64(2.0)))
    );
}

#[tokio::test]
async fn a_form_keeps_valid_fields_and_asks_again_for_the_rest() {
    let e = engine(&form_flow());
    let mut s = started(&e).await;
    let events = e.step(&mut s, "Ana; not-an-email; 2").await;
    assert_eq!(
        events[0],
        Event::Invalid {
            attr: "email".into(),
            kind: "email".into(),
            answer: "not-an-email".into()
        }
    );
    assert_eq!(form_fields(&events), ["email"]);
    assert_eq!(attr(&e, &s, "name"), text("Ana"));
    assert_eq!(
        attr(&e, &s, "people"),
        Some(Value::Number(Number::from_f64(2.0)))
    );
    assert_eq!(s.state, SessionState::Waiting);

    // Mid-form, the session is plain data.
    let mut s: Session = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(
        says(&e.step(&mut s, "ana@x.test").await),
        ["Ana <ana@x.test> x2"]
    );
}

#[tokio::test]
async fn a_json_form_answer_missing_a_field_asks_for_it() {
    let e = engine(&form_flow());
    let mut s = started(&e).await;
    let events = e
        .step(&mut s, "{\"name\": \"Ana\", \"people\": \"many\"}")
        .await;
    assert!(events.contains(&Event::Invalid {
        attr: "people".into(),
        kind: "number".into(),
        answer: "many".into()
    }));
    assert_eq!(form_fields(&events), ["email", "people"]);
    let events = e.step(&mut s, "ana@x.test\n3").await;
    assert_eq!(says(&events), ["Ana <ana@x.test> x3"]);
}

// ---- media, transfer, goals ----

#[tokio::test]
async fn media_transfer_and_forwarded_messages() {
    let mut b = B::new();
    let stmts = vec![
        Stmt::Media {
            kind: MediaKind::Image,
            url: b.t("https://acme.test/map.png"),
            caption: Some(Box::new(b.text("Our store"))),
        },
        Stmt::Transfer {
            kind: TransferKind::Department,
            to: b.t("Billing"),
            message: Some(Box::new(b.text("Connecting you..."))),
        },
        b.say("never said"),
    ];
    b.add("main", stmts);
    let e = engine(&b);
    let (mut s, events) = opened(&e).await;
    assert_eq!(
        &events[1..],
        [
            Event::Media {
                kind: "image".into(),
                url: "https://acme.test/map.png".into(),
                caption: Some("Our store".into())
            },
            Event::Say {
                text: "Connecting you...".into()
            },
            Event::Transfer {
                kind: "department".into(),
                to: "Billing".into()
            },
        ]
    );
    assert_eq!(s.state, SessionState::Transferred);
    for message in ["hello?", "anyone there"] {
        assert_eq!(
            e.step(&mut s, message).await,
            [Event::Forwarded {
                text: message.into()
            }]
        );
    }
    assert_eq!(
        s.sys.get("last_message"),
        Some(&Value::Text("anyone there".into()))
    );
}

#[tokio::test]
async fn goals_count_per_conversation() {
    let mut b = B::new();
    let stmts = vec![
        Stmt::Goal("tracked".into()),
        b.ask("again", AskKind::Text, None),
        b.goto("main"),
    ];
    b.add("main", stmts);
    let e = engine(&b);
    let mut s = e.new_session();
    let goal = |events: &[Event]| {
        events
            .iter()
            .find(|e| matches!(e, Event::Goal { .. }))
            .cloned()
    };
    assert_eq!(
        goal(&e.start(&mut s).await),
        Some(Event::Goal {
            name: "tracked".into(),
            count: 1
        })
    );
    assert_eq!(
        goal(&e.step(&mut s, "x").await),
        Some(Event::Goal {
            name: "tracked".into(),
            count: 2
        })
    );
    let mut other = e.new_session();
    assert_eq!(
        goal(&e.start(&mut other).await),
        Some(Event::Goal {
            name: "tracked".into(),
            count: 1
        })
    );
}

// ---- appointments ----

fn appointment_flow(server: &Server, slots_path: &str, book_path: &str) -> B {
    let mut b = B::new();
    let mut slots = b.http_api(
        "free_slots",
        Method::Get,
        &format!("{}{slots_path}", server.base),
    );
    slots.saves = vec![];
    let slots = b.api(slots);
    let book = b.http_api(
        "book_slot",
        Method::Post,
        &format!("{}{book_path}?slot={{slot_id}}", server.base),
    );
    let book = b.api(book);
    let a = Appointment {
        slots_api: slots,
        slots_path: path("slots"),
        label: Some(b.text("{item.start}")),
        prompt: Some(b.text("Which time suits you?")),
        saves: vec![b.item_save("slot_id", "id")],
        book_api: book,
        booked: b.node("confirmed"),
        failed: b.node("no_booking"),
    };
    b.add("main", vec![Stmt::Appointment(Box::new(a))]);
    let stmts = vec![b.say("booked {slot_id}")];
    b.add("confirmed", stmts);
    let stmts = vec![b.say("not booked")];
    b.add("no_booking", stmts);
    b
}

#[tokio::test]
async fn an_appointment_offers_slots_and_books_the_chosen_one() {
    let server = Server::start().await;
    let e = engine(&appointment_flow(&server, "/slots", "/ok"));
    let (mut s, events) = opened(&e).await;
    assert!(matches!(&events[1], Event::ApiCall { api, status: 200, .. } if api == "free_slots"));
    assert_eq!(
        events[2],
        Event::Choices {
            style: "quick_replies".into(),
            text: Some("Which time suits you?".into()),
            options: vec![reply("09:00"), reply("10:30")],
        }
    );
    let events = e.step(&mut s, "later").await;
    assert_eq!(choices(&events), ["09:00", "10:30"]);
    let events = e.step(&mut s, "10:30").await;
    assert!(matches!(&events[0], Event::ApiCall { api, status: 200, .. } if api == "book_slot"));
    assert_eq!(says(&events), ["booked s2"]);
    let seen = server.seen();
    assert_eq!(
        (seen[1].method.as_str(), seen[1].target.as_str()),
        ("POST", "/ok?slot=s2")
    );
}

#[tokio::test]
async fn a_refused_booking_or_no_slots_take_the_failed_branch() {
    let server = Server::start().await;
    let e = engine(&appointment_flow(&server, "/slots", "/status/409"));
    let mut s = started(&e).await;
    assert_eq!(says(&e.step(&mut s, "1").await), ["not booked"]);
    assert_eq!(attr(&e, &s, "slot_id"), text("s1"));

    for slots in ["/status/503", "/ok", "/text"] {
        let e = engine(&appointment_flow(&server, slots, "/ok"));
        let mut s = e.new_session();
        assert_eq!(says(&e.start(&mut s).await), ["not booked"], "{slots}");
    }
}

// ---- business hours ----

fn hours_flow() -> B {
    let mut b = B::new();
    b.p.hours.push(HoursTable {
        name: "support".into(),
        zone: "America/Chicago".into(),
        weekly: (0..5)
            .map(|d| (d, 9 * 60, 17 * 60))
            .chain([(5, 10 * 60, 14 * 60)])
            .collect(),
        closed: vec!["2026-12-25".into()],
    });
    let stmts = vec![b.branch(vec![(Expr::Open(0), "open")], "closed")];
    b.add("main", stmts);
    let stmts = vec![b.say("open at {sys.now} ({sys.date} {sys.time})")];
    b.add("open", stmts);
    let stmts = vec![b.say("closed")];
    b.add("closed", stmts);
    b
}

#[tokio::test]
async fn business_hours_follow_the_zone_the_week_and_holidays() {
    let e = engine(&hours_flow());
    let cases = [
        // Friday 15:00 CST.
        (
            "2026-11-27T15:00:00-06:00",
            "open at 2026-11-27T21:00:00Z (2026-11-27 21:00)",
        ),
        // Friday 17:30 CST: after hours.
        ("2026-11-27T23:30:00Z", "closed"),
        // Christmas, a Friday, 10:00 CST: a closed date.
        ("2026-12-25T16:00:00Z", "closed"),
        // Monday in July, 13:30 UTC = 08:30 CDT: not yet open (it would be 07:30 in CST).
        ("2026-07-06T13:30:00Z", "closed"),
        // 14:30 UTC = 09:30 CDT: open only because daylight saving time is applied.
        (
            "2026-07-06T14:30:00Z",
            "open at 2026-07-06T14:30:00Z (2026-07-06 14:30)",
        ),
        // Saturday 13:59 and 14:00 CST.
        (
            "2026-11-28T13:59:00-06:00",
            "open at 2026-11-28T19:59:00Z (2026-11-28 19:59)",
        ),
        ("2026-11-28T14:00:00-06:00", "closed"),
        // Sunday.
        ("2026-11-29T12:00:00-06:00", "closed"),
    ];
    for (now, said) in cases {
        let mut s = e.new_session();
        s.fixed_now = Some(now.into());
        assert_eq!(says(&e.start(&mut s).await), [said], "{now}");
    }
}

// ---- sub-flows ----

/// `flow greet(who) { node hi { say "hi {who}"; run shout(who); say "back in greet" } }`,
/// `flow shout(what) { node loud { set echoed = what; say "{what}!"; return; say "never" } }`
fn flows_program() -> B {
    let mut b = B::new();
    let who = b.attr("who");
    let what = b.attr("what");
    let stmts = vec![
        b.say("start"),
        Stmt::Run {
            flow: 0,
            args: vec![lit_text("Ana")],
        },
        b.say("main again, echoed {echoed}"),
        Stmt::Run {
            flow: 1,
            args: vec![lit_text("done")],
        },
        b.say("end"),
    ];
    b.add("main", stmts);
    let stmts = vec![
        b.say("hi {who}"),
        Stmt::Run {
            flow: 1,
            args: vec![Expr::Attr(who)],
        },
        b.say("back in greet"),
    ];
    b.add("greet.hi", stmts);
    let stmts = vec![
        b.set("echoed", Expr::Attr(what)),
        b.say("{what}!"),
        Stmt::Return,
        b.say("never"),
    ];
    b.add("shout.loud", stmts);
    b.p.flows = vec![
        FlowInfo {
            name: "greet".into(),
            entry: b.node("greet.hi"),
            params: vec![who],
        },
        FlowInfo {
            name: "shout".into(),
            entry: b.node("shout.loud"),
            params: vec![what],
        },
    ];
    b
}

#[tokio::test]
async fn sub_flows_take_parameters_nest_and_return() {
    let e = engine(&flows_program());
    let (s, events) = opened(&e).await;
    assert_eq!(
        says(&events),
        [
            "start",
            "hi Ana",
            "Ana!",
            "back in greet",
            "main again, echoed Ana",
            "done!",
            "end"
        ]
    );
    assert_eq!(events.last(), Some(&Event::Closed));
    assert!(s.calls.is_empty());
}

#[tokio::test]
async fn a_sub_flow_waits_and_returns_across_turns() {
    let mut b = B::new();
    let param = b.attr("prompt");
    let stmts = vec![
        Stmt::Run {
            flow: 0,
            args: vec![lit_text("City?")],
        },
        b.say("got {city}"),
    ];
    b.add("main", stmts);
    let stmts = vec![
        b.say("{prompt}"),
        b.ask("city", AskKind::Text, None),
        b.goto("ask.thanks"),
    ];
    b.add("ask.q", stmts);
    let stmts = vec![b.say("thanks")];
    b.add("ask.thanks", stmts);
    b.p.flows = vec![FlowInfo {
        name: "ask".into(),
        entry: b.node("ask.q"),
        params: vec![param],
    }];
    let e = engine(&b);
    let mut s = e.new_session();
    assert_eq!(says(&e.start(&mut s).await), ["City?"]);
    assert_eq!(s.calls.len(), 1);
    let mut s: Session = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(
        says(&e.step(&mut s, "Paris").await),
        ["thanks", "got Paris"]
    );
}

#[tokio::test]
async fn endless_recursion_stops_the_turn() {
    let mut b = B::new();
    b.add(
        "main",
        vec![Stmt::Run {
            flow: 0,
            args: vec![],
        }],
    );
    b.add(
        "f.loop",
        vec![Stmt::Run {
            flow: 0,
            args: vec![],
        }],
    );
    b.p.flows = vec![FlowInfo {
        name: "f".into(),
        entry: b.node("f.loop"),
        params: vec![],
    }];
    let e = engine(&b);
    let (s, events) = opened(&e).await;
    assert!(
        matches!(events.last(), Some(Event::RuntimeError { message }) if message.contains("nested")),
        "{events:?}"
    );
    assert!(s.calls.is_empty());
    assert_eq!(s.state, SessionState::Failed);
}

// ---- load checks, sizes ----

#[test]
fn bad_references_in_actions_are_refused() {
    type Build = Box<dyn Fn(&mut B)>;
    let bad_programs: Vec<Build> = vec![
        Box::new(|b| {
            let options = vec![MenuOption {
                label: b.text("x"),
                kind: OptionKind::Branch(99),
                intent: None,
            }];
            let menu = Menu {
                style: MenuStyle::QuickReplies,
                text: None,
                source: MenuSource::Static(options),
                save: None,
                threshold: None,
            };
            b.add("main", vec![Stmt::Menu(Box::new(menu))]);
        }),
        Box::new(|b| {
            b.add(
                "main",
                vec![Stmt::Otp(Box::new(Otp {
                    send: OtpSend::Call(7),
                    prompt: None,
                    digits: 6,
                    tries: 3,
                    ok: 0,
                    fail: 0,
                }))],
            );
        }),
        Box::new(|b| {
            let stmts = vec![b.branch(vec![(Expr::Open(3), "main")], "main")];
            b.add("main", stmts);
        }),
        Box::new(|b| {
            b.add(
                "main",
                vec![Stmt::Run {
                    flow: 0,
                    args: vec![],
                }],
            );
        }),
        Box::new(|b| {
            b.add(
                "main",
                vec![Stmt::Run {
                    flow: 0,
                    args: vec![],
                }],
            );
            b.p.flows = vec![FlowInfo {
                name: "f".into(),
                entry: 0,
                params: vec![b.attr("x")],
            }];
        }),
        Box::new(|b| {
            b.add("main", vec![Stmt::Close]);
            b.p.hours.push(HoursTable {
                name: "h".into(),
                zone: "Mars/Olympus".into(),
                weekly: vec![],
                closed: vec![],
            });
        }),
        Box::new(|b| {
            b.add(
                "main",
                vec![Stmt::Form(Box::new(Form {
                    title: None,
                    fields: vec![FormField {
                        attr: 40,
                        kind: AskKind::Text,
                        label: Text::Plain(Template { parts: vec![] }),
                    }],
                }))],
            );
        }),
        Box::new(|b| {
            b.add("main", vec![Stmt::Close]);
            b.p.bot.greeting = Some(Text::Plain(Template {
                parts: vec![TemplatePart::Attr(5)],
            }));
        }),
    ];
    for (i, build) in bad_programs.iter().enumerate() {
        let mut b = B::new();
        build(&mut b);
        let result = Engine::new(b.build(), EngineConfig::default());
        assert!(
            matches!(result, Err(LoadError::BadReference(_))),
            "program {i}: {result:?}"
        );
    }
}

#[tokio::test]
async fn an_idle_session_stays_small_with_the_new_fields() {
    let server = Server::start().await;
    let e = engine(&stores_flow(&server, "/stores"));
    let s = e.new_session();
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.len() < 2048, "{} bytes", json.len());
    for field in ["wait", "calls", "goals", "fixed_now"] {
        assert!(
            !json.contains(field),
            "empty `{field}` is not stored: {json}"
        );
    }
}

// ---- from source: the support bot and sub-flows of tests/inputs/ok ----

fn compiled_file(path: &str) -> std::sync::Arc<Program> {
    let src = std::fs::read_to_string(path).unwrap();
    compile_clean(path, &src).0
}

/// A loopback server for the support bot's APIs (reached through `redirect_base`, so the
/// path starts with the API name); records each request's target and body.
async fn acme_server() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
) {
    use axum::body::Body;
    use axum::http::Request;
    let seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> = Default::default();
    let seen2 = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let seen = seen2.clone();
        async move {
            let target = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
            let body = axum::body::to_bytes(req.into_body(), usize::MAX).await.unwrap();
            seen.lock().unwrap().push((target.clone(), String::from_utf8_lossy(&body).into_owned()));
            let answer = if target.starts_with("/stores") {
                r#"{"stores":[{"id":1,"name":"North","city":"Chicago"},{"id":2,"name":"South","city":"Austin"}]}"#
            } else if target.starts_with("/free_slots") {
                r#"{"slots":[{"id":"t1","start":"Mon 10:00"}]}"#
            } else {
                "{}"
            };
            ([("content-type", "application/json")], answer)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

async fn support_bot() -> (
    Engine,
    std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
) {
    let (base, seen) = acme_server().await;
    let config = EngineConfig {
        redirect_base: Some(base),
        fixed_otp: true,
        ..Default::default()
    };
    let e = Engine::new(
        compiled_file("tests/inputs/ok/actions_support_bot.flow"),
        config,
    )
    .unwrap();
    (e, seen)
}

#[tokio::test]
async fn the_support_bot_finds_a_store_and_hands_over_in_opening_hours() {
    let (e, _) = support_bot().await;
    let mut s = e.new_session();
    s.fixed_now = Some("2026-11-27T15:00:00-06:00".into());
    let events = e.start(&mut s).await;
    assert_eq!(
        events[0],
        Event::Profile {
            name: "Acme support".into(),
            avatar: Some("https://acme.test/ava.png".into())
        }
    );
    assert_eq!(says(&events), ["Hi, I'm Ava, Acme's assistant.", "Hello!"]);
    assert_eq!(
        choices(&events),
        [
            "Track an order",
            "Find a store",
            "Plans",
            "Talk to a person"
        ]
    );
    e.step(&mut s, "find a store").await;
    assert_eq!(attr(&e, &s, "topic"), text("Find a store"));
    let events = e.step(&mut s, "60601").await;
    assert_eq!(choices(&events), ["North (Chicago)", "South (Austin)"]);
    let events = e.step(&mut s, "2").await;
    assert!(events.contains(&Event::Media {
        kind: "image".into(),
        url: "https://acme.test/map/2.png".into(),
        caption: Some("Map of South".into()),
    }));
    assert!(
        events.contains(&Event::Transfer {
            kind: "agent".into(),
            to: "alice@acme.test".into()
        }),
        "{events:?}"
    );
    assert_eq!(
        e.step(&mut s, "hi Alice").await,
        [Event::Forwarded {
            text: "hi Alice".into()
        }]
    );

    // After hours, the same path ends in the closed branch.
    let mut s = e.new_session();
    s.fixed_now = Some("2026-12-25T15:00:00-06:00".into());
    e.start(&mut s).await;
    e.step(&mut s, "Talk to a person").await;
    assert_eq!(s.state, SessionState::Waiting);
    let events = e.step(&mut s, "back to the menu").await;
    assert_eq!(choices(&events).len(), 4);
}

#[tokio::test]
async fn the_support_bot_speaks_spanish_when_asked() {
    let (e, _) = support_bot().await;
    let mut s = e.new_session();
    s.sys
        .insert("channel".into(), Value::Text("whatsapp-es".into()));
    let events = e.start(&mut s).await;
    assert_eq!(says(&events), ["Hi, I'm Ava, Acme's assistant.", "Hello!"]);
    let Some(Event::Choices { text, .. }) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(text.as_deref(), Some("¿En qué te puedo ayudar?"));

    let mut s = e.new_session();
    s.sys.insert("language".into(), Value::Text("es".into()));
    assert_eq!(
        says(&e.start(&mut s).await),
        ["Hola, soy Ava, la asistente de Acme.", "¡Hola!"]
    );
}

#[tokio::test]
async fn the_support_bot_verifies_a_phone_with_an_otp_sent_through_its_api() {
    let (e, seen) = support_bot().await;
    let mut s = started(&e).await;
    e.step(&mut s, "Track an order").await;
    let events = e.step(&mut s, "A1").await;
    assert_eq!(
        choices(&events),
        ["Read the FAQ", "Call me back", "Open a ticket"]
    );
    e.step(&mut s, "CALLBACK").await;
    let events = e.step(&mut s, "+1 312 555 0100").await;
    assert!(
        matches!(&events[0], Event::ApiCall { api, status: 200, .. } if api == "sms_code"),
        "{events:?}"
    );
    assert_eq!(says(&events), ["Enter the code we sent to +1 312 555 0100"]);
    let sent = seen.lock().unwrap().last().cloned().unwrap();
    assert!(sent.1.contains("Your Acme code is 123456"), "{sent:?}");
    let events = e.step(&mut s, "123456").await;
    assert!(events.contains(&Event::Goal {
        name: "phone_verified".into(),
        count: 1
    }));
    assert_eq!(s.state, SessionState::Closed);
}

#[tokio::test]
async fn the_support_bot_books_a_classic_plan() {
    let (e, seen) = support_bot().await;
    let mut s = started(&e).await;
    let events = e.step(&mut s, "3").await;
    assert!(matches!(events.last(), Some(Event::Carousel { cards }) if cards.len() == 2));
    let events = e.step(&mut s, "Choose Classic").await;
    assert_eq!(attr(&e, &s, "plan"), text("Choose Classic"));
    assert_eq!(choices(&events), ["Mon 10:00"]);
    let events = e.step(&mut s, "mon 10:00").await;
    assert!(
        events.contains(&Event::Goal {
            name: "booked".into(),
            count: 1
        }),
        "{events:?}"
    );
    assert_eq!(s.state, SessionState::Closed);
    let booked = seen.lock().unwrap().last().cloned().unwrap();
    assert!(booked.0.starts_with("/book_slot"), "{booked:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&booked.1).unwrap(),
        serde_json::json!({"slot": "t1"})
    );
}

#[tokio::test]
async fn sub_flows_from_source_return_to_the_caller() {
    let e = engine_from(compiled_file("tests/inputs/ok/actions_flows.flow"));
    let mut s = started(&e).await;
    let events = e.step(&mut s, "ana@x.TEST").await;
    assert_eq!(says(&events)[0], "ana@x.TEST does not look right");
    assert!(says(&events).contains(&"Let's try again.".to_string()));
    let events = e.step(&mut s, "ana@x.test").await;
    assert_eq!(
        says(&events),
        [
            "Hello friend, 2 times",
            "Bye from the flow",
            "Welcome!",
            "All set"
        ]
    );
    assert_eq!(attr(&e, &s, "email_ok"), Some(Value::Bool(true)));
}

fn engine_from(p: std::sync::Arc<Program>) -> Engine {
    Engine::new(p, EngineConfig::default()).unwrap()
}

/// A code that never reached the visitor is not asked for: a send API answering 503, or an
/// email the SMTP server refused, takes the `fail` branch at once.
#[tokio::test]
async fn an_otp_whose_send_fails_takes_the_fail_branch_without_asking() {
    let server = Server::start().await;
    let base = server.base.clone();
    let b = otp_flow(
        move |b| {
            let api = b.http_api("sms", Method::Get, &format!("{base}/status/503"));
            OtpSend::Call(b.api(api))
        },
        3,
    );
    let e = engine_with(&b, fixed());
    let (s, events) = opened(&e).await;
    assert_eq!(says(&events), ["locked"], "{events:?}");
    assert_eq!(s.state, SessionState::Closed);

    let refused = refused_base()
        .await
        .trim_start_matches("http://")
        .to_string();
    let b = otp_flow(|b| OtpSend::Email(b.t("ana@x.test")), 3);
    let config = EngineConfig {
        smtp: Some(SmtpConfig {
            addr: refused,
            from: "bot@acme.test".into(),
        }),
        ..fixed()
    };
    let e = engine_with(&b, config);
    let (_, events) = opened(&e).await;
    assert_eq!(says(&events), ["locked"], "{events:?}");
}

/// Every card has the same button (`button "Book"`), so the label picks none; the number the
/// card is shown with (`[card 2/2]`) picks it, in dynamic and static carousels alike.
#[tokio::test]
async fn a_carousel_card_is_picked_by_its_number() {
    let server = Server::start().await;
    let b = stores_carousel(&server, None, Some("Book"));
    let e = engine(&b);
    let mut s = started(&e).await;
    assert_eq!(
        says(&e.step(&mut s, "Book").await),
        ["Sorry, I didn't understand. Please choose one of the options."]
    );
    assert_eq!(says(&e.step(&mut s, "3").await).len(), 1, "no third card");
    assert_eq!(says(&e.step(&mut s, " 2 ").await), ["store 2: South"]);

    let mut b = B::new();
    let book = |b: &mut B, target: &str| b.option("Book", target);
    let cards = vec![
        Card {
            title: b.text("Lyon"),
            subtitle: None,
            image: None,
            buttons: vec![book(&mut b, "lyon")],
        },
        Card {
            title: b.text("Nice"),
            subtitle: None,
            image: None,
            buttons: vec![book(&mut b, "nice")],
        },
    ];
    b.add(
        "main",
        vec![Stmt::Carousel(Box::new(Carousel::Static {
            cards,
            save: None,
        }))],
    );
    for (node, text) in [("lyon", "to Lyon"), ("nice", "to Nice")] {
        let stmts = vec![b.say(text)];
        b.add(node, stmts);
    }
    let e = engine(&b);
    let mut s = started(&e).await;
    assert_eq!(says(&e.step(&mut s, "2").await), ["to Nice"]);
}

/// The runtime's own sentences follow the conversation's language: a refused number, a wrong
/// one-time code and its default prompt, the fallback and the default card button; a bot's
/// own text for a message replaces the built-in one in the languages it gives.
#[tokio::test]
async fn built_in_messages_are_said_in_the_conversation_language() {
    let mut b = otp_flow(|b| OtpSend::Email(b.t("ana@x.test")), 3);
    b.p.bot.languages = vec!["fr".into(), "en".into()];
    let main = b.node("main") as usize;
    if let Stmt::Otp(otp) = &mut b.p.nodes[main].stmts[0] {
        otp.prompt = None;
    }
    let ask = b.ask("n", AskKind::Number, None);
    b.p.nodes[main].stmts.insert(0, ask);
    let e = engine_with(&b, fixed());
    let mut s = started(&e).await;
    assert_eq!(
        says(&e.step(&mut s, "beaucoup").await),
        ["Cela ne ressemble pas à un nombre. Veuillez réessayer."]
    );
    let events = e.step(&mut s, "2").await;
    assert!(
        events.iter().any(|ev| matches!(ev, Event::Email { subject, body, .. }
            if subject == "Votre code de vérification" && body == "Votre code de vérification est 123456.")),
        "{events:?}"
    );
    assert_eq!(
        says(&events),
        ["Veuillez saisir le code à 6 chiffres que nous vous avons envoyé."]
    );
    s.sys.insert("language".into(), Value::Text("de".into()));
    assert_eq!(
        says(&e.step(&mut s, "000000").await),
        [
            "Dieser Code ist nicht korrekt. Bitte versuchen Sie es noch einmal.",
            "Bitte geben Sie den 6-stelligen Code ein, den wir Ihnen gesendet haben."
        ]
    );

    // The bot's own text wins in the languages it gives; the others stay built in.
    let own = Text::Translated(vec![("fr".into(), b.t("Mauvais code, {sys.language} !"))]);
    b.p.bot.messages = vec![("wrong_code".into(), own)];
    let e = engine_with(&b, fixed());
    let mut s = started(&e).await;
    e.step(&mut s, "2").await;
    assert_eq!(
        says(&e.step(&mut s, "000000").await)[0],
        "Mauvais code, fr !"
    );
    s.sys.insert("language".into(), Value::Text("es".into()));
    assert_eq!(
        says(&e.step(&mut s, "000000").await)[0],
        "El código no es correcto. Inténtalo de nuevo, por favor."
    );
}

/// A `messages` block from source: `{digits}` is filled in the bot's own code prompt.
#[tokio::test]
async fn a_bot_message_from_source_fills_its_placeholder() {
    let src = r#"bot "B" {
  start code
  messages {
    code_prompt "Type the {digits} digits, {sys.language}:"
  }
}
node code {
  otp {
    send email "a@x.test"
    digits 4
    ok -> done
    fail -> done
  }
}
node done { close }
"#;
    let compiled = chatflow::compile::compile_str("messages.flow", src);
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
    let e = Engine::new(
        std::sync::Arc::new(compiled.program.expect("program")),
        fixed(),
    )
    .unwrap();
    let mut s = e.new_session();
    assert_eq!(says(&e.start(&mut s).await), ["Type the 4 digits, en:"]);
}

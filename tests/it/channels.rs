//! How every event kind looks on each channel (docs/channels.md): the send-API requests
//! `chatflow::channels::render` makes, snapshotted per platform.

use chatflow::channels::{render, Platform, RenderContext};
use chatflow::runtime::{CardView, ChoiceView, Event, FormFieldView};

use crate::common::reply;

fn link(label: &str, url: &str) -> ChoiceView {
    ChoiceView {
        label: label.into(),
        kind: "link".into(),
        url: Some(url.into()),
        payload: None,
    }
}

fn postback(label: &str, payload: &str) -> ChoiceView {
    ChoiceView {
        label: label.into(),
        kind: "postback".into(),
        url: None,
        payload: Some(payload.into()),
    }
}

fn card(title: &str, image: Option<&str>, buttons: Vec<ChoiceView>) -> CardView {
    CardView {
        title: title.into(),
        subtitle: Some(format!("About {title}")),
        image: image.map(str::to_string),
        buttons,
    }
}

/// One turn with every event kind a visitor can see, and some they cannot.
fn every_kind() -> Vec<Event> {
    vec![
        Event::Profile {
            name: "Ava".into(),
            avatar: None,
        },
        Event::Say {
            text: "Hi! I am Ava.".into(),
        },
        // Quick replies under the message said before them.
        Event::Say {
            text: "Which topic?".into(),
        },
        Event::Choices {
            style: "quick_replies".into(),
            text: None,
            options: vec![
                reply("Orders"),
                reply("Returns"),
                postback("Account", "ACCOUNT"),
            ],
        },
        // Buttons with a prompt and a link.
        Event::Choices {
            style: "buttons".into(),
            text: Some("Or read more:".into()),
            options: vec![
                reply("Talk to a person"),
                link("Help center", "https://help.example.test"),
            ],
        },
        // More options than reply buttons hold.
        Event::Choices {
            style: "buttons".into(),
            text: Some("Pick a day".into()),
            options: [
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday morning, early",
                "Friday",
            ]
            .into_iter()
            .map(reply)
            .collect(),
        },
        Event::Carousel {
            cards: vec![
                card(
                    "Returns",
                    Some("https://img.example.test/returns.png"),
                    vec![
                        reply("Choose"),
                        link("Read more", "https://help.example.test/returns"),
                    ],
                ),
                card("Shipping", None, vec![reply("Choose")]),
            ],
        },
        Event::Media {
            kind: "image".into(),
            url: "https://img.example.test/banner.png".into(),
            caption: Some("Our help center".into()),
        },
        Event::Media {
            kind: "video".into(),
            url: "https://video.example.test/returns.mp4".into(),
            caption: None,
        },
        Event::Media {
            kind: "file".into(),
            url: "https://files.example.test/terms.pdf".into(),
            caption: Some("Terms".into()),
        },
        Event::Ask {
            attr: "email".into(),
            kind: "email".into(),
        },
        Event::Form {
            title: Some("Request a callback".into()),
            fields: vec![
                FormFieldView {
                    attr: "phone".into(),
                    kind: "phone".into(),
                    label: "Your phone number".into(),
                },
                FormFieldView {
                    attr: "day".into(),
                    kind: "date".into(),
                    label: "The day that suits you".into(),
                },
            ],
        },
        Event::Goal {
            name: "engaged".into(),
            count: 1,
        },
        Event::Transfer {
            kind: "department".into(),
            to: "Customer care".into(),
        },
        Event::Forwarded {
            text: "hello?".into(),
        },
        Event::Email {
            to: "ann@example.test".into(),
            subject: "Your code".into(),
            body: "123456".into(),
            delivered: true,
            error: None,
        },
        Event::RuntimeError {
            message: "the step limit (1000) was reached".into(),
        },
        Event::Closed,
    ]
}

fn rendered(platform: Platform) -> serde_json::Value {
    let context = RenderContext {
        bot_name: "Ava".into(),
    };
    let calls: Vec<serde_json::Value> = render(platform, "42", &every_kind(), &context)
        .iter()
        .map(|o| o.to_json())
        .collect();
    serde_json::Value::Array(calls)
}

#[test]
fn every_event_kind_on_each_channel() {
    for platform in Platform::ALL {
        let calls = rendered(platform);
        // Nobody sees the email's body (it may hold a one-time code) or the error's details.
        let text = calls.to_string();
        assert!(!text.contains("123456"), "{platform:?}: {text}");
        assert!(!text.contains("step limit"), "{platform:?}: {text}");
        insta::assert_json_snapshot!(format!("render_{}", platform.name()), calls);
    }
}

/// A text over a channel's limit is split at word boundaries, each piece within it.
#[test]
fn long_texts_are_split_at_words_within_each_limit() {
    let long = "word ".repeat(1500); // 7500 characters
    let events = [Event::Say { text: long.clone() }];
    for (platform, limit) in [
        (Platform::Telegram, 4096),
        (Platform::WhatsApp, 4096),
        (Platform::Messenger, 2000),
        (Platform::Instagram, 1000),
        (Platform::Viber, 7000),
    ] {
        let calls = render(platform, "42", &events, &RenderContext::default());
        let texts: Vec<String> = calls
            .iter()
            .map(|o| {
                let b = &o.body;
                b["text"]["body"]
                    .as_str()
                    .or(b["message"]["text"].as_str())
                    .or(b["text"].as_str())
                    .expect("a text")
                    .to_string()
            })
            .collect();
        assert!(texts.len() > 1, "{platform:?}");
        for t in &texts {
            assert!(t.chars().count() <= limit, "{platform:?}: {}", t.len());
            assert!(
                t.starts_with("word") && t.ends_with("word"),
                "{platform:?} cut a word"
            );
        }
        assert_eq!(texts.join(" "), long.trim(), "{platform:?} lost text");
    }
}

/// WhatsApp shows up to 3 reply buttons; more options (up to 10) become a list, and beyond
/// that numbered lines (a menu also takes the number).
#[test]
fn whatsapp_buttons_then_list_then_numbered_lines() {
    let menu = |n: usize| Event::Choices {
        style: "buttons".into(),
        text: Some("Pick".into()),
        options: (1..=n).map(|i| reply(&format!("Option {i}"))).collect(),
    };
    let kind = |n: usize| {
        let calls = render(
            Platform::WhatsApp,
            "1",
            &[menu(n)],
            &RenderContext::default(),
        );
        assert_eq!(calls.len(), 1);
        let b = &calls[0].body;
        match b["type"].as_str().unwrap() {
            "interactive" => b["interactive"]["type"].as_str().unwrap().to_string(),
            other => other.to_string(),
        }
    };
    assert_eq!(kind(3), "button");
    assert_eq!(kind(4), "list");
    assert_eq!(kind(10), "list");
    assert_eq!(kind(11), "text");
}

/// Viber shows a carousel as rich media: at most 6 cards a message, each block of 6 columns
/// filled to the same height (the rows of its image, text and buttons add up to the
/// block's), at most 3 buttons a card, and a text for clients too old for rich media.
#[test]
fn viber_carousels_are_rich_media_blocks_of_equal_height() {
    let cards: Vec<CardView> = (1..=8)
        .map(|i| {
            let image = (i % 2 == 0).then_some("https://img.example.test/c.png");
            let mut c = card(&format!("Card {i}"), image, vec![]);
            c.buttons = (0..(i % 5)).map(|b| reply(&format!("B{i}.{b}"))).collect();
            if i == 3 {
                c.subtitle = None;
                c.buttons.push(link("Read", "https://help.example.test"));
            }
            c
        })
        .collect();
    let calls = render(
        Platform::Viber,
        "v1",
        &[Event::Carousel { cards }],
        &RenderContext::default(),
    );
    assert_eq!(calls.len(), 2, "8 cards: 6, then 2");
    let mut titles = Vec::new();
    for call in &calls {
        let b = &call.body;
        assert_eq!(b["type"], "rich_media");
        let media = &b["rich_media"];
        let rows = media["ButtonsGroupRows"].as_u64().unwrap();
        assert!((1..=7).contains(&rows));
        let buttons = media["Buttons"].as_array().unwrap();
        // Split into blocks: each block starts with an image or the card's text.
        let mut blocks: Vec<Vec<&serde_json::Value>> = Vec::new();
        for button in buttons {
            assert_eq!(button["Columns"], 6);
            let starts = button["ActionType"] == "none"
                && (button["Image"].is_string()
                    || blocks
                        .last()
                        .is_none_or(|b| b.iter().any(|x| x["Text"].is_string())));
            if starts {
                blocks.push(Vec::new());
            }
            blocks.last_mut().unwrap().push(button);
        }
        assert!(blocks.len() <= 6);
        for block in &blocks {
            let sum: u64 = block.iter().map(|x| x["Rows"].as_u64().unwrap()).sum();
            assert_eq!(sum, rows, "{block:?}");
            let actions = block.iter().filter(|x| x["ActionType"] != "none").count();
            assert!(actions <= 3, "{block:?}");
            let text = block.iter().find_map(|x| x["Text"].as_str()).unwrap();
            titles.push(text.split("</b>").next().unwrap().replace("<b>", ""));
        }
        assert!(b["alt_text"].as_str().unwrap().contains("Card"));
    }
    let want: Vec<String> = (1..=8).map(|i| format!("Card {i}")).collect();
    assert_eq!(titles, want);
}

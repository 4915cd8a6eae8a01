//! How `chatflow run` shows the bot's events in a terminal: `bot> ` lines for messages,
//! numbered options, cards, forms and bracketed notes for what is not a message.

use chatflow::runtime::{CardView, ChoiceView, Event, FormFieldView};

/// Continuation lines of a bot message line up under its text.
const INDENT: &str = "     ";

/// The lines an event shows on stdout (each ending in a newline), or `None` for trace-only
/// events (`--trace` shows those on stderr).
pub fn show_event(event: &Event) -> Option<String> {
    let text = match event {
        Event::Say { text } => bot_line(text),
        Event::Closed => "[chat closed]\n".to_string(),
        Event::RuntimeError { message } => format!("[runtime error] {message}\n"),
        Event::Profile { name, avatar } => match avatar {
            Some(url) => format!("== {name} ==  (avatar {url})\n"),
            None => format!("== {name} ==\n"),
        },
        Event::Choices { text, options, .. } => show_choices(text.as_deref(), options),
        Event::Carousel { cards } => show_carousel(cards),
        Event::Form { title, fields } => show_form(title.as_deref(), fields),
        Event::Media { kind, url, caption } => match caption {
            Some(c) => bot_line(&format!("[{kind}] {url} — {c}")),
            None => bot_line(&format!("[{kind}] {url}")),
        },
        Event::Email {
            to,
            subject,
            body,
            delivered,
            error,
        } => show_email(to, subject, body, *delivered, error.as_deref()),
        Event::Transfer { kind, to } => {
            format!("[transferred to {kind} {to} — waiting for a human]\n")
        }
        Event::Forwarded { text } => format!("[forwarded to the human: {text}]\n"),
        Event::Ask { .. }
        | Event::Invalid { .. }
        | Event::NodeEntered { .. }
        | Event::Returned { .. }
        | Event::Fallback { .. }
        | Event::Condition { .. }
        | Event::ApiCall { .. }
        | Event::Goal { .. } => return None,
    };
    Some(text)
}

/// `bot> text`, with the message's own line breaks indented under the first line.
fn bot_line(text: &str) -> String {
    format!("bot> {}\n", text.replace('\n', &format!("\n{INDENT}")))
}

/// The question, then one numbered line per option (the number is an accepted answer).
fn show_choices(text: Option<&str>, options: &[ChoiceView]) -> String {
    let mut out = text.map(bot_line).unwrap_or_default();
    for (i, option) in options.iter().enumerate() {
        out.push_str(&format!("  {}) {}\n", i + 1, option_label(option)));
    }
    out
}

/// A button as the user sees it: links show where they go.
fn option_label(option: &ChoiceView) -> String {
    match (&option.kind[..], &option.url) {
        ("link", Some(url)) => format!("{} <{url}>", option.label),
        _ => option.label.clone(),
    }
}

/// One block per card: title, subtitle, image, then its buttons in brackets.
fn show_carousel(cards: &[CardView]) -> String {
    let mut out = String::new();
    for (i, card) in cards.iter().enumerate() {
        let head = format!("[card {}/{}] {}", i + 1, cards.len(), card.title);
        out.push_str(&bot_line(&head));
        if let Some(subtitle) = &card.subtitle {
            out.push_str(&format!("{INDENT}  {subtitle}\n"));
        }
        if let Some(image) = &card.image {
            out.push_str(&format!("{INDENT}  [image] {image}\n"));
        }
        for button in &card.buttons {
            out.push_str(&format!("{INDENT}  [{}]\n", option_label(button)));
        }
    }
    if let Some(hint) = carousel_hint(cards) {
        out.push_str(&format!("{INDENT}({hint})\n"));
    }
    out
}

/// Exactly the answers that pick a card: its number or title, and the labels of buttons no
/// other button shares (a label on several cards picks none of them).
fn carousel_hint(cards: &[CardView]) -> Option<String> {
    let labels: Vec<&str> = cards
        .iter()
        .flat_map(|c| &c.buttons)
        .filter(|b| b.kind != "link")
        .map(|b| b.label.as_str())
        .collect();
    if labels.is_empty() {
        return None;
    }
    let key = |l: &str| l.trim().to_lowercase();
    let unique: Vec<&str> = labels
        .iter()
        .filter(|l| labels.iter().filter(|m| key(m) == key(l)).count() == 1)
        .copied()
        .collect();
    let numbers = match cards.len() {
        1 => "1".to_string(),
        n => format!("1-{n}"),
    };
    let mut hint = format!("answer with a card's number ({numbers}) or title");
    if !unique.is_empty() {
        hint.push_str(&format!(", or a button: {}", unique.join(", ")));
    }
    Some(hint)
}

/// The form's fields in order, and the two ways to answer it.
fn show_form(title: Option<&str>, fields: &[FormFieldView]) -> String {
    let mut out = bot_line(title.unwrap_or("Please fill in:"));
    for (i, field) in fields.iter().enumerate() {
        out.push_str(&format!("  {}. {} ({})\n", i + 1, field.label, field.kind));
    }
    let names: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{}\": ...", f.attr))
        .collect();
    let order: Vec<&str> = fields.iter().map(|f| f.attr.as_str()).collect();
    out.push_str(&format!(
        "{INDENT}(answer `{}` in this order, or JSON {{{}}})\n",
        order.join("; "),
        names.join(", ")
    ));
    out
}

/// `[email to ...: subject]`, whether it was delivered, then the body indented.
fn show_email(to: &str, subject: &str, body: &str, delivered: bool, error: Option<&str>) -> String {
    let fate = match (delivered, error) {
        (true, _) => "delivered".to_string(),
        (false, Some(why)) => format!("NOT delivered: {why}"),
        (false, None) => "recorded, not sent".to_string(),
    };
    let mut out = format!("[email to {to}: {subject} — {fate}]\n");
    for line in body.lines() {
        out.push_str(&format!("{INDENT}| {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(label: &str, kind: &str, url: Option<&str>) -> ChoiceView {
        ChoiceView {
            label: label.into(),
            kind: kind.into(),
            url: url.map(Into::into),
            payload: None,
        }
    }

    #[test]
    fn choices_are_numbered_and_links_show_their_url() {
        let event = Event::Choices {
            style: "buttons".into(),
            text: Some("Pick one".into()),
            options: vec![
                option("Track an order", "reply", None),
                option("FAQ", "link", Some("https://x.test/faq")),
            ],
        };
        assert_eq!(
            show_event(&event).unwrap(),
            "bot> Pick one\n  1) Track an order\n  2) FAQ <https://x.test/faq>\n"
        );
    }

    #[test]
    fn a_form_says_how_to_answer() {
        let field = |attr: &str, kind: &str, label: &str| FormFieldView {
            attr: attr.into(),
            kind: kind.into(),
            label: label.into(),
        };
        let event = Event::Form {
            title: Some("Book a call".into()),
            fields: vec![
                field("name", "name", "Your name"),
                field("people", "number", "How many?"),
            ],
        };
        let shown = show_event(&event).unwrap();
        assert!(
            shown.starts_with("bot> Book a call\n  1. Your name (name)\n  2. How many? (number)\n")
        );
        assert!(shown.contains("`name; people`"), "{shown}");
        assert!(shown.contains(r#"{"name": ..., "people": ...}"#), "{shown}");
    }

    #[test]
    fn emails_say_whether_they_were_delivered() {
        let email = |delivered, error: Option<&str>| Event::Email {
            to: "a@x.test".into(),
            subject: "Hi".into(),
            body: "Line 1\nLine 2".into(),
            delivered,
            error: error.map(Into::into),
        };
        assert_eq!(
            show_event(&email(false, None)).unwrap(),
            "[email to a@x.test: Hi — recorded, not sent]\n     | Line 1\n     | Line 2\n"
        );
        assert!(show_event(&email(true, None))
            .unwrap()
            .contains("— delivered]"));
        assert!(show_event(&email(false, Some("connect")))
            .unwrap()
            .contains("NOT delivered: connect"));
    }

    #[test]
    fn carousel_media_transfer_and_goal() {
        let cards = vec![CardView {
            title: "Classic".into(),
            subtitle: Some("$9".into()),
            image: Some("https://x.test/c.png".into()),
            buttons: vec![option("Choose Classic", "reply", None)],
        }];
        let shown = show_event(&Event::Carousel { cards }).unwrap();
        assert_eq!(
            shown,
            "bot> [card 1/1] Classic\n       $9\n       [image] https://x.test/c.png\n       [Choose Classic]\n     (answer with a card's number (1) or title, or a button: Choose Classic)\n"
        );
        // A label on every card picks nothing, so the hint does not offer it.
        let card = |title: &str| CardView {
            title: title.into(),
            subtitle: None,
            image: None,
            buttons: vec![option("Book", "reply", None)],
        };
        let shown = show_event(&Event::Carousel {
            cards: vec![card("Lyon"), card("Nice")],
        })
        .unwrap();
        assert!(
            shown.ends_with("     (answer with a card's number (1-2) or title)\n"),
            "{shown}"
        );
        let media = Event::Media {
            kind: "image".into(),
            url: "https://x.test/m.png".into(),
            caption: Some("Map".into()),
        };
        assert_eq!(
            show_event(&media).unwrap(),
            "bot> [image] https://x.test/m.png — Map\n"
        );
        let transfer = Event::Transfer {
            kind: "department".into(),
            to: "Billing".into(),
        };
        assert_eq!(
            show_event(&transfer).unwrap(),
            "[transferred to department Billing — waiting for a human]\n"
        );
        assert_eq!(
            show_event(&Event::Goal {
                name: "g".into(),
                count: 1
            }),
            None
        );
    }
}

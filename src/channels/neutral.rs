//! The runtime's events as what a visitor sees on any messaging channel.

use crate::runtime::{CardView, ChoiceView, Event};

/// Something shown to the visitor, before a platform's shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A bot message or a notice.
    Text(String),
    /// Options to pick, with the text they answer (the menu's prompt, or the message just
    /// before them).
    Choices {
        /// The prompt; `None` when the flow gave none and no message came before.
        prompt: Option<String>,
        /// The options to tap.
        options: Vec<Pick>,
        /// Links among the options (shown as buttons where the platform can).
        links: Vec<Link>,
        /// `buttons` rather than `quick_replies`.
        buttons: bool,
    },
    /// A carousel: the cards, each with what can be picked on it.
    Cards(Vec<Card>),
    /// An image, audio, video or file by URL.
    Media {
        /// `image`, `audio`, `video` or `file`.
        kind: String,
        /// Where it is.
        url: String,
        /// Its caption.
        caption: Option<String>,
    },
}

/// An option to tap: its label, and the text that picks it when sent back (a postback's
/// payload, else the label; on cards, the card's title where labels repeat).
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// What the button shows.
    pub label: String,
    /// What tapping it sends as the visitor's message.
    pub value: String,
    /// 1-based position among the menu's options (a menu also takes the number).
    pub number: usize,
}

/// A card of a carousel, with its buttons as picks and links.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// The card as the event has it.
    pub view: CardView,
    /// Its branching and postback buttons.
    pub options: Vec<Pick>,
    /// Its link buttons.
    pub links: Vec<Link>,
}

impl Card {
    /// Every card's picks, in order, for platforms that show them apart from their cards: a
    /// label that other cards' buttons repeat ("Choose") shows as its card's title instead.
    pub fn all_options(cards: &[Card]) -> Vec<Pick> {
        let all: Vec<(&Card, &Pick)> = cards
            .iter()
            .flat_map(|c| c.options.iter().map(move |o| (c, o)))
            .collect();
        all.iter()
            .map(|(card, o)| {
                let repeated = all
                    .iter()
                    .filter(|(_, p)| p.label.eq_ignore_ascii_case(&o.label))
                    .count()
                    > 1;
                let label = if repeated {
                    card.view.title.clone()
                } else {
                    o.label.clone()
                };
                Pick {
                    label,
                    ..(*o).clone()
                }
            })
            .collect()
    }
}

/// A link option.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// What the button shows.
    pub label: String,
    /// Where it leads.
    pub url: String,
}

/// What a visitor is told when the chat was handed to a human.
pub fn transferred(to: &str) -> String {
    format!("You are being transferred to {to}.")
}
/// What a visitor is told when the chat ended.
pub const CLOSED: &str = "The chat has ended.";
/// What a visitor is told for a message passed to the human who has the chat.
pub const FORWARDED: &str = "Your message was passed on.";
/// What a visitor is told when a turn failed; the details are in the log.
pub const RUNTIME_ERROR: &str = "Sorry, something went wrong. Please try again.";

/// The visitor-facing replies of a turn's events, in order.
pub fn replies(events: &[Event]) -> Vec<Reply> {
    let mut out: Vec<Reply> = Vec::new();
    for event in events {
        match event {
            Event::Say { text } => out.push(Reply::Text(text.clone())),
            Event::Choices {
                style,
                text,
                options,
            } => {
                // Platforms show options under a message: the menu's own prompt, else the
                // message said just before.
                let prompt = match text {
                    Some(t) => Some(t.clone()),
                    None => match out.last() {
                        Some(Reply::Text(_)) => match out.pop() {
                            Some(Reply::Text(t)) => Some(t),
                            _ => None,
                        },
                        _ => None,
                    },
                };
                let (options, links) = picks(options);
                out.push(Reply::Choices {
                    prompt,
                    options,
                    links,
                    buttons: style == "buttons",
                });
            }
            Event::Carousel { cards } => out.push(Reply::Cards(card_picks(cards))),
            Event::Media { kind, url, caption } => out.push(Reply::Media {
                kind: kind.clone(),
                url: url.clone(),
                caption: caption.clone(),
            }),
            // One question at a time: the channel sends the answer as this field's.
            Event::Form { title, fields } => {
                if let Some(field) = fields.first() {
                    let text = match title {
                        Some(t) => format!("{t}\n{}", field.label),
                        None => field.label.clone(),
                    };
                    out.push(Reply::Text(text));
                }
            }
            Event::Transfer { to, .. } => out.push(Reply::Text(transferred(to))),
            Event::Forwarded { .. } => out.push(Reply::Text(FORWARDED.into())),
            Event::Closed => out.push(Reply::Text(CLOSED.into())),
            Event::RuntimeError { .. } => out.push(Reply::Text(RUNTIME_ERROR.into())),
            Event::Email {
                to,
                delivered: true,
                ..
            } => out.push(Reply::Text(format!("An email was sent to {to}."))),
            // The profile, asks, invalid answers (a re-prompt follows), goals, API calls,
            // undelivered emails and trace events are nothing a visitor sees.
            _ => {}
        }
    }
    out
}

/// A menu's options as picks (replies and postbacks) and links.
fn picks(options: &[ChoiceView]) -> (Vec<Pick>, Vec<Link>) {
    let mut picks = Vec::new();
    let mut links = Vec::new();
    for (i, o) in options.iter().enumerate() {
        match (o.kind.as_str(), &o.url, &o.payload) {
            ("link", Some(url), _) => links.push(Link {
                label: o.label.clone(),
                url: url.clone(),
            }),
            (_, _, Some(payload)) if o.kind == "postback" => picks.push(Pick {
                label: o.label.clone(),
                value: payload.clone(),
                number: i + 1,
            }),
            _ => picks.push(Pick {
                label: o.label.clone(),
                value: o.label.clone(),
                number: i + 1,
            }),
        }
    }
    (picks, links)
}

/// The cards with their buttons that pick something, each with the text that picks it: a
/// postback its payload; a button whose label no other button has, its label; else its
/// card's title (a title picks its card's first branching button), for the first such
/// button of a card. Numbers run across the cards.
pub fn card_picks(cards: &[CardView]) -> Vec<Card> {
    let labels: Vec<&str> = cards
        .iter()
        .flat_map(|c| c.buttons.iter())
        .filter(|b| b.kind != "link")
        .map(|b| b.label.as_str())
        .collect();
    let unique = |label: &str| {
        labels
            .iter()
            .filter(|l| l.eq_ignore_ascii_case(label))
            .count()
            == 1
    };
    let mut number = 0;
    let mut out = Vec::new();
    for card in cards {
        let mut titled = false;
        let mut options = Vec::new();
        let mut links = Vec::new();
        for b in &card.buttons {
            if let (true, Some(url)) = (b.kind == "link", &b.url) {
                links.push(Link {
                    label: b.label.clone(),
                    url: url.clone(),
                });
                continue;
            }
            let value = match &b.payload {
                Some(p) if b.kind == "postback" => p.clone(),
                _ if unique(&b.label) => b.label.clone(),
                _ if !titled => {
                    titled = true;
                    card.title.clone()
                }
                _ => continue,
            };
            number += 1;
            options.push(Pick {
                label: b.label.clone(),
                value,
                number,
            });
        }
        out.push(Card {
            view: card.clone(),
            options,
            links,
        });
    }
    out
}

/// A card as text: `N. Title` and its subtitle on the next line.
pub fn card_text(number: usize, card: &CardView) -> String {
    match &card.subtitle {
        Some(s) => format!("{number}. {}\n{s}", card.title),
        None => format!("{number}. {}", card.title),
    }
}

/// Options as numbered lines (`1. Label`), for platforms that cannot show that many
/// buttons: a menu also takes the number.
pub fn numbered(prompt: Option<&str>, options: &[Pick], links: &[Link]) -> String {
    let mut lines: Vec<String> = prompt.into_iter().map(str::to_string).collect();
    lines.extend(options.iter().map(|o| format!("{}. {}", o.number, o.label)));
    lines.extend(links.iter().map(|l| format!("{}: {}", l.label, l.url)));
    lines.join("\n")
}

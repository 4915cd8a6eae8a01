//! Viber REST bot API (`send_message`): texts with keyboards, pictures, links for other
//! media. <https://developers.viber.com/docs/api/rest-bot-api/>

use serde_json::{json, Value as Json};

use super::neutral::{card_text, numbered, Card, Link, Pick, Reply};
use super::telegram::CHOOSE;
use super::text::{clip, split};
use super::Outgoing;

/// Longest text message.
pub const TEXT: usize = 7000;
/// Longest picture description.
pub const PICTURE_TEXT: usize = 120;
/// Most keyboard buttons.
pub const MAX_BUTTONS: usize = 24;
/// Longest sender name.
pub const SENDER_NAME: usize = 28;

/// The replies as `send_message` requests to the Viber user `receiver`, sent as `bot_name`.
pub fn render(receiver: &str, replies: &[Reply], bot_name: &str) -> Vec<Outgoing> {
    let sender =
        json!({"name": clip(if bot_name.is_empty() { "Bot" } else { bot_name }, SENDER_NAME)});
    let base = |kind: &str| json!({"receiver": receiver, "sender": sender, "type": kind});
    let mut out = Vec::new();
    let text = |out: &mut Vec<Outgoing>, text: &str, keyboard: Option<Json>| {
        let pieces = split(text, TEXT);
        let last = pieces.len().saturating_sub(1);
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut body = base("text");
            body["text"] = json!(piece);
            if let (true, Some(k)) = (i == last, &keyboard) {
                body["keyboard"] = k.clone();
            }
            out.push(Outgoing {
                method: "send_message",
                body,
            });
        }
    };
    for reply in replies {
        match reply {
            Reply::Text(t) => text(&mut out, t, None),
            Reply::Choices {
                prompt,
                options,
                links,
                ..
            } => {
                let prompt = prompt.as_deref().unwrap_or(CHOOSE);
                match keyboard(options, links) {
                    Some(k) => text(&mut out, prompt, Some(k)),
                    None => text(&mut out, &numbered(Some(prompt), options, links), None),
                }
            }
            Reply::Cards(cards) => {
                for (i, card) in cards.iter().enumerate() {
                    let caption = card_text(i + 1, &card.view);
                    match &card.view.image {
                        Some(url) if caption.chars().count() <= PICTURE_TEXT => {
                            let mut body = base("picture");
                            body["media"] = json!(url);
                            body["text"] = json!(caption);
                            out.push(Outgoing {
                                method: "send_message",
                                body,
                            });
                        }
                        _ => text(&mut out, &caption, None),
                    }
                }
                let options = Card::all_options(cards);
                let links: Vec<Link> = cards.iter().flat_map(|c| c.links.clone()).collect();
                if let Some(k) = keyboard(&options, &links) {
                    text(&mut out, CHOOSE, Some(k));
                }
            }
            Reply::Media { kind, url, caption } => {
                if kind == "image" {
                    let mut body = base("picture");
                    body["media"] = json!(url);
                    let fits = caption
                        .as_deref()
                        .filter(|c| c.chars().count() <= PICTURE_TEXT);
                    body["text"] = json!(fits.unwrap_or(""));
                    out.push(Outgoing {
                        method: "send_message",
                        body,
                    });
                    if let (Some(c), None) = (caption, fits) {
                        text(&mut out, c, None);
                    }
                } else {
                    // Video and file messages need the size up front: send the link.
                    let mut body = base("url");
                    body["media"] = json!(url);
                    out.push(Outgoing {
                        method: "send_message",
                        body,
                    });
                    if let Some(c) = caption {
                        text(&mut out, c, None);
                    }
                }
            }
        }
    }
    out
}

/// A keyboard of one button per row: picks reply with their value, links open their URL.
/// `None` without buttons or with more than Viber shows.
fn keyboard(options: &[Pick], links: &[Link]) -> Option<Json> {
    let count = options.len() + links.len();
    if count == 0 || count > MAX_BUTTONS {
        return None;
    }
    let mut buttons: Vec<Json> = options
        .iter()
        .map(|o| json!({"Columns": 6, "Rows": 1, "ActionType": "reply", "ActionBody": o.value, "Text": o.label}))
        .collect();
    buttons.extend(links.iter().map(
        |l| json!({"Columns": 6, "Rows": 1, "ActionType": "open-url", "ActionBody": l.url, "Text": l.label}),
    ));
    Some(json!({"Type": "keyboard", "DefaultHeight": false, "Buttons": buttons}))
}

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
/// Most cards (content blocks) in one rich media message.
pub const MAX_CARDS: usize = 6;
/// Most buttons under one card (as on Messenger), so a card with an image fits in the
/// 7 rows of a block: image 3, text at least 1, buttons 3.
pub const CARD_BUTTONS: usize = 3;
/// The rows of a content block at most.
const BLOCK_ROWS: usize = 7;
/// The rows an image takes in a block.
const IMAGE_ROWS: usize = 3;
/// The client version that shows rich media; older ones show `alt_text`.
const RICH_MEDIA_API: u32 = 2;
/// Longest title and subtitle on a card.
pub const CARD_TEXT: usize = 80;

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
                for (n, group) in cards.chunks(MAX_CARDS).enumerate() {
                    let mut body = base("rich_media");
                    body["min_api_version"] = json!(RICH_MEDIA_API);
                    body["rich_media"] = rich_media(group);
                    body["alt_text"] = json!(alt_text(group, n * MAX_CARDS));
                    out.push(Outgoing {
                        method: "send_message",
                        body,
                    });
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

/// A carousel as Viber's rich media: one block of 6 columns per card, its image on top (3
/// rows), then its title and subtitle, then its buttons (one row each). Every block has the
/// same number of rows, so the text of a shorter card takes the rest.
/// <https://developers.viber.com/docs/api/rest-bot-api/#carousel-content-message>
fn rich_media(cards: &[Card]) -> Json {
    let shown = |card: &Card| (card.options.len() + card.links.len()).min(CARD_BUTTONS);
    let image_rows = |card: &Card| card.view.image.as_ref().map_or(0, |_| IMAGE_ROWS);
    let rows = cards
        .iter()
        .map(|c| image_rows(c) + 1 + usize::from(c.view.subtitle.is_some()) + shown(c))
        .max()
        .unwrap_or(1)
        .min(BLOCK_ROWS);
    let mut buttons = Vec::new();
    for card in cards {
        if let Some(url) = &card.view.image {
            buttons.push(
                json!({"Columns": 6, "Rows": IMAGE_ROWS, "ActionType": "none", "Image": url}),
            );
        }
        let mut text = format!("<b>{}</b>", escape(&clip(&card.view.title, CARD_TEXT)));
        if let Some(s) = &card.view.subtitle {
            text.push_str(&format!("<br>{}", escape(&clip(s, CARD_TEXT))));
        }
        let text_rows = rows - image_rows(card) - shown(card);
        buttons.push(
            json!({"Columns": 6, "Rows": text_rows, "ActionType": "none", "Text": text,
            "TextVAlign": "top", "TextHAlign": "left"}),
        );
        let picks = card.options.iter().map(|o| {
            json!({"Columns": 6, "Rows": 1, "ActionType": "reply", "ActionBody": o.value, "Text": o.label})
        });
        let links = card.links.iter().map(|l| {
            json!({"Columns": 6, "Rows": 1, "ActionType": "open-url", "ActionBody": l.url, "Text": l.label})
        });
        buttons.extend(picks.chain(links).take(CARD_BUTTONS));
    }
    json!({"Type": "rich_media", "ButtonsGroupColumns": 6, "ButtonsGroupRows": rows, "Buttons": buttons})
}

/// What clients too old for rich media show: each card as `N. Title`, its subtitle and its
/// links, numbered from `before + 1`.
fn alt_text(cards: &[Card], before: usize) -> String {
    let blocks: Vec<String> = cards
        .iter()
        .enumerate()
        .map(|(i, card)| {
            let mut block = card_text(before + i + 1, &card.view);
            for l in &card.links {
                block.push_str(&format!("\n{}: {}", l.label, l.url));
            }
            block
        })
        .collect();
    clip(&blocks.join("\n\n"), TEXT)
}

/// A card's text for Viber's markup (`<b>`, `<br>`): angle brackets of its own are shown,
/// not taken as tags.
fn escape(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
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

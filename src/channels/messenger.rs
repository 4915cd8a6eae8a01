//! Messenger and Instagram messaging (Meta Graph API `me/messages`): quick replies, the
//! button template, the generic template for carousels, attachments by URL.
//! <https://developers.facebook.com/docs/messenger-platform/send-messages>

use serde_json::{json, Value as Json};

use super::neutral::{numbered, Card, Link, Pick, Reply};
use super::telegram::CHOOSE;
use super::text::{clip, fits_bytes, split};
use super::Outgoing;

/// Longest Messenger text message.
pub const MESSENGER_TEXT: usize = 2000;
/// Longest Instagram text message.
pub const INSTAGRAM_TEXT: usize = 1000;
/// Most quick replies.
pub const MAX_QUICK_REPLIES: usize = 13;
/// Longest quick reply or button title.
pub const TITLE: usize = 20;
/// Longest text of a button template.
pub const BUTTON_TEXT: usize = 640;
/// Most buttons of a button template or a card.
pub const MAX_BUTTONS: usize = 3;
/// Most cards of a generic template.
pub const MAX_CARDS: usize = 10;
/// Longest card title and subtitle.
pub const CARD_TEXT: usize = 80;
/// Longest payload, in bytes.
pub const PAYLOAD: usize = 1000;

/// The replies as Send API requests to the page-scoped (or Instagram-scoped) id `psid`;
/// `limit` is the channel's longest text.
pub fn render(psid: &str, replies: &[Reply], limit: usize) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for reply in replies {
        match reply {
            Reply::Text(text) => texts(&mut out, psid, text, limit),
            Reply::Choices {
                prompt,
                options,
                links,
                buttons,
            } => choices(
                &mut out,
                psid,
                prompt.as_deref(),
                options,
                links,
                *buttons,
                limit,
            ),
            Reply::Cards(cards) => {
                for group in cards.chunks(MAX_CARDS) {
                    out.push(send(
                        psid,
                        json!({"attachment": {
                            "type": "template",
                            "payload": {"template_type": "generic", "elements": elements(group)},
                        }}),
                    ));
                }
            }
            Reply::Media { kind, url, caption } => {
                let kind = match kind.as_str() {
                    "image" | "audio" | "video" => kind.as_str(),
                    _ => "file",
                };
                out.push(send(
                    psid,
                    json!({"attachment": {"type": kind, "payload": {"url": url, "is_reusable": true}}}),
                ));
                if let Some(c) = caption {
                    texts(&mut out, psid, c, limit);
                }
            }
        }
    }
    out
}

fn send(psid: &str, message: Json) -> Outgoing {
    Outgoing {
        method: "messages",
        body: json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message}),
    }
}

fn texts(out: &mut Vec<Outgoing>, psid: &str, text: &str, limit: usize) {
    for piece in split(text, limit) {
        out.push(send(psid, json!({"text": piece})));
    }
}

/// Buttons (or links among the options) as a button template when they are 3 or fewer;
/// otherwise quick replies (up to 13, links as text); more as numbered lines.
fn choices(
    out: &mut Vec<Outgoing>,
    psid: &str,
    prompt: Option<&str>,
    options: &[Pick],
    links: &[Link],
    buttons: bool,
    limit: usize,
) {
    let prompt = prompt.unwrap_or(CHOOSE);
    let payloads_fit = options.iter().all(|o| fits_bytes(&o.value, PAYLOAD));
    let count = options.len() + links.len();
    if payloads_fit && (buttons || !links.is_empty()) && (1..=MAX_BUTTONS).contains(&count) {
        let mut pieces = split(prompt, BUTTON_TEXT);
        let last = pieces.pop().unwrap_or_else(|| CHOOSE.to_string());
        for piece in pieces {
            out.push(send(psid, json!({"text": piece})));
        }
        out.push(send(psid, json!({"attachment": {
            "type": "template",
            "payload": {"template_type": "button", "text": last, "buttons": template_buttons(options, links)},
        }})));
        return;
    }
    if !payloads_fit || options.is_empty() || options.len() > MAX_QUICK_REPLIES {
        return texts(out, psid, &numbered(Some(prompt), options, links), limit);
    }
    let mut text = prompt.to_string();
    for l in links {
        text.push_str(&format!("\n{}: {}", l.label, l.url));
    }
    let mut pieces = split(&text, limit);
    let last = pieces.pop().unwrap_or_else(|| CHOOSE.to_string());
    for piece in pieces {
        out.push(send(psid, json!({"text": piece})));
    }
    let quick: Vec<Json> = options
        .iter()
        .map(
            |o| json!({"content_type": "text", "title": clip(&o.label, TITLE), "payload": o.value}),
        )
        .collect();
    out.push(send(psid, json!({"text": last, "quick_replies": quick})));
}

fn template_buttons(options: &[Pick], links: &[Link]) -> Vec<Json> {
    let mut buttons: Vec<Json> = options
        .iter()
        .map(|o| json!({"type": "postback", "title": clip(&o.label, TITLE), "payload": o.value}))
        .collect();
    buttons.extend(
        links
            .iter()
            .map(|l| json!({"type": "web_url", "title": clip(&l.label, TITLE), "url": l.url})),
    );
    buttons.truncate(MAX_BUTTONS);
    buttons
}

fn elements(cards: &[Card]) -> Vec<Json> {
    cards
        .iter()
        .map(|card| {
            let mut element = json!({"title": clip(&card.view.title, CARD_TEXT)});
            if let Some(s) = &card.view.subtitle {
                element["subtitle"] = json!(clip(s, CARD_TEXT));
            }
            if let Some(url) = &card.view.image {
                element["image_url"] = json!(url);
            }
            let options: Vec<Pick> = card
                .options
                .iter()
                .filter(|o| fits_bytes(&o.value, PAYLOAD))
                .cloned()
                .collect();
            let buttons = template_buttons(&options, &card.links);
            if !buttons.is_empty() {
                element["buttons"] = Json::Array(buttons);
            }
            element
        })
        .collect()
}

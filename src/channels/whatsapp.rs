//! WhatsApp Cloud API: text, interactive reply buttons (up to 3) or a list (up to 10 rows),
//! media by link. <https://developers.facebook.com/docs/whatsapp/cloud-api/messages>

use serde_json::{json, Value as Json};

use super::neutral::{card_text, numbered, Card, Link, Pick, Reply};
use super::telegram::CHOOSE;
use super::text::{clip, fits_bytes, split};
use super::Outgoing;

/// Longest text message.
pub const TEXT: usize = 4096;
/// Longest body of a reply-buttons message.
pub const BUTTONS_BODY: usize = 1024;
/// Most reply buttons in one message.
pub const MAX_BUTTONS: usize = 3;
/// Longest reply-button title.
pub const BUTTON_TITLE: usize = 20;
/// Most rows of a list message.
pub const MAX_ROWS: usize = 10;
/// Longest list row title and description.
pub const ROW_TITLE: usize = 24;
/// Longest list row description.
pub const ROW_DESCRIPTION: usize = 72;
/// Longest id of a button or row, in bytes.
pub const ID: usize = 256;
/// Longest media caption.
pub const CAPTION: usize = 1024;
/// The label of the button that opens a list.
pub const LIST_BUTTON: &str = "Choose";

/// The replies as Cloud API `messages` requests to the phone number `to`.
pub fn render(to: &str, replies: &[Reply]) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for reply in replies {
        match reply {
            Reply::Text(text) => texts(&mut out, to, text),
            Reply::Choices {
                prompt,
                options,
                links,
                ..
            } => choices(&mut out, to, prompt.as_deref(), options, links),
            Reply::Cards(cards) => {
                for (i, card) in cards.iter().enumerate() {
                    let text = card_text(i + 1, &card.view);
                    match &card.view.image {
                        Some(url) => media(&mut out, to, "image", url, Some(&text)),
                        None => texts(&mut out, to, &text),
                    }
                }
                let links: Vec<Link> = cards.iter().flat_map(|c| c.links.clone()).collect();
                let options = Card::all_options(cards);
                if !options.is_empty() || !links.is_empty() {
                    choices(&mut out, to, None, &options, &links);
                }
            }
            Reply::Media { kind, url, caption } => {
                media(&mut out, to, kind, url, caption.as_deref())
            }
        }
    }
    out
}

fn message(to: &str, kind: &str, content: Json) -> Outgoing {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
    });
    body[kind] = content;
    Outgoing {
        method: "messages",
        body,
    }
}

fn texts(out: &mut Vec<Outgoing>, to: &str, text: &str) {
    for piece in split(text, TEXT) {
        out.push(message(
            to,
            "text",
            json!({"body": piece, "preview_url": false}),
        ));
    }
}

/// Up to 3 short options as reply buttons, up to 10 as a list, more as numbered lines.
/// Links go in the text, which WhatsApp makes tappable.
fn choices(
    out: &mut Vec<Outgoing>,
    to: &str,
    prompt: Option<&str>,
    options: &[Pick],
    links: &[Link],
) {
    let prompt = prompt.unwrap_or(CHOOSE);
    let mut body = prompt.to_string();
    for l in links {
        body.push_str(&format!("\n{}: {}", l.label, l.url));
    }
    let ids_fit = options.iter().all(|o| fits_bytes(&o.value, ID));
    if options.is_empty() || options.len() > MAX_ROWS || !ids_fit {
        return texts(out, to, &numbered(Some(prompt), options, links));
    }
    let short = options
        .iter()
        .all(|o| o.label.chars().count() <= BUTTON_TITLE);
    let limit = if options.len() <= MAX_BUTTONS && short {
        BUTTONS_BODY
    } else {
        TEXT
    };
    // A body over the limit: its beginning as texts, its end above the options.
    let mut pieces = split(&body, limit);
    let last = pieces.pop().unwrap_or_else(|| CHOOSE.to_string());
    for piece in pieces {
        out.push(message(
            to,
            "text",
            json!({"body": piece, "preview_url": false}),
        ));
    }
    let interactive = if limit == BUTTONS_BODY {
        let buttons: Vec<Json> = options
            .iter()
            .map(|o| json!({"type": "reply", "reply": {"id": o.value, "title": o.label}}))
            .collect();
        json!({"type": "button", "body": {"text": last}, "action": {"buttons": buttons}})
    } else {
        let rows: Vec<Json> = options
            .iter()
            .map(|o| {
                let mut row = json!({"id": o.value, "title": clip(&o.label, ROW_TITLE)});
                if o.label.chars().count() > ROW_TITLE {
                    row["description"] = json!(clip(&o.label, ROW_DESCRIPTION));
                }
                row
            })
            .collect();
        json!({
            "type": "list",
            "body": {"text": last},
            "action": {"button": LIST_BUTTON, "sections": [{"rows": rows}]},
        })
    };
    out.push(message(to, "interactive", interactive));
}

/// Image, video and file with their caption; audio has none, so its caption follows as text.
fn media(out: &mut Vec<Outgoing>, to: &str, kind: &str, url: &str, caption: Option<&str>) {
    let kind = match kind {
        "image" | "audio" | "video" => kind,
        _ => "document",
    };
    let mut content = json!({"link": url});
    let fits = caption.filter(|c| kind != "audio" && c.chars().count() <= CAPTION);
    if let Some(c) = fits {
        content["caption"] = json!(c);
    }
    out.push(message(to, kind, content));
    if let (Some(c), None) = (caption, fits) {
        texts(out, to, c);
    }
}

//! Telegram Bot API: `sendMessage` with inline keyboards, `sendPhoto` & co. for media.
//! <https://core.telegram.org/bots/api>

use serde_json::{json, Value as Json};

use super::neutral::{card_text, Link, Pick, Reply};
use super::text::{fits_bytes, split};
use super::Outgoing;

/// The text above options that came without a prompt.
pub const CHOOSE: &str = "Choose one:";

/// Longest message text.
pub const TEXT: usize = 4096;
/// Longest media caption.
pub const CAPTION: usize = 1024;
/// Longest `callback_data`, in bytes.
pub const CALLBACK_DATA: usize = 64;

/// The replies as Bot API calls to chat `chat_id`.
pub fn render(chat_id: &str, replies: &[Reply]) -> Vec<Outgoing> {
    let chat: Json = chat_id
        .parse::<i64>()
        .map_or_else(|_| json!(chat_id), |n| json!(n));
    let mut out = Vec::new();
    for reply in replies {
        match reply {
            Reply::Text(text) => texts(&mut out, &chat, text, None),
            Reply::Choices {
                prompt,
                options,
                links,
                buttons,
            } => {
                let per_row = if *buttons { 1 } else { 3 };
                let keyboard = keyboard(options, links, per_row);
                let prompt = prompt.as_deref().unwrap_or(CHOOSE);
                texts(&mut out, &chat, prompt, keyboard);
            }
            Reply::Cards(cards) => {
                for (i, card) in cards.iter().enumerate() {
                    let markup = keyboard(&card.options, &card.links, 1);
                    let text = card_text(i + 1, &card.view);
                    match &card.view.image {
                        Some(url) => media(&mut out, &chat, "image", url, Some(&text), markup),
                        None => texts(&mut out, &chat, &text, markup),
                    }
                }
            }
            Reply::Media { kind, url, caption } => {
                media(&mut out, &chat, kind, url, caption.as_deref(), None)
            }
        }
    }
    out
}

/// `text` as messages within the limit; the keyboard goes on the last.
fn texts(out: &mut Vec<Outgoing>, chat: &Json, text: &str, markup: Option<Json>) {
    let mut pieces = split(text, TEXT);
    if pieces.is_empty() {
        pieces.push("…".into());
    }
    let last = pieces.len() - 1;
    for (i, piece) in pieces.into_iter().enumerate() {
        let mut body = json!({"chat_id": chat, "text": piece});
        if let (true, Some(m)) = (i == last, &markup) {
            body["reply_markup"] = m.clone();
        }
        out.push(Outgoing {
            method: "sendMessage",
            body,
        });
    }
}

fn media(
    out: &mut Vec<Outgoing>,
    chat: &Json,
    kind: &str,
    url: &str,
    caption: Option<&str>,
    markup: Option<Json>,
) {
    let (method, field) = match kind {
        "image" => ("sendPhoto", "photo"),
        "audio" => ("sendAudio", "audio"),
        "video" => ("sendVideo", "video"),
        _ => ("sendDocument", "document"),
    };
    let mut body = json!({"chat_id": chat, field: url});
    // A caption over the limit goes out as messages after the media.
    let long = caption.filter(|c| c.chars().count() > CAPTION);
    if let Some(c) = caption.filter(|_| long.is_none()) {
        body["caption"] = json!(c);
    }
    if let (None, Some(m)) = (long, &markup) {
        body["reply_markup"] = m.clone();
    }
    out.push(Outgoing { method, body });
    if let Some(text) = long {
        texts(out, chat, text, markup);
    }
}

/// An inline keyboard: picks send their value back as `callback_data` (the option's number
/// when the value is over 64 bytes), links open their URL. `None` without buttons.
fn keyboard(options: &[Pick], links: &[Link], per_row: usize) -> Option<Json> {
    if options.is_empty() && links.is_empty() {
        return None;
    }
    let mut buttons: Vec<Json> = options
        .iter()
        .map(|o| {
            let data = if fits_bytes(&o.value, CALLBACK_DATA) {
                o.value.clone()
            } else {
                o.number.to_string()
            };
            json!({"text": o.label, "callback_data": data})
        })
        .collect();
    buttons.extend(links.iter().map(|l| json!({"text": l.label, "url": l.url})));
    let rows: Vec<Json> = buttons
        .chunks(per_row.max(1))
        .map(|row| Json::Array(row.to_vec()))
        .collect();
    Some(json!({"inline_keyboard": rows}))
}

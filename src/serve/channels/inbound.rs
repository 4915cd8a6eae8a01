//! Webhooks from the platforms: is it really from them, and which visitor messages it holds.
//!
//! Each platform proves a webhook its own way: Telegram with the secret token it was given
//! (`X-Telegram-Bot-Api-Secret-Token`), Meta with `X-Hub-Signature-256` (HMAC-SHA256 of the
//! raw body keyed with the app secret), Viber with `X-Viber-Content-Signature` (the same,
//! keyed with the auth token, in plain hex). All are compared in constant time.

use axum::http::HeaderMap;
use serde_json::Value as Json;

use super::config::ChannelConfig;
use crate::channels::Platform;
use crate::serve::service::constant_time_eq;
use crate::serve::webhook::signature;

/// A visitor's message taken from a webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The platform's id of the visitor (where replies go).
    pub user: String,
    /// The platform's id of the message: a message the platform sends again is run once.
    pub message_id: String,
    /// What the visitor wrote, or the value of the button they tapped.
    pub text: String,
}

/// Why a webhook was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No signature (401).
    Missing,
    /// A signature that does not match (403).
    Wrong,
}

/// Checks that the webhook with these headers and exact body bytes comes from the platform.
pub fn verify(config: &ChannelConfig, headers: &HeaderMap, body: &[u8]) -> Result<(), Refused> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secret = &config.credentials.signing;
    let (given, expected) = match config.platform {
        Platform::Telegram => (
            header("x-telegram-bot-api-secret-token"),
            secret.to_string(),
        ),
        Platform::WhatsApp | Platform::Messenger | Platform::Instagram => {
            (header("x-hub-signature-256"), signature(secret, body))
        }
        Platform::Viber => (
            header("x-viber-content-signature"),
            signature(secret, body)
                .trim_start_matches("sha256=")
                .to_string(),
        ),
    };
    let given = given.ok_or(Refused::Missing)?;
    // Hex digests may come in either case; the Telegram token is compared as given.
    let given = match config.platform {
        Platform::Telegram => given.to_string(),
        _ => given.trim().to_ascii_lowercase(),
    };
    if constant_time_eq(&given, &expected) {
        Ok(())
    } else {
        Err(Refused::Wrong)
    }
}

/// Meta's subscription check: `hub.mode=subscribe` with the verify token is answered with
/// `hub.challenge`; `None` refuses it.
pub fn meta_challenge(
    config: &ChannelConfig,
    query: &std::collections::HashMap<String, String>,
) -> Option<String> {
    let expected = config.credentials.verify_token.as_deref()?;
    let token = query.get("hub.verify_token")?;
    let good = query.get("hub.mode").map(String::as_str) == Some("subscribe")
        && constant_time_eq(token, expected);
    good.then(|| query.get("hub.challenge").cloned()).flatten()
}

/// The visitor messages of a webhook body, in order. Deliveries, reads, echoes of the bot's
/// own messages and messages without text are not visitor messages.
pub fn messages(platform: Platform, body: &Json) -> Vec<Inbound> {
    match platform {
        Platform::Telegram => telegram(body).into_iter().collect(),
        Platform::WhatsApp => whatsapp(body),
        Platform::Messenger | Platform::Instagram => messenger(body),
        Platform::Viber => viber(body).into_iter().collect(),
    }
}

fn text_of(v: &Json) -> Option<String> {
    v.as_str()
        .filter(|t| !t.trim().is_empty())
        .map(str::to_string)
}

fn id_of(v: &Json) -> Option<String> {
    match v {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The id of a Telegram update's callback query (a tapped inline keyboard button), which
/// the bot answers so the visitor's client stops its spinner.
pub fn telegram_callback_id(update: &Json) -> Option<String> {
    id_of(&update.get("callback_query")?["id"])
}

/// An update: a message with text (or a caption), or an inline keyboard's callback.
fn telegram(update: &Json) -> Option<Inbound> {
    if let Some(cb) = update.get("callback_query") {
        return Some(Inbound {
            user: id_of(&cb["message"]["chat"]["id"]).or_else(|| id_of(&cb["from"]["id"]))?,
            message_id: format!("cb:{}", id_of(&cb["id"])?),
            text: text_of(&cb["data"])?,
        });
    }
    let m = update.get("message")?;
    Some(Inbound {
        user: id_of(&m["chat"]["id"])?,
        message_id: id_of(&m["message_id"])?,
        text: text_of(&m["text"]).or_else(|| text_of(&m["caption"]))?,
    })
}

/// `entry[].changes[].value.messages[]`: text, a reply button or list row (its id), or a
/// template's quick reply button (its payload).
fn whatsapp(body: &Json) -> Vec<Inbound> {
    let mut out = Vec::new();
    for entry in array(&body["entry"]) {
        for change in array(&entry["changes"]) {
            for m in array(&change["value"]["messages"]) {
                let text = match m["type"].as_str() {
                    Some("text") => text_of(&m["text"]["body"]),
                    Some("interactive") => {
                        let i = &m["interactive"];
                        text_of(&i["button_reply"]["id"])
                            .or_else(|| text_of(&i["list_reply"]["id"]))
                    }
                    Some("button") => {
                        text_of(&m["button"]["payload"]).or_else(|| text_of(&m["button"]["text"]))
                    }
                    _ => None,
                };
                let (Some(user), Some(id), Some(text)) = (id_of(&m["from"]), id_of(&m["id"]), text)
                else {
                    continue;
                };
                out.push(Inbound {
                    user,
                    message_id: id,
                    text,
                });
            }
        }
    }
    out
}

/// `entry[].messaging[]`: a message (a quick reply's payload, else its text) or a postback's
/// payload. Echoes of the page's own messages are skipped.
fn messenger(body: &Json) -> Vec<Inbound> {
    let mut out = Vec::new();
    for entry in array(&body["entry"]) {
        for event in array(&entry["messaging"]) {
            let Some(user) = id_of(&event["sender"]["id"]) else {
                continue;
            };
            let m = &event["message"];
            let p = &event["postback"];
            let found = if m.is_object() && m["is_echo"] != Json::Bool(true) {
                let text = text_of(&m["quick_reply"]["payload"]).or_else(|| text_of(&m["text"]));
                id_of(&m["mid"]).zip(text)
            } else if p.is_object() {
                // Older postbacks have no `mid`: the sender and time name them.
                let id = id_of(&p["mid"])
                    .or_else(|| Some(format!("postback:{user}:{}", id_of(&event["timestamp"])?)));
                id.zip(text_of(&p["payload"]).or_else(|| text_of(&p["title"])))
            } else {
                None
            };
            if let Some((message_id, text)) = found {
                out.push(Inbound {
                    user,
                    message_id,
                    text,
                });
            }
        }
    }
    out
}

/// A `message` event with text (a keyboard button sends its `ActionBody` as text).
fn viber(body: &Json) -> Option<Inbound> {
    if body["event"].as_str() != Some("message") {
        return None;
    }
    Some(Inbound {
        user: id_of(&body["sender"]["id"])?,
        message_id: id_of(&body["message_token"])?,
        text: text_of(&body["message"]["text"])?,
    })
}

fn array(v: &Json) -> &[Json] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

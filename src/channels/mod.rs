//! How the bot's events look on messaging channels (`docs/channels.md`): WhatsApp,
//! Messenger, Instagram, Telegram and Viber.
//!
//! Two layers, both pure functions (no I/O, so `chatflow test --channel` renders exactly what
//! `serve` would send):
//!
//! - [`neutral`]: the runtime's events as what a visitor sees, whatever the channel: texts,
//!   choices with their prompt, cards, media; notices (transfer, close, ...) as texts; a form
//!   as its next question; trace and bookkeeping events dropped;
//! - one module per platform ([`telegram`], [`whatsapp`], [`messenger`], [`viber`]): those
//!   replies as the platform's send-API requests, within its limits (texts split at word
//!   boundaries, as many buttons as it shows, else a list or numbered lines).

use serde_json::Value as Json;

use crate::runtime::Event;

pub mod messenger;
pub mod neutral;
pub mod preview;
pub mod telegram;
pub mod text;
pub mod viber;
pub mod whatsapp;

pub use neutral::{replies, Reply};

/// A messaging platform chatflow can answer on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Telegram Bot API.
    Telegram,
    /// WhatsApp Cloud API.
    WhatsApp,
    /// Facebook Messenger (Meta Graph API).
    Messenger,
    /// Instagram messaging (Meta Graph API, Messenger's shapes).
    Instagram,
    /// Viber REST bot API.
    Viber,
}

impl Platform {
    /// Every platform, in the order of the docs.
    pub const ALL: [Platform; 5] = [
        Platform::WhatsApp,
        Platform::Messenger,
        Platform::Instagram,
        Platform::Telegram,
        Platform::Viber,
    ];

    /// The platform named `name` (`whatsapp`, `messenger`, `instagram`, `telegram`, `viber`).
    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The channel's name: the `--channel` value, the URL segment and `sys.channel`.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::WhatsApp => "whatsapp",
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
            Platform::Viber => "viber",
        }
    }
}

/// One request to a platform's send API: the API method (`sendMessage`, `messages`, ...)
/// and its JSON body. Credentials are not in it: they are added when it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The send API's method, the last part of its URL.
    pub method: &'static str,
    /// The request body.
    pub body: Json,
}

impl Outgoing {
    /// `{"method": ..., "body": ...}`: how an outgoing request is kept in the outbox.
    pub fn to_json(&self) -> Json {
        serde_json::json!({"method": self.method, "body": self.body})
    }
}

/// What rendering needs besides the events.
#[derive(Debug, Clone, Default)]
pub struct RenderContext {
    /// The bot's name (Viber shows it as the sender).
    pub bot_name: String,
}

/// A turn's events as the send-API requests that show them to `recipient` on `platform`.
pub fn render(
    platform: Platform,
    recipient: &str,
    events: &[Event],
    context: &RenderContext,
) -> Vec<Outgoing> {
    let replies = replies(events);
    match platform {
        Platform::Telegram => telegram::render(recipient, &replies),
        Platform::WhatsApp => whatsapp::render(recipient, &replies),
        Platform::Messenger => messenger::render(recipient, &replies, messenger::MESSENGER_TEXT),
        Platform::Instagram => messenger::render(recipient, &replies, messenger::INSTAGRAM_TEXT),
        Platform::Viber => viber::render(recipient, &replies, &context.bot_name),
    }
}

/// A conversation's turns as a visitor on `platform` reads them: each visitor message as
/// `> text`, then each send-API request the bot's answer makes, described by
/// [`preview::describe`], every line indented by `indent`.
pub fn transcript(
    platform: Platform,
    events: &[Event],
    turns: &[(usize, Option<String>)],
    context: &RenderContext,
    indent: &str,
) -> String {
    let mut out = String::new();
    for (i, (start, message)) in turns.iter().enumerate() {
        let end = turns.get(i + 1).map_or(events.len(), |(next, _)| *next);
        if let Some(m) = message {
            out.push_str(&format!("{indent}> {m}\n"));
        }
        let Some(turn) = events.get(*start..end.min(events.len())) else {
            continue;
        };
        for o in render(platform, "visitor", turn, context) {
            for (n, line) in preview::describe(&o).lines().enumerate() {
                let mark = if n == 0 { "< " } else { "  " };
                out.push_str(&format!("{indent}{mark}{line}\n"));
            }
        }
    }
    out
}

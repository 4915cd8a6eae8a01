//! Channels (`docs/channels.md`): the same bot on WhatsApp, Messenger, Instagram, Telegram
//! and Viber.
//!
//! - [`config`]: which channels, their send APIs and credentials (from secrets);
//! - [`inbound`]: a webhook's signature, and the visitor messages in it;
//! - [`deliver`]: the replies, from the store's outbox to the platform's send API;
//! - how events look on each platform is [`crate::channels`].
//!
//! `POST /channels/NAME/webhook` checks the signature (401 without one, 403 with a wrong
//! one; nothing is processed either way), answers 200 at once, and runs the messages after
//! that: platforms time out slow webhooks and send them again. A visitor's messages run one
//! after the other; each turn's replies are written to the outbox with the turn.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value as Json};

use super::http::AppState;
use super::service::{ChannelTurn, Replies};
use crate::channels::{render, Platform, RenderContext};
use crate::runtime::Event;
use crate::store::OutboxItem;

pub mod config;
pub mod deliver;
pub mod inbound;

pub use config::{ChannelConfig, Credentials, RetryPolicy};

/// The channels a server answers on, by name.
#[derive(Debug, Default)]
pub struct Channels {
    /// Each channel's settings.
    pub by_name: HashMap<String, ChannelConfig>,
    /// What rendering needs (the bot's name).
    pub context: RenderContext,
    /// For what is answered at once rather than through the outbox (Telegram's callback
    /// queries).
    pub client: reqwest::Client,
}

/// One visitor's replies on one channel, as outbox rows.
struct Renderer<'a> {
    platform: Platform,
    user: &'a str,
    context: &'a RenderContext,
}

impl Replies for Renderer<'_> {
    fn replies(&self, events: &[Event]) -> Vec<OutboxItem> {
        render(self.platform, self.user, events, self.context)
            .into_iter()
            .map(|o| OutboxItem {
                body: o.to_json().to_string(),
                channel: Some(self.platform.name().to_string()),
            })
            .collect()
    }
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// `POST /channels/{name}/webhook`.
pub async fn webhook(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(config) = state.channels.by_name.get(&name) else {
        return refuse(StatusCode::NOT_FOUND, "not_found", "no such channel");
    };
    match inbound::verify(config, &headers, &body) {
        Ok(()) => {}
        Err(inbound::Refused::Missing) => {
            tracing::warn!(channel = %name, "webhook without a signature refused");
            return refuse(StatusCode::UNAUTHORIZED, "unauthorized", "no signature");
        }
        Err(inbound::Refused::Wrong) => {
            tracing::warn!(channel = %name, "webhook with a wrong signature refused");
            return refuse(StatusCode::FORBIDDEN, "forbidden", "wrong signature");
        }
    }
    let Ok(update) = serde_json::from_slice::<Json>(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "the body is not JSON",
        );
    };
    if config.platform == Platform::Telegram {
        if let Some(id) = inbound::telegram_callback_id(&update) {
            let (channels, name) = (Arc::clone(&state.channels), name.clone());
            state.tasks.spawn(async move {
                if let Some(config) = channels.by_name.get(&name) {
                    deliver::answer_callback(&channels.client, config, &id).await;
                }
            });
        }
    }
    let messages = inbound::messages(config.platform, &update);
    if !messages.is_empty() {
        let service = Arc::clone(&state.service);
        let channels = Arc::clone(&state.channels);
        let platform = config.platform;
        // Tracked, so shutdown lets these turns commit; not awaited, so the platform gets
        // its 200 now.
        state.tasks.spawn(async move {
            for m in messages {
                let render = Renderer {
                    platform,
                    user: &m.user,
                    context: &channels.context,
                };
                let turn = ChannelTurn {
                    channel: platform.name(),
                    user: &m.user,
                    text: m.text.clone(),
                    message_id: m.message_id.clone(),
                    render: &render,
                };
                if let Err(e) = service.channel_message(turn).await {
                    tracing::error!(channel = platform.name(), error = %e, "a channel message failed");
                }
            }
        });
    }
    (StatusCode::OK, "ok").into_response()
}

/// `GET /channels/{name}/webhook`: Meta's subscription check (`hub.challenge`).
pub async fn verify_subscription(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(config) = state.channels.by_name.get(&name) else {
        return refuse(StatusCode::NOT_FOUND, "not_found", "no such channel");
    };
    match inbound::meta_challenge(config, &query) {
        Some(challenge) => (StatusCode::OK, challenge).into_response(),
        None => refuse(StatusCode::FORBIDDEN, "forbidden", "wrong verify token"),
    }
}

//! Turns that come from a messaging channel (`docs/channels.md`).
//!
//! A channel's visitor has no token: the webhook proved it came from the platform. Each
//! visitor (a channel and the platform's id of the user) is linked in the store to one
//! conversation at a time; their first message opens one (that message is the opening
//! turn's, so a re-sent copy of it is recognised and not answered twice), and a message
//! after the conversation closed opens the next. The bot's replies, rendered for the
//! channel, are written to the outbox in the turn's own transaction.

use std::borrow::Cow;
use std::time::Instant;

use serde_json::json;

use super::{
    now, random_hex, split_trace, state_name, token_hash, Caller, OpenRequest, Service,
    ServiceError, MAX_RERUNS,
};
use crate::runtime::{Engine, Event, Session};
use crate::store::{ChannelLink, Conversation, Message, OutboxItem, StoreError};

/// Renders a turn's events as outbox rows for a channel's send API.
pub trait Replies: Send + Sync {
    /// The outbox rows that show `events` to the visitor.
    fn replies(&self, events: &[Event]) -> Vec<OutboxItem>;
}

/// A visitor's message on a channel.
pub struct ChannelTurn<'a> {
    /// The channel's name (`sys.channel`).
    pub channel: &'a str,
    /// The platform's id of the visitor.
    pub user: &'a str,
    /// The text (or the value of the button tapped).
    pub text: String,
    /// The platform's id of the message.
    pub message_id: String,
    /// How replies are rendered for the channel.
    pub render: &'a dyn Replies,
}

impl ChannelTurn<'_> {
    pub(super) fn replies(&self, events: &[Event]) -> Vec<OutboxItem> {
        self.render.replies(events)
    }
}

/// The text the engine gets: on a channel, a form is asked one field at a time, so an
/// answer while a form waits is that field's (`{"field": "text"}`).
pub(super) fn answer_text<'t>(
    engine: &Engine,
    session: &Session,
    channel: Option<&ChannelTurn<'_>>,
    text: &'t str,
) -> Cow<'t, str> {
    // A visitor's text is used as it is, without looking for a form.
    match channel.and_then(|_| engine.awaited_form_field(session)) {
        Some(field) => Cow::Owned(json!({ field: text }).to_string()),
        None => Cow::Borrowed(text),
    }
}

impl Service {
    /// A channel visitor's message: runs it in the visitor's conversation, or opens one for
    /// them when they have none (or theirs ended). A message already processed (the same
    /// `message_id`) changes nothing and sends nothing again.
    pub async fn channel_message(&self, turn: ChannelTurn<'_>) -> Result<(), ServiceError> {
        // Conversation ids are hex, so this key never names a conversation's lock.
        let _held = self
            .locks
            .lock(&format!("channel:{}:{}", turn.channel, turn.user))
            .await;
        for _ in 0..MAX_RERUNS {
            let linked = self
                .store
                .channel_conversation(turn.channel, turn.user)
                .await?;
            if let Some(id) = &linked {
                let caller = Caller::Channel(&turn);
                let ran = self
                    .run_message(id, caller, turn.text.clone(), Some(turn.message_id.clone()))
                    .await;
                match ran {
                    Ok(_) => return Ok(()),
                    // Ended or erased: the visitor starts a new conversation.
                    Err(ServiceError::Conflict(_) | ServiceError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            if self.open_linked(&turn, linked).await? {
                return Ok(());
            }
            // Another worker linked the visitor to a conversation first: use that one.
        }
        Err(ServiceError::Store(StoreError::Commit(format!(
            "opening a conversation for a {} visitor lost the race {MAX_RERUNS} times",
            turn.channel
        ))))
    }

    /// Opens a conversation for the channel's visitor with their message as the opening
    /// turn's, and links them to it if they are still linked to `previous`.
    async fn open_linked(
        &self,
        turn: &ChannelTurn<'_>,
        previous: Option<String>,
    ) -> Result<bool, ServiceError> {
        let began = Instant::now();
        let mut session = self.engine.new_session();
        let request = OpenRequest {
            channel: Some(turn.channel.to_string()),
            ..OpenRequest::default()
        };
        self.apply_open_request(&mut session, request)?;
        let (events, trace) = split_trace(None, self.engine.start(&mut session).await);
        let id = random_hex(16)?;
        let now = now();
        let state = state_name(&session);
        let events_json = super::events_json(&events);
        let mut outbox = self.outbox_for(&id, &now, None, &events, &events_json, state, true);
        outbox.extend(turn.replies(&events));
        let message = Message {
            text: turn.text.clone(),
            message_id: Some(turn.message_id.clone()),
        };
        let commit = self.commit_for(
            &id,
            Some(message),
            &events_json,
            &session,
            &now,
            outbox,
            &trace,
        );
        let conversation = Conversation {
            id: id.clone(),
            // Nobody holds a token for it: a random one that is then forgotten.
            token_hash: token_hash(&random_hex(32)?),
            state: state.to_string(),
            node: commit.node.clone(),
            session: commit.session.clone(),
            flow_version: self.flow_version.clone(),
            created_at: now.clone(),
            updated_at: now,
            seq: 1,
        };
        let wake = !commit.outbox.is_empty();
        let link = ChannelLink {
            channel: turn.channel.to_string(),
            user: turn.user.to_string(),
            previous,
        };
        if !self.store.create_linked(conversation, commit, link).await? {
            return Ok(false);
        }
        if wake {
            self.wake_outbox();
        }
        self.observe(&events, began);
        tracing::info!(conversation = %id, channel = turn.channel, state, "conversation opened");
        Ok(true)
    }
}

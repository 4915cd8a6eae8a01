//! Conversations over the store: opening one, taking a message, reading one back. No HTTP
//! here; [`super::http`] maps these results to statuses.
//!
//! A turn: take the conversation's lock, read its row, restore the session against the
//! current flow ([`super::resume`]), run the engine (API calls happen here, with no store
//! transaction open), then commit session, turn and webhook outbox rows in one transaction.
//! The answer is returned only after that commit.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::locks::Locks;
use super::metrics::{outcome_class, Metrics};
use super::resume::{self, StoredSession};
use crate::ir::{Program, Value, ValueType};
use crate::report::trace::{is_trace_only, TurnTrace};
use crate::runtime::{Engine, Event, ReplyStream, Session, SessionState};
use crate::store::{Committed, Conversation, Message, OutboxItem, Store, StoreError, TurnCommit};

mod channels;

pub use channels::{ChannelTurn, Replies};

/// How many times a turn may lose the compare-and-swap to other workers before it gives up.
/// Each loss means another turn of the conversation was stored, so the conversation moves.
const MAX_RERUNS: usize = 50;

/// What the visitor is told when the conversation expired (`--session-ttl`).
pub const EXPIRED: &str = "This conversation was closed because it was idle for too long.";

/// The answer to a turn: state after it and its events. Serialized, it is the HTTP answer
/// `{"state": ..., "events": [...]}`.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// `waiting`, `closed`, `transferred` or `failed`.
    pub state: Cow<'static, str>,
    /// The turn's events as a JSON array, serialized once: the same text is stored, sent
    /// to webhooks and embedded in the answer.
    pub events: Box<RawValue>,
}

/// A new conversation.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The conversation's id, for the URL.
    pub id: String,
    /// The bearer token for later turns; only its hash is stored.
    pub token: String,
    /// The opening turn.
    pub answer: Answer,
}

/// What a new conversation may know beforehand.
#[derive(Debug, Clone, Default)]
pub struct OpenRequest {
    /// `sys.language` to start in.
    pub language: Option<String>,
    /// `sys.channel` of the conversation.
    pub channel: Option<String>,
    /// Attributes set before the start node runs, by name.
    pub attributes: serde_json::Map<String, Json>,
}

/// Why the service refused or failed a request.
#[derive(thiserror::Error, Debug)]
pub enum ServiceError {
    /// No conversation with that id.
    #[error("no such conversation")]
    NotFound,
    /// The token is missing or does not match.
    #[error("missing or wrong token")]
    Unauthorized,
    /// The conversation cannot take a message in this state.
    #[error("the conversation is {0}")]
    Conflict(String),
    /// The request is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Without OS randomness, ids and tokens would be guessable: refuse to make any.
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
    /// A stored session no longer fits the flow or is damaged.
    #[error("the stored session cannot be read: {0}")]
    Corrupt(String),
}

/// Who sends a message: a visitor with (maybe) their conversation's token (and, for the web
/// chat, where the model's replies are streamed), or a channel.
#[derive(Clone, Copy)]
enum Caller<'a> {
    Visitor(Option<&'a str>, Option<&'a ReplyStream>),
    Channel(&'a channels::ChannelTurn<'a>),
}

/// Which webhook events the bot asked for (`None`: no webhook).
pub type WebhookEvents = Option<Vec<String>>;

/// `chatflow serve`'s conversation service: runs turns on the engine and stores them.
pub struct Service {
    /// The engine running the flow.
    pub engine: Engine,
    /// Where conversations and turns are kept.
    pub store: Store,
    /// Content hash of the flow, stored with each turn.
    pub flow_version: String,
    /// Idle time after which a conversation expires; `None`: never.
    pub session_ttl: Option<Duration>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The webhook events to write to the outbox.
    pub webhook_events: WebhookEvents,
    /// Woken when a turn wrote webhook events, so they go out at once.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Woken with [`Service::outbox_wake`]: one per channel's sender.
    pub channel_wakes: Vec<Arc<tokio::sync::Notify>>,
    locks: Locks,
}

impl Service {
    /// A service over `engine` and `store`; the flow's version is its content hash.
    pub fn new(
        engine: Engine,
        store: Store,
        session_ttl: Option<Duration>,
        webhook_events: WebhookEvents,
    ) -> Service {
        let flow_version = flow_version(engine.program());
        Service {
            // Trace events are what reports are made of; visitors never see them.
            engine: engine.traced(),
            store,
            flow_version,
            session_ttl,
            metrics: Arc::default(),
            webhook_events,
            outbox_wake: Arc::default(),
            channel_wakes: Vec::new(),
            locks: Locks::default(),
        }
    }

    /// The program being served.
    pub fn program(&self) -> &Program {
        self.engine.program()
    }

    /// Starts a conversation: runs the opening turn and stores it.
    pub async fn open(&self, req: OpenRequest) -> Result<Opened, ServiceError> {
        let began = Instant::now();
        let mut session = self.engine.new_session();
        self.apply_open_request(&mut session, req)?;
        let (events, trace) = split_trace(None, self.engine.start(&mut session).await);
        let id = random_hex(16)?;
        let token = random_hex(32)?;
        let now = now();
        let state = state_name(&session);
        let events_json = events_json(&events);
        let outbox = self.outbox_for(&id, &now, None, &events, &events_json, state, true);
        let commit = self.commit_for(&id, None, &events_json, &session, &now, outbox, &trace);
        let conversation = Conversation {
            id: id.clone(),
            token_hash: token_hash(&token),
            state: state.to_string(),
            node: commit.node.clone(),
            session: commit.session.clone(),
            flow_version: self.flow_version.clone(),
            created_at: now.clone(),
            updated_at: now,
            seq: 1,
        };
        let wake = !commit.outbox.is_empty();
        self.store.create(conversation, commit).await?;
        if wake {
            self.wake_outbox();
        }
        self.observe(&events, began);
        tracing::info!(conversation = %id, state, "conversation opened");
        Ok(Opened {
            id,
            token,
            answer: Answer {
                state: Cow::Borrowed(state),
                events: events_json,
            },
        })
    }

    fn apply_open_request(
        &self,
        session: &mut Session,
        req: OpenRequest,
    ) -> Result<(), ServiceError> {
        let program = self.program();
        if let Some(language) = req.language {
            let declared = &program.bot.languages;
            if !declared.is_empty() && !declared.contains(&language) {
                return Err(ServiceError::Invalid(format!(
                    "language `{language}` is not one of the bot's languages ({})",
                    declared.join(", ")
                )));
            }
            session.sys.insert("language".into(), Value::Text(language));
        }
        if let Some(channel) = req.channel {
            session.sys.insert("channel".into(), Value::Text(channel));
        }
        for (name, json) in req.attributes {
            let Some(i) = program.attrs.iter().position(|a| a.name == name) else {
                return Err(ServiceError::Invalid(format!(
                    "the flow has no attribute `{name}`"
                )));
            };
            let fits = matches!(
                (program.attrs[i].ty, &json),
                (ValueType::Text, Json::String(_))
                    | (ValueType::Number, Json::Number(_))
                    | (ValueType::Bool, Json::Bool(_))
                    | (ValueType::Any, _)
            );
            if !fits {
                return Err(ServiceError::Invalid(format!(
                    "attribute `{name}` is {}, not {json}",
                    type_name(program.attrs[i].ty)
                )));
            }
            let value: Value =
                serde_json::from_value(json).map_err(|e| ServiceError::Invalid(e.to_string()))?;
            session.attrs[i] = Some(value);
        }
        Ok(())
    }

    /// The conversation if `token` is its token (or the admin's, when `admin` is true).
    pub async fn authorize(
        &self,
        id: &str,
        token: Option<&str>,
        admin: Option<&str>,
    ) -> Result<Conversation, ServiceError> {
        let conversation = self
            .store
            .conversation(id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let is_admin = matches!((admin, token), (Some(a), Some(t)) if constant_time_eq(a, t));
        if !is_admin {
            check_token(&conversation, token)?;
        }
        Ok(conversation)
    }

    /// One visitor message. Duplicates (same `message_id`) get the first answer again.
    pub async fn message(
        &self,
        id: &str,
        token: Option<&str>,
        text: String,
        message_id: Option<String>,
    ) -> Result<Answer, ServiceError> {
        self.run_message(id, Caller::Visitor(token, None), text, message_id)
            .await
    }

    /// [`Service::message`] with the model's replies sent to `stream` while they arrive
    /// ([`Engine::step_streamed`]); the answer and what is stored are the same.
    pub async fn message_streamed(
        &self,
        id: &str,
        token: Option<&str>,
        text: String,
        message_id: Option<String>,
        stream: ReplyStream,
    ) -> Result<Answer, ServiceError> {
        let caller = Caller::Visitor(token, Some(&stream));
        self.run_message(id, caller, text, message_id).await
    }

    /// [`Service::message`] for a visitor's token, or for a channel (trusted: it proved the
    /// webhook came from the platform), whose replies also go to the outbox.
    async fn run_message(
        &self,
        id: &str,
        caller: Caller<'_>,
        text: String,
        message_id: Option<String>,
    ) -> Result<Answer, ServiceError> {
        let began = Instant::now();
        // Lock first, then read once: the row read under the lock is both what the token is
        // checked against and the state the turn starts from. The lock serializes this
        // process's turns; another process on the same database is caught by the commit's
        // compare-and-swap, and the turn runs again on what that process stored.
        let _held = self.locks.lock(id).await;
        for _ in 0..MAX_RERUNS {
            let turn = self.try_message(id, caller, &text, message_id.as_deref(), began);
            if let Some(answer) = turn.await? {
                return Ok(answer);
            }
            self.metrics.rerun();
            if let Caller::Visitor(_, Some(stream)) = caller {
                // What the visitor saw of this run is not what will be stored.
                stream.retract_all();
            }
            tracing::debug!(conversation = %id, "another worker stored a turn first; running again");
        }
        Err(ServiceError::Store(StoreError::Commit(format!(
            "the turn lost the race against other workers {MAX_RERUNS} times"
        ))))
    }

    /// One attempt at a turn: `None` when another process stored a turn of the conversation
    /// after it was read here (nothing was stored; run it again).
    async fn try_message(
        &self,
        id: &str,
        caller: Caller<'_>,
        text: &str,
        message_id: Option<&str>,
        began: Instant,
    ) -> Result<Option<Answer>, ServiceError> {
        let (conversation, first) = self
            .store
            .conversation_for_message(id, message_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let (channel, stream) = match caller {
            Caller::Visitor(token, stream) => {
                check_token(&conversation, token)?;
                (None, stream)
            }
            Caller::Channel(channel) => (Some(channel), None),
        };
        if let Some(turn) = first {
            return Ok(Some(stored_answer(turn.state, &turn.events)));
        }
        if conversation.state == "closed" || conversation.state == "failed" {
            return Err(ServiceError::Conflict(conversation.state));
        }
        let (mut session, mut events) = self.restore(&conversation)?;
        let text = channels::answer_text(&self.engine, &session, channel, text);
        // An answer to a sensitive question is never stored (docs/language.md).
        let sensitive = self.engine.awaits_sensitive(&session);
        let now_time = Utc::now();
        let expired = self.expired(&conversation, now_time);
        if expired && channel.is_some() {
            // A channel's visitor who comes back after the idle time starts a new
            // conversation with this message, rather than being told the old one ended.
            return Err(ServiceError::Conflict("expired".into()));
        }
        if expired {
            session.state = SessionState::Closed;
            events.push(Event::Say {
                text: EXPIRED.into(),
            });
            events.push(Event::Closed);
        } else if session.state == SessionState::New && !events.is_empty() {
            // The flow changed under the conversation: it starts over; the message is not
            // an answer to anything the visitor has seen, so it is not consumed.
            events.extend(self.engine.start(&mut session).await);
        } else if let Some(stream) = stream {
            let turn = self
                .engine
                .step_streamed(&mut session, &text, stream.clone());
            events.extend(turn.await);
        } else {
            events.extend(self.engine.step(&mut session, &text).await);
        }
        let (events, mut trace) = split_trace(Some(&conversation.node), events);
        trace.expired = expired;
        let at = now_time.to_rfc3339_opts(SecondsFormat::Millis, true);
        let stored_text = if sensitive {
            crate::runtime::MASK.to_string()
        } else {
            text.into_owned()
        };
        let message = Message {
            text: stored_text,
            message_id: message_id.map(str::to_string),
        };
        let state = state_name(&session);
        let events_json = events_json(&events);
        let mut outbox =
            self.outbox_for(id, &at, Some(&message), &events, &events_json, state, false);
        if let Some(channel) = channel {
            outbox.extend(channel.replies(&events));
        }
        let mut commit = self.commit_for(
            id,
            Some(message),
            &events_json,
            &session,
            &at,
            outbox,
            &trace,
        );
        commit.seq = conversation.seq + 1;
        // The untrained inbox: free text the bot fell back on, in a bot that has intents.
        commit.unmatched = !sensitive && !trace.fallbacks.is_empty() && self.understands();
        let wake = !commit.outbox.is_empty();
        match self.store.commit_turn(commit).await? {
            Committed::Stored { .. } if wake => self.wake_outbox(),
            Committed::Stored { .. } => {}
            Committed::Duplicate(turn) => return Ok(Some(stored_answer(turn.state, &turn.events))),
            Committed::Gone => return Err(ServiceError::NotFound),
            Committed::Conflict => return Ok(None),
        }
        self.observe(&events, began);
        tracing::info!(conversation = %id, state, events = events.len(), "turn");
        Ok(Some(Answer {
            state: Cow::Borrowed(state),
            events: events_json,
        }))
    }

    /// Tells the outbox's senders that a turn wrote rows.
    fn wake_outbox(&self) {
        self.outbox_wake.notify_one();
        for wake in &self.channel_wakes {
            wake.notify_one();
        }
    }

    /// The session to run, and any events the restore itself produced.
    fn restore(&self, c: &Conversation) -> Result<(Session, Vec<Event>), ServiceError> {
        let stored: StoredSession =
            serde_json::from_str(&c.session).map_err(|e| ServiceError::Corrupt(e.to_string()))?;
        // The stored system attributes replace a new session's, so none are made here (a
        // random visitor id among them would be work thrown away on every turn).
        let program = self.program();
        match resume::restore(program, stored, Session::at_start(program)) {
            Ok(session) => Ok((session, Vec::new())),
            Err(fresh) => {
                let fresh = *fresh;
                tracing::warn!(conversation = %c.id, node = %c.node, "stored place is gone from the flow; starting over");
                Ok((
                    fresh,
                    vec![Event::Say {
                        text: resume::RESTARTED.into(),
                    }],
                ))
            }
        }
    }

    fn expired(&self, c: &Conversation, now: DateTime<Utc>) -> bool {
        let Some(ttl) = self.session_ttl else {
            return false;
        };
        let Ok(updated) = DateTime::parse_from_rfc3339(&c.updated_at) else {
            return false;
        };
        let idle = now.signed_duration_since(updated.with_timezone(&Utc));
        idle.to_std().is_ok_and(|idle| idle > ttl)
    }

    #[allow(clippy::too_many_arguments)]
    fn outbox_for(
        &self,
        id: &str,
        at: &str,
        message: Option<&Message>,
        events: &[Event],
        events_json: &RawValue,
        state: &str,
        opening: bool,
    ) -> Vec<OutboxItem> {
        let Some(wanted) = &self.webhook_events else {
            return Vec::new();
        };
        let mut out: Vec<(&str, WebhookData)> = Vec::new();
        if opening {
            out.push(("started", WebhookData::Empty {}));
        }
        if let Some(m) = message {
            let data = WebhookData::Message {
                text: &m.text,
                message_id: m.message_id.as_deref(),
                events: events_json,
            };
            out.push(("message", data));
        }
        for event in events {
            match event {
                Event::Goal { name, count } => out.push((
                    "goal",
                    WebhookData::Goal {
                        name,
                        count: *count,
                    },
                )),
                Event::Transfer { kind, to } => {
                    out.push(("transferred", WebhookData::Transferred { kind, to }))
                }
                Event::Closed => out.push(("closed", WebhookData::Empty {})),
                _ => {}
            }
        }
        if state == "failed" {
            out.push(("failed", WebhookData::Empty {}));
        }
        out.into_iter()
            .filter(|(name, _)| wanted.iter().any(|w| w == name))
            .filter_map(|(event, data)| {
                let body = WebhookBody {
                    event,
                    conversation: id,
                    at,
                    flow_version: &self.flow_version,
                    data,
                };
                serde_json::to_string(&body).ok().map(OutboxItem::webhook)
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn commit_for(
        &self,
        id: &str,
        message: Option<Message>,
        events: &RawValue,
        session: &Session,
        at: &str,
        outbox: Vec<OutboxItem>,
        trace: &TurnTrace,
    ) -> TurnCommit {
        let program = self.program();
        let stored = resume::store(program, session);
        TurnCommit {
            conversation: id.to_string(),
            seq: 1,
            message,
            events: events.get().to_string(),
            state: state_name(session).to_string(),
            node: resume::node_name(program, session),
            session: serde_json::to_string(&stored).unwrap_or_default(),
            flow_version: self.flow_version.clone(),
            at: at.to_string(),
            trace: serde_json::to_string(trace).ok(),
            outbox,
            unmatched: false,
        }
    }

    /// Whether the bot has intents or FAQ entries to train with unmatched messages.
    fn understands(&self) -> bool {
        self.program()
            .understanding
            .as_ref()
            .is_some_and(|u| !u.classes.is_empty())
    }

    fn observe(&self, events: &[Event], began: Instant) {
        self.metrics.turn(began.elapsed().as_secs_f64());
        for event in events {
            if let Event::ApiCall {
                api,
                status,
                error,
                latency_ms,
                ..
            } = event
            {
                let class = outcome_class(*status, error.as_deref());
                self.metrics
                    .api_call(api, class, *latency_ms as f64 / 1000.0);
            }
        }
    }

    /// The attributes of a stored conversation, by name (only set ones).
    pub fn attributes(
        &self,
        c: &Conversation,
    ) -> Result<serde_json::Map<String, Json>, ServiceError> {
        let stored: StoredSession =
            serde_json::from_str(&c.session).map_err(|e| ServiceError::Corrupt(e.to_string()))?;
        Ok(stored
            .attrs
            .into_iter()
            .map(|(k, v)| (k, serde_json::to_value(v).unwrap_or(Json::Null)))
            .collect())
    }

    /// Conversations with a turn in flight (for tests).
    pub fn busy(&self) -> usize {
        self.locks.busy()
    }
}

/// `waiting`, `closed`, `transferred`, or `failed` (the bot could not start the
/// conversation: its opening hit a runtime error; a session still `New` after its opening
/// turn is one too).
pub fn state_name(s: &Session) -> &'static str {
    match s.state {
        SessionState::Waiting => "waiting",
        SessionState::Closed => "closed",
        SessionState::Transferred => "transferred",
        SessionState::New | SessionState::Failed => "failed",
    }
}

/// `Ok` when `token` is the conversation's own token.
fn check_token(conversation: &Conversation, token: Option<&str>) -> Result<(), ServiceError> {
    let token = token.ok_or(ServiceError::Unauthorized)?;
    if constant_time_eq(&token_hash(token), &conversation.token_hash) {
        Ok(())
    } else {
        Err(ServiceError::Unauthorized)
    }
}

/// The events a visitor sees, and the turn's trace made from all of them.
fn split_trace(waiting_in: Option<&str>, mut events: Vec<Event>) -> (Vec<Event>, TurnTrace) {
    let trace = TurnTrace::from_events(waiting_in, &events);
    events.retain(|e| !is_trace_only(e));
    (events, trace)
}

/// The answer stored with a turn, for a duplicate message. The text is read as a JSON
/// value and written again, as it always was: the answer is compact JSON whatever the row
/// holds, and `[]` when the row is not JSON. (Duplicates are rare; this is off the hot path.)
fn stored_answer(state: String, events: &str) -> Answer {
    let events = serde_json::from_str::<Json>(events)
        .ok()
        .and_then(|value| serde_json::value::to_raw_value(&value).ok())
        .unwrap_or_else(no_events);
    Answer {
        state: Cow::Owned(state),
        events,
    }
}

/// The events as the JSON array that clients, webhooks and the store get, written straight
/// from the events (the same bytes as through a `serde_json::Value`; a test checks).
fn events_json(events: &[Event]) -> Box<RawValue> {
    serde_json::value::to_raw_value(events).unwrap_or_else(|_| no_events())
}

/// `[]`, for events that cannot be written or read.
fn no_events() -> Box<RawValue> {
    // `[]` is JSON, so the fallback is never taken; it keeps this free of panics.
    RawValue::from_string("[]".to_string()).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// A webhook event's `data`, by event.
#[derive(Serialize)]
#[serde(untagged)]
enum WebhookData<'a> {
    /// `{}`.
    Empty {},
    Message {
        text: &'a str,
        message_id: Option<&'a str>,
        events: &'a RawValue,
    },
    Goal {
        name: &'a str,
        count: u32,
    },
    Transferred {
        kind: &'a str,
        to: &'a str,
    },
}

/// A webhook's body (docs/http-api.md), in its documented key order.
#[derive(Serialize)]
struct WebhookBody<'a> {
    event: &'a str,
    conversation: &'a str,
    at: &'a str,
    flow_version: &'a str,
    data: WebhookData<'a>,
}

fn type_name(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Text => "text",
        ValueType::Number => "a number",
        ValueType::Bool => "a boolean",
        ValueType::Any => "any value",
    }
}

/// RFC 3339 UTC with milliseconds (sorts as text).
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The flow's content hash: SHA-256 of its IR without tests and source positions, so a
/// change of layout or comments is not a new version.
pub fn flow_version(program: &Program) -> String {
    let mut p = program.clone();
    p.tests.clear();
    p.source_map = Default::default();
    let json = serde_json::to_vec(&p).unwrap_or_default();
    hex(&Sha256::digest(&json)[..16])
}

/// `bytes` random bytes from the OS, as hex.
pub fn random_hex(bytes: usize) -> Result<String, ServiceError> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).map_err(|e| ServiceError::Random(e.to_string()))?;
    Ok(hex(&buf))
}

/// SHA-256 of a token, hex: what the store keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Equality that takes the same time wherever the first difference is.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The service as the HTTP handlers share it.
pub type Shared = Arc<Service>;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::runtime::{CardView, ChoiceView, FormFieldView};

    /// One event of every kind, with text that needs escaping and options both set and not.
    fn every_event() -> Vec<Event> {
        let text = |s: &str| s.to_string();
        let choice = ChoiceView {
            label: text("Yes \"please\""),
            kind: text("link"),
            url: Some(text("https://example.com/?a=1&b=é")),
            payload: None,
        };
        vec![
            Event::Profile {
                name: text("Bot"),
                avatar: None,
            },
            Event::Say {
                text: text("Hello\nworld \u{1F600} <b>"),
            },
            Event::Ask {
                attr: text("email"),
                kind: text("email"),
            },
            Event::Invalid {
                attr: text("age"),
                kind: text("number"),
                answer: text("x\ty"),
            },
            Event::NodeEntered { node: text("a") },
            Event::Returned { node: text("b") },
            Event::Condition {
                node: text("a"),
                arm: 2,
                result: true,
                target: text("c"),
            },
            Event::Fallback { node: text("menu") },
            Event::ApiCall {
                api: text("lookup"),
                method: text("GET"),
                url: text("http://127.0.0.1:1/x?q=1"),
                status: 0,
                error: Some(text("timeout")),
                latency_ms: u64::MAX,
                attempts: 3,
            },
            Event::RuntimeError {
                message: text("step limit"),
            },
            Event::Choices {
                style: text("buttons"),
                text: None,
                options: vec![choice.clone()],
            },
            Event::Carousel {
                cards: vec![CardView {
                    title: text("Card"),
                    subtitle: None,
                    image: Some(text("https://example.com/a.png")),
                    buttons: vec![choice],
                }],
            },
            Event::Email {
                to: text("a@example.com"),
                subject: text("Hi"),
                body: text("Body"),
                delivered: false,
                error: Some(text("no smtp")),
            },
            Event::Form {
                title: Some(text("Details")),
                fields: vec![FormFieldView {
                    attr: text("name"),
                    kind: text("text"),
                    label: text("Name"),
                }],
            },
            Event::Media {
                kind: text("image"),
                url: text("https://example.com/b.png"),
                caption: None,
            },
            Event::Transfer {
                kind: text("department"),
                to: text("sales"),
            },
            Event::Forwarded { text: text("hi") },
            Event::Goal {
                name: text("signup"),
                count: 2,
            },
            Event::Closed,
        ]
    }

    #[test]
    fn events_are_written_as_through_a_json_value() {
        let events = every_event();
        let value = serde_json::to_value(&events).unwrap();
        assert_eq!(events_json(&events).get(), value.to_string());
        let answer = Answer {
            state: Cow::Borrowed("waiting"),
            events: events_json(&events),
        };
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            json!({"state": "waiting", "events": value}).to_string()
        );
    }

    #[test]
    fn a_stored_answer_is_compact_json_or_no_events() {
        let answer = stored_answer("closed".into(), "[ {\"type\" : \"closed\"} ]");
        assert_eq!(answer.events.get(), r#"[{"type":"closed"}]"#);
        assert_eq!(answer.state, "closed");
        assert_eq!(stored_answer("waiting".into(), "[{").events.get(), "[]");
    }

    #[test]
    fn webhook_bodies_are_written_as_through_a_json_value() {
        let events = every_event();
        let raw = events_json(&events);
        let value = serde_json::to_value(&events).unwrap();
        let body = |data| WebhookBody {
            event: "e",
            conversation: "c1",
            at: "2026-01-01T00:00:00.000Z",
            flow_version: "v1",
            data,
        };
        let expected = |data: Json| {
            json!({"event": "e", "conversation": "c1", "at": "2026-01-01T00:00:00.000Z",
                   "flow_version": "v1", "data": data})
            .to_string()
        };
        let cases = [
            (WebhookData::Empty {}, json!({})),
            (
                WebhookData::Message {
                    text: "hi \"there\"",
                    message_id: None,
                    events: &raw,
                },
                json!({"text": "hi \"there\"", "message_id": null, "events": value}),
            ),
            (
                WebhookData::Message {
                    text: "",
                    message_id: Some("m-1"),
                    events: &raw,
                },
                json!({"text": "", "message_id": "m-1", "events": value}),
            ),
            (
                WebhookData::Goal {
                    name: "signup",
                    count: 3,
                },
                json!({"name": "signup", "count": 3}),
            ),
            (
                WebhookData::Transferred {
                    kind: "agent",
                    to: "ann",
                },
                json!({"kind": "agent", "to": "ann"}),
            ),
        ];
        for (data, value) in cases {
            assert_eq!(serde_json::to_string(&body(data)).unwrap(), expected(value));
        }
    }

    #[test]
    fn token_hash_is_sha256_in_lowercase_hex() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex(&[0x00, 0x0f, 0xf0, 0xff]), "000ff0ff");
    }
}

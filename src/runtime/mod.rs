//! Run compiled flows: sessions, the interpreter, the HTTP API connector.
//!
//! A conversation is a [`Session`]: plain serde data, so it can be stored between turns and
//! resumed anywhere. [`Engine::start`] runs the entry node until the bot waits for the user;
//! [`Engine::step`] takes one user message and runs until the next wait or the close.
//!
//! Choices this runtime makes where `language.md` leaves room:
//!
//! - **Turns.** `step` on a session that was never started runs `start` first and then treats
//!   the message as the answer to the first `ask`. `step` on a closed chat returns only a
//!   `RuntimeError` ("chat is closed"). Every message sets `sys.last_message`.
//! - **Asks.** A refused answer gives `Invalid`, a `Say` naming what is expected, the prompt
//!   again (when the `ask` has one) and a fresh `Ask`; the attribute stays unset. Accepted
//!   answers are trimmed; see [`validate`] for each kind's forms (day-first dates, `HH:MM`
//!   times, numbers with optional thousands commas).
//! - **Step limit.** Node entries are counted per turn (`max_steps` is at most
//!   [`MAX_STEPS_CAP`]); entry number `max_steps + 1` ends the
//!   turn with a `RuntimeError` naming the limit and the node. The session is put back where
//!   the turn began: waiting at the same `ask` (its answer stays stored), so the next message
//!   answers that question again; a turn that began with `start` leaves the session `New`.
//! - **Comparisons.** Unset compares unequal to everything and fails `<`, `in`, the text
//!   operators and `matches`. Numbers compare numerically; text with `<`-style operators
//!   compares by code point (so `YYYY-MM-DD` dates and `HH:MM` times order correctly); values
//!   of different types are never equal (`"200" != 200`). The text operators and `matches`
//!   read numbers and booleans in their template form. As a bare condition, a value is true
//!   unless it is unset, null, `false`, `0` or `""`.
//! - **Saves.** Saves run on every answer that arrived (any status) whose body is JSON; a path
//!   that is missing unsets the attribute; JSON arrays and objects are stored as `Value::List` /
//!   `Value::Map` (dynamic data reads them; templates and text operators see compact JSON). A
//!   non-JSON or empty body unsets the API's saved attributes (an earlier call's data must not
//!   pass for this one's); a failed call (status 0) leaves them as they were.
//! - **System attributes.** `sys.channel` (from [`EngineConfig::channel`], `terminal` by
//!   default; a session may overwrite it), `sys.language`, `sys.visitor_id` (random, per
//!   session), `sys.last_message`, `sys.api_error` (set when `status` is 0, cleared by the
//!   next answer), `sys.email_error` are stored in the session; `sys.now` (RFC 3339, UTC),
//!   `sys.date` (`YYYY-MM-DD`) and `sys.time` (`HH:MM`) are read from the clock or
//!   [`Session::fixed_now`]; `sys.bot_name` from the program; `sys.otp_code` is the code of the
//!   OTP being sent (only while it is sent; it is never stored in the session) and, in API requests, is masked as `***` in events like a secret.
//! - **Actions** (`docs/actions.md`): a conversation starts with `Profile`, then the greeting.
//!   Menus and carousels match an answer by label (trimmed, case-insensitive), then by 1-based
//!   number (menus) or card title (carousels; a button label shared by several cards does not
//!   pick), then by postback payload; picking a link matches nothing. No match: the fallback
//!   and the options again. A form answer is a JSON object keyed by attribute name or values
//!   in field order separated by `;` or new lines; absent values stay missing. OTP codes come
//!   from the OS random generator; a wrong code re-prompts until `tries` answers were wrong,
//!   then `fail`. While waiting, the session keeps only a random salt and the SHA-256 of salt
//!   and code (see [`Wait::Otp`]), never the code. `transfer` leaves the session [`SessionState::Transferred`]. Sub-flows nest
//!   at most [`MAX_CALL_DEPTH`] deep; deeper stops the turn like the step limit.
//! - **Sessions from storage** whose node the program lacks get a `RuntimeError`; their
//!   attribute list is resized to the program's.
//! - **Call limits.** One `call` takes at most [`EngineConfig::call_deadline`] with its
//!   retries; all calls of a turn at most [`EngineConfig::turn_budget`]; a turn makes at most
//!   [`EngineConfig::max_calls_per_turn`] calls. A call past a limit has status 0 and
//!   `sys.api_error` `timeout`, `turn_budget` or `call_limit`.
//! - **Streaming.** [`Engine::step_streamed`] runs a turn like `step` and sends the text of its
//!   model replies to a [`ReplyStream`] while it arrives; its events are `step`'s ([`stream`]).
//! - The HTTP details (encoding, retries, caps, redirects, error codes) are in [`http`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ir::{NodeId, SysAttr, Value};

pub mod clock;
mod engine;
mod eval;
mod guard;
pub mod http;
mod otp;
mod secrets;
mod sensitive;
mod sent;
mod smtp;
mod sse;
pub mod stream;
pub mod validate;

pub use clock::{Clock, VirtualClock};
pub use engine::ai::{completion_json, Said, Speaker};
pub use engine::{CallReport, Engine, LoadError, MAX_CALL_DEPTH};
pub use http::HttpConnector;
pub use secrets::{parse_secrets_file, secrets_from_env, Masker, SECRET_ENV_PREFIX};
pub use sensitive::MASK;
pub use sent::SentRequest;
pub use stream::{ReplyStream, Streamed};

/// Something the bot did during a turn, in order. Trace-only events (marked) are emitted
/// only when [`EngineConfig::trace`] is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A text message from the bot (`say`, an `ask` prompt, a re-prompt).
    Say {
        /// The message, in the conversation's language.
        text: String,
    },
    /// The bot now waits for the user's answer to fill `attr`.
    Ask {
        /// The attribute the answer goes to.
        attr: String,
        /// The ask kind (`text`, `number`, ...).
        kind: String,
    },
    /// The user's answer failed the `ask` kind's check; a re-prompt `Say` follows.
    Invalid {
        /// The attribute the answer was for.
        attr: String,
        /// The ask kind it failed.
        kind: String,
        /// The answer as typed.
        answer: String,
    },
    /// Trace: the conversation entered a node.
    NodeEntered {
        /// The node's name.
        node: String,
    },
    /// Trace: a sub-flow returned (by `return` or by running out of statements) and the
    /// conversation goes on in `node`, the caller's node, after its `run`. Not a node entry.
    Returned {
        /// The node the conversation goes on in.
        node: String,
    },
    /// Trace: a branch arm was evaluated (`arm` is 0-based; `else` is reported as taken
    /// with `arm == arms.len()` and `result == true`).
    Condition {
        /// The node of the branch.
        node: String,
        /// Which arm (0-based).
        arm: usize,
        /// Whether its condition held.
        result: bool,
        /// Where the arm leads.
        target: String,
    },
    /// Trace: an answer to a menu, carousel or form matched nothing, so the bot said its
    /// fallback and offered the options again.
    Fallback {
        /// The node that waits for the answer.
        node: String,
    },
    /// An API call finished (always emitted). `url` is the URL as the flow built it.
    ApiCall {
        /// The API's name.
        api: String,
        /// The HTTP method.
        method: String,
        /// The URL as sent.
        url: String,
        /// The final HTTP status; 0 when no response arrived.
        status: u16,
        /// Why no response arrived when `status == 0`: `timeout`, `connect`, `too_large`, ...
        error: Option<String>,
        /// Time from the first attempt to the last answer.
        latency_ms: u64,
        /// How many requests were sent (retries included).
        attempts: u32,
    },
    /// The chat is closed; further input gets no answer.
    Closed,
    /// The turn stopped because of a runtime fault (step limit, ...); the session stays usable.
    RuntimeError {
        /// What went wrong, for the visitor and the log.
        message: String,
    },
    /// First event of a conversation: the bot's profile.
    Profile {
        /// The bot's name.
        name: String,
        /// Picture URL.
        avatar: Option<String>,
    },
    /// Quick replies (`style` = `quick_replies`) or buttons (`buttons`); the bot waits when
    /// any option branches.
    Choices {
        /// `quick_replies` or `buttons`.
        style: String,
        /// The prompt shown above the options.
        text: Option<String>,
        /// The options in order.
        options: Vec<ChoiceView>,
    },
    /// A carousel of cards.
    Carousel {
        /// The cards in order.
        cards: Vec<CardView>,
    },
    /// An email: always recorded; `delivered` when an SMTP server accepted it.
    Email {
        /// Recipient address.
        to: String,
        /// Subject line.
        subject: String,
        /// Message body.
        body: String,
        /// Whether an SMTP server accepted it.
        delivered: bool,
        /// Why it was not delivered, when it was meant to be.
        error: Option<String>,
    },
    /// A form: the bot waits for one answer that fills the listed fields.
    Form {
        /// Heading shown before the fields.
        title: Option<String>,
        /// The fields in order.
        fields: Vec<FormFieldView>,
    },
    /// `image`, `audio`, `video` or `file`.
    Media {
        /// `image`, `audio`, `video` or `file`.
        kind: String,
        /// Where the media is.
        url: String,
        /// Text shown with it.
        caption: Option<String>,
    },
    /// Handed over to a human (`kind` = `department` or `agent`); later input gives `Forwarded`.
    Transfer {
        /// `department` or `agent`.
        kind: String,
        /// Whom the conversation went to.
        to: String,
    },
    /// A user message received while the conversation waits for a human.
    Forwarded {
        /// The visitor's message.
        text: String,
    },
    /// A conversion mark; `count` is how many times this conversation reached the goal.
    Goal {
        /// The goal's name.
        name: String,
        /// How many times this conversation reached it, this time included.
        count: u32,
    },
}

/// One option of a `Choices` event or a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceView {
    /// The text shown; typing it picks the option.
    pub label: String,
    /// `reply`, `link` or `postback`.
    pub kind: String,
    /// Where a `link` option leads.
    pub url: Option<String>,
    /// What a `postback` option reports instead of its label.
    pub payload: Option<String>,
}

/// One card of a `Carousel` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardView {
    /// Heading; typing it picks the card.
    pub title: String,
    /// Text under the title.
    pub subtitle: Option<String>,
    /// Picture URL.
    pub image: Option<String>,
    /// The card's buttons.
    pub buttons: Vec<ChoiceView>,
}

/// One field of a `Form` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormFieldView {
    /// The attribute the field fills.
    pub attr: String,
    /// The ask kind the answer must fit.
    pub kind: String,
    /// The question.
    pub label: String,
}

/// Per-engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Node entries allowed per turn before the turn ends with a `RuntimeError`.
    pub max_steps: u32,
    /// Emit trace-only events.
    pub trace: bool,
    /// When set (e.g. `http://127.0.0.1:4000`), every API request goes to
    /// `{redirect_base}/{api_name}{path}{?query}` instead of its own host; events still report
    /// the URL as the flow built it. Used by `chatflow test` and the offline demo.
    pub redirect_base: Option<String>,
    /// Largest response body read, in bytes (1 MiB by default).
    pub max_response_bytes: usize,
    /// Secrets by name; when `None`, `{secret.NAME}` is read from the environment variable
    /// `CHATFLOW_SECRET_NAME` at send time (no other variable). Their values are masked as
    /// `***` in every event.
    pub secrets: Option<Arc<HashMap<String, String>>>,
    /// When set, no attempt waits longer than this many milliseconds, whatever the API's
    /// `timeout` says (lets `chatflow test` make `stub API timeout` fast).
    pub timeout_cap_ms: Option<u64>,
    /// The wait between attempts of a retried API call.
    pub backoff: Backoff,
    /// `sys.channel` of new sessions (`terminal` by default).
    pub channel: String,
    /// `sys.language` of new sessions; `None` (the default) starts them in the bot's first
    /// declared language, or `en` for a bot that declares none.
    pub language: Option<String>,
    /// Where `email` is delivered; `None` records the `Email` event only.
    pub smtp: Option<SmtpConfig>,
    /// OTP codes are the first `digits` digits of `1234567890` instead of random ones
    /// (`chatflow test`, `run --otp-code`).
    pub fixed_otp: bool,
    /// What API timeouts and retry waits wait on (`chatflow test` gives each test a virtual one).
    pub clock: Clock,
    /// The longest one `call` may take in all, retries and backoff waits included (30 s by
    /// default); past it the call fails with `timeout`.
    pub call_deadline: Duration,
    /// The time all API calls of one turn may take together (60 s by default); a call made
    /// when it is spent fails at once with `turn_budget`, and no call may outlast it.
    pub turn_budget: Duration,
    /// API calls allowed in one turn (50 by default); the next fails at once with
    /// `call_limit`.
    pub max_calls_per_turn: u32,
    /// API calls in flight at once to one origin (scheme, host and port), all conversations
    /// together ([`MAX_CALLS_PER_ORIGIN`] by default; 0 is no limit). A call past it waits for
    /// one to end, within its attempt's timeout. Over HTTP/1.1 every call in flight holds a
    /// connection, so this also bounds the connections (and descriptors) one API gets.
    pub max_calls_per_origin: usize,
}

/// The default [`EngineConfig::max_calls_per_origin`]. Calls to one API can carry at most
/// this many divided by its latency a second (20,480/s at 100 ms): 1,024, Envoy's default
/// connection limit, bound the 10,000-conversation bench on a fast machine
/// (docs/performance.md, round seven).
pub const MAX_CALLS_PER_ORIGIN: usize = 2048;

/// The most node entries per turn [`EngineConfig::max_steps`] may allow: a larger setting
/// counts as this, so a loop without a wait always ends.
pub const MAX_STEPS_CAP: u32 = 1_000_000;

/// What the current turn has spent on API calls. Reset when a turn begins; never stored and
/// never compared (it is not conversation state).
#[derive(Debug, Clone, Default)]
pub struct TurnUsage {
    pub(crate) calls: u32,
    pub(crate) started: Option<clock::Stamp>,
    /// Where the turn's model replies are streamed ([`Engine::step_streamed`]).
    pub(crate) stream: Option<ReplyStream>,
}

impl TurnUsage {
    /// A turn begins: nothing spent yet; the stream it was given stays.
    pub(crate) fn begin(&mut self) {
        *self = TurnUsage {
            stream: self.stream.take(),
            ..TurnUsage::default()
        };
    }
}

impl PartialEq for TurnUsage {
    fn eq(&self, _: &TurnUsage) -> bool {
        true
    }
}

/// The wait before retry `n` (counting from 0) of an API call: `first × 2ⁿ`, at most `max`,
/// then spread by up to ±`jitter` (a fraction of the wait) so that many conversations retrying
/// at once do not hit the API in step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub first: Duration,
    /// The longest wait, before jitter.
    pub max: Duration,
    /// From 0 (always the same wait) to 1.
    pub jitter: f64,
}

impl Backoff {
    /// Retry at once: no wait between attempts.
    pub const NONE: Backoff = Backoff {
        first: Duration::ZERO,
        max: Duration::ZERO,
        jitter: 0.0,
    };

    /// The wait before retry `n`; `spread` in `[0, 1)` picks the point within the jitter
    /// (0.5 is the middle: no jitter).
    pub fn delay(&self, n: u32, spread: f64) -> Duration {
        let wait = self
            .first
            .saturating_mul(2u32.saturating_pow(n.min(31)))
            .min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = 1.0 - jitter + 2.0 * jitter * spread.clamp(0.0, 1.0);
        if factor == 1.0 {
            wait // exact, without a round trip through floating point
        } else {
            wait.mul_f64(factor)
        }
    }
}

impl Default for Backoff {
    /// 100 ms, 200 ms, 400 ms, ... at most 2 s, ±50 %.
    fn default() -> Self {
        Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(2),
            jitter: 0.5,
        }
    }
}

/// A plain SMTP server (no TLS, no authentication): a local relay or a test server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// `host:port`.
    pub addr: String,
    /// The sender address.
    pub from: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_steps: 1000,
            trace: false,
            redirect_base: None,
            max_response_bytes: 1024 * 1024,
            secrets: None,
            timeout_cap_ms: None,
            backoff: Backoff::default(),
            channel: "terminal".to_string(),
            language: None,
            smtp: None,
            fixed_otp: false,
            clock: Clock::System,
            call_deadline: Duration::from_secs(30),
            turn_budget: Duration::from_secs(60),
            max_calls_per_turn: 50,
            max_calls_per_origin: MAX_CALLS_PER_ORIGIN,
        }
    }
}

/// A conversation between turns: data only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The node being run or waited in.
    pub node: NodeId,
    /// Index of the next statement to run in `node` (after an `ask`, the one after it).
    pub pc: u32,
    /// Attribute values by `AttrId`; `None` is unset.
    pub attrs: Vec<Option<Value>>,
    /// HTTP status of the last call; `None` before any call.
    pub status: Option<u16>,
    /// System attributes (`sys.api_error`, `sys.last_message`, `sys.channel`, ...).
    pub sys: HashMap<String, Value>,
    /// Where the conversation is: new, waiting, closed or handed over.
    pub state: SessionState,
    /// What the waiting statement needs to take the next answer, beyond the IR (rendered
    /// dynamic options, OTP code, missing form fields). `None` for `ask` and static menus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Wait>,
    /// Return points (node, statement index) of the sub-flows being run, innermost last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<(NodeId, u32)>,
    /// How many times each goal was reached.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub goals: BTreeMap<String, u32>,
    /// A fixed clock (RFC 3339) for `sys.now`, `sys.date`, `sys.time` and `open(...)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_now: Option<String>,
    /// The recent conversation, kept only by a program with an `ai` (what its statements send
    /// the model; bounded, see [`engine::ai`](crate::runtime::Said)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<Said>,
    /// The current turn's API calls, for the per-turn limits; not stored.
    #[serde(skip)]
    #[doc(hidden)]
    pub turn: TurnUsage,
}

impl Session {
    /// A session of `program` at its start, with nothing set, not even system attributes:
    /// [`Engine::new_session`] adds those; a restored session gets the stored ones.
    pub fn at_start(program: &crate::ir::Program) -> Session {
        Session {
            node: program.bot.start,
            pc: 0,
            attrs: vec![None; program.attrs.len()],
            status: None,
            sys: HashMap::new(),
            state: SessionState::New,
            wait: None,
            calls: Vec::new(),
            goals: BTreeMap::new(),
            fixed_now: None,
            transcript: Vec::new(),
            turn: TurnUsage::default(),
        }
    }

    /// Sets a system attribute the runtime keeps in the session.
    pub fn set_sys(&mut self, attr: SysAttr, text: String) {
        self.sys.insert(attr.name().to_string(), Value::Text(text));
    }

    /// Unsets a system attribute kept in the session.
    pub fn clear_sys(&mut self, attr: SysAttr) {
        self.sys.remove(attr.name());
    }
}

/// The data a waiting statement keeps between turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Wait {
    /// A dynamic menu or carousel: the labels as offered (button labels for carousels) and,
    /// for carousels, the card titles. The elements stay in the list attribute.
    Items {
        /// The option labels as offered.
        labels: Vec<String>,
        /// Carousel card titles, which also pick a card.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        titles: Vec<String>,
    },
    /// Appointment slots as offered: labels and the slot elements from the API answer.
    Slots {
        /// The slot labels as offered.
        labels: Vec<String>,
        /// The slots as the API listed them.
        slots: Vec<Value>,
    },
    /// A sent one-time code, kept only as a random salt and `sha256(salt || code)` (both
    /// hex) so a stored session never reveals it, and the answers still allowed.
    Otp {
        /// Random salt, hex.
        salt: String,
        /// `sha256(salt || code)`, hex.
        digest: String,
        /// Wrong answers still allowed.
        tries_left: u32,
    },
    /// Indices (into the form's fields) still to be filled.
    Form {
        /// Field indices not yet answered.
        missing: Vec<u32>,
    },
}

/// Where a conversation is in its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Not started: `start` has not run yet.
    New,
    /// Waiting for the answer to the statement at `pc - 1` of `node` (an `ask`, a menu, a
    /// carousel, a form, an OTP or an appointment; see [`Session::wait`]).
    Waiting,
    /// Ended by `close` or by running out of statements; input gets no answer.
    Closed,
    /// Handed to a human by `transfer`: every message gives `Forwarded` and nothing else.
    Transferred,
    /// The opening turn stopped on a runtime error (the step limit, ...), so the conversation
    /// never began and has ended: every later message answers with a `RuntimeError` saying so.
    Failed,
}

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
//! - **Step limit.** Node entries are counted per turn; entry number `max_steps + 1` ends the
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
//!   that is missing unsets the attribute; JSON objects and arrays are stored as JSON text. A
//!   non-JSON or empty body saves nothing; a failed call (status 0) saves nothing.
//! - **System attributes.** `sys.channel` (from [`EngineConfig::channel`], `terminal` by
//!   default; a session may overwrite it), `sys.language`, `sys.visitor_id` (random, per
//!   session), `sys.last_message`, `sys.api_error` (set when `status` is 0, cleared by the
//!   next answer) are stored in the session; `sys.now` (RFC 3339, UTC), `sys.date`
//!   (`YYYY-MM-DD`) and `sys.time` (`HH:MM`) are read from the clock.
//! - **Sessions from storage** whose node the program lacks get a `RuntimeError`; their
//!   attribute list is resized to the program's.
//! - The HTTP details (encoding, retries, caps, redirects, error codes) are in [`http`].

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ir::{NodeId, Value};

mod engine;
mod eval;
pub mod http;
pub mod validate;

pub use engine::{CallReport, Engine, LoadError};
pub use http::HttpConnector;

/// Something the bot did during a turn, in order. Trace-only events (marked) are emitted
/// only when [`EngineConfig::trace`] is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A text message from the bot (`say`, an `ask` prompt, a re-prompt).
    Say { text: String },
    /// The bot now waits for the user's answer to fill `attr`.
    Ask { attr: String, kind: String },
    /// The user's answer failed the `ask` kind's check; a re-prompt `Say` follows.
    Invalid { attr: String, kind: String, answer: String },
    /// Trace: the conversation entered a node.
    NodeEntered { node: String },
    /// Trace: a branch arm was evaluated (`arm` is 0-based; `else` is reported as taken
    /// with `arm == arms.len()` and `result == true`).
    Condition { node: String, arm: usize, result: bool, target: String },
    /// An API call finished (always emitted). `url` is the URL as the flow built it.
    ApiCall {
        api: String,
        method: String,
        url: String,
        status: u16,
        /// Why no response arrived when `status == 0`: `timeout`, `connect`, `too_large`, ...
        error: Option<String>,
        latency_ms: u64,
        attempts: u32,
    },
    /// The chat is closed; further input gets no answer.
    Closed,
    /// The turn stopped because of a runtime fault (step limit, ...); the session stays usable.
    RuntimeError { message: String },
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
    /// Secrets by name; when `None` they are read from the process environment at send time.
    pub secrets: Option<Arc<HashMap<String, String>>>,
    /// When set, no attempt waits longer than this many milliseconds, whatever the API's
    /// `timeout` says (lets `chatflow test` make `stub API timeout` fast).
    pub timeout_cap_ms: Option<u64>,
    /// `sys.channel` of new sessions (`terminal` by default).
    pub channel: String,
    /// `sys.language` of new sessions (`en` by default).
    pub language: String,
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
            channel: "terminal".to_string(),
            language: "en".to_string(),
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
    pub state: SessionState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Not started: `start` has not run yet.
    New,
    /// Waiting for the answer to the `ask` at `pc - 1` of `node`.
    Waiting,
    Closed,
}

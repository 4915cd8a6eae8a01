//! Run compiled flows: sessions, the interpreter, the HTTP API connector.
//!
//! A conversation is a [`Session`]: plain serde data, so it can be stored between turns and
//! resumed anywhere. [`Engine::start`] runs the entry node until the bot waits for the user;
//! [`Engine::step`] takes one user message and runs until the next wait or the close.

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

//! `chatflow report`: what the bot team reads, computed from the stored turns alone.
//!
//! - [`trace`]: what each stored turn keeps for reports (nodes, edges, goals, API calls);
//! - [`compute`]: plain functions from [`Rows`] to a [`Report`];
//! - [`render`]: the report as text, JSON or CSV; [`html`]: as one self-contained page.
//!
//! The store hands over [`Rows`] (one read, see `Store::report_rows`); nothing here touches a
//! database, so every number is unit-testable from hand-made rows.

pub mod compute;
pub mod html;
pub mod render;
pub mod trace;
pub mod unmatched;

pub use compute::{compute, Options, Report};
pub use trace::TurnTrace;

/// A conversation as reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    /// The conversation's id.
    pub id: String,
    /// `waiting`, `closed`, `transferred` or `failed`.
    pub state: String,
    /// The node it is in (or stopped in), by name.
    pub node: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC: when its last turn was stored.
    pub updated_at: String,
}

/// A turn as reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRow {
    /// The conversation it belongs to.
    pub conversation: String,
    /// 1 for the opening turn.
    pub seq: i64,
    /// Whether a visitor message started it (every turn but the opening one).
    pub has_message: bool,
    /// The turn's events as a JSON array (read only when `trace` is missing).
    pub events: String,
    /// The [`TurnTrace`] as JSON; `None` for turns stored before traces were kept.
    pub trace: Option<String>,
    /// Content hash of the flow the turn ran on.
    pub flow_version: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// What a report is computed from: conversations started in the period, with their turns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Oldest first.
    pub conversations: Vec<ConversationRow>,
    /// By conversation, then by `seq`.
    pub turns: Vec<TurnRow>,
}

impl TurnRow {
    /// The turn's trace: stored, or what its events tell for turns stored without one.
    pub fn trace(&self) -> TurnTrace {
        match self.trace.as_deref().map(serde_json::from_str::<TurnTrace>) {
            Some(Ok(t)) => t,
            _ => TurnTrace::from_stored_events(&self.events),
        }
    }
}

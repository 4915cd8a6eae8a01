//! Where `chatflow serve` keeps conversations: one [`Store`] over interchangeable backends.
//!
//! Today the backend is SQLite ([`sqlite`]); PostgreSQL comes next behind the same methods.
//! Every method is async and never holds a transaction across an `.await` of the caller:
//! a turn is computed first (API calls included) and then written by [`Store::commit_turn`]
//! in one transaction: the new session, the turn with its events and `message_id`, and the
//! webhook outbox rows it produced.

use serde::{Deserialize, Serialize};

pub mod sqlite;

/// Why the store could not do what was asked.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("store error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer chatflow.
    #[error(
        "the store's schema is version {found}, newer than this chatflow reads (up to {supported}); \
         use a newer chatflow"
    )]
    SchemaTooNew {
        /// The schema version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The thread that owns the connection is gone.
    #[error("the store's worker stopped: {0}")]
    Worker(String),
    /// The transaction holding this write (with others committed together) did not commit.
    #[error("the store could not commit: {0}")]
    Commit(String),
}

/// A conversation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// Random id, also in the conversation's URL.
    pub id: String,
    /// SHA-256 of the conversation's token (hex); the token itself is never stored.
    pub token_hash: String,
    /// `waiting`, `closed`, `transferred` or `failed`.
    pub state: String,
    /// The node the conversation is in, by name.
    pub node: String,
    /// The session, in the flow-independent form of `serve` (JSON).
    pub session: String,
    /// Content hash of the flow the last turn ran on.
    pub flow_version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC: when the last turn was stored.
    pub updated_at: String,
}

/// One turn of a transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// 1 for the opening turn, then one more per message.
    pub seq: i64,
    /// `None` for the opening turn.
    pub message: Option<Message>,
    /// The events as a JSON array.
    pub events: String,
    /// The conversation's state after this turn.
    pub state: String,
    /// Content hash of the flow the turn ran on.
    pub flow_version: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A visitor's message as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The text.
    pub text: String,
    /// The client's id for the message, so a resent message is answered once.
    pub message_id: Option<String>,
}

/// A webhook delivery to make, written in the turn's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// The JSON body to POST.
    pub body: String,
}

/// A pending webhook delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    /// Row number, in write order.
    pub n: i64,
    /// The conversation it belongs to.
    pub conversation: String,
    /// The JSON body to POST.
    pub body: String,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// Everything one turn changes, written in one transaction.
#[derive(Debug, Clone)]
pub struct TurnCommit {
    /// The conversation's id.
    pub conversation: String,
    /// The message the turn answered; `None` for the opening turn.
    pub message: Option<Message>,
    /// The turn's events as a JSON array.
    pub events: String,
    /// State after the turn.
    pub state: String,
    /// Node after the turn, by name.
    pub node: String,
    /// The session after the turn (JSON).
    pub session: String,
    /// Content hash of the flow.
    pub flow_version: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// What reports read of the turn ([`crate::report::TurnTrace`] as JSON).
    pub trace: Option<String>,
    /// Webhook deliveries the turn produced.
    pub outbox: Vec<OutboxItem>,
}

/// What [`Store::commit_turn`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Committed {
    /// The turn is stored with this sequence number.
    Stored {
        /// The turn's sequence number.
        seq: i64,
    },
    /// A turn with the same `message_id` was stored first; this one was not.
    Duplicate(Turn),
    /// The conversation no longer exists (deleted meanwhile).
    Gone,
}

/// One row of the admin list.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The conversation's id.
    pub id: String,
    /// Its state.
    pub state: String,
    /// The node it is in.
    pub node: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC: when the last turn was stored.
    pub updated_at: String,
}

/// The store `serve` runs on.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
}

impl Store {
    /// Opens (creating and migrating as needed) a SQLite store file.
    pub async fn open_sqlite(path: &std::path::Path) -> Result<Store, StoreError> {
        let store = sqlite::SqliteStore::open(path.to_path_buf()).await?;
        Ok(Store {
            backend: Backend::Sqlite(store),
        })
    }

    /// Writes a new conversation and its opening turn in one transaction.
    pub async fn create(
        &self,
        conversation: Conversation,
        opening: TurnCommit,
    ) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.create(conversation, opening).await,
        }
    }

    /// The conversation with this id, if any.
    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.conversation(id.to_string()).await,
        }
    }

    /// The conversation and, when `message_id` was already processed in it, that turn.
    pub async fn conversation_for_message(
        &self,
        id: &str,
        message_id: Option<&str>,
    ) -> Result<Option<(Conversation, Option<Turn>)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                s.conversation_for_message(id.to_string(), message_id.map(str::to_string))
                    .await
            }
        }
    }

    /// Stores a turn: session, turn and outbox together, or nothing.
    pub async fn commit_turn(&self, turn: TurnCommit) -> Result<Committed, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.commit_turn(turn).await,
        }
    }

    /// Every turn of a conversation, oldest first.
    pub async fn transcript(&self, id: &str) -> Result<Vec<Turn>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.transcript(id.to_string()).await,
        }
    }

    /// Conversations newest first: at most `limit`, older than the one with id `after`.
    pub async fn list(
        &self,
        limit: u32,
        after: Option<String>,
    ) -> Result<Vec<Summary>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.list(limit, after).await,
        }
    }

    /// Erases a conversation, its transcript and its pending webhook deliveries.
    pub async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.delete(id.to_string()).await,
        }
    }

    /// How many conversations are in each state.
    pub async fn count_by_state(&self) -> Result<Vec<(String, u64)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.count_by_state().await,
        }
    }

    /// Answers when the store works.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.ping().await,
        }
    }

    /// The next delivery of each conversation that has one due at `now_ms` (Unix ms): only
    /// the oldest pending row per conversation, so deliveries stay in order.
    pub async fn due_deliveries(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.due_deliveries(now_ms, limit).await,
        }
    }

    /// A delivery was accepted: forget it.
    pub async fn delivered(&self, n: i64) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.delivered(n).await,
        }
    }

    /// A delivery failed: try again at `next_at_ms`.
    pub async fn retry_later(
        &self,
        n: i64,
        next_at_ms: i64,
        error: String,
    ) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.retry_later(n, next_at_ms, error).await,
        }
    }

    /// Erases every conversation whose last turn is older than `before` (RFC 3339, UTC),
    /// with its transcript and pending webhook deliveries; returns how many.
    pub async fn prune(&self, before: &str) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.prune(before.to_string()).await,
        }
    }

    /// Conversations created in `[from, to)` (RFC 3339; `None`: open) with all their
    /// turns, for `chatflow report`.
    pub async fn report_rows(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<crate::report::Rows, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.report_rows(from, to).await,
        }
    }

    /// Pending deliveries (for tests and metrics).
    pub async fn pending_deliveries(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.pending_deliveries().await,
        }
    }
}

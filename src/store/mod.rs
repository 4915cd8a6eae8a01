//! Where `chatflow serve` keeps conversations: one [`Store`] over interchangeable backends.
//!
//! Two backends behind the same methods: SQLite ([`sqlite`], one file, one process) and
//! PostgreSQL ([`postgres`], one database shared by several `serve` processes); [`Store::open`]
//! picks one from `--store`. Every method is async and never holds a transaction across an
//! `.await` of the caller: a turn is computed first (API calls included) and then written by
//! [`Store::commit_turn`] in one transaction: the new session, the turn with its events and
//! `message_id`, and the webhook outbox rows it produced.
//!
//! A turn commit is a compare-and-swap: it names the sequence number it will have, one more
//! than the conversation's [`Conversation::seq`] when the turn started. If another turn was
//! stored meanwhile (by another process on the same database), the commit stores nothing and
//! says [`Committed::Conflict`]; the caller reads the conversation again and reruns the turn.

use serde::{Deserialize, Serialize};

pub mod postgres;
pub mod sqlite;

/// Why the store could not do what was asked.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("store error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused an operation or the connection failed.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// `--store` is neither a file path nor a `postgres://` URL that can be used.
    #[error("{0}")]
    Spec(String),
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
    /// The sequence number of the conversation's last stored turn (1 after the opening).
    /// [`Store::create`] ignores it: the opening turn is always 1.
    pub seq: i64,
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
    /// The channel whose send API it goes to (`docs/channels.md`); `None`: the bot's webhook.
    pub channel: Option<String>,
}

impl OutboxItem {
    /// A delivery to the bot's webhook.
    pub fn webhook(body: String) -> OutboxItem {
        OutboxItem {
            body,
            channel: None,
        }
    }
}

/// Which conversation a channel's user talks in: a new conversation takes the link over only
/// if it still points where the caller saw it point (`previous`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelLink {
    /// The channel's name (`telegram`, ...).
    pub channel: String,
    /// The platform's id of the user (a chat id, a phone number, a page-scoped id, ...).
    pub user: String,
    /// The conversation the user was linked to when the caller looked; `None`: none.
    pub previous: Option<String>,
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
    /// The sequence number this turn takes: the conversation's [`Conversation::seq`] when the
    /// turn started, plus one. Ignored by [`Store::create`] (the opening turn is 1).
    pub seq: i64,
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
    /// The message matched nothing (no option, intent, rule or FAQ took it): it joins the
    /// untrained inbox. Never set for an answer to a `sensitive` question.
    pub unmatched: bool,
}

/// A message of the untrained inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmatched {
    /// The conversation it was sent in.
    pub conversation: String,
    /// The message as received.
    pub text: String,
    /// When its turn was stored, RFC 3339, UTC.
    pub at: String,
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
    /// Another turn took this sequence number first (another process on the same database):
    /// nothing was stored; read the conversation again and rerun the turn.
    Conflict,
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
    Postgres(postgres::PostgresStore),
}

/// Whether `spec` names a PostgreSQL database (`postgres://` or `postgresql://`) rather than a
/// SQLite file.
pub fn is_postgres_url(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// `spec` fit for logs and error messages: a URL's password is replaced by `***`.
pub fn redacted(spec: &str) -> String {
    if !is_postgres_url(spec) {
        return spec.to_string();
    }
    match url::Url::parse(spec) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "a postgres:// URL that cannot be parsed".to_string(),
    }
}

impl Store {
    /// Opens the store `spec` names, creating and migrating its schema as needed: a
    /// `postgres://` or `postgresql://` URL, or else a SQLite file path.
    pub async fn open(spec: &str) -> Result<Store, StoreError> {
        if is_postgres_url(spec) {
            Store::open_postgres(spec).await
        } else {
            Store::open_sqlite(std::path::Path::new(spec)).await
        }
    }

    /// Connects to a PostgreSQL database (a `postgres://` URL), migrating its schema.
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let store = postgres::PostgresStore::open(url).await?;
        Ok(Store {
            backend: Backend::Postgres(store),
        })
    }

    /// The schema version the store is at (after [`Store::open`] migrated it).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.schema_version().await,
            Backend::Postgres(s) => s.schema_version().await,
        }
    }

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
            Backend::Postgres(s) => s.create(conversation, opening).await,
        }
    }

    /// The conversation with this id, if any.
    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.conversation(id.to_string()).await,
            Backend::Postgres(s) => s.conversation(id.to_string()).await,
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
            Backend::Postgres(s) => s.conversation_for_message(id, message_id).await,
        }
    }

    /// Stores a turn: session, turn and outbox together, or nothing.
    pub async fn commit_turn(&self, turn: TurnCommit) -> Result<Committed, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.commit_turn(turn).await,
            Backend::Postgres(s) => s.commit_turn(turn).await,
        }
    }

    /// Every turn of a conversation, oldest first.
    pub async fn transcript(&self, id: &str) -> Result<Vec<Turn>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.transcript(id.to_string()).await,
            Backend::Postgres(s) => s.transcript(id.to_string()).await,
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
            Backend::Postgres(s) => s.list(limit, after).await,
        }
    }

    /// Erases a conversation, its transcript and its pending webhook deliveries.
    pub async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.delete(id.to_string()).await,
            Backend::Postgres(s) => s.delete(id.to_string()).await,
        }
    }

    /// How many conversations are in each state.
    pub async fn count_by_state(&self) -> Result<Vec<(String, u64)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.count_by_state().await,
            Backend::Postgres(s) => s.count_by_state().await,
        }
    }

    /// Answers when the store works.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.ping().await,
            Backend::Postgres(s) => s.ping().await,
        }
    }

    /// The next delivery of each conversation that has one due at `now_ms` (Unix ms): only
    /// the oldest pending row per conversation, so deliveries stay in order. On PostgreSQL
    /// the rows are claimed for this process (`FOR UPDATE SKIP LOCKED` and a lease of
    /// [`postgres::DELIVERY_LEASE_MS`]), so two workers never send one at the same time; a
    /// worker killed mid-delivery leaves its rows to the others once the lease ends.
    pub async fn due_deliveries(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.due_channel_deliveries(now_ms, limit, None).await
    }

    /// [`Store::due_deliveries`] of the replies to send through `channel`'s send API
    /// (`None`: the bot's webhook events). Each channel's rows are in order per conversation
    /// on their own: a failing webhook does not hold a channel's replies back.
    pub async fn due_channel_deliveries(
        &self,
        now_ms: i64,
        limit: u32,
        channel: Option<&str>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let channel = channel.map(str::to_string);
        match &self.backend {
            Backend::Sqlite(s) => s.due_deliveries(now_ms, limit, channel).await,
            Backend::Postgres(s) => s.due_deliveries(now_ms, limit, channel).await,
        }
    }

    /// The conversation a channel's user is linked to, if any.
    pub async fn channel_conversation(
        &self,
        channel: &str,
        user: &str,
    ) -> Result<Option<String>, StoreError> {
        let (channel, user) = (channel.to_string(), user.to_string());
        match &self.backend {
            Backend::Sqlite(s) => s.channel_conversation(channel, user).await,
            Backend::Postgres(s) => s.channel_conversation(&channel, &user).await,
        }
    }

    /// [`Store::create`], and links the channel user to the new conversation, in one
    /// transaction; `false` (nothing stored) when the link no longer points at
    /// `link.previous` (another worker opened a conversation for the user first).
    pub async fn create_linked(
        &self,
        conversation: Conversation,
        opening: TurnCommit,
        link: ChannelLink,
    ) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.create_linked(conversation, opening, link).await,
            Backend::Postgres(s) => s.create_linked(conversation, opening, link).await,
        }
    }

    /// A delivery was accepted: forget it.
    pub async fn delivered(&self, n: i64) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.delivered(n).await,
            Backend::Postgres(s) => s.delivered(n).await,
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
            Backend::Postgres(s) => s.retry_later(n, next_at_ms, error).await,
        }
    }

    /// Erases every conversation whose last turn is older than `before` (RFC 3339, UTC),
    /// with its transcript and pending webhook deliveries; returns how many.
    pub async fn prune(&self, before: &str) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.prune(before.to_string()).await,
            Backend::Postgres(s) => s.prune(before).await,
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
            Backend::Postgres(s) => s.report_rows(from, to).await,
        }
    }

    /// The untrained inbox: the messages stored as unmatched whose turn is in `[from, to)`
    /// (RFC 3339; `None`: open), oldest first.
    pub async fn unmatched(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<Unmatched>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.unmatched(from, to).await,
            Backend::Postgres(s) => s.unmatched(from, to).await,
        }
    }

    /// Pending deliveries (for tests and metrics).
    pub async fn pending_deliveries(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.pending_deliveries().await,
            Backend::Postgres(s) => s.pending_deliveries().await,
        }
    }
}

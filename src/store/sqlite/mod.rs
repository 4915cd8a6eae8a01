//! The SQLite backend: one file, WAL mode, schema migrations embedded in the binary.
//!
//! - **Durability.** `journal_mode=WAL` with `synchronous=NORMAL`. In WAL mode a commit has
//!   written its frames to the WAL file (through the OS) before it returns, so a process that
//!   is killed — `SIGKILL`, a panic, an OOM kill — loses no committed turn: the next open
//!   replays the WAL. `NORMAL` only skips the `fsync` at each commit, so a power cut or an OS
//!   crash may lose the last few commits; `FULL` would pay an `fsync` per turn for that.
//! - **Threads.** rusqlite is blocking: one thread owns the connection and takes work from a
//!   queue ([`worker`]), so no transaction spans an `.await` and async workers are never
//!   blocked. Writes to one SQLite file are serialized by SQLite anyway; the thread commits
//!   the turns that queued up meanwhile together (group commit), each in its own savepoint.
//! - **Schema versions** live in `PRAGMA user_version`. [`MIGRATIONS`] are applied in order,
//!   each in its own transaction; a store whose version is newer than this binary knows is
//!   refused ([`StoreError::SchemaTooNew`]) instead of being misread.

use std::path::PathBuf;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use super::{
    Committed, Conversation, Message, OutboxRow, StoreError, Summary, Turn, TurnCommit, Unmatched,
};
use crate::report::{ConversationRow, Rows, TurnRow};
use worker::Worker;

mod channels;
mod worker;

/// The schema, one step per version: `MIGRATIONS[i]` takes version `i` to `i + 1`.
/// Append only: never edit a released step.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE conversations (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    node TEXT NOT NULL,
    session TEXT NOT NULL,
    flow_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE turns (
    conversation TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message_text TEXT,
    message_id TEXT,
    events TEXT NOT NULL,
    state TEXT NOT NULL,
    flow_version TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (conversation, seq),
    UNIQUE (conversation, message_id)
);
CREATE TABLE outbox (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT
);
CREATE INDEX outbox_by_conversation ON outbox (conversation, n);
"#,
    // 2: what each turn keeps for reports (nodes, edges, goals, API calls; JSON), and the
    // index reports and pruning select conversations by.
    r#"
ALTER TABLE turns ADD COLUMN trace TEXT;
CREATE INDEX conversations_by_created ON conversations (created_at);
"#,
    // 3: channels (docs/channels.md): an outbox row names the channel whose send API it goes
    // to (NULL: the bot's webhook), and each channel user is linked to their conversation.
    r#"
ALTER TABLE outbox ADD COLUMN channel TEXT;
CREATE INDEX outbox_by_channel ON outbox (conversation, channel, n);
CREATE TABLE channel_users (
    channel TEXT NOT NULL,
    user_id TEXT NOT NULL,
    conversation TEXT NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX channel_users_by_conversation ON channel_users (conversation);
"#,
    // 4: the untrained inbox: a turn whose message nothing understood (`chatflow report
    // --unmatched`); the partial index finds those few among all turns.
    r#"
ALTER TABLE turns ADD COLUMN unmatched INTEGER NOT NULL DEFAULT 0;
CREATE INDEX turns_unmatched ON turns (at) WHERE unmatched = 1;
"#,
];

/// How much of the store file is read through a memory mapping.
const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// WAL pages after which a commit checkpoints (SQLite's default is 1,000).
const CHECKPOINT_PAGES: i64 = 10_000;

/// SQLite's page cache, in KiB (negative `cache_size`); its default is 2 MB.
const CACHE_KIB: i64 = 16 * 1024;

/// The schema version this binary writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// A SQLite store file; one connection, used from a blocking thread.
#[derive(Clone)]
pub struct SqliteStore {
    worker: Worker,
}

impl SqliteStore {
    /// Opens (creating and migrating as needed) the file at `path`.
    pub async fn open(path: PathBuf) -> Result<SqliteStore, StoreError> {
        let worker = Worker::start(move || {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            // Pages are read through a mapping instead of a `pread` copy each (a busy
            // server reads more pages than the default 2 MB cache holds).
            conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
            // Checkpoint (copy the WAL into the file, with its `fsync`s) every ~40 MB of
            // WAL rather than every 4 MB: a page that many turns touch is copied once per
            // checkpoint, not once per few group commits. Commits are as durable either way.
            conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)?;
            // A page changed since the last checkpoint lives in the WAL, which is not
            // mapped: once out of the cache it is read back with a `pread` copy. With the
            // default 2 MB cache a burst of turns over 10,000 conversations read each such
            // page again and again; 16 MB keeps the pages they touch.
            conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
            // Every statement a turn runs stays prepared (the default keeps 16).
            conn.set_prepared_statement_cache_capacity(64);
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await?;
        Ok(SqliteStore { worker })
    }

    /// Writes a new conversation and its opening turn in one transaction.
    pub async fn create(&self, c: Conversation, opening: TurnCommit) -> Result<(), StoreError> {
        self.worker
            .write(move |tx| {
                insert_conversation(tx, &c, &opening)?;
                Ok(((), true))
            })
            .await
    }

    /// The conversation with this id, if any.
    pub async fn conversation(&self, id: String) -> Result<Option<Conversation>, StoreError> {
        self.worker
            .read(move |conn| conversation_by_id(conn, &id))
            .await
    }

    /// The conversation and, when `message_id` was processed in it, that turn: what a new
    /// message needs, in one read.
    pub async fn conversation_for_message(
        &self,
        id: String,
        message_id: Option<String>,
    ) -> Result<Option<(Conversation, Option<Turn>)>, StoreError> {
        self.worker
            .read(move |conn| {
                let Some(conversation) = conversation_by_id(conn, &id)? else {
                    return Ok(None);
                };
                let turn = match &message_id {
                    Some(m) => turn_by_message(conn, &id, m)?,
                    None => None,
                };
                Ok(Some((conversation, turn)))
            })
            .await
    }

    /// Stores a turn: session, turn and outbox together, or nothing.
    pub async fn commit_turn(&self, t: TurnCommit) -> Result<Committed, StoreError> {
        self.worker.write(move |tx| {
            let next: i64 = tx
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation = ?1")?
                .query_row(params![t.conversation], |r| r.get(0))?;
            // The compare-and-swap: another turn stored since this one started (another
            // process on the file) means this one ran on a stale session.
            let seq = t.seq;
            let inserted = if next == seq { insert_turn(tx, &t, seq) } else { Ok(false) };
            match inserted {
                Ok(true) => {}
                Ok(false) => return Ok((not_stored(tx, &t)?, false)),
                Err(e) => return Err(e.into()),
            }
            let updated = tx
                .prepare_cached(
                    "UPDATE conversations SET state = ?2, node = ?3, session = ?4, flow_version = ?5, updated_at = ?6
                     WHERE id = ?1",
                )?
                .execute(params![t.conversation, t.state, t.node, t.session, t.flow_version, t.at])?;
            if updated == 0 {
                return Ok((Committed::Gone, false));
            }
            insert_outbox(tx, &t)?;
            Ok((Committed::Stored { seq }, true))
        })
        .await
    }

    /// Every turn of a conversation, oldest first.
    pub async fn transcript(&self, id: String) -> Result<Vec<Turn>, StoreError> {
        self.worker
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {TURN_COLUMNS} FROM turns WHERE conversation = ?1 ORDER BY seq"
                ))?;
                let turns = stmt
                    .query_map(params![id], read_turn)?
                    .collect::<Result<_, _>>()?;
                Ok(turns)
            })
            .await
    }

    /// Conversations newest first: at most `limit`, older than the one with id `after`.
    pub async fn list(
        &self,
        limit: u32,
        after: Option<String>,
    ) -> Result<Vec<Summary>, StoreError> {
        self.worker
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, state, node, created_at, updated_at FROM conversations
                 WHERE ?1 IS NULL OR n < COALESCE((SELECT n FROM conversations WHERE id = ?1), 0)
                 ORDER BY n DESC LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map(params![after, limit], |r| {
                        Ok(Summary {
                            id: r.get(0)?,
                            state: r.get(1)?,
                            node: r.get(2)?,
                            created_at: r.get(3)?,
                            updated_at: r.get(4)?,
                        })
                    })?
                    .collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .await
    }

    /// Erases a conversation, its transcript and its pending deliveries.
    pub async fn delete(&self, id: String) -> Result<bool, StoreError> {
        self.worker
            .write(move |tx| {
                let n = tx.execute("DELETE FROM conversations WHERE id = ?1", params![id])?;
                tx.execute("DELETE FROM turns WHERE conversation = ?1", params![id])?;
                tx.execute("DELETE FROM outbox WHERE conversation = ?1", params![id])?;
                tx.execute(
                    "DELETE FROM channel_users WHERE conversation = ?1",
                    params![id],
                )?;
                Ok((n > 0, true))
            })
            .await
    }

    /// How many conversations are in each state.
    pub async fn count_by_state(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.worker
            .read(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT state, COUNT(*) FROM conversations GROUP BY state ORDER BY state",
                )?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
                    })?
                    .collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .await
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.worker
            .read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    /// The oldest due delivery of each conversation to `channel` (`None`: the bot's
    /// webhook), so deliveries stay in order.
    pub async fn due_deliveries(
        &self,
        now_ms: i64,
        limit: u32,
        channel: Option<String>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.worker
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT o.n, o.conversation, o.body, o.attempts FROM outbox o
                 WHERE o.channel IS ?3
                   AND o.n = (SELECT MIN(n) FROM outbox WHERE conversation = o.conversation AND channel IS ?3)
                   AND o.next_at <= ?1
                 ORDER BY o.n LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map(params![now_ms, limit, channel], |r| {
                        Ok(OutboxRow {
                            n: r.get(0)?,
                            conversation: r.get(1)?,
                            body: r.get(2)?,
                            attempts: r.get(3)?,
                        })
                    })?
                    .collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .await
    }

    /// A delivery was accepted: forget it.
    pub async fn delivered(&self, n: i64) -> Result<(), StoreError> {
        self.worker
            .write(move |conn| {
                conn.execute("DELETE FROM outbox WHERE n = ?1", params![n])?;
                Ok(((), true))
            })
            .await
    }

    /// A delivery failed: try again at `next_at_ms`.
    pub async fn retry_later(
        &self,
        n: i64,
        next_at_ms: i64,
        error: String,
    ) -> Result<(), StoreError> {
        self.worker
            .write(move |conn| {
                conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE n = ?1",
                    params![n, next_at_ms, error],
                )?;
                Ok(((), true))
            })
        .await
    }

    /// Erases every conversation whose last turn is older than `before` (RFC 3339), with its
    /// turns and pending deliveries, in one transaction; returns how many.
    pub async fn prune(&self, before: String) -> Result<u64, StoreError> {
        self.worker
            .write(move |tx| {
                const OLD: &str = "SELECT id FROM conversations WHERE updated_at < ?1";
                tx.execute(
                    &format!("DELETE FROM turns WHERE conversation IN ({OLD})"),
                    params![before],
                )?;
                tx.execute(
                    &format!("DELETE FROM outbox WHERE conversation IN ({OLD})"),
                    params![before],
                )?;
                tx.execute(
                    &format!("DELETE FROM channel_users WHERE conversation IN ({OLD})"),
                    params![before],
                )?;
                let n = tx.execute(
                    "DELETE FROM conversations WHERE updated_at < ?1",
                    params![before],
                )?;
                Ok((n as u64, true))
            })
            .await
    }

    /// The untrained inbox: messages stored as unmatched in `[from, to)` (by the turn's time),
    /// oldest first.
    pub async fn unmatched(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<Unmatched>, StoreError> {
        self.worker
            .read(move |conn| {
                let mut stmt = conn.prepare(
                    "SELECT conversation, message_text, at FROM turns
                     WHERE unmatched = 1 AND message_text IS NOT NULL
                       AND (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2)
                     ORDER BY at, conversation, seq",
                )?;
                let rows = stmt
                    .query_map(params![from, to], |r| {
                        Ok(Unmatched {
                            conversation: r.get(0)?,
                            text: r.get(1)?,
                            at: r.get(2)?,
                        })
                    })?
                    .collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .await
    }

    /// Conversations created in `[from, to)` (RFC 3339 bounds; `None`: open) with all
    /// their turns: what a report is computed from.
    pub async fn report_rows(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Rows, StoreError> {
        self.worker
            .read(move |conn| {
                const IN_PERIOD: &str = "(?1 IS NULL OR created_at >= ?1) AND (?2 IS NULL OR created_at < ?2)";
                let mut stmt = conn.prepare(&format!(
                    "SELECT id, state, node, created_at, updated_at FROM conversations
                     WHERE {IN_PERIOD} ORDER BY created_at, n"
                ))?;
                let conversations = stmt
                    .query_map(params![from, to], |r| {
                        Ok(ConversationRow {
                            id: r.get(0)?,
                            state: r.get(1)?,
                            node: r.get(2)?,
                            created_at: r.get(3)?,
                            updated_at: r.get(4)?,
                        })
                    })?
                    .collect::<Result<_, _>>()?;
                let mut stmt = conn.prepare(&format!(
                    "SELECT t.conversation, t.seq, t.message_text IS NOT NULL, t.events, t.trace, t.flow_version, t.at
                     FROM turns t JOIN conversations c ON c.id = t.conversation
                     WHERE {IN_PERIOD} ORDER BY c.created_at, c.n, t.seq"
                ))?;
                let turns = stmt
                    .query_map(params![from, to], |r| {
                        Ok(TurnRow {
                            conversation: r.get(0)?,
                            seq: r.get(1)?,
                            has_message: r.get(2)?,
                            events: r.get(3)?,
                            trace: r.get(4)?,
                            flow_version: r.get(5)?,
                            at: r.get(6)?,
                        })
                    })?
                    .collect::<Result<_, _>>()?;
                Ok(Rows { conversations, turns })
            })
            .await
    }

    /// The schema version of the file.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.worker
            .read(|conn| Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?))
            .await
    }

    /// Pending deliveries.
    pub async fn pending_deliveries(&self) -> Result<u64, StoreError> {
        self.worker
            .read(|conn| {
                let n: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
                Ok(n.max(0) as u64)
            })
            .await
    }
}

/// Brings the schema up to [`schema_version`], refusing a newer one.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = schema_version();
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

const TURN_COLUMNS: &str = "seq, message_text, message_id, events, state, flow_version, at";

fn read_turn(r: &rusqlite::Row<'_>) -> rusqlite::Result<Turn> {
    let text: Option<String> = r.get(1)?;
    let message_id: Option<String> = r.get(2)?;
    Ok(Turn {
        seq: r.get(0)?,
        message: text.map(|text| Message { text, message_id }),
        events: r.get(3)?,
        state: r.get(4)?,
        flow_version: r.get(5)?,
        at: r.get(6)?,
    })
}

fn turn_by_message(
    conn: &Connection,
    id: &str,
    message_id: &str,
) -> Result<Option<Turn>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TURN_COLUMNS} FROM turns WHERE conversation = ?1 AND message_id = ?2"
    ))?;
    Ok(stmt
        .query_row(params![id, message_id], read_turn)
        .optional()?)
}

fn conversation_by_id(conn: &Connection, id: &str) -> Result<Option<Conversation>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, token_hash, state, node, session, flow_version, created_at, updated_at,
                (SELECT COALESCE(MAX(seq), 0) FROM turns WHERE conversation = ?1)
         FROM conversations WHERE id = ?1",
    )?;
    Ok(stmt
        .query_row(params![id], |r| {
            Ok(Conversation {
                id: r.get(0)?,
                token_hash: r.get(1)?,
                state: r.get(2)?,
                node: r.get(3)?,
                session: r.get(4)?,
                flow_version: r.get(5)?,
                created_at: r.get(6)?,
                updated_at: r.get(7)?,
                seq: r.get(8)?,
            })
        })
        .optional()?)
}

/// Why a turn was not stored: its `message_id` was answered first, another turn took its
/// place, or the conversation is gone. Reads what the failed statements left untouched.
fn not_stored(tx: &Connection, t: &TurnCommit) -> Result<Committed, StoreError> {
    if let Some(id) = t.message.as_ref().and_then(|m| m.message_id.as_deref()) {
        if let Some(turn) = turn_by_message(tx, &t.conversation, id)? {
            return Ok(Committed::Duplicate(turn));
        }
    }
    let exists = tx
        .prepare_cached("SELECT 1 FROM conversations WHERE id = ?1")?
        .exists(params![t.conversation])?;
    Ok(if exists {
        Committed::Conflict
    } else {
        Committed::Gone
    })
}

/// Inserts a new conversation with its opening turn and that turn's outbox items: what
/// `create` and `create_linked` both write.
fn insert_conversation(
    tx: &Connection,
    c: &Conversation,
    opening: &TurnCommit,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO conversations (id, token_hash, state, node, session, flow_version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![c.id, c.token_hash, c.state, c.node, c.session, c.flow_version, c.created_at, c.updated_at])?;
    if !insert_turn(tx, opening, 1)? {
        return Err(StoreError::Commit(format!(
            "conversation `{}` has turns already",
            c.id
        )));
    }
    Ok(insert_outbox(tx, opening)?)
}

/// Inserts the turn row; `false` when a unique constraint refused it (nothing written).
fn insert_turn(tx: &Connection, t: &TurnCommit, seq: i64) -> rusqlite::Result<bool> {
    let (text, message_id) = match &t.message {
        Some(m) => (Some(&m.text), m.message_id.as_ref()),
        None => (None, None),
    };
    let inserted = tx.prepare_cached(
        "INSERT INTO turns (conversation, seq, message_text, message_id, events, state, flow_version, at, trace, unmatched)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![t.conversation, seq, text, message_id, t.events, t.state, t.flow_version, t.at, t.trace, t.unmatched && text.is_some()]);
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

fn insert_outbox(tx: &Connection, t: &TurnCommit) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO outbox (conversation, body, next_at, channel) VALUES (?1, ?2, 0, ?3)",
    )?;
    for item in &t.outbox {
        stmt.execute(params![t.conversation, item.body, item.channel])?;
    }
    Ok(())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings a busy server's speed rests on (docs/performance.md) are the ones the
    /// connection runs with: a lost pragma would only show as a slower bench.
    #[tokio::test]
    async fn the_connection_runs_with_the_tuned_settings() {
        let dir = std::env::temp_dir().join(format!("chatflow-pragmas-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(dir.join("s.db")).await.unwrap();
        let settings = store
            .worker
            .read(|conn| {
                let get = |name: &str| -> rusqlite::Result<String> {
                    conn.query_row(&format!("PRAGMA {name}"), [], |r| {
                        r.get::<_, rusqlite::types::Value>(0).map(|v| match v {
                            rusqlite::types::Value::Integer(n) => n.to_string(),
                            rusqlite::types::Value::Text(t) => t,
                            other => format!("{other:?}"),
                        })
                    })
                };
                Ok([
                    "journal_mode",
                    "synchronous",
                    "cache_size",
                    "mmap_size",
                    "wal_autocheckpoint",
                ]
                .map(|name| get(name).map(|v| format!("{name}={v}")))
                .into_iter()
                .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
            .unwrap();
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            settings,
            [
                "journal_mode=wal",
                "synchronous=1",
                &format!("cache_size={}", -CACHE_KIB),
                &format!("mmap_size={MMAP_BYTES}"),
                &format!("wal_autocheckpoint={CHECKPOINT_PAGES}"),
            ]
        );
    }
}

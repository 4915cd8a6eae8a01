//! The PostgreSQL backend: one database shared by several `serve` processes.
//!
//! - **Connections.** A pool ([`POOL_SIZE`] per process) of tokio-postgres connections,
//!   plain TCP unless the URL's `sslmode` asks for TLS (rustls; [`tls`], `docs/scaling.md`).
//!   Each session gets `idle_in_transaction_session_timeout`, so a client that vanished inside
//!   a transaction holds its row locks for a bounded time even when no TCP reset reaches the
//!   server.
//! - **Turns across processes.** A turn commit is a compare-and-swap on `conversations.seq`:
//!   `UPDATE ... WHERE id = $1 AND seq = $2 - 1` takes the row lock only inside the commit's
//!   transaction, so no lock is held while the flow's API calls run, and a killed worker leaves
//!   none behind. The turn insert is checked by the `(conversation, message_id)` unique
//!   constraint: a duplicate message answered by another worker is found by that, not by a
//!   read-then-write. See `docs/scaling.md` for why this rather than a lock per conversation.
//! - **Webhook outbox.** Deliveries are claimed with `FOR UPDATE SKIP LOCKED` and a lease
//!   ([`DELIVERY_LEASE_MS`]): two workers never send one row at the same time, and the rows
//!   of a worker killed mid-delivery go to another once the lease ends.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{NoTls, Row};

use super::{
    Committed, Conversation, Message, OutboxRow, StoreError, Summary, Turn, TurnCommit, Unmatched,
};
use crate::report::{ConversationRow, Rows, TurnRow};

mod channels;
mod schema;
pub mod tls;

pub use schema::{schema_version, MIGRATIONS};

/// Connections per process.
pub const POOL_SIZE: usize = 16;

/// How long a claimed delivery stays with the worker that claimed it: three times the
/// webhook attempt's timeout.
pub const DELIVERY_LEASE_MS: i64 = 30_000;

/// How long a session may sit idle inside a transaction before the server ends it; ours never
/// wait on anything but the database inside one. This bounds how long a worker whose host
/// vanished (no TCP reset reaches the server) keeps a conversation's row locked.
pub const IDLE_IN_TRANSACTION: &str = "10s";

/// How long to wait for a connection, from the server or from the pool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the pool connects to the database at `url`: the URL's settings, plus
/// `idle_in_transaction_session_timeout` ([`IDLE_IN_TRANSACTION`] unless the URL's `options`
/// set it, e.g. `?options=-c%20idle_in_transaction_session_timeout%3D5s`) and a connect
/// timeout unless the URL has one.
/// The URL's TLS parameters are read by [`tls::settings`]; the config's `ssl_mode` is
/// `disable`, `prefer` or `require`.
pub fn connect_config(url: &str) -> Result<tokio_postgres::Config, StoreError> {
    let mut config: tokio_postgres::Config = tls::settings(url)?
        .url
        .parse()
        .map_err(|e| StoreError::Spec(format!("not a usable PostgreSQL URL: {e}")))?;
    let options = config.get_options().unwrap_or_default().to_string();
    if !options.contains("idle_in_transaction_session_timeout") {
        let options =
            format!("{options} -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION}");
        config.options(options.trim());
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// A PostgreSQL database, through a pool of connections.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

pub(super) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Postgres(format!("{} ({})", db.message(), db.code().code())),
        None => {
            // The top error is terse ("error connecting to server"): say what caused it.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            StoreError::Postgres(text)
        }
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_error(e),
        other => StoreError::Postgres(other.to_string()),
    }
}

const CONVERSATION_COLUMNS: &str =
    "c.id, c.token_hash, c.state, c.node, c.session, c.flow_version, c.created_at, c.updated_at, c.seq";
const TURN_COLUMNS: &str = "seq, message_text, message_id, events, state, flow_version, at";

fn read_conversation(r: &Row) -> Conversation {
    Conversation {
        id: r.get(0),
        token_hash: r.get(1),
        state: r.get(2),
        node: r.get(3),
        session: r.get(4),
        flow_version: r.get(5),
        created_at: r.get(6),
        updated_at: r.get(7),
        seq: r.get(8),
    }
}

/// A turn from the columns of [`TURN_COLUMNS`] starting at `at`.
fn read_turn(r: &Row, at: usize) -> Turn {
    let text: Option<String> = r.get(at + 1);
    let message_id: Option<String> = r.get(at + 2);
    Turn {
        seq: r.get(at),
        message: text.map(|text| Message { text, message_id }),
        events: r.get(at + 3),
        state: r.get(at + 4),
        flow_version: r.get(at + 5),
        at: r.get(at + 6),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and migrates its schema.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let config = connect_config(url)?;
        let recycling = || ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls::settings(url)?.connector()? {
            Some(tls) => Manager::from_config(config, tls, recycling()),
            None => Manager::from_config(config, NoTls, recycling()),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Postgres(e.to_string()))?;
        let mut client = pool.get().await.map_err(pool_error)?;
        schema::migrate(&mut client).await?;
        drop(client);
        Ok(PostgresStore { pool })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }

    /// The schema version of the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        schema::version(&*self.client().await?).await
    }

    /// Writes a new conversation and its opening turn in one transaction.
    pub async fn create(&self, c: Conversation, opening: TurnCommit) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        insert_conversation(&tx, &c, &opening).await?;
        tx.commit().await.map_err(pg_error)
    }

    /// The conversation with this id, if any.
    pub async fn conversation(&self, id: String) -> Result<Option<Conversation>, StoreError> {
        Ok(self
            .conversation_for_message(&id, None)
            .await?
            .map(|(c, _)| c))
    }

    /// The conversation and, when `message_id` was processed in it, that turn, in one query.
    pub async fn conversation_for_message(
        &self,
        id: &str,
        message_id: Option<&str>,
    ) -> Result<Option<(Conversation, Option<Turn>)>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {CONVERSATION_COLUMNS}, t.seq, t.message_text, t.message_id, t.events, t.state, t.flow_version, t.at
                 FROM conversations c
                 LEFT JOIN turns t ON t.conversation = c.id AND t.message_id = $2
                 WHERE c.id = $1"
            ))
            .await
            .map_err(pg_error)?;
        let row = client
            .query_opt(&stmt, &[&id, &message_id])
            .await
            .map_err(pg_error)?;
        Ok(row.map(|r| {
            let turn = r
                .get::<_, Option<i64>>(9)
                .is_some()
                .then(|| read_turn(&r, 9));
            (read_conversation(&r), turn)
        }))
    }

    /// Stores a turn if the conversation is still at `t.seq - 1`: session, turn and outbox
    /// together, or nothing.
    pub async fn commit_turn(&self, t: TurnCommit) -> Result<Committed, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let update = tx
            .prepare_cached(
                "UPDATE conversations
                 SET state = $2, node = $3, session = $4, flow_version = $5, updated_at = $6, seq = $7::bigint
                 WHERE id = $1 AND seq = $7::bigint - 1",
            )
            .await
            .map_err(pg_error)?;
        // Takes the conversation's row lock until the commit: a second worker's update of the
        // same row waits here, then finds `seq` moved and updates nothing.
        let swapped = tx
            .execute(
                &update,
                &[
                    &t.conversation,
                    &t.state,
                    &t.node,
                    &t.session,
                    &t.flow_version,
                    &t.at,
                    &t.seq,
                ],
            )
            .await
            .map_err(pg_error)?;
        if swapped == 0 || !insert_turn(&tx, &t, t.seq).await? {
            tx.rollback().await.map_err(pg_error)?;
            return not_stored(&client, &t).await;
        }
        insert_outbox(&tx, &t).await?;
        tx.commit().await.map_err(pg_error)?;
        Ok(Committed::Stored { seq: t.seq })
    }

    /// Every turn of a conversation, oldest first.
    pub async fn transcript(&self, id: String) -> Result<Vec<Turn>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {TURN_COLUMNS} FROM turns WHERE conversation = $1 ORDER BY seq"
            ))
            .await
            .map_err(pg_error)?;
        let rows = client.query(&stmt, &[&id]).await.map_err(pg_error)?;
        Ok(rows.iter().map(|r| read_turn(r, 0)).collect())
    }

    /// Conversations newest first: at most `limit`, older than the one with id `after`.
    pub async fn list(
        &self,
        limit: u32,
        after: Option<String>,
    ) -> Result<Vec<Summary>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, state, node, created_at, updated_at FROM conversations
                 WHERE $1::text IS NULL OR n < COALESCE((SELECT n FROM conversations WHERE id = $1), 0)
                 ORDER BY n DESC LIMIT $2",
            )
            .await
            .map_err(pg_error)?;
        let rows = client
            .query(&stmt, &[&after, &i64::from(limit)])
            .await
            .map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| Summary {
                id: r.get(0),
                state: r.get(1),
                node: r.get(2),
                created_at: r.get(3),
                updated_at: r.get(4),
            })
            .collect())
    }

    /// Erases a conversation, its transcript and its pending deliveries.
    pub async fn delete(&self, id: String) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let n = tx
            .execute("DELETE FROM conversations WHERE id = $1", &[&id])
            .await
            .map_err(pg_error)?;
        for table in ["turns", "outbox", "channel_users"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE conversation = $1"),
                &[&id],
            )
            .await
            .map_err(pg_error)?;
        }
        tx.commit().await.map_err(pg_error)?;
        Ok(n > 0)
    }

    /// How many conversations are in each state.
    pub async fn count_by_state(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT state, COUNT(*) FROM conversations GROUP BY state ORDER BY state",
                &[],
            )
            .await
            .map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1).max(0) as u64))
            .collect())
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map_err(pg_error)?;
        Ok(())
    }

    /// Claims the oldest due delivery of each conversation for [`DELIVERY_LEASE_MS`]: rows
    /// another worker holds or has leased are skipped, so no row goes out twice at once.
    pub async fn due_deliveries(
        &self,
        now_ms: i64,
        limit: u32,
        channel: Option<String>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE outbox SET leased_until = $1::bigint + $3::bigint
                 WHERE n IN (
                     SELECT o.n FROM outbox o
                     WHERE o.channel IS NOT DISTINCT FROM $4::text
                       AND o.n = (SELECT MIN(n) FROM outbox
                                  WHERE conversation = o.conversation AND channel IS NOT DISTINCT FROM $4::text)
                       AND o.next_at <= $1 AND o.leased_until <= $1
                     ORDER BY o.n LIMIT $2
                     FOR UPDATE SKIP LOCKED)
                 RETURNING n, conversation, body, attempts",
            )
            .await
            .map_err(pg_error)?;
        let rows = client
            .query(
                &stmt,
                &[&now_ms, &i64::from(limit), &DELIVERY_LEASE_MS, &channel],
            )
            .await
            .map_err(pg_error)?;
        let mut due: Vec<OutboxRow> = rows
            .iter()
            .map(|r| OutboxRow {
                n: r.get(0),
                conversation: r.get(1),
                body: r.get(2),
                attempts: r.get(3),
            })
            .collect();
        due.sort_by_key(|row| row.n);
        Ok(due)
    }

    /// A delivery was accepted: forget it.
    pub async fn delivered(&self, n: i64) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM outbox WHERE n = $1", &[&n])
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    /// A delivery failed: release the claim and try again at `next_at_ms`.
    pub async fn retry_later(
        &self,
        n: i64,
        next_at_ms: i64,
        error: String,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = $2, last_error = $3, leased_until = 0
                 WHERE n = $1",
                &[&n, &next_at_ms, &error],
            )
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    /// Erases every conversation whose last turn is older than `before` (RFC 3339), with its
    /// turns and pending deliveries, in one transaction; returns how many.
    pub async fn prune(&self, before: &str) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let n = tx
            .execute(
                "WITH old AS (DELETE FROM conversations WHERE updated_at < $1 RETURNING id),
                      gone_turns AS (DELETE FROM turns WHERE conversation IN (SELECT id FROM old)),
                      gone_outbox AS (DELETE FROM outbox WHERE conversation IN (SELECT id FROM old)),
                      gone_users AS (DELETE FROM channel_users WHERE conversation IN (SELECT id FROM old))
                 SELECT 1 FROM old",
                &[&before],
            )
            .await
            .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
        Ok(n)
    }

    /// Conversations created in `[from, to)` (RFC 3339 bounds; `None`: open) with all their
    /// turns, read in one repeatable-read snapshot so both lists agree.
    pub async fn report_rows(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Rows, StoreError> {
        const IN_PERIOD: &str =
            "($1::text IS NULL OR c.created_at >= $1) AND ($2::text IS NULL OR c.created_at < $2)";
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_error)?;
        let conversations = tx
            .query(
                &format!(
                    "SELECT c.id, c.state, c.node, c.created_at, c.updated_at FROM conversations c
                     WHERE {IN_PERIOD} ORDER BY c.created_at, c.n"
                ),
                &[&from, &to],
            )
            .await
            .map_err(pg_error)?
            .iter()
            .map(|r| ConversationRow {
                id: r.get(0),
                state: r.get(1),
                node: r.get(2),
                created_at: r.get(3),
                updated_at: r.get(4),
            })
            .collect();
        let turns = tx
            .query(
                &format!(
                    "SELECT t.conversation, t.seq, t.message_text IS NOT NULL, t.events, t.trace, t.flow_version, t.at
                     FROM turns t JOIN conversations c ON c.id = t.conversation
                     WHERE {IN_PERIOD} ORDER BY c.created_at, c.n, t.seq"
                ),
                &[&from, &to],
            )
            .await
            .map_err(pg_error)?
            .iter()
            .map(|r| TurnRow {
                conversation: r.get(0),
                seq: r.get(1),
                has_message: r.get(2),
                events: r.get(3),
                trace: r.get(4),
                flow_version: r.get(5),
                at: r.get(6),
            })
            .collect();
        tx.commit().await.map_err(pg_error)?;
        Ok(Rows {
            conversations,
            turns,
        })
    }

    /// The untrained inbox: messages stored as unmatched in `[from, to)` (by the turn's time),
    /// oldest first.
    pub async fn unmatched(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<Unmatched>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT conversation, message_text, at FROM turns
                 WHERE unmatched AND message_text IS NOT NULL
                   AND ($1::text IS NULL OR at >= $1) AND ($2::text IS NULL OR at < $2)
                 ORDER BY at, conversation, seq",
                &[&from, &to],
            )
            .await
            .map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| Unmatched {
                conversation: r.get(0),
                text: r.get(1),
                at: r.get(2),
            })
            .collect())
    }

    /// Pending deliveries.
    pub async fn pending_deliveries(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT COUNT(*) FROM outbox", &[])
            .await
            .map_err(pg_error)?;
        Ok(row.get::<_, i64>(0).max(0) as u64)
    }
}

/// Inserts a new conversation (at `seq` 1) with its opening turn and that turn's outbox
/// items: what `create` and `create_linked` both write.
async fn insert_conversation(
    tx: &deadpool_postgres::Transaction<'_>,
    c: &Conversation,
    opening: &TurnCommit,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO conversations (id, token_hash, state, node, session, flow_version, created_at, updated_at, seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
        )
        .await
        .map_err(pg_error)?;
    tx.execute(
        &stmt,
        &[
            &c.id,
            &c.token_hash,
            &c.state,
            &c.node,
            &c.session,
            &c.flow_version,
            &c.created_at,
            &c.updated_at,
        ],
    )
    .await
    .map_err(pg_error)?;
    if !insert_turn(tx, opening, 1).await? {
        return Err(StoreError::Commit(format!(
            "conversation `{}` has turns already",
            c.id
        )));
    }
    insert_outbox(tx, opening).await
}

/// Inserts the turn row; `false` when a unique constraint refused it (nothing written).
async fn insert_turn(
    tx: &deadpool_postgres::Transaction<'_>,
    t: &TurnCommit,
    seq: i64,
) -> Result<bool, StoreError> {
    let (text, message_id) = match &t.message {
        Some(m) => (Some(&m.text), m.message_id.as_ref()),
        None => (None, None),
    };
    let stmt = tx
        .prepare_cached(
            "INSERT INTO turns (conversation, seq, message_text, message_id, events, state, flow_version, at, trace, unmatched)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg_error)?;
    let n = tx
        .execute(
            &stmt,
            &[
                &t.conversation,
                &seq,
                &text,
                &message_id,
                &t.events,
                &t.state,
                &t.flow_version,
                &t.at,
                &t.trace,
                &(t.unmatched && text.is_some()),
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok(n == 1)
}

async fn insert_outbox(
    tx: &deadpool_postgres::Transaction<'_>,
    t: &TurnCommit,
) -> Result<(), StoreError> {
    if t.outbox.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO outbox (conversation, body, next_at, channel) VALUES ($1, $2, 0, $3)",
        )
        .await
        .map_err(pg_error)?;
    for item in &t.outbox {
        tx.execute(&stmt, &[&t.conversation, &item.body, &item.channel])
            .await
            .map_err(pg_error)?;
    }
    Ok(())
}

/// Why a turn was not stored, read after its transaction rolled back: its `message_id` was
/// answered first, another turn took its place, or the conversation is gone.
async fn not_stored(
    client: &deadpool_postgres::Object,
    t: &TurnCommit,
) -> Result<Committed, StoreError> {
    let message_id = t.message.as_ref().and_then(|m| m.message_id.as_deref());
    let stmt = client
        .prepare_cached(
            "SELECT c.seq, t.seq, t.message_text, t.message_id, t.events, t.state, t.flow_version, t.at
             FROM conversations c
             LEFT JOIN turns t ON t.conversation = c.id AND t.message_id = $2
             WHERE c.id = $1",
        )
        .await
        .map_err(pg_error)?;
    let row = client
        .query_opt(&stmt, &[&t.conversation, &message_id])
        .await
        .map_err(pg_error)?;
    Ok(match row {
        None => Committed::Gone,
        Some(r) if r.get::<_, Option<i64>>(1).is_some() => Committed::Duplicate(read_turn(&r, 1)),
        Some(_) => Committed::Conflict,
    })
}

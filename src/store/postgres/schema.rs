//! The PostgreSQL schema: versioned migrations embedded in the binary.
//!
//! The version is the one row of `chatflow_schema`. Each step runs in its own transaction
//! under a transaction-scoped advisory lock, so several workers starting at once migrate
//! once: the others wait for the lock, then find the step done. A database whose version is
//! newer than this binary knows is refused ([`StoreError::SchemaTooNew`]) instead of being
//! misread.

use tokio_postgres::Client;

use super::{pg_error, StoreError};

/// The schema, one step per version: `MIGRATIONS[i]` takes version `i` to `i + 1`.
/// Append only: never edit a released step.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE conversations (
    n BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    node TEXT NOT NULL,
    session TEXT NOT NULL,
    flow_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- The last stored turn's seq: the version a turn commit compares and swaps.
    seq BIGINT NOT NULL
);
CREATE TABLE turns (
    conversation TEXT NOT NULL,
    seq BIGINT NOT NULL,
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
    n BIGSERIAL PRIMARY KEY,
    conversation TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    -- Unix ms until which a worker has claimed the row for a delivery attempt.
    leased_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_by_conversation ON outbox (conversation, n);
"#,
    // 2: what each turn keeps for reports (as in SQLite's step 2, so one version number means
    // one schema on both backends), and the index reports and pruning select by.
    r#"
ALTER TABLE turns ADD COLUMN trace TEXT;
CREATE INDEX conversations_by_created ON conversations (created_at);
"#,
    // 3: channels (as in SQLite's step 3): an outbox row names the channel whose send API it
    // goes to (NULL: the bot's webhook), and each channel user is linked to their conversation.
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
    // 4: the untrained inbox (as SQLite's step 4).
    r#"
ALTER TABLE turns ADD COLUMN unmatched BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX turns_unmatched ON turns (at) WHERE unmatched;
"#,
];

/// The schema version this binary writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The advisory lock key that serializes migrations ("chatflow" in ASCII).
const MIGRATION_LOCK: i64 = 0x6368_6174_666c_6f77;

/// Brings the schema up to [`schema_version`], refusing a newer one.
pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let supported = schema_version();
    loop {
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(pg_error)?;
        // Under the lock, so two workers starting at once do not race on the catalog.
        tx.batch_execute("CREATE TABLE IF NOT EXISTS chatflow_schema (version BIGINT NOT NULL)")
            .await
            .map_err(pg_error)?;
        let found = match tx
            .query_opt("SELECT version FROM chatflow_schema", &[])
            .await
            .map_err(pg_error)?
        {
            Some(row) => row.get::<_, i64>(0),
            None => {
                tx.execute("INSERT INTO chatflow_schema (version) VALUES (0)", &[])
                    .await
                    .map_err(pg_error)?;
                0
            }
        };
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        let Some(step) = MIGRATIONS.get(found.max(0) as usize) else {
            tx.commit().await.map_err(pg_error)?;
            return Ok(());
        };
        tx.batch_execute(step).await.map_err(pg_error)?;
        tx.execute("UPDATE chatflow_schema SET version = $1", &[&(found + 1)])
            .await
            .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
    }
}

/// The version the database is at.
pub async fn version(client: &Client) -> Result<i64, StoreError> {
    let row = client
        .query_opt("SELECT version FROM chatflow_schema", &[])
        .await
        .map_err(pg_error)?;
    Ok(row.map(|r| r.get::<_, i64>(0)).unwrap_or(0))
}

//! Channel users and the conversations they are linked to (`docs/channels.md`).

use rusqlite::{params, OptionalExtension};

use super::{insert_conversation, SqliteStore};
use crate::store::{ChannelLink, Conversation, StoreError, TurnCommit};

impl SqliteStore {
    /// The conversation a channel's user is linked to, if any.
    pub async fn channel_conversation(
        &self,
        channel: String,
        user: String,
    ) -> Result<Option<String>, StoreError> {
        self.worker
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT conversation FROM channel_users WHERE channel = ?1 AND user_id = ?2",
                    )?
                    .query_row(params![channel, user], |r| r.get(0))
                    .optional()?)
            })
            .await
    }

    /// Creates the conversation and links the user to it, if the link still points at
    /// `link.previous`; `false` and nothing written otherwise.
    pub async fn create_linked(
        &self,
        c: Conversation,
        opening: TurnCommit,
        link: ChannelLink,
    ) -> Result<bool, StoreError> {
        self.worker
            .write(move |tx| {
                let now: Option<String> = tx
                    .prepare_cached(
                        "SELECT conversation FROM channel_users WHERE channel = ?1 AND user_id = ?2",
                    )?
                    .query_row(params![link.channel, link.user], |r| r.get(0))
                    .optional()?;
                if now != link.previous {
                    return Ok((false, false));
                }
                insert_conversation(tx, &c, &opening)?;
                tx.execute(
                    "INSERT INTO channel_users (channel, user_id, conversation) VALUES (?1, ?2, ?3)
                     ON CONFLICT (channel, user_id) DO UPDATE SET conversation = excluded.conversation",
                    params![link.channel, link.user, c.id],
                )?;
                Ok((true, true))
            })
            .await
    }
}

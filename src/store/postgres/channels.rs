//! Channel users and the conversations they are linked to (`docs/channels.md`).

use super::{insert_conversation, pg_error, PostgresStore};
use crate::store::{ChannelLink, Conversation, StoreError, TurnCommit};

impl PostgresStore {
    /// The conversation a channel's user is linked to, if any.
    pub async fn channel_conversation(
        &self,
        channel: &str,
        user: &str,
    ) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT conversation FROM channel_users WHERE channel = $1 AND user_id = $2",
                &[&channel, &user],
            )
            .await
            .map_err(pg_error)?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Creates the conversation and links the user to it, if the link still points at
    /// `link.previous`; `false` and nothing written otherwise. The link's row lock (or, for
    /// a first link, its primary key) makes two workers' attempts for one user exclusive.
    pub async fn create_linked(
        &self,
        c: Conversation,
        opening: TurnCommit,
        link: ChannelLink,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let linked = match &link.previous {
            None => tx
                .execute(
                    "INSERT INTO channel_users (channel, user_id, conversation) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                    &[&link.channel, &link.user, &c.id],
                )
                .await
                .map_err(pg_error)?,
            Some(previous) => tx
                .execute(
                    "UPDATE channel_users SET conversation = $3
                     WHERE channel = $1 AND user_id = $2 AND conversation = $4",
                    &[&link.channel, &link.user, &c.id, previous],
                )
                .await
                .map_err(pg_error)?,
        };
        if linked != 1 {
            tx.rollback().await.map_err(pg_error)?;
            return Ok(false);
        }
        insert_conversation(&tx, &c, &opening).await?;
        tx.commit().await.map_err(pg_error)?;
        Ok(true)
    }
}

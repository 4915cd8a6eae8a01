//! Delivering the bot's webhook events from the store's outbox.
//!
//! A turn writes its webhook events to the outbox in the same transaction as the turn, so an
//! event exists exactly when its turn does. This worker POSTs them: each body as JSON with
//! `X-Chatflow-Signature: sha256=HEX` (HMAC-SHA256 of the body, keyed with the secret) and
//! `X-Chatflow-Delivery: N` (a delivery id, the same on every retry, for receivers that
//! de-duplicate). A 2xx answer deletes the row; anything else retries with exponential
//! backoff (1 s doubling up to 5 min), forever. Only the oldest pending event of each
//! conversation is ever sent, so each conversation's events arrive in order; conversations
//! do not wait for each other's failures. Rows stay in the file across restarts: delivery is
//! at least once.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::{watch, Notify};

use super::metrics::Metrics;
use crate::store::{OutboxRow, Store};

/// Where and how events are sent.
#[derive(Clone)]
pub struct WebhookTarget {
    /// The endpoint URL.
    pub url: String,
    /// The HMAC key (the secret's value).
    pub secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the outbox is looked at when nothing wakes the worker.
const POLL: Duration = Duration::from_millis(500);
const MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;

/// `sha256=HEX` of the body, keyed with the secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
            // HMAC accepts keys of any length; this branch is unreachable. A zero block is
            // what HMAC pads the empty key to, so this is the empty key.
            <Hmac<Sha256> as KeyInit>::new(&Default::default())
        });
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Delay before attempt `attempts + 1`.
fn backoff_ms(attempts: i64) -> i64 {
    let shift = attempts.clamp(0, 20) as u32;
    (1000i64 << shift).min(MAX_BACKOFF_MS)
}

/// Runs until `stop` turns true; `wake` is notified when a turn wrote outbox rows.
pub async fn deliver(
    store: Store,
    target: WebhookTarget,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are not delivered");
            return;
        }
    };
    loop {
        if *stop.borrow() {
            return;
        }
        let due = match store.due_deliveries(now_ms(), 64).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the webhook outbox");
                Vec::new()
            }
        };
        let sent_any = !due.is_empty();
        // Heads of different conversations go out at once; one conversation's are in order.
        let mut attempts = tokio::task::JoinSet::new();
        for row in due {
            let (client, store, target, metrics) = (
                client.clone(),
                store.clone(),
                target.clone(),
                Arc::clone(&metrics),
            );
            attempts.spawn(async move { attempt(&client, &store, &target, &metrics, row).await });
        }
        while attempts.join_next().await.is_some() {}
        if sent_any {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

/// One attempt for the head row of one conversation.
async fn attempt(
    client: &reqwest::Client,
    store: &Store,
    target: &WebhookTarget,
    metrics: &Metrics,
    row: OutboxRow,
) {
    let result = client
        .post(&target.url)
        .header("content-type", "application/json")
        .header(
            "x-chatflow-signature",
            signature(&target.secret, row.body.as_bytes()),
        )
        .header("x-chatflow-delivery", row.n.to_string())
        .body(row.body.clone())
        .send()
        .await;
    let failure = match result {
        Ok(r) if r.status().is_success() => None,
        Ok(r) => Some(format!("status {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Some("timeout".to_string()),
        Err(_) => Some("connect error".to_string()),
    };
    let stored = match &failure {
        None => {
            metrics.webhook("delivered");
            store.delivered(row.n).await
        }
        Some(why) => {
            metrics.webhook("failed");
            tracing::warn!(delivery = row.n, conversation = %row.conversation, attempts = row.attempts + 1, error = %why, "webhook delivery failed; will retry");
            store
                .retry_later(row.n, now_ms() + backoff_ms(row.attempts), why.clone())
                .await
        }
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "cannot update the webhook outbox");
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

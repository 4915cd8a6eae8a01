//! Sending a channel's replies from the store's outbox through the platform's send API.
//!
//! The same outbox as the bot's webhook (written in the turn's transaction, so a reply
//! exists exactly when its turn does, and survives restarts), with rows marked by channel:
//! each channel has its own sender and its own order per conversation. Only a conversation's
//! oldest pending reply is ever sent, so replies arrive in order. A 2xx answer is a
//! delivery; a 408, a 429, a 5xx, a timeout or no connection is retried with backoff
//! ([`RetryPolicy`]); any other 4xx means the platform will never take it (a blocked bot,
//! a bad request), so it is dropped with a warning rather than holding the conversation's
//! later replies back forever.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::sync::{watch, Notify};

use super::config::{ChannelConfig, RetryPolicy};
use crate::channels::Platform;
use crate::serve::metrics::Metrics;
use crate::store::{OutboxRow, Store};

/// How long one send may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs until `stop` turns true; `wake` is notified when a turn wrote outbox rows.
pub async fn send_replies(
    store: Store,
    metrics: Arc<Metrics>,
    config: ChannelConfig,
    retry: RetryPolicy,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(channel = config.name(), error = %e, "cannot build the HTTP client; replies are not sent");
            return;
        }
    };
    let config = Arc::new(config);
    loop {
        if *stop.borrow() {
            return;
        }
        let due = store
            .due_channel_deliveries(now_ms(), 64, Some(config.name()))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(channel = config.name(), error = %e, "cannot read the outbox");
                Vec::new()
            });
        let sent_any = !due.is_empty();
        let mut attempts = tokio::task::JoinSet::new();
        for row in due {
            let (client, store, config) = (client.clone(), store.clone(), Arc::clone(&config));
            let metrics = Arc::clone(&metrics);
            attempts.spawn(async move {
                let outcome = attempt(&client, &store, &config, retry, row).await;
                metrics.channel_reply(config.name(), outcome);
            });
        }
        while attempts.join_next().await.is_some() {}
        if sent_any {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(retry.poll) => {}
            _ = stop.changed() => {}
        }
    }
}

/// What came of one attempt.
enum Outcome {
    Delivered,
    Retry(String),
    Rejected(String),
}

async fn attempt(
    client: &reqwest::Client,
    store: &Store,
    config: &ChannelConfig,
    retry: RetryPolicy,
    row: OutboxRow,
) -> &'static str {
    let outcome = match serde_json::from_str::<Json>(&row.body) {
        Ok(stored) => send(client, config, &stored).await,
        Err(e) => Outcome::Rejected(format!("unreadable outbox row: {e}")),
    };
    let channel = config.name();
    let (stored, name) = match outcome {
        Outcome::Delivered => (store.delivered(row.n).await, "delivered"),
        Outcome::Rejected(why) => {
            tracing::warn!(channel, delivery = row.n, conversation = %row.conversation, error = %why, "the platform refused a reply; dropped");
            (store.delivered(row.n).await, "rejected")
        }
        Outcome::Retry(why) => {
            tracing::warn!(channel, delivery = row.n, conversation = %row.conversation, attempts = row.attempts + 1, error = %why, "reply not sent; will retry");
            let wait = retry.backoff(row.attempts).as_millis() as i64;
            (
                store.retry_later(row.n, now_ms() + wait, why).await,
                "failed",
            )
        }
    };
    if let Err(e) = stored {
        tracing::error!(channel, error = %e, "cannot update the outbox");
    }
    name
}

/// Answers a Telegram callback query (`answerCallbackQuery`), once and at once: it only stops
/// the spinner on the tapped button, and a late answer is refused anyway, so it is neither
/// stored nor retried. The reply to the tap goes through the outbox like any other.
pub async fn answer_callback(client: &reqwest::Client, config: &ChannelConfig, id: &str) {
    let body = serde_json::json!({"callback_query_id": id});
    let result = request(client, config, "answerCallbackQuery")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await;
    // Without the URL: it holds the bot token.
    match result.map(|r| r.status()) {
        Ok(status) if status.is_success() => {}
        // An answer to a query already answered or too old (a re-sent update).
        Ok(status) if status.is_client_error() => {
            tracing::debug!(
                channel = config.name(),
                status = status.as_u16(),
                "callback query not answered"
            );
        }
        Ok(status) => {
            tracing::warn!(
                channel = config.name(),
                status = status.as_u16(),
                "callback query not answered"
            );
        }
        Err(e) => {
            let why = if e.is_timeout() {
                "timeout"
            } else {
                "connect error"
            };
            tracing::warn!(
                channel = config.name(),
                error = why,
                "callback query not answered"
            );
        }
    }
}

/// A POST to the send API's `method`, with the channel's credentials.
fn request(
    client: &reqwest::Client,
    config: &ChannelConfig,
    method: &str,
) -> reqwest::RequestBuilder {
    let credentials = &config.credentials;
    let base = &config.api_base;
    match config.platform {
        Platform::Telegram => client.post(format!("{base}/bot{}/{method}", credentials.token)),
        Platform::WhatsApp => {
            let phone = credentials.phone_number_id.as_deref().unwrap_or("");
            client
                .post(format!("{base}/{phone}/{method}"))
                .bearer_auth(&credentials.token)
        }
        Platform::Messenger | Platform::Instagram => client
            .post(format!("{base}/me/{method}"))
            .bearer_auth(&credentials.token),
        Platform::Viber => client
            .post(format!("{base}/{method}"))
            .header("x-viber-auth-token", &credentials.token),
    }
}

/// Sends one stored request (`{"method", "body"}`) with the channel's credentials.
async fn send(client: &reqwest::Client, config: &ChannelConfig, stored: &Json) -> Outcome {
    let method = stored["method"].as_str().unwrap_or("");
    let result = request(client, config, method)
        .header("content-type", "application/json")
        .body(stored["body"].to_string())
        .send()
        .await;
    // Errors are described without their URL: Telegram's holds the bot token.
    match result {
        Ok(r) => {
            let status = r.status().as_u16();
            // Viber answers 200 with a `status` other than 0 when it did not send; 12 is
            // "too many requests".
            let viber_status = if config.platform == Platform::Viber && status == 200 {
                let bytes = r.bytes().await.unwrap_or_default();
                let body: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
                body["status"].as_i64().unwrap_or(0)
            } else {
                0
            };
            match status {
                200..=299 if viber_status == 0 => Outcome::Delivered,
                200..=299 if viber_status == 12 => {
                    Outcome::Retry("Viber: too many requests".into())
                }
                200..=299 => Outcome::Rejected(format!("Viber status {viber_status}")),
                408 | 429 | 500..=599 => Outcome::Retry(format!("status {status}")),
                _ => Outcome::Rejected(format!("status {status}")),
            }
        }
        Err(e) if e.is_timeout() => Outcome::Retry("timeout".into()),
        Err(_) => Outcome::Retry("connect error".into()),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

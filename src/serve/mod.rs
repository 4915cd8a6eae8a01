//! `chatflow serve`: a flow behind an HTTP API, with conversations kept in a [`Store`].
//!
//! - [`http`]: the routes and their shapes (`docs/http-api.md`);
//! - [`service`]: turns over the store — one transaction per turn, answered after commit,
//!   one conversation's messages one after the other ([`locks`]);
//! - [`resume`]: sessions stored by name, so conversations survive an edited flow;
//! - [`webhook`]: the bot's webhook, delivered from the store's outbox;
//! - [`metrics`]: Prometheus text;
//! - [`report`]: the report page at `/admin/report`;
//! - [`web`]: the web chat page and the widget script a website embeds;
//! - [`stream`]: a turn answered as server-sent events, the model's reply as it arrives;
//! - [`channels`]: the bot on WhatsApp, Messenger, Instagram, Telegram and Viber;
//! - [`config`]: `serve --config FILE`, the settings and channels in a TOML file.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::runtime::Engine;
use crate::store::Store;

pub mod channels;
pub mod config;
pub mod http;
pub mod locks;
pub mod metrics;
pub mod report;
pub mod resume;
pub mod service;
pub mod stream;
pub mod web;
pub mod webhook;

pub use service::Service;
pub use webhook::WebhookTarget;

/// What `serve` needs besides the engine and the store.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Conversations idle longer are closed at their next message.
    pub session_ttl: Option<Duration>,
    /// The admin token; `None` turns the admin endpoints off.
    pub admin_token: Option<String>,
    /// The bot's webhook and the events it wants.
    pub webhook: Option<(WebhookTarget, Vec<String>)>,
    /// The messaging channels to answer on (`docs/channels.md`).
    pub channels: Vec<channels::ChannelConfig>,
    /// How channel replies are retried.
    pub channel_retry: channels::RetryPolicy,
}

/// Serves until `shutdown` resolves, then stops accepting, lets the turns in progress
/// commit, stops the webhook worker and returns.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    store: Store,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let events = options.webhook.as_ref().map(|(_, events)| events.clone());
    let mut service = Service::new(engine, store.clone(), options.session_ttl, events);
    let wakes: Vec<Arc<tokio::sync::Notify>> =
        options.channels.iter().map(|_| Arc::default()).collect();
    service.channel_wakes = wakes.clone();
    let channels = Arc::new(channels::Channels {
        by_name: options
            .channels
            .iter()
            .map(|c| (c.name().to_string(), c.clone()))
            .collect(),
        context: crate::channels::RenderContext {
            bot_name: service.program().bot.name.clone(),
        },
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default(),
    });
    let service = Arc::new(service);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let senders: Vec<_> = options
        .channels
        .into_iter()
        .zip(wakes)
        .map(|(config, wake)| {
            tokio::spawn(channels::deliver::send_replies(
                store.clone(),
                Arc::clone(&service.metrics),
                config,
                options.channel_retry,
                wake,
                stop_rx.clone(),
            ))
        })
        .collect();
    let worker = options.webhook.map(|(target, _)| {
        tokio::spawn(webhook::deliver(
            store,
            target,
            Arc::clone(&service.metrics),
            Arc::clone(&service.outbox_wake),
            stop_rx,
        ))
    });
    let tasks = TaskTracker::new();
    let state = http::AppState {
        service,
        admin_token: options.admin_token.map(Arc::from),
        tasks: tasks.clone(),
        channels,
    };
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    tasks.close();
    tasks.wait().await;
    let _ = stop_tx.send(true);
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    for sender in senders {
        let _ = sender.await;
    }
    Ok(())
}

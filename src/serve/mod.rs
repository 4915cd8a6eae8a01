//! `chatflow serve`: a flow behind an HTTP API, with conversations kept in a [`Store`].
//!
//! - [`http`]: the routes and their shapes (`docs/http-api.md`);
//! - [`service`]: turns over the store — one transaction per turn, answered after commit,
//!   one conversation's messages one after the other ([`locks`]);
//! - [`resume`]: sessions stored by name, so conversations survive an edited flow;
//! - [`webhook`]: the bot's webhook, delivered from the store's outbox;
//! - [`metrics`]: Prometheus text;
//! - [`report`]: the report page at `/admin/report`;
//! - [`web`]: the web chat page and the widget script a website embeds.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::runtime::Engine;
use crate::store::Store;

pub mod http;
pub mod locks;
pub mod metrics;
pub mod report;
pub mod resume;
pub mod service;
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
    let service = Arc::new(Service::new(
        engine,
        store.clone(),
        options.session_ttl,
        events,
    ));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
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
    Ok(())
}

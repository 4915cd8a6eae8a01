//! `chatflow serve`: the flow behind the HTTP API of `docs/http-api.md`.
//!
//! Prints exactly one line on stdout, `listening on http://HOST:PORT`, once the store is open
//! and the port is bound; logs go to stderr. SIGINT or SIGTERM stop it cleanly: no new
//! requests, turns in progress commit, exit 0.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;

use chatflow::runtime::{Engine, EngineConfig};
use chatflow::serve::channels::ChannelConfig;
use chatflow::serve::{ServeOptions, WebhookTarget};
use chatflow::store::Store;

use super::run::{engine_config, start_stubs};
use super::{compile_for_use, usage_error, SessionArgs, FAILED};

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

// The `///` comments of these fields are `chatflow serve --help`.
/// What `chatflow serve` was asked for.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Where conversations are kept: a SQLite file (created when missing), or a PostgreSQL
    /// database as `postgres://USER[:PASSWORD]@HOST:PORT/DB` (several `serve` processes may
    /// share one).
    #[arg(long, value_name = "FILE|URL", default_value = "chatflow.db")]
    pub store: String,
    /// Serve API answers from this JSON file on a local stub server (works offline).
    #[arg(long, value_name = "STUBS.json")]
    pub stubs: Option<String>,
    /// Close conversations idle longer than this at their next message (`30m`, `2h`,
    /// `45s`; `off` never).
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub session_ttl: String,
    /// The environment variable holding the admin token; unset, admin endpoints are off.
    #[arg(long, value_name = "NAME", default_value = "CHATFLOW_ADMIN_TOKEN")]
    pub admin_token_env: String,
    /// Logs on stderr as text or as JSON lines.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Node entries allowed per turn before the turn stops with a runtime error.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = super::max_steps)]
    pub max_steps: u32,
    /// Use the fixed one-time code `123456` instead of random ones (demos and tests).
    #[arg(long)]
    pub otp_code: bool,
    /// Send a channel's replies to this API address instead of the platform's own
    /// (repeatable): `--channel-api telegram=http://127.0.0.1:9000`.
    #[arg(long, value_name = "NAME=URL")]
    pub channel_api: Vec<String>,
    #[command(flatten)]
    pub session: SessionArgs,
}

pub async fn serve(file: &str, args: ServeArgs) -> ExitCode {
    init_logs(args.log_format);
    let session_ttl = match parse_duration(&args.session_ttl) {
        Ok(ttl) => ttl,
        Err(e) => return usage_error(&format!("--session-ttl: {e}")),
    };
    let compiled = match compile_for_use(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(program) = compiled.program else {
        return ExitCode::from(FAILED);
    };
    let program = Arc::new(program);
    let webhook = match webhook_target(&program) {
        Ok(w) => w,
        Err(e) => return usage_error(&e),
    };
    // Kept alive for as long as the server runs.
    let stubs = match start_stubs(args.stubs.as_deref(), &program).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let secrets = match super::run::load_secrets(args.session.secrets.as_deref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let channels = match channel_configs(&args, &secrets) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    // Here `--channel` names the channels served; `sys.channel` is set per conversation.
    let mut session = args.session.clone();
    session.channel.clear();
    let base = session.apply(EngineConfig {
        channel: "web".to_string(),
        ..engine_config(&program, stubs.as_ref(), secrets)
    });
    let config = EngineConfig {
        max_steps: args.max_steps,
        fixed_otp: args.otp_code,
        ..base
    };
    let engine = match Engine::new(program, config) {
        Ok(e) => e,
        Err(e) => return usage_error(&format!("cannot load the flow: {e}")),
    };
    let shown = chatflow::store::redacted(&args.store);
    let store = match Store::open(&args.store).await {
        Ok(s) => s,
        Err(e) => return usage_error(&format!("cannot open the store `{shown}`: {e}")),
    };
    let listener = match tokio::net::TcpListener::bind(&args.addr).await {
        Ok(l) => l,
        Err(e) => return usage_error(&format!("cannot listen on {}: {e}", args.addr)),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => return usage_error(&format!("cannot listen on {}: {e}", args.addr)),
    };
    let admin_token = std::env::var(&args.admin_token_env)
        .ok()
        .filter(|t| !t.is_empty());
    if admin_token.is_none() {
        tracing::info!(variable = %args.admin_token_env, "no admin token: admin endpoints are off");
    }
    let options = ServeOptions {
        session_ttl,
        admin_token,
        webhook,
        channels,
        channel_retry: Default::default(),
    };
    outln!("listening on http://{addr}");
    tracing::info!(%addr, store = %shown, "serving");
    match chatflow::serve::serve(listener, engine, store, options, stop_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(&format!("the server stopped: {e}")),
    }
}

/// The store a `report` or `prune` reads: a SQLite file that must exist already, or a
/// PostgreSQL database (migrated like `serve` would). Exit 2 when it cannot be opened.
pub async fn open_existing_store(spec: &str) -> Result<Store, ExitCode> {
    let shown = chatflow::store::redacted(spec);
    if !chatflow::store::is_postgres_url(spec) && !std::path::Path::new(spec).is_file() {
        return Err(usage_error(&format!("no store at `{shown}`")));
    }
    Store::open(spec)
        .await
        .map_err(|e| usage_error(&format!("cannot open the store `{shown}`: {e}")))
}

/// `chatflow migrate --store STORE`: brings the schema to this build's version and says so.
pub async fn migrate(spec: &str) -> ExitCode {
    let shown = chatflow::store::redacted(spec);
    let opened = match Store::open(spec).await {
        Ok(store) => store.schema_version().await,
        Err(e) => Err(e),
    };
    match opened {
        Ok(version) => {
            outln!("store `{shown}` is at schema version {version}");
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(&format!("cannot migrate the store `{shown}`: {e}")),
    }
}

/// The channels of `--channel`, with their credentials from the secrets and their API
/// addresses from `--channel-api`.
fn channel_configs(
    args: &ServeArgs,
    secrets: &std::collections::HashMap<String, String>,
) -> Result<Vec<ChannelConfig>, String> {
    let mut apis = std::collections::HashMap::new();
    for spec in &args.channel_api {
        let (name, url) = spec
            .split_once('=')
            .filter(|(n, u)| {
                !n.is_empty() && (u.starts_with("http://") || u.starts_with("https://"))
            })
            .ok_or_else(|| {
                format!("--channel-api `{spec}`: expected NAME=URL with an http(s) URL")
            })?;
        if !args.session.channel.iter().any(|c| c == name) {
            return Err(format!(
                "--channel-api `{spec}`: `{name}` is not a --channel served"
            ));
        }
        apis.insert(name.to_string(), url.to_string());
    }
    let mut configs: Vec<ChannelConfig> = Vec::new();
    for name in &args.session.channel {
        if configs.iter().any(|c| c.name() == name) {
            continue;
        }
        let config = ChannelConfig::from_secrets(name, secrets, apis.get(name).cloned())
            .map_err(|e| format!("--channel {name}: {e}"))?;
        tracing::info!(channel = %name, webhook = %format!("/channels/{name}/webhook"), "channel on");
        configs.push(config);
    }
    Ok(configs)
}

/// The bot's `webhook` setting, with its secret read from the environment.
fn webhook_target(
    program: &chatflow::ir::Program,
) -> Result<Option<(WebhookTarget, Vec<String>)>, String> {
    let Some(hook) = &program.bot.webhook else {
        return Ok(None);
    };
    let secret = std::env::var(&hook.secret).map_err(|_| {
        format!(
            "the bot's webhook is signed with secret `{0}`: set the environment variable `{0}`",
            hook.secret
        )
    })?;
    let target = WebhookTarget {
        url: hook.url.clone(),
        secret,
    };
    Ok(Some((target, hook.events.clone())))
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHATFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// SIGINT or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("stopping: finishing the turns in progress");
}

/// `30m`, `2h`, `45s`, `1d`, `500ms`; `0` or `off` for never.
pub fn parse_duration(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text == "0" || text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 30m, 2h or 45s"))?;
    let seconds = match unit {
        "ms" => return Ok(Some(Duration::from_millis(n))),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("`{text}` is not a duration like 30m, 2h or 45s")),
    };
    Ok(Some(Duration::from_secs(seconds)))
}

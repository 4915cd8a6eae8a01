//! `chatflow serve`: the flow behind the HTTP API of `docs/http-api.md`.
//!
//! Prints exactly one line on stdout, `listening on http://HOST:PORT`, once the store is open
//! and the port is bound; logs go to stderr. SIGINT or SIGTERM stop it cleanly: no new
//! requests, turns in progress commit, exit 0.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;

use chatflow::channels::Platform;
use chatflow::diagnostic::Diag;
use chatflow::runtime::{Engine, EngineConfig};
use chatflow::serve::channels::ChannelConfig;
use chatflow::serve::config::ServeFile;
use chatflow::serve::{ServeOptions, WebhookTarget};
use chatflow::source::SourceSet;
use chatflow::store::Store;

use super::run::{engine_config, start_stubs};
use super::{compile_for_use, usage_error, SessionArgs, USAGE};

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

// The `///` comments of these fields are `chatflow serve --help`. The settings a config file
// may hold have no clap default: a flag given wins over the file, the file over the default.
/// What `chatflow serve` was asked for.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Read settings and channels from this TOML file (docs/channels.md); flags win over it.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<String>,
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Where conversations are kept: a SQLite file (created when missing), or a PostgreSQL
    /// database as `postgres://USER[:PASSWORD]@HOST:PORT/DB` (several `serve` processes may
    /// share one) [default: chatflow.db].
    #[arg(long, value_name = "FILE|URL")]
    pub store: Option<String>,
    /// Serve API answers from this JSON file on a local stub server (works offline).
    #[arg(long, value_name = "STUBS.json")]
    pub stubs: Option<String>,
    /// Close conversations idle longer than this at their next message (`30m`, `2h`,
    /// `45s`; `off` never) [default: 30m].
    #[arg(long, value_name = "DURATION")]
    pub session_ttl: Option<String>,
    /// The environment variable holding the admin token; unset, admin endpoints are off
    /// [default: CHATFLOW_ADMIN_TOKEN].
    #[arg(long, value_name = "NAME")]
    pub admin_token_env: Option<String>,
    /// Logs on stderr as text or as JSON lines [default: text].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Node entries allowed per turn before the turn stops with a runtime error
    /// [default: 1000].
    #[arg(long, value_name = "N", value_parser = super::max_steps)]
    pub max_steps: Option<u32>,
    /// API calls in flight at once to one origin (scheme, host, port), all conversations
    /// together; more wait for a free one within their timeout; 0 is no limit [default: 2048].
    #[arg(long, value_name = "N")]
    pub max_calls_per_origin: Option<usize>,
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

/// `serve`'s settings: the flags, else the config file, else the defaults.
struct Settings {
    addr: String,
    store: String,
    session_ttl: Option<Duration>,
    admin_token_env: String,
    log_format: LogFormat,
    max_steps: u32,
    max_calls_per_origin: usize,
    secrets: Option<String>,
}

impl Settings {
    fn new(args: &ServeArgs, file: Option<&ServeFile>) -> Result<Settings, String> {
        let from_file = |pick: fn(&ServeFile) -> Option<String>| file.and_then(pick);
        let session_ttl = match &args.session_ttl {
            Some(text) => parse_duration(text).map_err(|e| format!("--session-ttl: {e}"))?,
            None => match file.and_then(|f| f.session_ttl) {
                Some(ttl) => ttl,
                None => Some(Duration::from_secs(30 * 60)),
            },
        };
        let log_format = match (args.log_format, file.and_then(|f| f.log_format.as_deref())) {
            (Some(format), _) => format,
            (None, Some("json")) => LogFormat::Json,
            (None, _) => LogFormat::Text,
        };
        Ok(Settings {
            addr: args
                .addr
                .clone()
                .or_else(|| from_file(|f| f.addr.clone()))
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            store: args
                .store
                .clone()
                .or_else(|| from_file(|f| f.store.clone()))
                .unwrap_or_else(|| "chatflow.db".into()),
            session_ttl,
            admin_token_env: args
                .admin_token_env
                .clone()
                .or_else(|| from_file(|f| f.admin_token_env.clone()))
                .unwrap_or_else(|| "CHATFLOW_ADMIN_TOKEN".into()),
            log_format,
            max_steps: args
                .max_steps
                .or_else(|| file.and_then(|f| f.max_steps))
                .unwrap_or(1000),
            max_calls_per_origin: args
                .max_calls_per_origin
                .or_else(|| file.and_then(|f| f.max_calls_per_origin))
                .unwrap_or(chatflow::runtime::MAX_CALLS_PER_ORIGIN),
            secrets: args
                .session
                .secrets
                .clone()
                .or_else(|| from_file(|f| f.secrets.clone())),
        })
    }
}

/// Reads `--config FILE`; exit 2 with its diagnostics when it is wrong.
fn read_config(path: Option<&str>) -> Result<Option<ServeFile>, ExitCode> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage_error(&format!("cannot read `{path}`: {e}")))?;
    ServeFile::parse(path, &text)
        .map(Some)
        .map_err(|(diags, sources)| config_error(&diags, &sources))
}

/// Prints diagnostics about the config file and returns exit code 2.
fn config_error(diags: &[Diag], sources: &SourceSet) -> ExitCode {
    let color = std::io::stderr().is_terminal();
    err!("{}", chatflow::diagnostic::render(diags, sources, color));
    ExitCode::from(USAGE)
}

pub async fn serve(file: &str, args: ServeArgs) -> ExitCode {
    let config = match read_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let settings = match Settings::new(&args, config.as_ref()) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    init_logs(settings.log_format);
    let program = match compile_for_use(file) {
        Ok(p) => p,
        Err(code) => return code,
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
    let secrets = match super::run::load_secrets(settings.secrets.as_deref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let channels = match channel_configs(&args, config.as_ref(), &secrets) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Here `--channel` names the channels served; `sys.channel` is set per conversation.
    let mut session = args.session.clone();
    session.channel.clear();
    let base = session.apply(EngineConfig {
        channel: "web".to_string(),
        ..engine_config(&program, stubs.as_ref(), secrets)
    });
    let engine_config = EngineConfig {
        max_steps: settings.max_steps,
        max_calls_per_origin: settings.max_calls_per_origin,
        fixed_otp: args.otp_code,
        ..base
    };
    let engine = match Engine::new(program, engine_config) {
        Ok(e) => e,
        Err(e) => return usage_error(&format!("cannot load the flow: {e}")),
    };
    let shown = chatflow::store::redacted(&settings.store);
    let store = match Store::open(&settings.store).await {
        Ok(s) => s,
        Err(e) => return usage_error(&format!("cannot open the store `{shown}`: {e}")),
    };
    let listener = match tokio::net::TcpListener::bind(&settings.addr).await {
        Ok(l) => l,
        Err(e) => return usage_error(&format!("cannot listen on {}: {e}", settings.addr)),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => return usage_error(&format!("cannot listen on {}: {e}", settings.addr)),
    };
    let admin_token = std::env::var(&settings.admin_token_env)
        .ok()
        .filter(|t| !t.is_empty());
    if admin_token.is_none() {
        tracing::info!(variable = %settings.admin_token_env, "no admin token: admin endpoints are off");
    }
    let options = ServeOptions {
        session_ttl: settings.session_ttl,
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

/// The channels served: those of `--channel` when any is given, else the config file's
/// sections; each with its credentials from the secrets the file names (or the default
/// ones) and its API address from `--channel-api`, else the file.
fn channel_configs(
    args: &ServeArgs,
    file: Option<&ServeFile>,
    secrets: &std::collections::HashMap<String, String>,
) -> Result<Vec<ChannelConfig>, ExitCode> {
    let names: Vec<String> = if args.session.channel.is_empty() {
        file.map(|f| {
            f.channels
                .iter()
                .map(|c| c.platform.name().to_string())
                .collect()
        })
        .unwrap_or_default()
    } else {
        args.session.channel.clone()
    };
    let mut apis = std::collections::HashMap::new();
    for spec in &args.channel_api {
        let (name, url) = spec
            .split_once('=')
            .filter(|(n, u)| {
                !n.is_empty() && (u.starts_with("http://") || u.starts_with("https://"))
            })
            .ok_or_else(|| {
                usage_error(&format!(
                    "--channel-api `{spec}`: expected NAME=URL with an http(s) URL"
                ))
            })?;
        if !names.iter().any(|c| c == name) {
            return Err(usage_error(&format!(
                "--channel-api `{spec}`: `{name}` is not a channel served"
            )));
        }
        apis.insert(name.to_string(), url.to_string());
    }
    let mut configs: Vec<ChannelConfig> = Vec::new();
    for name in &names {
        if configs.iter().any(|c| c.name() == name) {
            continue;
        }
        let api = apis.get(name).cloned();
        let section =
            Platform::from_name(name).and_then(|p| file.and_then(|f| Some((f, f.channel(p)?))));
        let config = match section {
            Some((file, section)) => file
                .channel_config(section, secrets, api)
                .map_err(|d| config_error(&[d], file.sources()))?,
            None => ChannelConfig::from_secrets(name, secrets, api)
                .map_err(|e| usage_error(&format!("--channel {name}: {e}")))?,
        };
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

pub use chatflow::serve::config::parse_duration;

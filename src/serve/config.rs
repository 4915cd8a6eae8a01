//! `chatflow serve --config FILE`: serve's settings and its channels in a TOML file
//! (`docs/channels.md`, "A config file").
//!
//! ```toml
//! addr = "0.0.0.0:8080"
//! store = "chatflow.db"
//!
//! [channels.telegram]
//! bot_token = "SUPPORT_BOT_TOKEN"   # the secret holding it, never the token itself
//! ```
//!
//! The file names the secrets that hold a channel's credentials; their values still come
//! from `CHATFLOW_SECRET_*` or `--secrets FILE`. A mistake is a diagnostic with a code, a
//! label at the place in the file (toml's spans) and a help line. Command-line flags win
//! over the file; the command line reads this module's [`ServeFile`] and decides.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::channels::config::{credentials_of, MissingSecret};
use super::channels::ChannelConfig;
use crate::channels::Platform;
use crate::diagnostic::{closest, quoted, Code, Diag};
use crate::source::{FileId, SourceSet, Span};

/// The file as TOML gives it: every key the file may have, with where it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    addr: Option<Spanned<String>>,
    store: Option<Spanned<String>>,
    secrets: Option<Spanned<String>>,
    session_ttl: Option<Spanned<String>>,
    admin_token_env: Option<Spanned<String>>,
    log_format: Option<Spanned<String>>,
    max_steps: Option<Spanned<i64>>,
    max_calls_per_origin: Option<Spanned<i64>>,
    #[serde(default)]
    channels: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// A `serve --config` file, checked.
#[derive(Debug)]
pub struct ServeFile {
    /// The file's text, for diagnostics that point into it later (a secret not set).
    sources: SourceSet,
    file: FileId,
    /// `addr`.
    pub addr: Option<String>,
    /// `store`: a PostgreSQL URL, or a SQLite path relative to the file's folder.
    pub store: Option<String>,
    /// `secrets`: a secrets file, relative to the file's folder.
    pub secrets: Option<String>,
    /// `session_ttl`; `Some(None)` is `off`.
    pub session_ttl: Option<Option<Duration>>,
    /// `admin_token_env`.
    pub admin_token_env: Option<String>,
    /// `log_format`: `text` or `json`.
    pub log_format: Option<String>,
    /// `max_steps`.
    pub max_steps: Option<u32>,
    /// `max_calls_per_origin` (0: no limit).
    pub max_calls_per_origin: Option<usize>,
    /// The `[channels.NAME]` sections, in name order.
    pub channels: Vec<ChannelSection>,
}

/// A `[channels.NAME]` section.
#[derive(Debug, Clone)]
pub struct ChannelSection {
    /// Which platform.
    pub platform: Platform,
    /// `api`: where replies go instead of the platform's API.
    pub api: Option<String>,
    /// The secret named for each credential key, and where; a key left out keeps its
    /// default secret.
    secrets: HashMap<String, (String, Span)>,
}

/// The config file's keys outside the channel sections, for "did you mean".
const KEYS: [&str; 9] = [
    "addr",
    "store",
    "secrets",
    "session_ttl",
    "admin_token_env",
    "log_format",
    "max_steps",
    "max_calls_per_origin",
    "channels",
];

impl ServeFile {
    /// Reads `text`, the file at `path`. Relative paths in it are taken from its folder.
    pub fn parse(path: &str, text: &str) -> Result<ServeFile, (Vec<Diag>, SourceSet)> {
        let mut sources = SourceSet::default();
        let file = sources.add(path, text);
        let mut diags = Vec::new();
        let raw = match toml::from_str::<Raw>(text) {
            Ok(raw) => raw,
            Err(e) => {
                diags.push(syntax_diag(&e, text).in_file(file));
                return Err((diags, sources));
            }
        };
        let folder = Path::new(path).parent().unwrap_or(Path::new(""));
        let relative = |p: &str| -> String {
            let p = Path::new(p);
            if p.is_absolute() || folder.as_os_str().is_empty() {
                p.display().to_string()
            } else {
                folder.join(p).display().to_string()
            }
        };
        let mut out = ServeFile {
            sources,
            file,
            addr: raw.addr.map(Spanned::into_inner),
            store: raw.store.map(|s| {
                let s = s.into_inner();
                if crate::store::is_postgres_url(&s) {
                    s
                } else {
                    relative(&s)
                }
            }),
            secrets: raw.secrets.map(|s| relative(s.get_ref())),
            session_ttl: None,
            admin_token_env: raw.admin_token_env.map(Spanned::into_inner),
            log_format: None,
            max_steps: None,
            max_calls_per_origin: None,
            channels: Vec::new(),
        };
        if let Some(ttl) = raw.session_ttl {
            match parse_duration(ttl.get_ref()) {
                Ok(d) => out.session_ttl = Some(d),
                Err(e) => diags.push(
                    value_diag(&ttl, e, "not a duration")
                        .help("write a duration like `30m`, `2h` or `45s`, or `off`"),
                ),
            }
        }
        if let Some(format) = raw.log_format {
            match format.get_ref().as_str() {
                "text" | "json" => out.log_format = Some(format.into_inner()),
                other => diags.push(
                    value_diag(
                        &format,
                        format!("no log format `{}`", quoted(other)),
                        "not a log format",
                    )
                    .help("write `text` or `json`"),
                ),
            }
        }
        if let Some(steps) = raw.max_steps {
            let cap = crate::runtime::MAX_STEPS_CAP;
            match u32::try_from(*steps.get_ref()) {
                Ok(n) if (1..=cap).contains(&n) => out.max_steps = Some(n),
                _ => diags.push(
                    value_diag(&steps, "`max_steps` is out of range", "out of range")
                        .help(format!("a number of node entries from 1 to {cap}")),
                ),
            }
        }
        if let Some(calls) = raw.max_calls_per_origin {
            match usize::try_from(*calls.get_ref()) {
                Ok(n) => out.max_calls_per_origin = Some(n),
                Err(_) => diags.push(
                    value_diag(&calls, "`max_calls_per_origin` is negative", "negative")
                        .help("a number of calls, or 0 for no limit"),
                ),
            }
        }
        for (name, keys) in raw.channels {
            match channel_section(&name, keys) {
                Ok(section) => out.channels.push(section),
                Err(mut found) => diags.append(&mut found),
            }
        }
        if diags.is_empty() {
            Ok(out)
        } else {
            let diags: Vec<Diag> = diags.into_iter().map(|d| d.in_file(file)).collect();
            let sources = mask_credentials(&out.sources, &diags);
            Err((diags, sources))
        }
    }

    /// The section for `platform`, if the file has one.
    pub fn channel(&self, platform: Platform) -> Option<&ChannelSection> {
        self.channels.iter().find(|c| c.platform == platform)
    }

    /// The channel of `section` with its credentials from `secrets`; a secret the file
    /// names but that is not set is a diagnostic at its name (one the file leaves to its
    /// default, at the section's header).
    pub fn channel_config(
        &self,
        section: &ChannelSection,
        secrets: &HashMap<String, String>,
        api_override: Option<String>,
    ) -> Result<ChannelConfig, Diag> {
        let secret_of = |c: &super::channels::config::Credential| {
            section
                .secrets
                .get(&c.key())
                .map_or_else(|| c.secret.to_string(), |(name, _)| name.clone())
        };
        let api = api_override.or_else(|| section.api.clone());
        ChannelConfig::from_named_secrets(section.platform, secret_of, secrets, api).map_err(
            |missing| {
                let MissingSecret { key, secret } = &missing;
                let span = section.secrets.get(key).map(|(_, s)| *s);
                let label = match span {
                    Some(_) => "this secret is not set".to_string(),
                    None => format!("`{key}` is left to the secret `{secret}`, which is not set"),
                };
                Diag::new(
                    Code::ConfigSecret,
                    format!(
                        "the {} channel's `{key}` is in the secret `{secret}`, which is not set",
                        section.platform.name()
                    ),
                    span.unwrap_or_default(),
                )
                .in_file(self.file)
                .label(label)
                .help(missing.help())
            },
        )
    }

    /// The file, for rendering diagnostics that point into it.
    pub fn sources(&self) -> &SourceSet {
        &self.sources
    }
}

/// toml's own error (not TOML, an unknown key, a wrong type) at its span.
fn syntax_diag(e: &toml::de::Error, text: &str) -> Diag {
    let span = e
        .span()
        .map(|r| Span::new(r.start, r.end))
        .unwrap_or_default();
    let message = e.message().trim().to_string();
    let first = message.lines().next().unwrap_or("not TOML");
    // The help lists the keys, better than toml's "expected one of" does.
    let first = first
        .split(", expected one of")
        .next()
        .unwrap_or(first)
        .to_string();
    let mut diag = Diag::new(Code::ConfigSyntax, first.clone(), span).label("here");
    if first.starts_with("unknown field") {
        let key = text
            .get(span.start()..span.end())
            .unwrap_or("")
            .trim_matches('"');
        let hint = closest(key, KEYS.iter().copied())
            .map(|k| format!("did you mean `{k}`? "))
            .unwrap_or_default();
        diag = diag.label("not a setting of `serve`").help(format!(
            "{hint}the settings are {}, and `[channels.NAME]` sections",
            KEYS[..7].join(", ")
        ));
    } else {
        diag = diag.help("see docs/channels.md, \"A config file\", for the keys and their types");
    }
    diag
}

fn value_diag<T>(at: &Spanned<T>, message: impl Into<String>, label: &str) -> Diag {
    let r = at.span();
    Diag::new(Code::ConfigValue, message, Span::new(r.start, r.end)).label(label)
}

/// A `[channels.NAME]` section: a known channel, known keys, secret names as values.
fn channel_section(
    name: &Spanned<String>,
    keys: BTreeMap<Spanned<String>, Spanned<String>>,
) -> Result<ChannelSection, Vec<Diag>> {
    let Some(platform) = Platform::from_name(name.get_ref()) else {
        let names = Platform::ALL.iter().map(|p| p.name());
        let hint = closest(name.get_ref(), names)
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        return Err(vec![value_diag(
            name,
            super::channels::config::unknown_channel(name.get_ref()),
            "not a channel",
        )
        .help(format!(
            "{hint}the channels are whatsapp, messenger, instagram, telegram, viber"
        ))]);
    };
    let credential_keys: Vec<String> = credentials_of(platform).iter().map(|c| c.key()).collect();
    let mut diags = Vec::new();
    let mut section = ChannelSection {
        platform,
        api: None,
        secrets: HashMap::new(),
    };
    for (key, value) in keys {
        let r = value.span();
        let span = Span::new(r.start, r.end);
        if key.get_ref() == "api" {
            let url = value.get_ref();
            if url.starts_with("http://") || url.starts_with("https://") {
                section.api = Some(url.clone());
            } else {
                diags.push(
                    value_diag(&value, "`api` is not an http(s) URL", "not a URL")
                        .help("write the send API's address, e.g. `https://api.telegram.org`"),
                );
            }
        } else if credential_keys.contains(key.get_ref()) {
            let secret = value.get_ref();
            let secret = secret
                .strip_prefix(crate::runtime::SECRET_ENV_PREFIX)
                .unwrap_or(secret);
            if is_secret_name(secret) {
                section
                    .secrets
                    .insert(key.get_ref().clone(), (secret.to_string(), span));
            } else {
                diags.push(
                    Diag::new(
                        Code::ConfigSecret,
                        format!(
                            "`{}` must name the secret that holds the {} channel's credential",
                            key.get_ref(),
                            platform.name()
                        ),
                        span,
                    )
                    .label("not a secret's name (masked: it may be the credential itself)")
                    .help(format!(
                        "write a name like `{}` and give its value as `{}{}` or in --secrets FILE; never the credential itself",
                        default_secret(platform, key.get_ref()),
                        crate::runtime::SECRET_ENV_PREFIX,
                        default_secret(platform, key.get_ref()),
                    )),
                );
            }
        } else {
            let r = key.span();
            let mut all = credential_keys.clone();
            all.push("api".into());
            let hint = closest(key.get_ref(), all.iter().map(String::as_str))
                .map(|k| format!("did you mean `{k}`? "))
                .unwrap_or_default();
            diags.push(
                Diag::new(
                    Code::ConfigSyntax,
                    format!(
                        "the {} channel has no setting `{}`",
                        platform.name(),
                        key.get_ref()
                    ),
                    Span::new(r.start, r.end),
                )
                .label("unknown key")
                .help(format!("{hint}its keys are {}", all.join(", "))),
            );
        }
    }
    if diags.is_empty() {
        Ok(section)
    } else {
        Err(diags)
    }
}

fn default_secret(platform: Platform, key: &str) -> &'static str {
    credentials_of(platform)
        .iter()
        .find(|c| c.key() == key)
        .map_or("NAME", |c| c.secret)
}

/// A secret's name: letters, digits and `_`, not starting with a digit, at most 64
/// characters; a long run of letters and digits without `_` is more likely a token.
fn is_secret_name(name: &str) -> bool {
    let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let starts_ok = name.chars().next().is_some_and(|c| !c.is_ascii_digit());
    let tokenish = name.len() >= 24 && !name.contains('_');
    chars_ok && starts_ok && name.len() <= 64 && !tokenish
}

/// The file's text with the values of [`Code::ConfigSecret`] diagnostics replaced by `*`
/// (same length, so spans stay right): they may be credentials, and diagnostics are
/// printed and logged.
fn mask_credentials(sources: &SourceSet, diags: &[Diag]) -> SourceSet {
    let mut masked = SourceSet::default();
    for f in &sources.files {
        let mut text = f.text.to_string();
        for d in diags.iter().filter(|d| d.code == Code::ConfigSecret) {
            if let Some(value) = text.get(d.span.start()..d.span.end()) {
                let stars = "*".repeat(value.len());
                text.replace_range(d.span.start()..d.span.end(), &stars);
            }
        }
        masked.add(f.name.clone(), text);
    }
    masked
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
    let n: u64 = number.parse().map_err(|_| not_a_duration(text))?;
    let unit_seconds = match unit {
        "ms" => return Ok(Some(Duration::from_millis(n))),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(not_a_duration(text)),
    };
    let seconds = n
        .checked_mul(unit_seconds)
        .ok_or_else(|| format!("`{}` is longer than any clock counts", quoted(text)))?;
    Ok(Some(Duration::from_secs(seconds)))
}

fn not_a_duration(text: &str) -> String {
    format!("`{}` is not a duration like 30m, 2h or 45s", quoted(text))
}

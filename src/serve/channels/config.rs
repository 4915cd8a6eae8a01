//! A channel's settings: which platform, its send API's address, and its credentials, read
//! from secrets (`CHATFLOW_SECRET_*` or `--secrets FILE`), never from the flow.

use std::collections::HashMap;
use std::time::Duration;

use crate::channels::Platform;

/// One channel `serve` answers on.
#[derive(Clone)]
pub struct ChannelConfig {
    /// Which platform; its name is the channel's name.
    pub platform: Platform,
    /// Where its send API is (the real one unless a test or proxy says otherwise).
    pub api_base: String,
    /// Its credentials.
    pub credentials: Credentials,
}

/// What a platform authenticates with. Never logged: [`std::fmt::Debug`] leaves it out.
#[derive(Clone, Default)]
pub struct Credentials {
    /// Sends: the bot token (Telegram), access token (WhatsApp, Instagram), page token
    /// (Messenger) or auth token (Viber).
    pub token: String,
    /// Checks webhooks: Telegram's secret token, Meta's app secret, Viber's auth token.
    pub signing: String,
    /// Meta's verify token, for the subscription GET.
    pub verify_token: Option<String>,
    /// WhatsApp's phone number id, the sender of replies.
    pub phone_number_id: Option<String>,
}

impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("platform", &self.platform)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// How replies are retried (tests make it fast).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles up to `max`.
    pub first: Duration,
    /// The longest wait between attempts.
    pub max: Duration,
    /// How often the outbox is looked at when no turn wakes the sender.
    pub poll: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            first: Duration::from_secs(1),
            max: Duration::from_secs(300),
            poll: Duration::from_millis(500),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempts + 1`.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let shift = attempts.clamp(0, 20) as u32;
        self.first.saturating_mul(1 << shift).min(self.max)
    }
}

/// The send API a platform has unless `--channel-api` says otherwise.
pub fn default_api_base(platform: Platform) -> &'static str {
    match platform {
        Platform::Telegram => "https://api.telegram.org",
        Platform::WhatsApp | Platform::Messenger | Platform::Instagram => {
            "https://graph.facebook.com/v21.0"
        }
        Platform::Viber => "https://chatapi.viber.com/pa",
    }
}

/// What a credential is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends replies ([`Credentials::token`]).
    Token,
    /// Checks webhooks ([`Credentials::signing`]).
    Signing,
    /// Meta's subscription check ([`Credentials::verify_token`]).
    VerifyToken,
    /// WhatsApp's sender ([`Credentials::phone_number_id`]).
    PhoneNumberId,
}

/// One credential a platform needs: the secret that holds it unless a `serve --config` file
/// names another, and what it is for. Its key in that file is the secret's name without
/// the platform's prefix, in lower case (`TELEGRAM_BOT_TOKEN` -> `bot_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    /// The secret's name by default.
    pub secret: &'static str,
    /// What it is for.
    pub role: Role,
}

impl Credential {
    /// The credential's key in a `[channels.NAME]` section of a config file.
    pub fn key(&self) -> String {
        let key = self.secret.split_once('_').map_or(self.secret, |(_, k)| k);
        key.to_ascii_lowercase()
    }
}

/// The credentials a platform needs.
pub fn credentials_of(platform: Platform) -> &'static [Credential] {
    const fn c(secret: &'static str, role: Role) -> Credential {
        Credential { secret, role }
    }
    const TELEGRAM: &[Credential] = &[
        c("TELEGRAM_BOT_TOKEN", Role::Token),
        c("TELEGRAM_WEBHOOK_SECRET", Role::Signing),
    ];
    const WHATSAPP: &[Credential] = &[
        c("WHATSAPP_ACCESS_TOKEN", Role::Token),
        c("WHATSAPP_APP_SECRET", Role::Signing),
        c("WHATSAPP_VERIFY_TOKEN", Role::VerifyToken),
        c("WHATSAPP_PHONE_NUMBER_ID", Role::PhoneNumberId),
    ];
    const MESSENGER: &[Credential] = &[
        c("MESSENGER_PAGE_TOKEN", Role::Token),
        c("MESSENGER_APP_SECRET", Role::Signing),
        c("MESSENGER_VERIFY_TOKEN", Role::VerifyToken),
    ];
    const INSTAGRAM: &[Credential] = &[
        c("INSTAGRAM_ACCESS_TOKEN", Role::Token),
        c("INSTAGRAM_APP_SECRET", Role::Signing),
        c("INSTAGRAM_VERIFY_TOKEN", Role::VerifyToken),
    ];
    // Viber signs webhooks with the same token the bot sends with.
    const VIBER: &[Credential] = &[c("VIBER_AUTH_TOKEN", Role::Token)];
    match platform {
        Platform::Telegram => TELEGRAM,
        Platform::WhatsApp => WHATSAPP,
        Platform::Messenger => MESSENGER,
        Platform::Instagram => INSTAGRAM,
        Platform::Viber => VIBER,
    }
}

/// A credential whose secret is not set: its key and the secret's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSecret {
    /// The credential's key (`bot_token`).
    pub key: String,
    /// The secret that should hold it.
    pub secret: String,
}

impl MissingSecret {
    /// How to give it.
    pub fn help(&self) -> String {
        format!(
            "set `{}{}` or put `{}=...` in --secrets FILE",
            crate::runtime::SECRET_ENV_PREFIX,
            self.secret,
            self.secret
        )
    }
}

impl ChannelConfig {
    /// The channel `name` with its credentials from the secrets of their default names;
    /// the error names the missing secret and the variable that gives it.
    pub fn from_secrets(
        name: &str,
        secrets: &HashMap<String, String>,
        api_base: Option<String>,
    ) -> Result<ChannelConfig, String> {
        let platform = Platform::from_name(name).ok_or_else(|| unknown_channel(name))?;
        ChannelConfig::from_named_secrets(platform, |c| c.secret.to_string(), secrets, api_base)
            .map_err(|m| {
                format!(
                    "the {name} channel needs the secret `{}`: {}",
                    m.secret,
                    m.help()
                )
            })
    }

    /// The channel on `platform` with each credential from the secret `secret_of` names.
    pub fn from_named_secrets(
        platform: Platform,
        secret_of: impl Fn(&Credential) -> String,
        secrets: &HashMap<String, String>,
        api_base: Option<String>,
    ) -> Result<ChannelConfig, MissingSecret> {
        let mut credentials = Credentials::default();
        for credential in credentials_of(platform) {
            let secret = secret_of(credential);
            let Some(value) = secrets.get(&secret).filter(|v| !v.is_empty()) else {
                return Err(MissingSecret {
                    key: credential.key(),
                    secret,
                });
            };
            let value = value.clone();
            match credential.role {
                Role::Token => credentials.token = value,
                Role::Signing => credentials.signing = value,
                Role::VerifyToken => credentials.verify_token = Some(value),
                Role::PhoneNumberId => credentials.phone_number_id = Some(value),
            }
        }
        if credentials.signing.is_empty() {
            credentials.signing = credentials.token.clone();
        }
        let api_base = api_base
            .unwrap_or_else(|| default_api_base(platform).to_string())
            .trim_end_matches('/')
            .to_string();
        Ok(ChannelConfig {
            platform,
            api_base,
            credentials,
        })
    }

    /// The channel's name.
    pub fn name(&self) -> &'static str {
        self.platform.name()
    }
}

/// "no channel `x`; the channels are ...".
pub fn unknown_channel(name: &str) -> String {
    let known: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
    format!("no channel `{name}`; the channels are {}", known.join(", "))
}

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

/// The secrets a platform needs, by name: (token, signing, verify token, phone number id).
pub fn secret_names(platform: Platform) -> [Option<&'static str>; 4] {
    match platform {
        Platform::Telegram => [
            Some("TELEGRAM_BOT_TOKEN"),
            Some("TELEGRAM_WEBHOOK_SECRET"),
            None,
            None,
        ],
        Platform::WhatsApp => [
            Some("WHATSAPP_ACCESS_TOKEN"),
            Some("WHATSAPP_APP_SECRET"),
            Some("WHATSAPP_VERIFY_TOKEN"),
            Some("WHATSAPP_PHONE_NUMBER_ID"),
        ],
        Platform::Messenger => [
            Some("MESSENGER_PAGE_TOKEN"),
            Some("MESSENGER_APP_SECRET"),
            Some("MESSENGER_VERIFY_TOKEN"),
            None,
        ],
        Platform::Instagram => [
            Some("INSTAGRAM_ACCESS_TOKEN"),
            Some("INSTAGRAM_APP_SECRET"),
            Some("INSTAGRAM_VERIFY_TOKEN"),
            None,
        ],
        // Viber signs webhooks with the same token the bot sends with.
        Platform::Viber => [Some("VIBER_AUTH_TOKEN"), None, None, None],
    }
}

impl ChannelConfig {
    /// The channel `name` with its credentials from `secrets`; the error names the missing
    /// secret and the variable that gives it.
    pub fn from_secrets(
        name: &str,
        secrets: &HashMap<String, String>,
        api_base: Option<String>,
    ) -> Result<ChannelConfig, String> {
        let platform = Platform::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
            format!("no channel `{name}`; the channels are {}", known.join(", "))
        })?;
        let get = |secret: Option<&str>| -> Result<Option<String>, String> {
            let Some(secret) = secret else {
                return Ok(None);
            };
            match secrets.get(secret).filter(|v| !v.is_empty()) {
                Some(v) => Ok(Some(v.clone())),
                None => Err(format!(
                    "the {name} channel needs the secret `{secret}`: set `{}{secret}` or put it in --secrets FILE",
                    crate::runtime::SECRET_ENV_PREFIX
                )),
            }
        };
        let [token, signing, verify, phone] = secret_names(platform);
        let token = get(token)?.unwrap_or_default();
        let signing = get(signing)?.unwrap_or_else(|| token.clone());
        let api_base = api_base
            .unwrap_or_else(|| default_api_base(platform).to_string())
            .trim_end_matches('/')
            .to_string();
        Ok(ChannelConfig {
            platform,
            api_base,
            credentials: Credentials {
                token,
                signing,
                verify_token: get(verify)?,
                phone_number_id: get(phone)?,
            },
        })
    }

    /// The channel's name.
    pub fn name(&self) -> &'static str {
        self.platform.name()
    }
}

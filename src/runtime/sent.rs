//! The request as it was sent, with every secret shown as `***`: what `chatflow call` prints.
//!
//! The masked copy is made from the very text that was sent (the secrets' places are recorded
//! while the request is built), so what is shown can never drift from what went out.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Shown in place of a secret or `sys.otp_code`.
pub(crate) const MASK: &str = "***";

/// One request as it went out, secrets (and `sys.otp_code`) shown as `***`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL as the flow built it (the same as the `ApiCall` event's).
    pub url: String,
    /// In the order sent: the API's headers as written, then `Content-Type` when the runtime
    /// added it.
    pub headers: Vec<(String, String)>,
    /// The body, byte for byte as sent (lossy UTF-8 only if it was not UTF-8).
    pub body: Option<String>,
}

/// Text filled in for a request, remembering where secrets went.
#[derive(Debug, Default)]
pub(crate) struct Filled {
    /// The text as sent.
    pub text: String,
    /// Byte ranges of `text` holding a secret, in order.
    pub secrets: Vec<Range<usize>>,
    /// A secret had no value (nothing stands in its place in `text`).
    pub missing: bool,
}

impl Filled {
    pub(crate) fn has_secret(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// The text with each secret replaced by `***`.
    pub(crate) fn masked(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut at = 0;
        for range in &self.secrets {
            out.push_str(&self.text[at..range.start]);
            out.push_str(MASK);
            at = range.end;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_replaces_exactly_the_secrets() {
        let f = Filled {
            text: "Bearer s3cret and x".into(),
            secrets: vec![7..13, 18..19],
            missing: false,
        };
        assert_eq!(f.masked(), "Bearer *** and ***");
        let empty_secret = Filled {
            text: "k=".into(),
            secrets: std::iter::once(2..2).collect(),
            missing: true,
        };
        assert_eq!(empty_secret.masked(), "k=***");
    }

    #[test]
    fn text_without_secrets_is_shown_as_is() {
        let f = Filled {
            text: "plain".into(),
            ..Filled::default()
        };
        assert!(!f.has_secret());
        assert_eq!(f.masked(), "plain");
    }
}

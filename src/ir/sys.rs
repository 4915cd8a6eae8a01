//! The system attributes a flow reads as `sys.NAME`: one list for the compiler (which refuses
//! unknown names) and the runtime (which fills them). The IR and sessions keep the plain name
//! (`channel`), so stored programs and sessions do not depend on this type.

macro_rules! sys_attrs {
    ($($variant:ident $name:literal $summary:literal;)*) => {
        /// A system attribute, `sys.NAME`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum SysAttr {
            $(#[doc = $summary] $variant,)*
        }

        impl SysAttr {
            /// Every system attribute, in the order help lines list them.
            pub const ALL: &'static [SysAttr] = &[$(SysAttr::$variant,)*];

            /// The name after `sys.`, e.g. `channel`.
            pub const fn name(self) -> &'static str {
                match self { $(SysAttr::$variant => $name,)* }
            }

            /// What the attribute holds, in one line.
            pub const fn summary(self) -> &'static str {
                match self { $(SysAttr::$variant => $summary,)* }
            }
        }
    };
}

sys_attrs! {
    Channel "channel" "Where the conversation happens: `terminal` by default, `--channel NAME`.";
    Now "now" "The current time, RFC 3339 in UTC.";
    VisitorId "visitor_id" "A random id per conversation.";
    Language "language" "The conversation's language; the only one a flow may set.";
    LastMessage "last_message" "The user's last message.";
    ApiError "api_error" "Why the last call got no answer (`timeout`, `connect`, ...), when `status` is 0.";
    Date "date" "Today as `YYYY-MM-DD`, in the bot's `timezone` (UTC without one).";
    Time "time" "Now as `HH:MM`, in the bot's `timezone` (UTC without one).";
    EmailError "email_error" "Why the last email was not delivered.";
    BotName "bot_name" "The bot's name.";
    OtpCode "otp_code" "The code being sent by `otp`: API templates and the `otp` email only.";
    Error "error" "Why the last `set` got no value (`division_by_zero`, `not_a_number`, `out_of_range`); cleared by a `set` that succeeds.";
    Intent "intent" "The intent of the visitor's last message, or `none` below the threshold (flows with intents).";
    IntentConfidence "intent_confidence" "How sure the matcher was of `sys.intent`, 0 to 1.";
    Sentiment "sentiment" "How positive the visitor's last message was, -1 to 1 (flows that understand free text).";
}

impl SysAttr {
    /// The attribute called `name` (without the `sys.` prefix), if there is one.
    pub fn from_name(name: &str) -> Option<SysAttr> {
        SysAttr::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// Whether the attribute holds a number (the others hold text).
    pub const fn is_number(self) -> bool {
        matches!(self, SysAttr::IntentConfidence | SysAttr::Sentiment)
    }

    /// Only `sys.language` may be set by a flow (`set sys.language = "es"`).
    pub const fn is_writable(self) -> bool {
        matches!(self, SysAttr::Language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn docs(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name);
        std::fs::read_to_string(path).expect("docs are readable")
    }

    fn registry() -> BTreeSet<String> {
        SysAttr::ALL.iter().map(|a| a.name().to_string()).collect()
    }

    /// The table of system attributes in `docs/language.md`: one row per attribute, none more.
    #[test]
    fn language_docs_list_every_system_attribute() {
        let text = docs("language.md");
        let start = text
            .find("Read with `{sys.NAME}`")
            .expect("the system attribute table in docs/language.md");
        let table = text[start..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'));
        let mut documented = BTreeSet::new();
        for row in table {
            let first = row.split('|').nth(1).unwrap_or_default();
            for word in first.split('`').filter_map(|w| w.strip_prefix("sys.")) {
                documented.insert(word.to_string());
            }
        }
        assert_eq!(documented, registry());
    }

    #[test]
    fn only_language_is_writable() {
        let writable: Vec<_> = SysAttr::ALL.iter().filter(|a| a.is_writable()).collect();
        assert_eq!(writable, [&SysAttr::Language]);
        assert_eq!(SysAttr::from_name("otp_code"), Some(SysAttr::OtpCode));
        assert_eq!(SysAttr::from_name("sys.now"), None);
    }
}

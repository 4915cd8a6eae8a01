//! The keywords of the language, listed once.
//!
//! The fast path matches keywords through [`Kw`], [`is_reserved`](super::is_reserved) asks
//! [`lookup`], and the fuzz test builds its token soups from [`KEYWORDS`]. The pest grammar
//! spells each word in its own `kw_*` rule (and the `method` rule); a test reads
//! `grammar/chatflow.pest` and checks that it and this list name the same words in the same
//! classes.

/// What a keyword is to the grammar, and whether it may still be used as a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A core `kw_*` rule; the word cannot name a node, an API or an attribute.
    Reserved,
    /// A core `kw_*` rule that is only read at the start of a particular line (`start` in a
    /// `bot` block, `attr`/`request`/`closed` after `expect`), so it stays usable as a name.
    Unreserved,
    /// An HTTP method of the `method` rule; reserved.
    Method,
    /// A keyword of the bot-builder actions: only a keyword where the grammar expects it, a
    /// name everywhere a name is expected.
    Contextual,
}

impl Class {
    /// Whether words of this class are refused as names.
    pub fn is_reserved(self) -> bool {
        matches!(self, Class::Reserved | Class::Method)
    }
}

macro_rules! keywords {
    ($($class:ident: [$($variant:ident = $word:literal),* $(,)?])*) => {
        /// A keyword, named by its word.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Kw {
            $($(#[doc = concat!("`", $word, "`")] $variant,)*)*
        }

        /// Every keyword with its word and class, in the grammar's order.
        pub const KEYWORDS: &[(Kw, &str, Class)] = &[
            $($((Kw::$variant, $word, Class::$class),)*)*
        ];

        impl Kw {
            /// The word as it is written in a flow.
            pub const fn word(self) -> &'static str {
                match self {
                    $($(Kw::$variant => $word,)*)*
                }
            }

            /// Where the keyword may stand: what [`Class`] it belongs to.
            pub const fn class(self) -> Class {
                match self {
                    $($(Kw::$variant => Class::$class,)*)*
                }
            }
        }

        /// The keyword spelled `word`, if any (a `match` on the words: no table scan).
        pub fn lookup(word: &str) -> Option<Kw> {
            match word {
                $($($word => Some(Kw::$variant),)*)*
                _ => None,
            }
        }
    };
}

keywords! {
    Reserved: [
        Bot = "bot", Api = "api", Node = "node", Test = "test", Import = "import",
    ]
    Unreserved: [Start = "start"]
    Reserved: [
        Live = "live", Draft = "draft", Header = "header", Body = "body", Json = "json",
        Timeout = "timeout", Retry = "retry", Save = "save", Say = "say", Ask = "ask",
        As = "as", Set = "set", Call = "call", If = "if", Elif = "elif", Else = "else",
        Goto = "goto", Close = "close", Stub = "stub", User = "user", Expect = "expect",
    ]
    Unreserved: [Attr = "attr", Request = "request", Closed = "closed"]
    Reserved: [
        And = "and", Or = "or", Not = "not", In = "in", Is = "is", Contains = "contains",
        StartsWith = "starts_with", EndsWith = "ends_with", Matches = "matches",
        True = "true", False = "false", Null = "null", Status = "status",
    ]
    Contextual: [
        Greeting = "greeting", Avatar = "avatar", Fallback = "fallback",
        Languages = "languages", Webhook = "webhook", Secret = "secret", Events = "events",
        Choose = "choose", Buttons = "buttons", Link = "link",
        Postback = "postback", Carousel = "carousel", Card = "card", Subtitle = "subtitle",
        Image = "image", Audio = "audio", Video = "video", File = "file", Email = "email",
        To = "to", Subject = "subject", Otp = "otp", Send = "send", Digits = "digits",
        Tries = "tries", Ok = "ok", Fail = "fail", Form = "form", Field = "field",
        Transfer = "transfer", Department = "department", Agent = "agent",
        Appointment = "appointment", Slots = "slots", From = "from", Label = "label",
        Book = "book", Booked = "booked", Failed = "failed", Empty = "empty", Goal = "goal",
        Run = "run", Return = "return", Hours = "hours", Zone = "zone", Flow = "flow",
        Open = "open", Title = "title", Button = "button", Prompt = "prompt",
        Choices = "choices", Media = "media", Clock = "clock", Language = "language",
        Method = "method",
        Timezone = "timezone",
        Messages = "messages",
        Idempotent = "idempotent",
        Internal = "internal",
        Redirects = "redirects",
        Sensitive = "sensitive",
        Intent = "intent", Intents = "intents", Synonyms = "synonyms", Faq = "faq",
        Threshold = "threshold",
        Ai = "ai", Url = "url", Model = "model", Key = "key", System = "system",
        MaxTokens = "max_tokens", Reply = "reply", With = "with",
    ]
    Method: [Get = "get", Post = "post", Put = "put", Patch = "patch", Delete = "delete"]
}

/// Words that may not name a node, an API or an attribute.
pub fn is_reserved(word: &str) -> bool {
    lookup(word).is_some_and(|kw| kw.class().is_reserved())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_word_agree_for_every_keyword() {
        for &(kw, word, class) in KEYWORDS {
            assert_eq!(lookup(word), Some(kw), "{word}");
            assert_eq!((kw.word(), kw.class()), (word, class));
        }
        assert_eq!(lookup("settings"), None);
        assert_eq!(lookup("Say"), None, "keywords are lower case");
    }

    /// Where the grammar puts a keyword rule.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Section {
        Core,
        Method,
        Contextual,
    }

    /// The keyword rules of the grammar in file order: each `kw_WORD = @{ "WORD" ~ !ident_char }`
    /// (core before the "Contextual keywords" comment, contextual after it) and the words of
    /// the `method` rule.
    fn grammar_keywords(grammar: &str) -> Vec<(String, Section)> {
        let mut out = Vec::new();
        let mut section = Section::Core;
        for line in grammar.lines() {
            if line.starts_with("// Contextual keywords") {
                section = Section::Contextual;
            }
            let Some((name, rule)) = line.split_once('=') else {
                continue;
            };
            let (name, rule) = (name.trim(), rule.trim());
            if let Some(word) = name.strip_prefix("kw_") {
                assert_eq!(
                    rule,
                    format!("@{{ \"{word}\" ~ !ident_char }}"),
                    "`{name}` is not a plain keyword rule for `{word}`"
                );
                out.push((word.to_string(), section));
            } else if name == "method" {
                let words = rule.split('"').skip(1).step_by(2);
                out.extend(words.map(|w| (w.to_string(), Section::Method)));
            }
        }
        out
    }

    #[test]
    fn the_list_names_the_grammars_keywords_in_its_order_and_sections() {
        let grammar = include_str!("../../grammar/chatflow.pest");
        let in_grammar = grammar_keywords(grammar);
        let in_list: Vec<(String, Section)> = KEYWORDS
            .iter()
            .map(|&(_, word, class)| {
                let section = match class {
                    Class::Reserved | Class::Unreserved => Section::Core,
                    Class::Method => Section::Method,
                    Class::Contextual => Section::Contextual,
                };
                (word.to_string(), section)
            })
            .collect();
        assert_eq!(in_list, in_grammar);
    }

    #[test]
    fn the_grammars_item_words_are_keywords() {
        let grammar = include_str!("../../grammar/chatflow.pest");
        let rule = grammar
            .lines()
            .find_map(|l| l.strip_prefix("item_word"))
            .expect("the grammar has an `item_word` rule");
        let words: Vec<&str> = rule.split('"').skip(1).step_by(2).collect();
        assert!(words.len() >= 5, "{words:?}");
        for word in words {
            assert!(
                lookup(word).is_some_and(|kw| kw.class() != Class::Unreserved),
                "`{word}` starts an item but is no keyword"
            );
        }
    }

    #[test]
    fn reserved_words_are_the_core_and_method_ones() {
        assert!(is_reserved("node") && is_reserved("get") && is_reserved("starts_with"));
        assert!(
            !is_reserved("start") && !is_reserved("attr"),
            "core, but names"
        );
        assert!(
            !is_reserved("email") && !is_reserved("choose"),
            "contextual"
        );
        assert!(!is_reserved("city") && !is_reserved(""));
    }
}

//! The registry of diagnostic codes: each code's stable name, severity, the reach of its check
//! and a one-line summary. `docs/diagnostics.md` documents every code here and no other; a test
//! checks the two against each other.

use std::fmt;

use serde::{Serialize, Serializer};

use super::Severity;

/// What a code's check looks at, which decides when it may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The parser, on one item's text.
    Syntax,
    /// Reading the root file and its imports.
    Files,
    /// One item at a time: still trustworthy next to syntax errors elsewhere.
    Item,
    /// The whole flow (names, the flow graph): silent while a file has syntax errors, since it
    /// would only echo the items those errors swallowed.
    Flow,
    /// A test block's run (`chatflow test`).
    Test,
    /// A `chatflow serve --config` file, read when `serve` starts.
    Config,
}

macro_rules! codes {
    ($($variant:ident $name:literal $severity:ident $scope:ident $summary:literal;)*) => {
        /// A stable diagnostic code such as `chatflow::unknown_node`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $summary] $variant,)*
        }

        impl Code {
            /// Every code, in the order of the registry.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable name shown to users, e.g. `chatflow::unknown_node`.
            pub const fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// Errors stop compilation; warnings are reported and the flow still compiles.
            pub const fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// What the code's check looks at.
            pub const fn scope(self) -> Scope {
                match self { $(Code::$variant => Scope::$scope,)* }
            }

            /// One line saying what the code reports.
            pub const fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }
        }
    };
}

codes! {
    // Syntax (the parser).
    Syntax "chatflow::syntax" Error Syntax "The text is not a flow: something else was expected here.";
    ReservedWord "chatflow::reserved_word" Error Syntax "A keyword is used as a name.";
    UnterminatedTemplate "chatflow::unterminated_template" Error Syntax "A `{` in a template is never closed.";
    UnmatchedBrace "chatflow::unmatched_brace" Error Syntax "A `}` in a template closes nothing.";
    BadTemplateRef "chatflow::bad_template_ref" Error Syntax "What is inside `{...}` in a template is not a reference.";
    BadJson "chatflow::bad_json" Error Syntax "The JSON of a test's `stub` or `expect request` line is not valid JSON.";
    BadNumber "chatflow::bad_number" Error Syntax "A number does not fit, or is out of range, where it is written.";
    // Files and imports.
    UnreadableFile "chatflow::unreadable_file" Error Files "The root file could not be read.";
    ImportUnreadable "chatflow::import_unreadable" Error Files "An `import` names a file that cannot be read.";
    ImportCycle "chatflow::import_cycle" Error Files "Files import each other in a circle.";
    SourceTooLarge "chatflow::source_too_large" Error Files "A source file is larger than `--max-source-bytes` allows (16 MiB by default).";
    // Names.
    UnknownNode "chatflow::unknown_node" Error Flow "A node name that no node has.";
    UnknownApi "chatflow::unknown_api" Error Flow "An API name that no API has.";
    UnknownAi "chatflow::unknown_ai" Error Flow "`reply with` or `ask NAME ... save` names no `ai` item.";
    UnknownAttribute "chatflow::unknown_attribute" Error Flow "An attribute is read but nothing fills it.";
    UnknownAskKind "chatflow::unknown_ask_kind" Error Item "`ask x as KIND` with a kind that does not exist.";
    UnknownSys "chatflow::unknown_sys" Error Item "`sys.NAME` with a name that is not a system attribute.";
    UnknownStart "chatflow::unknown_start" Error Flow "The bot's `start` names a node that does not exist.";
    NoNodes "chatflow::no_nodes" Error Flow "The flow (or a sub-flow) has no node.";
    // Duplicates.
    DuplicateNode "chatflow::duplicate_node" Error Item "Two nodes share a name.";
    DuplicateApi "chatflow::duplicate_api" Error Item "Two APIs share a name.";
    DuplicateBot "chatflow::duplicate_bot" Error Item "More than one `bot` item.";
    DuplicateTest "chatflow::duplicate_test" Error Item "Two tests share a name.";
    DuplicateProperty "chatflow::duplicate_property" Error Item "An item or action gives one property twice.";
    // APIs.
    MissingMethod "chatflow::missing_method" Error Item "An API without a request method and URL.";
    BodyNotAllowed "chatflow::body_not_allowed" Error Item "A body on a `get` or `delete` API.";
    DraftApi "chatflow::draft_api" Error Flow "A node calls an API marked `draft`.";
    BadTimeout "chatflow::bad_timeout" Error Item "A timeout of 0 or over 120 s.";
    BadRetry "chatflow::bad_retry" Error Item "More than 10 retries.";
    SecretOutsideApi "chatflow::secret_outside_api" Error Item "A secret or the one-time code where a user could see it.";
    TemplateInHost "chatflow::template_in_host" Error Item "A template in an API URL's scheme, host or port.";
    MetadataHost "chatflow::metadata_host" Error Item "An API URL names a cloud-metadata address.";
    BadForm "chatflow::bad_form" Error Item "A `form { }` field holds a list or an object.";
    // Conditions and types.
    MissingElse "chatflow::missing_else" Error Item "A branch without `else`.";
    TypeMismatch "chatflow::type_mismatch" Error Item "A comparison that can never hold, or an operator on the wrong type.";
    BadRange "chatflow::bad_range" Error Item "A range whose low end is above its high end.";
    BadRegex "chatflow::bad_regex" Error Item "The pattern of `matches` is not a valid regular expression.";
    UnknownFunction "chatflow::unknown_function" Error Item "A call of a function that does not exist.";
    BadCall "chatflow::bad_call" Error Item "A function called with the wrong number of arguments, or `round` with impossible decimal places.";
    StatusBeforeCall "chatflow::status_before_call" Error Flow "`status` is read where some path has made no `call`.";
    // Tests.
    BadStatus "chatflow::bad_status" Error Item "A stubbed HTTP status outside 100..=599.";
    BadJsonPath "chatflow::bad_json_path" Error Item "The JSON path of an `expect request API json` line is not one.";
    BadClock "chatflow::bad_clock" Error Item "A test's `clock` is not an RFC 3339 date-time with an offset.";
    TestFailed "chatflow::test_failed" Error Test "A test block's expectation did not hold when the test ran.";
    // Bot-builder actions.
    NoLanguages "chatflow::no_languages" Error Flow "A translation set in a bot that declares no `languages`.";
    UnknownLanguage "chatflow::unknown_language" Error Flow "A language the bot does not declare.";
    DuplicateLanguage "chatflow::duplicate_language" Error Item "The same language twice in one list or translation set.";
    UnknownMessage "chatflow::unknown_message" Error Item "A name in the bot's `messages` block that is not a built-in message, or a placeholder it does not fill.";
    BadWebhook "chatflow::bad_webhook" Error Item "The bot's `webhook` has a URL that is not http(s) or an unknown event name.";
    ReadonlySys "chatflow::readonly_sys" Error Item "`set sys.NAME` for a system attribute other than `sys.language`.";
    DuplicateOption "chatflow::duplicate_option" Error Item "Two options, cards or form fields that an answer could not tell apart.";
    NoOptions "chatflow::no_options" Error Item "A `choose`, `buttons` or `carousel` with nothing in it.";
    NoFields "chatflow::no_fields" Error Item "A `form` without a `field`.";
    MissingEmpty "chatflow::missing_empty" Error Item "A block built `from` a list without `empty -> NODE`.";
    ItemOutsideList "chatflow::item_outside_list" Error Item "`{item}` where no list element is being shown.";
    MissingProperty "chatflow::missing_property" Error Item "An action or item lacks a line it cannot work without.";
    BadOtp "chatflow::bad_otp" Error Item "An `otp` with `digits` outside 4..=10 or `tries` outside 1..=10.";
    UnknownZone "chatflow::unknown_zone" Error Item "An `hours` zone or the bot's `timezone` that is not a time zone of the IANA database.";
    BadHours "chatflow::bad_hours" Error Item "A malformed `hours` line: a bad day, time, range or closed date.";
    UnknownHours "chatflow::unknown_hours" Error Flow "`open(NAME)` names no `hours` item.";
    DuplicateHours "chatflow::duplicate_hours" Error Item "Two `hours` items share a name.";
    DuplicateFlow "chatflow::duplicate_flow" Error Item "Two flows share a name.";
    UnknownFlow "chatflow::unknown_flow" Error Flow "`run` names a flow that does not exist.";
    Arity "chatflow::arity" Error Flow "`run` passes a different number of arguments than the flow takes.";
    DuplicateParam "chatflow::duplicate_param" Error Item "A flow names one parameter twice.";
    ReturnOutsideFlow "chatflow::return_outside_flow" Error Item "`return` in a top-level node.";
    GotoOutsideFlow "chatflow::goto_outside_flow" Error Flow "A flow's node leads to a node outside the flow.";
    // Understanding free text.
    IntentsFile "chatflow::intents_file" Error Item "An `intents from` file that cannot be read, or a line of it that is not `phrase,intent`.";
    DuplicateSample "chatflow::duplicate_sample" Error Flow "The same sample phrase in two intents or FAQ entries.";
    UnknownIntent "chatflow::unknown_intent" Error Flow "An intent name that no `intent` declares.";
    BadThreshold "chatflow::bad_threshold" Error Item "A `threshold` outside 0 to 1.";
    // `serve --config` files.
    ConfigSyntax "chatflow::config_syntax" Error Config "A `serve --config` file that is not TOML, has a key `serve` does not take, or a value of the wrong type.";
    ConfigValue "chatflow::config_value" Error Config "A `serve --config` value its key cannot take: an unknown channel, a bad duration, URL or number.";
    ConfigSecret "chatflow::config_secret" Error Config "A `serve --config` credential that is not the name of a secret, or names a secret that is not set.";
    // Warnings.
    FewSamples "chatflow::few_samples" Warning Flow "An intent with fewer than 5 sample phrases.";
    FaqOverlap "chatflow::faq_overlap" Warning Flow "An FAQ question that the trained matcher assigns to another intent or FAQ entry.";
    UnreachableNode "chatflow::unreachable_node" Warning Flow "No path from the start node leads to this node.";
    UnreachableStatement "chatflow::unreachable_statement" Warning Item "A statement after the end of its node.";
    ShadowedCondition "chatflow::shadowed_condition" Warning Item "A branch arm that an earlier arm always takes first.";
    UnsetAttribute "chatflow::unset_attribute" Warning Flow "An attribute is read where it is always unset.";
    LoopWithoutWait "chatflow::loop_without_wait" Warning Flow "A cycle of nodes that never waits for the user.";
    MissingTranslation "chatflow::missing_translation" Warning Flow "A translation set lacks one of the bot's languages.";
    OverlappingHours "chatflow::overlapping_hours" Warning Item "Two weekly ranges of one `hours` item share time.";
    UnusedFlow "chatflow::unused_flow" Warning Flow "A sub-flow that no reachable node runs.";
    RawBodyTemplate "chatflow::raw_body_template" Warning Item "A raw `body` inserts values, and no `Content-Type` header says how to encode them.";
    JsonLikeBody "chatflow::json_like_body" Warning Item "A raw `body` that looks like JSON inserts values; `json { }` would escape them.";
    PrivateHost "chatflow::private_host" Warning Item "An API's URL names a loopback or private host, but the API is not marked `internal`.";
    RetryNotIdempotent "chatflow::retry_not_idempotent" Warning Item "`retry` on a `post` or `patch` not marked `idempotent`, which is never retried.";
}

impl Code {
    /// The code named `name` (e.g. `chatflow::unknown_node`), if there is one.
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.name() == name)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn docs(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name);
        std::fs::read_to_string(path).expect("docs are readable")
    }

    /// Every code-like `chatflow::NAME` written in `text`.
    fn mentioned(text: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (at, _) in text.match_indices("chatflow::") {
            let rest = &text[at + "chatflow::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            // `chatflow::testing::show` is a Rust path, not a code.
            if end > 0 && !rest[end..].starts_with("::") {
                found.insert(format!("chatflow::{}", &rest[..end]));
            }
        }
        found
    }

    fn names(codes: impl Iterator<Item = Code>) -> BTreeSet<String> {
        codes.map(|c| c.name().to_string()).collect()
    }

    #[test]
    fn names_are_unique_and_prefixed() {
        for (i, code) in Code::ALL.iter().enumerate() {
            assert!(code.name().starts_with("chatflow::"), "{code:?}");
            assert_eq!(Code::from_name(code.name()), Some(*code));
            assert!(
                Code::ALL[..i].iter().all(|c| c.name() != code.name()),
                "{code} is registered twice"
            );
            assert!(code.summary().ends_with('.'), "{code}: a one-line summary");
        }
    }

    /// `docs/diagnostics.md` has a heading for every code, and names no code that does not exist.
    #[test]
    fn diagnostics_docs_match_the_registry() {
        let text = docs("diagnostics.md");
        let headings: String = text
            .lines()
            .filter(|l| l.starts_with("### "))
            .collect::<Vec<_>>()
            .join("\n");
        let registry = names(Code::ALL.iter().copied());
        let documented = mentioned(&headings);
        let undocumented: Vec<_> = registry.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "codes without a heading: {undocumented:?}"
        );
        let unknown: Vec<_> = mentioned(&text)
            .into_iter()
            .filter(|c| !registry.contains(c))
            .collect();
        assert!(
            unknown.is_empty(),
            "documented codes that do not exist: {unknown:?}"
        );
    }

    /// Every page of `docs/` names only codes that exist.
    #[test]
    fn docs_name_only_existing_codes() {
        let registry = names(Code::ALL.iter().copied());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        for entry in std::fs::read_dir(dir).expect("docs/") {
            let doc = entry.expect("a docs entry").path();
            let text = std::fs::read_to_string(&doc).expect("docs are readable");
            let doc = doc.display();
            let unknown: Vec<_> = mentioned(&text)
                .into_iter()
                .filter(|c| !registry.contains(c))
                .collect();
            assert!(unknown.is_empty(), "{doc} names unknown codes: {unknown:?}");
        }
    }

    /// The `## Warnings` section holds exactly the codes whose severity is a warning.
    #[test]
    fn warnings_section_lists_the_warning_codes() {
        let text = docs("diagnostics.md");
        let section = text
            .split("\n## Warnings\n")
            .nth(1)
            .map(|s| s.split("\n## ").next().unwrap_or(s))
            .expect("a `## Warnings` section");
        let warnings = Code::ALL
            .iter()
            .copied()
            .filter(|c| c.severity() == Severity::Warning);
        assert_eq!(mentioned(section), names(warnings));
    }
}

//! The `expect` lines of a test. Each check compares what the conversation showed with what the
//! line wants and describes a difference as a [`Mismatch`]; `report` renders it.

use crate::ir::{parse_json_path, quote, show_value, RequestPart, TestStepKind, Value};
use crate::runtime::http::lookup;
use crate::runtime::{Event, SessionState};

use super::runner::{message_text, Run};

/// What a test line wanted and what the conversation showed instead.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Mismatch {
    /// The check, e.g. `expect say`.
    pub check: &'static str,
    pub expected: String,
    pub actual: String,
}

impl Mismatch {
    pub fn new(
        check: &'static str,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Mismatch {
            check,
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

impl Run<'_> {
    /// Checks one `expect` line.
    pub(super) fn check(&mut self, kind: &TestStepKind) -> Result<(), Mismatch> {
        if let Some(search) = EventSearch::of(kind) {
            return search.run(&self.turn);
        }
        match kind {
            TestStepKind::ExpectSay(text) => self.expect_say(text),
            TestStepKind::ExpectNode(node) => self.expect_node(*node),
            TestStepKind::ExpectAttrEquals { attr, value } => self.expect_attr(*attr, Some(value)),
            TestStepKind::ExpectAttrNotSet { attr } => self.expect_attr(*attr, None),
            TestStepKind::ExpectRequest { api, url } => self.expect_request(*api, url),
            TestStepKind::ExpectRequestPart { api, part } => self.expect_request_part(*api, part),
            TestStepKind::ExpectClosed => self.expect_closed(),
            TestStepKind::ExpectChoices(labels) => self.expect_choices(labels),
            TestStepKind::ExpectIntent(name) => self.expect_intent(name),
            _ => Ok(()),
        }
    }

    fn expect_say(&mut self, text: &str) -> Result<(), Mismatch> {
        let expected = format!("say {}", quote(text));
        let next = self.turn[self.said.min(self.turn.len())..]
            .iter()
            .position(|e| message_text(e).is_some())
            .map(|i| i + self.said);
        let Some(index) = next else {
            let actual = if self.turn_says().is_empty() {
                "no message in this turn"
            } else {
                "no further message in this turn"
            };
            return Err(Mismatch::new("expect say", expected, actual));
        };
        self.said = index + 1;
        match message_text(&self.turn[index]) {
            Some(said) if said != text => Err(Mismatch::new(
                "expect say",
                expected,
                format!("say {}", quote(said)),
            )),
            _ => Ok(()),
        }
    }

    fn expect_node(&self, node: u32) -> Result<(), Mismatch> {
        let name = self.node_name(node);
        let entered: Vec<&str> = self
            .turn
            .iter()
            .filter_map(|e| match e {
                Event::NodeEntered { node } => Some(node.as_str()),
                _ => None,
            })
            .collect();
        if entered.contains(&name.as_str()) {
            return Ok(());
        }
        let actual = if entered.is_empty() {
            "no node entered in this turn".to_string()
        } else {
            format!("nodes entered in this turn: {}", entered.join(", "))
        };
        let expected = format!("node {name} entered in this turn");
        Err(Mismatch::new("expect node", expected, actual))
    }

    /// `expect attr A == VALUE` (`want` is the value) or `expect attr A is not set` (`None`).
    fn expect_attr(&self, attr: u32, want: Option<&Value>) -> Result<(), Mismatch> {
        let actual = self
            .session
            .attrs
            .get(attr as usize)
            .and_then(Option::as_ref);
        if actual == want {
            return Ok(());
        }
        let name = self.attr_name(attr);
        let expected = match want {
            Some(value) => format!("{name} == {}", show_value(Some(value))),
            None => format!("{name} is not set"),
        };
        let actual = format!("{name} is {}", show_value(actual));
        Err(Mismatch::new("expect attr", expected, actual))
    }

    /// `sys.intent` after the last message, with its confidence when it differs.
    fn expect_intent(&self, want: &str) -> Result<(), Mismatch> {
        let sys = &self.session.sys;
        let actual = match sys.get("intent") {
            Some(Value::Text(name)) => name.as_str(),
            _ => "none",
        };
        if actual == want {
            return Ok(());
        }
        let confidence = show_value(sys.get("intent_confidence"));
        Err(Mismatch::new(
            "expect intent",
            format!("intent {want}"),
            format!("intent {actual} (confidence {confidence})"),
        ))
    }

    fn expect_closed(&self) -> Result<(), Mismatch> {
        if self.session.state == SessionState::Closed {
            return Ok(());
        }
        let actual = format!(
            "the chat is open, in node `{}`",
            self.node_name(self.session.node)
        );
        Err(Mismatch::new("expect closed", "the chat is closed", actual))
    }

    /// The options of the last `choices` or `carousel` event of the turn: every option of a
    /// menu, the branch (and postback) buttons of a carousel's cards.
    fn expect_choices(&self, labels: &[String]) -> Result<(), Mismatch> {
        let expected = format!("choices {}", quote_list(labels));
        let offered = self.turn.iter().rev().find_map(|e| match e {
            Event::Choices { options, .. } => {
                Some(options.iter().map(|o| o.label.clone()).collect::<Vec<_>>())
            }
            Event::Carousel { cards } => Some(
                cards
                    .iter()
                    .flat_map(|c| &c.buttons)
                    .filter(|b| b.kind != "link")
                    .map(|b| b.label.clone())
                    .collect(),
            ),
            _ => None,
        });
        match offered {
            Some(actual) if actual == labels => Ok(()),
            Some(actual) => Err(Mismatch::new(
                "expect choices",
                expected,
                format!("choices {}", quote_list(&actual)),
            )),
            None => Err(Mismatch::new(
                "expect choices",
                expected,
                "no choices or carousel in this turn",
            )),
        }
    }

    fn expect_request(&self, api: u32, url: &str) -> Result<(), Mismatch> {
        let name = self.api_name(api);
        let expected = format!("request {name} {}", quote(url));
        let fail = |actual: String| Err(Mismatch::new("expect request", expected.clone(), actual));
        let Some(seen) = self.last_call.get(&name) else {
            return fail(format!("no request to {name} in this test"));
        };
        if seen.url != url {
            return fail(format!("request {name} {}", quote(&seen.url)));
        }
        // The event says what the flow built; the stub server says what really arrived.
        let Some(arrived) = self.server.requests_to(&name).pop() else {
            let why = seen.error.as_deref().unwrap_or("unknown error");
            return fail(format!(
                "the request never reached the stub server (status {}, {why})",
                seen.status
            ));
        };
        if let Ok(parsed) = url::Url::parse(url) {
            let want = match parsed.query() {
                Some(q) => format!("{}?{q}", parsed.path()),
                None => parsed.path().to_string(),
            };
            if arrived.path_and_query() != want
                && !(want == "/" && arrived.path_and_query().is_empty())
            {
                return fail(format!(
                    "the stub server received {} {}",
                    arrived.method,
                    arrived.path_and_query()
                ));
            }
        }
        Ok(())
    }
}

impl Run<'_> {
    /// `expect request API method|header|json ...`: checked in the last request to API that
    /// reached the stub server, with the test's secrets masked as `***` (so a failure never
    /// shows one).
    fn expect_request_part(&self, api: u32, part: &RequestPart) -> Result<(), Mismatch> {
        let name = self.api_name(api);
        let expected = format!("request {name} {}", show_part(part));
        let fail = |actual: String| Err(Mismatch::new("expect request", expected.clone(), actual));
        let Some(arrived) = self.server.requests_to(&name).pop() else {
            return fail(format!(
                "no request to {name} reached the stub server in this test"
            ));
        };
        let actual = match part {
            RequestPart::Method(m) if arrived.method == m.as_str() => return Ok(()),
            RequestPart::Method(_) => format!("method {}", arrived.method.to_ascii_lowercase()),
            RequestPart::Header {
                name: header,
                value,
            } => match arrived.header(header).map(|v| self.mask(v)) {
                Some(sent) if sent == *value => return Ok(()),
                Some(sent) => format!("header {} == {}", quote(header), quote(&sent)),
                None => format!("no header {}", quote(header)),
            },
            RequestPart::Json { path, value } => {
                let Ok(body) = serde_json::from_str::<serde_json::Value>(&arrived.body) else {
                    return fail(format!(
                        "request {name} with a body that is not JSON: {}",
                        quote(&self.mask(&arrived.body))
                    ));
                };
                let body = self.mask_json(body);
                let steps = path.as_deref().map_or(Some(Vec::new()), parse_json_path);
                match (steps.and_then(|s| lookup(&body, &s).cloned()), path) {
                    (Some(sent), _) if json_eq(&sent, value) => return Ok(()),
                    (Some(sent), None) => format!("json {sent}"),
                    (Some(sent), Some(p)) => format!("json {} == {sent}", quote(p)),
                    (None, p) => format!(
                        "json without {} in {body}",
                        quote(p.as_deref().unwrap_or(""))
                    ),
                }
            }
        };
        fail(format!("request {name} {actual}"))
    }

    /// `text` with every secret value of the test replaced by `***`.
    fn mask(&self, text: &str) -> String {
        self.secret_values
            .iter()
            .fold(text.to_string(), |t, secret| {
                t.replace(secret.as_str(), "***")
            })
    }

    fn mask_json(&self, value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value as J;
        match value {
            J::String(s) => J::String(self.mask(&s)),
            J::Array(items) => J::Array(items.into_iter().map(|v| self.mask_json(v)).collect()),
            J::Object(fields) => J::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k, self.mask_json(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// A request part as a test line writes it, after `request API`.
fn show_part(part: &RequestPart) -> String {
    match part {
        RequestPart::Method(m) => format!("method {}", m.as_str().to_ascii_lowercase()),
        RequestPart::Header { name, value } => {
            format!("header {} == {}", quote(name), quote(value))
        }
        RequestPart::Json { path: None, value } => format!("json {value}"),
        RequestPart::Json {
            path: Some(path),
            value,
        } => format!("json {} == {value}", quote(path)),
    }
}

/// JSON equality where numbers compare by value: `2` equals `2.0`.
fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            x == y
                || (x.as_i64().is_none() || y.as_i64().is_none())
                    && x.as_f64().is_some()
                    && x.as_f64() == y.as_f64()
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// An `expect` that looks for one event of a kind in the turn (`transfer`, `email`, `goal`,
/// `media`): the table below says, per kind, how an event is matched and shown.
struct EventSearch {
    check: &'static str,
    /// The wanted event in the form `key` gives.
    expected: String,
    /// The actual value when the turn had no event of the kind, e.g. `no transfer`.
    none: &'static str,
    /// An event of the kind in the form `expected` is written; `None` for other events.
    key: fn(&Event) -> Option<String>,
    /// An event of the kind as a failure lists it (may say more than `key`).
    shown: fn(&Event) -> Option<String>,
}

impl EventSearch {
    fn of(kind: &TestStepKind) -> Option<EventSearch> {
        let search = match kind {
            TestStepKind::ExpectTransfer(to) => EventSearch {
                check: "expect transfer",
                expected: format!("transfer to {}", quote(to)),
                none: "no transfer",
                key: |e| match e {
                    Event::Transfer { to, .. } => Some(format!("transfer to {}", quote(to))),
                    _ => None,
                },
                shown: |e| match e {
                    Event::Transfer { kind, to } => {
                        Some(format!("transfer to {kind} {}", quote(to)))
                    }
                    _ => None,
                },
            },
            TestStepKind::ExpectEmail { to, subject } => EventSearch {
                check: "expect email",
                expected: email_key(to, subject),
                none: "no email",
                key: |e| match e {
                    Event::Email { to, subject, .. } => Some(email_key(to, subject)),
                    _ => None,
                },
                shown: |e| match e {
                    Event::Email { to, subject, .. } => Some(email_key(to, subject)),
                    _ => None,
                },
            },
            TestStepKind::ExpectGoal(name) => EventSearch {
                check: "expect goal",
                expected: format!("goal {}", quote(name)),
                none: "no goal",
                key: |e| match e {
                    Event::Goal { name, .. } => Some(format!("goal {}", quote(name))),
                    _ => None,
                },
                shown: |e| match e {
                    Event::Goal { name, count } => {
                        Some(format!("goal {} (count {count})", quote(name)))
                    }
                    _ => None,
                },
            },
            TestStepKind::ExpectMedia { kind, url } => EventSearch {
                check: "expect media",
                expected: format!("{} {}", kind.as_str(), quote(url)),
                none: "no media",
                key: media_key,
                shown: media_key,
            },
            _ => return None,
        };
        Some(search)
    }

    /// Passes when some event of the turn is the wanted one; a failure lists the events of
    /// that kind the turn had.
    fn run(&self, turn: &[Event]) -> Result<(), Mismatch> {
        if turn.iter().filter_map(self.key).any(|k| k == self.expected) {
            return Ok(());
        }
        let seen: Vec<String> = turn.iter().filter_map(self.shown).collect();
        let actual = if seen.is_empty() {
            format!("{} in this turn", self.none)
        } else {
            seen.join("; ")
        };
        Err(Mismatch::new(self.check, self.expected.clone(), actual))
    }
}

fn email_key(to: &str, subject: &str) -> String {
    format!("email to {} {}", quote(to), quote(subject))
}

fn media_key(e: &Event) -> Option<String> {
    match e {
        Event::Media { kind, url, .. } => Some(format!("{kind} {}", quote(url))),
        _ => None,
    }
}

/// `"A", "B"`: labels as a test line writes them.
fn quote_list(labels: &[String]) -> String {
    if labels.is_empty() {
        return "(none)".to_string();
    }
    labels
        .iter()
        .map(|l| quote(l))
        .collect::<Vec<_>>()
        .join(", ")
}

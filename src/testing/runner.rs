//! Runs `test` blocks: a scripted conversation against stubbed APIs, step by step, as
//! language.md "Tests" says.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::diagnostic::{self, Code, Diag};
use crate::ir::{Program, SourceSpan, Span, StubAnswer, SysAttr, TestCase, TestStep, TestStepKind};
use crate::runtime::{Engine, EngineConfig, Event, Session, SessionState, SmtpConfig};
use crate::source::{line_col, SourceSet};

use super::secret_names;
use super::stub::StubServer;
use crate::ir::{quote, show_value};

/// Tests never read real secrets: each `{secret.NAME}` is `test-secret-NAME`.
pub const TEST_SECRET_PREFIX: &str = "test-secret-";

/// Tests of one file that run at the same time.
const MAX_CONCURRENT_TESTS: usize = 16;

/// How `chatflow test` runs a file's tests.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// Node entries allowed per turn.
    pub max_steps: u32,
    /// Deliver the flow's emails to this SMTP server (recorded only when `None`).
    pub smtp: Option<SmtpConfig>,
    /// `sys.language` a test starts with (a `language` line changes it).
    pub language: Option<String>,
    /// `sys.channel` of every test's conversation.
    pub channel: Option<String>,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            max_steps: EngineConfig::default().max_steps,
            smtp: None,
            language: None,
            channel: None,
        }
    }
}

/// The result of one test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The test's name.
    pub name: String,
    /// Where the `test` block is.
    pub span: SourceSpan,
    /// `None` when the test passed.
    pub failure: Option<Failure>,
    /// Every event of the conversation, all turns in order (trace events included), for
    /// coverage.
    pub events: Vec<Event>,
}

impl TestOutcome {
    /// Whether every step passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Why a test failed: the step that failed and what it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The failing line (the whole test block when the test could not start).
    pub span: SourceSpan,
    /// The check, e.g. `expect say`.
    pub check: String,
    /// What the check expected.
    pub expected: String,
    /// What it saw.
    pub actual: String,
    /// Extra context: runtime errors of the turn, what the stub server received, ...
    pub notes: Vec<String>,
}

/// Runs every test of `program`, concurrently, and returns the outcomes in source order.
pub async fn run_tests(program: Arc<Program>, options: &TestOptions) -> Vec<TestOutcome> {
    // Each running test holds a server, an HTTP client and sockets: bound how many at once.
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_TESTS));
    let mut handles = Vec::new();
    for index in 0..program.tests.len() {
        let program = program.clone();
        let options = options.clone();
        let slots = slots.clone();
        handles.push(tokio::spawn(async move {
            let _slot = slots.acquire().await;
            let test = &program.tests[index];
            run_one(&program, test, &options).await
        }));
    }
    let mut outcomes = Vec::new();
    for (test, handle) in program.tests.iter().zip(handles) {
        let (result, events) = handle.await.unwrap_or_else(|e| {
            let failure = Failure {
                span: test.span,
                check: "test".into(),
                expected: "the test to run".into(),
                actual: format!("the test task failed: {e}"),
                notes: Vec::new(),
            };
            (Err(failure), Vec::new())
        });
        outcomes.push(TestOutcome {
            name: test.name.clone(),
            span: test.span,
            failure: result.err(),
            events,
        });
    }
    outcomes
}

/// A conversation under test: the engine, its session, the current turn's events.
struct Run<'a> {
    program: &'a Program,
    engine: Engine,
    session: Session,
    server: StubServer,
    started: bool,
    /// Events of the current turn.
    turn: Vec<Event>,
    /// Index into `turn` of the first message no `expect say` has taken yet.
    said: usize,
    /// The URL (as the flow built it) of the last request to each API, over the whole test.
    last_url: HashMap<String, ApiCallSeen>,
    /// APIs with a `stub` line so far.
    stubbed: HashSet<String>,
    /// Events of every turn so far.
    history: Vec<Event>,
}

struct ApiCallSeen {
    url: String,
    status: u16,
    error: Option<String>,
}

/// Runs one test: its result and every event the conversation produced.
async fn run_one(
    program: &Arc<Program>,
    test: &TestCase,
    options: &TestOptions,
) -> (Result<(), Failure>, Vec<Event>) {
    let mut history = Vec::new();
    let result = run_steps(program, test, options, &mut history).await;
    (result, history)
}

async fn run_steps(
    program: &Arc<Program>,
    test: &TestCase,
    options: &TestOptions,
    history: &mut Vec<Event>,
) -> Result<(), Failure> {
    let setup_failed = |actual: String| Failure {
        span: test.span,
        check: "test setup".into(),
        expected: "a stub server and an engine".into(),
        actual,
        notes: Vec::new(),
    };
    let server = StubServer::start(HashMap::new())
        .await
        .map_err(|e| setup_failed(format!("could not start the stub server: {e}")))?;
    let secrets = secret_names(program)
        .into_iter()
        .map(|name| (name.clone(), format!("{TEST_SECRET_PREFIX}{name}")))
        .collect();
    let config = EngineConfig {
        max_steps: options.max_steps,
        trace: true,
        redirect_base: Some(server.base_url().to_string()),
        secrets: Some(Arc::new(secrets)),
        // The OTP code is `123456` (the first `digits` digits of `1234567890`), so a test can type it.
        fixed_otp: true,
        smtp: options.smtp.clone(),
        ..EngineConfig::default()
    };
    let defaults = EngineConfig::default();
    let config = EngineConfig {
        language: options.language.clone().unwrap_or(defaults.language),
        channel: options.channel.clone().unwrap_or(defaults.channel),
        ..config
    };
    let engine = Engine::new(program.clone(), config)
        .map_err(|e| setup_failed(format!("the engine refused the program: {e}")))?;
    let session = engine.new_session();
    let mut run = Run {
        program,
        engine,
        session,
        server,
        started: false,
        turn: Vec::new(),
        said: 0,
        last_url: HashMap::new(),
        stubbed: HashSet::new(),
        history: Vec::new(),
    };
    // Stubs before the first `user` line are in place for the opening turn.
    let opening_stubs = test
        .steps
        .iter()
        .take_while(|s| !matches!(s.kind, TestStepKind::User(_)));
    for step in opening_stubs {
        if let TestStepKind::Stub { api, answer } = &step.kind {
            run.stub(*api, answer);
        }
    }
    let mut result = Ok(());
    for step in &test.steps {
        result = run.step(step).await;
        if result.is_err() {
            break;
        }
    }
    *history = std::mem::take(&mut run.history);
    result
}

impl Run<'_> {
    fn api_name(&self, api: u32) -> String {
        self.program
            .apis
            .get(api as usize)
            .map_or_else(|| format!("api#{api}"), |a| a.name.clone())
    }

    fn node_name(&self, node: u32) -> String {
        self.program
            .nodes
            .get(node as usize)
            .map_or_else(|| format!("node#{node}"), |n| n.name.clone())
    }

    fn attr_name(&self, attr: u32) -> String {
        self.program
            .attrs
            .get(attr as usize)
            .map_or_else(|| format!("attr#{attr}"), |a| a.name.clone())
    }

    fn stub(&mut self, api: u32, answer: &StubAnswer) {
        let name = self.api_name(api);
        self.server.set(&name, answer.clone());
        self.stubbed.insert(name);
    }

    async fn ensure_started(&mut self) {
        if !self.started {
            self.started = true;
            let events = self.engine.start(&mut self.session).await;
            self.begin_turn(events);
        }
    }

    fn begin_turn(&mut self, events: Vec<Event>) {
        for event in &events {
            if let Event::ApiCall {
                api,
                url,
                status,
                error,
                ..
            } = event
            {
                let seen = ApiCallSeen {
                    url: url.clone(),
                    status: *status,
                    error: error.clone(),
                };
                self.last_url.insert(api.clone(), seen);
            }
        }
        self.history.extend(events.iter().cloned());
        self.turn = events;
        self.said = 0;
    }

    async fn step(&mut self, step: &TestStep) -> Result<(), Failure> {
        match &step.kind {
            TestStepKind::Stub { api, answer } => {
                if self.started {
                    self.stub(*api, answer);
                }
                Ok(())
            }
            TestStepKind::User(text) => {
                self.ensure_started().await;
                if self.session.state == SessionState::Failed {
                    return Err(Failure {
                        span: step.span,
                        check: "user".into(),
                        expected: "the conversation to take a message".into(),
                        actual: "the conversation failed in its opening turn".into(),
                        notes: self.turn_notes(),
                    });
                }
                let events = self.engine.step(&mut self.session, text).await;
                self.begin_turn(events);
                Ok(())
            }
            // Settings for the turns that follow: they do not start the conversation, so a
            // `clock` or `language` line before the first `user` applies to the opening turn.
            TestStepKind::Clock(now) => {
                self.session.fixed_now = Some(now.clone());
                Ok(())
            }
            TestStepKind::Language(code) => {
                self.session.set_sys(SysAttr::Language, code.clone());
                Ok(())
            }
            kind => {
                self.ensure_started().await;
                self.check(kind)
                    .map_err(|(check, expected, actual)| Failure {
                        span: step.span,
                        check,
                        expected,
                        actual,
                        notes: self.turn_notes(),
                    })
            }
        }
    }

    /// Checks one `expect`: `Err((check, expected, actual))` when it does not hold.
    fn check(&mut self, kind: &TestStepKind) -> Result<(), (String, String, String)> {
        match kind {
            TestStepKind::ExpectSay(text) => self.expect_say(text),
            TestStepKind::ExpectNode(node) => self.expect_node(*node),
            TestStepKind::ExpectAttrEquals { attr, value } => {
                let actual = self
                    .session
                    .attrs
                    .get(*attr as usize)
                    .and_then(Option::as_ref);
                if actual == Some(value) {
                    return Ok(());
                }
                let name = self.attr_name(*attr);
                Err((
                    "expect attr".into(),
                    format!("{name} == {}", show_value(Some(value))),
                    format!("{name} is {}", show_value(actual)),
                ))
            }
            TestStepKind::ExpectAttrNotSet { attr } => {
                let actual = self
                    .session
                    .attrs
                    .get(*attr as usize)
                    .and_then(Option::as_ref);
                if actual.is_none() {
                    return Ok(());
                }
                let name = self.attr_name(*attr);
                Err((
                    "expect attr".into(),
                    format!("{name} is not set"),
                    format!("{name} is {}", show_value(actual)),
                ))
            }
            TestStepKind::ExpectRequest { api, url } => self.expect_request(*api, url),
            TestStepKind::ExpectClosed => {
                if self.session.state == SessionState::Closed {
                    return Ok(());
                }
                Err((
                    "expect closed".into(),
                    "the chat is closed".into(),
                    format!(
                        "the chat is open, in node `{}`",
                        self.node_name(self.session.node)
                    ),
                ))
            }
            TestStepKind::ExpectChoices(labels) => self.expect_choices(labels),
            TestStepKind::ExpectTransfer(to) => self.expect_transfer(to),
            TestStepKind::ExpectEmail { to, subject } => self.expect_email(to, subject),
            TestStepKind::ExpectGoal(name) => self.expect_goal(name),
            TestStepKind::ExpectMedia { kind, url } => self.expect_media(kind.as_str(), url),
            TestStepKind::Stub { .. }
            | TestStepKind::User(_)
            | TestStepKind::Clock(_)
            | TestStepKind::Language(_) => Ok(()),
        }
    }

    /// The options of the last `choices` or `carousel` event of the turn: every option of a
    /// menu, the branch (and postback) buttons of a carousel's cards.
    fn expect_choices(&self, labels: &[String]) -> Result<(), (String, String, String)> {
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
            Some(actual) => Err((
                "expect choices".into(),
                expected,
                format!("choices {}", quote_list(&actual)),
            )),
            None => Err((
                "expect choices".into(),
                expected,
                "no choices or carousel in this turn".into(),
            )),
        }
    }

    fn expect_transfer(&self, to: &str) -> Result<(), (String, String, String)> {
        let seen: Vec<String> = self
            .turn
            .iter()
            .filter_map(|e| match e {
                Event::Transfer { kind, to } => Some(format!("transfer to {kind} {}", quote(to))),
                _ => None,
            })
            .collect();
        let hit = self
            .turn
            .iter()
            .any(|e| matches!(e, Event::Transfer { to: t, .. } if t == to));
        self.found(
            hit,
            "expect transfer",
            format!("transfer to {}", quote(to)),
            seen,
            "no transfer",
        )
    }

    fn expect_email(&self, to: &str, subject: &str) -> Result<(), (String, String, String)> {
        let seen: Vec<String> = self
            .turn
            .iter()
            .filter_map(|e| match e {
                Event::Email { to, subject, .. } => {
                    Some(format!("email to {} {}", quote(to), quote(subject)))
                }
                _ => None,
            })
            .collect();
        let hit = self.turn.iter().any(
            |e| matches!(e, Event::Email { to: t, subject: s, .. } if t == to && s == subject),
        );
        let expected = format!("email to {} {}", quote(to), quote(subject));
        self.found(hit, "expect email", expected, seen, "no email")
    }

    fn expect_goal(&self, name: &str) -> Result<(), (String, String, String)> {
        let seen: Vec<String> = self
            .turn
            .iter()
            .filter_map(|e| match e {
                Event::Goal { name, count } => {
                    Some(format!("goal {} (count {count})", quote(name)))
                }
                _ => None,
            })
            .collect();
        let hit = self
            .turn
            .iter()
            .any(|e| matches!(e, Event::Goal { name: n, .. } if n == name));
        self.found(
            hit,
            "expect goal",
            format!("goal {}", quote(name)),
            seen,
            "no goal",
        )
    }

    fn expect_media(&self, kind: &str, url: &str) -> Result<(), (String, String, String)> {
        let seen: Vec<String> = self
            .turn
            .iter()
            .filter_map(|e| match e {
                Event::Media { kind, url, .. } => Some(format!("{kind} {}", quote(url))),
                _ => None,
            })
            .collect();
        let hit = self
            .turn
            .iter()
            .any(|e| matches!(e, Event::Media { kind: k, url: u, .. } if k == kind && u == url));
        self.found(
            hit,
            "expect media",
            format!("{kind} {}", quote(url)),
            seen,
            "no media",
        )
    }

    /// The verdict of an `expect` that looks for one event in the turn: `seen` lists the
    /// events of that type the turn had, for the failure message.
    fn found(
        &self,
        hit: bool,
        check: &str,
        expected: String,
        seen: Vec<String>,
        none: &str,
    ) -> Result<(), (String, String, String)> {
        if hit {
            return Ok(());
        }
        let actual = if seen.is_empty() {
            format!("{none} in this turn")
        } else {
            seen.join("; ")
        };
        Err((check.to_string(), expected, actual))
    }

    fn expect_say(&mut self, text: &str) -> Result<(), (String, String, String)> {
        let next = self.turn[self.said.min(self.turn.len())..]
            .iter()
            .position(|e| matches!(e, Event::Say { .. }))
            .map(|i| i + self.said);
        let expected = format!("say {}", quote(text));
        let Some(index) = next else {
            let actual = if self.turn_says().is_empty() {
                "no message in this turn".to_string()
            } else {
                "no further message in this turn".to_string()
            };
            return Err(("expect say".into(), expected, actual));
        };
        self.said = index + 1;
        match &self.turn[index] {
            Event::Say { text: said } if said == text => Ok(()),
            Event::Say { text: said } => Err((
                "expect say".into(),
                expected,
                format!("say {}", quote(said)),
            )),
            _ => Ok(()),
        }
    }

    fn expect_node(&self, node: u32) -> Result<(), (String, String, String)> {
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
        Err((
            "expect node".into(),
            format!("node {name} entered in this turn"),
            actual,
        ))
    }

    fn expect_request(&self, api: u32, url: &str) -> Result<(), (String, String, String)> {
        let name = self.api_name(api);
        let expected = format!("request {name} {}", quote(url));
        let fail = |actual: String| Err(("expect request".into(), expected.clone(), actual));
        let Some(seen) = self.last_url.get(&name) else {
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

    fn turn_says(&self) -> Vec<&str> {
        self.turn
            .iter()
            .filter_map(|e| match e {
                Event::Say { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// What helps to read a failure: the turn's messages and runtime errors.
    fn turn_notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self
            .turn_says()
            .into_iter()
            .map(|t| format!("bot said: {}", quote(t)))
            .collect();
        for event in &self.turn {
            match event {
                Event::RuntimeError { message } => notes.push(format!("runtime error: {message}")),
                Event::ApiCall { api, .. } if !self.stubbed.contains(api) => notes.push(format!(
                    "API `{api}` was called but the test has no `stub {api}` line \
                     (the stub server answered 501)"
                )),
                _ => {}
            }
        }
        notes.dedup();
        notes
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

/// `PASS name`, or `FAIL name` followed by the failing line's location, the expected and the
/// actual value, notes, and a snippet of the source.
pub fn render_outcome(
    outcome: &TestOutcome,
    program: &Program,
    sources: &SourceSet,
    color: bool,
) -> String {
    let Some(failure) = &outcome.failure else {
        return format!("PASS {}\n", outcome.name);
    };
    let file = resolve_file(failure.span, program, sources);
    let span = Span::new(failure.span.start as usize, failure.span.end as usize);
    let location = match file.and_then(|id| sources.get(id)) {
        Some(f) => {
            let (line, col) = line_col(&f.text, span.start);
            format!("{}:{line}:{col}", f.name)
        }
        None => "<unknown location>".to_string(),
    };
    let mut out = format!("FAIL {}\n", outcome.name);
    out.push_str(&format!("  {location}: {} failed\n", failure.check));
    out.push_str(&format!("    expected: {}\n", failure.expected));
    out.push_str(&format!("    actual:   {}\n", failure.actual));
    for note in &failure.notes {
        out.push_str(&format!("    note: {note}\n"));
    }
    if let Some(id) = file {
        let diag = Diag::new(
            Code::TestFailed,
            format!("test {} failed", quote(&outcome.name)),
            span,
        )
        .in_file(id)
        .label(format!("{} failed here", failure.check));
        for line in diagnostic::render(&[diag], sources, color).lines() {
            let line = format!("  {line}");
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// The `SourceSet` file of a span, matched by the name the source map recorded.
fn resolve_file(span: SourceSpan, program: &Program, sources: &SourceSet) -> Option<u32> {
    let name = program.source_map.files.get(span.file as usize);
    let by_name = name.and_then(|n| sources.files.iter().position(|f| &f.name == n));
    by_name
        .map(|i| i as u32)
        .or_else(|| sources.get(span.file).map(|_| span.file))
}

/// The closing line: `N passed, M failed`.
pub fn closing_line(outcomes: &[TestOutcome]) -> String {
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    format!("{passed} passed, {} failed", outcomes.len() - passed)
}

//! Runs `test` blocks: a scripted conversation against stubbed APIs, step by step, as
//! language.md "Tests" says.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::ir::{
    quote, Program, SourceSpan, StubAnswer, SysAttr, TestCase, TestStep, TestStepKind, Value,
};
use crate::runtime::{
    Backoff, Clock, Engine, EngineConfig, Event, Session, SessionState, SmtpConfig, VirtualClock,
};

use super::expect::Mismatch;
use super::secret_names;
use super::stub::StubServer;

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
    /// Where each turn begins in `events`, and the visitor's message it answered (`None`
    /// for the opening turn): what `chatflow test --channel` shows a transcript from.
    pub turns: Vec<(usize, Option<String>)>,
    /// How far the test's virtual clock moved: the API timeouts and retry waits the test went
    /// through, which took no real time.
    pub waited: Duration,
    /// `sys.intent` after each visitor message (`none` below the threshold), for coverage.
    pub intents: Vec<String>,
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

impl Failure {
    pub(super) fn new(span: SourceSpan, mismatch: Mismatch, notes: Vec<String>) -> Failure {
        Failure {
            span,
            check: mismatch.check.to_string(),
            expected: mismatch.expected,
            actual: mismatch.actual,
            notes,
        }
    }
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
        let outcome = handle.await.unwrap_or_else(|e| {
            let actual = format!("the test task failed: {e}");
            let mismatch = Mismatch::new("test", "the test to run", actual);
            TestOutcome {
                name: test.name.clone(),
                span: test.span,
                failure: Some(Failure::new(test.span, mismatch, Vec::new())),
                events: Vec::new(),
                turns: Vec::new(),
                waited: Duration::ZERO,
                intents: Vec::new(),
            }
        });
        outcomes.push(outcome);
    }
    outcomes
}

/// The text a visitor reads in an event: a message, or the prompt shown with a menu
/// (`choose`, `buttons`, an `appointment`'s slots) or a form. `expect say` takes these in order.
pub(super) fn message_text(event: &Event) -> Option<&str> {
    match event {
        Event::Say { text } => Some(text),
        Event::Choices {
            text: Some(text), ..
        } => Some(text),
        Event::Form {
            title: Some(title), ..
        } => Some(title),
        _ => None,
    }
}

/// A conversation under test: the engine, its session, the current turn's events.
pub(super) struct Run<'a> {
    pub program: &'a Program,
    engine: Engine,
    pub session: Session,
    pub server: StubServer,
    started: bool,
    /// Events of the current turn.
    pub turn: Vec<Event>,
    /// Index into `turn` of the first message no `expect say` has taken yet.
    pub said: usize,
    /// The last call of each API over the whole test, as the flow built it.
    pub last_call: HashMap<String, ApiCallSeen>,
    /// APIs with a `stub` line so far.
    stubbed: HashSet<String>,
    /// The values the test gives the flow's secrets, masked in what checks show.
    pub secret_values: Vec<String>,
    /// APIs with a `stub` line since the last `user` line: another one adds to their script.
    scripted: HashSet<String>,
    /// Events of every turn so far.
    history: Vec<Event>,
    /// Where each turn begins in `history`, with the message it answered.
    turns: Vec<(usize, Option<String>)>,
    /// `sys.intent` after each visitor message so far.
    intents: Vec<String>,
}

pub(super) struct ApiCallSeen {
    pub url: String,
    pub status: u16,
    pub error: Option<String>,
}

/// What a test run hands back besides its result: every event, where each turn begins (with
/// its message), and `sys.intent` after each visitor message.
type Outputs<'o> = (
    &'o mut Vec<Event>,
    &'o mut Vec<(usize, Option<String>)>,
    &'o mut Vec<String>,
);

/// Runs one test on its own virtual clock.
async fn run_one(program: &Arc<Program>, test: &TestCase, options: &TestOptions) -> TestOutcome {
    let clock = VirtualClock::new();
    let mut history = Vec::new();
    let mut turns = Vec::new();
    let mut intents = Vec::new();
    let outputs = (&mut history, &mut turns, &mut intents);
    let result = run_steps(program, test, options, &clock, outputs).await;
    TestOutcome {
        name: test.name.clone(),
        span: test.span,
        failure: result.err(),
        events: history,
        turns,
        waited: clock.now(),
        intents,
    }
}

async fn run_steps(
    program: &Arc<Program>,
    test: &TestCase,
    options: &TestOptions,
    clock: &Arc<VirtualClock>,
    (history, turns, intents): Outputs<'_>,
) -> Result<(), Failure> {
    let setup_failed = |actual: String| {
        let mismatch = Mismatch::new("test setup", "a stub server and an engine", actual);
        Failure::new(test.span, mismatch, Vec::new())
    };
    let server = StubServer::start_with_clock(HashMap::new(), Some(clock.clone()))
        .await
        .map_err(|e| setup_failed(format!("could not start the stub server: {e}")))?;
    let mut config = engine_config(program, options, &server);
    config.clock = Clock::Virtual(clock.clone());
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
        last_call: HashMap::new(),
        stubbed: HashSet::new(),
        secret_values: secret_values(program),
        scripted: HashSet::new(),
        history: Vec::new(),
        turns: Vec::new(),
        intents: Vec::new(),
    };
    // Stubs before the first `user` line are in place for the opening turn.
    let opening = test
        .steps
        .iter()
        .position(|s| matches!(s.kind, TestStepKind::User(_)))
        .unwrap_or(test.steps.len());
    for step in &test.steps[..opening] {
        if let TestStepKind::Stub { api, answer } = &step.kind {
            run.stub(*api, answer);
        }
    }
    let mut result = Ok(());
    for (index, step) in test.steps.iter().enumerate() {
        if index < opening && matches!(step.kind, TestStepKind::Stub { .. }) {
            continue; // already in place
        }
        result = run.step(step).await;
        if result.is_err() {
            break;
        }
    }
    *history = std::mem::take(&mut run.history);
    *turns = std::mem::take(&mut run.turns);
    *intents = std::mem::take(&mut run.intents);
    result
}

/// The values a test gives the flow's secrets, longest first, so that masking one never
/// leaves part of a longer one.
fn secret_values(program: &Program) -> Vec<String> {
    let mut values: Vec<String> = secret_names(program)
        .into_iter()
        .map(|name| format!("{TEST_SECRET_PREFIX}{name}"))
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values
}

/// The engine of one test: requests go to its stub server, secrets are placeholders.
fn engine_config(program: &Program, options: &TestOptions, server: &StubServer) -> EngineConfig {
    let secrets = secret_names(program)
        .into_iter()
        .map(|name| (name.clone(), format!("{TEST_SECRET_PREFIX}{name}")))
        .collect();
    let defaults = EngineConfig::default();
    EngineConfig {
        max_steps: options.max_steps,
        trace: true,
        redirect_base: Some(server.base_url().to_string()),
        secrets: Some(Arc::new(secrets)),
        // The OTP code is `123456` (the first `digits` digits of `1234567890`), so a test can type it.
        fixed_otp: true,
        // Retry waits without jitter: the same test waits the same (virtual) time every run.
        backoff: Backoff {
            jitter: 0.0,
            ..defaults.backoff
        },
        smtp: options.smtp.clone(),
        language: options.language.clone().or(defaults.language.clone()),
        channel: options.channel.clone().unwrap_or(defaults.channel.clone()),
        ..defaults
    }
}

impl Run<'_> {
    pub fn api_name(&self, api: u32) -> String {
        self.program
            .apis
            .get(api as usize)
            .map_or_else(|| format!("api#{api}"), |a| a.name.clone())
    }

    pub fn node_name(&self, node: u32) -> String {
        self.program
            .nodes
            .get(node as usize)
            .map_or_else(|| format!("node#{node}"), |n| n.name.clone())
    }

    pub fn attr_name(&self, attr: u32) -> String {
        self.program
            .attrs
            .get(attr as usize)
            .map_or_else(|| format!("attr#{attr}"), |a| a.name.clone())
    }

    /// A `stub` line: the first for an API since the last `user` line replaces its answers;
    /// the next ones add to them, so `stub pay 503` then `stub pay 200` answer two calls.
    fn stub(&mut self, api: u32, answer: &StubAnswer) {
        let name = self.api_name(api);
        let answer = &match self.program.apis.get(api as usize) {
            Some(def) => super::stub::answer_for(def, answer.clone()),
            None => answer.clone(),
        };
        if self.scripted.contains(&name) {
            self.server.push(&name, answer.clone());
        } else {
            self.server.set(&name, answer.clone());
            self.scripted.insert(name.clone());
        }
        self.stubbed.insert(name);
    }

    async fn ensure_started(&mut self) {
        if !self.started {
            self.started = true;
            let events = self.engine.start(&mut self.session).await;
            self.turns.push((self.history.len(), None));
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
                self.last_call.insert(api.clone(), seen);
            }
        }
        self.history.extend(events.iter().cloned());
        self.turn = events;
        self.said = 0;
    }

    async fn step(&mut self, step: &TestStep) -> Result<(), Failure> {
        match &step.kind {
            TestStepKind::Stub { api, answer } => {
                self.stub(*api, answer);
                Ok(())
            }
            TestStepKind::User(text) => {
                self.ensure_started().await;
                if self.session.state == SessionState::Failed {
                    let mismatch = Mismatch::new(
                        "user",
                        "the conversation to take a message",
                        "the conversation failed in its opening turn",
                    );
                    return Err(Failure::new(step.span, mismatch, self.turn_notes()));
                }
                self.scripted.clear();
                let events = self.engine.step(&mut self.session, text).await;
                self.turns.push((self.history.len(), Some(text.clone())));
                if let Some(Value::Text(intent)) = self.session.sys.get(SysAttr::Intent.name()) {
                    self.intents.push(intent.clone());
                }
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
                    .map_err(|m| Failure::new(step.span, m, self.turn_notes()))
            }
        }
    }

    /// Every text the visitor read in this turn, in order (see [`message_text`]).
    pub fn turn_says(&self) -> Vec<&str> {
        self.turn.iter().filter_map(message_text).collect()
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
                Event::ApiCall {
                    api,
                    status,
                    error,
                    attempts,
                    ..
                } if !self.stubbed.contains(api) => {
                    // Say what really happened: a call that failed before any request (a bad
                    // URL, a missing secret) never reached the stub server.
                    let outcome = match error {
                        Some(code) if *attempts == 0 => {
                            format!("the call failed with `{code}` before any request was sent")
                        }
                        Some(code) => format!("the call failed with `{code}`"),
                        None => format!("the stub server answered {status}"),
                    };
                    notes.push(format!(
                        "API `{api}` was called but the test has no `stub {api}` line ({outcome})"
                    ))
                }
                _ => {}
            }
        }
        notes.dedup();
        notes
    }
}

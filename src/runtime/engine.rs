//! The interpreter: runs a [`Program`] over [`Session`]s.

use std::collections::HashMap;
use std::sync::Arc;

use chrono_tz::Tz;
use regex::Regex;

use super::eval::{collect_patterns, Scope};
use super::http::StreamReader;
use super::http::{self, HttpConnector};
use super::secrets::Masker;
use super::sent::SentRequest;
use super::validate::{kind_name, reprompt, validate};
use super::{sensitive, EngineConfig, Event, ReplyStream, Session, SessionState, Wait};
use crate::ir::{
    self, ApiId, AskKind, AttrId, Expr, FlowId, Message, NodeId, Program, Stmt, SysAttr, Text,
    Value,
};

pub(crate) mod ai;
mod builder;
mod refs;

use builder::Next;

/// How deeply sub-flows may nest; a deeper `run` stops the turn like the step limit.
pub const MAX_CALL_DEPTH: usize = 64;

/// Largest part of a response body kept in a [`CallReport`].
const REPORT_BODY_LIMIT: usize = 64 * 1024;

/// One API call: its event, the request as sent and the raw answer.
struct Called {
    event: Event,
    request: Option<SentRequest>,
    body: Option<Vec<u8>>,
}

/// Why a program cannot be run.
#[derive(thiserror::Error, Debug)]
pub enum LoadError {
    /// The program was written in an IR format this runtime does not read.
    #[error("IR format version {found} is not supported (this runtime reads {min} to {max})")]
    UnsupportedVersion {
        /// The program's format.
        found: u32,
        /// Oldest format this runtime reads.
        min: u32,
        /// Newest format this runtime reads.
        max: u32,
    },
    /// A `matches` pattern the regex crate refuses.
    #[error("invalid regular expression {pattern:?}: {message}")]
    BadRegex {
        /// The pattern as written.
        pattern: String,
        /// Why the regex crate refused it.
        message: String,
    },
    /// An index or name that points nowhere (a hand-edited or corrupt IR file).
    #[error("the program is inconsistent: {0}")]
    BadReference(String),
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[from] rustls::Error),
}

/// What `chatflow call` shows for one API call.
#[derive(Debug, Clone)]
pub struct CallReport {
    /// An [`Event::ApiCall`] (a [`Event::RuntimeError`] when the call could not be made).
    pub event: Event,
    /// The request as it was sent, secrets masked; `None` when it could not be built (the
    /// event's `error` says why: `missing_secret`, `bad_header`, `bad_url`).
    pub request: Option<SentRequest>,
    /// The response text (lossy UTF-8, at most 64 KiB), when a response arrived.
    pub body: Option<String>,
    /// Each `save` of the API with the value it stored (`None`: left unset).
    pub saved: Vec<(String, Option<Value>)>,
}

impl CallReport {
    fn failed(event: Event) -> CallReport {
        CallReport {
            event,
            request: None,
            body: None,
            saved: Vec::new(),
        }
    }
}

/// A loaded program, ready to run any number of sessions. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    program: Arc<Program>,
    config: EngineConfig,
    regexes: HashMap<String, Regex>,
    /// Time zones of `Program::hours`, parsed once.
    zones: Vec<Tz>,
    /// The bot's `timezone` (UTC without one).
    bot_zone: Tz,
    http: HttpConnector,
    /// Hides the known secret values in every event a turn produces.
    masker: Masker,
    /// The program has an `ai`: sessions keep the recent conversation for it.
    keeps_transcript: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("bot", &self.inner.program.bot.name)
            .finish_non_exhaustive()
    }
}

/// Where a turn began, so a stopped turn can put the session back.
struct ResumePoint {
    node: NodeId,
    pc: u32,
    was_new: bool,
    wait: Option<Wait>,
    calls: Vec<(NodeId, u32)>,
}

impl ResumePoint {
    fn here(s: &Session, was_new: bool) -> ResumePoint {
        ResumePoint {
            node: s.node,
            pc: s.pc,
            was_new,
            wait: s.wait.clone(),
            calls: s.calls.clone(),
        }
    }
}

impl Engine {
    /// Checks the program (format version, references, time zones, regexes) and builds the
    /// HTTP client once, so that a bad program fails here and not in a conversation.
    pub fn new(program: Arc<Program>, config: EngineConfig) -> Result<Engine, LoadError> {
        check_version(&program)?;
        refs::check_references(&program)?;
        let zones = refs::parse_zones(&program)?;
        let bot_zone = refs::parse_bot_zone(&program)?;
        let regexes = compile_regexes(&program)?;
        let http = HttpConnector::new(&config)?;
        let masker = match &config.secrets {
            Some(map) => Masker::new(map.values()),
            None => Masker::new(super::secrets::secrets_from_env().values()),
        };
        let keeps_transcript = program.apis.iter().any(|a| a.ai.is_some());
        Ok(Engine {
            inner: Arc::new(Inner {
                keeps_transcript,
                program,
                config,
                regexes,
                zones,
                bot_zone,
                http,
                masker,
            }),
        })
    }

    /// The same engine with trace events on ([`EngineConfig::trace`]): what `serve` stores
    /// for reports. Shares the program, the compiled regexes' source and the connection pool.
    pub fn traced(&self) -> Engine {
        let inner = &self.inner;
        Engine {
            inner: Arc::new(Inner {
                program: Arc::clone(&inner.program),
                config: EngineConfig {
                    trace: true,
                    ..inner.config.clone()
                },
                regexes: inner.regexes.clone(),
                zones: inner.zones.clone(),
                bot_zone: inner.bot_zone,
                http: inner.http.clone(),
                masker: inner.masker.clone(),
                keeps_transcript: inner.keeps_transcript,
            }),
        }
    }

    /// The program this engine runs.
    pub fn program(&self) -> &Program {
        &self.inner.program
    }

    /// The settings this engine was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The language new sessions start in: the configured one, else the bot's first declared
    /// language, else `en`.
    pub fn default_language(&self) -> String {
        let declared = self.inner.program.bot.languages.first();
        self.inner
            .config
            .language
            .as_ref()
            .or(declared)
            .cloned()
            .unwrap_or_else(|| "en".to_string())
    }

    /// A built-in message in the conversation's language: the bot's own text for it (from
    /// its `messages` block) when it has one in that language, else the built-in translation.
    pub(crate) fn message(&self, s: &Session, message: Message) -> String {
        let language = match s.sys.get(SysAttr::Language.name()) {
            Some(Value::Text(l)) => l.as_str(),
            _ => "en",
        };
        let own = self.inner.program.bot.messages.iter();
        match own.clone().find(|(name, _)| name == message.name()) {
            Some((_, text @ Text::Plain(_))) => self.scope(s).render_text(text),
            Some((_, Text::Translated(texts))) => match texts.iter().find(|(l, _)| l == language) {
                Some((_, t)) => self.scope(s).render(t),
                None => message.builtin(language).to_string(),
            },
            None => message.builtin(language).to_string(),
        }
    }

    /// A conversation that has not started: every attribute unset.
    pub fn new_session(&self) -> Session {
        let config = &self.inner.config;
        let mut session = Session::at_start(&self.inner.program);
        session.set_sys(SysAttr::Channel, config.channel.clone());
        session.set_sys(SysAttr::Language, self.default_language());
        session.set_sys(SysAttr::VisitorId, format!("{:016x}", fastrand::u64(..)));
        session
    }

    /// Report the bot's profile, say the greeting and run the entry node until the bot waits
    /// or closes. On a started session, does nothing.
    pub async fn start(&self, s: &mut Session) -> Vec<Event> {
        let mut events = self.start_turn(s).await;
        self.mask_events(&mut events);
        self.end_turn(s, None, &mut events);
        self.remember_said(s, &events);
        events
    }

    /// `text` with every known secret value shown as `***` (what `chatflow call` prints of an
    /// answer goes through this).
    pub fn mask_secrets(&self, text: &str) -> String {
        self.inner.masker.mask(text)
    }

    fn mask_events(&self, events: &mut [Event]) {
        for e in events {
            self.inner.masker.mask_event(e);
        }
    }

    /// Whether the statement the session waits at takes its answer into a `sensitive`
    /// attribute (so the answer is masked wherever it would show).
    pub fn awaits_sensitive(&self, s: &Session) -> bool {
        s.state == SessionState::Waiting && sensitive::awaits(&self.inner.program, s)
    }

    /// When the session waits at a form: the attribute its next unanswered field fills.
    /// Channels that ask a form one question at a time send each answer as that field's.
    pub fn awaited_form_field(&self, s: &Session) -> Option<&str> {
        let Some(Wait::Form { missing }) = &s.wait else {
            return None;
        };
        let program = &self.inner.program;
        let stmt = program
            .nodes
            .get(s.node as usize)?
            .stmts
            .get(s.pc.checked_sub(1)? as usize)?;
        let crate::ir::Stmt::Form(form) = stmt else {
            return None;
        };
        let field = form.fields.get(*missing.first()? as usize)?;
        Some(program.attrs.get(field.attr as usize)?.name.as_str())
    }

    /// A turn's end: sensitive values are masked in its events and forgotten.
    fn end_turn(&self, s: &mut Session, answer: Option<&str>, events: &mut [Event]) {
        if sensitive::any(&self.inner.program) {
            sensitive::forget(&self.inner.program, s, answer, events);
        }
    }

    async fn start_turn(&self, s: &mut Session) -> Vec<Event> {
        s.turn.begin();
        let mut events = Vec::new();
        if s.state != SessionState::New {
            return events;
        }
        s.node = self.inner.program.bot.start;
        s.pc = 0;
        s.wait = None;
        s.calls.clear();
        if let Err(e) = self.fit(s) {
            events.push(e);
            return events;
        }
        let bot = &self.inner.program.bot;
        let scope = self.scope(s);
        events.push(Event::Profile {
            name: bot.name.clone(),
            avatar: bot.avatar.as_ref().map(|t| scope.render(t)),
        });
        if let Some(greeting) = &bot.greeting {
            events.push(Event::Say {
                text: scope.render_text(greeting),
            });
        }
        let resume = ResumePoint::here(s, true);
        self.run(s, &mut events, &resume).await;
        events
    }

    /// One user message. A session that was never started is started first; a closed chat
    /// answers with a `RuntimeError` only; a transferred chat forwards it to the human.
    pub async fn step(&self, s: &mut Session, input: &str) -> Vec<Event> {
        let answer = self.awaits_sensitive(s).then_some(input);
        let read = !matches!(s.state, SessionState::Closed | SessionState::Failed);
        if self.inner.keeps_transcript && read && answer.is_none() {
            ai::remember(s, ai::Speaker::Visitor, &self.mask_secrets(input));
        }
        let mut events = self.step_turn(s, input).await;
        self.mask_events(&mut events);
        self.end_turn(s, answer, &mut events);
        self.remember_said(s, &events);
        events
    }

    /// [`Engine::step`], with the text of each model reply of the turn (`reply with`, the
    /// fallback's) sent to `stream` while it arrives (see [`crate::runtime::stream`]). The
    /// events are the same as `step`'s.
    pub async fn step_streamed(
        &self,
        s: &mut Session,
        input: &str,
        stream: ReplyStream,
    ) -> Vec<Event> {
        s.turn.stream = Some(stream);
        let events = self.step(s, input).await;
        s.turn.stream = None;
        events
    }

    /// What the bot said this turn joins the transcript, masked as the visitor saw it.
    fn remember_said(&self, s: &mut Session, events: &[Event]) {
        if !self.inner.keeps_transcript {
            return;
        }
        for event in events {
            if let Event::Say { text } = event {
                ai::remember(s, ai::Speaker::Bot, text);
            }
        }
    }

    async fn step_turn(&self, s: &mut Session, input: &str) -> Vec<Event> {
        s.turn.begin();
        let mut events = Vec::new();
        match s.state {
            SessionState::New => {
                events = self.start_turn(s).await;
                if s.state == SessionState::Transferred {
                    return self.forward(s, input, events);
                }
                if s.state == SessionState::Failed {
                    events.push(not_read(input));
                }
                if s.state != SessionState::Waiting {
                    return events;
                }
            }
            SessionState::Closed => {
                events.push(Event::RuntimeError {
                    message: "chat is closed".into(),
                });
                return events;
            }
            SessionState::Failed => {
                events.push(not_read(input));
                return events;
            }
            SessionState::Transferred => return self.forward(s, input, events),
            SessionState::Waiting => {
                if let Err(e) = self.fit(s) {
                    events.push(e);
                    return events;
                }
            }
        }
        s.set_sys(SysAttr::LastMessage, input.to_string());
        self.judge_message(s, input);
        let program = &*self.inner.program;
        let waiting_at =
            s.pc.checked_sub(1)
                .and_then(|i| program.nodes.get(s.node as usize)?.stmts.get(i as usize));
        let resume = ResumePoint::here(s, false);
        let next = match waiting_at {
            Some(Stmt::Ask { attr, kind, prompt }) => {
                self.answer_ask(s, *attr, *kind, prompt.as_ref(), input, &mut events)
            }
            Some(stmt) => self.answer(s, stmt, input, &mut events).await,
            None => Next::Stop,
        };
        match next {
            Next::Go => self.run(s, &mut events, &resume).await,
            Next::Stay => {}
            Next::Stop => events.push(Event::RuntimeError {
                message: "the session is not waiting for an answer".into(),
            }),
        }
        events
    }

    /// A message while a human has the chat: only reported.
    fn forward(&self, s: &mut Session, input: &str, mut events: Vec<Event>) -> Vec<Event> {
        s.set_sys(SysAttr::LastMessage, input.to_string());
        events.push(Event::Forwarded {
            text: input.to_string(),
        });
        events
    }

    fn answer_ask(
        &self,
        s: &mut Session,
        attr: AttrId,
        kind: AskKind,
        prompt: Option<&Text>,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        // The bot's intent rules and FAQ come first: a text `ask` would take any message.
        match self.free_text(s, input, events) {
            Some(true) => return Next::Go,
            Some(false) => return self.ask_again(s, attr, kind, prompt, events),
            None => {}
        }
        if let Some(value) = validate(kind, &self.canonical(input)) {
            s.attrs[attr as usize] = Some(value);
            return Next::Go;
        }
        let attr_name = self.inner.program.attrs[attr as usize].name.clone();
        events.push(Event::Invalid {
            attr: attr_name.clone(),
            kind: kind_name(kind).into(),
            answer: input.to_string(),
        });
        events.push(Event::Say {
            text: self.message(s, reprompt(kind)),
        });
        if let Some(prompt) = prompt {
            events.push(Event::Say {
                text: self.scope(s).render_text(prompt),
            });
        }
        events.push(Event::Ask {
            attr: attr_name,
            kind: kind_name(kind).into(),
        });
        Next::Stay
    }

    /// Make one API call as the flow would (templates, retries, saves applied to `s`) and
    /// report the request as it was sent. `{sys.otp_code}` is a fresh code, made as the `otp`
    /// that sends through this API would make it.
    pub async fn call_api(&self, s: &mut Session, api: ApiId) -> CallReport {
        let Some(api_def) = self.inner.program.apis.get(api as usize) else {
            let event = Event::RuntimeError {
                message: format!("no API with id {api}"),
            };
            return CallReport::failed(event);
        };
        if let Err(event) = self.fit(s) {
            return CallReport::failed(event);
        }
        let code = match self.code_for_call(api) {
            Ok(code) => code,
            Err(message) => return CallReport::failed(Event::RuntimeError { message }),
        };
        let Called {
            event,
            request,
            body,
        } = self.call_with_code(s, api, Some(&code)).await;
        let saved = api_def
            .saves
            .iter()
            .map(|save| {
                let name = self.inner.program.attrs[save.attr as usize].name.clone();
                (name, s.attrs[save.attr as usize].clone())
            })
            .collect();
        let body = body.map(|b| {
            let cut = b.len().min(REPORT_BODY_LIMIT);
            self.mask_secrets(&String::from_utf8_lossy(&b[..cut]))
        });
        let mut event = event;
        self.inner.masker.mask_event(&mut event);
        CallReport {
            event,
            request,
            body,
            saved,
        }
    }

    /// Sessions come from storage: make one safe to run against this program (attributes
    /// sized to the program's, node in range) or say why it cannot run.
    fn fit(&self, s: &mut Session) -> Result<(), Event> {
        let program = &self.inner.program;
        s.attrs.resize(program.attrs.len(), None);
        if (s.node as usize) < program.nodes.len() {
            Ok(())
        } else {
            Err(Event::RuntimeError {
                message: format!(
                    "the session is at node id {}, which this program does not have",
                    s.node
                ),
            })
        }
    }

    fn scope<'a>(&'a self, s: &'a Session) -> Scope<'a> {
        Scope {
            session: s,
            regexes: &self.inner.regexes,
            program: &self.inner.program,
            zones: &self.inner.zones,
            bot_zone: self.inner.bot_zone,
            item: None,
            otp_code: None,
        }
    }

    /// Run from `s.node`/`s.pc` until an `ask`, a close or the step limit.
    async fn run(&self, s: &mut Session, events: &mut Vec<Event>, resume: &ResumePoint) {
        let program = &*self.inner.program;
        let config = &self.inner.config;
        let max_steps = config.max_steps.min(super::MAX_STEPS_CAP);
        let mut entries: u32 = 0;
        loop {
            let node = &program.nodes[s.node as usize];
            if s.pc == 0 {
                entries = entries.saturating_add(1);
                if entries > max_steps {
                    let message = format!(
                        "step limit reached: more than {} node entries in one turn (last entered node `{}`); \
                         the turn was stopped",
                        max_steps, node.name
                    );
                    stop_turn(s, events, resume, message);
                    return;
                }
                if config.trace {
                    events.push(Event::NodeEntered {
                        node: node.name.clone(),
                    });
                }
            }
            let Some(stmt) = node.stmts.get(s.pc as usize) else {
                // A sub-flow's node that runs out returns; the main flow's closes the chat.
                if return_from_flow(s, program, config.trace, events) {
                    continue;
                }
                close(s, events);
                return;
            };
            s.pc += 1;
            match stmt {
                Stmt::Say(t) => events.push(Event::Say {
                    text: self.scope(s).render_text(t),
                }),
                Stmt::Ask { attr, kind, prompt } => {
                    if let Some(p) = prompt {
                        events.push(Event::Say {
                            text: self.scope(s).render_text(p),
                        });
                    }
                    let attr = program.attrs[*attr as usize].name.clone();
                    events.push(Event::Ask {
                        attr,
                        kind: kind_name(*kind).into(),
                    });
                    s.state = SessionState::Waiting;
                    return;
                }
                Stmt::Set { attr, value } => {
                    let v = self.scope(s).eval_value(value);
                    match v {
                        Ok(v) => {
                            s.attrs[*attr as usize] = v;
                            s.clear_sys(SysAttr::Error);
                        }
                        Err(why) => {
                            s.attrs[*attr as usize] = None;
                            s.set_sys(SysAttr::Error, why.into());
                        }
                    }
                }
                Stmt::Call(api) => {
                    events.push(self.call(s, *api).await.event);
                }
                Stmt::Reply(api) => {
                    let (event, text) = self.ask_model(s, *api, None).await;
                    events.push(event);
                    if let Some(text) = text {
                        events.push(Event::Say { text });
                    }
                }
                Stmt::AskAi { api, prompt, attr } => {
                    let (event, text) = self.ask_model(s, *api, Some(prompt)).await;
                    events.push(event);
                    s.attrs[*attr as usize] = text.map(Value::Text);
                }
                Stmt::Branch(table) => {
                    let target = self.branch(s, table, &node.name, events);
                    jump(s, target);
                }
                Stmt::Goto(target) => jump(s, *target),
                Stmt::Close => {
                    close(s, events);
                    return;
                }
                Stmt::Return => {
                    if !return_from_flow(s, program, config.trace, events) {
                        close(s, events);
                        return;
                    }
                }
                Stmt::Run { flow, args } => {
                    if let Err(message) = self.enter_flow(s, *flow, args) {
                        stop_turn(s, events, resume, message);
                        return;
                    }
                }
                other => {
                    if self.action(s, other, events).await != Next::Go {
                        return;
                    }
                }
            }
        }
    }

    fn branch(
        &self,
        s: &Session,
        table: &ir::BranchTable,
        node: &str,
        events: &mut Vec<Event>,
    ) -> NodeId {
        let scope = self.scope(s);
        let trace = self.inner.config.trace;
        let names = &self.inner.program.nodes;
        for (i, arm) in table.arms.iter().enumerate() {
            let result = scope.test(&arm.cond);
            if trace {
                events.push(Event::Condition {
                    node: node.into(),
                    arm: i,
                    result,
                    target: names[arm.target as usize].name.clone(),
                });
            }
            if result {
                return arm.target;
            }
        }
        if trace {
            events.push(Event::Condition {
                node: node.into(),
                arm: table.arms.len(),
                result: true,
                target: names[table.otherwise as usize].name.clone(),
            });
        }
        table.otherwise
    }

    /// `run FLOW(ARGS)`: set the parameters, remember where to return, enter the flow.
    fn enter_flow(&self, s: &mut Session, flow: FlowId, args: &[Expr]) -> Result<(), String> {
        let info = &self.inner.program.flows[flow as usize];
        if s.calls.len() >= MAX_CALL_DEPTH {
            return Err(format!(
                "sub-flows nested more than {MAX_CALL_DEPTH} deep (at `run {}`); the turn was stopped",
                info.name
            ));
        }
        let values: Vec<Option<Value>> = {
            let scope = self.scope(s);
            args.iter().map(|a| scope.eval(a).into_value()).collect()
        };
        for (param, value) in info.params.iter().zip(values) {
            s.attrs[*param as usize] = value;
        }
        s.calls.push((s.node, s.pc));
        jump(s, info.entry);
        Ok(())
    }

    /// The time the next call may take (the call deadline, within what is left of the turn's
    /// budget), or why it may not be made; counts the call.
    fn call_limit(&self, s: &mut Session) -> Result<std::time::Duration, &'static str> {
        let config = &self.inner.config;
        let now = config.clock.stamp();
        let started = *s.turn.started.get_or_insert(now);
        let left = config
            .turn_budget
            .saturating_sub(config.clock.elapsed(started));
        s.turn.calls = s.turn.calls.saturating_add(1);
        if s.turn.calls > config.max_calls_per_turn {
            Err("call_limit")
        } else if left.is_zero() {
            Err("turn_budget")
        } else {
            Ok(config.call_deadline.min(left))
        }
    }

    /// Send one API request and apply its result to the session.
    async fn call(&self, s: &mut Session, api_id: ApiId) -> Called {
        self.call_with_code(s, api_id, None).await
    }

    /// [`Engine::call`] with `otp_code` as `sys.otp_code` (the code exists only while sent).
    /// An `ai` is sent the conversation so far.
    async fn call_with_code(
        &self,
        s: &mut Session,
        api_id: ApiId,
        otp_code: Option<&str>,
    ) -> Called {
        let api = &self.inner.program.apis[api_id as usize];
        let chat = api
            .ai
            .as_ref()
            .map(|model| self.chat_body(s, model, None, false));
        let body = chat.as_ref().or(api.body.as_ref());
        self.send_call(s, api_id, otp_code, body, None).await
    }

    /// Send `api_id`'s request with `body` and apply the result to the session; an answer
    /// streamed as server-sent events goes to `reader`.
    async fn send_call(
        &self,
        s: &mut Session,
        api_id: ApiId,
        otp_code: Option<&str>,
        body: Option<&ir::RequestBody>,
        reader: Option<&mut dyn StreamReader>,
    ) -> Called {
        let api = &self.inner.program.apis[api_id as usize];
        let scope = Scope {
            otp_code,
            ..self.scope(s)
        };
        let prepared = self.inner.http.prepare(api, body, &scope);
        let limit = self.call_limit(s);
        let outcome = match (prepared, limit) {
            (Ok(request), Ok(deadline)) => self.inner.http.send(request, deadline, reader).await,
            (Ok(request), Err(code)) => http::Outcome::refused(request.shown_url(), code),
            (Err((display_url, code)), _) => http::Outcome {
                display_url,
                request: None,
                status: 0,
                error: Some(code),
                body: None,
                attempts: 0,
                latency: std::time::Duration::ZERO,
            },
        };
        s.status = Some(outcome.status);
        match outcome.error {
            Some(code) => {
                s.set_sys(SysAttr::ApiError, code.into());
            }
            None => {
                s.clear_sys(SysAttr::ApiError);
                if let Some(body) = &outcome.body {
                    apply_saves(s, api, body);
                }
            }
        }
        let event = Event::ApiCall {
            api: api.name.clone(),
            method: api.method.as_str().into(),
            url: outcome.display_url,
            status: outcome.status,
            error: outcome.error.map(str::to_string),
            latency_ms: outcome.latency.as_millis() as u64,
            attempts: outcome.attempts,
        };
        Called {
            event,
            request: outcome.request,
            body: outcome.body,
        }
    }
}

/// Run the API's `save`s on an answer. An answer that is not JSON (or empty) unsets them:
/// what an earlier call saved must not pass for this call's data.
fn apply_saves(s: &mut Session, api: &ir::Api, body: &[u8]) {
    if api.saves.is_empty() {
        return;
    }
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    for save in &api.saves {
        s.attrs[save.attr as usize] = json
            .as_ref()
            .and_then(|j| http::lookup(j, &save.path))
            .map(http::from_json);
    }
}

/// The answer to a message for a conversation that failed to start: said, not dropped.
fn not_read(input: &str) -> Event {
    Event::RuntimeError {
        message: format!(
            "the conversation failed to start and has ended; the message {input:?} was not read"
        ),
    }
}

/// The turn cannot go on (step limit, nesting): report it and put the session back where the
/// turn began, so the next message is handled like the one that started this turn. A failed
/// opening turn ends the conversation instead ([`SessionState::Failed`]): starting it again
/// would fail again and swallow each message.
fn stop_turn(s: &mut Session, events: &mut Vec<Event>, resume: &ResumePoint, message: String) {
    events.push(Event::RuntimeError { message });
    s.node = resume.node;
    s.pc = resume.pc;
    s.wait = resume.wait.clone();
    s.calls = resume.calls.clone();
    s.state = if resume.was_new {
        SessionState::Failed
    } else {
        SessionState::Waiting
    };
}

/// Continue after the innermost `run`; `false` when no sub-flow is running. With `trace`,
/// reports the caller node resumed, so a trace reader knows where later events happen.
fn return_from_flow(
    s: &mut Session,
    program: &Program,
    trace: bool,
    events: &mut Vec<Event>,
) -> bool {
    match s.calls.pop() {
        Some((node, pc)) => {
            s.node = node;
            s.pc = pc;
            if trace {
                let name = program
                    .nodes
                    .get(node as usize)
                    .map_or("?", |n| n.name.as_str());
                events.push(Event::Returned {
                    node: name.to_string(),
                });
            }
            true
        }
        None => false,
    }
}

fn jump(s: &mut Session, target: NodeId) {
    s.node = target;
    s.pc = 0;
}

fn close(s: &mut Session, events: &mut Vec<Event>) {
    s.state = SessionState::Closed;
    events.push(Event::Closed);
}

fn check_version(p: &Program) -> Result<(), LoadError> {
    let readable = (ir::MIN_READ_VERSION..=ir::FORMAT_VERSION).contains(&p.format_version)
        // A newer writer may declare that older readers can still run it.
        || (p.format_version > ir::FORMAT_VERSION && p.min_read_version <= ir::FORMAT_VERSION);
    // A matcher written before format 7 has dense weights, which read as an empty model.
    let min = if p.understanding.is_some() {
        ir::UNDERSTANDING_FORMAT_VERSION
    } else {
        ir::MIN_READ_VERSION
    };
    if readable && p.format_version >= min {
        Ok(())
    } else {
        Err(LoadError::UnsupportedVersion {
            found: p.format_version,
            min,
            max: ir::FORMAT_VERSION,
        })
    }
}

fn compile_regexes(p: &Program) -> Result<HashMap<String, Regex>, LoadError> {
    let mut patterns = Vec::new();
    for node in &p.nodes {
        for stmt in &node.stmts {
            match stmt {
                Stmt::Set { value, .. } | Stmt::SetLanguage(value) => {
                    collect_patterns(value, &mut patterns)
                }
                Stmt::Branch(t) => t
                    .arms
                    .iter()
                    .for_each(|a| collect_patterns(&a.cond, &mut patterns)),
                Stmt::Run { args, .. } => {
                    args.iter().for_each(|a| collect_patterns(a, &mut patterns))
                }
                _ => {}
            }
        }
    }
    let mut out = HashMap::new();
    for pattern in patterns {
        if out.contains_key(pattern) {
            continue;
        }
        let re = Regex::new(pattern).map_err(|e| LoadError::BadRegex {
            pattern: pattern.into(),
            message: e.to_string(),
        })?;
        out.insert(pattern.to_string(), re);
    }
    Ok(out)
}

//! The interpreter: runs a [`Program`] over [`Session`]s.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;

use super::eval::{collect_patterns, Scope};
use super::http::{self, HttpConnector};
use super::validate::{kind_name, reprompt, validate};
use super::{EngineConfig, Event, Session, SessionState};
use crate::ir::{self, ApiId, Expr, JsonTemplate, NodeId, Program, RequestBody, Stmt, Template, TemplatePart, Value};

/// Largest part of a response body kept in a [`CallReport`].
const REPORT_BODY_LIMIT: usize = 64 * 1024;

/// Why a program cannot be run.
#[derive(thiserror::Error, Debug)]
pub enum LoadError {
    #[error("IR format version {found} is not supported (this runtime reads {min} to {max})")]
    UnsupportedVersion { found: u32, min: u32, max: u32 },
    #[error("invalid regular expression {pattern:?}: {message}")]
    BadRegex { pattern: String, message: String },
    #[error("the program is inconsistent: {0}")]
    BadReference(String),
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// What `chatflow call` shows for one API call.
#[derive(Debug, Clone)]
pub struct CallReport {
    /// Always an [`Event::ApiCall`].
    pub event: Event,
    /// The response text (lossy UTF-8, at most 64 KiB), when a response arrived.
    pub body: Option<String>,
    /// Each `save` of the API with the value it stored (`None`: left unset).
    pub saved: Vec<(String, Option<Value>)>,
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
    http: HttpConnector,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("bot", &self.inner.program.bot.name).finish_non_exhaustive()
    }
}

/// Where a turn began, so a stopped turn can put the session back.
#[derive(Clone, Copy)]
struct ResumePoint {
    node: NodeId,
    pc: u32,
    was_new: bool,
}

impl Engine {
    pub fn new(program: Arc<Program>, config: EngineConfig) -> Result<Engine, LoadError> {
        check_version(&program)?;
        check_references(&program)?;
        let regexes = compile_regexes(&program)?;
        let http = HttpConnector::new(&config)?;
        Ok(Engine { inner: Arc::new(Inner { program, config, regexes, http }) })
    }

    pub fn program(&self) -> &Program {
        &self.inner.program
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// A conversation that has not started: every attribute unset.
    pub fn new_session(&self) -> Session {
        let config = &self.inner.config;
        let mut sys = HashMap::new();
        sys.insert("channel".to_string(), Value::Text(config.channel.clone()));
        sys.insert("language".to_string(), Value::Text(config.language.clone()));
        sys.insert("visitor_id".to_string(), Value::Text(format!("{:016x}", fastrand::u64(..))));
        Session {
            node: self.inner.program.bot.start,
            pc: 0,
            attrs: vec![None; self.inner.program.attrs.len()],
            status: None,
            sys,
            state: SessionState::New,
        }
    }

    /// Run the entry node until the bot waits or closes. On a started session, does nothing.
    pub async fn start(&self, s: &mut Session) -> Vec<Event> {
        let mut events = Vec::new();
        if s.state != SessionState::New {
            return events;
        }
        s.node = self.inner.program.bot.start;
        s.pc = 0;
        if let Err(e) = self.fit(s) {
            events.push(e);
            return events;
        }
        let resume = ResumePoint { node: s.node, pc: 0, was_new: true };
        self.run(s, &mut events, resume).await;
        events
    }

    /// One user message. A session that was never started is started first; a closed chat
    /// answers with a `RuntimeError` only.
    pub async fn step(&self, s: &mut Session, input: &str) -> Vec<Event> {
        let mut events = Vec::new();
        match s.state {
            SessionState::New => {
                events = self.start(s).await;
                if s.state != SessionState::Waiting {
                    return events;
                }
            }
            SessionState::Closed => {
                events.push(Event::RuntimeError { message: "chat is closed".into() });
                return events;
            }
            SessionState::Waiting => {
                if let Err(e) = self.fit(s) {
                    events.push(e);
                    return events;
                }
            }
        }
        s.sys.insert("last_message".into(), Value::Text(input.to_string()));
        let program = &self.inner.program;
        let ask = s
            .pc
            .checked_sub(1)
            .and_then(|i| program.nodes.get(s.node as usize)?.stmts.get(i as usize));
        let Some(Stmt::Ask { attr, kind, prompt }) = ask else {
            events.push(Event::RuntimeError { message: "the session is not waiting at an `ask`".into() });
            return events;
        };
        match validate(*kind, input) {
            Some(value) => s.attrs[*attr as usize] = Some(value),
            None => {
                let attr_name = program.attrs[*attr as usize].name.clone();
                events.push(Event::Invalid {
                    attr: attr_name.clone(),
                    kind: kind_name(*kind).into(),
                    answer: input.to_string(),
                });
                events.push(Event::Say { text: reprompt(*kind).into() });
                if let Some(prompt) = prompt {
                    events.push(Event::Say { text: self.scope(s).render(prompt) });
                }
                events.push(Event::Ask { attr: attr_name, kind: kind_name(*kind).into() });
                return events;
            }
        }
        let resume = ResumePoint { node: s.node, pc: s.pc, was_new: false };
        self.run(s, &mut events, resume).await;
        events
    }

    /// Make one API call as the flow would (templates, retries, saves applied to `s`).
    pub async fn call_api(&self, s: &mut Session, api: ApiId) -> CallReport {
        let Some(api_def) = self.inner.program.apis.get(api as usize) else {
            let event = Event::RuntimeError { message: format!("no API with id {api}") };
            return CallReport { event, body: None, saved: Vec::new() };
        };
        if let Err(event) = self.fit(s) {
            return CallReport { event, body: None, saved: Vec::new() };
        }
        let (event, body) = self.call(s, api).await;
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
            String::from_utf8_lossy(&b[..cut]).into_owned()
        });
        CallReport { event, body, saved }
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
                message: format!("the session is at node id {}, which this program does not have", s.node),
            })
        }
    }

    fn scope<'a>(&'a self, s: &'a Session) -> Scope<'a> {
        Scope { session: s, regexes: &self.inner.regexes }
    }

    /// Run from `s.node`/`s.pc` until an `ask`, a close or the step limit.
    async fn run(&self, s: &mut Session, events: &mut Vec<Event>, resume: ResumePoint) {
        let program = &*self.inner.program;
        let config = &self.inner.config;
        let mut entries: u32 = 0;
        loop {
            let node = &program.nodes[s.node as usize];
            if s.pc == 0 {
                entries += 1;
                if entries > config.max_steps {
                    self.stop_turn(s, events, resume, &node.name);
                    return;
                }
                if config.trace {
                    events.push(Event::NodeEntered { node: node.name.clone() });
                }
            }
            let Some(stmt) = node.stmts.get(s.pc as usize) else {
                close(s, events);
                return;
            };
            s.pc += 1;
            match stmt {
                Stmt::Say(t) => events.push(Event::Say { text: self.scope(s).render(t) }),
                Stmt::Ask { attr, kind, prompt } => {
                    if let Some(p) = prompt {
                        events.push(Event::Say { text: self.scope(s).render(p) });
                    }
                    let attr = program.attrs[*attr as usize].name.clone();
                    events.push(Event::Ask { attr, kind: kind_name(*kind).into() });
                    s.state = SessionState::Waiting;
                    return;
                }
                Stmt::Set { attr, value } => {
                    let v = self.scope(s).eval(value).into_value();
                    s.attrs[*attr as usize] = v;
                }
                Stmt::Call(api) => {
                    let (event, _) = self.call(s, *api).await;
                    events.push(event);
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
            }
        }
    }

    fn branch(&self, s: &Session, table: &ir::BranchTable, node: &str, events: &mut Vec<Event>) -> NodeId {
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

    /// The step limit was hit: report it and put the session back where the turn began, so the
    /// next message is handled like the one that started this turn (a session that was not
    /// started yet is started again).
    fn stop_turn(&self, s: &mut Session, events: &mut Vec<Event>, resume: ResumePoint, node: &str) {
        events.push(Event::RuntimeError {
            message: format!(
                "step limit reached: more than {} node entries in one turn (last entered node `{node}`); \
                 the turn was stopped",
                self.inner.config.max_steps
            ),
        });
        s.node = resume.node;
        s.pc = resume.pc;
        s.state = if resume.was_new { SessionState::New } else { SessionState::Waiting };
    }

    /// Send one API request and apply its result to the session.
    async fn call(&self, s: &mut Session, api_id: ApiId) -> (Event, Option<Vec<u8>>) {
        let api = &self.inner.program.apis[api_id as usize];
        let prepared = self.inner.http.prepare(api, &self.scope(s));
        let outcome = match prepared {
            Ok((request, display_url)) => self.inner.http.send(request, display_url, api).await,
            Err((display_url, code)) => http::Outcome {
                display_url,
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
                s.sys.insert("api_error".into(), Value::Text(code.into()));
            }
            None => {
                s.sys.remove("api_error");
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
        (event, outcome.body)
    }
}

/// Run the API's `save`s on a JSON answer; a non-JSON or empty answer saves nothing.
fn apply_saves(s: &mut Session, api: &ir::Api, body: &[u8]) {
    if api.saves.is_empty() {
        return;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else { return };
    for save in &api.saves {
        s.attrs[save.attr as usize] = http::lookup(&json, &save.path).map(http::from_json);
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
    if readable {
        Ok(())
    } else {
        Err(LoadError::UnsupportedVersion {
            found: p.format_version,
            min: ir::MIN_READ_VERSION,
            max: ir::FORMAT_VERSION,
        })
    }
}

fn compile_regexes(p: &Program) -> Result<HashMap<String, Regex>, LoadError> {
    let mut patterns = Vec::new();
    for node in &p.nodes {
        for stmt in &node.stmts {
            match stmt {
                Stmt::Set { value, .. } => collect_patterns(value, &mut patterns),
                Stmt::Branch(t) => t.arms.iter().for_each(|a| collect_patterns(&a.cond, &mut patterns)),
                _ => {}
            }
        }
    }
    let mut out = HashMap::new();
    for pattern in patterns {
        if out.contains_key(pattern) {
            continue;
        }
        let re = Regex::new(pattern)
            .map_err(|e| LoadError::BadRegex { pattern: pattern.into(), message: e.to_string() })?;
        out.insert(pattern.to_string(), re);
    }
    Ok(out)
}

/// Every index in the program must point at something, so the interpreter can index freely.
fn check_references(p: &Program) -> Result<(), LoadError> {
    let (nodes, apis, attrs) = (p.nodes.len(), p.apis.len(), p.attrs.len());
    let bad = |what: &str, id: u32| Err(LoadError::BadReference(format!("{what} id {id} is out of range")));
    let node_ok = |id: NodeId| if (id as usize) < nodes { Ok(()) } else { bad("node", id) };
    let attr_ok = |id: u32| if (id as usize) < attrs { Ok(()) } else { bad("attribute", id) };
    let template_ok = |t: &Template| t.parts.iter().try_for_each(|part| match part {
        TemplatePart::Attr(a) => attr_ok(*a),
        _ => Ok(()),
    });
    node_ok(p.bot.start)?;
    for api in &p.apis {
        template_ok(&api.url)?;
        api.headers.iter().try_for_each(|h| template_ok(&h.value))?;
        match &api.body {
            Some(RequestBody::Text(t)) => template_ok(t)?,
            Some(RequestBody::Json(j)) => json_ok(j, &template_ok)?,
            None => {}
        }
        api.saves.iter().try_for_each(|s| attr_ok(s.attr))?;
    }
    for node in &p.nodes {
        for stmt in &node.stmts {
            match stmt {
                Stmt::Say(t) => template_ok(t)?,
                Stmt::Ask { attr, prompt, .. } => {
                    attr_ok(*attr)?;
                    prompt.iter().try_for_each(&template_ok)?;
                }
                Stmt::Set { attr, value } => {
                    attr_ok(*attr)?;
                    expr_ok(value, &attr_ok)?;
                }
                Stmt::Call(api) if (*api as usize) >= apis => return bad("API", *api),
                Stmt::Call(_) | Stmt::Close => {}
                Stmt::Branch(t) => {
                    node_ok(t.otherwise)?;
                    for arm in &t.arms {
                        node_ok(arm.target)?;
                        expr_ok(&arm.cond, &attr_ok)?;
                    }
                }
                Stmt::Goto(n) => node_ok(*n)?,
            }
        }
    }
    Ok(())
}

fn json_ok(j: &JsonTemplate, template_ok: &dyn Fn(&Template) -> Result<(), LoadError>) -> Result<(), LoadError> {
    match j {
        JsonTemplate::Object(fields) => fields.iter().try_for_each(|(_, v)| json_ok(v, template_ok)),
        JsonTemplate::Array(items) => items.iter().try_for_each(|v| json_ok(v, template_ok)),
        JsonTemplate::String(t) => template_ok(t),
        _ => Ok(()),
    }
}

fn expr_ok(e: &Expr, attr_ok: &dyn Fn(u32) -> Result<(), LoadError>) -> Result<(), LoadError> {
    match e {
        Expr::Attr(a) => attr_ok(*a),
        Expr::Lit(_) | Expr::Status | Expr::Sys(_) => Ok(()),
        Expr::Not(x) | Expr::IsSet(x) | Expr::InRange(x, _, _) | Expr::Matches(x, _) => expr_ok(x, attr_ok),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) | Expr::Text(_, a, b) => {
            expr_ok(a, attr_ok)?;
            expr_ok(b, attr_ok)
        }
        Expr::InList(x, items) => {
            expr_ok(x, attr_ok)?;
            items.iter().try_for_each(|i| expr_ok(i, attr_ok))
        }
    }
}

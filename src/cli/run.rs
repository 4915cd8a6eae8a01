//! `chatflow run`: a conversation in the terminal.
//!
//! Bot lines are printed as `bot> ...`, the prompt is `you> `. When stdin is not a terminal
//! (piped input), each line read is echoed after the prompt so the output reads as a
//! transcript. With `--trace`, each turn's nodes, conditions and API calls follow on stderr,
//! each line starting with `trace: `.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, BufReader};

use chatflow::diagnostic::did_you_mean;
use chatflow::ir::{show_arm, Program, Stmt};
use chatflow::runtime::{Engine, EngineConfig, Event, SessionState};
use chatflow::testing::{answer_for, parse_stub_file, secret_names, StubServer};

use super::show::show_event;
use super::terminal::terminal_safe;
use super::{compile_for_use, usage_error, SessionArgs, FAILED};

/// What `chatflow run` was asked for.
pub struct RunOptions {
    pub trace: bool,
    pub max_steps: u32,
    pub stubs: Option<String>,
    /// Use the fixed one-time code instead of a random one.
    pub otp_code: bool,
    pub session: SessionArgs,
}

pub async fn run(file: &str, options: &RunOptions) -> ExitCode {
    let trace = options.trace;
    let program = match compile_for_use(file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let program = Arc::new(program);
    let server = match start_stubs(options.stubs.as_deref(), &program).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let secrets = match load_secrets(options.session.secrets.as_deref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let config = EngineConfig {
        max_steps: options.max_steps,
        trace,
        fixed_otp: options.otp_code,
        ..options
            .session
            .apply(engine_config(&program, server.as_ref(), secrets))
    };
    let engine = match Engine::new(program.clone(), config) {
        Ok(e) => e,
        Err(e) => return usage_error(&format!("cannot load `{file}`: {e}")),
    };
    converse(&engine, trace).await
}

async fn converse(engine: &Engine, trace: bool) -> ExitCode {
    let interactive = std::io::stdin().is_terminal();
    let mut session = engine.new_session();
    let events = engine.start(&mut session).await;
    show_turn(engine.program(), &events, trace);
    let mut stdin = BufReader::new(tokio::io::stdin());
    while !matches!(session.state, SessionState::Closed | SessionState::Failed) {
        if interactive {
            out!("you> ");
        }
        // Bytes, not `String`: a line that is not UTF-8 is still a message (lossily decoded).
        let mut bytes = Vec::new();
        match stdin.read_until(b'\n', &mut bytes).await {
            Ok(0) => {
                if interactive {
                    outln!();
                }
                break;
            }
            Ok(_) => {}
            Err(e) => return usage_error(&format!("cannot read stdin: {e}")),
        }
        let text = String::from_utf8_lossy(&bytes);
        let line = text.trim_end_matches('\n').trim_end_matches('\r');
        if !interactive {
            outln!("you> {line}");
        }
        let events = engine.step(&mut session, line).await;
        show_turn(engine.program(), &events, trace);
    }
    if session.state == SessionState::Failed {
        errln!("error: the conversation failed: its opening turn stopped on a runtime error");
        return ExitCode::from(FAILED);
    }
    ExitCode::SUCCESS
}

/// Prints the bot's side of a turn on stdout, then its trace on stderr.
fn show_turn(program: &Program, events: &[Event], trace: bool) {
    // What a bot or an API says never drives the terminal (control characters escaped).
    for event in events {
        if let Some(text) = show_event(event) {
            out!("{}", terminal_safe(&text));
        }
    }
    if trace {
        for event in events {
            if let Some(line) = trace_line(program, event) {
                errln!("trace: {}", terminal_safe(&line));
            }
        }
    }
}

/// One trace line for an event, or `None` for events already shown.
pub fn trace_line(program: &Program, event: &Event) -> Option<String> {
    match event {
        Event::NodeEntered { node } => Some(format!("entered {node}")),
        Event::Returned { node } => Some(format!("returned to {node}")),
        Event::Fallback { node } => Some(format!("{node}: no option matched; fallback")),
        Event::Condition {
            node,
            arm,
            result,
            target,
        } => Some(format!(
            "{node}: {} -> {target}: {result}",
            arm_label(program, node, *arm)
        )),
        Event::ApiCall { .. } => Some(api_call_line(event)),
        Event::Invalid { attr, kind, answer } => Some(format!(
            "refused {answer:?} for {attr} (not a valid {kind})"
        )),
        Event::Ask { attr, kind } => Some(format!("waiting for {attr} ({kind})")),
        Event::Goal { name, count } => {
            let times = if *count == 1 { "time" } else { "times" };
            Some(format!(
                "goal {name} reached ({count} {times} in this conversation)"
            ))
        }
        Event::Say { .. }
        | Event::Closed
        | Event::RuntimeError { .. }
        | Event::Profile { .. }
        | Event::Choices { .. }
        | Event::Carousel { .. }
        | Event::Email { .. }
        | Event::Form { .. }
        | Event::Media { .. }
        | Event::Transfer { .. }
        | Event::Forwarded { .. } => None,
    }
}

/// `if status == 200`, `elif city == "Oslo"`, `else`: the arm as the flow wrote it.
fn arm_label(program: &Program, node: &str, arm: usize) -> String {
    let table = program.nodes.iter().find(|n| n.name == node).and_then(|n| {
        n.stmts.iter().find_map(|s| match s {
            Stmt::Branch(table) => Some(table),
            _ => None,
        })
    });
    match table {
        Some(table) => show_arm(program, table, arm),
        None => format!("arm {arm}"),
    }
}

/// `call weather: GET https://... -> 200 in 12 ms (1 attempt)`.
pub fn api_call_line(event: &Event) -> String {
    let Event::ApiCall {
        api,
        method,
        url,
        status,
        error,
        latency_ms,
        attempts,
    } = event
    else {
        return String::new();
    };
    let outcome = match (status, error) {
        (0, Some(why)) => format!("no response ({why})"),
        (0, None) => "no response".to_string(),
        (s, _) => s.to_string(),
    };
    let plural = if *attempts == 1 { "" } else { "s" };
    format!(
        "call {api}: {method} {url} -> {outcome} in {latency_ms} ms ({attempts} attempt{plural})"
    )
}

/// Starts the stub server of `--stubs`, checking its API names against the flow.
pub async fn start_stubs(
    path: Option<&str>,
    program: &Program,
) -> Result<Option<StubServer>, ExitCode> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage_error(&format!("cannot read `{path}`: {e}")))?;
    let mut answers =
        parse_stub_file(&text).map_err(|e| usage_error(&format!("bad stub file `{path}`: {e}")))?;
    let names: Vec<&str> = program.apis.iter().map(|a| a.name.as_str()).collect();
    for (api, script) in answers.iter_mut() {
        if let Some(def) = program.apis.iter().find(|a| &a.name == api) {
            for answer in script.iter_mut() {
                *answer = answer_for(def, answer.clone());
            }
            continue;
        }
        let hint = did_you_mean(api, names.iter().copied())
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return Err(usage_error(&format!(
            "stub file `{path}` answers `{api}`, which the flow does not define{hint}"
        )));
    }
    StubServer::start(answers)
        .await
        .map(Some)
        .map_err(|e| usage_error(&format!("cannot start the stub server: {e}")))
}

/// The secrets `run`, `call` and `serve` send: the `CHATFLOW_SECRET_NAME` variables of the
/// environment, then those of the `--secrets` file (which wins for a name in both). No other
/// variable is ever a secret.
pub fn load_secrets(file: Option<&str>) -> Result<HashMap<String, String>, ExitCode> {
    let mut secrets = chatflow::runtime::secrets_from_env();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage_error(&format!("cannot read `{path}`: {e}")))?;
        let from_file = chatflow::runtime::parse_secrets_file(&text)
            .map_err(|e| usage_error(&format!("bad secrets file `{path}`: {e}")))?;
        secrets.extend(from_file);
    }
    Ok(secrets)
}

/// The engine settings for `run`, `call` and `serve`, with these secrets. With a stub server,
/// requests go there and a secret not given gets a placeholder, so the flow runs offline.
pub fn engine_config(
    program: &Program,
    server: Option<&StubServer>,
    mut secrets: HashMap<String, String>,
) -> EngineConfig {
    let redirect_base = server.map(|server| {
        for name in secret_names(program) {
            let placeholder = format!("stub-secret-{name}");
            secrets.entry(name).or_insert(placeholder);
        }
        server.base_url().to_string()
    });
    EngineConfig {
        redirect_base,
        secrets: Some(Arc::new(secrets)),
        ..EngineConfig::default()
    }
}

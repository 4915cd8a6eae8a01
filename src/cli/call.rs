//! `chatflow call`: one API request as the flow would build it, its answer, and the saves.
//! What is printed of the request comes from the runtime, which reports what it sent.

use std::process::ExitCode;
use std::sync::Arc;

use chatflow::diagnostic::did_you_mean;
use chatflow::ir::{show_value, Program, Value, ValueType};
use chatflow::runtime::{CallReport, Engine, Event};

use super::run::{engine_config, load_secrets, start_stubs};
use super::terminal::terminal_safe;
use super::{compile_for_use, usage_error, FAILED};

pub async fn call(
    file: &str,
    api: &str,
    sets: &[String],
    stubs: Option<&str>,
    secrets: Option<&str>,
) -> ExitCode {
    let program = match compile_for_use(file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let program = Arc::new(program);
    let Some(api_id) = program.apis.iter().position(|a| a.name == api) else {
        let hint = did_you_mean(api, program.apis.iter().map(|a| a.name.as_str()))
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return usage_error(&format!("`{file}` defines no API `{api}`{hint}"));
    };
    let values = match parse_sets(&program, sets) {
        Ok(v) => v,
        Err(message) => return usage_error(&message),
    };
    let server = match start_stubs(stubs, &program).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let secrets = match load_secrets(secrets) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let config = engine_config(&program, server.as_ref(), secrets);
    let engine = match Engine::new(program.clone(), config) {
        Ok(e) => e,
        Err(e) => return usage_error(&format!("cannot load `{file}`: {e}")),
    };
    let mut session = engine.new_session();
    for (attr, value) in values {
        if session.attrs.len() <= attr {
            session.attrs.resize(attr + 1, None);
        }
        session.attrs[attr] = Some(value);
    }
    let report = engine.call_api(&mut session, api_id as u32).await;
    print_request(&report);
    print_answer(&report.event, report.body.as_deref());
    for (attr, value) in &report.saved {
        let shown = engine.mask_secrets(&show_value(value.as_ref()));
        outln!("save {attr} = {}", terminal_safe(&shown));
    }
    match report.event {
        Event::ApiCall { status, .. } if status != 0 => ExitCode::SUCCESS,
        Event::RuntimeError { message } => usage_error(&message),
        _ => ExitCode::from(FAILED),
    }
}

/// `attr=value` pairs: a value is a number when the attribute is a number, else text.
fn parse_sets(program: &Program, sets: &[String]) -> Result<Vec<(usize, Value)>, String> {
    let mut values = Vec::new();
    for set in sets {
        let Some((name, raw)) = set.split_once('=') else {
            return Err(format!("`--set {set}`: expected ATTR=VALUE"));
        };
        let name = name.trim();
        let Some(attr) = program.attrs.iter().position(|a| a.name == name) else {
            let hint = did_you_mean(name, program.attrs.iter().map(|a| a.name.as_str()))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(format!(
                "`--set {set}`: the flow has no attribute `{name}`{hint}"
            ));
        };
        let value = match program.attrs[attr].ty {
            ValueType::Number => raw
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|_| chatflow::ir::Number::parse(raw.trim()))
                .map(Value::Number)
                .ok_or_else(|| format!("`--set {set}`: `{name}` is a number, `{raw}` is not"))?,
            ValueType::Bool => match raw.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(format!("`--set {set}`: `{name}` is true or false")),
            },
            ValueType::Text | ValueType::Any => Value::Text(raw.to_string()),
        };
        values.push((attr, value));
    }
    Ok(values)
}

/// The request as the runtime sent it (secrets already masked there): `GET url`, the headers,
/// the body. A request that could not be built shows only what the event knows.
fn print_request(report: &CallReport) {
    match (&report.request, &report.event) {
        (Some(request), _) => {
            outln!("{} {}", request.method, terminal_safe(&request.url));
            for (name, value) in &request.headers {
                outln!("{name}: {}", terminal_safe(value));
            }
            if let Some(body) = &request.body {
                outln!("\n{}\n", terminal_safe(body));
            }
        }
        (None, Event::ApiCall { method, url, .. }) => {
            outln!("{method} {} (not sent)", terminal_safe(url))
        }
        (None, _) => {}
    }
}

/// The status line and the body, pretty when it is JSON.
fn print_answer(event: &Event, body: Option<&str>) {
    if let Event::ApiCall {
        status,
        error,
        latency_ms,
        attempts,
        ..
    } = event
    {
        let plural = if *attempts == 1 { "" } else { "s" };
        match (status, error) {
            (0, why) => outln!(
                "status: 0, no response ({}) after {latency_ms} ms, {attempts} attempt{plural}",
                why.as_deref().unwrap_or("unknown error")
            ),
            (s, _) => outln!("status: {s} in {latency_ms} ms, {attempts} attempt{plural}"),
        }
    }
    let Some(body) = body.filter(|b| !b.is_empty()) else {
        outln!("(empty body)");
        return;
    };
    // JSON is printed pretty, so its strings stay escaped; other text gets its control
    // characters escaped.
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => outln!(
            "{}",
            terminal_safe(
                &serde_json::to_string_pretty(&json).unwrap_or_else(|_| body.to_string())
            )
        ),
        Err(_) => outln!("{}", terminal_safe(body)),
    }
}

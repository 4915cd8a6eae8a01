//! `chatflow call`: one API request as the flow would build it, its answer, and the saves.

use std::process::ExitCode;
use std::sync::Arc;

use chatflow::diagnostic::did_you_mean;
use chatflow::ir::{
    show_value, JsonTemplate, Program, RequestBody, Template, TemplatePart, Value, ValueType,
};
use chatflow::runtime::{Engine, Event, Session};
use chatflow::testing::secret_names;

use super::run::{engine_config, start_stubs};
use super::{compile_for_use, usage_error, FAILED};

pub async fn call(file: &str, api: &str, sets: &[String], stubs: Option<&str>) -> ExitCode {
    let compiled = match compile_for_use(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(program) = compiled.program else {
        return ExitCode::from(FAILED);
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
    let engine = match Engine::new(program.clone(), engine_config(&program, server.as_ref())) {
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
    let secrets = secret_values(&engine);
    print_request(&program, api_id, &session, &report.event, &secrets);
    print_answer(&report.event, report.body.as_deref());
    for (attr, value) in &report.saved {
        outln!("save {attr} = {}", show_value(value.as_ref()));
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
                .filter(|n| n.is_finite())
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

/// `GET url`, the headers and the body, secrets masked as `***`.
fn print_request(
    program: &Program,
    api_id: usize,
    session: &Session,
    event: &Event,
    secrets: &[String],
) {
    if let Event::ApiCall { method, url, .. } = event {
        let mut url = url.clone();
        for secret in secrets {
            url = url.replace(secret.as_str(), "***");
        }
        outln!("{method} {url}");
    }
    let api = &program.apis[api_id];
    for header in &api.headers {
        outln!("{}: {}", header.name, masked(&header.value, session));
    }
    match &api.body {
        Some(RequestBody::Text(t)) => outln!("\n{}\n", masked(t, session)),
        Some(RequestBody::Json(j)) => {
            let json = json_body(j, session);
            outln!(
                "\n{}\n",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
        }
        None => {}
    }
}

/// The `json {}` body as it is sent (secrets masked).
fn json_body(template: &JsonTemplate, session: &Session) -> serde_json::Value {
    use serde_json::Value as J;
    match template {
        JsonTemplate::Object(fields) => J::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), json_body(v, session)))
                .collect(),
        ),
        JsonTemplate::Array(items) => {
            J::Array(items.iter().map(|v| json_body(v, session)).collect())
        }
        JsonTemplate::String(t) => J::String(masked(t, session)),
        JsonTemplate::Number(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        JsonTemplate::Bool(b) => J::Bool(*b),
        JsonTemplate::Null => J::Null,
    }
}

/// The values of the flow's secrets, to mask them wherever they might be printed.
fn secret_values(engine: &Engine) -> Vec<String> {
    let names = secret_names(engine.program());
    names
        .iter()
        .filter_map(|name| match &engine.config().secrets {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        })
        .filter(|v| !v.is_empty())
        .flat_map(|v| {
            let encoded =
                percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            [v, encoded]
        })
        .collect()
}

/// A header template filled from the session, with every secret shown as `***`.
fn masked(template: &Template, session: &Session) -> String {
    let mut out = String::new();
    for part in &template.parts {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Attr(id) => {
                let value = session.attrs.get(*id as usize).and_then(Option::as_ref);
                out.push_str(&plain(value));
            }
            TemplatePart::Status => {
                out.push_str(&session.status.map(|s| s.to_string()).unwrap_or_default())
            }
            TemplatePart::Sys(name) => out.push_str(&plain(session.sys.get(name))),
            TemplatePart::Secret(_) => out.push_str("***"),
            // Only in dynamic-data labels, never in an API's templates.
            TemplatePart::Item(_) => {}
        }
    }
    out
}

/// A value as a template inserts it: unset is empty, text is unquoted.
fn plain(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => chatflow::vocab::number_text(*n),
        Some(Value::Text(t)) => t.clone(),
        Some(v @ (Value::List(_) | Value::Map(_))) => serde_json::to_string(v).unwrap_or_default(),
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
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => outln!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_else(|_| body.to_string())
        ),
        Err(_) => outln!("{body}"),
    }
}

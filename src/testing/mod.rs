//! Running a flow's `test` blocks, and the stub server they (and `chatflow run --stubs`) use.
//!
//! Each test gets its own [`StubServer`] on 127.0.0.1 and its own engine whose
//! `redirect_base` points at it, so the requests the flow builds are really sent over HTTP.
//! [`coverage`] measures what the tests reached, from the trace events they recorded.

// The stub server needs axum and a tokio reactor; the runner and coverage need the stub server.
#[cfg(feature = "stub-server")]
pub mod coverage;
#[cfg(feature = "stub-server")]
mod expect;
#[cfg(feature = "stub-server")]
mod report;
#[cfg(feature = "stub-server")]
mod runner;
#[cfg(feature = "stub-server")]
mod stub;

#[cfg(feature = "stub-server")]
pub use report::{closing_line, render_outcome, summary_line, uncompiled_line};
#[cfg(feature = "stub-server")]
pub use runner::{run_tests, Failure, TestOptions, TestOutcome, TEST_SECRET_PREFIX};
#[cfg(feature = "stub-server")]
pub use stub::{answer_for, parse_stub_file, RecordedRequest, StubScript, StubServer};

use crate::ir::{JsonTemplate, Program, RequestBody, Template, TemplatePart};

/// Names of every `{secret.NAME}` the program's APIs use, sorted, without repeats.
pub fn secret_names(program: &Program) -> Vec<String> {
    let mut names = Vec::new();
    for api in &program.apis {
        collect_secrets(&api.url, &mut names);
        for header in &api.headers {
            collect_secrets(&header.value, &mut names);
        }
        match &api.body {
            Some(RequestBody::Text(t)) => collect_secrets(t, &mut names),
            Some(RequestBody::Json(j) | RequestBody::Form(j)) => {
                collect_json_secrets(j, &mut names)
            }
            None => {}
        }
    }
    names.sort();
    names.dedup();
    names
}

fn collect_secrets(template: &Template, names: &mut Vec<String>) {
    for part in &template.parts {
        if let TemplatePart::Secret(name) = part {
            names.push(name.clone());
        }
    }
}

fn collect_json_secrets(json: &JsonTemplate, names: &mut Vec<String>) {
    match json {
        JsonTemplate::Object(fields) => fields
            .iter()
            .for_each(|(_, v)| collect_json_secrets(v, names)),
        JsonTemplate::Array(items) => items.iter().for_each(|v| collect_json_secrets(v, names)),
        JsonTemplate::String(t) => collect_secrets(t, names),
        JsonTemplate::Number(_)
        | JsonTemplate::Bool(_)
        | JsonTemplate::Null
        | JsonTemplate::Value(_) => {}
    }
}

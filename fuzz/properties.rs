//! The properties the fuzz targets check, shared by the cargo-fuzz targets of `fuzz_targets/`
//! (nightly, libFuzzer) and by `tests/security/fuzz.rs` (stable, bounded, in CI), so both
//! check the same thing. Each returns why the property broke; a panic is a failure too.

// Each fuzz target includes this file for one property.
#![allow(dead_code)]

use chatflow::ir::PathStep;
use chatflow::syntax::format::format_source;

/// Parsing any text returns, never panics.
pub fn parse(text: &str) -> Result<(), String> {
    let _ = chatflow::syntax::parse(text);
    Ok(())
}

/// Compiling any text returns diagnostics that render, as text and as JSON lines, in bounded
/// size (a short excerpt of the source, never an echo of all of it).
pub fn compile(text: &str) -> Result<(), String> {
    let compiled = chatflow::compile::compile_str("fuzz.flow", text);
    let shown = chatflow::diagnostic::render(&compiled.diagnostics, &compiled.sources, false);
    for d in &compiled.diagnostics {
        let _ = chatflow::diagnostic::to_json_line(d, &compiled.sources);
    }
    if shown.len() > 64 * 1024 + 4 * text.len() {
        return Err(format!("{} bytes of diagnostics", shown.len()));
    }
    Ok(())
}

/// A template (the first line may give `city`'s value, `city=...`) renders at run time.
pub fn template(text: &str) -> Result<(), String> {
    let (value, template) = match text.split_once('\n') {
        Some((first, rest)) => (first.strip_prefix("city=").unwrap_or(""), rest),
        None => ("", text),
    };
    let literal: String = template
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            '\n' => vec!['\\', 'n'],
            c => vec![c],
        })
        .collect();
    let value: String = value.chars().filter(|c| *c != '"' && *c != '\\').collect();
    let src = format!("node a {{\n  set city = \"{value}\"\n  say \"{literal}\"\n  close\n}}\n");
    let compiled = chatflow::compile::compile_str("fuzz.flow", &src);
    let Some(program) = compiled.program else {
        return Ok(());
    };
    let engine = chatflow::runtime::Engine::new(
        std::sync::Arc::new(program),
        chatflow::runtime::EngineConfig::default(),
    )
    .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let mut s = engine.new_session();
        let _ = engine.start(&mut s).await;
    });
    Ok(())
}

/// A save path (`main.temp`, `list[2].name`) on the first line, looked up in the JSON answer
/// after it, returns, and the value it finds converts.
pub fn json_path(text: &str) -> Result<(), String> {
    let (path, json) = text.split_once('\n').unwrap_or((text, "null"));
    let Ok(json) = serde_json::from_str::<serde_json::Value>(json) else {
        return Ok(());
    };
    let steps: Vec<PathStep> = path
        .split(['.', '['])
        .filter(|s| !s.is_empty())
        .map(|s| match s.trim_end_matches(']').parse::<usize>() {
            Ok(i) if s.ends_with(']') => PathStep::Index(i),
            _ => PathStep::Field(s.to_string()),
        })
        .collect();
    if let Some(v) = chatflow::runtime::http::lookup(&json, &steps) {
        let _ = chatflow::runtime::http::from_json(v);
    }
    Ok(())
}

/// parse -> format -> parse: formatting a flow that parses gives a flow that parses, and
/// formatting that again changes nothing.
pub fn roundtrip(text: &str) -> Result<(), String> {
    let Ok(once) = format_source(text) else {
        return Ok(());
    };
    let twice =
        format_source(&once).map_err(|_| format!("the formatted flow does not parse:\n{once}"))?;
    if once != twice {
        return Err(format!(
            "formatting is not idempotent:\n{once}\n---\n{twice}"
        ));
    }
    Ok(())
}

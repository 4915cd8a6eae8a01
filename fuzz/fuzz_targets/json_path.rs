#![no_main]
//! Input: a save path (`main.temp`, `list[2].name`) on the first line, a JSON answer after it.
use libfuzzer_sys::fuzz_target;

use chatflow::ir::PathStep;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path, json) = text.split_once('\n').unwrap_or((text, "null"));
    let Ok(json) = serde_json::from_str::<serde_json::Value>(json) else { return };
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
});

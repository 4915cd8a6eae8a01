#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let compiled = chatflow::compile::compile_str("fuzz.flow", text);
        let _ = chatflow::diagnostic::render(&compiled.diagnostics, &compiled.sources, false);
        for d in &compiled.diagnostics {
            let _ = chatflow::diagnostic::to_json_line(d, &compiled.sources);
        }
    }
});

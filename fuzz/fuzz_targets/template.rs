#![no_main]
//! Input: a template text; the first line may give `city`'s value (`city=...`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
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
    let Some(program) = compiled.program else { return };
    let Ok(engine) = chatflow::runtime::Engine::new(
        std::sync::Arc::new(program),
        chatflow::runtime::EngineConfig::default(),
    ) else {
        return;
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_time().build() else {
        return;
    };
    rt.block_on(async {
        let mut s = engine.new_session();
        let _ = engine.start(&mut s).await;
    });
});

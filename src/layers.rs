//! The crate's layers point one way. Each top-level module may use only the modules listed
//! before it here; this test reads every `crate::` path in `src/` and fails on one that
//! points up (or sideways into a later module), so a cycle cannot come back unnoticed.

use std::path::Path;

/// Bottom first. The command-line binary (`src/cli`, `src/main.rs`) sits on top of all.
const LAYERS: &[&str] = &[
    "source",
    "vocab",
    "nlu",
    "address",
    "diagnostic",
    "syntax",
    "ir",
    "compile",
    "runtime",
    "channels",
    "graph",
    "testing",
    "report",
    "store",
    "serve",
    "lsp",
];

/// The top-level modules a Rust file names through `crate::…` (including `crate::{a, b}`).
fn used_modules(text: &str) -> Vec<String> {
    let mut used = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let names = match rest.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or("").to_string(),
            None => rest.to_string(),
        };
        for item in names.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.push(name);
            }
            if !rest.starts_with('{') {
                break;
            }
        }
    }
    used
}

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for entry in entries {
            rust_files(&entry, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

#[test]
fn each_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for (rank, module) in LAYERS.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&src.join(format!("{module}.rs")), &mut files);
        rust_files(&src.join(module), &mut files);
        assert!(!files.is_empty(), "no source for module `{module}`");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for used in used_modules(&text) {
                let allowed = LAYERS[..=rank].contains(&used.as_str());
                if !allowed && LAYERS.contains(&used.as_str()) {
                    wrong.push(format!("{} uses crate::{used}", file.display()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "layers pointing up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let lib = include_str!("lib.rs");
    for line in lib.lines() {
        if let Some(name) = line.strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';');
            assert!(LAYERS.contains(&name), "`{name}` is in no layer");
        }
    }
}

#[test]
fn grouped_and_nested_paths_are_read() {
    let text = "use crate::{ir::Value, source::Span};\nuse crate::graph::build;";
    assert_eq!(used_modules(text), ["ir", "source", "graph"]);
}

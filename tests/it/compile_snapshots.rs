//! Snapshot tests driven by input files: every `tests/inputs/ok/*.flow` compiles and pins its
//! IR; every `tests/inputs/err/*.flow` pins its rendered diagnostics (no colour).
//! Companion files for imports live in subdirectories, which the globs do not enter.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chatflow::compile::{check_with, compile_with, Compiled, Loader};
use chatflow::diagnostic::{render, Code, Scope};

/// Reads paths relative to the crate root, so file names in snapshots are the same on
/// every machine.
struct RepoLoader;

impl Loader for RepoLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        std::fs::read_to_string(full).map_err(|e| e.kind().to_string())
    }
}

fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn compile(path: &Path) -> Compiled {
    compile_with(&relative(path), &RepoLoader)
}

fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/inputs")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("inputs directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .collect();
    files.sort();
    files
}

#[test]
fn ok_inputs_compile_and_pin_their_ir() {
    insta::glob!("../inputs/ok", "*.flow", |path| {
        let compiled = compile(path);
        // Ok inputs are clean: not even a warning (warning cases live under err/).
        assert!(
            compiled.diagnostics.is_empty(),
            "{} should compile without diagnostics:\n{}",
            path.display(),
            render(&compiled.diagnostics, &compiled.sources, false)
        );
        let program = compiled
            .program
            .as_ref()
            .expect("a program when there are no errors");
        insta::assert_snapshot!(serde_json::to_string_pretty(program).expect("IR serialises"));
    });
}

#[test]
fn err_inputs_pin_their_diagnostics() {
    insta::glob!("../inputs/err", "*.flow", |path| {
        let compiled = compile(path);
        assert!(
            !compiled.diagnostics.is_empty(),
            "{} should have at least one diagnostic",
            path.display()
        );
        for d in &compiled.diagnostics {
            assert!(
                d.help.is_some(),
                "{} has no help line in {}",
                d.code,
                path.display()
            );
            assert!(
                !d.label.is_empty(),
                "{} has no label in {}",
                d.code,
                path.display()
            );
        }
        if compiled.diagnostics.iter().any(|d| d.is_error()) {
            assert!(
                compiled.program.is_none(),
                "errors must withhold the program"
            );
        } else {
            assert!(
                compiled.program.is_some(),
                "warnings alone must still give a program"
            );
        }
        insta::assert_snapshot!(render(&compiled.diagnostics, &compiled.sources, false));
    });
}

/// Each err input is named after the rule it breaks (the code's name, then optionally `_` and
/// more words), and that rule must fire.
#[test]
fn err_inputs_report_the_code_in_their_name() {
    let mut failures = Vec::new();
    for path in inputs("err") {
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let compiled = compile(&path);
        let codes: BTreeSet<Code> = compiled.diagnostics.iter().map(|d| d.code).collect();
        let named = Code::ALL
            .iter()
            .filter(|c| {
                let name = c.name().trim_start_matches("chatflow::");
                stem == name || stem.starts_with(&format!("{name}_"))
            })
            .max_by_key(|c| c.name().len());
        match named {
            Some(code) if codes.contains(code) => {}
            Some(code) => failures.push(format!("{stem} should report {code}, got {codes:?}")),
            None => failures.push(format!("{stem} names no code; it reports {codes:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_code_appears_in_some_err_input() {
    let mut seen = BTreeSet::new();
    for path in inputs("err") {
        for d in compile(&path).diagnostics {
            seen.insert(d.code);
        }
    }
    // An unreadable root cannot be an input file (`an_unreadable_root_file_is_a_diagnostic`
    // covers it); an out-of-range stub status is refused by the parser as `bad_number`, so
    // the compiler's `bad_status` guard is covered by a unit test on a hand-made AST; a
    // source over 16 MiB is no input file (tests/security covers `source_too_large`).
    let not_from_files = [Code::UnreadableFile, Code::BadStatus, Code::SourceTooLarge];
    let missing: Vec<_> = Code::ALL
        .iter()
        // `serve --config` files are no flows: tests/it/serve/channels.rs covers their codes.
        .filter(|c| c.scope() != Scope::Test && c.scope() != Scope::Config)
        .filter(|c| !seen.contains(*c) && !not_from_files.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without an err input: {missing:?}"
    );
    assert!(inputs("err").len() >= 45, "at least 45 error cases");
}

/// `chatflow check` skips lowering to IR; it must still report every diagnostic a build
/// reports, for every input and example (with imports, warnings only, errors of each phase).
#[test]
fn checking_without_lowering_reports_what_compiling_reports() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(examples)
        .expect("examples directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .collect();
    examples.sort();
    let paths: Vec<PathBuf> = inputs("ok")
        .into_iter()
        .chain(inputs("err"))
        .chain(examples)
        .collect();
    let mut warned = 0;
    for path in &paths {
        let compiled = compile(path);
        let checked = check_with(&relative(path), &RepoLoader);
        assert_eq!(
            checked.diagnostics,
            compiled.diagnostics,
            "{}",
            path.display()
        );
        assert!(checked.program.is_none(), "check builds no IR");
        warned += usize::from(compiled.program.is_some() && !compiled.diagnostics.is_empty());
    }
    assert!(warned > 0, "some input compiles with warnings");
}

#[test]
fn diagnostics_are_sorted_by_file_then_position() {
    for path in inputs("err") {
        let diags = compile(&path).diagnostics;
        for pair in diags.windows(2) {
            assert!(
                (pair[0].file, pair[0].span.start()) <= (pair[1].file, pair[1].span.start()),
                "{} is not sorted",
                path.display()
            );
        }
    }
}

#[test]
fn an_unreadable_root_file_is_a_diagnostic() {
    let compiled = compile_with("tests/inputs/no_such_file.flow", &RepoLoader);
    assert!(compiled.program.is_none());
    assert_eq!(compiled.diagnostics.len(), 1);
    assert_eq!(compiled.diagnostics[0].code, Code::UnreadableFile);
}

#[test]
fn a_file_imported_by_two_routes_is_loaded_once() {
    let compiled =
        compile(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/ok/imports_main.flow"));
    let names: Vec<&str> = compiled
        .sources
        .files
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "tests/inputs/ok/imports_main.flow",
            "tests/inputs/ok/lib/orders_api.flow",
            "tests/inputs/ok/lib/shared_nodes.flow"
        ]
    );
    let program = compiled.program.expect("compiles");
    assert_eq!(program.apis.len(), 1);
    assert_eq!(
        program.bot.start, 0,
        "the bot's start node `welcome` is the root's first node"
    );
}

#[test]
fn imported_file_errors_carry_that_files_id() {
    let compiled = compile(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/inputs/err/unknown_node_in_imported_file.flow"),
    );
    let d = &compiled.diagnostics[0];
    assert_eq!(d.code, Code::UnknownNode);
    let file = compiled.sources.get(d.file).expect("file");
    assert_eq!(file.name, "tests/inputs/err/imports/broken_lib.flow");
    assert_eq!(&file.text[d.span.start()..d.span.end()], "hepler");
}

//! `chatflow fmt`: rewrites files in the canonical layout, or with `--check` lists the ones
//! that would change.

use std::io::IsTerminal;
use std::process::ExitCode;

use chatflow::diagnostic;
use chatflow::source::SourceSet;
use chatflow::syntax::format::format_source;

use super::{ensure_readable, FAILED, USAGE};

pub fn fmt(files: &[String], check: bool) -> ExitCode {
    if files.len() == 1 && files[0] == "-" {
        return fmt_stdin(check);
    }
    if let Err(code) = ensure_readable(files) {
        return code;
    }
    let mut failed = false;
    for file in files {
        match fmt_one(file, check) {
            Ok(()) => {}
            Err(code) if code == USAGE => return ExitCode::from(USAGE),
            Err(_) => failed = true,
        }
    }
    if failed {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// `chatflow fmt -`: formats stdin to stdout (for editors); with `--check`, prints nothing
/// and exits 1 when the text would change.
fn fmt_stdin(check: bool) -> ExitCode {
    let mut bytes = Vec::new();
    let limit = chatflow::compile::max_source_bytes();
    // One byte past the limit is enough to refuse it, without holding the rest.
    let stdin = std::io::Read::take(std::io::stdin(), limit as u64 + 1);
    if let Err(e) = std::io::Read::read_to_end(&mut { stdin }, &mut bytes) {
        errln!("error: cannot read stdin: {e}");
        return ExitCode::from(USAGE);
    }
    if bytes.len() > limit {
        errln!("error: stdin is larger than the {limit} bytes allowed (`--max-source-bytes` raises the limit)");
        return ExitCode::from(USAGE);
    }
    let Ok(text) = String::from_utf8(bytes) else {
        errln!("error: stdin is not UTF-8");
        return ExitCode::from(USAGE);
    };
    match formatted("<stdin>", &text) {
        Err(code) => ExitCode::from(code),
        Ok(f) if check => ExitCode::from(if f == text { 0 } else { FAILED }),
        Ok(f) => {
            out!("{f}");
            ExitCode::SUCCESS
        }
    }
}

/// The formatted text, or the syntax diagnostics printed and exit code 1.
fn formatted(name: &str, text: &str) -> Result<String, u8> {
    format_source(text).map_err(|diags| {
        let mut sources = SourceSet::default();
        let id = sources.add(name, text);
        let diags: Vec<_> = diags.into_iter().map(|d| d.in_file(id)).collect();
        let color = std::io::stderr().is_terminal();
        err!("{}", diagnostic::render(&diags, &sources, color));
        errln!("error: `{name}` has syntax errors and was not formatted");
        FAILED
    })
}

/// Formats one file; `Err` carries the exit code it earns.
fn fmt_one(file: &str, check: bool) -> Result<(), u8> {
    let limit = chatflow::compile::max_source_bytes();
    if std::fs::metadata(file).is_ok_and(|m| m.len() > limit as u64) {
        errln!("error: `{file}` is larger than the {limit} bytes allowed (`--max-source-bytes` raises the limit)");
        return Err(USAGE);
    }
    let text = std::fs::read_to_string(file).map_err(|e| {
        errln!("error: cannot read `{file}`: {e}");
        USAGE
    })?;
    let formatted = formatted(file, &text)?;
    if formatted == text {
        return Ok(());
    }
    if check {
        outln!("{file}");
        return Err(FAILED);
    }
    std::fs::write(file, formatted).map_err(|e| {
        errln!("error: cannot write `{file}`: {e}");
        USAGE
    })
}

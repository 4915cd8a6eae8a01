//! `chatflow fmt`: rewrites files in the canonical layout, or with `--check` lists the ones
//! that would change.

use std::io::IsTerminal;
use std::process::ExitCode;

use chatflow::diagnostic::{self, SourceSet};
use chatflow::syntax::format::format_source;

use super::{ensure_readable, FAILED, USAGE};

pub fn fmt(files: &[String], check: bool) -> ExitCode {
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

/// Formats one file; `Err` carries the exit code it earns.
fn fmt_one(file: &str, check: bool) -> Result<(), u8> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        errln!("error: cannot read `{file}`: {e}");
        USAGE
    })?;
    let formatted = match format_source(&text) {
        Ok(f) => f,
        Err(diags) => {
            let mut sources = SourceSet::default();
            let id = sources.add(file, text.as_str());
            let diags: Vec<_> = diags.into_iter().map(|d| d.in_file(id)).collect();
            let color = std::io::stderr().is_terminal();
            err!("{}", diagnostic::render(&diags, &sources, color));
            errln!("error: `{file}` has syntax errors and was not formatted");
            return Err(FAILED);
        }
    };
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

//! `chatflow check` and `chatflow build`.

use std::process::ExitCode;

use chatflow::compile;

use super::{ensure_readable, report, usage_error, DiagnosticArgs, FAILED};

pub fn check(files: &[String], args: DiagnosticArgs) -> ExitCode {
    if let Err(code) = ensure_readable(files) {
        return code;
    }
    let mut failed = false;
    for file in files {
        // Diagnostics only: the IR is never built, nor held beside the tree.
        let compiled = compile::check_path(file);
        failed |= report(&compiled, args);
    }
    if failed {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn build(file: &str, output: &str, args: DiagnosticArgs) -> ExitCode {
    if let Err(code) = ensure_readable(&[file.to_string()]) {
        return code;
    }
    let compiled = compile::compile_path(file);
    let failed = report(&compiled, args);
    let Some(program) = compiled.program.filter(|_| !failed) else {
        return ExitCode::from(FAILED);
    };
    if output == "-" {
        let stdout = std::io::stdout().lock();
        return match program.write_json(stdout) {
            Ok(()) => ExitCode::SUCCESS,
            // The reader has gone away (`chatflow build x | head -1`): nobody left to tell.
            Err(e) if e.is_io() => ExitCode::from(FAILED),
            Err(e) => usage_error(&format!("cannot serialize the IR: {e}")),
        };
    }
    let written = std::fs::File::create(output)
        .map_err(serde_json::Error::io)
        .and_then(|file| program.write_json(file));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // No half-written IR is left behind for a runtime to choke on (a device such as
            // `/dev/full` stays).
            if std::fs::metadata(output).is_ok_and(|m| m.is_file()) {
                let _ = std::fs::remove_file(output);
            }
            if e.is_io() {
                usage_error(&format!("cannot write `{output}`: {e}"))
            } else {
                usage_error(&format!("cannot serialize the IR: {e}"))
            }
        }
    }
}

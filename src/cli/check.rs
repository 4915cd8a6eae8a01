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
        let compiled = compile::compile_path(file);
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
    let json = match serde_json::to_string_pretty(&program) {
        Ok(json) => json + "\n",
        Err(e) => return usage_error(&format!("cannot serialize the IR: {e}")),
    };
    if output == "-" {
        out!("{json}");
        return ExitCode::SUCCESS;
    }
    match std::fs::write(output, json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => usage_error(&format!("cannot write `{output}`: {e}")),
    }
}

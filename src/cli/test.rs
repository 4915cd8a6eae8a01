//! `chatflow test`: runs the `test` blocks of each file (and of its imports, once each);
//! with `--coverage`, then reports per file what no test reached.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use chatflow::compile;
use chatflow::testing::{
    coverage, render_outcome, run_tests, summary_line, uncompiled_line, TestOptions, TestOutcome,
};

use super::{ensure_readable, report, DiagnosticArgs, Format, SessionArgs, FAILED};

pub async fn test(
    files: &[String],
    max_steps: u32,
    coverage: bool,
    session: &SessionArgs,
) -> ExitCode {
    if let Err(code) = ensure_readable(files) {
        return code;
    }
    let color = std::io::stdout().is_terminal();
    let options = TestOptions {
        max_steps,
        smtp: session.smtp_config(),
        language: session.language.clone(),
        channel: session.last_channel(),
    };
    let platform = options
        .channel
        .as_deref()
        .and_then(chatflow::channels::Platform::from_name);
    let mut outcomes: Vec<TestOutcome> = Vec::new();
    let mut uncompiled = 0;
    let mut reports: Vec<String> = Vec::new();
    // A test block is identified by its file and position, so a file imported by several
    // of the given files runs its tests once.
    let mut seen: HashSet<(String, u32)> = HashSet::new();
    for file in files {
        let compiled = compile::compile_path(file);
        let human = DiagnosticArgs {
            format: Format::Human,
            deny_warnings: false,
        };
        let failed = report(&compiled, human);
        let Some(mut program) = compiled.program.filter(|_| !failed) else {
            let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
            out!("{}", uncompiled_line(file, errors));
            uncompiled += 1;
            continue;
        };
        let files_of = program.source_map.files.clone();
        program.tests.retain(|t| {
            let name = files_of
                .get(t.span.file as usize)
                .cloned()
                .unwrap_or_default();
            let key = std::fs::canonicalize(&name).map_or(name, |p| p.display().to_string());
            seen.insert((key, t.span.start))
        });
        let program = Arc::new(program);
        let results = run_tests(program.clone(), &options).await;
        let context = chatflow::channels::RenderContext {
            bot_name: program.bot.name.clone(),
        };
        for outcome in &results {
            out!(
                "{}",
                render_outcome(outcome, &program, &compiled.sources, color)
            );
            // `--channel whatsapp` and the like: the conversation as that channel shows it.
            if let Some(platform) = platform {
                out!(
                    "{}",
                    chatflow::channels::transcript(
                        platform,
                        &outcome.events,
                        &outcome.turns,
                        &context,
                        "    "
                    )
                );
            }
        }
        if coverage {
            reports.push(coverage::measure(&program, &results).render(
                file,
                &program,
                &compiled.sources,
            ));
        }
        outcomes.extend(results);
    }
    outln!("{}", summary_line(&outcomes, uncompiled));
    // Coverage is information: it never changes the exit code.
    for report in reports {
        out!("{report}");
    }
    if uncompiled > 0 || outcomes.iter().any(|o| !o.passed()) {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

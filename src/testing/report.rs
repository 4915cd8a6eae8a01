//! How test results are shown: one `PASS`/`FAIL` block per test and the closing line.

use crate::diagnostic::{self, Code, Diag};
use crate::ir::{quote, Program, SourceSpan, Span};
use crate::source::SourceSet;

use super::runner::TestOutcome;

/// `PASS name`, or `FAIL name` followed by the failing line's location, the expected and the
/// actual value, notes, and a snippet of the source.
pub fn render_outcome(
    outcome: &TestOutcome,
    program: &Program,
    sources: &SourceSet,
    color: bool,
) -> String {
    let Some(failure) = &outcome.failure else {
        return format!("PASS {}\n", outcome.name);
    };
    let file = resolve_file(failure.span, program, sources);
    let span = Span::new(failure.span.start as usize, failure.span.end as usize);
    let location = match file.and_then(|id| sources.get(id)) {
        Some(f) => {
            let (line, col) = f.line_col(span.start());
            format!("{}:{line}:{col}", f.name)
        }
        None => "<unknown location>".to_string(),
    };
    let mut out = format!("FAIL {}\n", outcome.name);
    out.push_str(&format!("  {location}: {} failed\n", failure.check));
    out.push_str(&format!("    expected: {}\n", failure.expected));
    out.push_str(&format!("    actual:   {}\n", failure.actual));
    for note in &failure.notes {
        out.push_str(&format!("    note: {note}\n"));
    }
    if let Some(id) = file {
        let diag = Diag::new(
            Code::TestFailed,
            format!("test {} failed", quote(&outcome.name)),
            span,
        )
        .in_file(id)
        .label(format!("{} failed here", failure.check));
        for line in diagnostic::render(&[diag], sources, color).lines() {
            let line = format!("  {line}");
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// The `SourceSet` file of a span, matched by the name the source map recorded.
fn resolve_file(span: SourceSpan, program: &Program, sources: &SourceSet) -> Option<u32> {
    let name = program.source_map.files.get(span.file as usize);
    let by_name = name.and_then(|n| sources.files.iter().position(|f| &f.name == n));
    by_name
        .map(|i| i as u32)
        .or_else(|| sources.get(span.file).map(|_| span.file))
}

/// The closing line: `N passed, M failed`.
pub fn closing_line(outcomes: &[TestOutcome]) -> String {
    summary_line(outcomes, 0)
}

/// The closing line of a run in which `uncompiled` files did not compile: each counts as one
/// failure, since its tests could not run.
pub fn summary_line(outcomes: &[TestOutcome], uncompiled: usize) -> String {
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let failed = outcomes.len() - passed + uncompiled;
    format!("{passed} passed, {failed} failed")
}

/// The line for a file whose tests could not run because it does not compile.
pub fn uncompiled_line(file: &str, errors: usize) -> String {
    let noun = if errors == 1 { "error" } else { "errors" };
    format!(
        "FAIL {file}: does not compile ({errors} {noun}, shown on stderr); its tests did not run\n"
    )
}

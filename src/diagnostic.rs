//! Diagnostics shared by every phase: a stable code, a severity, a labelled span in one source
//! file, and a help line. They become miette reports only when rendered, so phases can collect
//! them cheaply and report all at once.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceSpan};
use serde::Serialize;

use crate::source::{FileId, LineIndex, SourceSet, Span};

mod code;
mod excerpt;

pub use code::{Code, Scope};
pub use excerpt::{Excerpt, MAX_LINE_CHARS};

/// The most characters of source text a diagnostic's message quotes.
pub const MAX_QUOTED_CHARS: usize = 60;

/// `text` for quoting in a diagnostic message: at most [`MAX_QUOTED_CHARS`] characters, with
/// `…` where it was cut, so a hostile line is never echoed whole.
pub fn quoted(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]).into(),
        None => text.into(),
    }
}

/// How serious a diagnostic is; any error stops the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The program builds, but something is likely a mistake.
    Warning,
    /// The program is refused.
    Error,
}

/// A secondary label: "first defined here", "this call", ...
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// What the note points at.
    pub span: Span,
    /// What it says there.
    pub label: String,
}

/// A problem found in the source: the code, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diag {
    /// Stable code, e.g. `chatflow::unknown_node`; its severity is the code's.
    pub code: Code,
    /// One line saying what is wrong.
    pub message: String,
    /// The file the span is in.
    pub file: FileId,
    /// The primary position.
    pub span: Span,
    /// Text shown under the primary position.
    pub label: String,
    /// How to fix it, when there is a concrete suggestion.
    pub help: Option<String>,
    /// Secondary positions (a first definition, a related call).
    pub notes: Vec<Note>,
}

impl Diag {
    /// A diagnostic in file 0 with no label, help or notes yet.
    pub fn new(code: Code, message: impl Into<String>, span: Span) -> Self {
        Diag {
            code,
            message: message.into(),
            file: 0,
            span,
            label: String::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Sets the file the span is in.
    pub fn in_file(mut self, file: FileId) -> Self {
        self.file = file;
        self
    }

    /// Sets the text under the primary position.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Adds a line on how to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary position with its text.
    pub fn note(mut self, span: Span, label: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            label: label.into(),
        });
        self
    }

    /// The code's severity.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this diagnostic stops the build.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// "did you mean `x`?" — the closest candidate (see [`closest`]), if any is close enough.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate `name` most likely misspells: the most similar by Jaro-Winkler (0.8 or
/// more), else one typo away (a letter added, dropped, changed or two swapped), which is what
/// Jaro-Winkler misses in short names such as `c1` for `c2` or `ab` for `ba`.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    let mut one_typo: Option<&str> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(name, c);
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
        // One letter alone says too little: `goto c` is not a typo of `b`.
        let typo = name.chars().count() >= 2 && strsim::osa_distance(name, c) == 1;
        // The first in name order, so the suggestion does not depend on hashing.
        if typo && one_typo.is_none_or(|o| c < o) {
            one_typo = Some(c);
        }
    }
    best.map(|(_, c)| c).or(one_typo)
}

/// A [`Diag`] joined with the part of its source it shows, so miette can render it.
pub struct Report {
    diag: Diag,
    source: Excerpt,
}

impl Report {
    /// Pairs a diagnostic with the excerpt of its source text that it shows (see [`Excerpt`]):
    /// a short window of a wide line, the real line numbers.
    pub fn new(diag: Diag, sources: &SourceSet) -> Self {
        let empty = LineIndex::new("");
        let (name, text, lines) = match sources.get(diag.file) {
            Some(f) => (f.name.as_str(), &*f.text, f.lines()),
            None => ("<unknown>", "", &empty),
        };
        // Clamp spans so a stale or out-of-range span can never make rendering panic.
        let len = text.len();
        let mut diag = diag;
        let spans: Vec<Span> = std::iter::once(diag.span)
            .chain(diag.notes.iter().map(|n| n.span))
            .map(|s| clamp(s, len))
            .collect();
        let (source, mapped) = Excerpt::new(name, text, lines, &spans);
        let mut mapped = mapped.into_iter();
        diag.span = mapped.next().flatten().unwrap_or_default();
        diag.notes = std::mem::take(&mut diag.notes)
            .into_iter()
            .zip(mapped)
            .filter_map(|(n, s)| {
                s.map(|span| Note {
                    span,
                    label: n.label,
                })
            })
            .collect();
        Report { diag, source }
    }
}

fn clamp(span: Span, len: usize) -> Span {
    let start = span.start().min(len);
    Span::new(start, span.end().clamp(start, len))
}

fn to_miette(span: Span) -> SourceSpan {
    SourceSpan::new(span.start().into(), span.len())
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.diag, f)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code.name()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(
            (!self.diag.label.is_empty()).then(|| self.diag.label.clone()),
            to_miette(self.diag.span),
        );
        let notes = self
            .diag
            .notes
            .iter()
            .map(|n| LabeledSpan::new_with_span(Some(n.label.clone()), to_miette(n.span)));
        Some(Box::new(std::iter::once(primary).chain(notes)))
    }
}

/// Renders diagnostics as miette's graphical report. `color == false` gives plain Unicode
/// output, the same on every machine (used by snapshots).
pub fn render(diags: &[Diag], sources: &SourceSet, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for d in diags {
        let report = Report::new(d.clone(), sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}: {}\n", d.code, d.message));
        }
    }
    out
}

/// One JSON object per diagnostic, for `--format json`.
#[derive(Serialize)]
pub struct JsonDiag<'a> {
    /// The stable code, e.g. `chatflow::unknown_node`.
    pub code: &'a str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub message: &'a str,
    /// The file's path as given.
    pub file: &'a str,
    /// 1-based line and column of the span start.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset of the span start.
    pub start: usize,
    /// Byte offset after the span end.
    pub end: usize,
    /// Text shown under the position.
    pub label: &'a str,
    /// How to fix it, when known.
    pub help: Option<&'a str>,
}

/// The diagnostic as one line of JSON ([`JsonDiag`]), for `--format json`.
pub fn to_json_line(d: &Diag, sources: &SourceSet) -> String {
    let (file, (line, column)) = match sources.get(d.file) {
        Some(f) => (f.name.as_str(), f.line_col(d.span.start())),
        None => ("<unknown>", (1, 1)),
    };
    let j = JsonDiag {
        code: d.code.name(),
        severity: d.severity(),
        message: &d.message,
        file,
        line,
        column,
        start: d.span.start(),
        end: d.span.end(),
        label: &d.label,
        help: d.help.as_deref(),
    };
    serde_json::to_string(&j).unwrap_or_default()
}

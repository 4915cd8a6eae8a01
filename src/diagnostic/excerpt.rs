//! What a rendered diagnostic shows of its file: the lines from its first label to its last,
//! with one line of context either side, each line wider than [`MAX_LINE_CHARS`] clipped to a
//! window around its label.
//!
//! Why not hand miette the whole file: miette scans the text from its start for every label
//! (quadratic over many diagnostics on a big file), prints every line it shows in full (a
//! 50 MB line of junk came out as 236 MB on stderr) and pads labels with a width argument
//! that panics past column 65,535. The excerpt is small whatever the file, and keeps the real
//! line numbers and columns: lines that fit are shown exactly as before.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::source::{floor_boundary, LineIndex, Span};

/// Lines up to this many characters are shown whole.
pub const MAX_LINE_CHARS: usize = 200;
/// Characters kept before a label's start on a clipped line.
const BEFORE: usize = 60;
/// Characters kept from a label's start on a clipped line.
const AFTER: usize = 100;
/// A note further than this many lines from the primary label is left out of the picture,
/// and a label spanning more lines is cut there.
const MAX_LINES: usize = 400;
/// Marks where a clipped line was cut.
const CUT: &str = "…";

/// The shown part of a source file; implements miette's [`SourceCode`].
#[derive(Debug)]
pub struct Excerpt {
    name: String,
    text: String,
    /// The 0-based line of the file that `text` starts with.
    first_line: usize,
    /// Per line of `text`: the file's byte column is the excerpt's plus this.
    shifts: Vec<isize>,
}

/// One shown line: where it is in the file and which bytes of it are shown.
struct Shown {
    /// Byte offset of the line in the file.
    start: usize,
    /// Bytes of the line shown, relative to `start`.
    window: (usize, usize),
    /// Whether the line was cut before or after the window.
    cut: (bool, bool),
    /// Byte offset of the shown line in the excerpt.
    at: usize,
}

impl Shown {
    fn prefix(&self) -> usize {
        if self.cut.0 {
            CUT.len()
        } else {
            0
        }
    }
}

impl Excerpt {
    /// The excerpt showing `spans` (the primary first) and the spans mapped into it; a span
    /// too far from the primary one maps to `None`.
    pub fn new(
        name: &str,
        text: &str,
        lines: &LineIndex,
        spans: &[Span],
    ) -> (Excerpt, Vec<Option<Span>>) {
        let last_line = lines.line_count() - 1;
        let line_of = |o: usize| lines.line_of(o.min(text.len()));
        let primary_line = spans.first().map_or(0, |s| line_of(s.start()));
        let near = |s: &Span| line_of(s.start()).abs_diff(primary_line) <= MAX_LINES;
        let end_line = |s: &Span| line_of(s.end().saturating_sub(1).max(s.start()));
        let kept: Vec<Span> = spans.iter().copied().filter(near).collect();
        let lo = kept.iter().map(|s| line_of(s.start())).min().unwrap_or(0);
        let hi = kept
            .iter()
            .map(|s| end_line(s).min(line_of(s.start()) + MAX_LINES))
            .max()
            .unwrap_or(0);
        let (first, last) = (lo.saturating_sub(1), (hi + 1).min(last_line));

        let mut out = Excerpt {
            name: name.to_string(),
            text: String::new(),
            first_line: first,
            shifts: Vec::new(),
        };
        let mut shown = Vec::with_capacity(last - first + 1);
        for line in first..=last {
            let start = lines.line_start(line).unwrap_or(text.len());
            let next = lines.line_start(line + 1);
            let end = next.map_or(text.len(), |n| n - 1);
            let content = text.get(start..end).unwrap_or("");
            let anchor = kept
                .iter()
                .flat_map(|s| [s.start(), s.end()])
                .filter(|&o| o >= start && o <= end)
                .min()
                .map_or(0, |o| o - start);
            let (window, cut) = clip(content, anchor);
            let line_shown = Shown {
                start,
                window,
                cut,
                at: out.text.len(),
            };
            out.shifts
                .push(window.0 as isize - line_shown.prefix() as isize);
            if cut.0 {
                out.text.push_str(CUT);
            }
            out.text.push_str(&content[window.0..window.1]);
            if cut.1 {
                out.text.push_str(CUT);
            }
            if next.is_some() {
                out.text.push('\n');
            }
            shown.push(line_shown);
        }

        let map = |o: usize| -> usize {
            let o = o.min(text.len());
            let line = line_of(o);
            let Some(s) = line.checked_sub(first).and_then(|i| shown.get(i)) else {
                return if line < first { 0 } else { out.text.len() };
            };
            let col = o - s.start;
            let inside = col.clamp(s.window.0, s.window.1) - s.window.0;
            s.at + s.prefix() + inside
        };
        let mapped = spans
            .iter()
            .map(|s| {
                near(s).then(|| {
                    let start = map(s.start());
                    let end_at = s.end().min(
                        lines
                            .line_start(line_of(s.start()) + MAX_LINES + 1)
                            .unwrap_or(usize::MAX),
                    );
                    Span::new(start, map(end_at).max(start))
                })
            })
            .collect();
        (out, mapped)
    }
}

/// The bytes of `line` to show around byte column `anchor`, and whether it was cut before and
/// after them.
fn clip(line: &str, anchor: usize) -> ((usize, usize), (bool, bool)) {
    if line.len() <= MAX_LINE_CHARS || line.chars().count() <= MAX_LINE_CHARS {
        return ((0, line.len()), (false, false));
    }
    let anchor = floor_boundary(line, anchor);
    let start = line[..anchor]
        .char_indices()
        .rev()
        .nth(BEFORE - 1)
        .map_or(0, |(i, _)| i);
    let end = line[anchor..]
        .char_indices()
        .nth(AFTER)
        .map_or(line.len(), |(i, _)| anchor + i);
    ((start, end), (start > 0, end < line.len()))
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let line = inner.line();
        let shift = self.shifts.get(line).copied().unwrap_or(0);
        let column = (inner.column() as isize + shift).max(0) as usize;
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                *inner.span(),
                self.first_line + line,
                column,
                self.first_line + inner.line_count(),
            )
            .with_language("chatflow"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt(text: &str, spans: &[Span]) -> (Excerpt, Vec<Option<Span>>) {
        Excerpt::new("t.flow", text, &LineIndex::new(text), spans)
    }

    #[test]
    fn short_lines_are_shown_as_they_are() {
        let text = "a\nb\nnode x { goto y }\nc\nd\n";
        let at = text.find("goto").unwrap_or(0);
        let (e, spans) = excerpt(text, &[Span::new(at, at + 4)]);
        assert_eq!(e.text, "b\nnode x { goto y }\nc\n");
        assert_eq!(e.first_line, 1);
        let s = spans[0].unwrap_or_default();
        assert_eq!(&e.text[s.start()..s.end()], "goto");
    }

    #[test]
    fn a_wide_line_is_clipped_around_its_label() {
        let text = format!("{}goto nowhere{}\n", " ".repeat(70_000), "x".repeat(5000));
        let at = 70_000;
        let (e, spans) = excerpt(&text, &[Span::new(at + 5, at + 12)]);
        assert!(e.text.chars().count() < 200, "{}", e.text.len());
        let s = spans[0].unwrap_or_default();
        assert_eq!(&e.text[s.start()..s.end()], "nowhere");
        assert!(e.text.starts_with(CUT) && e.text.trim_end().ends_with(CUT));
        // The header column is the file's.
        let contents = e
            .read_span(&SourceSpan::new(s.start().into(), s.len()), 0, 0)
            .map(|c| c.column());
        assert_eq!(contents.ok(), Some(at + 5));
    }

    #[test]
    fn a_far_note_is_left_out() {
        let text = "x\n".repeat(2000);
        let (_, spans) = excerpt(&text, &[Span::new(0, 1), Span::new(3000, 3001)]);
        assert!(spans[0].is_some() && spans[1].is_none());
    }
}

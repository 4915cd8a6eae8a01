//! Comments, found in the source text, put back around the printed lines; then the lines
//! written out with their indents, blank lines and aligned trailing comments.

use super::*;

/// A `#` comment found in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Offset of the `#`.
    pub start: usize,
    /// From `#` to the end of the line, trailing spaces removed.
    pub text: String,
    /// Nothing but spaces (or `;`) before it on its line.
    pub own_line: bool,
}

/// Every comment of a source that parses, in order. Strings (which cannot span lines) are
/// skipped, so a `#` inside one is not a comment.
pub fn scan_comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    let mut line_start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line_start = i + 1,
            b'"' => i = string_end(bytes, i),
            b'#' => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| matches!(b, b'\n' | b'\r'))
                    .map_or(bytes.len(), |n| i + n);
                let before = text.get(line_start..i).unwrap_or("");
                comments.push(Comment {
                    start: i,
                    text: text.get(i..end).unwrap_or("#").trim_end().to_string(),
                    own_line: before
                        .chars()
                        .all(|c| c.is_whitespace() || c == ';' || c == '\u{FEFF}'),
                });
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    comments
}

/// The offset of the closing quote of the string opening at `open` (or of the line end).
pub(super) fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => return i,
            b'\n' => return i - 1,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Lays out the printed lines as they come, item by item: comments merged in, and the lines
/// that nothing can change any more rendered, so only the last item's lines are held
/// (docs/performance.md, "Memory on hostile and large sources").
pub(super) struct Layout<'a> {
    source: &'a str,
    comments: std::iter::Peekable<std::vec::IntoIter<Comment>>,
    /// Printed lines and comments not yet rendered.
    merged: Vec<Line>,
    out: String,
}

impl<'a> Layout<'a> {
    pub(super) fn new(source: &'a str, comments: Vec<Comment>) -> Self {
        Layout {
            source,
            comments: comments.into_iter().peekable(),
            merged: Vec::new(),
            out: String::with_capacity(source.len() + 64),
        }
    }

    /// Adds printed lines in source order, each after the comments that come before it.
    pub(super) fn push(&mut self, lines: impl IntoIterator<Item = Line>) {
        for mut line in lines {
            while let Some(comment) = self.comments.next_if(|c| c.start < line.at) {
                place(&mut self.merged, comment, Some(&mut line));
            }
            self.merged.push(line);
        }
        self.render_done();
    }

    /// Renders the lines before the last one that follows a blank line: a run of aligned
    /// trailing comments never crosses a blank line, and a later comment only ever goes
    /// after the last line, so those lines are final.
    fn render_done(&mut self) {
        let started = !self.out.is_empty();
        let source = self.source;
        let last_blank = (1..self.merged.len())
            .rev()
            .find(|&j| wants_blank(source, &self.merged[j]));
        if let Some(end) = last_blank {
            render(&mut self.out, source, &self.merged[..end], started);
            self.merged.drain(..end);
        }
    }

    /// The rest of the comments after the last line, and the whole text.
    pub(super) fn finish(mut self) -> String {
        for comment in self.comments {
            place(&mut self.merged, comment, None);
        }
        let started = !self.out.is_empty();
        render(&mut self.out, self.source, &self.merged, started);
        self.out
    }
}

/// Puts one comment before `next` (own line) or after the last printed line (trailing).
pub(super) fn place(merged: &mut Vec<Line>, comment: Comment, next: Option<&mut Line>) {
    if !comment.own_line {
        if let Some(last) = merged.last_mut() {
            last.trailing.push(comment.text);
            return;
        }
    }
    let (indent, gap) = match next {
        // The first comment before a line takes that line's place in the layout.
        Some(line) if line.closes => (line.indent + 1, Gap::Keep),
        Some(line) => (line.indent, std::mem::replace(&mut line.gap, Gap::Keep)),
        None => (0, Gap::Keep),
    };
    merged.push(Line {
        indent,
        text: comment.text,
        at: comment.start,
        gap,
        closes: false,
        trailing: Vec::new(),
    });
}

/// Writes `lines` to `out`; `started` when lines were written before them (the first line
/// of the text never follows a blank line).
pub(super) fn render(out: &mut String, source: &str, lines: &[Line], started: bool) {
    let mut i = 0;
    while i < lines.len() {
        // A run of consecutive lines with trailing comments aligns them in one column.
        let mut end = i + 1;
        let blank_at = |j: usize| (j > 0 || started) && wants_blank(source, &lines[j]);
        if !lines[i].trailing.is_empty() {
            while end < lines.len() && !lines[end].trailing.is_empty() && !blank_at(end) {
                end += 1;
            }
        }
        let column = lines[i..end].iter().map(width).max().unwrap_or(0) + 2;
        for (j, line) in lines.iter().enumerate().take(end).skip(i) {
            if blank_at(j) {
                out.push('\n');
            }
            let code = format!("{}{}", INDENT.repeat(line.indent), line.text);
            out.push_str(&code);
            if !line.trailing.is_empty() {
                let pad = column.saturating_sub(code.chars().count());
                out.push_str(&" ".repeat(pad));
                out.push_str(&line.trailing.join(" "));
            }
            out.push('\n');
        }
        i = end;
    }
}

pub(super) fn width(line: &Line) -> usize {
    INDENT.len() * line.indent + line.text.chars().count()
}

pub(super) fn wants_blank(source: &str, line: &Line) -> bool {
    match line.gap {
        Gap::Never => false,
        Gap::Force => true,
        Gap::Keep => blank_line_before(source, line.at),
    }
}

/// Whether the code at `at` starts its line and the line before it is blank.
pub(super) fn blank_line_before(source: &str, at: usize) -> bool {
    let Some(head) = source.get(..at) else {
        return false;
    };
    let line_start = head.rfind('\n').map_or(0, |i| i + 1);
    if line_start == 0 || !head[line_start..].trim().is_empty() {
        return false;
    }
    let prev = &head[..line_start - 1];
    let prev_start = prev.rfind('\n').map_or(0, |i| i + 1);
    prev[prev_start..].trim().is_empty()
}

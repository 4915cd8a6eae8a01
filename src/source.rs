//! Where things are in the source: byte spans, file ids and the set of files read for one
//! compilation. The bottom of the crate: every phase points into the source through these.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

/// Byte offsets `[start, end)` into one source file, kept as `u32`: a syntax tree holds a
/// span per name, statement and expression, and 32-bit offsets save about 120 bytes a node
/// (docs/performance.md). No source longer than [`MAX_OFFSET`] bytes is parsed
/// (`--max-source-bytes` stops there), so every offset fits; [`Span::new`] saturates rather
/// than wraps should one not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    start: u32,
    end: u32,
}

/// The largest byte offset a [`Span`] holds: sources are at most this long (4 GiB - 1).
pub const MAX_OFFSET: usize = u32::MAX as usize;

/// `offset` as a span's `u32`; past [`MAX_OFFSET`], `MAX_OFFSET`.
fn narrow(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}

impl Span {
    /// The bytes from `start` up to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: narrow(start),
            end: narrow(end),
        }
    }
    /// Byte offset of the first byte.
    pub fn start(&self) -> usize {
        self.start as usize
    }
    /// Byte offset after the last byte.
    pub fn end(&self) -> usize {
        self.end as usize
    }
    /// Byte offsets as a range, for slicing the source.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start()..self.end()
    }
    /// Moves the first byte to `start`.
    pub fn set_start(&mut self, start: usize) {
        self.start = narrow(start);
    }
    /// Moves the end to `end`.
    pub fn set_end(&mut self, end: usize) {
        self.end = narrow(end);
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }
    /// Whether the span covers no bytes (a position, e.g. end of file).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// Index into [`SourceSet::files`].
pub type FileId = u32;

/// Every source file read for one compilation (the root and its imports).
#[derive(Debug, Clone, Default)]
pub struct SourceSet {
    /// Files in the order added; a [`FileId`] indexes into it.
    pub files: Vec<SourceFile>,
}

/// One source file: its name and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (or as resolved from an `import`).
    pub name: String,
    /// The file's contents.
    pub text: Arc<str>,
    /// Where its lines start, built on first use.
    lines: Arc<OnceLock<LineIndex>>,
}

impl SourceFile {
    /// The file's line index.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.lines().line_col(&self.text, offset)
    }
}

impl SourceSet {
    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
            lines: Arc::default(),
        });
        (self.files.len() - 1) as FileId
    }

    /// The file with this id, if any.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id as usize)
    }
}

/// 1-based line and column (in characters) of a byte offset. Scans from the start: for one
/// look-up; many use [`SourceFile::line_col`] or a [`LineIndex`].
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Byte offsets where each line starts, so that a line and column are found by a binary search
/// instead of a scan from the start of the file (which made many diagnostics on a big file
/// quadratic).
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`'s lines.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text.as_bytes()));
        LineIndex { starts }
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// Byte offset where 0-based `line` starts (the text's length past the last line).
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }

    /// How many lines the text has (at least 1).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 1-based line and column (in characters) of a byte offset, as [`line_col`] gives them.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.starts[line].min(offset);
        let col = text.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        (line + 1, col)
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

/// The largest char boundary at or before `i`.
pub fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_keeps_32_bit_offsets_and_saturates_past_them() {
        assert_eq!(std::mem::size_of::<Span>(), 8);
        let span = Span::new(3, MAX_OFFSET);
        assert_eq!(
            (span.start(), span.end(), span.len()),
            (3, MAX_OFFSET, MAX_OFFSET - 3)
        );
        // Never reached (sources stop at MAX_OFFSET bytes), but no wraparound to 0 either.
        assert_eq!(
            Span::new(MAX_OFFSET + 2, MAX_OFFSET + 9).range(),
            MAX_OFFSET..MAX_OFFSET
        );
    }
}

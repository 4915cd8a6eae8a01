//! Positions: byte offsets (the compiler's spans) to and from LSP positions, whose columns
//! count UTF-16 code units.

use lsp_types::{Position, Range};

use crate::source::{floor_boundary, LineIndex, Span};

/// One text with its line index, for converting positions.
pub struct Lines<'t> {
    text: &'t str,
    index: &'t LineIndex,
}

impl<'t> Lines<'t> {
    /// `index` must be `text`'s.
    pub fn new(text: &'t str, index: &'t LineIndex) -> Self {
        Lines { text, index }
    }

    /// The LSP position of a byte offset (clamped to the text, floored to a character).
    pub fn position(&self, offset: usize) -> Position {
        let offset = floor_boundary(self.text, offset);
        let line = self.index.line_of(offset);
        let start = self.index.line_start(line).unwrap_or(0).min(offset);
        let column = self.text[start..offset].encode_utf16().count();
        Position::new(line as u32, column as u32)
    }

    /// The LSP range of a byte span.
    pub fn range(&self, span: Span) -> Range {
        Range::new(
            self.position(span.start()),
            self.position(span.end().max(span.start())),
        )
    }

    /// The byte offset of an LSP position: a column past the end of its line is the line's
    /// end, a line past the end of the text is the text's end, and a column inside a
    /// character's two UTF-16 units is that character's start.
    pub fn offset(&self, pos: Position) -> usize {
        let Some(start) = self.index.line_start(pos.line as usize) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut units = 0usize;
        for (i, c) in line.char_indices() {
            units += c.len_utf16();
            if units > pos.character as usize {
                return start + i;
            }
        }
        start + line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_round_trip() {
        // `é` is one UTF-16 unit and two bytes; `𝄞` two units and four bytes.
        let text = "a\né𝄞x\r\nyz";
        let index = LineIndex::new(text);
        let lines = Lines::new(text, &index);
        let x = text.find('x').unwrap();
        assert_eq!(lines.position(x), Position::new(1, 3));
        assert_eq!(lines.offset(Position::new(1, 3)), x);
        // Inside the surrogate pair: the character's start.
        assert_eq!(lines.offset(Position::new(1, 2)), text.find('𝄞').unwrap());
        // Past the line's end: before the `\r\n`.
        assert_eq!(lines.offset(Position::new(1, 99)), x + 1);
        assert_eq!(lines.offset(Position::new(9, 0)), text.len());
        assert_eq!(lines.position(text.len() + 5), Position::new(2, 2));
    }
}

//! Server-sent events (the `text/event-stream` format of the HTML standard) read as their bytes
//! arrive, for a model that streams its answer.
//!
//! Only what a chat-completions stream needs: `data:` lines, joined with newlines, make one
//! event at the blank line that ends it; `event:`, `id:` and `retry:` fields and `:` comments
//! are read and ignored. Lines end in LF, CRLF or CR. Bytes are cut into lines before they are
//! decoded, so a character split between two network chunks is whole again; a line that is not
//! UTF-8 is an error. An event not ended by a blank line when the stream ends is dropped, as
//! the standard says. The caller bounds the bytes fed (the answer size cap), which bounds the
//! line buffer too.

/// A line of the stream is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotUtf8;

/// Turns a byte stream into the data of its events.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    /// The current line's bytes so far.
    line: Vec<u8>,
    /// The current event's data, when it has a `data` field.
    data: Option<String>,
    /// The last byte fed was a CR: an LF right after it ends no second line.
    after_cr: bool,
    /// The first line was read (a byte-order mark before it is skipped).
    started: bool,
}

impl SseDecoder {
    /// Reads `bytes`, adding the data of each event they complete to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) -> Result<(), NotUtf8> {
        for &b in bytes {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    self.end_line(out)?;
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(b);
                }
            }
        }
        Ok(())
    }

    fn end_line(&mut self, out: &mut Vec<String>) -> Result<(), NotUtf8> {
        let bytes = std::mem::take(&mut self.line);
        let mut line = String::from_utf8(bytes).map_err(|_| NotUtf8)?;
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix('\u{feff}') {
                line = rest.to_string();
            }
        }
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(data);
            }
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        if field == "data" {
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Result<Vec<String>, NotUtf8> {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut out)?;
        }
        Ok(out)
    }

    #[test]
    fn data_lines_make_an_event_at_the_blank_line() {
        let stream = b"data: {\"a\":1}\n\ndata: x\ndata:y\n\ndata: [DONE]\n\n";
        assert_eq!(events(&[stream]).unwrap(), ["{\"a\":1}", "x\ny", "[DONE]"]);
    }

    #[test]
    fn other_fields_comments_and_an_unended_event_are_dropped() {
        let stream =
            b": keep-alive\nevent: delta\nid: 7\nretry: 10\ndata: kept\n\nevent: x\n\ndata: cut";
        assert_eq!(events(&[stream]).unwrap(), ["kept"]);
    }

    #[test]
    fn any_line_ending_and_any_chunking_read_the_same() {
        let text = "data: h\u{e9}llo \u{1f600}\r\n\r\ndata: two\r\rdata: three\n\n";
        let whole = events(&[text.as_bytes()]).unwrap();
        assert_eq!(whole, ["h\u{e9}llo \u{1f600}", "two", "three"]);
        // Every split point, including inside the CRLF and inside multi-byte characters.
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let split = events(&[&bytes[..cut], &bytes[cut..]]).unwrap();
            assert_eq!(split, whole, "cut at byte {cut}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_bad_utf8_is_an_error() {
        let with_bom = "\u{feff}data: a\n\n";
        assert_eq!(events(&[with_bom.as_bytes()]).unwrap(), ["a"]);
        assert_eq!(events(&[b"data: \xff\xfe\n\n"]), Err(NotUtf8));
    }
}

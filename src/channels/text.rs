//! Texts within a channel's limits.

/// `text` in pieces of at most `limit` characters, cut at the last whitespace before the
/// limit (a word longer than the limit is cut inside). Whitespace at the cuts is dropped;
/// nothing else is. An empty text is no piece.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.chars().count() <= limit {
            pieces.push(rest.to_string());
            break;
        }
        // The byte offset just past `limit` characters, and past the character after them
        // (whitespace right after a full piece is a cut too).
        let offset = |n: usize| rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
        let hard = offset(limit);
        let cut = rest[..offset(limit + 1)]
            .char_indices()
            .filter(|(_, c)| c.is_whitespace())
            .map(|(i, _)| i)
            .next_back()
            .filter(|&i| i > 0)
            .unwrap_or(hard);
        pieces.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    pieces
}

/// At most `limit` characters of `text`, ending in `…` when it was cut.
pub fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let kept: String = text.chars().take(limit.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// Whether `text` fits in `limit` bytes (platforms limit ids and callback data in bytes).
pub fn fits_bytes(text: &str, limit: usize) -> bool {
    !text.is_empty() && text.len() <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_last_space_before_the_limit() {
        assert_eq!(split("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
        assert_eq!(split("aaa bbb ccc", 8), ["aaa bbb", "ccc"]);
        assert_eq!(split("aaa bbb ccc", 11), ["aaa bbb ccc"]);
        assert_eq!(split("  ", 5), Vec::<String>::new());
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut_inside_and_nothing_is_lost() {
        assert_eq!(split("abcdefgh ij", 3), ["abc", "def", "gh", "ij"]);
        let text = "é".repeat(10) + " ü";
        let pieces = split(&text, 4);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4), "{pieces:?}");
        assert_eq!(pieces.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn lines_break_at_newlines_too() {
        assert_eq!(split("one two\nthree", 9), ["one two", "three"]);
    }

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("Tomorrow morning", 10), "Tomorrow…");
        assert_eq!(clip("Today", 10), "Today");
    }
}

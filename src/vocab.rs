//! The words a flow's syntax tree and its IR share: HTTP methods, path steps, operators, the
//! kinds of menus, media and transfers, and how a number is written. They sit below both, so
//! the versioned IR format does not depend on the parser.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

mod condition;
pub use condition::{write_condition, Condition};

/// Writes a number the way the language does everywhere (templates, `fmt`, traces, test
/// reports): its shortest decimal form that reads back as the same number, without exponent
/// and without a trailing `.0` (`24`, `3.5`, `-2`, `0.1`, `10000000000000000`). The grammar
/// has no exponent form, so `fmt` can write every number back. `-0` is `0`: the language
/// cannot tell them apart.
pub fn write_number(n: f64, out: &mut String) {
    if n == 0.0 {
        out.push('0');
    } else {
        // Rust's `Display` for f64 is the shortest round-trip form, never in exponent form.
        let _ = write!(out, "{n}");
    }
}

/// [`write_number`] into a new string.
pub fn number_text(n: f64) -> String {
    let mut out = String::new();
    write_number(n, &mut out);
    out
}

/// Whole numbers below 9·10^15 in magnitude (under 2^53: every integer there is exact) are JSON
/// integers (`42`, not `42.0`); other numbers are JSON floats; NaN and infinities, which JSON lacks,
/// are `null`.
pub fn number_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathStep {
    Field(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator as written in a flow, with the spaces around it: `" == "`.
    pub fn spaced(self) -> &'static str {
        match self {
            CmpOp::Eq => " == ",
            CmpOp::Ne => " != ",
            CmpOp::Lt => " < ",
            CmpOp::Le => " <= ",
            CmpOp::Gt => " > ",
            CmpOp::Ge => " >= ",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

impl TextOp {
    /// The operator as written in a flow, with the spaces around it: `" contains "`.
    pub fn spaced(self) -> &'static str {
        match self {
            TextOp::Contains => " contains ",
            TextOp::StartsWith => " starts_with ",
            TextOp::EndsWith => " ends_with ",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MenuStyle {
    /// `choose`: quick replies.
    QuickReplies,
    /// `buttons`: link / postback / branch buttons.
    Buttons,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    File,
}

impl MediaKind {
    /// The keyword, as written in a flow and carried by `media` events.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::File => "file",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferKind {
    Department,
    Agent,
}

#[cfg(test)]
mod tests {
    use super::{number_json, number_text};

    #[test]
    fn numbers_are_written_in_their_shortest_form() {
        let cases = [
            (24.0, "24"),
            (3.5, "3.5"),
            (-2.0, "-2"),
            (0.1, "0.1"),
            (-0.0, "0"),
            (0.0, "0"),
            (1e-7, "0.0000001"),
            (1e15, "1000000000000000"),
            (9e15, "9000000000000000"),
            (1e16, "10000000000000000"),
            (123456789012.5, "123456789012.5"),
            (1e21, "1000000000000000000000"),
        ];
        for (n, text) in cases {
            assert_eq!(number_text(n), text, "{n:?}");
            assert_eq!(text.parse::<f64>().ok(), Some(n), "{text} reads back");
        }
    }

    #[test]
    fn whole_numbers_are_json_integers_while_exact() {
        assert_eq!(number_json(42.0).to_string(), "42");
        assert_eq!(number_json(-0.0).to_string(), "0");
        assert_eq!(number_json(0.1).to_string(), "0.1");
        assert_eq!(number_json(1e15).to_string(), "1000000000000000");
        assert_eq!(number_json(8.9e15).to_string(), "8900000000000000");
        // From 9e15 on a float: integers are no longer exact there.
        assert_eq!(number_json(1e16).to_string(), "1e+16");
        assert_eq!(number_json(f64::NAN), serde_json::Value::Null);
        assert_eq!(number_json(f64::INFINITY), serde_json::Value::Null);
    }
}

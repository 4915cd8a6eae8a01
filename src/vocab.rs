//! The words a flow's syntax tree and its IR share: HTTP methods, path steps, operators, the
//! kinds of menus, media and transfers, and how a number is written. They sit below both, so
//! the versioned IR format does not depend on the parser.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

mod condition;
mod function;
mod number;
pub use condition::{write_condition, Condition};
pub use function::Func;
pub use number::{ArithOp, Number};

/// Writes a number the way the language does everywhere (templates, `fmt`, traces, test
/// reports): see [`Number`]'s `Display`. The grammar has no exponent form, so `fmt` can write
/// every number back.
pub fn write_number(n: Number, out: &mut String) {
    let _ = write!(out, "{n}");
}

/// [`write_number`] into a new string.
pub fn number_text(n: Number) -> String {
    n.to_string()
}

/// The statuses a test may stub, in `stub` lines and `--stubs` files alike.
pub const STUB_STATUSES: std::ops::RangeInclusive<u16> = 100..=599;
/// [`STUB_STATUSES`] as help lines and stub-file errors say it.
pub const STUB_STATUS_RULE: &str = "an HTTP status is between 100 and 599";

/// `status` as a stubbed status, when it is one.
pub fn stub_status(status: u64) -> Option<u16> {
    u16::try_from(status)
        .ok()
        .filter(|s| STUB_STATUSES.contains(s))
}

/// A number as JSON: see [`Number::to_json`].
pub fn number_json(n: Number) -> serde_json::Value {
    n.to_json()
}

/// An HTTP method an API may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method in upper case, as sent.
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

/// Which redirects an API follows (`redirects MODE`; `same_origin` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redirects {
    /// Only to the same scheme, host and port as the API's URL; any other answers the call.
    #[default]
    SameOrigin,
    /// To any http(s) URL; secret-bearing headers and bodies are dropped when the origin changes.
    Any,
    /// None: a 3xx answer is the call's answer.
    None,
}

impl Redirects {
    /// The word written after `redirects`.
    pub fn word(self) -> &'static str {
        match self {
            Redirects::SameOrigin => "same_origin",
            Redirects::Any => "any",
            Redirects::None => "none",
        }
    }

    /// The mode spelled `word`.
    pub fn from_word(word: &str) -> Option<Redirects> {
        match word {
            "same_origin" => Some(Redirects::SameOrigin),
            "any" => Some(Redirects::Any),
            "none" => Some(Redirects::None),
            _ => None,
        }
    }

    /// Whether this is the default, which the IR leaves out.
    pub fn is_default(&self) -> bool {
        *self == Redirects::SameOrigin
    }
}

/// One step of a path into JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathStep {
    /// `.name`: an object's field.
    Field(String),
    /// `[n]`: an array's element.
    Index(usize),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
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

/// A text test between two strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextOp {
    /// `contains`
    Contains,
    /// `starts with`
    StartsWith,
    /// `ends with`
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

/// How a menu shows its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MenuStyle {
    /// `choose`: quick replies.
    QuickReplies,
    /// `buttons`: link / postback / branch buttons.
    Buttons,
}

/// What kind of media a statement shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// `image`
    Image,
    /// `audio`
    Audio,
    /// `video`
    Video,
    /// `file`
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

/// Whom a `transfer` hands the conversation to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferKind {
    /// `transfer department "Name"`: a team queue.
    Department,
    /// `transfer agent "address"`: one person.
    Agent,
}

#[cfg(test)]
mod tests {
    use super::{number_json, number_text, Number};

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
            assert_eq!(number_text(Number::from_f64(n)), text, "{n:?}");
            assert_eq!(text.parse::<f64>().ok(), Some(n), "{text} reads back");
        }
    }

    #[test]
    fn whole_numbers_are_json_integers() {
        let json = |f: f64| number_json(Number::from_f64(f)).to_string();
        assert_eq!(json(42.0), "42");
        assert_eq!(json(-0.0), "0");
        assert_eq!(json(0.1), "0.1");
        assert_eq!(json(1e15), "1000000000000000");
        assert_eq!(json(8.9e15), "8900000000000000");
        // From 9e15 on a float is not known to be an exact integer.
        assert_eq!(json(1e16), "1e+16");
        // An integer read as one keeps every digit.
        assert_eq!(
            number_json(Number::Int(9007199254740993)).to_string(),
            "9007199254740993"
        );
        assert_eq!(json(f64::NAN), "null");
        assert_eq!(json(f64::INFINITY), "null");
    }
}

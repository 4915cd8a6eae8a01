//! The small enums a flow's syntax tree and its IR share: HTTP methods, path steps,
//! operators and the kinds of menus, media and transfers. They sit below both, so the
//! versioned IR format does not depend on the parser.

use serde::{Deserialize, Serialize};

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

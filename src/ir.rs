//! The IR: what `chatflow build` writes and the runtime executes.
//!
//! Plain serde data, independent of the source syntax. Names are resolved to indices
//! (`NodeId`, `ApiId`, `AttrId`), expressions are trees ready to evaluate, and source spans
//! live in [`SourceMap`], beside the hot data rather than inside it.

use serde::{Deserialize, Serialize};

pub use crate::syntax::ast::{CmpOp, Method, PathStep, Span, TextOp};

/// The IR format this build writes.
pub const FORMAT_VERSION: u32 = 1;
/// The oldest IR format this runtime still reads.
pub const MIN_READ_VERSION: u32 = 1;

pub type NodeId = u32;
pub type ApiId = u32;
pub type AttrId = u32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub format_version: u32,
    pub min_read_version: u32,
    pub bot: BotInfo,
    /// Indexed by `ApiId`.
    pub apis: Vec<Api>,
    /// Indexed by `NodeId`.
    pub nodes: Vec<Node>,
    /// Indexed by `AttrId`: every attribute the flow sets or reads.
    pub attrs: Vec<AttrInfo>,
    pub tests: Vec<TestCase>,
    pub source_map: SourceMap,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotInfo {
    pub name: String,
    pub start: NodeId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrInfo {
    pub name: String,
    /// The type the compiler inferred, when it could.
    pub ty: ValueType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    Text,
    Number,
    Bool,
    /// Filled from a JSON answer or mixed: any type at run time.
    Any,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Api {
    pub name: String,
    pub method: Method,
    pub url: Template,
    pub headers: Vec<Header>,
    pub body: Option<RequestBody>,
    pub timeout_ms: u64,
    pub retry: u32,
    /// Whether 5xx/transport errors may be retried: GET, PUT and DELETE by default.
    pub retry_non_idempotent: bool,
    pub saves: Vec<Save>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: Template,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RequestBody {
    /// `body "..."`: sent as is (templated, not escaped).
    Text(Template),
    /// `json {...}`: string values are templates, JSON-escaped when inserted.
    Json(JsonTemplate),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JsonTemplate {
    Object(Vec<(String, JsonTemplate)>),
    Array(Vec<JsonTemplate>),
    String(Template),
    Number(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Save {
    pub attr: AttrId,
    /// Steps after the leading `body`.
    pub path: Vec<PathStep>,
}

/// A template, split once at compile time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TemplatePart {
    Text(String),
    Attr(AttrId),
    Status,
    Sys(String),
    /// Read from the environment at send time; only the name is stored.
    Secret(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub stmts: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stmt {
    Say(Template),
    Ask {
        attr: AttrId,
        kind: AskKind,
        prompt: Option<Template>,
    },
    Set {
        attr: AttrId,
        value: Expr,
    },
    Call(ApiId),
    Branch(BranchTable),
    Goto(NodeId),
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AskKind {
    Text,
    Name,
    Email,
    Phone,
    Number,
    Date,
    Time,
}

impl AskKind {
    pub const ALL: [(&'static str, AskKind); 7] = [
        ("text", AskKind::Text),
        ("name", AskKind::Name),
        ("email", AskKind::Email),
        ("phone", AskKind::Phone),
        ("number", AskKind::Number),
        ("date", AskKind::Date),
        ("time", AskKind::Time),
    ];
}

/// A multilayer condition: the first arm whose condition holds wins, else `otherwise`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchTable {
    pub arms: Vec<BranchArm>,
    pub otherwise: NodeId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchArm {
    pub cond: Expr,
    pub target: NodeId,
}

/// A runtime value. Unset attributes are `None` in the session, not a `Value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    Lit(Value),
    Attr(AttrId),
    Status,
    Sys(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    InRange(Box<Expr>, i64, i64),
    InList(Box<Expr>, Vec<Expr>),
    Text(TextOp, Box<Expr>, Box<Expr>),
    /// The pattern is checked at compile time; the runtime compiles it once at load.
    Matches(Box<Expr>, String),
    IsSet(Box<Expr>),
}

/// Source positions for the IR, kept apart from the data the interpreter touches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SourceMap {
    /// Source file paths as given; `file` fields index into this.
    pub files: Vec<String>,
    /// Indexed by `NodeId`.
    pub nodes: Vec<NodeSpans>,
    /// Indexed by `ApiId`.
    pub apis: Vec<SourceSpan>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SourceSpan {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NodeSpans {
    pub node: SourceSpan,
    /// One per statement of the node.
    pub stmts: Vec<SourceSpan>,
}

/// A `test` block, resolved: what the test runner executes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub name: String,
    pub span: SourceSpan,
    pub steps: Vec<TestStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestStep {
    pub kind: TestStepKind,
    pub span: SourceSpan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StubAnswer {
    Status {
        status: u16,
        body: Option<serde_json::Value>,
    },
    Timeout,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TestStepKind {
    Stub { api: ApiId, answer: StubAnswer },
    User(String),
    ExpectSay(String),
    ExpectNode(NodeId),
    ExpectAttrEquals { attr: AttrId, value: Value },
    ExpectAttrNotSet { attr: AttrId },
    ExpectRequest { api: ApiId, url: String },
    ExpectClosed,
}

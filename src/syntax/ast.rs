//! The typed syntax tree. Every piece that a diagnostic may point at keeps its [`Span`]:
//! byte offsets into the source file it came from.

use serde::Serialize;

/// Byte offsets `[start, end)` into one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A name as written: a node, an API, an attribute, a kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal after unescaping (`\"`, `\\`, `\n`, `\t`), not a template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// One parsed `.flow` file.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Item {
    Bot(Bot),
    Api(Api),
    Node(Node),
    Test(Test),
    Import(Import),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    pub path: StrLit,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bot {
    pub name: StrLit,
    pub settings: Vec<BotSetting>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum BotSetting {
    /// `start NODE`
    Start(Ident),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Api {
    pub name: Ident,
    /// Properties in source order; the compiler checks for missing and repeated ones.
    pub props: Vec<ApiProp>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ApiProp {
    /// `live` or `draft`; `live == true` for live.
    Mode { live: bool, span: Span },
    /// `get "url-template"` and friends.
    Request { method: Method, url: Template, span: Span },
    /// `header "Name" = "value-template"`
    Header { name: StrLit, value: Template, span: Span },
    /// `body "template"` — sent as is.
    Body { body: Template, span: Span },
    /// `json { "key": "template" or literal, ... }`
    Json { body: JsonTemplate, span: Span },
    /// `timeout 2s` / `timeout 500ms`; stored in milliseconds.
    Timeout { millis: u64, span: Span },
    /// `retry 2`
    Retry { count: u32, span: Span },
    /// `save ATTR = body.path[0].x`
    Save { attr: Ident, path: SavePath, span: Span },
}

/// `body` followed by `.field` and `[index]` steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavePath {
    pub steps: Vec<PathStep>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum PathStep {
    Field(String),
    Index(usize),
}

/// A JSON value inside `json { ... }` whose strings are templates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum JsonTemplate {
    Object(Vec<(StrLit, JsonTemplate)>, Span),
    Array(Vec<JsonTemplate>, Span),
    String(Template),
    Number(f64, Span),
    Bool(bool, Span),
    Null(Span),
}

/// A string literal that may insert values: `"Hello {name}, {{literal}}"`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    /// The whole literal including quotes.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TemplatePart {
    /// Literal text, unescaped (`{{` already turned into `{`).
    Text(String),
    /// `{name}`, `{sys.NAME}`, `{secret.NAME}`, `{status}`; span covers the braces.
    Ref(Ref),
}

/// A reference to a value: in templates and in expressions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ref {
    pub kind: RefKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RefKind {
    /// `status`
    Status,
    /// A user attribute.
    Attr(String),
    /// `sys.NAME`
    Sys(String),
    /// `secret.NAME` — templates only.
    Secret(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub name: Ident,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StmtKind {
    Say(Template),
    /// `ask ATTR [as KIND] ["prompt"]`; the kind is checked by the compiler.
    Ask {
        attr: Ident,
        kind: Option<Ident>,
        prompt: Option<Template>,
    },
    Set {
        attr: Ident,
        value: Expr,
    },
    Call(Ident),
    Branch(Branch),
    Goto(Ident),
    Close,
}

/// `if C -> n (elif C -> n)* [else -> n]`. The grammar accepts a missing `else` so the
/// compiler can explain why it is needed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Branch {
    pub arms: Vec<BranchArm>,
    pub otherwise: Option<Ident>,
    /// Span of the `else` keyword clause, when present.
    pub otherwise_span: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BranchArm {
    pub cond: Expr,
    pub target: Ident,
    /// The whole `if C -> n` / `elif C -> n` clause.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Literal {
    Number(f64),
    String(String),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    Lit(Literal),
    Ref(Ref),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x in 400..499` — inclusive integer bounds.
    InRange {
        value: Box<Expr>,
        low: i64,
        high: i64,
        bounds_span: Span,
    },
    /// `x in [v1, v2]`
    InList {
        value: Box<Expr>,
        items: Vec<Expr>,
    },
    Text {
        op: TextOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x matches "regex"`
    Matches {
        value: Box<Expr>,
        pattern: StrLit,
    },
    /// `x is set` (`negated == false`) / `x is not set`
    IsSet {
        value: Box<Expr>,
        negated: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Test {
    pub name: StrLit,
    pub steps: Vec<TestStep>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestStep {
    pub kind: TestStepKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StubAnswer {
    /// `stub API 200 {json}`; `body` is the JSON value, already parsed.
    Status {
        status: u16,
        body: Option<serde_json::Value>,
    },
    /// `stub API timeout`
    Timeout,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AttrExpectation {
    /// `expect attr A == VALUE`
    Equals(Literal),
    /// `expect attr A is not set`
    NotSet,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TestStepKind {
    Stub { api: Ident, answer: StubAnswer },
    User(StrLit),
    ExpectSay(StrLit),
    ExpectNode(Ident),
    ExpectAttr { attr: Ident, expect: AttrExpectation },
    ExpectRequest { api: Ident, url: StrLit },
    ExpectClosed,
}

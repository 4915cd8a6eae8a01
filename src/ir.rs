//! The IR: what `chatflow build` writes and the runtime executes.
//!
//! Plain serde data, independent of the source syntax. Names are resolved to indices
//! (`NodeId`, `ApiId`, `AttrId`), expressions are trees ready to evaluate, and source spans
//! live in [`SourceMap`], beside the hot data rather than inside it.

use serde::{Deserialize, Serialize};

pub use crate::source::Span;
pub use crate::vocab::{
    ArithOp, CmpOp, MediaKind, MenuStyle, Method, Number, PathStep, TextOp, TransferKind,
};

mod exits;
mod show;
pub use exits::{exits, Exit, Exits};
pub use show::{quote, show_arm, show_expr, show_template, show_value, value_json, value_text};

mod sys;

pub use sys::SysAttr;

/// The IR format this build writes. 3: numbers are integers or floats ([`Number`]; whole
/// numbers are written `200`, not `200.0`) and `json {}` bodies may hold bare references
/// ([`JsonTemplate::Value`]).
pub const FORMAT_VERSION: u32 = 3;
/// The oldest IR format this runtime still reads (a format-2 number reads as a float).
pub const MIN_READ_VERSION: u32 = 2;
/// The oldest runtime format that reads the IR this build writes: a format-2 runtime knows
/// neither integers nor bare references in JSON bodies.
pub const WRITTEN_MIN_READ_VERSION: u32 = 3;

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
    /// Indexed by `HoursId`.
    pub hours: Vec<HoursTable>,
    /// Indexed by `FlowId`.
    pub flows: Vec<FlowInfo>,
    pub source_map: SourceMap,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotInfo {
    pub name: String,
    pub start: NodeId,
    /// Said once when a conversation starts, before the start node.
    pub greeting: Option<Text>,
    pub avatar: Option<Template>,
    /// Said when an answer matches no option; `None` uses the built-in sentence.
    pub fallback: Option<Text>,
    /// Declared languages; the first is the default. Empty: single-language bot.
    pub languages: Vec<String>,
    /// Where `chatflow serve` posts conversation events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
}

/// The bot's `webhook` setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
    /// Name of the environment variable holding the HMAC key (never the key).
    pub secret: String,
    /// Which events to send: `started`, `message`, `closed`, `transferred`, `goal`, `failed`.
    pub events: Vec<String>,
}

/// The events a `webhook` may ask for.
pub const WEBHOOK_EVENTS: [&str; 6] = [
    "started",
    "message",
    "closed",
    "transferred",
    "goal",
    "failed",
];

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
    Number(Number),
    Bool(bool),
    Null,
    /// A bare reference: its value with its type (`null` when unset).
    Value(Expr),
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
    /// `{item...}` inside dynamic-data blocks: a path into the current list element.
    Item(Vec<PathStep>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub stmts: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stmt {
    Say(Text),
    Ask {
        attr: AttrId,
        kind: AskKind,
        prompt: Option<Text>,
    },
    Set {
        attr: AttrId,
        value: Expr,
    },
    Call(ApiId),
    Branch(BranchTable),
    Goto(NodeId),
    Close,
    /// `set sys.language = EXPR`
    SetLanguage(Expr),
    Menu(Menu),
    Carousel(Carousel),
    Email(Email),
    Otp(Otp),
    Form(Form),
    Media {
        kind: MediaKind,
        url: Template,
        caption: Option<Template>,
    },
    Transfer {
        kind: TransferKind,
        to: Template,
        message: Option<Text>,
    },
    Appointment(Appointment),
    Goal(String),
    Run {
        flow: FlowId,
        args: Vec<Expr>,
    },
    Return,
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
    /// Free text, like `text`.
    Question,
    /// An upload's URL (`http://` or `https://`).
    File,
}

impl AskKind {
    pub const ALL: [(&'static str, AskKind); 9] = [
        ("text", AskKind::Text),
        ("name", AskKind::Name),
        ("email", AskKind::Email),
        ("phone", AskKind::Phone),
        ("number", AskKind::Number),
        ("date", AskKind::Date),
        ("time", AskKind::Time),
        ("question", AskKind::Question),
        ("file", AskKind::File),
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
    Number(Number),
    Text(String),
    /// A JSON array from an API answer (dynamic data).
    List(Vec<Value>),
    /// A JSON object from an API answer.
    Map(std::collections::BTreeMap<String, Value>),
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
    /// Whether the business hours are open now.
    Open(HoursId),
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
    Stub {
        api: ApiId,
        answer: StubAnswer,
    },
    User(String),
    ExpectSay(String),
    ExpectNode(NodeId),
    ExpectAttrEquals {
        attr: AttrId,
        value: Value,
    },
    ExpectAttrNotSet {
        attr: AttrId,
    },
    ExpectRequest {
        api: ApiId,
        url: String,
    },
    ExpectClosed,
    ExpectChoices(Vec<String>),
    ExpectTransfer(String),
    ExpectEmail {
        to: String,
        subject: String,
    },
    ExpectGoal(String),
    ExpectMedia {
        kind: MediaKind,
        url: String,
    },
    /// RFC 3339, validated at compile time.
    Clock(String),
    Language(String),
}

// ---- bot-builder actions (docs/actions.md) ----

pub type HoursId = u32;
pub type FlowId = u32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Text {
    Plain(Template),
    /// (language code, text), in declaration order of the bot's `languages`.
    Translated(Vec<(String, Template)>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Menu {
    pub style: MenuStyle,
    pub text: Option<Text>,
    pub source: MenuSource,
    pub save: Option<AttrId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MenuSource {
    Static(Vec<MenuOption>),
    Dynamic(DynamicItems),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MenuOption {
    pub label: Template,
    pub kind: OptionKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OptionKind {
    Branch(NodeId),
    Link(Template),
    Postback { payload: String, target: NodeId },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicItems {
    pub list: AttrId,
    /// `None`: the element itself rendered as text.
    pub label: Option<Template>,
    pub saves: Vec<ItemSave>,
    pub target: NodeId,
    pub empty: NodeId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemSave {
    pub attr: AttrId,
    pub path: Vec<PathStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Carousel {
    Static {
        cards: Vec<Card>,
        save: Option<AttrId>,
    },
    Dynamic {
        list: AttrId,
        card: CardTemplate,
        saves: Vec<ItemSave>,
        target: NodeId,
        empty: NodeId,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub title: Template,
    pub subtitle: Option<Template>,
    pub image: Option<Template>,
    pub buttons: Vec<MenuOption>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardTemplate {
    pub title: Option<Template>,
    pub subtitle: Option<Template>,
    pub image: Option<Template>,
    pub button: Option<Template>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Email {
    pub to: Template,
    pub subject: Template,
    pub body: Template,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OtpSend {
    Email(Template),
    Call(ApiId),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Otp {
    pub send: OtpSend,
    pub prompt: Option<Text>,
    pub digits: u32,
    pub tries: u32,
    pub ok: NodeId,
    pub fail: NodeId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub title: Option<Text>,
    pub fields: Vec<FormField>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub attr: AttrId,
    pub kind: AskKind,
    pub label: Template,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appointment {
    pub slots_api: ApiId,
    pub slots_path: Vec<PathStep>,
    pub label: Option<Template>,
    pub prompt: Option<Text>,
    pub saves: Vec<ItemSave>,
    pub book_api: ApiId,
    pub booked: NodeId,
    pub failed: NodeId,
}

/// Weekly opening hours in a named IANA time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoursTable {
    pub name: String,
    pub zone: String,
    /// (weekday 0 = Monday, from minute of day, to minute of day), `from < to`.
    pub weekly: Vec<(u8, u16, u16)>,
    /// Closed dates, `YYYY-MM-DD`, in the table's zone.
    pub closed: Vec<String>,
}

/// A sub-flow: its nodes live in `Program::nodes` with names `flow.node`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowInfo {
    pub name: String,
    pub entry: NodeId,
    pub params: Vec<AttrId>,
}

impl Text {
    /// Every template of the text: one, or one per language.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        let (one, many) = match self {
            Text::Plain(t) => (Some(t), &[][..]),
            Text::Translated(texts) => (None, &texts[..]),
        };
        one.into_iter().chain(many.iter().map(|(_, t)| t))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{AskKind, SysAttr};
    use crate::diagnostic::Code;

    /// The words of the inline list `marker`...`` in the entry of `code` in
    /// `docs/diagnostics.md`.
    fn listed_under(code: Code, marker: &str) -> BTreeSet<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
        let text = std::fs::read_to_string(path).expect("docs/diagnostics.md");
        let list = text
            .split(&format!("### `{code}`"))
            .nth(1)
            .and_then(|s| s.split("\n### ").next())
            .and_then(|s| s.split(marker).nth(1))
            .and_then(|s| s.split('`').next())
            .unwrap_or_else(|| panic!("a {marker}...` list under {code}"));
        list.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn unknown_ask_kind_docs_list_every_kind() {
        let kinds = AskKind::ALL.iter().map(|(name, _)| name.to_string());
        assert_eq!(
            listed_under(Code::UnknownAskKind, "Kinds: `"),
            kinds.collect()
        );
    }

    #[test]
    fn unknown_sys_docs_list_every_system_attribute() {
        let attrs = SysAttr::ALL.iter().map(|a| a.name().to_string());
        assert_eq!(listed_under(Code::UnknownSys, "Known: `"), attrs.collect());
    }
}

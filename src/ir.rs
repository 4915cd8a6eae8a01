//! The IR: what `chatflow build` writes and the runtime executes.
//!
//! Plain serde data, independent of the source syntax. Names are resolved to indices
//! (`NodeId`, `ApiId`, `AttrId`), expressions are trees ready to evaluate, and source spans
//! live in [`SourceMap`], beside the hot data rather than inside it.

use serde::{Deserialize, Serialize};

pub use crate::source::Span;
pub use crate::vocab::{
    ArithOp, CmpOp, Func, MediaKind, MenuStyle, Method, Number, PathStep, Redirects, TextOp,
    TransferKind,
};

mod exits;
mod show;
pub use exits::{exits, Exit, Exits};
pub use show::{quote, show_arm, show_expr, show_template, show_value, value_json, value_text};

mod messages;
mod sys;
mod understanding;

pub use understanding::{Class, FaqAnswer, Understanding, Verdict};

pub use messages::{Message, BUILTIN_LANGUAGES};

pub use sys::SysAttr;

/// The IR format this build writes. 3: numbers are integers or floats ([`Number`]; whole
/// numbers are written `200`, not `200.0`) and `json {}` bodies may hold bare references
/// ([`JsonTemplate::Value`]). 4: expressions hold arithmetic, function calls and templates
/// ([`Expr::Arith`], [`Expr::Call`], [`Expr::Template`]); the bot may name a time zone; option
/// labels, card titles, subtitles and buttons, form field labels, email subjects and bodies and
/// media captions are [`Text`]s (a format-3 bare template still reads as a plain text); an
/// API's `retry_non_idempotent` is named for what it says, [`Api::idempotent`].
///
/// 5: the program may carry [`Program::understanding`] (intents, synonyms, FAQ), menu options
/// an intent and menus a threshold. A program that uses none of these is still written as
/// format 4 ([`BASE_FORMAT_VERSION`]), byte for byte as before, so format-4 runtimes run it.
///
/// 6: an API may be a language model ([`Api::ai`]), with the statements [`Stmt::Reply`] and
/// [`Stmt::AskAi`] and the bot's [`BotInfo::fallback_ai`]. A program with an `ai` and no
/// understanding of free text is written as format 6 ([`AI_FORMAT_VERSION`]).
///
/// 7: the intent matcher's weights are stored sparsely ([`crate::nlu::Model`]: per feature only
/// the weights far from its median). Every program that understands free text is written as
/// format 7 ([`UNDERSTANDING_FORMAT_VERSION`]) and needs a format-7 runtime; this runtime
/// refuses such a program written as format 5 or 6, whose dense weights it no longer reads
/// (rebuild it from its flow).
pub const FORMAT_VERSION: u32 = 7;
/// The format written for a program without understanding of free text or `ai`.
pub const BASE_FORMAT_VERSION: u32 = 4;
/// The format written for a program with an `ai` that does not understand free text.
pub const AI_FORMAT_VERSION: u32 = 6;
/// The format written for a program that understands free text, and the oldest that this
/// runtime reads for such a program.
pub const UNDERSTANDING_FORMAT_VERSION: u32 = 7;
/// The oldest IR format this runtime still reads (a format-2 number reads as a float).
pub const MIN_READ_VERSION: u32 = 2;
/// The oldest runtime format that reads the IR this build writes: a format-3 runtime knows
/// no arithmetic, function calls or templates in expressions, reads labels and captions as
/// bare templates, and looks for `retry_non_idempotent`.
pub const WRITTEN_MIN_READ_VERSION: u32 = 4;

/// Index into [`Program::nodes`].
pub type NodeId = u32;
/// Index into [`Program::apis`].
pub type ApiId = u32;
/// Index into [`Program::attrs`].
pub type AttrId = u32;

/// A compiled bot: everything the runtime needs, with names resolved to indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// The IR format this file was written in ([`FORMAT_VERSION`] when built).
    pub format_version: u32,
    /// The oldest runtime format that can read this file.
    pub min_read_version: u32,
    /// The `bot` block's settings.
    pub bot: BotInfo,
    /// Indexed by `ApiId`.
    pub apis: Vec<Api>,
    /// Indexed by `NodeId`.
    pub nodes: Vec<Node>,
    /// Indexed by `AttrId`: every attribute the flow sets or reads.
    pub attrs: Vec<AttrInfo>,
    /// The `test` blocks, for `chatflow test`.
    pub tests: Vec<TestCase>,
    /// Indexed by `HoursId`.
    pub hours: Vec<HoursTable>,
    /// Indexed by `FlowId`.
    pub flows: Vec<FlowInfo>,
    /// Where each node, statement and API came from, for messages that point at the source.
    pub source_map: SourceMap,
    /// The intent matcher, FAQ and synonyms (format 5; the sparse matcher since format 7);
    /// `None` when the flow has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub understanding: Option<Understanding>,
}

impl Program {
    /// Writes the program as pretty JSON and a newline (what `chatflow build` writes) straight
    /// into `out` through a buffer: the JSON, about 13 times the source, is never held whole
    /// in memory (docs/performance.md, "Memory on hostile and large sources").
    pub fn write_json(&self, out: impl std::io::Write) -> serde_json::Result<()> {
        use std::io::Write;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n").map_err(serde_json::Error::io)?;
        out.flush().map_err(serde_json::Error::io)
    }
}

/// The `bot` block, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotInfo {
    /// The bot's display name.
    pub name: String,
    /// The node a conversation starts in.
    pub start: NodeId,
    /// Said once when a conversation starts, before the start node.
    pub greeting: Option<Text>,
    /// Picture URL, reported in the profile event.
    pub avatar: Option<Template>,
    /// Said when an answer matches no option; `None` uses the built-in sentence.
    pub fallback: Option<Text>,
    /// Declared languages; the first is the default. Empty: single-language bot.
    pub languages: Vec<String>,
    /// Where `chatflow serve` posts conversation events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
    /// The IANA zone of `sys.date` and `sys.time` (`Europe/Paris`); `None` is UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The bot's own texts for built-in messages, by [`Message`] name (`wrong_code`); the
    /// others are said in their built-in translation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<(String, Text)>,
    /// `fallback reply with AI` (format 6): the model answers what matches no option; the
    /// `fallback` text (or the built-in one) is said when it gives no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_ai: Option<ApiId>,
}

/// The bot's `webhook` setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// The endpoint URL.
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

/// An attribute the flow uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrInfo {
    /// The name as written in the flow.
    pub name: String,
    /// The type the compiler inferred, when it could.
    pub ty: ValueType,
    /// Marked `sensitive`: the runtime masks and forgets its value when a turn ends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// The type of an attribute's values, as far as the compiler knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// A string.
    Text,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// Filled from a JSON answer or mixed: any type at run time.
    Any,
}

/// An `api` block, resolved: one HTTP request and what to save from the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Api {
    /// The name, for reports and stubs.
    pub name: String,
    /// The HTTP method.
    pub method: Method,
    /// The URL, filled in at send time.
    pub url: Template,
    /// Headers in source order.
    pub headers: Vec<Header>,
    /// The request body, when there is one.
    pub body: Option<RequestBody>,
    /// How long one attempt may take.
    pub timeout_ms: u64,
    /// How many times to try again after a failed attempt.
    pub retry: u32,
    /// Whether the request may be sent again after a 5xx answer or a transport error: true
    /// for GET, PUT and DELETE, and for an API marked `idempotent`. Format 3 called it
    /// `retry_non_idempotent` (with the same meaning, despite the name).
    #[serde(alias = "retry_non_idempotent")]
    pub idempotent: bool,
    /// Marked `internal`: may reach loopback, private, link-local, CGNAT and unspecified
    /// addresses (never cloud-metadata ones). Left out of the IR when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub internal: bool,
    /// Which redirects are followed. Left out of the IR when `same_origin`.
    #[serde(default, skip_serializing_if = "Redirects::is_default")]
    pub redirects: Redirects,
    /// Values saved from a successful answer.
    pub saves: Vec<Save>,
    /// Written `ai NAME { ... }` (format 6): an OpenAI-compatible chat-completions API. The
    /// request body is built at send time from the conversation; `Authorization` carries the
    /// key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiModel>,
}

/// What an `ai` sends besides the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiModel {
    /// The `model` field of the request.
    pub model: String,
    /// The system message, first in `messages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Text>,
    /// The `max_tokens` field; left out of the request when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// A request header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Header name.
    pub name: String,
    /// Header value, filled in at send time.
    pub value: Template,
}

/// An API's request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RequestBody {
    /// `body "..."`: inserted values encoded for the declared `Content-Type` (JSON-escaped,
    /// form-encoded, XML-escaped), as typed for any other type.
    Text(Template),
    /// `json {...}`: string values are templates, JSON-escaped when inserted.
    Json(JsonTemplate),
    /// `form {...}`: an `application/x-www-form-urlencoded` body; each field's value is
    /// rendered, then form-encoded.
    Form(JsonTemplate),
}

/// A JSON value whose strings are templates: the body of `json {}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JsonTemplate {
    /// An object, keys in source order.
    Object(Vec<(String, JsonTemplate)>),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// A string, templated and JSON-escaped when sent.
    String(Template),
    /// A number, sent as written.
    Number(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`
    Null,
    /// A bare reference: its value with its type (`null` when unset).
    Value(Expr),
}

/// `save ATTR = body.path`: copy part of a JSON answer into an attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Save {
    /// The attribute set.
    pub attr: AttrId,
    /// Steps after the leading `body`.
    pub path: Vec<PathStep>,
}

/// A template, split once at compile time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Literal text and inserted values in order.
    pub parts: Vec<TemplatePart>,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// An attribute's value; empty when unset.
    Attr(AttrId),
    /// The last call's HTTP status.
    Status,
    /// A system attribute (`sys.NAME`).
    Sys(String),
    /// Read from the environment at send time; only the name is stored.
    Secret(String),
    /// `{item...}` inside dynamic-data blocks: a path into the current list element.
    Item(Vec<PathStep>),
}

/// A node: statements run in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The name as written (`flow.node` inside sub-flows).
    pub name: String,
    /// The statements in order.
    pub stmts: Vec<Stmt>,
}

/// A statement the interpreter runs.
///
/// Every statement takes the room of the largest variant and most are small (`say`, `ask`,
/// `set`, `if`): the large actions are boxed so a program's statements take 48 bytes, not
/// 160 (docs/performance.md, "Memory on hostile and large sources"). A box is written and
/// read as what it holds, so the IR's JSON is the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stmt {
    /// Say a message.
    Say(Text),
    /// Wait for an answer and store it, asking again while it does not fit the kind.
    Ask {
        /// Where the answer is stored.
        attr: AttrId,
        /// What a valid answer looks like.
        kind: AskKind,
        /// The question; `None` uses the kind's built-in question.
        prompt: Option<Text>,
    },
    /// Evaluate an expression into an attribute.
    Set {
        /// The attribute set.
        attr: AttrId,
        /// The value stored.
        value: Expr,
    },
    /// Send an API's request and save from its answer.
    Call(ApiId),
    /// `reply with AI` (format 6): the model's answer to the conversation so far is said.
    Reply(ApiId),
    /// `ask AI TEXT save ATTR` (format 6): the model's answer to the prompt, after the
    /// conversation so far, is stored in ATTR.
    AskAi {
        /// The `ai` asked.
        api: ApiId,
        /// What it is asked.
        prompt: Text,
        /// Where its answer goes.
        attr: AttrId,
    },
    /// Go to the first arm whose condition holds.
    Branch(BranchTable),
    /// Continue in another node.
    Goto(NodeId),
    /// End the conversation.
    Close,
    /// `set sys.language = EXPR`
    SetLanguage(Expr),
    /// Offer options and wait for a pick.
    Menu(Box<Menu>),
    /// Offer cards and wait for a pick.
    Carousel(Box<Carousel>),
    /// Send an email.
    Email(Box<Email>),
    /// Send a one-time code and check it.
    Otp(Box<Otp>),
    /// Ask several fields in turn.
    Form(Box<Form>),
    /// Show an image, audio, video or file.
    Media {
        /// Which kind of media.
        kind: MediaKind,
        /// Where it is.
        url: Template,
        /// Text shown with it.
        caption: Option<Box<Text>>,
    },
    /// Hand the conversation to a department or an agent.
    Transfer {
        /// A department or an agent.
        kind: TransferKind,
        /// Whom to hand over to.
        to: Template,
        /// Said before the handover.
        message: Option<Box<Text>>,
    },
    /// Offer slots from one API and book the pick with another.
    Appointment(Box<Appointment>),
    /// Record that a named goal was reached (reported in events and coverage).
    Goal(String),
    /// Run a sub-flow, then continue after this statement.
    Run {
        /// The sub-flow.
        flow: FlowId,
        /// Its arguments, set as its parameters.
        args: Vec<Expr>,
    },
    /// Leave the current sub-flow.
    Return,
}

/// What an `ask` accepts, and how an answer is normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AskKind {
    /// Any text.
    Text,
    /// A person's name.
    Name,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A number.
    Number,
    /// A date.
    Date,
    /// A time of day.
    Time,
    /// Free text, like `text`.
    Question,
    /// An upload's URL (`http://` or `https://`).
    File,
}

impl AskKind {
    /// Every kind with the name the flow uses for it.
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
    /// Arms in order.
    pub arms: Vec<BranchArm>,
    /// Where to go when no arm holds.
    pub otherwise: NodeId,
}

/// One arm of a branch table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchArm {
    /// The condition.
    pub cond: Expr,
    /// Where it leads when the condition holds.
    pub target: NodeId,
}

/// A runtime value. Unset attributes are `None` in the session, not a `Value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, exact as written or computed.
    Number(Number),
    /// A string.
    Text(String),
    /// A JSON array from an API answer (dynamic data).
    List(Vec<Value>),
    /// A JSON object from an API answer.
    Map(std::collections::BTreeMap<String, Value>),
}

/// Read as `#[serde(untagged)]` would, but by the JSON type at hand rather than by trying each
/// variant in turn: stored sessions are read on every turn of `serve`, and each failed try
/// built and dropped an error message.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(Number::Int(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(
            i64::try_from(v).map_or(Number::Float(v as f64), Number::Int),
        ))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::Float(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Text(v))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = std::collections::BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            entries.insert(k, v);
        }
        Ok(Value::Map(entries))
    }
}

/// An expression, ready to evaluate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A constant.
    Lit(Value),
    /// An attribute's value.
    Attr(AttrId),
    /// The last call's HTTP status.
    Status,
    /// A system attribute (`sys.NAME`).
    Sys(String),
    /// `not a`
    Not(Box<Expr>),
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// A comparison.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// Inclusive integer range test.
    InRange(Box<Expr>, i64, i64),
    /// Equal to any of the values.
    InList(Box<Expr>, Vec<Expr>),
    /// A text test (`contains`, `starts with`, `ends with`).
    Text(TextOp, Box<Expr>, Box<Expr>),
    /// The pattern is checked at compile time; the runtime compiles it once at load.
    Matches(Box<Expr>, String),
    /// Whether the value is set.
    IsSet(Box<Expr>),
    /// Whether the business hours are open now.
    Open(HoursId),
    /// Arithmetic on numbers; anything else, or division by zero, is unset.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// A built-in function, with as many arguments as it takes.
    Call(Func, Vec<Expr>),
    /// A string in a `set` value: a template.
    Template(Template),
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

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SourceSpan {
    /// Index into [`SourceMap::files`].
    pub file: u32,
    /// First byte.
    pub start: u32,
    /// Byte after the last.
    pub end: u32,
}

/// A node's source positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NodeSpans {
    /// The whole `node` block.
    pub node: SourceSpan,
    /// One per statement of the node.
    pub stmts: Vec<SourceSpan>,
}

/// A `test` block, resolved: what the test runner executes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// The test's name, as reported.
    pub name: String,
    /// The whole `test` block.
    pub span: SourceSpan,
    /// The steps in order.
    pub steps: Vec<TestStep>,
}

/// A test step with its position, so a failure can point at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestStep {
    /// What the step does.
    pub kind: TestStepKind,
    /// The whole step.
    pub span: SourceSpan,
}

/// What a stubbed API answers in a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StubAnswer {
    /// An HTTP answer.
    Status {
        /// The HTTP status.
        status: u16,
        /// The body, sent as JSON.
        body: Option<serde_json::Value>,
    },
    /// No answer: the call times out.
    Timeout,
}

impl StubAnswer {
    /// The statuses a stub may answer with, in `stub` lines and `--stubs` files alike.
    pub const STATUSES: std::ops::RangeInclusive<u16> = crate::vocab::STUB_STATUSES;
    /// The rule, as help lines and stub-file errors say it.
    pub const STATUS_RULE: &'static str = crate::vocab::STUB_STATUS_RULE;

    /// `status` as a stubbed status, when it is one.
    pub fn status(status: u64) -> Option<u16> {
        crate::vocab::stub_status(status)
    }
}

/// What `expect request API ...` checks besides the URL, in the last request to API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RequestPart {
    /// The request's method.
    Method(Method),
    /// A header of the request.
    Header {
        /// The header's name, in any case.
        name: String,
        /// The header's value with secrets masked as `***`.
        value: String,
    },
    /// One value of the JSON body, or the whole body.
    Json {
        /// As written, e.g. `items[0].sku` (checked at compile time); `None` for the whole body.
        path: Option<String>,
        /// The expected JSON.
        value: serde_json::Value,
    },
}

/// A JSON path of a test line, `items[0].sku`: fields separated by `.`, indexes in `[]`
/// (`[0].sku` starts in an array body). `None` when it is not one.
pub fn parse_json_path(text: &str) -> Option<Vec<PathStep>> {
    let mut steps = Vec::new();
    for (i, segment) in text.split('.').enumerate() {
        let (field, mut rest) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        if field.contains(']') {
            return None;
        } else if !field.is_empty() {
            steps.push(PathStep::Field(field.to_string()));
        } else if i > 0 || rest.is_empty() {
            return None; // `a..b`, `a.`, `.a`, or an empty path
        }
        while let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']')?;
            steps.push(PathStep::Index(after[..close].parse().ok()?));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(steps)
}

/// What a test step does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TestStepKind {
    /// Set the stub server's answer for an API.
    Stub {
        /// The API stubbed.
        api: ApiId,
        /// Its answer.
        answer: StubAnswer,
    },
    /// The visitor's next message.
    User(String),
    /// The bot said this in the last turn.
    ExpectSay(String),
    /// The conversation waits in this node.
    ExpectNode(NodeId),
    /// The attribute holds this value.
    ExpectAttrEquals {
        /// The attribute checked.
        attr: AttrId,
        /// The expected value.
        value: Value,
    },
    /// The attribute is unset.
    ExpectAttrNotSet {
        /// The attribute checked.
        attr: AttrId,
    },
    /// The API was called with this URL.
    ExpectRequest {
        /// The API called.
        api: ApiId,
        /// The expected URL.
        url: String,
    },
    /// The last request to the API that reached the stub server has this part.
    ExpectRequestPart {
        /// The API called.
        api: ApiId,
        /// What is checked.
        part: RequestPart,
    },
    /// The conversation has ended.
    ExpectClosed,
    /// These options were offered, in order.
    ExpectChoices(Vec<String>),
    /// The conversation was handed to this department or agent.
    ExpectTransfer(String),
    /// An email was sent.
    ExpectEmail {
        /// Expected recipient.
        to: String,
        /// Expected subject.
        subject: String,
    },
    /// This goal was reached.
    ExpectGoal(String),
    /// The last message's intent (`none`: below the threshold).
    ExpectIntent(String),
    /// This media was shown.
    ExpectMedia {
        /// Expected kind.
        kind: MediaKind,
        /// Expected URL.
        url: String,
    },
    /// RFC 3339, validated at compile time.
    Clock(String),
    /// Switch the conversation's language before the next step.
    Language(String),
}

// ---- bot-builder actions (docs/actions.md) ----

/// Index into [`Program::hours`].
pub type HoursId = u32;
/// Index into [`Program::flows`].
pub type FlowId = u32;

/// A message text: every text a visitor sees (messages, prompts, labels, titles, captions,
/// email subjects and bodies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "TextRepr")]
pub enum Text {
    /// The same template in every language.
    Plain(Template),
    /// (language code, text), in declaration order of the bot's `languages`.
    Translated(Vec<(String, Template)>),
}

/// How a [`Text`] is read: tagged, or (format 3, where labels, titles, captions and email
/// fields were bare templates) a bare template.
#[derive(Deserialize)]
#[serde(untagged)]
enum TextRepr {
    Tagged(TaggedText),
    Bare(Template),
}

#[derive(Deserialize)]
enum TaggedText {
    Plain(Template),
    Translated(Vec<(String, Template)>),
}

impl From<TextRepr> for Text {
    fn from(repr: TextRepr) -> Text {
        match repr {
            TextRepr::Tagged(TaggedText::Plain(t)) | TextRepr::Bare(t) => Text::Plain(t),
            TextRepr::Tagged(TaggedText::Translated(texts)) => Text::Translated(texts),
        }
    }
}

/// `choose` or `buttons`: options to pick from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Menu {
    /// Choice list or buttons.
    pub style: MenuStyle,
    /// The prompt above the options.
    pub text: Option<Text>,
    /// Where the options come from.
    pub source: MenuSource,
    /// Stores the picked label or payload.
    pub save: Option<AttrId>,
    /// The confidence an intent match needs in this menu, instead of the bot's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

/// Where a menu's options come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MenuSource {
    /// Written in the flow.
    Static(Vec<MenuOption>),
    /// One per element of a list attribute.
    Dynamic(DynamicItems),
}

/// One option of a menu or a card button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MenuOption {
    /// The text shown, also an answer that picks it.
    pub label: Text,
    /// What picking it does.
    pub kind: OptionKind,
    /// Free text matching this intent picks the option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
}

/// What picking an option does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OptionKind {
    /// Continue in this node.
    Branch(NodeId),
    /// Open a URL; the conversation stays.
    Link(Template),
    /// Report a payload instead of the label, and continue in a node.
    Postback {
        /// The value reported instead of the label.
        payload: String,
        /// Where picking it leads.
        target: NodeId,
    },
}

/// Options built from the elements of a list attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicItems {
    /// The list attribute.
    pub list: AttrId,
    /// `None`: the element itself rendered as text.
    pub label: Option<Text>,
    /// Values saved from the picked element.
    pub saves: Vec<ItemSave>,
    /// Where picking leads.
    pub target: NodeId,
    /// Where to go when the list is empty.
    pub empty: NodeId,
}

/// `save ATTR = item.path`: copy part of the picked element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemSave {
    /// The attribute set.
    pub attr: AttrId,
    /// The steps after `item`; empty for the whole element.
    pub path: Vec<PathStep>,
}

/// Cards to pick from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Carousel {
    /// Cards written in the flow.
    Static {
        /// The cards in order.
        cards: Vec<Card>,
        /// Stores the picked card's title.
        save: Option<AttrId>,
    },
    /// One card per element of a list attribute.
    Dynamic {
        /// The list attribute.
        list: AttrId,
        /// How each card is built.
        card: CardTemplate,
        /// Values saved from the picked element.
        saves: Vec<ItemSave>,
        /// Where picking leads.
        target: NodeId,
        /// Where to go when the list is empty.
        empty: NodeId,
    },
}

/// A card written in the flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// Heading; also an answer that picks the card.
    pub title: Text,
    /// Text under the title.
    pub subtitle: Option<Text>,
    /// Picture URL.
    pub image: Option<Template>,
    /// Buttons in order.
    pub buttons: Vec<MenuOption>,
}

/// How each card of a `carousel from LIST` is built from `item`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardTemplate {
    /// Heading per element.
    pub title: Option<Text>,
    /// Text under the title, per element.
    pub subtitle: Option<Text>,
    /// Picture URL, per element.
    pub image: Option<Template>,
    /// The one button each card gets.
    pub button: Option<Text>,
}

/// An email sent over SMTP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Email {
    /// Recipient address.
    pub to: Template,
    /// Subject line.
    pub subject: Text,
    /// Message body.
    pub body: Text,
}

/// How a one-time code reaches the visitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OtpSend {
    /// By email to this address.
    Email(Template),
    /// Through this API; the code is `sys.otp_code` in its request.
    Call(ApiId),
}

/// Send a one-time code and ask for it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Otp {
    /// How the code is sent.
    pub send: OtpSend,
    /// The question; `None` uses the built-in one.
    pub prompt: Option<Text>,
    /// Code length.
    pub digits: u32,
    /// Wrong answers allowed before `fail`.
    pub tries: u32,
    /// Where a right code leads.
    pub ok: NodeId,
    /// Where running out of tries leads.
    pub fail: NodeId,
}

/// Several fields asked one after another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// Heading said before the first field.
    pub title: Option<Text>,
    /// Fields in order.
    pub fields: Vec<FormField>,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// Where the answer is stored.
    pub attr: AttrId,
    /// What a valid answer looks like.
    pub kind: AskKind,
    /// The question.
    pub label: Text,
}

/// Offer slots from one API, book the picked one with another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appointment {
    /// The API that lists free slots.
    pub slots_api: ApiId,
    /// Where the slot list is in its answer, after `body`.
    pub slots_path: Vec<PathStep>,
    /// Each slot's label, built from `item`.
    pub label: Option<Text>,
    /// The question above the slots.
    pub prompt: Option<Text>,
    /// Values saved from the picked slot.
    pub saves: Vec<ItemSave>,
    /// The API that books the picked slot.
    pub book_api: ApiId,
    /// Where a successful booking leads.
    pub booked: NodeId,
    /// Where a failed slots or booking call leads.
    pub failed: NodeId,
}

/// Weekly opening hours in a named IANA time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoursTable {
    /// The name `open(NAME)` uses.
    pub name: String,
    /// IANA time zone of the rules.
    pub zone: String,
    /// (weekday 0 = Monday, from minute of day, to minute of day), `from < to`.
    pub weekly: Vec<(u8, u16, u16)>,
    /// Closed dates, `YYYY-MM-DD`, in the table's zone.
    pub closed: Vec<String>,
}

/// A sub-flow: its nodes live in `Program::nodes` with names `flow.node`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowInfo {
    /// The name `run` uses.
    pub name: String,
    /// The node it starts in.
    pub entry: NodeId,
    /// Parameters, set from `run`'s arguments.
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

/// For `skip_serializing_if`: a flag left out of the IR when off.
fn is_false(b: &bool) -> bool {
    !*b
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

    /// A program holds a statement per line of flow, so its size is most of the IR's memory:
    /// 160 bytes before issue 11 (the actions inline). A new large variant belongs in a `Box`.
    #[test]
    fn a_statement_stays_small() {
        let size = std::mem::size_of::<super::Stmt>();
        assert!(size <= 48, "{size}");
    }

    #[test]
    fn a_format_3_label_reads_as_a_plain_text_and_texts_round_trip() {
        use super::{MenuOption, Template, TemplatePart, Text};
        let old = r#"{"label": {"parts": [{"Text": "Yes"}]}, "kind": {"Branch": 1}}"#;
        let option: MenuOption = serde_json::from_str(old).expect("a format-3 option");
        let yes = Template {
            parts: vec![TemplatePart::Text("Yes".into())],
        };
        assert_eq!(option.label, Text::Plain(yes.clone()));
        for text in [
            Text::Plain(yes.clone()),
            Text::Translated(vec![("en".into(), yes.clone()), ("es".into(), yes)]),
        ] {
            let json = serde_json::to_string(&text).expect("serialises");
            assert_eq!(serde_json::from_str::<Text>(&json).ok(), Some(text));
        }
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
    fn unknown_function_docs_list_every_function() {
        let names = crate::vocab::Func::ALL.iter().map(|f| f.name().to_string());
        assert_eq!(
            listed_under(Code::UnknownFunction, "Functions: `"),
            names.collect()
        );
    }

    #[test]
    fn unknown_sys_docs_list_every_system_attribute() {
        let attrs = SysAttr::ALL.iter().map(|a| a.name().to_string());
        assert_eq!(listed_under(Code::UnknownSys, "Known: `"), attrs.collect());
    }
}

#[cfg(test)]
mod value_tests {
    use super::*;

    /// The hand-written reader gives what `#[serde(untagged)]` gave, for every JSON shape.
    #[test]
    fn values_read_by_json_type() {
        let read = |j: &str| serde_json::from_str::<Value>(j).unwrap();
        assert_eq!(read("null"), Value::Null);
        assert_eq!(read("true"), Value::Bool(true));
        assert!(matches!(read("-7"), Value::Number(Number::Int(-7))));
        assert!(matches!(read("2.5"), Value::Number(Number::Float(f)) if f == 2.5));
        // Past i64: a float, as the untagged form read it.
        assert!(matches!(
            read("18446744073709551615"),
            Value::Number(Number::Float(_))
        ));
        assert_eq!(read("\"x\""), Value::Text("x".into()));
        let nested = read(r#"{"b": [1, "two", null], "a": {}}"#);
        let Value::Map(m) = &nested else {
            panic!("{nested:?}")
        };
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert!(matches!(&m["b"], Value::List(items) if items.len() == 3));
        // Writing and reading back is the identity.
        let text = serde_json::to_string(&nested).unwrap();
        assert_eq!(read(&text), nested);
    }
}

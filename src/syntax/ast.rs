//! The typed syntax tree. Every piece that a diagnostic may point at keeps its [`Span`]:
//! byte offsets into the source file it came from.

use serde::Serialize;

pub use super::Str;
pub use crate::source::Span;
pub use crate::vocab::{
    ArithOp, CmpOp, Func, MediaKind, MenuStyle, Method, Number, PathStep, Redirects, TextOp,
    TransferKind,
};

/// A name as written: a node, an API, an attribute, a kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ident {
    /// The name itself, case kept ([`Str`]: no spare capacity, 8 bytes less than a `String`).
    pub name: Str,
    /// Where it is written, for diagnostics.
    pub span: Span,
}

/// A string literal after unescaping (`\"`, `\\`, `\n`, `\t`), not a template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrLit {
    /// The text after unescaping.
    pub value: Str,
    /// Where the literal stands, quotes included.
    pub span: Span,
}

/// One parsed `.flow` file.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct File {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A top-level item of a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Item {
    /// `bot "Name" { ... }`: the bot's settings (one per program).
    Bot(Bot),
    /// `api NAME { ... }`: an HTTP API the flow may call.
    Api(Api),
    /// `node NAME { ... }`: a step of the conversation.
    Node(Node),
    /// `test "name" { ... }`: a scripted conversation run by `chatflow test`.
    Test(Test),
    /// `import "file.flow"`: another file whose items join this program.
    Import(Import),
    /// `hours NAME { ... }`: business hours.
    Hours(Hours),
    /// `flow NAME(params) { node ... }`: a sub-flow.
    Flow(Flow),
    /// `intent NAME { "sample" ... }`: sample phrases of an intent.
    Intent(IntentDef),
    /// `intents from "file.csv"`: samples in bulk, one `phrase,intent` per line.
    IntentsFrom(IntentsFrom),
    /// `synonyms { "nyc" "new york city" = "New York" }`
    Synonyms(Synonyms),
    /// `faq { "question" ... } -> "answer"` (or `-> NODE`)
    Faq(Faq),
}

/// `intent NAME { "sample" ... }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentDef {
    /// The intent's name.
    pub name: Ident,
    /// Sample phrases in source order.
    pub samples: Vec<StrLit>,
    /// The whole block.
    pub span: Span,
}

/// `intents from "file.csv"`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentsFrom {
    /// The CSV path as written, relative to the flow file.
    pub path: StrLit,
    /// The whole item.
    pub span: Span,
}

/// `synonyms { ... }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Synonyms {
    /// `"a" "b" = "Canonical"` rules in source order.
    pub rules: Vec<SynonymRule>,
    /// The whole block.
    pub span: Span,
}

/// `"nyc" "new york city" = "New York"`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynonymRule {
    /// The variants.
    pub variants: Vec<StrLit>,
    /// What they mean.
    pub canonical: StrLit,
    /// The whole rule.
    pub span: Span,
}

/// `faq { "question" ... } -> "answer"`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Faq {
    /// The ways of asking, in source order.
    pub questions: Vec<StrLit>,
    /// What the bot does when one is asked.
    pub answer: FaqAnswer,
    /// The whole item.
    pub span: Span,
}

/// The answer of an FAQ entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FaqAnswer {
    /// `-> "text"`: said, and the conversation stays where it is.
    Say(Text),
    /// `-> NODE`: the conversation continues at NODE.
    Goto(Ident),
}

/// `threshold 0.6`: the confidence an intent match needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// The number as written.
    pub value: f64,
    /// The whole setting.
    pub span: Span,
}

/// `import "path"`: a file to compile with this one, relative to the importing file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    /// The path as written.
    pub path: StrLit,
    /// The whole statement.
    pub span: Span,
}

/// The `bot "Name" { ... }` block: name and conversation-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bot {
    /// The bot's display name.
    pub name: StrLit,
    /// Settings in source order; the compiler checks for repeats.
    pub settings: Vec<BotSetting>,
    /// The whole block.
    pub span: Span,
}

/// One setting in the `bot` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum BotSetting {
    /// `start NODE`
    Start(Ident),
    /// `greeting TEXT`: said once, before the start node.
    Greeting(Text),
    /// `avatar "url"`: the bot's picture, reported in the profile event.
    Avatar(Template),
    /// `fallback TEXT`: said when an answer matches no option.
    Fallback(Text),
    /// `fallback reply with AI`: a language model answers what matches no option.
    FallbackAi(Ident),
    /// `languages en, es`: declared languages, the first is the default.
    Languages(Vec<Ident>),
    /// `webhook "https://..." secret NAME events [started, closed]`: where `serve` posts
    /// conversation events.
    Webhook(Webhook),
    /// `timezone "Europe/Paris"`: the zone of `sys.date` and `sys.time`.
    Timezone(StrLit),
    /// `messages { wrong_code TEXT ... }`: the bot's own texts for built-in messages.
    Messages {
        /// Each message's name and text, in source order.
        entries: Vec<(Ident, Text)>,
        /// The whole block.
        span: Span,
    },
    /// `threshold 0.6`: the confidence an intent match needs, bot-wide.
    Threshold(Threshold),
    /// `intent NAME -> NODE`: free text matching the intent goes to NODE from any wait.
    Route {
        /// The intent.
        intent: Ident,
        /// Where it leads.
        target: Ident,
    },
}

/// Where `serve` posts conversation events, signed with an HMAC key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    /// The endpoint URL.
    pub url: StrLit,
    /// The environment variable holding the HMAC key.
    pub secret: Ident,
    /// The event names to post (`started`, `closed`, ...); checked by the compiler.
    pub events: Vec<Ident>,
}

/// `api NAME { ... }`: an HTTP request the flow sends with `call NAME`; or `ai NAME { ... }`,
/// a chat-completions API the `ai` statements send the conversation to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Api {
    /// Written `ai NAME { ... }`: a language model (`url`, `model`, `key`, ... properties).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ai: bool,
    /// The name `call` uses.
    pub name: Ident,
    /// Properties in source order; the compiler checks for missing and repeated ones.
    pub props: Vec<ApiProp>,
    /// The whole block.
    pub span: Span,
}

/// One property of an `api` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ApiProp {
    /// `live` or `draft`; `live == true` for live.
    Mode {
        /// `true` for `live`, `false` for `draft`.
        live: bool,
        /// The keyword.
        span: Span,
    },
    /// `idempotent`: sending the request twice does what sending it once does, so `retry`
    /// may repeat a `post` or `patch` too.
    Idempotent {
        /// The keyword.
        span: Span,
    },
    /// `internal`: the API may reach loopback, private, link-local and CGNAT addresses.
    Internal {
        /// The keyword.
        span: Span,
    },
    /// `redirects same_origin|any|none`.
    Redirects {
        /// Which redirects are followed.
        mode: Redirects,
        /// The whole line.
        span: Span,
    },
    /// `get "url-template"` and friends.
    Request {
        /// The HTTP method.
        method: Method,
        /// The URL, which may insert attributes and secrets.
        url: Template,
        /// The whole property.
        span: Span,
    },
    /// `header "Name" = "value-template"`
    Header {
        /// The header name.
        name: StrLit,
        /// The header value, which may insert attributes and secrets.
        value: Template,
        /// The whole property.
        span: Span,
    },
    /// `form { "field": "template", ... }` — an `application/x-www-form-urlencoded` body whose
    /// values are encoded; the values are strings, numbers, booleans or bare references.
    Form {
        /// The fields, as a JSON object.
        body: JsonTemplate,
        /// The whole property.
        span: Span,
    },
    /// `body "template"` — sent as is.
    Body {
        /// The text sent as the request body.
        body: Template,
        /// The whole property.
        span: Span,
    },
    /// `json { "key": "template" or literal, ... }`
    Json {
        /// The JSON sent; its strings may insert values.
        body: JsonTemplate,
        /// The whole property.
        span: Span,
    },
    /// `timeout 2s` / `timeout 500ms`; stored in milliseconds.
    Timeout {
        /// The limit in milliseconds.
        millis: u64,
        /// The whole property.
        span: Span,
    },
    /// `retry 2`
    Retry {
        /// How many times to try again after the first attempt.
        count: u32,
        /// The whole property.
        span: Span,
    },
    /// `url "https://.../v1/chat/completions"` (an `ai`): where the model answers.
    Url {
        /// The URL; its scheme, host and port are literal text.
        url: Template,
        /// The whole property.
        span: Span,
    },
    /// `model "name"` (an `ai`).
    Model {
        /// The model's name as the provider spells it.
        model: StrLit,
        /// The whole property.
        span: Span,
    },
    /// `key "{secret.AI_KEY}"` (an `ai`): sent as `Authorization: Bearer KEY`.
    Key {
        /// The key, normally a secret.
        key: Template,
        /// The whole property.
        span: Span,
    },
    /// `system TEXT` (an `ai`): the system message.
    System {
        /// What the model is told it is.
        text: Text,
        /// The whole property.
        span: Span,
    },
    /// `max_tokens 300` (an `ai`): the longest answer the model may give.
    MaxTokens {
        /// The limit, in the model's tokens.
        count: u32,
        /// The whole property.
        span: Span,
    },
    /// `save ATTR [sensitive] = body.path[0].x`
    Save {
        /// The attribute that receives the value.
        attr: Ident,
        /// `sensitive`: the value lives only for the turn it was given in and never shows.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        sensitive: bool,
        /// Where in the answer's body the value is.
        path: SavePath,
        /// The whole property.
        span: Span,
    },
}

/// `body` followed by `.field` and `[index]` steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavePath {
    /// The steps after `body`, in order.
    pub steps: Vec<PathStep>,
    /// The whole path, `body` included.
    pub span: Span,
}

/// A JSON value inside `json { ... }` whose strings are templates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum JsonTemplate {
    /// `{ "key": value, ... }`, keys in source order.
    Object(Vec<(StrLit, JsonTemplate)>, Span),
    /// `[value, ...]`
    Array(Vec<JsonTemplate>, Span),
    /// A string, which may insert values.
    String(Template),
    /// A number literal.
    Number(Number, Span),
    /// A bare reference (`qty`, `status`, `sys.language`): its value, with its type.
    Ref(Expr),
    /// `true` or `false`.
    Bool(bool, Span),
    /// `null`
    Null(Span),
}

/// A string literal that may insert values: `"Hello {name}, {{literal}}"`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    /// Literal text and references in source order.
    pub parts: Vec<TemplatePart>,
    /// The whole literal including quotes.
    pub span: Span,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TemplatePart {
    /// Literal text, unescaped (`{{` already turned into `{`).
    Text(Str),
    /// `{name}`, `{sys.NAME}`, `{secret.NAME}`, `{status}`; span covers the braces.
    Ref(Ref),
}

/// A reference to a value: in templates and in expressions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ref {
    /// What is referred to.
    pub kind: RefKind,
    /// Where the reference is written.
    pub span: Span,
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RefKind {
    /// `status`
    Status,
    /// A user attribute.
    Attr(Str),
    /// `sys.NAME`
    Sys(Str),
    /// `secret.NAME` — templates only.
    Secret(Str),
    /// `item`, `item.name`, `item.tags[0]` — templates inside dynamic-data blocks only;
    /// the steps after `item`.
    Item(Vec<PathStep>),
}

/// `node NAME { ... }`: statements run in order when the conversation reaches it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// The name `goto` and arrows use.
    pub name: Ident,
    /// The statements in source order.
    pub body: Vec<Stmt>,
    /// The whole block.
    pub span: Span,
}

/// A statement with its position, so diagnostics can point at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stmt {
    /// What the statement does.
    pub kind: StmtKind,
    /// The whole statement.
    pub span: Span,
}

/// What a statement in a node does.
///
/// Every statement takes the room of the largest variant, and most statements are small
/// (`say`, `ask`, `if`, `goto`): the large actions, and the parts most statements leave out
/// or few statements have (an ask's kind and prompt, a caption, a set's value), are boxed so
/// a flow's statements stay small in memory (docs/performance.md, "Memory on hostile and
/// large sources").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StmtKind {
    /// `say TEXT`: a message to the visitor.
    Say(Text),
    /// `ask ATTR [sensitive] [as KIND] ["prompt"]`; the kind is checked by the compiler.
    Ask {
        /// The attribute the answer is stored in.
        attr: Ident,
        /// `sensitive`: the value lives only for the turn it was given in and never shows.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        sensitive: bool,
        /// `as KIND` (`number`, `email`, ...); free text when absent. Boxed, like the
        /// prompt: most asks have neither, and every statement takes an ask's room.
        kind: Option<Box<Ident>>,
        /// The question; the compiler supplies one per kind when absent.
        prompt: Option<Box<Text>>,
    },
    /// `set ATTR [sensitive] = EXPR`
    Set {
        /// The attribute set.
        attr: Ident,
        /// `sensitive`: the value lives only for the turn it was given in and never shows.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        sensitive: bool,
        /// Its new value.
        value: Box<Expr>,
    },
    /// `call API`: send the API's request and save from its answer.
    Call(Ident),
    /// `reply with AI`: the model answers the visitor's last message.
    Reply(Ident),
    /// `ask AI TEXT save ATTR`: the model's answer to the prompt goes into ATTR.
    AskAi {
        /// The `ai` asked.
        ai: Ident,
        /// What it is asked, after the conversation so far.
        prompt: Box<Text>,
        /// The attribute its answer is stored in.
        attr: Ident,
    },
    /// `if C -> n elif C -> n else -> n`
    Branch(Branch),
    /// `goto NODE`
    Goto(Ident),
    /// `close`: the conversation ends.
    Close,
    /// `set sys.language = EXPR` (`name` is the part after `sys.`).
    SetSys {
        /// The system attribute's name.
        name: Ident,
        /// Its new value.
        value: Box<Expr>,
    },
    /// `choose` / `buttons`
    Menu(Box<Menu>),
    /// `carousel { card ... }` or `carousel from LIST { ... }`
    Carousel(Box<Carousel>),
    /// `email { to ...; subject ...; body ... }`
    Email(Box<Email>),
    /// `otp { send ...; prompt ...; ok -> n; fail -> n }`: a one-time code check.
    Otp(Box<Otp>),
    /// `form { field ... }`: several questions asked together.
    Form(Box<Form>),
    /// `image "url" ["caption"]`, `audio`, `video`, `file`
    Media {
        /// Image, audio, video or file.
        kind: MediaKind,
        /// Where the media is.
        url: Template,
        /// Text shown with it.
        caption: Option<Box<Text>>,
    },
    /// `transfer department "Billing" ["message"]` / `transfer agent "a@b" ["message"]`
    Transfer {
        /// A department or an agent.
        kind: TransferKind,
        /// Whom to hand over to.
        to: Template,
        /// Said to the visitor before the handover.
        message: Option<Box<Text>>,
    },
    /// `appointment { slots call ...; book call ...; booked -> n; failed -> n }`
    Appointment(Box<Appointment>),
    /// `goal "name"`
    Goal(StrLit),
    /// `run FLOW(args)`
    Run {
        /// The sub-flow run.
        flow: Ident,
        /// Its arguments, one per parameter.
        args: Vec<Expr>,
    },
    /// `return` (inside a sub-flow)
    Return,
}

/// `if C -> n (elif C -> n)* [else -> n]`. The grammar accepts a missing `else` so the
/// compiler can explain why it is needed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Branch {
    /// `if` and `elif` arms, tried in order.
    pub arms: Box<[BranchArm]>,
    /// The `else` target, when written.
    pub otherwise: Option<Ident>,
    /// Span of the `else` keyword clause, when present.
    pub otherwise_span: Option<Span>,
}

/// One `if C -> n` or `elif C -> n` arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BranchArm {
    /// The condition.
    pub cond: Expr,
    /// Where it leads when the condition holds.
    pub target: Ident,
    /// The whole `if C -> n` / `elif C -> n` clause.
    pub span: Span,
}

/// An expression with its position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// The whole expression.
    pub span: Span,
}

/// A literal value in an expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Literal {
    /// A number as written (exact).
    Number(Number),
    /// A string, without template parts.
    String(Str),
    /// `true` or `false`.
    Bool(bool),
    /// `null`: no value.
    Null,
}

/// The forms an expression takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    /// A literal.
    Lit(Literal),
    /// An attribute, system attribute, `status` or `item` reference.
    Ref(Ref),
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `a == b`, `a < b`, ...
    Cmp {
        /// The comparison.
        op: CmpOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `x in 400..499` — inclusive integer bounds.
    InRange {
        /// The value tested.
        value: Box<Expr>,
        /// Lowest value in range.
        low: i64,
        /// Highest value in range.
        high: i64,
        /// The `LOW..HIGH` bounds as written.
        bounds_span: Span,
    },
    /// `x in [v1, v2]`
    InList {
        /// The value tested.
        value: Box<Expr>,
        /// The values it may equal.
        items: Vec<Expr>,
    },
    /// `a contains b`, `a starts with b`, `a ends with b`
    Text {
        /// Which text test.
        op: TextOp,
        /// The text searched.
        lhs: Box<Expr>,
        /// What is searched for.
        rhs: Box<Expr>,
    },
    /// `x matches "regex"`
    Matches {
        /// The text tested.
        value: Box<Expr>,
        /// The regular expression.
        pattern: StrLit,
    },
    /// `x is set` (`negated == false`) / `x is not set`
    IsSet {
        /// The value tested.
        value: Box<Expr>,
        /// `true` for `is not set`.
        negated: bool,
    },
    /// `open(HOURS)`: whether the business hours are open now.
    Open(Ident),
    /// `a + b`, `a * b`, ...: arithmetic on numbers.
    Arith {
        /// The operator.
        op: ArithOp,
        /// The left operand.
        lhs: Box<Expr>,
        /// The right operand.
        rhs: Box<Expr>,
    },
    /// `len(x)`, `round(x, 2)`, ...: the name as written; the compiler knows the functions.
    Call {
        /// The function's name as written (checked by the compiler).
        name: Ident,
        /// The arguments, in order.
        args: Vec<Expr>,
    },
    /// A string in the value of a `set`: a template (`"{first} {last}"`). Strings in
    /// conditions stay plain text ([`Literal::String`]).
    Template(Template),
}

/// `test "name" { ... }`: a scripted conversation with expectations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Test {
    /// The name reported by `chatflow test`.
    pub name: StrLit,
    /// Steps in source order.
    pub steps: Vec<TestStep>,
    /// The whole block.
    pub span: Span,
}

/// A step of a test with its position, so a failure can point at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestStep {
    /// What the step does.
    pub kind: TestStepKind,
    /// The whole step.
    pub span: Span,
}

/// What a stubbed API answers in a test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StubAnswer {
    /// `stub API 200 {json}`; `body` is the JSON value, already parsed.
    Status {
        /// The HTTP status.
        status: u16,
        /// The body, sent as JSON.
        body: Option<serde_json::Value>,
    },
    /// `stub API timeout`
    Timeout,
}

/// What `expect request API ...` checks besides the URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum RequestPart {
    /// `method post`
    Method(Method),
    /// `header "Name" == "value"`
    Header {
        /// The header's name.
        name: StrLit,
        /// Its expected value, secrets written `***`.
        value: StrLit,
    },
    /// `json "path" == JSON` (one value of the body) or `json JSON` (the whole body).
    Json {
        /// The path into the body; `None` for the whole body.
        path: Option<StrLit>,
        /// The expected JSON.
        value: serde_json::Value,
    },
}

/// What `expect attr` checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AttrExpectation {
    /// `expect attr A == VALUE`
    Equals(Literal),
    /// `expect attr A is not set`
    NotSet,
}

/// What a test step does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TestStepKind {
    /// `stub API ...`: the stub server's answer for that API from now on.
    Stub {
        /// The API stubbed.
        api: Ident,
        /// Its answer.
        answer: StubAnswer,
    },
    /// `user "text"`: the visitor's next message.
    User(StrLit),
    /// `expect say "text"`: the bot said this in the last turn.
    ExpectSay(StrLit),
    /// `expect node NAME`: the conversation waits in this node.
    ExpectNode(Ident),
    /// `expect attr A == VALUE` / `is not set`
    ExpectAttr {
        /// The attribute checked.
        attr: Ident,
        /// What it must hold.
        expect: AttrExpectation,
    },
    /// `expect request API "url"`: the API was called with this URL.
    ExpectRequest {
        /// The API called.
        api: Ident,
        /// The expected URL.
        url: StrLit,
    },
    /// `expect request API method post` / `header "N" == "V"` / `json ...`
    ExpectRequestPart {
        /// The API called.
        api: Ident,
        /// What is checked.
        part: RequestPart,
    },
    /// `expect closed`: the conversation has ended.
    ExpectClosed,
    /// `expect choices "A", "B"`
    ExpectChoices(Vec<StrLit>),
    /// `expect transfer "Billing"`
    ExpectTransfer(StrLit),
    /// `expect email "to@x.test" "Subject"`
    ExpectEmail {
        /// Expected recipient.
        to: StrLit,
        /// Expected subject.
        subject: StrLit,
    },
    /// `expect goal "name"`
    ExpectGoal(StrLit),
    /// `expect intent NAME` / `expect intent none`: the last message's intent.
    ExpectIntent(Ident),
    /// `expect media image "url"`
    ExpectMedia {
        /// Expected kind of media.
        kind: MediaKind,
        /// Expected URL.
        url: StrLit,
    },
    /// `clock "2026-11-27T15:00:00-06:00"`
    Clock(StrLit),
    /// `language "es"`
    Language(StrLit),
}

// ---- bot-builder actions (docs/actions.md) ----

/// A message text: one template, or a translation set `{ en "..." es "..." }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Text {
    /// One template for every language.
    Plain(Template),
    /// `{ en "..." es "..." }`: a template per declared language.
    Translated {
        /// Language code and its template, in source order.
        texts: Vec<(Ident, Template)>,
        /// The whole set, braces included.
        span: Span,
    },
}

/// `choose` or `buttons`: options the visitor picks from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Menu {
    /// Choice list or buttons.
    pub style: MenuStyle,
    /// The prompt shown above the options.
    pub text: Option<Text>,
    /// Where the options come from.
    pub source: MenuSource,
    /// `save ATTR` (static menus): stores the chosen label or payload.
    pub save: Option<Ident>,
    /// `threshold 0.7` inside the block: overrides the bot's for this menu.
    pub threshold: Option<Threshold>,
}

/// Where a menu's options come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum MenuSource {
    /// Options written in the flow.
    Static(Vec<MenuOption>),
    /// One option per element of a list attribute.
    Dynamic(DynamicItems),
}

/// One option of a menu or a card button.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MenuOption {
    /// The text the visitor sees and may type.
    pub label: Text,
    /// What picking it does.
    pub kind: OptionKind,
    /// `"Label" intent NAME -> node`: free text matching the intent picks the option.
    pub intent: Option<Ident>,
    /// The whole option.
    pub span: Span,
}

/// What picking an option does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum OptionKind {
    /// `"Label" -> node`
    Branch(Ident),
    /// `link "Label" "url"`
    Link(Template),
    /// `postback "Label" "PAYLOAD" -> node`
    Postback {
        /// The value reported instead of the label.
        payload: StrLit,
        /// Where picking it leads.
        target: Ident,
    },
}

/// `from LIST { label "..."; save A = item.x; -> node; empty -> node }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DynamicItems {
    /// The list attribute the options come from.
    pub list: Ident,
    /// Each option's label, built from `item`; the element's text when absent.
    pub label: Option<Text>,
    /// Values saved from the picked element.
    pub saves: Vec<ItemSave>,
    /// Where picking leads; the next statement when absent.
    pub target: Option<Ident>,
    /// Where to go when the list is empty.
    pub empty: Option<Ident>,
    /// The whole block.
    pub span: Span,
}

/// `save ATTR = item.path` — `path` is the steps after `item` (empty = the whole element).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemSave {
    /// The attribute set.
    pub attr: Ident,
    /// The steps after `item`.
    pub path: Vec<PathStep>,
    /// The whole `save`.
    pub span: Span,
}

/// `carousel`: cards with buttons, side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Carousel {
    /// Cards written in the flow.
    Static {
        /// The cards in order.
        cards: Vec<Card>,
        /// `save ATTR`: stores the chosen card's title.
        save: Option<Ident>,
    },
    /// `carousel from LIST { title ".."; subtitle ".."; image ".."; button "Buy"; save ..; -> n; empty -> n }`
    Dynamic {
        /// The list attribute the cards come from.
        list: Ident,
        /// How each card is built from `item`.
        card: Box<CardTemplate>,
        /// Values saved from the picked element.
        saves: Vec<ItemSave>,
        /// Where picking leads; the next statement when absent.
        target: Option<Ident>,
        /// Where to go when the list is empty.
        empty: Option<Ident>,
    },
}

/// A card written in the flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    /// The card's heading, also an answer that picks it.
    pub title: Text,
    /// Text under the title.
    pub subtitle: Option<Text>,
    /// Picture URL.
    pub image: Option<Template>,
    /// Buttons in order.
    pub buttons: Vec<MenuOption>,
    /// The whole card.
    pub span: Span,
}

/// How `carousel from LIST` builds each card from `item`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardTemplate {
    /// Heading per element.
    pub title: Option<Text>,
    /// Text under the title, per element.
    pub subtitle: Option<Text>,
    /// Picture URL, per element.
    pub image: Option<Template>,
    /// The one button each card gets.
    pub button: Option<Text>,
    /// The whole block.
    pub span: Span,
}

/// `email { ... }`: a message sent over SMTP; the compiler requires each part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Email {
    /// Recipient address.
    pub to: Option<Template>,
    /// Subject line.
    pub subject: Option<Text>,
    /// Message body.
    pub body: Option<Text>,
}

/// How a one-time code reaches the visitor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum OtpSend {
    /// `send email "{email}"`
    Email(Template),
    /// `send call API`
    Call(Ident),
}

/// `otp { ... }`: send a one-time code and ask for it back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Otp {
    /// How the code is sent.
    pub send: Option<OtpSend>,
    /// The question asking for the code.
    pub prompt: Option<Text>,
    /// Code length (`digits 6`).
    pub digits: Option<(u32, Span)>,
    /// How many wrong answers before `fail` (`tries 3`).
    pub tries: Option<(u32, Span)>,
    /// Where a right code leads.
    pub ok: Option<Ident>,
    /// Where running out of tries leads.
    pub fail: Option<Ident>,
}

/// `form { ... }`: several fields asked one after another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Form {
    /// Heading shown before the first field.
    pub title: Option<Text>,
    /// Fields in order.
    pub fields: Vec<FormField>,
}

/// `field ATTR [as KIND] "label"`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormField {
    /// The attribute the answer is stored in.
    pub attr: Ident,
    /// `as KIND`; free text when absent.
    pub kind: Option<Ident>,
    /// The question for this field.
    pub label: Text,
    /// The whole field.
    pub span: Span,
}

/// `appointment { ... }`: offer slots from one API and book the picked one with another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Appointment {
    /// `slots call API from body.path`
    pub slots: Option<(Ident, SavePath)>,
    /// Each slot's label, built from `item`.
    pub label: Option<Text>,
    /// The question above the slots.
    pub prompt: Option<Text>,
    /// Values saved from the picked slot.
    pub saves: Vec<ItemSave>,
    /// `book call API`
    pub book: Option<Ident>,
    /// Where a successful booking leads.
    pub booked: Option<Ident>,
    /// Where a failed slots or booking call leads.
    pub failed: Option<Ident>,
}

/// `hours NAME { zone "America/Chicago"; mon-fri 09:00-17:00; closed 2026-12-25, ... }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hours {
    /// The name `open(NAME)` uses.
    pub name: Ident,
    /// Rules in source order.
    pub rules: Vec<HoursRule>,
    /// The whole block.
    pub span: Span,
}

/// One rule of an `hours` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum HoursRule {
    /// `zone "Area/City"`: the IANA time zone the rules are in.
    Zone(StrLit),
    /// Days as written (`mon`, `mon-fri`) and times as written (`09:00`); the compiler
    /// validates them so it can point at a bad one.
    Weekly {
        /// First day (`mon`).
        first_day: Ident,
        /// Last day of a range (`fri` in `mon-fri`).
        last_day: Option<Ident>,
        /// Opening time.
        from: StrLit,
        /// Closing time.
        to: StrLit,
        /// The whole rule.
        span: Span,
    },
    /// `closed 2026-12-25, 2027-01-01` — each date as written.
    Closed(Vec<StrLit>),
}

/// `flow NAME(param, ...) { node ... }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    /// The name `run` uses.
    pub name: Ident,
    /// Parameters, set as attributes when the flow runs.
    pub params: Vec<Ident>,
    /// The flow's nodes; the first one starts it.
    pub nodes: Vec<Node>,
    /// The whole block.
    pub span: Span,
}

impl Text {
    /// Every template of the text: one, or one per language.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        let (one, many) = match self {
            Text::Plain(t) => (Some(t), &[][..]),
            Text::Translated { texts, .. } => (None, &texts[..]),
        };
        one.into_iter().chain(many.iter().map(|(_, t)| t))
    }

    /// Where the text stands: the template, or the whole translation set.
    pub fn span(&self) -> Span {
        match self {
            Text::Plain(t) => t.span,
            Text::Translated { span, .. } => *span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flow holds many statements, expressions and templates: their size is most of a
    /// syntax tree's memory. Before issue 11 a statement took 336 bytes (the actions inline),
    /// then 152 with 64-bit span offsets (an expression 80, a template part 48, an item 104),
    /// then 120 with names as `String` (an expression 64, a template part 40, an item 88),
    /// then 104 with an ask's kind and prompt, a set's value and a branch's arms inline.
    /// A new large variant belongs in a `Box`.
    #[test]
    fn the_numerous_types_stay_small() {
        assert!(
            std::mem::size_of::<Stmt>() <= 72,
            "{}",
            std::mem::size_of::<Stmt>()
        );
        assert!(
            std::mem::size_of::<Expr>() <= 56,
            "{}",
            std::mem::size_of::<Expr>()
        );
        assert!(std::mem::size_of::<TemplatePart>() <= 32);
        assert!(
            std::mem::size_of::<Item>() <= 80,
            "{}",
            std::mem::size_of::<Item>()
        );
        // A name is a `Str` (16 bytes), not a `String` (24).
        assert!(std::mem::size_of::<Ident>() <= 24);
    }
}

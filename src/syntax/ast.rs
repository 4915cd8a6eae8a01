//! The typed syntax tree. Every piece that a diagnostic may point at keeps its [`Span`]:
//! byte offsets into the source file it came from.

use serde::Serialize;

pub use crate::source::Span;
pub use crate::vocab::{
    ArithOp, CmpOp, MediaKind, MenuStyle, Method, Number, PathStep, TextOp, TransferKind,
};

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
    /// `hours NAME { ... }`: business hours.
    Hours(Hours),
    /// `flow NAME(params) { node ... }`: a sub-flow.
    Flow(Flow),
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
    /// `greeting TEXT`: said once, before the start node.
    Greeting(Text),
    /// `avatar "url"`: the bot's picture, reported in the profile event.
    Avatar(Template),
    /// `fallback TEXT`: said when an answer matches no option.
    Fallback(Text),
    /// `languages en, es`: declared languages, the first is the default.
    Languages(Vec<Ident>),
    /// `webhook "https://..." secret NAME events [started, closed]`: where `serve` posts
    /// conversation events.
    Webhook(Webhook),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub url: StrLit,
    /// The environment variable holding the HMAC key.
    pub secret: Ident,
    pub events: Vec<Ident>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Api {
    pub name: Ident,
    /// Properties in source order; the compiler checks for missing and repeated ones.
    pub props: Vec<ApiProp>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ApiProp {
    /// `live` or `draft`; `live == true` for live.
    Mode { live: bool, span: Span },
    /// `get "url-template"` and friends.
    Request {
        method: Method,
        url: Template,
        span: Span,
    },
    /// `header "Name" = "value-template"`
    Header {
        name: StrLit,
        value: Template,
        span: Span,
    },
    /// `body "template"` — sent as is.
    Body { body: Template, span: Span },
    /// `json { "key": "template" or literal, ... }`
    Json { body: JsonTemplate, span: Span },
    /// `timeout 2s` / `timeout 500ms`; stored in milliseconds.
    Timeout { millis: u64, span: Span },
    /// `retry 2`
    Retry { count: u32, span: Span },
    /// `save ATTR = body.path[0].x`
    Save {
        attr: Ident,
        path: SavePath,
        span: Span,
    },
}

/// `body` followed by `.field` and `[index]` steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavePath {
    pub steps: Vec<PathStep>,
    pub span: Span,
}

/// A JSON value inside `json { ... }` whose strings are templates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum JsonTemplate {
    Object(Vec<(StrLit, JsonTemplate)>, Span),
    Array(Vec<JsonTemplate>, Span),
    String(Template),
    Number(Number, Span),
    /// A bare reference (`qty`, `status`, `sys.language`): its value, with its type.
    Ref(Expr),
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
    /// `item`, `item.name`, `item.tags[0]` — templates inside dynamic-data blocks only;
    /// the steps after `item`.
    Item(Vec<PathStep>),
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
    Say(Text),
    /// `ask ATTR [as KIND] ["prompt"]`; the kind is checked by the compiler.
    Ask {
        attr: Ident,
        kind: Option<Ident>,
        prompt: Option<Text>,
    },
    Set {
        attr: Ident,
        value: Expr,
    },
    Call(Ident),
    Branch(Branch),
    Goto(Ident),
    Close,
    /// `set sys.language = EXPR` (`name` is the part after `sys.`).
    SetSys {
        name: Ident,
        value: Expr,
    },
    /// `choose` / `buttons`
    Menu(Menu),
    Carousel(Carousel),
    Email(Email),
    Otp(Otp),
    Form(Form),
    /// `image "url" ["caption"]`, `audio`, `video`, `file`
    Media {
        kind: MediaKind,
        url: Template,
        caption: Option<Template>,
    },
    /// `transfer department "Billing" ["message"]` / `transfer agent "a@b" ["message"]`
    Transfer {
        kind: TransferKind,
        to: Template,
        message: Option<Text>,
    },
    Appointment(Appointment),
    /// `goal "name"`
    Goal(StrLit),
    /// `run FLOW(args)`
    Run {
        flow: Ident,
        args: Vec<Expr>,
    },
    /// `return` (inside a sub-flow)
    Return,
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
    Number(Number),
    String(String),
    Bool(bool),
    Null,
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
    /// `open(HOURS)`: whether the business hours are open now.
    Open(Ident),
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
    Stub {
        api: Ident,
        answer: StubAnswer,
    },
    User(StrLit),
    ExpectSay(StrLit),
    ExpectNode(Ident),
    ExpectAttr {
        attr: Ident,
        expect: AttrExpectation,
    },
    ExpectRequest {
        api: Ident,
        url: StrLit,
    },
    ExpectClosed,
    /// `expect choices "A", "B"`
    ExpectChoices(Vec<StrLit>),
    /// `expect transfer "Billing"`
    ExpectTransfer(StrLit),
    /// `expect email "to@x.test" "Subject"`
    ExpectEmail {
        to: StrLit,
        subject: StrLit,
    },
    /// `expect goal "name"`
    ExpectGoal(StrLit),
    /// `expect media image "url"`
    ExpectMedia {
        kind: MediaKind,
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
    Plain(Template),
    Translated {
        texts: Vec<(Ident, Template)>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Menu {
    pub style: MenuStyle,
    pub text: Option<Text>,
    pub source: MenuSource,
    /// `save ATTR` (static menus): stores the chosen label or payload.
    pub save: Option<Ident>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum MenuSource {
    Static(Vec<MenuOption>),
    Dynamic(DynamicItems),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MenuOption {
    pub label: Template,
    pub kind: OptionKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum OptionKind {
    /// `"Label" -> node`
    Branch(Ident),
    /// `link "Label" "url"`
    Link(Template),
    /// `postback "Label" "PAYLOAD" -> node`
    Postback { payload: StrLit, target: Ident },
}

/// `from LIST { label "..."; save A = item.x; -> node; empty -> node }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DynamicItems {
    pub list: Ident,
    pub label: Option<Template>,
    pub saves: Vec<ItemSave>,
    pub target: Option<Ident>,
    pub empty: Option<Ident>,
    pub span: Span,
}

/// `save ATTR = item.path` — `path` is the steps after `item` (empty = the whole element).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemSave {
    pub attr: Ident,
    pub path: Vec<PathStep>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Carousel {
    Static {
        cards: Vec<Card>,
        save: Option<Ident>,
    },
    /// `carousel from LIST { title ".."; subtitle ".."; image ".."; button "Buy"; save ..; -> n; empty -> n }`
    Dynamic {
        list: Ident,
        card: Box<CardTemplate>,
        saves: Vec<ItemSave>,
        target: Option<Ident>,
        empty: Option<Ident>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    pub title: Template,
    pub subtitle: Option<Template>,
    pub image: Option<Template>,
    pub buttons: Vec<MenuOption>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardTemplate {
    pub title: Option<Template>,
    pub subtitle: Option<Template>,
    pub image: Option<Template>,
    pub button: Option<Template>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Email {
    pub to: Option<Template>,
    pub subject: Option<Template>,
    pub body: Option<Template>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum OtpSend {
    /// `send email "{email}"`
    Email(Template),
    /// `send call API`
    Call(Ident),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Otp {
    pub send: Option<OtpSend>,
    pub prompt: Option<Text>,
    pub digits: Option<(u32, Span)>,
    pub tries: Option<(u32, Span)>,
    pub ok: Option<Ident>,
    pub fail: Option<Ident>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Form {
    pub title: Option<Text>,
    pub fields: Vec<FormField>,
}

/// `field ATTR [as KIND] "label"`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormField {
    pub attr: Ident,
    pub kind: Option<Ident>,
    pub label: Template,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Appointment {
    /// `slots call API from body.path`
    pub slots: Option<(Ident, SavePath)>,
    pub label: Option<Template>,
    pub prompt: Option<Text>,
    pub saves: Vec<ItemSave>,
    /// `book call API`
    pub book: Option<Ident>,
    pub booked: Option<Ident>,
    pub failed: Option<Ident>,
}

/// `hours NAME { zone "America/Chicago"; mon-fri 09:00-17:00; closed 2026-12-25, ... }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hours {
    pub name: Ident,
    pub rules: Vec<HoursRule>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum HoursRule {
    Zone(StrLit),
    /// Days as written (`mon`, `mon-fri`) and times as written (`09:00`); the compiler
    /// validates them so it can point at a bad one.
    Weekly {
        first_day: Ident,
        last_day: Option<Ident>,
        from: StrLit,
        to: StrLit,
        span: Span,
    },
    /// `closed 2026-12-25, 2027-01-01` — each date as written.
    Closed(Vec<StrLit>),
}

/// `flow NAME(param, ...) { node ... }`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub nodes: Vec<Node>,
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

    pub fn span(&self) -> Span {
        match self {
            Text::Plain(t) => t.span,
            Text::Translated { span, .. } => *span,
        }
    }
}

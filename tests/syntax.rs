//! Parser tests: the normative examples of language.md, separators, comments, templates,
//! diagnostics and robustness.

use chatflow::syntax::ast::*;
use chatflow::syntax::parse;

const LANGUAGE_EXAMPLE: &str = r#"bot "Weather desk" {
  start greet                 # the entry node; without a bot item, the first node is the entry
}

api weather {
  live                        # or `draft`: only live APIs may be called (a draft one is a compile error)
  get "https://api.example.test/v1/weather?q={city}&units=metric"
  header "Authorization" = "Bearer {secret.WEATHER_TOKEN}"
  timeout 2s                  # total time for one attempt; default 5s
  retry 2                     # extra attempts on transport errors and 5xx; default 0
  save temperature = body.main.temp
  save summary = body.weather[0].description
}

node greet {
  say "Hi! Which city are you in?"
  ask city
  goto lookup
}

node lookup {
  call weather
  if status == 200 and city == "Chicago" -> chicago
  elif status == 200 -> report
  elif status in 400..499 -> unknown_city
  else -> failed
}
"#;

const TEST_EXAMPLE: &str = r#"test "Chicago visitors get the special offer" {
  stub weather 200 {"name": "Chicago", "main": {"temp": 3.5}, "weather": [{"description": "snow"}]}
  expect say "Hi! Which city are you in?"
  user "Chicago"
  expect say "It is 3.5 degrees in Chicago"
  expect node chicago
  expect attr temperature == 3.5
  expect request weather "https://api.example.test/v1/weather?q=Chicago&units=metric"
  expect closed
}
"#;

/// Parses and insists on no diagnostics.
fn ok(src: &str) -> File {
    let (file, diags) = parse(src);
    assert!(diags.is_empty(), "unexpected diagnostics for {src:?}: {diags:#?}");
    file
}

fn slice(src: &str, span: Span) -> &str {
    &src[span.start..span.end]
}

fn node<'f>(file: &'f File, name: &str) -> &'f Node {
    file.items
        .iter()
        .find_map(|i| match i {
            Item::Node(n) if n.name.name == name => Some(n),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no node {name}"))
}

#[test]
fn language_example_parses() {
    let src = LANGUAGE_EXAMPLE;
    let file = ok(src);
    assert_eq!(file.items.len(), 4);
    let Item::Bot(bot) = &file.items[0] else { panic!("bot first") };
    assert_eq!(bot.name.value, "Weather desk");
    assert_eq!(slice(src, bot.name.span), "\"Weather desk\"");
    let BotSetting::Start(start) = &bot.settings[0];
    assert_eq!(start.name, "greet");
    assert_eq!(slice(src, start.span), "greet");
    assert!(slice(src, bot.span).starts_with("bot \"Weather desk\""));
    assert!(slice(src, bot.span).ends_with('}'));
}

#[test]
fn language_example_api() {
    let src = LANGUAGE_EXAMPLE;
    let file = ok(src);
    let Item::Api(api) = &file.items[1] else { panic!("api second") };
    assert_eq!(api.name.name, "weather");
    assert_eq!(api.props.len(), 7);
    assert!(matches!(api.props[0], ApiProp::Mode { live: true, .. }));
    let ApiProp::Request { method, url, .. } = &api.props[1] else { panic!("request") };
    assert_eq!(*method, Method::Get);
    assert_eq!(
        url.parts,
        vec![
            TemplatePart::Text("https://api.example.test/v1/weather?q=".into()),
            TemplatePart::Ref(Ref {
                kind: RefKind::Attr("city".into()),
                span: url.parts_ref_span(0),
            }),
            TemplatePart::Text("&units=metric".into()),
        ]
    );
    let TemplatePart::Ref(city) = &url.parts[1] else { panic!() };
    assert_eq!(slice(src, city.span), "{city}");
    let ApiProp::Header { name, value, .. } = &api.props[2] else { panic!("header") };
    assert_eq!(name.value, "Authorization");
    let TemplatePart::Ref(secret) = &value.parts[1] else { panic!() };
    assert_eq!(secret.kind, RefKind::Secret("WEATHER_TOKEN".into()));
    assert_eq!(slice(src, secret.span), "{secret.WEATHER_TOKEN}");
    assert!(matches!(api.props[3], ApiProp::Timeout { millis: 2000, .. }));
    assert!(matches!(api.props[4], ApiProp::Retry { count: 2, .. }));
    let ApiProp::Save { attr, path, span } = &api.props[5] else { panic!("save") };
    assert_eq!(attr.name, "temperature");
    assert_eq!(path.steps, vec![PathStep::Field("main".into()), PathStep::Field("temp".into())]);
    assert_eq!(slice(src, path.span), "body.main.temp");
    assert_eq!(slice(src, *span), "save temperature = body.main.temp");
    let ApiProp::Save { path, .. } = &api.props[6] else { panic!("save") };
    assert_eq!(
        path.steps,
        vec![
            PathStep::Field("weather".into()),
            PathStep::Index(0),
            PathStep::Field("description".into())
        ]
    );
}

/// Test helper: the span of the `n`th reference part.
trait RefSpan {
    fn parts_ref_span(&self, n: usize) -> Span;
}
impl RefSpan for Template {
    fn parts_ref_span(&self, n: usize) -> Span {
        self.parts
            .iter()
            .filter_map(|p| match p {
                TemplatePart::Ref(r) => Some(r.span),
                _ => None,
            })
            .nth(n)
            .unwrap_or_default()
    }
}

#[test]
fn language_example_nodes() {
    let src = LANGUAGE_EXAMPLE;
    let file = ok(src);
    let greet = node(&file, "greet");
    assert_eq!(greet.body.len(), 3);
    assert!(matches!(&greet.body[0].kind, StmtKind::Say(t)
        if t.parts == vec![TemplatePart::Text("Hi! Which city are you in?".into())]));
    assert!(matches!(&greet.body[1].kind, StmtKind::Ask { attr, kind: None, prompt: None } if attr.name == "city"));
    assert!(matches!(&greet.body[2].kind, StmtKind::Goto(n) if n.name == "lookup"));
    assert_eq!(slice(src, greet.body[0].span), "say \"Hi! Which city are you in?\"");

    let lookup = node(&file, "lookup");
    assert_eq!(lookup.body.len(), 2);
    assert!(matches!(&lookup.body[0].kind, StmtKind::Call(a) if a.name == "weather"));
    let StmtKind::Branch(b) = &lookup.body[1].kind else { panic!("branch") };
    assert_eq!(b.arms.len(), 3);
    assert_eq!(
        slice(src, b.arms[0].span),
        "if status == 200 and city == \"Chicago\" -> chicago"
    );
    assert_eq!(slice(src, b.arms[0].cond.span), "status == 200 and city == \"Chicago\"");
    let ExprKind::And(l, r) = &b.arms[0].cond.kind else { panic!("and") };
    assert!(matches!(&l.kind, ExprKind::Cmp { op: CmpOp::Eq, lhs, rhs }
        if matches!(lhs.kind, ExprKind::Ref(Ref { kind: RefKind::Status, .. }))
        && rhs.kind == ExprKind::Lit(Literal::Number(200.0))));
    assert!(matches!(&r.kind, ExprKind::Cmp { op: CmpOp::Eq, rhs, .. }
        if rhs.kind == ExprKind::Lit(Literal::String("Chicago".into()))));
    assert_eq!(b.arms[1].target.name, "report");
    let ExprKind::InRange { low, high, bounds_span, .. } = &b.arms[2].cond.kind else {
        panic!("range")
    };
    assert_eq!((*low, *high), (400, 499));
    assert_eq!(slice(src, *bounds_span), "400..499");
    assert_eq!(b.otherwise.as_ref().map(|i| i.name.as_str()), Some("failed"));
    assert_eq!(slice(src, b.otherwise_span.unwrap_or_default()), "else -> failed");
    assert!(slice(src, lookup.body[1].span).starts_with("if status"));
    assert!(slice(src, lookup.body[1].span).ends_with("else -> failed"));
}

#[test]
fn language_example_test_block() {
    let src = TEST_EXAMPLE;
    let file = ok(src);
    let Item::Test(t) = &file.items[0] else { panic!("test") };
    assert_eq!(t.name.value, "Chicago visitors get the special offer");
    assert_eq!(t.steps.len(), 8);
    let TestStepKind::Stub { api, answer } = &t.steps[0].kind else { panic!("stub") };
    assert_eq!(api.name, "weather");
    let StubAnswer::Status { status, body: Some(body) } = answer else { panic!("status") };
    assert_eq!(*status, 200);
    assert_eq!(body["main"]["temp"], serde_json::json!(3.5));
    assert_eq!(body["weather"][0]["description"], "snow");
    assert!(matches!(&t.steps[1].kind, TestStepKind::ExpectSay(s) if s.value == "Hi! Which city are you in?"));
    assert!(matches!(&t.steps[2].kind, TestStepKind::User(s) if s.value == "Chicago"));
    assert!(matches!(&t.steps[4].kind, TestStepKind::ExpectNode(n) if n.name == "chicago"));
    assert!(matches!(&t.steps[5].kind, TestStepKind::ExpectAttr { attr, expect: AttrExpectation::Equals(Literal::Number(n)) }
        if attr.name == "temperature" && *n == 3.5));
    assert!(matches!(&t.steps[6].kind, TestStepKind::ExpectRequest { api, url }
        if api.name == "weather" && url.value == "https://api.example.test/v1/weather?q=Chicago&units=metric"));
    assert!(matches!(t.steps[7].kind, TestStepKind::ExpectClosed));
    assert_eq!(slice(src, t.steps[4].span), "expect node chicago");
}

#[test]
fn one_line_branch_is_two_statements() {
    let src = r#"node n { call weather; if status==200 and city=="Chicago" -> n3 elif status==404 -> n4 else -> n9 }"#;
    let file = ok(src);
    let n = node(&file, "n");
    assert_eq!(n.body.len(), 2);
    assert!(matches!(&n.body[0].kind, StmtKind::Call(a) if a.name == "weather"));
    let StmtKind::Branch(b) = &n.body[1].kind else { panic!("branch") };
    assert_eq!(b.arms.len(), 2);
    assert_eq!(b.arms[1].target.name, "n4");
    assert_eq!(b.otherwise.as_ref().map(|i| i.name.as_str()), Some("n9"));
    let src2 = "node n {\n  call weather\n  if status == 200 -> n3 else -> n9\n}\n";
    assert_eq!(node(&ok(src2), "n").body.len(), 2);
}

//! Parser tests: the normative examples of language.md, separators, comments, templates,
//! diagnostics and robustness.

use chatflow::diagnostic::Code;
use chatflow::syntax::ast::*;
use chatflow::syntax::parse;

/// The items example of language.md, verbatim.
const LANGUAGE_EXAMPLE: &str = include_str!("../contract/language_items.flow");

/// The test example of language.md, verbatim.
const TEST_EXAMPLE: &str = include_str!("../contract/language_test.flow");

/// Parses and insists on no diagnostics.
fn ok(src: &str) -> File {
    let (file, diags) = parse(src);
    assert!(
        diags.is_empty(),
        "unexpected diagnostics for {src:?}: {diags:#?}"
    );
    file
}

fn slice(src: &str, span: Span) -> &str {
    &src[span.start()..span.end()]
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
    let Item::Bot(bot) = &file.items[0] else {
        panic!("bot first")
    };
    assert_eq!(bot.name.value, "Weather desk");
    assert_eq!(slice(src, bot.name.span), "\"Weather desk\"");
    let BotSetting::Start(start) = &bot.settings[0] else {
        panic!("start first")
    };
    assert_eq!(start.name, "greet");
    assert_eq!(slice(src, start.span), "greet");
    assert!(slice(src, bot.span).starts_with("bot \"Weather desk\""));
    assert!(slice(src, bot.span).ends_with('}'));
}

#[test]
fn language_example_api() {
    let src = LANGUAGE_EXAMPLE;
    let file = ok(src);
    let Item::Api(api) = &file.items[1] else {
        panic!("api second")
    };
    assert_eq!(api.name.name, "weather");
    assert_eq!(api.props.len(), 7);
    assert!(matches!(api.props[0], ApiProp::Mode { live: true, .. }));
    let ApiProp::Request { method, url, .. } = &api.props[1] else {
        panic!("request")
    };
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
    let TemplatePart::Ref(city) = &url.parts[1] else {
        panic!()
    };
    assert_eq!(slice(src, city.span), "{city}");
    let ApiProp::Header { name, value, .. } = &api.props[2] else {
        panic!("header")
    };
    assert_eq!(name.value, "Authorization");
    let TemplatePart::Ref(secret) = &value.parts[1] else {
        panic!()
    };
    assert_eq!(secret.kind, RefKind::Secret("WEATHER_TOKEN".into()));
    assert_eq!(slice(src, secret.span), "{secret.WEATHER_TOKEN}");
    assert!(matches!(
        api.props[3],
        ApiProp::Timeout { millis: 2000, .. }
    ));
    assert!(matches!(api.props[4], ApiProp::Retry { count: 2, .. }));
    let ApiProp::Save {
        attr, path, span, ..
    } = &api.props[5]
    else {
        panic!("save")
    };
    assert_eq!(attr.name, "temperature");
    assert_eq!(
        path.steps,
        vec![
            PathStep::Field("main".into()),
            PathStep::Field("temp".into())
        ]
    );
    assert_eq!(slice(src, path.span), "body.main.temp");
    assert_eq!(slice(src, *span), "save temperature = body.main.temp");
    let ApiProp::Save { path, .. } = &api.props[6] else {
        panic!("save")
    };
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
    assert!(matches!(&greet.body[0].kind, StmtKind::Say(Text::Plain(t))
        if t.parts == vec![TemplatePart::Text("Hi! Which city are you in?".into())]));
    assert!(
        matches!(&greet.body[1].kind, StmtKind::Ask { attr, kind: None, prompt: None, .. } if attr.name == "city")
    );
    assert!(matches!(&greet.body[2].kind, StmtKind::Goto(n) if n.name == "lookup"));
    assert_eq!(
        slice(src, greet.body[0].span),
        "say \"Hi! Which city are you in?\""
    );

    let lookup = node(&file, "lookup");
    assert_eq!(lookup.body.len(), 2);
    assert!(matches!(&lookup.body[0].kind, StmtKind::Call(a) if a.name == "weather"));
    let StmtKind::Branch(b) = &lookup.body[1].kind else {
        panic!("branch")
    };
    assert_eq!(b.arms.len(), 3);
    assert_eq!(
        slice(src, b.arms[0].span),
        "if status == 200 and city == \"Chicago\" -> chicago"
    );
    assert_eq!(
        slice(src, b.arms[0].cond.span),
        "status == 200 and city == \"Chicago\""
    );
    let ExprKind::And(l, r) = &b.arms[0].cond.kind else {
        panic!("and")
    };
    assert!(matches!(&l.kind, ExprKind::Cmp { op: CmpOp::Eq, lhs, rhs }
        if matches!(lhs.kind, ExprKind::Ref(Ref { kind: RefKind::Status, .. }))
        && rhs.kind == ExprKind::Lit(Literal::Number(Number::Int(200)))));
    assert!(matches!(&r.kind, ExprKind::Cmp { op: CmpOp::Eq, rhs, .. }
        if rhs.kind == ExprKind::Lit(Literal::String("Chicago".into()))));
    assert_eq!(b.arms[1].target.name, "report");
    let ExprKind::InRange {
        low,
        high,
        bounds_span,
        ..
    } = &b.arms[2].cond.kind
    else {
        panic!("range")
    };
    assert_eq!((*low, *high), (400, 499));
    assert_eq!(slice(src, *bounds_span), "400..499");
    assert_eq!(
        b.otherwise.as_ref().map(|i| i.name.as_str()),
        Some("failed")
    );
    assert_eq!(
        slice(src, b.otherwise_span.unwrap_or_default()),
        "else -> failed"
    );
    assert!(slice(src, lookup.body[1].span).starts_with("if status"));
    assert!(slice(src, lookup.body[1].span).ends_with("else -> failed"));
}

#[test]
fn language_example_test_block() {
    let src = TEST_EXAMPLE;
    let file = ok(src);
    let Item::Test(t) = &file.items[0] else {
        panic!("test")
    };
    assert_eq!(t.name.value, "Chicago visitors get the special offer");
    assert_eq!(t.steps.len(), 8);
    let TestStepKind::Stub { api, answer } = &t.steps[0].kind else {
        panic!("stub")
    };
    assert_eq!(api.name, "weather");
    let StubAnswer::Status {
        status,
        body: Some(body),
    } = answer
    else {
        panic!("status")
    };
    assert_eq!(*status, 200);
    assert_eq!(body["main"]["temp"], serde_json::json!(3.5));
    assert_eq!(body["weather"][0]["description"], "snow");
    assert!(
        matches!(&t.steps[1].kind, TestStepKind::ExpectSay(s) if s.value == "Hi! Which city are you in?")
    );
    assert!(matches!(&t.steps[2].kind, TestStepKind::User(s) if s.value == "Chicago"));
    assert!(matches!(&t.steps[4].kind, TestStepKind::ExpectNode(n) if n.name == "chicago"));
    assert!(
        matches!(&t.steps[5].kind, TestStepKind::ExpectAttr { attr, expect: AttrExpectation::Equals(Literal::Number(n)) }
        if attr.name == "temperature" && *n == Number::from_f64(3.5))
    );
    assert!(
        matches!(&t.steps[6].kind, TestStepKind::ExpectRequest { api, url }
        if api.name == "weather" && url.value == "https://api.example.test/v1/weather?q=Chicago&units=metric")
    );
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
    let StmtKind::Branch(b) = &n.body[1].kind else {
        panic!("branch")
    };
    assert_eq!(b.arms.len(), 2);
    assert_eq!(b.arms[1].target.name, "n4");
    assert_eq!(b.otherwise.as_ref().map(|i| i.name.as_str()), Some("n9"));
    let src2 = "node n {\n  call weather\n  if status == 200 -> n3 else -> n9\n}\n";
    assert_eq!(node(&ok(src2), "n").body.len(), 2);
}

/// Throughput check; run with
/// `cargo test --release --test it -- --ignored parse_speed --nocapture`.
#[test]
#[ignore]
fn parse_speed() {
    let mut src = String::new();
    for i in 0..50_000 {
        src.push_str(&format!(
            "node n{i} {{\n  say \"Hello {{name}}\"\n  call weather\n  if status == 200 and city == \"Chicago\" -> n{} elif status in 400..499 -> n{} else -> n{}\n}}\n\n",
            i + 1,
            i + 2,
            i + 3
        ));
    }
    // Best of five runs: the machine is shared, so single runs are noisy.
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let (file, diags) = parse(&src);
        best = best.min(start.elapsed().as_secs_f64());
        assert!(diags.is_empty());
        assert_eq!(file.items.len(), 50_000);
    }
    let mb = src.len() as f64 / 1e6;
    println!("parsed {mb:.1} MB in {best:.3}s: {:.1} MB/s", mb / best);
}

#[test]
fn semicolons_blank_lines_and_comments() {
    let src = "# a flow\n\napi a { live; get \"http://x.test/\"; timeout 500ms; retry 1; }\n\nbot \"b\" { start n; }\n\n\nnode n { say \"a\"; close }  # trailing comment\nnode m {\n\n  say \"# not a comment\" # a comment\n  ;;\n  goto n;\n}\n# only a comment at the end";
    let file = ok(src);
    assert_eq!(file.items.len(), 4);
    let Item::Api(api) = &file.items[0] else {
        panic!("api")
    };
    assert_eq!(api.props.len(), 4);
    assert!(matches!(api.props[2], ApiProp::Timeout { millis: 500, .. }));
    assert_eq!(node(&file, "n").body.len(), 2);
    let m = node(&file, "m");
    assert_eq!(m.body.len(), 2);
    assert!(matches!(&m.body[0].kind, StmtKind::Say(Text::Plain(t))
        if t.parts == vec![TemplatePart::Text("# not a comment".into())]));
}

#[test]
fn durations() {
    let src = "api a { timeout 2s; timeout 500ms; timeout 1m; timeout 1h }";
    let Item::Api(api) = &ok(src).items[0] else {
        panic!("api")
    };
    let ms: Vec<u64> = api
        .props
        .iter()
        .filter_map(|p| match p {
            ApiProp::Timeout { millis, .. } => Some(*millis),
            _ => None,
        })
        .collect();
    assert_eq!(ms, vec![2_000, 500, 60_000, 3_600_000]);
}

#[test]
fn keyword_prefixes_are_names() {
    let src = "node settings { set settings = 1; goto nodeA }\nnode nodeA { ask iffy; set closed = iffy; call api2 }\nnode iffy { if notes is set and order_id > 3 -> settings else -> nodeA }";
    let file = ok(src);
    let s = node(&file, "settings");
    assert!(matches!(&s.body[0].kind, StmtKind::Set { attr, .. } if attr.name == "settings"));
    let iffy = node(&file, "iffy");
    let StmtKind::Branch(b) = &iffy.body[0].kind else {
        panic!("branch")
    };
    let ExprKind::And(l, _) = &b.arms[0].cond.kind else {
        panic!("and")
    };
    assert!(matches!(&l.kind, ExprKind::IsSet { negated: false, value }
        if value.kind == ExprKind::Ref(Ref { kind: RefKind::Attr("notes".into()), span: value.span })));
}

#[test]
fn ask_forms() {
    let src = "node n {\n ask city\n ask city \"Which city?\"\n ask age as number \"How old?\"\n ask mail as email\n}";
    let file = ok(src);
    let n = node(&file, "n");
    let asks: Vec<(String, Option<String>, bool)> = n
        .body
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Ask {
                attr, kind, prompt, ..
            } => (
                attr.name.to_string(),
                kind.as_ref().map(|k| k.name.to_string()),
                prompt.is_some(),
            ),
            other => panic!("not an ask: {other:?}"),
        })
        .collect();
    assert_eq!(
        asks,
        vec![
            ("city".into(), None, false),
            ("city".into(), None, true),
            ("age".into(), Some("number".into()), true),
            ("mail".into(), Some("email".into()), false),
        ]
    );
    assert_eq!(slice(src, n.body[2].span), "ask age as number \"How old?\"");
}

fn cond(src_expr: &str) -> Expr {
    let src = format!("node n {{ if {src_expr} -> a else -> b }}");
    let file = ok(&src);
    let StmtKind::Branch(b) = &node(&file, "n").body[0].kind else {
        panic!("branch")
    };
    b.arms[0].cond.clone()
}

#[test]
fn expression_precedence() {
    // or < and < not < comparison
    let e = cond("a == 1 or b == 2 and not c == 3");
    let ExprKind::Or(_, r) = &e.kind else {
        panic!("or at top: {e:?}")
    };
    let ExprKind::And(_, r) = &r.kind else {
        panic!("and under or")
    };
    let ExprKind::Not(inner) = &r.kind else {
        panic!("not")
    };
    assert!(matches!(inner.kind, ExprKind::Cmp { op: CmpOp::Eq, .. }));
    // parentheses
    let e = cond("(a == 1 or b == 2) and c != 3");
    let ExprKind::And(l, _) = &e.kind else {
        panic!("and at top")
    };
    assert!(matches!(l.kind, ExprKind::Or(..)));
    // left associativity
    let e = cond("a or b or c");
    let ExprKind::Or(l, _) = &e.kind else {
        panic!("or")
    };
    assert!(matches!(l.kind, ExprKind::Or(..)));
}

#[test]
fn expression_operators() {
    let ops = [
        ("<", CmpOp::Lt),
        ("<=", CmpOp::Le),
        (">", CmpOp::Gt),
        (">=", CmpOp::Ge),
        ("!=", CmpOp::Ne),
    ];
    for (text, op) in ops {
        let e = cond(&format!("x {text} -1"));
        assert!(
            matches!(&e.kind, ExprKind::Cmp { op: o, rhs, .. }
            if *o == op && rhs.kind == ExprKind::Lit(Literal::Number(Number::Int(-1)))),
            "{text}"
        );
    }
    assert!(matches!(
        cond("x in -5..-1").kind,
        ExprKind::InRange {
            low: -5,
            high: -1,
            ..
        }
    ));
    let ExprKind::InList { items, .. } = cond("city in [\"Oslo\", \"Rome\", 3, true, null]").kind
    else {
        panic!("list")
    };
    assert_eq!(items.len(), 5);
    assert_eq!(items[4].kind, ExprKind::Lit(Literal::Null));
    assert!(matches!(
        cond("x contains \"a\"").kind,
        ExprKind::Text {
            op: TextOp::Contains,
            ..
        }
    ));
    assert!(matches!(
        cond("x starts_with \"a\"").kind,
        ExprKind::Text {
            op: TextOp::StartsWith,
            ..
        }
    ));
    assert!(matches!(
        cond("x ends_with y").kind,
        ExprKind::Text {
            op: TextOp::EndsWith,
            ..
        }
    ));
    let ExprKind::Matches { pattern, .. } = cond(r#"zip matches "^[0-9]{3}$""#).kind else {
        panic!("matches")
    };
    assert_eq!(pattern.value, "^[0-9]{3}$");
    assert!(matches!(
        cond("x is not set").kind,
        ExprKind::IsSet { negated: true, .. }
    ));
    assert!(matches!(
        cond("x is set").kind,
        ExprKind::IsSet { negated: false, .. }
    ));
    let e = cond("sys.channel == \"web\"");
    let ExprKind::Cmp { lhs, .. } = &e.kind else {
        panic!("cmp")
    };
    assert_eq!(
        lhs.kind,
        ExprKind::Ref(Ref {
            kind: RefKind::Sys("channel".into()),
            span: lhs.span
        })
    );
    assert!(
        matches!(cond("flag == true").kind, ExprKind::Cmp { ref rhs, .. } if rhs.kind == ExprKind::Lit(Literal::Bool(true)))
    );
    assert!(
        matches!(cond("t == 3.5").kind, ExprKind::Cmp { ref rhs, .. } if rhs.kind == ExprKind::Lit(Literal::Number(Number::from_f64(3.5))))
    );
    assert!(
        matches!(cond("s == \"a\\\"b\\\\c\\nd\\te\"").kind, ExprKind::Cmp { ref rhs, .. }
        if rhs.kind == ExprKind::Lit(Literal::String("a\"b\\c\nd\te".into())))
    );
}

#[test]
fn set_statement() {
    let src = "node n { set greeted = true; set count = n2 }";
    let file = ok(src);
    let n = node(&file, "n");
    assert!(matches!(&n.body[0].kind, StmtKind::Set { attr, value, .. }
        if attr.name == "greeted" && value.kind == ExprKind::Lit(Literal::Bool(true))));
}

#[test]
fn branch_without_else_parses() {
    let file = ok("node n { if status == 200 -> a\n elif status == 404 -> b }");
    let StmtKind::Branch(b) = &node(&file, "n").body[0].kind else {
        panic!("branch")
    };
    assert_eq!(b.arms.len(), 2);
    assert!(b.otherwise.is_none() && b.otherwise_span.is_none());
}

#[test]
fn branch_arms_on_separate_lines_with_comments() {
    let src = "node n {\n  if a == 1 -> x   # first\n\n  # between\n  elif a == 2 -> y\n  else -> z\n  close\n}";
    let file = ok(src);
    let n = node(&file, "n");
    assert_eq!(n.body.len(), 2);
    let StmtKind::Branch(b) = &n.body[0].kind else {
        panic!("branch")
    };
    assert_eq!(b.arms.len(), 2);
    assert_eq!(b.otherwise.as_ref().map(|i| i.name.as_str()), Some("z"));
}

#[test]
fn api_methods_body_and_json() {
    let src = r#"api order {
  draft
  post "https://shop.test/orders"
  header "Content-Type" = "application/json"
  body "id={id}"
  json {
    "customer": "{name}",
    "count": 2,
    "neg": -1.5,
    "ok": true, "none": null,
    "nested": {"city": "{city} {{x}}"},
    "arr": [1, "{sys.channel}", []],
  }
  save first = body.items[0]["full name"]
}
api d { delete "https://x.test/{id}" }
api p { put "u"; patch "v" }"#;
    let file = ok(src);
    let Item::Api(api) = &file.items[0] else {
        panic!("api")
    };
    assert!(matches!(api.props[0], ApiProp::Mode { live: false, .. }));
    assert!(matches!(
        api.props[1],
        ApiProp::Request {
            method: Method::Post,
            ..
        }
    ));
    assert!(matches!(&api.props[3], ApiProp::Body { body, .. } if body.parts.len() == 2));
    let ApiProp::Json {
        body: JsonTemplate::Object(members, span),
        ..
    } = &api.props[4]
    else {
        panic!("json")
    };
    assert!(slice(src, *span).starts_with('{') && slice(src, *span).ends_with('}'));
    let keys: Vec<&str> = members.iter().map(|(k, _)| k.value.as_str()).collect();
    assert_eq!(
        keys,
        ["customer", "count", "neg", "ok", "none", "nested", "arr"]
    );
    let JsonTemplate::String(t) = &members[0].1 else {
        panic!("string")
    };
    assert!(
        matches!(&t.parts[0], TemplatePart::Ref(Ref { kind: RefKind::Attr(a), span }) if a == "name" && slice(src, *span) == "{name}")
    );
    assert!(matches!(members[1].1, JsonTemplate::Number(n, _) if n == Number::Int(2)));
    assert!(matches!(members[2].1, JsonTemplate::Number(n, _) if n == Number::from_f64(-1.5)));
    assert!(matches!(members[3].1, JsonTemplate::Bool(true, _)));
    assert!(matches!(members[4].1, JsonTemplate::Null(_)));
    let JsonTemplate::Object(nested, _) = &members[5].1 else {
        panic!("nested")
    };
    let JsonTemplate::String(t) = &nested[0].1 else {
        panic!("string")
    };
    assert_eq!(t.parts[1], TemplatePart::Text(" {x}".into()));
    let JsonTemplate::Array(items, _) = &members[6].1 else {
        panic!("array")
    };
    assert_eq!(items.len(), 3);
    let ApiProp::Save { path, .. } = &api.props[5] else {
        panic!("save")
    };
    assert_eq!(
        path.steps,
        vec![
            PathStep::Field("items".into()),
            PathStep::Index(0),
            PathStep::Field("full name".into())
        ]
    );
    assert_eq!(slice(src, path.span), "body.items[0][\"full name\"]");
    assert_eq!(
        slice(src, api.span).lines().last(),
        Some("}"),
        "the API item ends at its brace"
    );
    let Item::Api(d) = &file.items[1] else {
        panic!("api")
    };
    assert!(matches!(
        d.props[0],
        ApiProp::Request {
            method: Method::Delete,
            ..
        }
    ));
    let Item::Api(p) = &file.items[2] else {
        panic!("api")
    };
    assert!(matches!(
        p.props[0],
        ApiProp::Request {
            method: Method::Put,
            ..
        }
    ));
    assert!(matches!(
        p.props[1],
        ApiProp::Request {
            method: Method::Patch,
            ..
        }
    ));
}

#[test]
fn imports() {
    let src = "import \"shared/apis.flow\"\nimport \"b.flow\"; node n { close }";
    let file = ok(src);
    let Item::Import(i) = &file.items[0] else {
        panic!("import")
    };
    assert_eq!(i.path.value, "shared/apis.flow");
    assert_eq!(slice(src, i.span), "import \"shared/apis.flow\"");
    assert_eq!(file.items.len(), 3);
}

#[test]
fn test_steps_all_forms() {
    let src = "test \"t\" { stub weather timeout; stub shop 404; stub shop 200 [1, {\"a\": \"}\"}]\n stub x 201 \"text\"\n expect attr city is not set; expect attr n == -2; expect attr s == \"x\"; expect attr b == false; expect attr z == null }";
    let file = ok(src);
    let Item::Test(t) = &file.items[0] else {
        panic!("test")
    };
    assert!(matches!(
        &t.steps[0].kind,
        TestStepKind::Stub {
            answer: StubAnswer::Timeout,
            ..
        }
    ));
    assert!(matches!(
        &t.steps[1].kind,
        TestStepKind::Stub {
            answer: StubAnswer::Status {
                status: 404,
                body: None
            },
            ..
        }
    ));
    let TestStepKind::Stub {
        answer: StubAnswer::Status { body: Some(b), .. },
        ..
    } = &t.steps[2].kind
    else {
        panic!("stub")
    };
    assert_eq!(b, &serde_json::json!([1, {"a": "}"}]));
    assert!(
        matches!(&t.steps[3].kind, TestStepKind::Stub { answer: StubAnswer::Status { body: Some(serde_json::Value::String(s)), .. }, .. } if s == "text")
    );
    assert!(matches!(
        &t.steps[4].kind,
        TestStepKind::ExpectAttr {
            expect: AttrExpectation::NotSet,
            ..
        }
    ));
    assert!(
        matches!(&t.steps[5].kind, TestStepKind::ExpectAttr { expect: AttrExpectation::Equals(Literal::Number(n)), .. } if *n == Number::Int(-2))
    );
    assert!(
        matches!(&t.steps[6].kind, TestStepKind::ExpectAttr { expect: AttrExpectation::Equals(Literal::String(s)), .. } if s == "x")
    );
    assert!(matches!(
        &t.steps[7].kind,
        TestStepKind::ExpectAttr {
            expect: AttrExpectation::Equals(Literal::Bool(false)),
            ..
        }
    ));
    assert!(matches!(
        &t.steps[8].kind,
        TestStepKind::ExpectAttr {
            expect: AttrExpectation::Equals(Literal::Null),
            ..
        }
    ));
}

#[test]
fn stub_json_across_lines() {
    let src = "test \"t\" {\n  stub weather 200 {\n    \"name\": \"Chicago\",\n    \"main\": {\"temp\": 3.5}\n  }\n  user \"hi\"\n}";
    let file = ok(src);
    let Item::Test(t) = &file.items[0] else {
        panic!("test")
    };
    assert_eq!(t.steps.len(), 2);
}

fn say_template(src: &str) -> (Template, Vec<chatflow::diagnostic::Diag>) {
    let (file, diags) = parse(src);
    let n = node(&file, "n");
    let StmtKind::Say(Text::Plain(t)) = &n.body[0].kind else {
        panic!("say")
    };
    (t.clone(), diags)
}

#[test]
fn templates_refs_escapes_and_braces() {
    let src = r#"node n { say "Hi {name}! {{literal}} \"q\" a\\b\n\t{sys.channel}{status}{secret.K}é{x}" }"#;
    let (t, diags) = say_template(src);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(slice(src, t.span), &src[13..src.len() - 2]);
    let refs: Vec<(&RefKind, &str)> = t
        .parts
        .iter()
        .filter_map(|p| match p {
            TemplatePart::Ref(r) => Some((&r.kind, slice(src, r.span))),
            _ => None,
        })
        .collect();
    assert_eq!(
        refs,
        vec![
            (&RefKind::Attr("name".into()), "{name}"),
            (&RefKind::Sys("channel".into()), "{sys.channel}"),
            (&RefKind::Status, "{status}"),
            (&RefKind::Secret("K".into()), "{secret.K}"),
            (&RefKind::Attr("x".into()), "{x}"),
        ]
    );
    assert_eq!(t.parts[0], TemplatePart::Text("Hi ".into()));
    assert_eq!(
        t.parts[2],
        TemplatePart::Text("! {literal} \"q\" a\\b\n\t".into())
    );
    assert_eq!(t.parts[6], TemplatePart::Text("é".into()));
}

#[test]
fn template_errors() {
    let cases: [(&str, Code, &str); 6] = [
        (
            r#"node n { say "a {name" }"#,
            Code::UnterminatedTemplate,
            "{name",
        ),
        (r#"node n { say "a } b" }"#, Code::UnmatchedBrace, "}"),
        (r#"node n { say "a {} b" }"#, Code::BadTemplateRef, "{}"),
        (
            r#"node n { say "a {a b} b" }"#,
            Code::BadTemplateRef,
            "{a b}",
        ),
        (
            r#"node n { say "a {foo.bar} b" }"#,
            Code::BadTemplateRef,
            "{foo.bar}",
        ),
        (r#"node n { say "é{1x}" }"#, Code::BadTemplateRef, "{1x}"),
    ];
    for (src, code, at) in cases {
        let (_, diags) = say_template(src);
        assert_eq!(diags.len(), 1, "{src}: {diags:?}");
        assert_eq!(diags[0].code, code, "{src}");
        assert_eq!(slice(src, diags[0].span), at, "{src}");
        assert!(diags[0].help.is_some(), "{src}");
    }
    let (_, diags) = say_template(r#"node n { say "a {name" }"#);
    assert_eq!(
        diags[0].help.as_deref(),
        Some("close it with `}`, or write `{{` for a literal brace")
    );
}

#[test]
fn strings_in_conditions_are_not_templates() {
    let e = cond(r#"x == "{not a ref}""#);
    assert!(matches!(e.kind, ExprKind::Cmp { ref rhs, .. }
        if rhs.kind == ExprKind::Lit(Literal::String("{not a ref}".into()))));
}

fn diags_of(src: &str) -> Vec<chatflow::diagnostic::Diag> {
    parse(src).1
}

#[test]
fn syntax_error_unknown_statement() {
    let src = "node n {\n  say \"hi\"\n  shout \"hi\"\n}";
    let d = diags_of(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, Code::Syntax);
    assert_eq!(slice(src, d[0].span), "shout");
    assert!(
        d[0].message
            .contains("expected a statement (`say`, `ask`, `set`, `call`, `if`, `goto`, `close`)"),
        "{}",
        d[0].message
    );
    assert!(d[0].message.contains("found `shout`"), "{}", d[0].message);
    assert!(d[0].help.is_some() && !d[0].label.is_empty());
}

#[test]
fn syntax_error_missing_arrow() {
    let src = "node n { if status == 200 n2 else -> n3 }";
    let d = diags_of(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message.contains("expected `->` and a node name"),
        "{}",
        d[0].message
    );
    assert_eq!(slice(src, d[0].span), "n2");
}

#[test]
fn syntax_error_expected_string() {
    let src = "node n { say hello }";
    let d = diags_of(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message
            .contains("expected a string in double quotes, found `hello`"),
        "{}",
        d[0].message
    );
}

/// The help line names translation sets only where one may stand: a message text, not an
/// address, a URL or a goal name.
#[test]
fn help_mentions_translation_sets_only_where_they_are_allowed() {
    let help = |src: &str| {
        let d = diags_of(src);
        assert_eq!(d.len(), 1, "{src}: {d:#?}");
        d[0].help.clone().unwrap_or_default()
    };
    for src in [
        "node n { say hello }",
        "node n { ask city hello }",
        "node n { email { subject hello } }",
        "node n { form { field a hello } }",
    ] {
        assert!(
            help(src).contains("translation set"),
            "{src}: {}",
            help(src)
        );
    }
    for src in [
        "node n { email { to hello } }",
        "node n { goal hello }",
        "node n { image hello }",
        "bot \"b\" { avatar hello }",
        "import hello",
    ] {
        let h = help(src);
        assert!(h.contains("double quotes"), "{src}: {h}");
        assert!(!h.contains("translation set"), "{src}: {h}");
    }
}

#[test]
fn syntax_error_end_of_file() {
    let src = "node n {\n  say \"hi\"\n";
    let d = diags_of(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message.contains("found end of file"),
        "{}",
        d[0].message
    );
    assert_eq!(d[0].span, Span::new(src.len(), src.len()));
}

#[test]
fn unclosed_string_is_explained() {
    let src = "node n {\n  say \"hello\n  close\n}\nnode m { close }";
    let d = diags_of(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, Code::Syntax);
    assert_eq!(d[0].message, "this string is never closed");
    assert_eq!(slice(src, d[0].span), "\"hello");
    let (file, _) = parse(src);
    assert!(file
        .items
        .iter()
        .any(|i| matches!(i, Item::Node(n) if n.name.name == "m")));
    // At the end of the file too.
    let d = diags_of("node n { say \"abc");
    assert_eq!(d[0].message, "this string is never closed");
}

#[test]
fn reserved_words_cannot_be_names() {
    let cases = [
        ("node status { close }", "status", "a node"),
        ("node n { goto if }", "if", "a node"),
        ("node n { set true = 1 }", "true", "an attribute"),
        ("node n { ask call }", "call", "an attribute"),
        ("api node { live }", "node", "an API"),
        ("node n { call say }", "say", "an API"),
        ("node n { if x == 1 -> close else -> n }", "close", "a node"),
    ];
    for (src, word, role) in cases {
        let d = diags_of(src);
        assert_eq!(d.len(), 1, "{src}: {d:#?}");
        assert_eq!(d[0].code, Code::ReservedWord, "{src}");
        assert_eq!(
            d[0].message,
            format!("`{word}` is a reserved word and cannot name {role}")
        );
        assert_eq!(slice(src, d[0].span), word);
        assert!(d[0].help.as_deref().unwrap_or("").contains("another name"));
    }
    // Contextual words after `expect` and answer kinds are ordinary names.
    ok("node attr { ask request as name; set closed = 1 }");
}

#[test]
fn all_errors_reported_and_good_items_kept() {
    let src = "node a { say \"ok\" }\nnode b {\n  sya \"x\"\n}\nnode c { goto a }\nnode d {\n  if x == -> a\n}\napi e {\n  git \"u\"\n}\nnode f { close }\n";
    let (file, d) = parse(src);
    assert_eq!(d.len(), 3, "{d:#?}");
    assert!(d.iter().all(|d| d.code == Code::Syntax));
    assert_eq!(slice(src, d[0].span), "sya");
    assert_eq!(slice(src, d[1].span), "->");
    assert_eq!(slice(src, d[2].span), "git");
    let names: Vec<&str> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Node(n) => Some(n.name.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["a", "c", "f"]);
}

#[test]
fn missing_close_brace_resumes_at_next_item() {
    let src = "node a {\n  say \"x\"\nnode b { close }\n";
    let (file, d) = parse(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(slice(src, d[0].span), "node");
    assert_eq!(file.items.len(), 1);
}

#[test]
fn top_level_garbage() {
    let src = "nodes a { close }\nnode b { close }";
    let (file, d) = parse(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message
            .contains("`bot`, `api`, `node`, `test`, `import`, `hours` or `flow`"),
        "{}",
        d[0].message
    );
    assert_eq!(file.items.len(), 1);
}

#[test]
fn number_and_json_diagnostics() {
    let d = diags_of("node n { if x == 1e999 -> a else -> b }");
    assert!(!d.is_empty());
    let d = diags_of("node n { if x in 1..99999999999999999999 -> a else -> b }");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, Code::BadNumber);
    let d = diags_of("api a { retry 99999999999 }");
    assert_eq!(d[0].code, Code::BadNumber);
    let d = diags_of("api a { timeout 99999999999999999999h }");
    assert_eq!(d[0].code, Code::BadNumber);
    let d = diags_of("test \"t\" { stub a 999 }");
    assert_eq!(d[0].code, Code::BadNumber);
    let src = "test \"t\" { stub a 200 {\"a\": tru} }";
    let d = diags_of(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, Code::BadJson);
    let json_at = src.find("{\"a\"").unwrap_or(0);
    assert!(
        d[0].span.start() > json_at && d[0].span.end() <= src.len() - 2,
        "{:?}",
        d[0].span
    );
}

#[test]
fn secret_in_condition_is_refused() {
    let d = diags_of("node n { if secret.TOKEN == \"x\" -> a else -> b }");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, Code::Syntax);
}

#[test]
fn nasty_inputs_do_not_panic() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        "# only a comment".into(),
        "\n\n;;\n".into(),
        "node".into(),
        "node n {".into(),
        "node n { say \"".into(),
        "node n { say \"{".into(),
        "node n { say \"\\".into(),
        "node n { say \"é\\é{é}}\" }".into(),
        "}}}}".into(),
        "{{{{".into(),
        "test \"t\" { stub a 200 {{{{{{".into(),
        "test \"t\" { stub a 200 [\"é".into(),
        "api a { json {".into(),
        "api a { save x = body[".into(),
        "node n { if ((((((((((x)))))))))) -> a }".into(),
        format!(
            "node n {{ if {}x{} -> a }}",
            "(".repeat(5000),
            ")".repeat(5000)
        ),
        format!("node n {{ if {}x -> a }}", "not ".repeat(5000)),
        format!("node n {{ if x{} -> a }}", " or x".repeat(5000)),
        format!("api a {{ json {}", "[".repeat(5000)),
        "\u{FEFF}node n { close }".into(),
        "node n { say \"a\" }\r\nnode m { close }\r\n".into(),
        "éé node é { }".into(),
        "\0\0\0".into(),
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [1usize, 7, 64, 500] {
        for _ in 0..50 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Bias towards the language's own characters.
                    const ALPHABET: &[u8] = b"node {}\"\\;#\n ->=()[]0.sayif\xc3\xa9\xff";
                    ALPHABET[(seed % ALPHABET.len() as u64) as usize]
                })
                .collect();
            inputs.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    for input in &inputs {
        let (_, diags) = parse(input);
        for d in &diags {
            assert!(
                d.span.start() <= d.span.end() && d.span.end() <= input.len(),
                "{input:?}: {d:?}"
            );
            assert!(
                input.is_char_boundary(d.span.start()) && input.is_char_boundary(d.span.end()),
                "{input:?}: {d:?}"
            );
            assert!(!d.message.is_empty());
        }
    }
    assert!(parse("").1.is_empty() && parse("").0.items.is_empty());
    assert!(parse("# only a comment").1.is_empty());
}

/// Every construct of the language in one file, for the differential test.
const EVERYTHING: &str = r#"import "lib/apis.flow"
bot "All" { start a; }
api shop {
  live
  post "https://shop.test/{sys.channel}/orders?x={{y}}"
  header "X-Key" = "k {secret.KEY} \"q\""
  body "raw \\ {id}"
  json { "a": "{name}", "n": -1.5e3, "t": true, "f": false, "z": null,
         "o": {"p": [1, "x", {}, []]}, }
  timeout 1500ms; retry 3
  save first = body.items[0]["full name"].id
}
node a {
  say "Hello {name}!"   # greet
  ask name as name "Your name?"; ask age as number
  set vip = (age >= 18 and name != "x") or not flag is set
  set tags = tag in ["a", "b", 3, true, null, sys.now]
  call shop
  if status in -1..299 and name contains "a" -> b
  elif name starts_with "A" or name ends_with "z" -> b
  elif (zip matches "^[0-9]{3}$") -> b
  elif secretive is not set -> b
  else -> a
}
node b { goto a }
node c { if x == 1 -> a elif y < 2 -> b else -> c ; close }
test "everything" {
  stub shop 200 {"items": [{"full name": {"id": 7}}], "s": "}{"}
  stub shop 503
  stub other timeout
  user "hi"
  expect say "Hello"
  expect node b
  expect attr vip == true
  expect attr age is not set
  expect request shop "https://shop.test/web/orders?x={y}"
  expect closed
}
"#;

fn assert_same_as_pest(src: &str) {
    let fast = parse(src);
    let slow = chatflow::syntax::parse_with_pest_only(src);
    assert_eq!(fast, slow, "fast path and pest disagree on {src:?}");
}

#[test]
fn fast_path_matches_pest_on_examples() {
    let crlf_tabs_bom = format!(
        "\u{FEFF}{}",
        EVERYTHING.replace('\n', "\r\n").replace("  ", "\t")
    );
    for src in [LANGUAGE_EXAMPLE, TEST_EXAMPLE, EVERYTHING, &crlf_tabs_bom] {
        assert!(parse(src).1.is_empty(), "{:#?}", parse(src).1);
        assert_same_as_pest(src);
    }
    for extra in [
        "node n { ask city   ; close }",
        "node n {\n  if x   -> a  # c\n\n  elif y -> b   \n  else -> c  \n}",
        "node n { if not not x -> a else -> b }",
        "node n { if true.x -> a }",
        "node n { if status.code == 1 -> a }",
        "node n { say \"{a b}\" } node status { goto if }",
        "test \"t\" { expect attr a == (1) }",
        "test \"t\" { stub a 200 truex }",
        "api a { save x = body. }",
        "api a { get \"x\" ; timeout 5mx }",
        "node n { set x = 1 or }",
        "node n { if x == 1e5 -> a else -> b }",
    ] {
        assert_same_as_pest(extra);
    }
}

/// Small edits of valid files: the fast path must either agree with pest or step aside.
#[test]
fn fast_path_matches_pest_on_mutations() {
    let inserts = [
        "\"", "{", "}", "(", ")", "[", "]", ";", "\n", " ", "#", "-", ".", ",", ":", "=", "not ",
        "1", "x", "é", "\\", "->", "or ",
    ];
    for src in [LANGUAGE_EXAMPLE, EVERYTHING] {
        let boundaries: Vec<usize> = (0..=src.len())
            .filter(|&i| src.is_char_boundary(i))
            .collect();
        for (n, &i) in boundaries.iter().enumerate() {
            // Deleting one character.
            if let Some(&j) = boundaries.get(n + 1) {
                assert_same_as_pest(&format!("{}{}", &src[..i], &src[j..]));
            }
            // Inserting a few interesting ones.
            let ins = inserts[n % inserts.len()];
            assert_same_as_pest(&format!("{}{}{}", &src[..i], ins, &src[i..]));
        }
    }
}

/// Several random edits at once, from a fixed seed: again fast path and pest must agree.
#[test]
fn fast_path_matches_pest_on_random_edits() {
    let pieces = [
        "\"", "{", "}", "(", ")", "[", "]", ";", "\n", " ", "#", "-", ".", ",", ":", "=", "==",
        "not ", "and ", "1", "x", "é", "\\", "->", "or ", "in ", "..", "is ", "set", "elif ",
        "else ", "if ", "{{", "}}", "{a}",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let both = format!("{LANGUAGE_EXAMPLE}{TEST_EXAMPLE}");
    let crlf = EVERYTHING.replace('\n', "\r\n");
    let corpus = [EVERYTHING, both.as_str(), crlf.as_str()];
    for round in 0..3000 {
        let mut src = corpus[round % corpus.len()].to_owned();
        for _ in 0..1 + next(3) {
            let mut at = next(src.len() + 1);
            while !src.is_char_boundary(at) {
                at -= 1;
            }
            if next(2) == 0 {
                src.insert_str(at, pieces[next(pieces.len())]);
            } else {
                let mut end = (at + 1 + next(4)).min(src.len());
                while !src.is_char_boundary(end) {
                    end += 1;
                }
                src.replace_range(at..end, "");
            }
        }
        assert_same_as_pest(&src);
    }
}

#[test]
fn diagnostics_render_without_panicking() {
    let src = "node a {\n  sya \"x\"\n}\nnode status { say \"{a b} }\" }\ntest \"t\" { stub a 200 {\"a\": tru} }\nnode n { say \"é";
    let (_, diags) = parse(src);
    assert!(diags.len() >= 4, "{diags:#?}");
    let mut sources = chatflow::source::SourceSet::default();
    sources.add("t.flow", src);
    let text = chatflow::diagnostic::render(&diags, &sources, false);
    for d in &diags {
        assert!(text.contains(d.code.name()), "{text}");
    }
}

#[test]
fn single_equals_in_a_condition_is_explained() {
    let src = "node n { if status = 200 -> a else -> b }";
    let d = diags_of(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, Code::Syntax);
    assert_eq!(slice(src, d[0].span), "=");
    assert!(d[0].message.contains("write `==`"), "{}", d[0].message);
}

#[test]
fn unclosed_stub_json_stops_at_the_next_item() {
    let src = "test \"t\" {\n  stub a 200 {\"a\": [1,\n}\nnode n { close }\n";
    let (file, d) = parse(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].span.start() < src.find("node n").unwrap_or(0),
        "{d:#?}"
    );
    assert!(matches!(&file.items[..], [Item::Node(n)] if n.name.name == "n"));
    // JSON over several lines is still fine.
    ok("test \"t\" {\n  stub a 200 {\n    \"node\": 1,\n    \"test\": [\n      2\n    ]\n  }\n}");
}

#[test]
fn numbers_too_large_are_diagnostics() {
    let huge = "9".repeat(400);
    for src in [
        format!("node n {{ if x == {huge} -> a else -> b }}"),
        format!("node n {{ set x = -{huge} }}"),
        format!("api a {{ json {{\"n\": {huge}}} }}"),
        format!("test \"t\" {{ expect attr x == {huge} }}"),
        format!("api a {{ save x = body[{huge}] }}"),
    ] {
        let d = diags_of(&src);
        assert_eq!(d.len(), 1, "{src}: {d:#?}");
        assert_eq!(d[0].code, Code::BadNumber, "{src}");
        assert_eq!(slice(&src, d[0].span).trim_start_matches('-'), huge);
        assert_same_as_pest(&src);
    }
}

/// `expect node FLOW.NODE` keeps the whole dotted name with its span; each part is a name
/// (a reserved word is refused), and no space may sit around the dot.
#[test]
fn expect_node_names_a_flow_node() {
    let src = "test \"t\" { expect node verify_email.bad; expect node plain }";
    let file = ok(src);
    assert_eq!(file, chatflow::syntax::parse_with_pest_only(src).0);
    let Item::Test(t) = &file.items[0] else {
        panic!("test")
    };
    let TestStepKind::ExpectNode(n) = &t.steps[0].kind else {
        panic!("expect node")
    };
    assert_eq!(n.name, "verify_email.bad");
    assert_eq!(slice(src, n.span), "verify_email.bad");
    assert!(matches!(&t.steps[1].kind, TestStepKind::ExpectNode(n) if n.name == "plain"));

    let (_, diags) = parse("test \"t\" { expect node flow.if }");
    assert_eq!(diags[0].code, Code::ReservedWord);
    let (_, diags) = parse("test \"t\" { expect node flow . n }");
    assert_eq!(diags[0].code, Code::Syntax);
}

#[test]
fn sensitive_marks_parse_alike_on_both_paths_and_format_back() {
    for src in [
        "node n { ask pin sensitive as number \"PIN?\" ; close }",
        "node n { ask sensitive ; close }",
        "node n { ask sensitive sensitive \"x\" ; close }",
        "node n { set token sensitive = \"a\" ; close }",
        "api a { get \"https://x.test/\" ; save t sensitive = body.t }",
    ] {
        assert!(parse(src).1.is_empty(), "{src}: {:#?}", parse(src).1);
        assert_same_as_pest(src);
    }
    let file = ok("node n {\n  ask pin sensitive as number \"PIN?\"\n  ask sensitive\n  set t sensitive = 1\n}\n");
    let n = node(&file, "n");
    assert!(
        matches!(&n.body[0].kind, StmtKind::Ask { attr, sensitive: true, kind: Some(k), .. }
        if attr.name == "pin" && k.name == "number")
    );
    assert!(
        matches!(&n.body[1].kind, StmtKind::Ask { attr, sensitive: false, .. } if attr.name == "sensitive")
    );
    assert!(matches!(
        &n.body[2].kind,
        StmtKind::Set {
            sensitive: true,
            ..
        }
    ));
}

//! Expressions: arithmetic with precedence, functions, templates in `set`, arithmetic in
//! conditions, the bot's time zone; parsed by both parsers alike, printed back by `fmt`, and
//! evaluated by the real engine.

use std::sync::Arc;

use chatflow::diagnostic::Code;
use chatflow::ir::{Program, Value};
use chatflow::runtime::{Engine, EngineConfig, Session};
use chatflow::syntax::ast::*;
use chatflow::syntax::format::format_source;
use chatflow::syntax::{parse, parse_with_pest_only};

use crate::common::{compile_clean, says, started};

/// The value of `set x = EXPR` as the parser reads it (both parsers must agree).
fn set_value(expr: &str) -> Expr {
    let src = format!("node n {{ set x = {expr} }}");
    let (file, diags) = parse(&src);
    assert!(diags.is_empty(), "{src}: {diags:#?}");
    assert_eq!((file.clone(), diags), parse_with_pest_only(&src), "{src}");
    let Item::Node(n) = &file.items[0] else {
        panic!("node")
    };
    let StmtKind::Set { value, .. } = &n.body[0].kind else {
        panic!("set")
    };
    (**value).clone()
}

/// An expression written back with every operator in parentheses, to show the tree's shape.
fn shape(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Arith { op, lhs, rhs } => {
            format!("({} {} {})", shape(lhs), op.as_str(), shape(rhs))
        }
        ExprKind::Call { name, args } => {
            let args: Vec<String> = args.iter().map(shape).collect();
            format!("{}[{}]", name.name, args.join(", "))
        }
        ExprKind::Cmp { op, lhs, rhs } => {
            format!("({}{}{})", shape(lhs), op.spaced(), shape(rhs))
        }
        ExprKind::And(a, b) => format!("({} and {})", shape(a), shape(b)),
        ExprKind::Lit(Literal::Number(n)) => n.to_string(),
        ExprKind::Ref(r) => match &r.kind {
            RefKind::Attr(a) => a.to_string(),
            other => format!("{other:?}"),
        },
        ExprKind::Template(t) => format!("template{:?}", t.parts.len()),
        other => format!("{other:?}"),
    }
}

#[test]
fn arithmetic_has_the_usual_precedence_and_chains_to_the_left() {
    let cases = [
        ("a + b * c", "(a + (b * c))"),
        ("(a + b) * c", "((a + b) * c)"),
        ("a - b - c", "((a - b) - c)"),
        ("a / b % c", "((a / b) % c)"),
        ("a-1", "(a - 1)"),
        ("a - -1", "(a - -1)"),
        ("2*-3", "(2 * -3)"),
        (
            "a + 1 >= 3 and b * 2 < c",
            "(((a + 1) >= 3) and ((b * 2) < c))",
        ),
        ("round(a * b, 2) + len(c)", "(round[(a * b), 2] + len[c])"),
        ("trim( x )", "trim[x]"),
        ("f()", "f[]"),
    ];
    for (src, want) in cases {
        assert_eq!(shape(&set_value(src)), want, "{src}");
    }
}

#[test]
fn a_minus_before_greater_than_is_the_arrow() {
    let src = "node n { if a-1>2 -> b else -> c }\nnode b { close }\nnode c { close }";
    let (file, diags) = parse(src);
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(file, parse_with_pest_only(src).0);
    let Item::Node(n) = &file.items[0] else {
        panic!("node")
    };
    let StmtKind::Branch(b) = &n.body[0].kind else {
        panic!("branch")
    };
    assert_eq!(shape(&b.arms[0].cond), "((a - 1) > 2)");
    assert_eq!(b.arms[0].target.name, "b");
    // `x -> n` is never read as `x - (>n)`.
    let (file, diags) = parse("node n { if x -> b else -> c }");
    assert!(diags.is_empty(), "{diags:#?}");
    let Item::Node(n) = &file.items[0] else {
        panic!("node")
    };
    let StmtKind::Branch(b) = &n.body[0].kind else {
        panic!("branch")
    };
    assert!(matches!(b.arms[0].cond.kind, ExprKind::Ref(_)));
}

#[test]
fn strings_in_set_are_templates_and_in_conditions_plain_text() {
    let v = set_value(r#""{first} {last} {{x}}""#);
    let ExprKind::Template(t) = &v.kind else {
        panic!("a template: {v:?}")
    };
    let refs: Vec<&RefKind> = t
        .parts
        .iter()
        .filter_map(|p| match p {
            TemplatePart::Ref(r) => Some(&r.kind),
            TemplatePart::Text(_) => None,
        })
        .collect();
    assert_eq!(
        refs,
        [
            &RefKind::Attr("first".into()),
            &RefKind::Attr("last".into())
        ]
    );
    assert!(t.parts.contains(&TemplatePart::Text(" {x}".into())));
    // Inside a call in a `set`, too.
    let v = set_value(r#"upper("{a}")"#);
    let ExprKind::Call { args, .. } = &v.kind else {
        panic!("call")
    };
    assert!(matches!(args[0].kind, ExprKind::Template(_)));
    // A condition's string is plain text, braces and all.
    let (file, _) = parse("node n { if a == \"{b}\" -> n else -> n }");
    let Item::Node(n) = &file.items[0] else {
        panic!("node")
    };
    let StmtKind::Branch(b) = &n.body[0].kind else {
        panic!("branch")
    };
    assert!(matches!(&b.arms[0].cond.kind, ExprKind::Cmp { rhs, .. }
        if rhs.kind == ExprKind::Lit(Literal::String("{b}".into()))));
    // A broken template in a `set` is the template's syntax error.
    let (_, diags) = parse("node n { set x = \"{oops\" }");
    assert_eq!(diags[0].code, Code::UnterminatedTemplate);
}

#[test]
fn fmt_writes_expressions_canonically_and_keeps_their_meaning() {
    let messy = "node n {\n  set x = ( a+b )*c-(d-e)\n  set y=round( x/3 ,2 )\n  set z = \"{a}-{{b}}\"\n  if (x+1)>=3 and len( l )%2==0 -> n\n  else -> n\n}\n";
    let formatted = format_source(messy).expect("formats");
    assert_eq!(
        formatted,
        "node n {\n  set x = (a + b) * c - (d - e)\n  set y = round(x / 3, 2)\n  set z = \"{a}-{{b}}\"\n  if x + 1 >= 3 and len(l) % 2 == 0 -> n\n  else -> n\n}\n"
    );
    assert_eq!(format_source(&formatted).expect("formats again"), formatted);
    let strip = |src: &str| {
        let v = serde_json::to_value(parse(src).0).expect("json");
        without_spans(v)
    };
    assert_eq!(strip(messy), strip(&formatted));
}

/// A syntax tree as JSON without its byte positions, to compare meaning across layouts.
fn without_spans(mut v: serde_json::Value) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| k != "span" && !k.ends_with("_span"));
                m.values_mut().for_each(walk);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

// ---- the engine --------------------------------------------------------------------------

fn compiled(src: &str) -> Arc<Program> {
    compile_clean("test.flow", src).0
}

fn engine(src: &str) -> Engine {
    Engine::new(compiled(src), EngineConfig::default()).unwrap()
}

fn attr(e: &Engine, s: &Session, name: &str) -> Option<Value> {
    crate::common::attr(e, s, name)
}

fn shown(v: Option<Value>) -> String {
    chatflow::ir::show_value(v.as_ref())
}

#[tokio::test]
async fn set_computes_numbers_text_and_conversions() {
    let e = engine(
        r#"
node s {
  ask price as number "Price?"
  ask qty as number "Qty?"
  ask first "First?"
  ask api_text "A number as an API sends it?"
  set total = price * qty + 0.1 + 0.2
  set grouped = (qty + 1) * 2 - 10 / 4
  set rest = 17 % qty
  set full = "{first} bought {qty}"
  set loud = upper(trim("  {first} "))
  set small = lower("ÀB")
  set r = round(2.675, 2)
  set n = number(api_text)
  set same = number(api_text) == 30
  set t = text(total)
  set bad = number(first)
  set chars = len(first)
  close
}
"#,
    );
    let mut s = started(&e).await;
    for answer in ["19.99", "3", "Ada", " 30 "] {
        e.step(&mut s, answer).await;
    }
    let cases = [
        ("total", "60.27"),
        ("grouped", "5.5"),
        ("rest", "2"),
        ("full", "\"Ada bought 3\""),
        ("loud", "\"ADA\""),
        ("small", "\"àb\""),
        ("r", "2.68"),
        ("n", "30"),
        ("same", "true"),
        ("t", "\"60.27\""),
        ("bad", "not set"),
        ("chars", "3"),
    ];
    for (name, want) in cases {
        assert_eq!(shown(attr(&e, &s, name)), want, "{name}");
    }
}

#[tokio::test]
async fn division_by_zero_leaves_the_attribute_unset_and_says_why() {
    let e = engine(
        r#"
node s {
  ask n as number "How many?"
  set avg = 10 / n
  set rem = 10 % n
  say "avg={avg} rem={rem} error={sys.error}"
  if avg is set -> fine else -> zero
}
node zero {
  set ok = n + 1
  say "after a good set: error={sys.error}"
  close
}
node fine { close }
"#,
    );
    let mut s = started(&e).await;
    let events = e.step(&mut s, "0").await;
    assert_eq!(
        says(&events),
        [
            "avg= rem= error=division_by_zero",
            "after a good set: error=",
        ]
    );
    assert_eq!(attr(&e, &s, "avg"), None);
    assert_eq!(shown(attr(&e, &s, "ok")), "1");

    let mut s = started(&e).await;
    let events = e.step(&mut s, "4").await;
    assert_eq!(says(&events), ["avg=2.5 rem=2 error="]);
}

#[tokio::test]
async fn arithmetic_on_text_at_run_time_is_unset_with_a_reason_and_unset_stays_quiet() {
    // `v` is text on one path and a number on the other, so its type is only known at run time.
    let e = engine(
        r#"
node s {
  ask choice "Which?"
  if choice == "text" -> as_text else -> as_number
}
node as_text { set v = "abc"; goto calc }
node as_number { set v = 2; goto calc }
node calc {
  set doubled = v * 2
  say "doubled={doubled} error={sys.error}"
  set from_unset = missing * 2
  say "from_unset={from_unset} error={sys.error}"
  close
}
node never { ask missing as number "Never asked"; close }
"#,
    );
    let mut s = started(&e).await;
    let events = e.step(&mut s, "text").await;
    assert_eq!(
        says(&events),
        ["doubled= error=not_a_number", "from_unset= error="]
    );
    let mut s = started(&e).await;
    let events = e.step(&mut s, "number").await;
    assert_eq!(says(&events), ["doubled=4 error=", "from_unset= error="]);
}

#[tokio::test]
async fn conditions_compute_before_comparing_the_attempt_counter() {
    let e = engine(
        r#"
node start_here { set attempts = 0; goto ask_code }
node ask_code {
  ask code "Code?"
  if code == "1234" -> welcome
  elif attempts + 1 >= 3 -> agent
  else -> wrong
}
node wrong { set attempts = attempts + 1; say "Wrong ({attempts} of 3)."; goto ask_code }
node welcome { say "Welcome!"; close }
node agent { say "Handing over."; close }
"#,
    );
    let mut s = started(&e).await;
    assert_eq!(
        says(&e.step(&mut s, "1").await),
        ["Wrong (1 of 3).", "Code?"]
    );
    assert_eq!(
        says(&e.step(&mut s, "2").await),
        ["Wrong (2 of 3).", "Code?"]
    );
    assert_eq!(says(&e.step(&mut s, "3").await), ["Handing over."]);
    assert_eq!(s.state, chatflow::runtime::SessionState::Closed);

    let mut s = started(&e).await;
    e.step(&mut s, "1").await;
    assert_eq!(says(&e.step(&mut s, "1234").await), ["Welcome!"]);
}

/// `sys.date` and `sys.time` at a fixed instant, in the bot's zone when it names one.
async fn date_and_time(bot: &str, instant: &str) -> String {
    let e = engine(&format!(
        "{bot}\nnode s {{ say \"{{sys.date}} {{sys.time}} {{sys.now}}\"; close }}"
    ));
    let mut s = e.new_session();
    s.fixed_now = Some(instant.to_string());
    says(&e.start(&mut s).await).join("")
}

#[tokio::test]
async fn sys_date_and_time_follow_the_bot_time_zone() {
    use chrono::{DateTime, Utc};
    // Late evening in UTC is already the next day in Paris and still the same day in Chicago.
    let instant = "2026-06-01T22:30:00Z";
    let at: DateTime<Utc> = instant.parse().unwrap();
    for zone in ["Europe/Paris", "America/Chicago", "Asia/Kolkata"] {
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let local = at.with_timezone(&tz);
        let want = format!(
            "{} {} 2026-06-01T22:30:00Z",
            local.format("%Y-%m-%d"),
            local.format("%H:%M")
        );
        let bot = format!("bot \"b\" {{ start s; timezone \"{zone}\" }}");
        assert_eq!(date_and_time(&bot, instant).await, want, "{zone}");
    }
    assert_eq!(
        date_and_time("bot \"b\" { start s }", instant).await,
        "2026-06-01 22:30 2026-06-01T22:30:00Z"
    );
    // Paris really is ahead here, so the zone is not ignored.
    assert!(
        date_and_time("bot \"b\" { start s; timezone \"Europe/Paris\" }", instant)
            .await
            .starts_with("2026-06-02 00:30")
    );
}

#[test]
fn a_bad_time_zone_is_refused_with_a_suggestion() {
    let compiled = chatflow::compile::compile_str(
        "t.flow",
        "bot \"b\" { start s; timezone \"Europe/Pari\" }\nnode s { close }",
    );
    let d = &compiled.diagnostics[0];
    assert_eq!(d.code, Code::UnknownZone);
    assert!(
        d.help
            .as_deref()
            .is_some_and(|h| h.contains("Europe/Paris")),
        "{d:?}"
    );
}

#[test]
fn ir_shows_expressions_the_way_fmt_writes_them() {
    let program = compiled(
        "node s {\n  ask a as number \"?\"\n  set x = (a + 1) * 2 - round(a / 3, 2)\n  set y = \"{a} and {{b}}\"\n  if x - 1 >= 3 -> s\n  else -> s\n}",
    );
    let stmts = &program.nodes[0].stmts;
    let shown: Vec<String> = stmts
        .iter()
        .filter_map(|st| match st {
            chatflow::ir::Stmt::Set { value, .. } => Some(chatflow::ir::show_expr(&program, value)),
            chatflow::ir::Stmt::Branch(t) => Some(chatflow::ir::show_arm(&program, t, 0)),
            _ => None,
        })
        .collect();
    assert_eq!(
        shown,
        [
            "(a + 1) * 2 - round(a / 3, 2)",
            "\"{a} and {{b}}\"",
            "if x - 1 >= 3"
        ]
    );
}

/// A test block over the real stub server: an API's `"30"` is text, `number()` makes it 30, and
/// a list's `len` counts its elements.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_text_converted_with_number_equals_the_number() {
    let src = r#"
api stock { live; get "https://shop.example.test/stock"; save raw = body.qty; save items = body.items }
node s {
  call stock
  set qty = number(raw)
  set count = len(items)
  set label = text(qty + 1)
  if raw == 30 -> wrong
  elif qty == 30 and count == 3 -> right
  else -> wrong
}
node right { say "{qty} {count} {label}"; close }
node wrong { say "wrong"; close }
test "converted" {
  stub stock 200 {"qty": "30", "items": ["a", "b", "c"]}
  expect node right
  expect say "30 3 31"
  expect attr qty == 30
  expect attr label == "31"
}
test "not a number" {
  stub stock 200 {"qty": "thirty", "items": []}
  expect node wrong
  expect attr qty is not set
  expect attr count == 0
}
"#;
    let program = compiled(src);
    let outcomes = chatflow::testing::run_tests(program, &Default::default()).await;
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        assert!(o.failure.is_none(), "{}: {:?}", o.name, o.failure);
    }
}

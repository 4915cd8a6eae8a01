//! The web chat in a real browser: headless Chromium driven over WebDriver (chromedriver),
//! against the real `chatflow serve` binary on loopback with a SQLite store.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the suite is skipped with a
//! line on stderr, and under `CI=true` that is a failure; `./test.sh` installs them.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::serve::process::Process;

const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    // A phone's width: the chat must be usable there.
    "--window-size=400,820",
];

/// How long to wait for the page to reach an expected state before failing. A liveness
/// limit, not a timing assertion: a healthy run takes a fraction of it.
const PATIENCE: Duration = Duration::from_secs(30);

/// The first of `names` found in PATH.
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Chromium and chromedriver, or the reason the suite cannot run. Under `CI=true` a skip is
/// a failure: CI must run every suite.
fn browser_or_skip() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_program(&["chromium", "chromium-browser"]);
    let driver = find_program(&["chromedriver"]);
    let missing = match (&chromium, &driver) {
        (Some(c), Some(d)) => return Some((c.clone(), d.clone())),
        (None, None) => "chromium and chromedriver not found",
        (None, _) => "chromium not found",
        (_, None) => "chromedriver not found",
    };
    let line = format!(
        "skipped: browser suite: {missing} (install Debian's chromium and chromium-driver, or run ./test.sh)"
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{line}; under CI=true every suite must run"
    );
    // Straight to the stderr handle: the test harness captures `eprintln!`, and this line must
    // be seen when the suite passes.
    let _ = writeln!(std::io::stderr(), "{line}");
    None
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "chatflow-{tag}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `chatflow serve FLOW --addr 127.0.0.1:0 --store DB ARGS`, once it prints its ready line.
fn serve(flow: &Path, store: &Path, args: &[&str]) -> (Process, String) {
    let process = Process::start(flow, store, args, &[]);
    let base = process.base.clone();
    (process, base)
}

/// chromedriver on a free port, once it answers.
async fn chromedriver(driver: &Path) -> (Running, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let running = Running(child);
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{url}/status")).await {
            if r.status().is_success() {
                return (running, url);
            }
        }
        assert!(started.elapsed() < PATIENCE, "chromedriver did not answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn browser(driver_url: &str, chromium: &Path, profile: &Path) -> Client {
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chromium, "args": args}),
    );
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(driver_url)
        .await
        .expect("a browser session")
}

/// The chat log as (who, text) pairs: `bot`, `user` or `notice`.
async fn transcript(c: &Client) -> Vec<(String, String)> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('.cf-msg, .cf-notice')).map(e => [\
               e.classList.contains('cf-msg-bot') ? 'bot' : e.classList.contains('cf-msg-user') ? 'user' : 'notice',\
               e.textContent])",
            vec![],
        )
        .await
        .expect("read the log");
    serde_json::from_value(v).expect("pairs")
}

/// Waits until the log holds `(who, text)`.
async fn wait_for_line(c: &Client, who: &str, text: &str) {
    let started = Instant::now();
    loop {
        let lines = transcript(c).await;
        if lines.iter().any(|(w, t)| w == who && t == text) {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no {who} line {text:?} in the chat: {lines:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until no turn is in flight (the typing indicator is gone and the log has settled).
async fn wait_idle(c: &Client) {
    let started = Instant::now();
    loop {
        let busy = c
            .execute("return !!document.querySelector('.cf-typing')", vec![])
            .await
            .expect("script");
        if busy == Value::Bool(false) {
            return;
        }
        assert!(started.elapsed() < PATIENCE, "the turn never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Types into the message box and presses Enter.
async fn type_message(c: &Client, text: &str) {
    let input = c
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(".cf-input:enabled"))
        .await
        .expect("the message box");
    input
        .send_keys(&format!("{text}\u{E007}"))
        .await
        .expect("type");
}

/// The quick reply or button labelled `label` that can still be clicked.
async fn live_choice(c: &Client, label: &str) -> fantoccini::elements::Element {
    let started = Instant::now();
    loop {
        for b in c
            .find_all(Locator::Css("button.cf-reply"))
            .await
            .expect("buttons")
        {
            if b.text().await.expect("label") == label && b.is_enabled().await.expect("enabled") {
                return b;
            }
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no live choice {label:?}: {:#?}",
            transcript(c).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A bot whose texts are markup: the page must show them as text and run none of it.
const MARKUP_FLOW: &str = r#"bot "Markup" {
  start hello
}

node hello {
  say "<img src=x onerror=\"window.__pwned=1\"> <b>is text</b>"
  choose "<i>Pick</i>" {
    "<img src=y onerror=\"window.__pwned=2\">" -> bye
  }
}

node bye {
  say "bye"
}
"#;

#[tokio::test]
async fn the_web_chat_works_in_a_real_browser() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let dir = TempDir::new("webchat");
    let profile = dir.0.join("profile");
    let (_driver, driver_url) = chromedriver(&driver).await;
    let c = browser(&driver_url, &chromium, &profile).await;
    let (client, work) = (c.clone(), dir.0.clone());
    // In a task of its own, so that the browser is closed even when an assertion fails.
    let result = tokio::spawn(async move {
        weather_chat(&client, &work).await;
        support_quick_reply_and_reload(&client, &work).await;
        markup_is_text(&client, &work).await;
        streamed_reply(&client, &work).await;
    })
    .await;
    let _ = c.close().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn weather_chat(c: &Client, dir: &Path) {
    let (_server, base) = serve(
        &example("weather.flow"),
        &dir.join("weather.db"),
        &["--stubs", example("weather.stubs.json").to_str().unwrap()],
    );
    c.goto(&format!("{base}/")).await.expect("open the page");
    wait_for_line(c, "bot", "Hi! Which city are you in?").await;
    let heading = c.find(Locator::Css(".cf-header h1")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "Weather desk");
    type_message(c, "Chicago").await;
    wait_for_line(c, "user", "Chicago").await;
    wait_for_line(c, "bot", "It is 3.5 degrees in Chicago").await;
    wait_for_line(c, "notice", "The chat has ended.").await;
    let input = c.find(Locator::Css(".cf-input")).await.unwrap();
    assert!(
        !input.is_enabled().await.unwrap(),
        "a closed chat takes no more input"
    );
}

async fn support_quick_reply_and_reload(c: &Client, dir: &Path) {
    let (_server, base) = serve(
        &example("support.flow"),
        &dir.join("support.db"),
        &[
            "--stubs",
            example("support.stubs.json").to_str().unwrap(),
            "--otp-code",
        ],
    );
    c.goto(&format!("{base}/")).await.expect("open the page");
    wait_for_line(c, "bot", "Hi, I'm Ava, Shopwise's assistant.").await;
    live_choice(c, "Track an order")
        .await
        .click()
        .await
        .unwrap();
    wait_for_line(c, "user", "Track an order").await;
    wait_for_line(c, "bot", "What is your name?").await;
    type_message(c, "Ann Lee").await;
    wait_for_line(c, "bot", "Which email address do you use with us?").await;
    wait_idle(c).await;
    let before = transcript(c).await;

    c.refresh().await.expect("reload");
    wait_for_line(c, "bot", "Which email address do you use with us?").await;
    wait_idle(c).await;
    let after = transcript(c).await;
    assert_eq!(
        after, before,
        "a reload shows the same conversation from its transcript"
    );
    let stale = c
        .find_all(Locator::Css("button.cf-reply:enabled"))
        .await
        .unwrap();
    assert!(
        stale.is_empty(),
        "answered quick replies cannot be clicked again"
    );

    // The reloaded page goes on with the same conversation.
    type_message(c, "ann@example.com").await;
    wait_for_line(c, "user", "ann@example.com").await;
    live_choice(c, "#1042: 2 items, Nov 20").await;
    let wide = c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        wide,
        Value::Bool(false),
        "no sideways scrolling at a phone's width"
    );
    let png = c.screenshot().await.expect("screenshot");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("webchat.png");
    std::fs::write(&shot, png).expect("save the screenshot");
}

async fn markup_is_text(c: &Client, dir: &Path) {
    let flow = dir.join("markup.flow");
    std::fs::write(&flow, MARKUP_FLOW).unwrap();
    let (_server, base) = serve(&flow, &dir.join("markup.db"), &[]);
    c.goto(&format!("{base}/")).await.expect("open the page");
    let shown = r#"<img src=x onerror="window.__pwned=1"> <b>is text</b>"#;
    wait_for_line(c, "bot", shown).await;
    wait_for_line(c, "bot", "<i>Pick</i>").await;
    let label = r#"<img src=y onerror="window.__pwned=2">"#;
    live_choice(c, label).await.click().await.unwrap();
    wait_for_line(c, "user", label).await;
    wait_for_line(c, "bot", "bye").await;
    let found = c
        .execute(
            "return [document.querySelectorAll('.cf-log img, .cf-log b, .cf-log i').length, \
                     window.__pwned === undefined]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        found,
        json!([0, true]),
        "bot text became markup or ran script"
    );
}

/// How many bot bubbles are still growing with a streamed reply.
async fn streaming_bubbles(c: &Client) -> u64 {
    c.execute(
        "return document.querySelectorAll('.cf-streaming').length",
        vec![],
    )
    .await
    .unwrap()
    .as_u64()
    .expect("a count")
}

/// The model's reply grows in the chat while it arrives, then stands once, whole; a reply
/// cut off mid-stream gives way to what the flow says instead.
async fn streamed_reply(c: &Client, dir: &Path) {
    use crate::serve::streaming::{flow, FakeModel, ANSWER, PIECES};
    let model = FakeModel::start().await;
    let secrets = dir.join("secrets.env");
    std::fs::write(&secrets, "AI_KEY=sk-test-key\n").unwrap();
    let serve_model = |path: &str, db: &str| {
        let file = dir.join(format!("{db}.flow"));
        std::fs::write(&file, flow(&format!("{}{path}", model.base))).unwrap();
        serve(
            &file,
            &dir.join(format!("{db}.db")),
            &["--secrets", secrets.to_str().unwrap()],
        )
    };
    let (_server, base) = serve_model("/v1/chat/completions", "streamed");
    c.goto(&format!("{base}/")).await.expect("open the page");
    wait_for_line(c, "bot", "Ask me anything.").await;
    type_message(c, "Hi there").await;
    // The model holds the rest of its answer until the gate opens: this is the reply growing.
    let partial = PIECES[..3].concat();
    wait_for_line(c, "bot", &partial).await;
    let growing = streaming_bubbles(c).await;
    assert_eq!(growing, 1, "the partial reply is marked as growing");
    model.gate.add_permits(1);
    wait_for_line(c, "bot", ANSWER).await;
    wait_idle(c).await;
    let lines = transcript(c).await;
    let replies = lines.iter().filter(|(_, t)| t.starts_with("Hello")).count();
    assert_eq!(replies, 1, "the reply stands once: {lines:#?}");
    let growing = streaming_bubbles(c).await;
    assert_eq!(growing, 0);

    let (_server, base) = serve_model("/drop", "dropped");
    c.goto(&format!("{base}/")).await.expect("open the page");
    wait_for_line(c, "bot", "Ask me anything.").await;
    type_message(c, "Hi").await;
    wait_for_line(c, "bot", "The assistant is away (other).").await;
    wait_idle(c).await;
    let lines = transcript(c).await;
    assert!(
        lines.iter().all(|(_, t)| !t.contains("Part of")),
        "the cut-off reply was replaced: {lines:#?}"
    );
}

/// Without a browser: the page, the script and the headers that let another site embed it.
#[tokio::test]
async fn the_page_the_widget_and_cors_are_served() {
    let dir = TempDir::new("webchat-http");
    let (_server, base) = serve(
        &example("weather.flow"),
        &dir.0.join("w.db"),
        &["--stubs", example("weather.stubs.json").to_str().unwrap()],
    );
    let client = reqwest::Client::new();
    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(page
        .text()
        .await
        .unwrap()
        .contains(r#"<script src="/widget.js" data-mode="page"></script>"#));

    for (path, ty, needle) in [
        ("/widget.js", "text/javascript", "textContent"),
        ("/widget.css", "text/css", ".cf-root"),
    ] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(ty));
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
    // The embedded script never builds markup from strings.
    let script = client
        .get(format!("{base}/widget.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
    ] {
        assert!(!script.contains(sink), "widget.js uses {sink}");
    }

    // A page on another origin may call the API: preflight, then the call itself.
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{base}/api/conversations"),
        )
        .header("origin", "https://shop.example.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    let opened = client
        .post(format!("{base}/api/conversations"))
        .header("origin", "https://shop.example.test")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 201);
    assert_eq!(opened.headers()["access-control-allow-origin"], "*");
}

/// The HTML report of a store filled by real turns, opened from its file in the browser: it
/// renders the numbers of the JSON report, fetches nothing, and leaves a screenshot.
#[tokio::test]
async fn the_report_page_renders_the_report_numbers() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let dir = TempDir::new("report-page");
    let db = dir.0.join("desk.db");
    crate::serve::report::fill_desk_store(&db).await;
    let page = dir.0.join("report.html");
    let json: Value =
        serde_json::from_str(&crate::serve::report::report(&db, &["--format", "json"])).unwrap();
    crate::serve::report::report(&db, &["--format", "html", "-o", page.to_str().unwrap()]);

    let (_driver, driver_url) = chromedriver(&driver).await;
    let c = browser(&driver_url, &chromium, &dir.0.join("profile")).await;
    let client = c.clone();
    let result = tokio::spawn(async move {
        client
            .set_window_size(1100, 1400)
            .await
            .expect("window size");
        client
            .goto(&format!("file://{}", page.display()))
            .await
            .expect("open the report");
        report_shows(&client, &json).await;
        let png = client.screenshot().await.expect("screenshot");
        let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png");
        std::fs::write(&shot, png).expect("save the screenshot");
    })
    .await;
    let _ = c.close().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn report_shows(c: &Client, json: &Value) {
    let shown = c
        .execute(
            r#"
            const text = (sel) => Array.from(document.querySelectorAll(sel)).map(e => e.textContent);
            const attrs = (sel, names) => Array.from(document.querySelectorAll(sel))
                .map(e => names.map(n => e.getAttribute(n)));
            const box = document.querySelector('#flow-graph').getBoundingClientRect();
            return {
                metrics: Object.fromEntries(Array.from(document.querySelectorAll('#engagement [data-metric]'))
                    .map(e => [e.dataset.metric, e.textContent])),
                nodes: attrs('#flow-graph .node', ['data-node', 'data-visits', 'data-drop-off']),
                edges: Array.from(document.querySelectorAll('#flow-graph [data-edge]'))
                    .map(e => [e.dataset.edge, e.querySelector('text').textContent]),
                days: attrs('#per-day .day', ['data-conversations']),
                goals: attrs('#goals [data-goal]', ['data-goal', 'data-reached']),
                calls: text('#apis [data-api] [data-metric=calls]'),
                graph_drawn: box.width > 100 && box.height > 100,
                fetched: performance.getEntriesByType('resource').length,
                scripts: document.scripts.length,
            };
            "#,
            vec![],
        )
        .await
        .expect("read the page");
    let e = &json["engagement"];
    for metric in [
        "conversations",
        "messages_in",
        "completed",
        "transferred",
        "abandoned",
    ] {
        assert_eq!(
            shown["metrics"][metric].as_str(),
            Some(e[metric].to_string().as_str()),
            "{metric} on the page"
        );
    }
    let nodes: Vec<Vec<String>> = serde_json::from_value(shown["nodes"].clone()).unwrap();
    for n in json["nodes"].as_array().unwrap() {
        let row = vec![
            n["node"].as_str().unwrap().to_string(),
            n["visits"].to_string(),
            n["drop_off"].to_string(),
        ];
        assert!(nodes.contains(&row), "{row:?} not drawn in {nodes:?}");
    }
    let edges: Vec<(String, String)> = serde_json::from_value(shown["edges"].clone()).unwrap();
    for edge in json["edges"].as_array().unwrap() {
        let key = format!(
            "{}->{}",
            edge["from"].as_str().unwrap(),
            edge["to"].as_str().unwrap()
        );
        assert!(
            edges.contains(&(key.clone(), edge["count"].to_string())),
            "edge {key} with its count not drawn: {edges:?}"
        );
    }
    assert_eq!(
        shown["days"][0][0].as_str(),
        Some(json["by_day"][0]["conversations"].to_string().as_str())
    );
    assert_eq!(shown["goals"], json!([["order_found", "1"]]));
    assert_eq!(
        shown["calls"],
        json!([json["apis"][0]["calls"].to_string()])
    );
    assert_eq!(shown["graph_drawn"], true);
    assert_eq!(shown["fetched"], 0, "the page fetched something");
    assert_eq!(shown["scripts"], 0);
}

//! Channels on `serve` (docs/channels.md): each adapter against a local fake of its
//! platform's send API (a loopback server that checks the request's auth and shape and
//! records it), with webhook payloads shaped as the platforms document them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use chatflow::channels::Platform;
use chatflow::serve::channels::{ChannelConfig, Credentials, RetryPolicy};
use chatflow::serve::ServeOptions;
use chatflow::store::Store;
use serde_json::{json, Value};

use super::process::{write_flow, Process};
use super::support::{Server, TempDir};

/// Answers a flow that shows every step of a channel conversation: a greeting naming the
/// channel, a menu, a form asked one field at a time, a close.
const DESK: &str = r#"
bot "Desk" {
  start hello
}
node hello {
  say "Hi from {sys.channel}!"
  choose "Pick one" {
    "Orders" -> orders
    "Bye" -> bye
  }
}
node orders {
  form "Contact" {
    field email as email "Your email?"
    field city as text "Your city?"
  }
  say "Thanks {email} in {city}"
  close
}
node bye {
  say "Bye"
  close
}
"#;

const TOKEN: &str = "tok-123:SECRET";
const SIGNING: &str = "signing-secret";
const VERIFY: &str = "verify-me";
const PHONE_ID: &str = "10957";

/// One request the fake platform got.
#[derive(Debug, Clone)]
struct Got {
    /// The path, with the token (Telegram puts it there) shown as `<token>`.
    path: String,
    body: Value,
    /// What the fake answered.
    status: u16,
}

impl Got {
    /// Telegram's answer to a tapped button, which is no message to the visitor.
    fn is_callback_answer(&self) -> bool {
        self.path.ends_with("/answerCallbackQuery")
    }
}

/// A fake send API: checks the platform's auth, answers from `script` (then 200) and
/// records every request.
#[derive(Clone)]
struct Fake {
    base: String,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Fake {
    async fn start(platform: Platform, script: Vec<u16>) -> Fake {
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.into_iter()));
        let record = Arc::clone(&got);
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let (got, script) = (Arc::clone(&record), Arc::clone(&script));
            async move {
                let path = uri.path().to_string();
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
                let authorized = match platform {
                    Platform::Telegram => path.starts_with(&format!("/bot{TOKEN}/")),
                    Platform::Viber => header("x-viber-auth-token") == TOKEN,
                    _ => header("authorization") == format!("Bearer {TOKEN}"),
                };
                let shaped = header("content-type") == "application/json";
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let status = if !authorized {
                    401
                } else if !shaped || !body.is_object() {
                    400
                } else {
                    script.lock().unwrap().next().unwrap_or(200)
                };
                got.lock().unwrap().push(Got {
                    path: path.replace(TOKEN, "<token>"),
                    body,
                    status,
                });
                let answer = match platform {
                    Platform::Viber => json!({"status": 0, "status_message": "ok"}),
                    _ => json!({"ok": true}),
                };
                (StatusCode::from_u16(status).unwrap(), axum::Json(answer))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake { base, got }
    }

    /// Every request, callback answers included.
    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// The requests that are replies to the visitor, in order.
    fn replies(&self) -> Vec<Got> {
        self.got()
            .into_iter()
            .filter(|g| !g.is_callback_answer())
            .collect()
    }

    /// The reply bodies the fake accepted (2xx), in order.
    fn delivered(&self) -> Vec<Value> {
        self.replies()
            .into_iter()
            .filter(|g| g.status < 300)
            .map(|g| g.body)
            .collect()
    }

    /// Waits until `n` replies were accepted.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..400 {
            let delivered = self.delivered();
            if delivered.len() >= n {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} replies, got {:#?}", self.got());
    }

    /// Waits until `n` callback queries were answered; their ids.
    async fn wait_for_callback_answers(&self, n: usize) -> Vec<Value> {
        for _ in 0..400 {
            let answers: Vec<Value> = self
                .got()
                .into_iter()
                .filter(Got::is_callback_answer)
                .map(|g| g.body["callback_query_id"].clone())
                .collect();
            if answers.len() >= n {
                return answers;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} callback answers, got {:#?}", self.got());
    }

    /// Waits until the fake got any request.
    async fn wait_for_any(&self) {
        for _ in 0..400 {
            if !self.got().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the fake got no request");
    }
}

/// The channel on `platform` with the test credentials, sending to `api_base`.
fn config(platform: Platform, api_base: &str) -> ChannelConfig {
    ChannelConfig {
        platform,
        api_base: api_base.to_string(),
        credentials: Credentials {
            token: TOKEN.into(),
            signing: if platform == Platform::Viber {
                TOKEN.into()
            } else {
                SIGNING.into()
            },
            verify_token: Some(VERIFY.into()),
            phone_number_id: Some(PHONE_ID.into()),
        },
    }
}

fn options(channels: Vec<ChannelConfig>) -> ServeOptions {
    ServeOptions {
        admin_token: Some("admin".into()),
        channels,
        channel_retry: RetryPolicy {
            first: Duration::from_millis(20),
            max: Duration::from_millis(100),
            poll: Duration::from_millis(20),
        },
        ..ServeOptions::default()
    }
}

/// The headers that prove a webhook `body` comes from `platform`.
fn signed(platform: Platform, body: &str) -> Vec<(&'static str, String)> {
    let hmac = chatflow::serve::webhook::signature;
    match platform {
        Platform::Telegram => vec![("x-telegram-bot-api-secret-token", SIGNING.to_string())],
        Platform::Viber => {
            let hex = hmac(TOKEN, body.as_bytes());
            let hex = hex.trim_start_matches("sha256=").to_string();
            vec![("x-viber-content-signature", hex)]
        }
        _ => vec![("x-hub-signature-256", hmac(SIGNING, body.as_bytes()))],
    }
}

/// POSTs a webhook body to `url` with `headers`; the status.
async fn post_to(url: &str, body: &str, headers: &[(&str, String)]) -> u16 {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    req.send().await.unwrap().status().as_u16()
}

/// An in-process `serve` of [`DESK`] answering on some channels, each against a fake of its
/// platform's API: what every test here starts from.
struct Rig {
    server: Server,
    fakes: Vec<(Platform, Fake)>,
    _dir: TempDir,
}

impl Rig {
    async fn start(tag: &str, platforms: &[Platform]) -> Rig {
        Rig::with(tag, platforms, vec![], |_| {}).await
    }

    /// With each fake answering from `script` first, and the options changed by `tweak`.
    async fn with(
        tag: &str,
        platforms: &[Platform],
        script: Vec<u16>,
        tweak: impl FnOnce(&mut ServeOptions),
    ) -> Rig {
        let dir = TempDir::new(tag);
        let mut fakes = Vec::new();
        for &platform in platforms {
            fakes.push((platform, Fake::start(platform, script.clone()).await));
        }
        let mut opts = options(fakes.iter().map(|(p, f)| config(*p, &f.base)).collect());
        tweak(&mut opts);
        let server = Server::start(DESK, &dir.path("s.db"), opts).await;
        Rig {
            server,
            fakes,
            _dir: dir,
        }
    }

    fn fake(&self, platform: Platform) -> &Fake {
        &self.fakes.iter().find(|(p, _)| *p == platform).unwrap().1
    }

    /// POSTs `body` to the channel's webhook, signed as its platform signs; the status.
    async fn send(&self, platform: Platform, body: &str) -> u16 {
        self.post(platform.name(), body, &signed(platform, body))
            .await
    }

    /// POSTs `body` to channel `name`'s webhook with exactly `headers`; the status.
    async fn post(&self, name: &str, body: &str, headers: &[(&str, String)]) -> u16 {
        let url = self.server.url(&format!("/channels/{name}/webhook"));
        post_to(&url, body, headers).await
    }

    async fn conversations(&self) -> usize {
        let r = self
            .server
            .client
            .get(self.server.url("/api/conversations"))
            .bearer_auth("admin")
            .send()
            .await
            .unwrap();
        let (_, body) = super::support::read(r).await;
        body["conversations"].as_array().unwrap().len()
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

fn telegram_text(update_id: u64, message_id: u64, text: &str) -> String {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": 42, "is_bot": false, "first_name": "Ann"},
            "chat": {"id": 42, "type": "private", "first_name": "Ann"},
            "date": 1764590000,
            "text": text,
        }
    })
    .to_string()
}

fn telegram_tap(update_id: u64, id: &str, data: &str) -> String {
    json!({
        "update_id": update_id,
        "callback_query": {
            "id": id,
            "from": {"id": 42, "is_bot": false, "first_name": "Ann"},
            "message": {"message_id": 7, "chat": {"id": 42, "type": "private"}, "date": 1764590000, "text": "Pick one"},
            "chat_instance": "-1",
            "data": data,
        }
    })
    .to_string()
}

const TELEGRAM: Platform = Platform::Telegram;

/// A whole conversation on Telegram: the first message opens it (and is not taken as an
/// answer), a tapped button picks and its callback query is answered (the client's spinner
/// stops), the form is asked one field at a time, the close ends it; every reply reaches
/// the fake Bot API in order, with the token in the path.
#[tokio::test]
async fn telegram_conversation_end_to_end() {
    let rig = Rig::start("ch-telegram", &[TELEGRAM]).await;
    let fake = rig.fake(TELEGRAM);
    assert_eq!(
        rig.send(TELEGRAM, &telegram_text(1, 1, "/start")).await,
        200
    );
    fake.wait_for(2).await;
    assert_eq!(
        rig.send(TELEGRAM, &telegram_tap(2, "cb-1", "Orders")).await,
        200
    );
    fake.wait_for(3).await;
    assert_eq!(fake.wait_for_callback_answers(1).await, [json!("cb-1")]);
    let answer = fake
        .got()
        .into_iter()
        .find(Got::is_callback_answer)
        .unwrap();
    assert_eq!(
        (answer.path.as_str(), answer.status),
        ("/bot<token>/answerCallbackQuery", 200)
    );
    let email = telegram_text(3, 2, "ann@example.com");
    assert_eq!(rig.send(TELEGRAM, &email).await, 200);
    fake.wait_for(4).await;
    let city = telegram_text(4, 3, "Oslo; Bergen");
    assert_eq!(rig.send(TELEGRAM, &city).await, 200);
    fake.wait_for(6).await;
    let got: Vec<Value> = fake
        .replies()
        .into_iter()
        .filter(|g| g.status < 300)
        .map(|g| json!({"path": g.path, "body": g.body}))
        .collect();
    // The city answer kept its `;`: on a channel each answer is one field's.
    insta::assert_json_snapshot!("telegram_conversation", got);
    assert_eq!(rig.conversations().await, 1);
    rig.stop().await;
}

/// A re-sent update (same message id) is processed once; a webhook without the secret
/// token is refused with 401, a wrong one with 403, and neither runs anything.
#[tokio::test]
async fn telegram_refuses_bad_secrets_and_answers_a_duplicate_once() {
    let rig = Rig::start("ch-telegram-dup", &[TELEGRAM]).await;
    let update = telegram_text(1, 1, "hello");
    assert_eq!(rig.post("telegram", &update, &[]).await, 401);
    let wrong = [("x-telegram-bot-api-secret-token", "guess".to_string())];
    assert_eq!(rig.post("telegram", &update, &wrong).await, 403);
    assert_eq!(
        rig.conversations().await,
        0,
        "a refused webhook opens nothing"
    );
    for _ in 0..2 {
        assert_eq!(rig.send(TELEGRAM, &update).await, 200);
    }
    rig.fake(TELEGRAM).wait_for(2).await;
    // The first tap, sent twice, too.
    let tap = telegram_tap(2, "cb-9", "Bye");
    for _ in 0..2 {
        assert_eq!(rig.send(TELEGRAM, &tap).await, 200);
    }
    rig.fake(TELEGRAM).wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let got = rig.fake(TELEGRAM).delivered();
    let texts: Vec<&str> = got.iter().filter_map(|b| b["text"].as_str()).collect();
    assert_eq!(
        texts,
        [
            "Hi from telegram!",
            "Pick one",
            "Bye",
            "The chat has ended."
        ]
    );
    assert_eq!(rig.conversations().await, 1);
    // An unknown channel is no endpoint of this server.
    assert_eq!(
        rig.post("viber", &update, &signed(TELEGRAM, &update)).await,
        404
    );
    rig.stop().await;
}

/// The send API answers 500, then 200: the reply is sent again after the backoff, and the
/// replies after it wait for it, so the visitor sees them in order.
#[tokio::test]
async fn a_failed_send_is_retried_and_order_is_kept() {
    let rig = Rig::with("ch-retry", &[TELEGRAM], vec![500, 500], |_| {}).await;
    assert_eq!(rig.send(TELEGRAM, &telegram_text(1, 1, "hi")).await, 200);
    rig.fake(TELEGRAM).wait_for(2).await;
    let got = rig.fake(TELEGRAM).got();
    let seen: Vec<(u16, &str)> = got
        .iter()
        .map(|g| (g.status, g.body["text"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        seen,
        [
            (500, "Hi from telegram!"),
            (500, "Hi from telegram!"),
            (200, "Hi from telegram!"),
            (200, "Pick one")
        ]
    );
    // The counters move after the fake answered: wait for them.
    let want = [
        "chatflow_channel_replies_total{channel=\"telegram\",outcome=\"failed\"} 2",
        "chatflow_channel_replies_total{channel=\"telegram\",outcome=\"delivered\"} 2",
    ];
    let mut metrics = String::new();
    for _ in 0..400 {
        let (_, m) = rig.server.get("/metrics", None).await;
        metrics = m.as_str().unwrap_or_default().to_string();
        if want.iter().all(|line| metrics.contains(line)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for line in want {
        assert!(metrics.contains(line), "{metrics}");
    }
    rig.stop().await;
}

/// Replies not yet sent when `serve` stops stay in the store, and the next `serve` on it
/// sends them.
#[tokio::test]
async fn undelivered_replies_go_out_after_a_restart() {
    let dir = TempDir::new("ch-restart");
    let db = dir.path("s.db");
    let serve = |fake: &Fake| {
        let opts = options(vec![config(TELEGRAM, &fake.base)]);
        Server::start(DESK, &db, opts)
    };
    let down = Fake::start(TELEGRAM, vec![503; 1000]).await;
    let server = serve(&down).await;
    let hi = telegram_text(1, 1, "hi");
    let url = server.url("/channels/telegram/webhook");
    assert_eq!(post_to(&url, &hi, &signed(TELEGRAM, &hi)).await, 200);
    down.wait_for_any().await;
    server.stop().await;
    let store = Store::open(db.to_str().unwrap()).await.unwrap();
    assert_eq!(
        store.pending_deliveries().await.unwrap(),
        2,
        "both replies wait in the outbox"
    );
    drop(store);
    let up = Fake::start(TELEGRAM, vec![]).await;
    let server = serve(&up).await;
    let got = up.wait_for(2).await;
    assert_eq!(got[0]["text"], "Hi from telegram!");
    assert_eq!(got[1]["text"], "Pick one");
    server.stop().await;
}

/// Meta's subscription check answers the challenge only for the verify token.
#[tokio::test]
async fn meta_verification_get() {
    let rig = Rig::start("ch-meta-get", &[Platform::WhatsApp]).await;
    let get = |token: &str| {
        rig.server
            .client
            .get(rig.server.url(&format!(
                "/channels/whatsapp/webhook?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
            )))
            .send()
    };
    let good = get(VERIFY).await.unwrap();
    assert_eq!(good.status().as_u16(), 200);
    assert_eq!(good.text().await.unwrap(), "1158201444");
    assert_eq!(get("wrong").await.unwrap().status().as_u16(), 403);
    rig.stop().await;
}

fn whatsapp_text(id: &str, text: &str) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA_ID", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": "Ann"}, "wa_id": "4915112345678"}],
            "messages": [{"from": "4915112345678", "id": id, "timestamp": "1764590000", "type": "text", "text": {"body": text}}]
        }}]}]
    })
    .to_string()
}

fn whatsapp_button(id: &str, reply_id: &str, title: &str) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA_ID", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID},
            "messages": [{"from": "4915112345678", "id": id, "timestamp": "1764590001", "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}}]
        }}]}]
    })
    .to_string()
}

/// Every request a fake got, with its path and status, for snapshots.
fn recorded(fake: &Fake) -> Vec<Value> {
    fake.got()
        .into_iter()
        .map(|g| json!({"path": g.path, "status": g.status, "body": g.body}))
        .collect()
}

/// WhatsApp: every POST must carry the app secret's HMAC of its exact body; the menu comes as
/// reply buttons and a tapped button's id is the answer; a status update is no message.
#[tokio::test]
async fn whatsapp_signature_buttons_and_duplicates() {
    const WHATSAPP: Platform = Platform::WhatsApp;
    let rig = Rig::start("ch-whatsapp", &[WHATSAPP]).await;
    let hello = whatsapp_text("wamid.A1", "hello");
    assert_eq!(rig.post("whatsapp", &hello, &[]).await, 401);
    let forged = hello.replace("hello", "hellO");
    assert_eq!(
        rig.post("whatsapp", &forged, &signed(WHATSAPP, &hello))
            .await,
        403
    );
    assert_eq!(rig.conversations().await, 0);
    let statuses = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
        "value": {"statuses": [{"id": "wamid.X", "status": "delivered", "recipient_id": "4915112345678"}]}}]}]})
    .to_string();
    assert_eq!(rig.send(WHATSAPP, &statuses).await, 200);
    for _ in 0..2 {
        assert_eq!(rig.send(WHATSAPP, &hello).await, 200);
    }
    rig.fake(WHATSAPP).wait_for(2).await;
    let tap = whatsapp_button("wamid.A2", "Bye", "Bye");
    assert_eq!(rig.send(WHATSAPP, &tap).await, 200);
    rig.fake(WHATSAPP).wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    insta::assert_json_snapshot!("whatsapp_conversation", recorded(rig.fake(WHATSAPP)));
    assert_eq!(rig.conversations().await, 1);
    rig.stop().await;
}

fn messenger_event(object: &str, event: Value) -> String {
    json!({"object": object, "entry": [{"id": "PAGE_ID", "time": 1764590000, "messaging": [event]}]}).to_string()
}

/// Messenger and Instagram: signed POSTs, the menu as a button template, a postback's
/// payload as the answer, the page's own echoes ignored, a re-sent message answered once.
#[tokio::test]
async fn messenger_and_instagram() {
    let both = [Platform::Messenger, Platform::Instagram];
    let rig = Rig::start("ch-messenger", &both).await;
    for (platform, object) in both.into_iter().zip(["page", "instagram"]) {
        let name = platform.name();
        let echo = messenger_event(
            object,
            json!({"sender": {"id": "PAGE_ID"}, "recipient": {"id": "7001"},
            "timestamp": 1764590000, "message": {"mid": "m_echo", "is_echo": true, "text": "Pick one"}}),
        );
        assert_eq!(rig.send(platform, &echo).await, 200);
        let hi = messenger_event(
            object,
            json!({"sender": {"id": "7001"}, "recipient": {"id": "PAGE_ID"},
            "timestamp": 1764590001, "message": {"mid": "m_1", "text": "hi"}}),
        );
        let bad = [("x-hub-signature-256", "sha256=00".to_string())];
        assert_eq!(rig.post(name, &hi, &bad).await, 403);
        // Sent twice (the platform retries slow webhooks): answered once.
        for _ in 0..2 {
            assert_eq!(rig.send(platform, &hi).await, 200);
        }
        rig.fake(platform).wait_for(2).await;
        let tap = messenger_event(
            object,
            json!({"sender": {"id": "7001"}, "recipient": {"id": "PAGE_ID"},
            "timestamp": 1764590002, "postback": {"mid": "m_2", "title": "Bye", "payload": "Bye"}}),
        );
        assert_eq!(rig.send(platform, &tap).await, 200);
        rig.fake(platform).wait_for(4).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got: Vec<Value> = both
        .into_iter()
        .flat_map(|platform| {
            recorded(rig.fake(platform))
                .into_iter()
                .map(move |g| json!({"channel": platform.name(), "path": g["path"], "status": g["status"], "body": g["body"]}))
        })
        .collect();
    insta::assert_json_snapshot!("messenger_conversation", got);
    assert_eq!(rig.conversations().await, 2);
    rig.stop().await;
}

/// Viber: `X-Viber-Content-Signature` is the auth token's HMAC of the body, in hex; the
/// menu is a keyboard whose button sends its `ActionBody`; other events are no messages; a
/// re-sent message (same `message_token`) is answered once.
#[tokio::test]
async fn viber_signature_and_keyboard() {
    const VIBER: Platform = Platform::Viber;
    let rig = Rig::start("ch-viber", &[VIBER]).await;
    let hook = json!({"event": "webhook", "timestamp": 1764590000, "message_token": 1}).to_string();
    assert_eq!(rig.send(VIBER, &hook).await, 200);
    let message = |token: u64, text: &str| {
        json!({"event": "message", "timestamp": 1764590001, "message_token": token,
            "sender": {"id": "01234567890A=", "name": "Ann", "language": "en", "country": "DE", "api_version": 10},
            "message": {"type": "text", "text": text}})
        .to_string()
    };
    let hi = message(5000001, "hi");
    assert_eq!(rig.post("viber", &hi, &[]).await, 401);
    assert_eq!(rig.post("viber", &hi, &signed(VIBER, &hook)).await, 403);
    for _ in 0..2 {
        assert_eq!(rig.send(VIBER, &hi).await, 200);
    }
    rig.fake(VIBER).wait_for(2).await;
    let bye = message(5000002, "Bye");
    assert_eq!(rig.send(VIBER, &bye).await, 200);
    rig.fake(VIBER).wait_for(4).await;
    insta::assert_json_snapshot!("viber_conversation", recorded(rig.fake(VIBER)));
    rig.stop().await;
}

/// `chatflow test --channel whatsapp` shows each test's conversation as WhatsApp would.
#[test]
fn chatflow_test_shows_the_conversation_as_the_channel_would() {
    let dir = TempDir::new("ch-cli-test");
    let flow = dir.path("desk.flow");
    let test = "test \"Bye closes\" {\n  user \"Bye\"\n  expect say \"Bye\"\n}\n";
    std::fs::write(&flow, format!("{DESK}{test}")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["test", flow.to_str().unwrap(), "--channel", "whatsapp"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let expected = "PASS Bye closes
    < Hi from whatsapp!
    < Pick one
      [Orders] [Bye]
    > Bye
    < Bye
    < The chat has ended.
";
    assert!(stdout.contains(expected), "{stdout}");
}

/// `serve --channel telegram` without the channel's secrets exits 2 naming the variable,
/// and an unknown channel is a usage error too.
#[test]
fn serve_refuses_a_channel_without_its_secrets() {
    let dir = TempDir::new("ch-cli-serve");
    let flow = dir.path("desk.flow");
    std::fs::write(&flow, DESK).unwrap();
    let serve = |channel: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chatflow"))
            .args([
                "serve",
                flow.to_str().unwrap(),
                "--addr",
                "127.0.0.1:0",
                "--channel",
                channel,
            ])
            .args(["--store", dir.path("s.db").to_str().unwrap()])
            .env_remove("CHATFLOW_SECRET_TELEGRAM_BOT_TOKEN")
            .env_remove("CHATFLOW_SECRET_TELEGRAM_WEBHOOK_SECRET")
            .output()
            .unwrap()
    };
    let out = serve("telegram");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("CHATFLOW_SECRET_TELEGRAM_BOT_TOKEN"),
        "{stderr}"
    );
    let out = serve("myspace");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no channel `myspace`"), "{stderr}");
}

/// A visitor who writes again after the idle time starts a new conversation with that
/// message instead of being told the old one ended.
#[tokio::test]
async fn a_visitor_back_after_the_idle_time_starts_over() {
    let rig = Rig::with("ch-idle", &[TELEGRAM], vec![], |o| {
        o.session_ttl = Some(Duration::from_millis(50));
    })
    .await;
    assert_eq!(rig.send(TELEGRAM, &telegram_text(1, 1, "hi")).await, 200);
    rig.fake(TELEGRAM).wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(rig.send(TELEGRAM, &telegram_text(2, 2, "Bye")).await, 200);
    let got = rig.fake(TELEGRAM).wait_for(4).await;
    let texts: Vec<&str> = got.iter().filter_map(|b| b["text"].as_str()).collect();
    assert_eq!(
        texts,
        [
            "Hi from telegram!",
            "Pick one",
            "Hi from telegram!",
            "Pick one"
        ]
    );
    assert_eq!(rig.conversations().await, 2);
    rig.stop().await;
}

/// `serve --config FILE`: the channel's credentials come from the secrets the file names,
/// its replies go to the file's `api`; flags win over the file (`--addr` over an address
/// nobody can bind, `--channel` over the file's list of channels).
#[tokio::test]
async fn serve_takes_its_channels_from_a_config_file_and_flags_win() {
    let dir = TempDir::new("ch-config");
    let fake = Fake::start(TELEGRAM, vec![]).await;
    let flow = write_flow(&dir, "desk.flow", DESK);
    let config = dir.path("chatflow.toml");
    let text = format!(
        "# A TEST-NET address: serve could not bind it.\n\
         addr = \"192.0.2.1:9\"\n\
         session_ttl = \"2h\"\n\n\
         [channels.telegram]\n\
         bot_token = \"DESK_BOT_TOKEN\"\n\
         webhook_secret = \"CHATFLOW_SECRET_DESK_HOOK\"\n\
         api = \"{}\"\n\n\
         # Not served: its secret is not set, and --channel names the channels.\n\
         [channels.viber]\n",
        fake.base
    );
    std::fs::write(&config, text).unwrap();
    let process = Process::start(
        &flow,
        &dir.path("s.db"),
        &[
            "--config",
            config.to_str().unwrap(),
            "--channel",
            "telegram",
        ],
        &[
            ("CHATFLOW_SECRET_DESK_BOT_TOKEN", TOKEN),
            ("CHATFLOW_SECRET_DESK_HOOK", SIGNING),
        ],
    );
    let hi = telegram_text(1, 1, "hi");
    let url = process.url("/channels/telegram/webhook");
    assert_eq!(post_to(&url, &hi, &signed(TELEGRAM, &hi)).await, 200);
    let got = fake.wait_for(2).await;
    assert_eq!(got[0]["text"], "Hi from telegram!");
    assert!(fake
        .got()
        .iter()
        .all(|g| g.path == "/bot<token>/sendMessage"));
    let viber = process.url("/channels/viber/webhook");
    assert_eq!(post_to(&viber, "{}", &[]).await, 404);
}

/// A wrong config file: exit 2 before anything starts, with a diagnostic per mistake (code,
/// the place in the file, help); a credential written where a secret's name belongs is
/// masked, never printed.
#[test]
fn a_bad_config_file_gets_diagnostics_at_its_place() {
    let dir = TempDir::new("ch-config-bad");
    let flow = write_flow(&dir, "desk.flow", DESK);
    let run = |name: &str, text: &str, channel: Option<&str>| {
        let path = dir.path(name);
        std::fs::write(&path, text).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chatflow"));
        cmd.arg("serve")
            .arg(&flow)
            .args(["--addr", "127.0.0.1:0", "--config", path.to_str().unwrap()])
            .args(["--store", dir.path("s.db").to_str().unwrap()])
            .env_remove("CHATFLOW_SECRET_DESK_TOKEN");
        if let Some(c) = channel {
            cmd.args(["--channel", c]);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        stderr.replace(dir.0.to_str().unwrap(), "<dir>")
    };
    let credential = "123456:AAE-f4kE-t0ken_pasted_here";
    let cases = [
        run("typo.toml", "adr = \"0.0.0.0:80\"\n", None),
        run("not-toml.toml", "store = \n", None),
        run(
            "values.toml",
            "session_ttl = \"soon\"\nmax_steps = 0\nmax_calls_per_origin = -1\n\n[channels.whatsap]\n",
            None,
        ),
        run(
            "credential.toml",
            &format!("[channels.telegram]\nbot_token = \"{credential}\"\nwebhok_secret = \"X\"\n"),
            None,
        ),
        run(
            "unset.toml",
            "[channels.viber]\nauth_token = \"DESK_TOKEN\"\n",
            Some("viber"),
        ),
    ];
    for stderr in &cases {
        assert!(!stderr.contains(credential), "{stderr}");
        assert!(!stderr.contains("f4kE"), "{stderr}");
    }
    insta::assert_snapshot!("config_diagnostics", cases.join("\n----\n"));
}

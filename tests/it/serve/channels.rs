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

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// The bodies the fake accepted (2xx), in order.
    fn delivered(&self) -> Vec<Value> {
        self.got()
            .into_iter()
            .filter(|g| g.status < 300)
            .map(|g| g.body)
            .collect()
    }

    /// Waits until `n` requests were accepted.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..400 {
            let delivered = self.delivered();
            if delivered.len() >= n {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} requests, got {:#?}", self.got());
    }
}

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

/// POSTs a webhook body with `headers`; the status.
async fn post(server: &Server, channel: &str, body: &str, headers: &[(&str, String)]) -> u16 {
    let mut req = server
        .client
        .post(server.url(&format!("/channels/{channel}/webhook")))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    req.send().await.unwrap().status().as_u16()
}

fn hmac_hex(key: &str, body: &str) -> String {
    chatflow::serve::webhook::signature(key, body.as_bytes())
}

async fn conversations(server: &Server) -> usize {
    let r = server
        .client
        .get(server.url("/api/conversations"))
        .bearer_auth("admin")
        .send()
        .await
        .unwrap();
    let (_, body) = super::support::read(r).await;
    body["conversations"].as_array().unwrap().len()
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

fn telegram_secret() -> Vec<(&'static str, String)> {
    vec![("x-telegram-bot-api-secret-token", SIGNING.to_string())]
}

/// A whole conversation on Telegram: the first message opens it (and is not taken as an
/// answer), a tapped button picks, the form is asked one field at a time, the close ends it;
/// every reply reaches the fake Bot API in order, with the token in the path.
#[tokio::test]
async fn telegram_conversation_end_to_end() {
    let dir = TempDir::new("ch-telegram");
    let fake = Fake::start(Platform::Telegram, vec![]).await;
    let server = Server::start(
        DESK,
        &dir.path("s.db"),
        options(vec![config(Platform::Telegram, &fake.base)]),
    )
    .await;
    let secret = telegram_secret();
    assert_eq!(
        post(&server, "telegram", &telegram_text(1, 1, "/start"), &secret).await,
        200
    );
    fake.wait_for(2).await;
    assert_eq!(
        post(
            &server,
            "telegram",
            &telegram_tap(2, "cb-1", "Orders"),
            &secret
        )
        .await,
        200
    );
    fake.wait_for(3).await;
    assert_eq!(
        post(
            &server,
            "telegram",
            &telegram_text(3, 2, "ann@example.com"),
            &secret
        )
        .await,
        200
    );
    fake.wait_for(4).await;
    assert_eq!(
        post(
            &server,
            "telegram",
            &telegram_text(4, 3, "Oslo; Bergen"),
            &secret
        )
        .await,
        200
    );
    let got: Vec<Value> = fake
        .wait_for(6)
        .await
        .into_iter()
        .zip(fake.got().into_iter().filter(|g| g.status < 300))
        .map(|(body, g)| json!({"path": g.path, "body": body}))
        .collect();
    // The city answer kept its `;`: on a channel each answer is one field's.
    insta::assert_json_snapshot!("telegram_conversation", got);
    assert_eq!(conversations(&server).await, 1);
    server.stop().await;
}

/// A re-sent update (same message id) is processed once; a webhook without the secret
/// token is refused with 401, a wrong one with 403, and neither runs anything.
#[tokio::test]
async fn telegram_refuses_bad_secrets_and_answers_a_duplicate_once() {
    let dir = TempDir::new("ch-telegram-dup");
    let fake = Fake::start(Platform::Telegram, vec![]).await;
    let server = Server::start(
        DESK,
        &dir.path("s.db"),
        options(vec![config(Platform::Telegram, &fake.base)]),
    )
    .await;
    let update = telegram_text(1, 1, "hello");
    assert_eq!(post(&server, "telegram", &update, &[]).await, 401);
    let wrong = [("x-telegram-bot-api-secret-token", "guess".to_string())];
    assert_eq!(post(&server, "telegram", &update, &wrong).await, 403);
    assert_eq!(
        conversations(&server).await,
        0,
        "a refused webhook opens nothing"
    );
    for _ in 0..2 {
        assert_eq!(
            post(&server, "telegram", &update, &telegram_secret()).await,
            200
        );
    }
    fake.wait_for(2).await;
    // The first tap, sent twice, too.
    let tap = telegram_tap(2, "cb-9", "Bye");
    for _ in 0..2 {
        assert_eq!(
            post(&server, "telegram", &tap, &telegram_secret()).await,
            200
        );
    }
    fake.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let got = fake.delivered();
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
    assert_eq!(conversations(&server).await, 1);
    // An unknown channel is no endpoint of this server.
    assert_eq!(
        post(&server, "viber", &update, &telegram_secret()).await,
        404
    );
    server.stop().await;
}

/// The send API answers 500, then 200: the reply is sent again after the backoff, and the
/// replies after it wait for it, so the visitor sees them in order.
#[tokio::test]
async fn a_failed_send_is_retried_and_order_is_kept() {
    let dir = TempDir::new("ch-retry");
    let fake = Fake::start(Platform::Telegram, vec![500, 500]).await;
    let server = Server::start(
        DESK,
        &dir.path("s.db"),
        options(vec![config(Platform::Telegram, &fake.base)]),
    )
    .await;
    assert_eq!(
        post(
            &server,
            "telegram",
            &telegram_text(1, 1, "hi"),
            &telegram_secret()
        )
        .await,
        200
    );
    fake.wait_for(2).await;
    let got = fake.got();
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
        let (_, m) = server.get("/metrics", None).await;
        metrics = m.as_str().unwrap_or_default().to_string();
        if want.iter().all(|line| metrics.contains(line)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for line in want {
        assert!(metrics.contains(line), "{metrics}");
    }
    server.stop().await;
}

/// Replies not yet sent when `serve` stops stay in the store, and the next `serve` on it
/// sends them.
#[tokio::test]
async fn undelivered_replies_go_out_after_a_restart() {
    let dir = TempDir::new("ch-restart");
    let db = dir.path("s.db");
    let down = Fake::start(Platform::Telegram, vec![503; 1000]).await;
    let server = Server::start(
        DESK,
        &db,
        options(vec![config(Platform::Telegram, &down.base)]),
    )
    .await;
    assert_eq!(
        post(
            &server,
            "telegram",
            &telegram_text(1, 1, "hi"),
            &telegram_secret()
        )
        .await,
        200
    );
    for _ in 0..400 {
        if !down.got().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop().await;
    let store = Store::open(db.to_str().unwrap()).await.unwrap();
    assert_eq!(
        store.pending_deliveries().await.unwrap(),
        2,
        "both replies wait in the outbox"
    );
    drop(store);
    let up = Fake::start(Platform::Telegram, vec![]).await;
    let server = Server::start(
        DESK,
        &db,
        options(vec![config(Platform::Telegram, &up.base)]),
    )
    .await;
    let got = up.wait_for(2).await;
    assert_eq!(got[0]["text"], "Hi from telegram!");
    assert_eq!(got[1]["text"], "Pick one");
    server.stop().await;
}

fn meta_signed(body: &str) -> Vec<(&'static str, String)> {
    vec![("x-hub-signature-256", hmac_hex(SIGNING, body))]
}

/// Meta's subscription check answers the challenge only for the verify token.
#[tokio::test]
async fn meta_verification_get() {
    let dir = TempDir::new("ch-meta-get");
    let fake = Fake::start(Platform::WhatsApp, vec![]).await;
    let server = Server::start(
        DESK,
        &dir.path("s.db"),
        options(vec![config(Platform::WhatsApp, &fake.base)]),
    )
    .await;
    let get = |token: &str| {
        server
            .client
            .get(server.url(&format!(
                "/channels/whatsapp/webhook?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
            )))
            .send()
    };
    let good = get(VERIFY).await.unwrap();
    assert_eq!(good.status().as_u16(), 200);
    assert_eq!(good.text().await.unwrap(), "1158201444");
    assert_eq!(get("wrong").await.unwrap().status().as_u16(), 403);
    server.stop().await;
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

/// WhatsApp: every POST must carry the app secret's HMAC of its exact body; the menu comes as
/// reply buttons and a tapped button's id is the answer; a status update is no message.
#[tokio::test]
async fn whatsapp_signature_buttons_and_duplicates() {
    let dir = TempDir::new("ch-whatsapp");
    let fake = Fake::start(Platform::WhatsApp, vec![]).await;
    let server = Server::start(
        DESK,
        &dir.path("s.db"),
        options(vec![config(Platform::WhatsApp, &fake.base)]),
    )
    .await;
    let hello = whatsapp_text("wamid.A1", "hello");
    assert_eq!(post(&server, "whatsapp", &hello, &[]).await, 401);
    let forged = hello.replace("hello", "hellO");
    assert_eq!(
        post(&server, "whatsapp", &forged, &meta_signed(&hello)).await,
        403
    );
    assert_eq!(conversations(&server).await, 0);
    let statuses = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
        "value": {"statuses": [{"id": "wamid.X", "status": "delivered", "recipient_id": "4915112345678"}]}}]}]})
    .to_string();
    assert_eq!(
        post(&server, "whatsapp", &statuses, &meta_signed(&statuses)).await,
        200
    );
    for _ in 0..2 {
        assert_eq!(
            post(&server, "whatsapp", &hello, &meta_signed(&hello)).await,
            200
        );
    }
    fake.wait_for(2).await;
    let tap = whatsapp_button("wamid.A2", "Bye", "Bye");
    assert_eq!(
        post(&server, "whatsapp", &tap, &meta_signed(&tap)).await,
        200
    );
    fake.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got: Vec<Value> = fake
        .got()
        .into_iter()
        .map(|g| json!({"path": g.path, "status": g.status, "body": g.body}))
        .collect();
    insta::assert_json_snapshot!("whatsapp_conversation", got);
    assert_eq!(conversations(&server).await, 1);
    server.stop().await;
}

fn messenger_event(object: &str, event: Value) -> String {
    json!({"object": object, "entry": [{"id": "PAGE_ID", "time": 1764590000, "messaging": [event]}]}).to_string()
}

/// Messenger and Instagram: signed POSTs, the menu as a button template, a postback's
/// payload as the answer, the page's own echoes ignored.
#[tokio::test]
async fn messenger_and_instagram() {
    let dir = TempDir::new("ch-messenger");
    let fake_m = Fake::start(Platform::Messenger, vec![]).await;
    let fake_i = Fake::start(Platform::Instagram, vec![]).await;
    let channels = vec![
        config(Platform::Messenger, &fake_m.base),
        config(Platform::Instagram, &fake_i.base),
    ];
    let server = Server::start(DESK, &dir.path("s.db"), options(channels)).await;
    for (name, object, fake) in [
        ("messenger", "page", &fake_m),
        ("instagram", "instagram", &fake_i),
    ] {
        let echo = messenger_event(
            object,
            json!({"sender": {"id": "PAGE_ID"}, "recipient": {"id": "7001"},
            "timestamp": 1764590000, "message": {"mid": "m_echo", "is_echo": true, "text": "Pick one"}}),
        );
        assert_eq!(post(&server, name, &echo, &meta_signed(&echo)).await, 200);
        let hi = messenger_event(
            object,
            json!({"sender": {"id": "7001"}, "recipient": {"id": "PAGE_ID"},
            "timestamp": 1764590001, "message": {"mid": "m_1", "text": "hi"}}),
        );
        assert_eq!(
            post(
                &server,
                name,
                &hi,
                &[("x-hub-signature-256", "sha256=00".into())]
            )
            .await,
            403
        );
        assert_eq!(post(&server, name, &hi, &meta_signed(&hi)).await, 200);
        fake.wait_for(2).await;
        let tap = messenger_event(
            object,
            json!({"sender": {"id": "7001"}, "recipient": {"id": "PAGE_ID"},
            "timestamp": 1764590002, "postback": {"mid": "m_2", "title": "Bye", "payload": "Bye"}}),
        );
        assert_eq!(post(&server, name, &tap, &meta_signed(&tap)).await, 200);
        fake.wait_for(4).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got: Vec<Value> = [("messenger", &fake_m), ("instagram", &fake_i)]
        .into_iter()
        .flat_map(|(name, fake)| {
            fake.got()
                .into_iter()
                .map(move |g| json!({"channel": name, "path": g.path, "status": g.status, "body": g.body}))
        })
        .collect();
    insta::assert_json_snapshot!("messenger_conversation", got);
    assert_eq!(conversations(&server).await, 2);
    server.stop().await;
}

/// Viber: `X-Viber-Content-Signature` is the auth token's HMAC of the body, in hex; the
/// menu is a keyboard whose button sends its `ActionBody`; other events are no messages.
#[tokio::test]
async fn viber_signature_and_keyboard() {
    let dir = TempDir::new("ch-viber");
    let fake = Fake::start(Platform::Viber, vec![]).await;
    let server = Server::start(
        DESK,
        &dir.path("s.db"),
        options(vec![config(Platform::Viber, &fake.base)]),
    )
    .await;
    let signed = |body: &str| {
        let hex = hmac_hex(TOKEN, body)
            .trim_start_matches("sha256=")
            .to_string();
        vec![("x-viber-content-signature", hex)]
    };
    let hook = json!({"event": "webhook", "timestamp": 1764590000, "message_token": 1}).to_string();
    assert_eq!(post(&server, "viber", &hook, &signed(&hook)).await, 200);
    let message = |token: u64, text: &str| {
        json!({"event": "message", "timestamp": 1764590001, "message_token": token,
            "sender": {"id": "01234567890A=", "name": "Ann", "language": "en", "country": "DE", "api_version": 10},
            "message": {"type": "text", "text": text}})
        .to_string()
    };
    let hi = message(5000001, "hi");
    assert_eq!(post(&server, "viber", &hi, &[]).await, 401);
    assert_eq!(post(&server, "viber", &hi, &signed(&hook)).await, 403);
    assert_eq!(post(&server, "viber", &hi, &signed(&hi)).await, 200);
    fake.wait_for(2).await;
    let bye = message(5000002, "Bye");
    assert_eq!(post(&server, "viber", &bye, &signed(&bye)).await, 200);
    fake.wait_for(4).await;
    let got: Vec<Value> = fake
        .got()
        .into_iter()
        .map(|g| json!({"path": g.path, "status": g.status, "body": g.body}))
        .collect();
    insta::assert_json_snapshot!("viber_conversation", got);
    server.stop().await;
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
    let dir = TempDir::new("ch-idle");
    let fake = Fake::start(Platform::Telegram, vec![]).await;
    let mut opts = options(vec![config(Platform::Telegram, &fake.base)]);
    opts.session_ttl = Some(Duration::from_millis(50));
    let server = Server::start(DESK, &dir.path("s.db"), opts).await;
    assert_eq!(
        post(
            &server,
            "telegram",
            &telegram_text(1, 1, "hi"),
            &telegram_secret()
        )
        .await,
        200
    );
    fake.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(
        post(
            &server,
            "telegram",
            &telegram_text(2, 2, "Bye"),
            &telegram_secret()
        )
        .await,
        200
    );
    let got = fake.wait_for(4).await;
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
    assert_eq!(conversations(&server).await, 2);
    server.stop().await;
}

//! What a killed `serve` does not lose: answered turns, and webhook events.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::process::{write_flow, Process};
use super::support::{counter_flow, read, says, TempDir};

/// The answers a conversation got a 200 for: (message_id, answer), by conversation id.
type Acked = HashMap<String, Vec<(String, Value)>>;

async fn open(client: &reqwest::Client, p: &Process) -> (String, String) {
    let r = client
        .post(p.url("/api/conversations"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("open");
    let (status, body) = read(r).await;
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_str().unwrap().to_string(),
        body["token"].as_str().unwrap().to_string(),
    )
}

async fn say(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    token: &str,
    text: &str,
    message_id: &str,
) -> Result<(u16, Value), reqwest::Error> {
    let r = client
        .post(format!("{base}/api/conversations/{id}/messages"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(json!({"text": text, "message_id": message_id}).to_string())
        .send()
        .await?;
    let status = r.status().as_u16();
    let body: Value = serde_json::from_str(&r.text().await?).unwrap_or(Value::Null);
    Ok((status, body))
}

async fn transcript(client: &reqwest::Client, base: &str, id: &str, token: &str) -> Vec<Value> {
    let r = client
        .get(format!("{base}/api/conversations/{id}/transcript"))
        .bearer_auth(token)
        .send()
        .await
        .expect("transcript");
    let (status, body) = read(r).await;
    assert_eq!(status, 200, "{body}");
    body["turns"].as_array().unwrap().clone()
}

/// Polls `check` until it holds; a test that would otherwise hang fails after a minute.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..600 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answered_turn_survives_a_sigkill_mid_load_and_every_conversation_goes_on() {
    let dir = TempDir::new("serve-crash");
    let flow = write_flow(&dir, "c.flow", &counter_flow(1000));
    let db = dir.path("s.db");
    let p = Process::start(&flow, &db, &[], &[]);
    let client = reqwest::Client::new();
    let mut conversations = Vec::new();
    for _ in 0..24 {
        conversations.push(open(&client, &p).await);
    }
    // Each conversation sends messages one after another until the server goes away; every
    // 200 is remembered with its answer.
    let acked: Arc<Mutex<Acked>> = Arc::default();
    let mut senders = Vec::new();
    for (id, token) in conversations.clone() {
        let (client, base, acked) = (client.clone(), p.base.clone(), Arc::clone(&acked));
        senders.push(tokio::spawn(async move {
            for k in 1.. {
                let mid = format!("m-{k}");
                match say(&client, &base, &id, &token, "next", &mid).await {
                    Ok((200, answer)) => acked
                        .lock()
                        .unwrap()
                        .entry(id.clone())
                        .or_default()
                        .push((mid, answer)),
                    Ok((status, body)) => panic!("unexpected {status}: {body}"),
                    Err(_) => return,
                }
            }
        }));
    }
    eventually("some turns answered", || {
        acked.lock().unwrap().values().map(Vec::len).sum::<usize>() >= 150
    })
    .await;
    drop(p); // SIGKILL, mid-load
    for s in senders {
        s.await.expect("sender");
    }

    let p = Process::start(&flow, &db, &[], &[]);
    let acked = acked.lock().unwrap().clone();
    let mut answered = 0;
    for (id, token) in &conversations {
        let turns = transcript(&client, &p.base, id, token).await;
        // Turn k answers "count k": no turn lost in the middle, none doubled.
        for (k, turn) in turns.iter().enumerate() {
            assert_eq!(says(turn), [format!("count {k}")], "{id} turn {k}");
        }
        let by_id: BTreeMap<&str, &Value> = turns
            .iter()
            .filter_map(|t| Some((t["message"]["message_id"].as_str()?, &t["events"])))
            .collect();
        for (mid, answer) in acked.get(id).into_iter().flatten() {
            assert_eq!(
                by_id.get(mid.as_str()),
                Some(&&answer["events"]),
                "{id} {mid} was answered 200, so it is stored"
            );
            answered += 1;
        }
        // The conversation goes on from where it was.
        let (status, next) = say(&client, &p.base, id, token, "after", "after-restart")
            .await
            .expect("send");
        assert_eq!(status, 200, "{next}");
        assert_eq!(says(&next), [format!("count {}", turns.len())]);
    }
    assert!(answered >= 150);
}

/// A webhook receiver that checks signatures and records what it accepted; while `hold` is
/// set it keeps each request open without answering.
#[derive(Clone, Default)]
struct Receiver {
    hold: Arc<AtomicBool>,
    held: Arc<Mutex<u32>>,
    accepted: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn start_receiver(receiver: Receiver, secret: &'static str) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let r = receiver.clone();
            async move {
                let signature = headers
                    .get("x-chatflow-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                assert_eq!(
                    signature,
                    chatflow::serve::webhook::signature(secret, &body),
                    "signed with the secret"
                );
                let delivery = headers
                    .get("x-chatflow-delivery")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                if r.hold.load(Ordering::SeqCst) {
                    *r.held.lock().unwrap() += 1;
                    std::future::pending::<()>().await;
                }
                let value: Value = serde_json::from_slice(&body).expect("JSON body");
                r.accepted.lock().unwrap().push((delivery, value));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_events_all_arrive_in_order_after_serve_is_killed_mid_delivery() {
    let receiver = Receiver::default();
    receiver.hold.store(true, Ordering::SeqCst);
    let hook = start_receiver(receiver.clone(), "k3y").await;
    let dir = TempDir::new("serve-hook");
    let flow_text = format!(
        r#"bot "Hooked" {{
  start s
  webhook "{hook}/hook" secret HOOK_KEY events [started, message, goal, closed]
}}
node s {{
  ask word
  goal "asked"
  say "thanks"
  close
}}
"#
    );
    let flow = write_flow(&dir, "h.flow", &flow_text);
    let db = dir.path("s.db");
    let env = [("HOOK_KEY", "k3y")];
    let p = Process::start(&flow, &db, &[], &env);
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..3 {
        let (id, token) = open(&client, &p).await;
        let (status, _) = say(&client, &p.base, &id, &token, &format!("w{i}"), "m-1")
            .await
            .unwrap();
        assert_eq!(status, 200);
        ids.push(id);
    }
    // Deliveries are in flight, held by the receiver: kill serve now.
    eventually("a delivery reached the receiver", || {
        *receiver.held.lock().unwrap() > 0
    })
    .await;
    drop(p);
    assert!(receiver.accepted.lock().unwrap().is_empty());
    receiver.hold.store(false, Ordering::SeqCst);

    let _p = Process::start(&flow, &db, &[], &env);
    eventually("every event delivered", || {
        receiver.accepted.lock().unwrap().len() >= 12
    })
    .await;
    let accepted = receiver.accepted.lock().unwrap().clone();
    for (i, id) in ids.iter().enumerate() {
        let mine: Vec<&Value> = accepted
            .iter()
            .map(|(_, v)| v)
            .filter(|v| v["conversation"] == *id)
            .collect();
        let names: Vec<&str> = mine.iter().map(|v| v["event"].as_str().unwrap()).collect();
        assert_eq!(names, ["started", "message", "goal", "closed"], "{id}");
        assert_eq!(mine[1]["data"]["text"], format!("w{i}"));
        assert_eq!(mine[2]["data"], json!({"name": "asked", "count": 1}));
    }
    let mut deliveries: Vec<&str> = accepted.iter().map(|(d, _)| d.as_str()).collect();
    deliveries.sort();
    deliveries.dedup();
    assert_eq!(deliveries.len(), 12, "each delivery accepted once");
}

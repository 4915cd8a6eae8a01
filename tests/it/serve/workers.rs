//! Three `chatflow serve` processes on one PostgreSQL database: 600 messages over 30
//! conversations, spread over the workers, with duplicates and two messages of a conversation
//! at two workers at once; one worker is SIGKILLed halfway. Afterwards every transcript must
//! hold each message exactly once, in one order, counted by a flow that does `set n = n + 1`
//! (a lost update shows as a repeated count), and every acknowledged answer must be the stored
//! one.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::process::{write_flow, Process};
use super::support::{read, says, TestStore};

const COUNTER: &str = include_str!("../../flows/counter.flow");

const WORKERS: usize = 3;
const CONVERSATIONS: usize = 30;
const MESSAGES: usize = 20;

/// The answer of a message, or `None` when the worker could not be reached (killed).
async fn send(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    token: &str,
    text: &str,
) -> Option<Value> {
    let r = client
        .post(format!("{base}/api/conversations/{id}/messages"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(json!({"text": text, "message_id": text}).to_string())
        .send()
        .await
        .ok()?;
    let (status, body) = read(r).await;
    assert_eq!(status, 200, "{text}: {body}");
    Some(body)
}

struct Cluster {
    bases: Vec<String>,
    killed: AtomicBool,
    victim: usize,
}

impl Cluster {
    /// The workers a message may go to now: all, or the survivors once one was killed. A
    /// request that raced the kill fails to connect and is sent again elsewhere.
    fn alive(&self) -> Vec<&str> {
        let killed = self.killed.load(Ordering::SeqCst);
        (0..self.bases.len())
            .filter(|&w| !(killed && w == self.victim))
            .map(|w| self.bases[w].as_str())
            .collect()
    }
}

/// Sends `text` to the worker `pick` chooses among the live ones until one answers.
async fn deliver(
    client: &reqwest::Client,
    cluster: &Cluster,
    id: &str,
    token: &str,
    text: &str,
    pick: usize,
) -> Value {
    for attempt in 0..20 {
        let alive = cluster.alive();
        let base = alive[(pick + attempt) % alive.len()];
        if let Some(answer) = send(client, base, id, token, text).await {
            return answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{id} {text}: no worker answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_workers_one_database_a_kill_halfway_every_message_counted_once() {
    let Some(store) = TestStore::postgres("workers").await else {
        return;
    };
    // Migrated once up front, as a deployment would; the workers then find it done.
    drop(store.open().await);
    let flow = write_flow(&store.dir, "counter.flow", COUNTER);
    let mut processes: Vec<Process> = (0..WORKERS)
        .map(|_| Process::start(&flow, Path::new(&store.spec), &[], &[]))
        .collect();
    let victim = 1;
    let cluster = Arc::new(Cluster {
        bases: processes.iter().map(|p| p.base.clone()).collect(),
        killed: AtomicBool::new(false),
        victim,
    });
    let client = reqwest::Client::new();
    let mut conversations = Vec::new();
    for k in 0..CONVERSATIONS {
        let base = &cluster.bases[k % WORKERS];
        let r = client
            .post(format!("{base}/api/conversations"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let (status, body) = read(r).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(says(&body), ["count 0"]);
        conversations.push((
            body["id"].as_str().unwrap().to_string(),
            body["token"].as_str().unwrap().to_string(),
        ));
    }
    // Each conversation sends its messages two at a time, each pair to two different workers
    // at once, and every third message also once more to a third worker (a duplicate).
    let acked: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (k, (id, token)) in conversations.iter().cloned().enumerate() {
        let (client, cluster, acked, answered) = (
            client.clone(),
            Arc::clone(&cluster),
            Arc::clone(&acked),
            Arc::clone(&answered),
        );
        tasks.push(tokio::spawn(async move {
            for pair in 0..MESSAGES / 2 {
                let mut sends = Vec::new();
                for i in [2 * pair, 2 * pair + 1] {
                    let text = format!("c{k}-m{i}");
                    let copies = if i % 3 == 0 { 2 } else { 1 };
                    for copy in 0..copies {
                        let (client, cluster, id, token, text) = (
                            client.clone(),
                            Arc::clone(&cluster),
                            id.clone(),
                            token.clone(),
                            text.clone(),
                        );
                        let pick = k + i + copy;
                        sends.push(tokio::spawn(async move {
                            let answer = deliver(&client, &cluster, &id, &token, &text, pick).await;
                            (text, answer)
                        }));
                    }
                }
                for send in sends {
                    let (text, answer) = send.await.unwrap();
                    let mut acked = acked.lock().unwrap();
                    if let Some(first) = acked.get(&text) {
                        assert_eq!(first, &answer, "{text}: a duplicate got another answer");
                    } else {
                        acked.insert(text, answer);
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }));
    }
    // Halfway, one worker dies without warning, turns in flight and all.
    while answered.load(Ordering::SeqCst) < CONVERSATIONS * MESSAGES / 2 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    processes[victim].signal("KILL");
    cluster.killed.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let _ = processes[victim].child.wait();
    let acked = acked.lock().unwrap().clone();
    assert_eq!(
        acked.len(),
        CONVERSATIONS * MESSAGES,
        "every message acknowledged"
    );
    let survivor = cluster.alive()[0].to_string();
    for (k, (id, token)) in conversations.iter().enumerate() {
        let r = client
            .get(format!("{survivor}/api/conversations/{id}/transcript"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let (status, body) = read(r).await;
        assert_eq!(status, 200, "{body}");
        let turns = body["turns"].as_array().unwrap();
        assert_eq!(
            turns.len(),
            MESSAGES + 1,
            "c{k}: opening plus each message once"
        );
        let mut seen = HashSet::new();
        for (n, turn) in turns.iter().enumerate().skip(1) {
            let text = turn["message"]["message_id"].as_str().unwrap();
            assert!(seen.insert(text.to_string()), "c{k}: {text} stored twice");
            // One order: the n-th stored message was counted n, from the turn before it.
            let said: Vec<String> = says(turn);
            assert_eq!(said, [format!("count {n} {text}")], "c{k}: turn {n}");
            assert_eq!(
                says(&acked[text]),
                said,
                "c{k}: {text} was answered with what was stored"
            );
        }
        // The two messages of a pair went out at once, but a pair starts only after the
        // pair before it was answered: pairs stay in order.
        for pair in 0..MESSAGES / 2 {
            let texts: HashSet<String> = turns[1 + 2 * pair..3 + 2 * pair]
                .iter()
                .map(|t| t["message"]["message_id"].as_str().unwrap().to_string())
                .collect();
            let expected: HashSet<String> = [2 * pair, 2 * pair + 1]
                .iter()
                .map(|i| format!("c{k}-m{i}"))
                .collect();
            assert_eq!(texts, expected, "c{k}: pair {pair} out of order");
        }
    }
    for (w, p) in processes.iter_mut().enumerate() {
        if w != victim {
            p.signal("TERM");
            let status = p.child.wait().unwrap();
            assert_eq!(status.code(), Some(0), "worker {w} stops cleanly");
        }
    }
}

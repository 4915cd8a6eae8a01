//! The turn rules: one at a time per conversation, duplicates answered once, sessions that
//! survive an edited flow, idle conversations expiring, conversations not waiting for others.

use std::sync::Arc;
use std::time::Duration;

use chatflow::runtime::EngineConfig;
use chatflow::serve::ServeOptions;

use crate::serve::support::{counter_flow, engine, says, Server, TempDir, TestStore, TWO_ASKS};

/// A shared server of the counting flow on `store`.
async fn counter_server(store: &TestStore) -> Arc<Server> {
    let options = ServeOptions::default();
    Arc::new(Server::start_on(&counter_flow(40), &store.spec, options).await)
}

on_both_stores!(concurrent_messages_to_one_conversation_never_share_a_starting_state);
async fn concurrent_messages_to_one_conversation_never_share_a_starting_state(store: TestStore) {
    let server = counter_server(&store).await;
    let (id, token, opened) = server.open_ok().await;
    assert_eq!(says(&opened), ["count 0"]);
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (server, id, token) = (Arc::clone(&server), id.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            server.say(&id, &token, &format!("m{i}"), None).await
        }));
    }
    let mut counts = Vec::new();
    for t in tasks {
        let (status, answer) = t.await.unwrap();
        assert_eq!(status, 200, "{answer}");
        counts.extend(says(&answer));
    }
    counts.sort_by_key(|c| c[6..].parse::<u32>().unwrap());
    let expected: Vec<String> = (1..=30).map(|k| format!("count {k}")).collect();
    assert_eq!(
        counts, expected,
        "each message got its own count: no lost update"
    );
    assert_eq!(server.transcript(&id, &token).await.len(), 31);
    Arc::try_unwrap(server).ok().unwrap().stop().await;
}

on_both_stores!(a_repeated_message_id_is_answered_from_the_first_and_processed_once);
async fn a_repeated_message_id_is_answered_from_the_first_and_processed_once(store: TestStore) {
    let server = counter_server(&store).await;
    let (id, token, _) = server.open_ok().await;
    let (_, first) = server.say(&id, &token, "hello", Some("m-1")).await;
    let (status, again) = server.say(&id, &token, "hello", Some("m-1")).await;
    assert_eq!(status, 200);
    assert_eq!(again, first);
    // Sent at the same moment, several times: one turn.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (server, id, token) = (Arc::clone(&server), id.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            server.say(&id, &token, "again", Some("m-2")).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        let (status, answer) = t.await.unwrap();
        assert_eq!(status, 200);
        answers.push(answer);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(says(&answers[0]), ["count 2"]);
    // The same id in another conversation is another message.
    let (other, other_token, _) = server.open_ok().await;
    let (_, answer) = server.say(&other, &other_token, "hello", Some("m-1")).await;
    assert_eq!(says(&answer), ["count 1"]);
    let turns = server.transcript(&id, &token).await;
    assert_eq!(turns.len(), 3);
    let (_, next) = server.say(&id, &token, "third", Some("m-3")).await;
    assert_eq!(says(&next), ["count 3"]);
    Arc::try_unwrap(server).ok().unwrap().stop().await;
}

#[tokio::test]
async fn a_conversation_resumes_by_node_and_attribute_names_after_the_flow_changes() {
    let dir = TempDir::new("serve-turns");
    let db = dir.path("s.db");
    let server = Server::start(TWO_ASKS, &db, ServeOptions::default()).await;
    let (id, token, _) = server.open_ok().await;
    server.say(&id, &token, "Ann", None).await;
    let (_, view) = server
        .get(&format!("/api/conversations/{id}"), Some(&token))
        .await;
    let first_version = server.transcript(&id, &token).await[1]["flow_version"].clone();
    server.stop().await;
    assert_eq!(view["node"], "second");

    // Nodes reordered, a new attribute and a new statement before the ask, a new node.
    let edited = r#"
bot "Desk" {
  start first
}
node extra {
  say "unused"
  close
}
node second {
  set mood = "fine"
  say "Your city, please?"
  ask city
  say "Bye {name} from {city}, feeling {mood}"
  close
}
node first {
  say "Your name?"
  ask name
  goto second
}
"#;
    let server = Server::start(edited, &db, ServeOptions::default()).await;
    let (status, answer) = server.say(&id, &token, "Oslo", None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(says(&answer), ["Bye Ann from Oslo, feeling "]);
    let turns = server.transcript(&id, &token).await;
    assert_ne!(
        turns[2]["flow_version"], first_version,
        "each turn names the flow it ran on"
    );
    assert_eq!(turns[1]["flow_version"], first_version);
    server.stop().await;
}

#[tokio::test]
async fn a_conversation_whose_node_was_removed_is_told_and_starts_over() {
    let dir = TempDir::new("serve-turns");
    let db = dir.path("s.db");
    let server = Server::start(TWO_ASKS, &db, ServeOptions::default()).await;
    let (id, token, _) = server.open_ok().await;
    server.say(&id, &token, "Ann", None).await;
    server.stop().await;

    let without_second = "bot \"Desk\" {\n  start first\n}\nnode first {\n  say \"Your name?\"\n  ask name\n  say \"Thanks {name}\"\n  close\n}\n";
    let server = Server::start(without_second, &db, ServeOptions::default()).await;
    let (status, answer) = server.say(&id, &token, "Oslo", None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        says(&answer),
        [chatflow::serve::resume::RESTARTED, "Your name?"]
    );
    let (_, view) = server
        .get(&format!("/api/conversations/{id}"), Some(&token))
        .await;
    assert_eq!(view["node"], "first");
    assert_eq!(
        view["attributes"]["name"], "Ann",
        "attributes survive by name"
    );
    // The message that arrived for the removed question was not taken as the new answer.
    let (_, answer) = server.say(&id, &token, "Bo", None).await;
    assert_eq!(says(&answer), ["Thanks Bo"]);
    server.stop().await;
}

#[tokio::test]
async fn an_idle_conversation_is_closed_at_its_next_message() {
    let dir = TempDir::new("serve-turns");
    let options = ServeOptions {
        session_ttl: Some(Duration::from_millis(50)),
        ..ServeOptions::default()
    };
    let server = Server::start(TWO_ASKS, &dir.path("s.db"), options).await;
    let (id, token, _) = server.open_ok().await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let (status, answer) = server.say(&id, &token, "Ann", None).await;
    assert_eq!(status, 200);
    assert_eq!(answer["state"], "closed");
    assert_eq!(says(&answer), [chatflow::serve::service::EXPIRED]);
    assert_eq!(
        answer["events"].as_array().unwrap().last().unwrap()["type"],
        "closed"
    );
    let (status, _) = server.say(&id, &token, "Ann", None).await;
    assert_eq!(status, 409);
    let (_, view) = server
        .get(&format!("/api/conversations/{id}"), Some(&token))
        .await;
    assert_eq!(
        view["attributes"],
        serde_json::json!({}),
        "the expired message answered nothing"
    );
    server.stop().await;
}

/// A loopback API that holds each request until the test lets it go.
async fn held_api() -> (String, Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>) {
    let arrived = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let (a, r) = (Arc::clone(&arrived), Arc::clone(&release));
    let app = axum::Router::new().fallback(move || {
        let (a, r) = (Arc::clone(&a), Arc::clone(&r));
        async move {
            a.notify_one();
            r.notified().await;
            axum::Json(serde_json::json!({"ok": true}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, arrived, release)
}

#[tokio::test]
async fn a_conversation_waiting_on_a_slow_api_does_not_hold_up_another() {
    let flow = r#"
bot "B" {
  start s
}
api slow {
  live
  get "https://slow.example.test/wait"
  timeout 30s
}
node s {
  ask word
  if word == "call" -> calling
  else -> plain
}
node calling {
  call slow
  say "called {status}"
  close
}
node plain {
  say "plain {word}"
  close
}
"#;
    let (base, arrived, release) = held_api().await;
    let config = EngineConfig {
        redirect_base: Some(base),
        ..EngineConfig::default()
    };
    let dir = TempDir::new("serve-turns");
    let server = Arc::new(
        Server::start_engine(
            engine(flow, config),
            &dir.path("s.db"),
            ServeOptions::default(),
        )
        .await,
    );
    let (a, a_token, _) = server.open_ok().await;
    let (b, b_token, _) = server.open_ok().await;
    let slow = {
        let server = Arc::clone(&server);
        tokio::spawn(async move { server.say(&a, &a_token, "call", None).await })
    };
    arrived.notified().await;
    // A's turn is inside its API call now; B's whole turn completes meanwhile.
    let (status, answer) = server.say(&b, &b_token, "hi", None).await;
    assert_eq!((status, says(&answer)), (200, vec!["plain hi".to_string()]));
    assert!(!slow.is_finished());
    release.notify_one();
    let (status, answer) = slow.await.unwrap();
    assert_eq!(
        (status, says(&answer)),
        (200, vec!["called 200".to_string()])
    );
    Arc::try_unwrap(server).ok().unwrap().stop().await;
}

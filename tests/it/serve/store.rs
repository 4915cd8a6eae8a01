//! The SQLite store under concurrent writers: turns that arrive together are committed
//! together (one transaction, a savepoint each), and each gets its own, right answer.

use chatflow::store::{Committed, Conversation, Message, Store, TurnCommit};

use super::support::TempDir;

fn turn(conversation: &str, message_id: &str, events: &str) -> TurnCommit {
    TurnCommit {
        conversation: conversation.to_string(),
        message: Some(Message {
            text: "hi".into(),
            message_id: Some(message_id.to_string()),
        }),
        events: events.to_string(),
        state: "waiting".into(),
        node: "n".into(),
        session: "{}".into(),
        flow_version: "v".into(),
        at: "2026-12-01T00:00:00.000Z".into(),
        trace: None,
        outbox: Vec::new(),
    }
}

async fn create(store: &Store, id: &str) {
    let conversation = Conversation {
        id: id.to_string(),
        token_hash: "h".into(),
        state: "waiting".into(),
        node: "n".into(),
        session: "{}".into(),
        flow_version: "v".into(),
        created_at: "2026-12-01T00:00:00.000Z".into(),
        updated_at: "2026-12-01T00:00:00.000Z".into(),
    };
    let mut opening = turn(id, "", "[]");
    opening.message = None;
    store.create(conversation, opening).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_committed_together_each_keep_or_undo_only_their_own_changes() {
    let dir = TempDir::new("store-group");
    let store = Store::open_sqlite(&dir.path("s.db")).await.unwrap();
    const N: usize = 48;
    for k in 0..N {
        create(&store, &format!("c{k}")).await;
    }
    // For each conversation at once: a turn, the same message again (a duplicate), and a
    // turn for a conversation that does not exist (its inserted turn row must be undone).
    let mut tasks = Vec::new();
    for k in 0..N {
        for (conversation, events) in [
            (format!("c{k}"), format!("[\"first {k}\"]")),
            (format!("c{k}"), format!("[\"second {k}\"]")),
            (format!("ghost{k}"), "[\"ghost\"]".to_string()),
        ] {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let answer = store.commit_turn(turn(&conversation, "m1", &events)).await;
                (conversation, events, answer.unwrap())
            }));
        }
    }
    let mut stored = std::collections::HashMap::new();
    let mut duplicates = Vec::new();
    for task in tasks {
        let (conversation, events, answer) = task.await.unwrap();
        match answer {
            Committed::Stored { seq } => {
                assert_eq!(seq, 2, "{conversation}");
                assert!(
                    stored.insert(conversation, events).is_none(),
                    "stored twice"
                );
            }
            Committed::Duplicate(first) => duplicates.push((conversation, first.events)),
            Committed::Gone => assert!(conversation.starts_with("ghost"), "{conversation} gone"),
        }
    }
    assert_eq!(stored.len(), N, "one turn stored per conversation");
    assert_eq!(duplicates.len(), N, "one duplicate per conversation");
    for (conversation, events) in duplicates {
        assert_eq!(
            Some(&events),
            stored.get(&conversation),
            "duplicate answered with the first"
        );
    }
    for k in 0..N {
        let turns = store.transcript(&format!("c{k}")).await.unwrap();
        assert_eq!(turns.len(), 2, "c{k}: opening and one message");
        assert_eq!(Some(&turns[1].events), stored.get(&format!("c{k}")));
        let ghost = store.transcript(&format!("ghost{k}")).await.unwrap();
        assert!(
            ghost.is_empty(),
            "a turn of a missing conversation was kept: {ghost:?}"
        );
    }
}

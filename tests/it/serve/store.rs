//! The store's contract, on SQLite and on PostgreSQL alike (`on_both_stores!`): turns
//! committed together keep their own answers, a turn commit is a compare-and-swap, two store
//! handles on one database (two workers) never lose an update, the outbox keeps order, and a
//! schema from a newer chatflow is refused. Then what only PostgreSQL promises several
//! processes: a webhook delivery is claimed by one worker at a time, and a worker that stalls
//! inside a transaction frees its conversation after the idle-in-transaction timeout.

use std::collections::HashMap;

use chatflow::store::{
    Committed, Conversation, Message, OutboxItem, Store, StoreError, TurnCommit,
};

use super::support::TestStore;

fn turn(conversation: &str, seq: i64, message_id: &str, events: &str) -> TurnCommit {
    TurnCommit {
        conversation: conversation.to_string(),
        seq,
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
        unmatched: false,
    }
}

async fn create(store: &Store, id: &str) {
    let conversation = conversation_row(id);
    let mut opening = turn(id, 1, "", "[]");
    opening.message = None;
    store.create(conversation, opening).await.unwrap();
}

on_both_stores!(writes_at_once_each_keep_or_undo_only_their_own_changes);
async fn writes_at_once_each_keep_or_undo_only_their_own_changes(ts: TestStore) {
    let store = ts.open().await;
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
            // A ghost's next sequence is 1: its turn row is inserted, then undone.
            let seq = if conversation.starts_with("ghost") {
                1
            } else {
                2
            };
            tasks.push(tokio::spawn(async move {
                let answer = store
                    .commit_turn(turn(&conversation, seq, "m1", &events))
                    .await;
                (conversation, events, answer.unwrap())
            }));
        }
    }
    let mut stored = HashMap::new();
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
            Committed::Conflict => panic!("{conversation}: a duplicate message is no conflict"),
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

on_both_stores!(a_lone_write_that_is_undone_leaves_nothing);
async fn a_lone_write_that_is_undone_leaves_nothing(ts: TestStore) {
    // One write at a time, so none shares its transaction: the SQLite store then runs it
    // without a savepoint, and undoing it must still undo its inserted turn row. (Sequence
    // 1 is the next one of a conversation with no turns, so the row is inserted before the
    // conversation is found missing.)
    let store = ts.open().await;
    create(&store, "c").await;
    for k in 0..3 {
        let ghost = format!("ghost{k}");
        let answer = store
            .commit_turn(turn(&ghost, 1, "m1", "[\"ghost\"]"))
            .await;
        assert_eq!(answer.unwrap(), Committed::Gone);
        assert!(
            store.transcript(&ghost).await.unwrap().is_empty(),
            "{ghost} kept a turn"
        );
    }
    let answer = store.commit_turn(turn("c", 2, "m1", "[\"kept\"]")).await;
    assert_eq!(answer.unwrap(), Committed::Stored { seq: 2 });
    let turns = store.transcript("c").await.unwrap();
    assert_eq!(turns.len(), 2, "opening and the kept turn");
    assert_eq!(turns[1].events, "[\"kept\"]");
}

on_both_stores!(a_turn_that_started_before_another_was_stored_is_refused_whole);
async fn a_turn_that_started_before_another_was_stored_is_refused_whole(ts: TestStore) {
    let store = ts.open().await;
    create(&store, "c").await;
    let (read, first) = store
        .conversation_for_message("c", Some("m-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.seq, first), (1, None));
    let mut a = turn("c", 2, "m-a", "[\"a\"]");
    a.session = "{\"by\":\"a\"}".into();
    assert_eq!(
        store.commit_turn(a).await.unwrap(),
        Committed::Stored { seq: 2 }
    );
    // Another worker ran a turn on the state at seq 1 too: refused, with its outbox row.
    let mut b = turn("c", 2, "m-b", "[\"b\"]");
    b.session = "{\"by\":\"b\"}".into();
    b.outbox = vec![OutboxItem::webhook("{\"from\":\"b\"}".into())];
    assert_eq!(
        store.commit_turn(b.clone()).await.unwrap(),
        Committed::Conflict
    );
    let mut no_id = turn("c", 2, "", "[\"c\"]");
    no_id.message = Some(Message {
        text: "no id".into(),
        message_id: None,
    });
    assert_eq!(store.commit_turn(no_id).await.unwrap(), Committed::Conflict);
    let now = store.conversation("c").await.unwrap().unwrap();
    assert_eq!((now.seq, now.session.as_str()), (2, "{\"by\":\"a\"}"));
    assert_eq!(store.pending_deliveries().await.unwrap(), 0);
    // Run again on what is stored now: it goes through.
    b.seq = now.seq + 1;
    assert_eq!(
        store.commit_turn(b).await.unwrap(),
        Committed::Stored { seq: 3 }
    );
    let turns = store.transcript("c").await.unwrap();
    let seqs: Vec<i64> = turns.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(turns[2].events, "[\"b\"]");
    assert_eq!(store.pending_deliveries().await.unwrap(), 1);
    let (_, again) = store
        .conversation_for_message("c", Some("m-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.map(|t| t.events).as_deref(), Some("[\"a\"]"));
}

/// What the service does per message: read, compute, compare-and-swap, again on conflict.
async fn count_once(store: &Store, conversation: &str, message_id: &str) -> (i64, u32) {
    let mut conflicts = 0;
    loop {
        let (c, first) = store
            .conversation_for_message(conversation, Some(message_id))
            .await
            .unwrap()
            .unwrap();
        if let Some(t) = first {
            return (t.events.parse().unwrap(), conflicts);
        }
        let n: i64 = c.session.parse().unwrap_or(0) + 1;
        tokio::task::yield_now().await;
        let mut t = turn(conversation, c.seq + 1, message_id, &n.to_string());
        t.session = n.to_string();
        match store.commit_turn(t).await.unwrap() {
            Committed::Stored { .. } => return (n, conflicts),
            Committed::Duplicate(first) => return (first.events.parse().unwrap(), conflicts),
            Committed::Conflict => conflicts += 1,
            Committed::Gone => panic!("{conversation} gone"),
        }
    }
}

on_both_stores!(two_handles_on_one_database_never_lose_an_update);
async fn two_handles_on_one_database_never_lose_an_update(ts: TestStore) {
    // Two opens are two connections (pools), as two `serve` processes would have.
    let (one, two) = (ts.open().await, ts.open().await);
    const CONVERSATIONS: usize = 4;
    const MESSAGES: usize = 30;
    for k in 0..CONVERSATIONS {
        create(&one, &format!("c{k}")).await;
    }
    let mut tasks = Vec::new();
    for k in 0..CONVERSATIONS {
        for m in 0..MESSAGES {
            // Every message is sent twice, once through each handle.
            for store in [one.clone(), two.clone()] {
                tasks.push(tokio::spawn(async move {
                    let (c, id) = (format!("c{k}"), format!("m{m}"));
                    let (n, conflicts) = count_once(&store, &c, &id).await;
                    (c, id, n, conflicts)
                }));
            }
        }
    }
    let mut answers: HashMap<(String, String), i64> = HashMap::new();
    let mut conflicts = 0;
    for task in tasks {
        let (c, id, n, lost) = task.await.unwrap();
        conflicts += lost;
        if let Some(other) = answers.insert((c.clone(), id.clone()), n) {
            assert_eq!(other, n, "{c} {id}: the two sends got different answers");
        }
    }
    for k in 0..CONVERSATIONS {
        let turns = one.transcript(&format!("c{k}")).await.unwrap();
        assert_eq!(turns.len(), MESSAGES + 1, "c{k}: every message once");
        for (i, t) in turns.iter().enumerate().skip(1) {
            assert_eq!(t.seq, i as i64 + 1);
            assert_eq!(
                t.events,
                i.to_string(),
                "c{k}: the count goes up by one per turn"
            );
        }
        let c = two.conversation(&format!("c{k}")).await.unwrap().unwrap();
        assert_eq!(
            (c.seq, c.session),
            ((MESSAGES + 1) as i64, MESSAGES.to_string())
        );
    }
    // Not an assertion on timing: the race is real only if some commits lost it.
    eprintln!("{}: {conflicts} compare-and-swap conflicts", ts.backend);
}

on_both_stores!(the_outbox_gives_each_conversation_its_events_in_order);
async fn the_outbox_gives_each_conversation_its_events_in_order(ts: TestStore) {
    let store = ts.open().await;
    for c in ["a", "b"] {
        create(&store, c).await;
        let mut t = turn(c, 2, "m", "[]");
        t.outbox = (1..=3)
            .map(|i| OutboxItem::webhook(format!("{c}{i}")))
            .collect();
        assert_eq!(
            store.commit_turn(t).await.unwrap(),
            Committed::Stored { seq: 2 }
        );
    }
    let bodies = |rows: &[chatflow::store::OutboxRow]| -> Vec<String> {
        rows.iter().map(|r| r.body.clone()).collect()
    };
    let due = store.due_deliveries(1_000, 10).await.unwrap();
    assert_eq!(
        bodies(&due),
        ["a1", "b1"],
        "only each conversation's oldest"
    );
    let (a1, b1) = (due[0].n, due[1].n);
    store.delivered(a1).await.unwrap();
    store
        .retry_later(b1, 5_000, "status 500".into())
        .await
        .unwrap();
    let due = store.due_deliveries(2_000, 10).await.unwrap();
    assert_eq!(
        bodies(&due),
        ["a2"],
        "b1 waits for its retry time, b2 behind it"
    );
    let due = store.due_deliveries(5_000, 10).await.unwrap();
    let b1_again = due.iter().find(|r| r.n == b1).expect("b1 is due again");
    assert_eq!(b1_again.attempts, 1);
    assert_eq!(store.pending_deliveries().await.unwrap(), 5);
    assert!(store.delete("a").await.unwrap());
    assert!(!store.delete("a").await.unwrap());
    assert_eq!(store.pending_deliveries().await.unwrap(), 3);
    assert!(store.transcript("a").await.unwrap().is_empty());
    let list = store.list(10, None).await.unwrap();
    assert_eq!(
        list.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    assert_eq!(
        store.count_by_state().await.unwrap(),
        [("waiting".to_string(), 1)]
    );
}

on_both_stores!(a_store_from_a_newer_chatflow_is_refused);
async fn a_store_from_a_newer_chatflow_is_refused(ts: TestStore) {
    let store = ts.open().await;
    let current = store.schema_version().await.unwrap();
    assert!(current >= 1);
    drop(store);
    let newer = current + 1;
    if ts.backend == "postgres" {
        let (client, connection) = tokio_postgres::connect(&ts.spec, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .execute("UPDATE chatflow_schema SET version = $1", &[&newer])
            .await
            .unwrap();
    } else {
        let conn = rusqlite::Connection::open(&ts.spec).unwrap();
        conn.pragma_update(None, "user_version", newer).unwrap();
    }
    match Store::open(&ts.spec).await {
        Err(e @ StoreError::SchemaTooNew { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&format!("version {newer}")), "{text}");
            assert!(text.contains("use a newer chatflow"), "{text}");
        }
        Err(e) => panic!("{}: refused for another reason: {e}", ts.backend),
        Ok(_) => panic!("{}: a newer schema was opened", ts.backend),
    }
}

on_both_stores!(prune_erases_only_conversations_idle_since_before_the_cutoff);
async fn prune_erases_only_conversations_idle_since_before_the_cutoff(ts: TestStore) {
    let store = ts.open().await;
    for c in ["old", "new"] {
        create(&store, c).await;
    }
    let mut t = turn("new", 2, "m", "[]");
    t.at = "2026-12-02T00:00:00.000Z".into();
    t.outbox = vec![OutboxItem::webhook("x".into())];
    store.commit_turn(t).await.unwrap();
    let mut t = turn("old", 2, "m", "[]");
    t.outbox = vec![OutboxItem::webhook("y".into())];
    store.commit_turn(t).await.unwrap();
    let rows = store.report_rows(None, None).await.unwrap();
    assert_eq!(rows.conversations.len(), 2);
    assert_eq!(rows.turns.len(), 4);
    assert_eq!(
        store.prune("2026-12-01T12:00:00.000Z").await.unwrap(),
        1,
        "only the conversation idle since before the cutoff"
    );
    assert!(store.conversation("old").await.unwrap().is_none());
    assert!(store.transcript("old").await.unwrap().is_empty());
    assert_eq!(store.transcript("new").await.unwrap().len(), 2);
    assert_eq!(store.pending_deliveries().await.unwrap(), 1);
    let rows = store.report_rows(None, None).await.unwrap();
    let ids: Vec<&str> = rows.conversations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["new"]);
}

on_both_stores!(the_untrained_inbox_keeps_unmatched_messages_in_order_within_the_period);
async fn the_untrained_inbox_keeps_unmatched_messages_in_order_within_the_period(ts: TestStore) {
    let store = ts.open().await;
    for c in ["a", "b"] {
        create(&store, c).await;
    }
    let said = |c: &str, seq: i64, text: &str, day: u32, unmatched: bool| {
        let mut t = turn(c, seq, &format!("m{seq}"), "[]");
        t.message.as_mut().unwrap().text = text.into();
        t.at = format!("2026-12-{day:02}T10:00:00.000Z");
        t.unmatched = unmatched;
        t
    };
    for t in [
        said("a", 2, "do you sell hats", 2, true),
        said("b", 2, "Track an order", 1, false),
        said("b", 3, "where's the beef", 1, true),
        said("a", 3, "any hats?", 3, true),
    ] {
        let stored = store.commit_turn(t).await.unwrap();
        assert!(matches!(stored, Committed::Stored { .. }), "{stored:?}");
    }
    let texts = |rows: Vec<chatflow::store::Unmatched>| -> Vec<String> {
        rows.into_iter().map(|r| r.text).collect()
    };
    let all = store.unmatched(None, None).await.unwrap();
    assert_eq!(all[0].conversation, "b");
    assert_eq!(
        texts(all),
        ["where's the beef", "do you sell hats", "any hats?"]
    );
    let from_the_2nd = store
        .unmatched(
            Some("2026-12-02T00:00:00.000Z".into()),
            Some("2026-12-03T00:00:00.000Z".into()),
        )
        .await
        .unwrap();
    assert_eq!(texts(from_the_2nd), ["do you sell hats"]);
    // Deleting a conversation empties its part of the inbox.
    store.delete("b").await.unwrap();
    assert_eq!(
        texts(store.unmatched(None, None).await.unwrap()),
        ["do you sell hats", "any hats?"]
    );
}

/// Two workers claiming deliveries at once never both get a row; a claim that is neither
/// delivered nor released (its worker was killed) is free again after the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_delivery_is_claimed_by_one_worker_until_its_lease_ends() {
    let Some(ts) = TestStore::postgres("store-claims").await else {
        return;
    };
    let (one, two) = (ts.open().await, ts.open().await);
    const N: usize = 60;
    for k in 0..N {
        let c = format!("c{k}");
        create(&one, &c).await;
        let mut t = turn(&c, 2, "m", "[]");
        t.outbox = vec![OutboxItem::webhook(c.clone())];
        one.commit_turn(t).await.unwrap();
    }
    let now = 1_000;
    let mut claims = Vec::new();
    for store in [one.clone(), two.clone(), one.clone(), two.clone()] {
        claims.push(tokio::spawn(async move {
            store.due_deliveries(now, 20).await.unwrap()
        }));
    }
    let mut seen = HashMap::new();
    for claim in claims {
        for row in claim.await.unwrap() {
            assert!(seen.insert(row.n, row.body).is_none(), "claimed twice");
        }
    }
    let rest = one.due_deliveries(now, 100).await.unwrap();
    assert_eq!(seen.len() + rest.len(), N, "every row claimed exactly once");
    assert!(two.due_deliveries(now, 100).await.unwrap().is_empty());
    // Nobody delivered or released them: after the lease they are due again, once.
    let later = now + chatflow::store::postgres::DELIVERY_LEASE_MS;
    let again = two.due_deliveries(later, 100).await.unwrap();
    assert_eq!(again.len(), N);
    assert!(one.due_deliveries(later, 100).await.unwrap().is_empty());
}

/// Every pooled connection carries the guard that frees a vanished worker's row locks: the
/// connection settings the pool uses set `idle_in_transaction_session_timeout`, and a URL
/// may set its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sessions_end_a_transaction_left_idle() {
    let Some(ts) = TestStore::postgres("store-idle-guard").await else {
        return;
    };
    let show = |url: String| async move {
        let config = chatflow::store::postgres::connect_config(&url).unwrap();
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        let row = client
            .query_one("SHOW idle_in_transaction_session_timeout", &[])
            .await
            .unwrap();
        row.get::<_, String>(0)
    };
    assert_eq!(
        show(ts.spec.clone()).await,
        chatflow::store::postgres::IDLE_IN_TRANSACTION
    );
    let own = format!(
        "{}?options=-c%20idle_in_transaction_session_timeout%3D7s",
        ts.spec
    );
    assert_eq!(show(own).await, "7s", "the URL's own setting wins");
}

/// A worker that stops in the middle of a turn's commit (its host gone, no TCP reset) holds the
/// conversation's row lock; the server ends that session after the idle-in-transaction
/// timeout (1 s here, from the URL), and the next turn of the conversation is stored. Without
/// the guard that turn would wait for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_stalled_worker_frees_the_conversation_after_the_idle_timeout() {
    let Some(ts) = TestStore::postgres("store-stalled").await else {
        return;
    };
    let url = format!(
        "{}?options=-c%20idle_in_transaction_session_timeout%3D1s",
        ts.spec
    );
    let store = Store::open(&url).await.unwrap();
    create(&store, "c").await;
    // The stalled worker: a connection set up as the pool's are, inside a transaction that
    // holds the conversation's row lock, then silent (kept open, never sending again).
    let config = chatflow::store::postgres::connect_config(&url).unwrap();
    let (stalled, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    let connection = tokio::spawn(connection);
    stalled.batch_execute("BEGIN").await.unwrap();
    stalled
        .execute(
            "UPDATE conversations SET updated_at = updated_at WHERE id = 'c'",
            &[],
        )
        .await
        .unwrap();
    // Only a hang guard: the lock is gone after about 1 s.
    let committed = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        store.commit_turn(turn("c", 2, "m", "[]")),
    )
    .await
    .expect("the conversation stayed locked by the stalled worker");
    assert_eq!(committed.unwrap(), Committed::Stored { seq: 2 });
    // The server ended the stalled session, for idling in its transaction.
    let ended = connection.await.unwrap().unwrap_err();
    let code = ended.as_db_error().map(|db| db.code().code().to_string());
    assert_eq!(code.as_deref(), Some("25P03"), "{ended}");
    drop(stalled);
}

fn conversation_row(id: &str) -> Conversation {
    Conversation {
        id: id.to_string(),
        token_hash: "h".into(),
        state: "waiting".into(),
        node: "n".into(),
        session: "{}".into(),
        flow_version: "v".into(),
        created_at: "2026-12-01T00:00:00.000Z".into(),
        updated_at: "2026-12-01T00:00:00.000Z".into(),
        seq: 1,
    }
}

// A channel user is linked to the conversation opened for them only if the link still
// points where the opener saw it (two workers opening for one user: one wins, the other
// stores nothing); erasing the conversation forgets the link. Channel replies queue apart
// from webhook events, each in order per conversation.
on_both_stores!(channel_links_and_channel_outbox_rows);
async fn channel_links_and_channel_outbox_rows(ts: TestStore) {
    use chatflow::store::ChannelLink;
    let store = ts.open().await;
    let link = |previous: Option<&str>| ChannelLink {
        channel: "telegram".into(),
        user: "42".into(),
        previous: previous.map(str::to_string),
    };
    let mut opening = turn("a", 1, "tg-1", "[]");
    opening.outbox = vec![
        OutboxItem::webhook("hook-a".into()),
        OutboxItem {
            body: "reply-a1".into(),
            channel: Some("telegram".into()),
        },
        OutboxItem {
            body: "reply-a2".into(),
            channel: Some("telegram".into()),
        },
    ];
    assert!(store
        .create_linked(conversation_row("a"), opening, link(None))
        .await
        .unwrap());
    // A second opener that also saw no link loses, and writes nothing.
    let mut loser = turn("b", 1, "tg-1", "[]");
    loser.outbox = vec![OutboxItem::webhook("hook-b".into())];
    assert!(!store
        .create_linked(conversation_row("b"), loser, link(None))
        .await
        .unwrap());
    assert!(store.conversation("b").await.unwrap().is_none());
    assert_eq!(
        store
            .channel_conversation("telegram", "42")
            .await
            .unwrap()
            .as_deref(),
        Some("a")
    );
    assert_eq!(
        store.channel_conversation("viber", "42").await.unwrap(),
        None
    );
    // The opening turn keeps the message that opened it.
    let first = &store.transcript("a").await.unwrap()[0];
    assert_eq!(
        first.message.as_ref().and_then(|m| m.message_id.as_deref()),
        Some("tg-1")
    );

    let hooks = store.due_deliveries(1_000, 10).await.unwrap();
    assert_eq!(
        hooks.iter().map(|r| r.body.as_str()).collect::<Vec<_>>(),
        ["hook-a"]
    );
    let replies = store
        .due_channel_deliveries(1_000, 10, Some("telegram"))
        .await
        .unwrap();
    assert_eq!(
        replies.iter().map(|r| r.body.as_str()).collect::<Vec<_>>(),
        ["reply-a1"]
    );
    assert!(store
        .due_channel_deliveries(1_000, 10, Some("viber"))
        .await
        .unwrap()
        .is_empty());
    // A failing webhook does not hold the replies back.
    store
        .retry_later(hooks[0].n, 999_999, "down".into())
        .await
        .unwrap();
    store.delivered(replies[0].n).await.unwrap();
    let next = store
        .due_channel_deliveries(1_000, 10, Some("telegram"))
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|r| r.body.as_str()).collect::<Vec<_>>(),
        ["reply-a2"]
    );

    // The next conversation takes the link over from `a` only.
    let c = turn("c", 1, "tg-9", "[]");
    assert!(!store
        .create_linked(conversation_row("c"), c.clone(), link(Some("zzz")))
        .await
        .unwrap());
    assert!(store
        .create_linked(conversation_row("c"), c, link(Some("a")))
        .await
        .unwrap());
    assert_eq!(
        store
            .channel_conversation("telegram", "42")
            .await
            .unwrap()
            .as_deref(),
        Some("c")
    );
    assert!(store.delete("c").await.unwrap());
    assert_eq!(
        store.channel_conversation("telegram", "42").await.unwrap(),
        None
    );
}

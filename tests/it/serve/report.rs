//! `chatflow report` on a store filled by real turns: conversations run through `serve` over
//! loopback (API calls to a loopback stub server), then the real binary reads the file.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chatflow::ir::StubAnswer;
use chatflow::runtime::EngineConfig;
use chatflow::serve::ServeOptions;
use chatflow::testing::StubServer;
use serde_json::{json, Value};

use crate::serve::support::{engine, Server, TempDir};

pub const DESK: &str = include_str!("../../flows/desk.flow");
const DESK_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/flows/desk.flow");

/// Fills `db` with six conversations of the desk flow: one finds its order (goal), one gives
/// a bad number and then a missing order, one goes to a human, one answers the menu with
/// something that is no option and stays, one only opens, and one expires.
pub async fn fill_desk_store(db: &Path) {
    let stubs = StubServer::start(HashMap::from([(
        "lookup".to_string(),
        vec![
            StubAnswer::Status {
                status: 200,
                body: Some(json!({})),
            },
            StubAnswer::Status {
                status: 404,
                body: None,
            },
        ],
    )]))
    .await
    .expect("stub server");
    let config = || EngineConfig {
        redirect_base: Some(stubs.base_url().to_string()),
        ..EngineConfig::default()
    };
    let server = Server::start_engine(engine(DESK, config()), db, ServeOptions::default()).await;
    let talk = |lines: &'static [&'static str]| {
        let server = &server;
        async move {
            let (id, token, _) = server.open_ok().await;
            for line in lines {
                let (status, body) = server.say(&id, &token, line, None).await;
                assert_eq!(status, 200, "{body}");
            }
            (id, token)
        }
    };
    talk(&["Order", "12"]).await;
    talk(&["Order", "twelve", "13"]).await;
    talk(&["Human"]).await;
    talk(&["Pizza"]).await;
    talk(&[]).await;
    let (late_id, late_token) = talk(&[]).await;
    server.stop().await;
    // The same store under a short session TTL: the last conversation expires at its message.
    let options = ServeOptions {
        session_ttl: Some(Duration::from_millis(1)),
        ..ServeOptions::default()
    };
    let server = Server::start_engine(engine(DESK, config()), db, options).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, body) = server.say(&late_id, &late_token, "Order", None).await;
    assert_eq!((status, &body["state"]), (200, &json!("closed")), "{body}");
    server.stop().await;
}

pub fn report(db: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .arg("report")
        .arg("--store")
        .arg(db)
        .args(["--idle", "1ms", "--flow", DESK_PATH])
        .args(args)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "report failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Dates, times, flow versions and latencies vary from run to run; the counts do not.
fn stable(text: &str) -> String {
    let mut out = text.to_string();
    for (pattern, with) in [
        (r"\d{4}-\d{2}-\d{2}T[0-9:.]+Z", "[time]"),
        (r"\d{4}-\d{2}-\d{2}", "[day]"),
        (r"\b[0-9a-f]{32}\b", "[version]"),
        (r"median duration +[0-9.]+ s", "median duration [s]"),
    ] {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    // The API table's last two columns are latencies.
    out.lines()
        .map(|line| match line.strip_prefix("  lookup") {
            Some(rest) => {
                let mut cells: Vec<&str> = rest.split_whitespace().collect();
                let n = cells.len();
                cells[n - 2..].fill("[ms]");
                format!("  lookup  {}", cells.join("  "))
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn text_json_and_csv_reports_count_real_turns() {
    let dir = TempDir::new("report");
    let db = dir.path("s.db");
    fill_desk_store(&db).await;

    let text = report(&db, &[]);
    insta::assert_snapshot!("desk_report_text", stable(&text));

    let json: Value = serde_json::from_str(&report(&db, &["--format", "json"])).unwrap();
    let e = &json["engagement"];
    assert_eq!(e["conversations"], 6);
    assert_eq!(
        (
            &e["completed"],
            &e["transferred"],
            &e["abandoned"],
            &e["expired"],
            &e["idle"]
        ),
        (&json!(2), &json!(1), &json!(3), &json!(1), &json!(2))
    );
    assert_eq!(e["messages_in"], 8);
    let node = |name: &str| {
        json["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(node("greet")["visits"], 6);
    assert_eq!(node("greet")["drop_off"], 3);
    assert_eq!(node("greet")["fallbacks"], 1);
    assert_eq!(node("order")["invalid_by_attr"], json!({"order": 1}));
    assert_eq!(node("found")["visits"], 1);
    let edges = json["edges"].as_array().unwrap();
    let greet_order = edges
        .iter()
        .find(|e| e["from"] == "greet" && e["to"] == "order")
        .unwrap();
    assert_eq!(greet_order["count"], 2);
    assert_eq!(json["goals"][0]["goal"], "order_found");
    assert_eq!(json["goals"][0]["reached"], 1);
    assert_eq!(json["flow_versions"][0]["current"], true);
    let api = &json["apis"][0];
    assert_eq!(
        (&api["api"], &api["calls"], &api["outcomes"]),
        (&json!("lookup"), &json!(2), &json!({"2xx": 1, "4xx": 1}))
    );

    let csv = report(&db, &["--format", "csv"]);
    assert!(csv.starts_with("section,key,metric,value\n"), "{csv}");
    for row in [
        "engagement,,conversations,6",
        "engagement,,abandoned,3",
        "node,greet,drop_off,3",
        "edge,greet->order,count,2",
        "goal,order_found,reached,1",
        "api,lookup,4xx,1",
    ] {
        assert!(csv.lines().any(|l| l == row), "no `{row}` in\n{csv}");
    }
}

#[tokio::test]
async fn the_period_selects_conversations_by_their_first_day() {
    let dir = TempDir::new("report");
    let db = dir.path("s.db");
    fill_desk_store(&db).await;
    let json: Value =
        serde_json::from_str(&report(&db, &["--format", "json", "--until", "2000-01-01"])).unwrap();
    assert_eq!(json["engagement"]["conversations"], 0);
    let out = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["report", "--store"])
        .arg(&db)
        .args(["--since", "March 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a date"));
}

#[tokio::test]
async fn serve_shows_the_report_page_to_the_admin_only() {
    let dir = TempDir::new("report");
    let db = dir.path("s.db");
    fill_desk_store(&db).await;
    let options = ServeOptions {
        admin_token: Some("admin-secret".into()),
        session_ttl: Some(Duration::from_millis(1)),
        ..ServeOptions::default()
    };
    let server = Server::start_engine(engine(DESK, EngineConfig::default()), &db, options).await;
    let url = server.url("/admin/report?since=2000-01-01");
    let r = server.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = server
        .client
        .get(&url)
        .bearer_auth("admin-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ty = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ty.starts_with("text/html"), "{ty}");
    let page = r.text().await.unwrap();
    for shown in [
        r#"data-metric="conversations">6<"#,
        r#"data-metric="abandoned">3<"#,
        r#"data-node="greet" data-visits="6" data-drop-off="3""#,
        r#"data-edge="greet->order" data-count="2""#,
        r#"data-goal="order_found" data-reached="1""#,
    ] {
        assert!(page.contains(shown), "no {shown} in the page");
    }
    let (status, body) = server
        .get("/admin/report?since=yesterday", Some("admin-secret"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid_request"))
    );
    server.stop().await;
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn prune_erases_old_conversations_with_their_turns_and_outbox_rows() {
    let dir = TempDir::new("report");
    let db = dir.path("s.db");
    fill_desk_store(&db).await;
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM conversations ORDER BY n LIMIT 2")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Two conversations last active 100 days ago, one with a delivery still pending.
    let old = (chrono::Utc::now() - chrono::Duration::days(100))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for id in &ids {
        conn.execute(
            "UPDATE conversations SET updated_at = ?2 WHERE id = ?1",
            rusqlite::params![id, old],
        )
        .unwrap();
    }
    for id in [&ids[0], &ids[1], &ids[1]] {
        conn.execute(
            "INSERT INTO outbox (conversation, body, next_at) VALUES (?1, '{}', 0)",
            [id],
        )
        .unwrap();
    }
    let kept_turns = count(&conn, "SELECT COUNT(*) FROM turns")
        - count(
            &conn,
            &format!(
                "SELECT COUNT(*) FROM turns WHERE conversation IN ('{}', '{}')",
                ids[0], ids[1]
            ),
        );

    let out = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["prune", "--store"])
        .arg(&db)
        .args(["--older-than", "90d"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.starts_with("pruned 2 conversations"), "{said}");

    assert_eq!(count(&conn, "SELECT COUNT(*) FROM conversations"), 4);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM turns"), kept_turns);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM outbox"), 0);
    for id in &ids {
        let left = count(
            &conn,
            &format!("SELECT COUNT(*) FROM turns WHERE conversation = '{id}'"),
        );
        assert_eq!(left, 0, "turns of {id} are left");
    }
    // Nothing younger than the age goes: pruning again erases nothing.
    let again = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["prune", "--store"])
        .arg(&db)
        .args(["--older-than", "90d"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("pruned 0 conversations"));
    let bad = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["prune", "--store"])
        .arg(&db)
        .args(["--older-than", "ninety days"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// The untrained inbox: free text the menu fell back on is kept (never a sensitive answer, never
/// a message some option, intent or FAQ took), and `report --unmatched` groups it.
#[tokio::test]
async fn unmatched_messages_are_kept_and_reported_in_groups() {
    const FLOW: &str = r#"bot "Hats" { start menu }
intent order_status { "where is my order" "track my parcel" "has my package shipped" "order status" "where is my delivery" }
node menu {
  choose "How can I help?" {
    "Track an order" intent order_status -> pin
    "Talk to us" -> menu
  }
}
node pin {
  ask code sensitive "Your PIN?"
  goto menu
}
"#;
    let dir = TempDir::new("unmatched");
    let db = dir.path("store.db");
    let server = Server::start_engine(
        engine(FLOW, EngineConfig::default()),
        &db,
        ServeOptions::default(),
    )
    .await;
    let (id, token, _) = server.open_ok().await;
    for line in [
        "do you sell hats?",
        "where is my parcel",
        "9911",
        "Do you sell hats",
        "do you sell any hats",
        "what are your opening hours",
    ] {
        let (status, body) = server.say(&id, &token, line, None).await;
        assert_eq!(status, 200, "{body}");
    }
    server.stop().await;
    let flow = dir.path("hats.flow");
    std::fs::write(&flow, FLOW).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_chatflow"))
        .args(["report", "--unmatched", "--store"])
        .arg(&db)
        .arg("--flow")
        .arg(&flow)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "4 unmatched messages in 2 groups. Paste a group into an intent to teach the bot.\n\
         \n# 3 messages\nintent unmatched_1 {\n  \"do you sell hats?\"  # 2 times\n  \"do you sell any hats\"\n}\n\
         \n# 1 message\nintent unmatched_2 {\n  \"what are your opening hours\"\n}\n"
    );
    assert!(
        !text.contains("9911"),
        "a sensitive answer is never in the inbox"
    );
}

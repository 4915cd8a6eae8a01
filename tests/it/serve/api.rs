//! Every endpoint of `docs/http-api.md` with its shapes and error statuses.

use chatflow::serve::ServeOptions;
use serde_json::{json, Value};

use crate::serve::support::{says, Server, TempDir, TWO_ASKS};

fn admin(token: &str) -> ServeOptions {
    ServeOptions {
        admin_token: Some(token.to_string()),
        ..ServeOptions::default()
    }
}

#[tokio::test]
async fn a_conversation_opens_answers_and_reads_back() {
    let dir = TempDir::new("serve-api");
    let server = Server::start(TWO_ASKS, &dir.path("s.db"), ServeOptions::default()).await;
    let (status, opened) = server.open(json!({"channel": "web"})).await;
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_str().unwrap();
    let token = opened["token"].as_str().unwrap();
    // 128 bits of id, 256 of token, as hex.
    assert_eq!(id.len(), 32);
    assert_eq!(token.len(), 64);
    assert!(id
        .chars()
        .chain(token.chars())
        .all(|c| c.is_ascii_hexdigit()));
    assert_eq!(opened["state"], "waiting");
    assert_eq!(says(&opened), ["Your name?"]);

    let (status, answer) = server.say(id, token, "Ann", Some("m-1")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "waiting");
    assert_eq!(says(&answer), ["Your city?"]);

    let (status, view) = server
        .get(&format!("/api/conversations/{id}"), Some(token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["id"], id);
    assert_eq!(view["state"], "waiting");
    assert_eq!(view["node"], "second");
    assert_eq!(view["attributes"], json!({"name": "Ann"}));
    assert!(view["created_at"].as_str().unwrap() <= view["updated_at"].as_str().unwrap());

    let (_, closed) = server.say(id, token, "Oslo", None).await;
    assert_eq!(closed["state"], "closed");
    assert_eq!(says(&closed), ["Bye Ann from Oslo"]);

    let turns = server.transcript(id, token).await;
    assert_eq!(turns.len(), 3);
    assert_eq!(turns[0]["message"], Value::Null);
    assert_eq!(turns[0]["events"], opened["events"]);
    assert_eq!(
        turns[1]["message"],
        json!({"text": "Ann", "message_id": "m-1"})
    );
    assert_eq!(turns[1]["events"], answer["events"]);
    assert_eq!(
        turns[2]["message"],
        json!({"text": "Oslo", "message_id": null})
    );
    for turn in &turns {
        let at = turn["at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    }
    server.stop().await;
}

#[tokio::test]
async fn known_attributes_language_and_channel_are_taken_at_the_start() {
    let flow = r#"
bot "B" {
  start s
  languages en, es
}
node s {
  say { en "Hi {name} on {sys.channel}" es "Hola {name} en {sys.channel}" }
  ask name
}
"#;
    let dir = TempDir::new("serve-api");
    let server = Server::start(flow, &dir.path("s.db"), ServeOptions::default()).await;
    let (status, opened) = server
        .open(json!({"language": "es", "channel": "widget", "attributes": {"name": "Ann"}}))
        .await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(says(&opened), ["Hola Ann en widget"]);
    let (status, body) = server.open(json!({"attributes": {"nmae": "Ann"}})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_request"))
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("nmae"));
    let (status, _) = server.open(json!({"language": "fr"})).await;
    assert_eq!(status, 422);
    let (status, _) = server.open(json!({"attributes": {"name": 7}})).await;
    assert_eq!(status, 422, "a number for a text attribute");
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_the_documented_status_and_error_shape() {
    let dir = TempDir::new("serve-api");
    let server = Server::start(TWO_ASKS, &dir.path("s.db"), ServeOptions::default()).await;
    let (id, token, _) = server.open_ok().await;
    let messages = server.url(&format!("/api/conversations/{id}/messages"));
    let c = &server.client;
    let send = |body: String, content_type: &'static str, token: Option<String>| {
        let mut req = c
            .post(&messages)
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { crate::serve::support::read(req.send().await.unwrap()).await }
    };
    let tok = || Some(token.clone());
    let cases: Vec<(u16, &str, (u16, Value))> = vec![
        (
            400,
            "malformed_json",
            send("{\"text\": ".into(), "application/json", tok()).await,
        ),
        (
            401,
            "unauthorized",
            send("{\"text\": \"hi\"}".into(), "application/json", None).await,
        ),
        (
            401,
            "unauthorized",
            send(
                "{\"text\": \"hi\"}".into(),
                "application/json",
                Some("0".repeat(64)),
            )
            .await,
        ),
        // The token is checked before the body: a stranger learns nothing from its checks.
        (
            401,
            "unauthorized",
            send("{\"text\": ".into(), "application/json", None).await,
        ),
        (
            401,
            "unauthorized",
            send("x".repeat(5000), "text/plain", Some("0".repeat(64))).await,
        ),
        (
            413,
            "body_too_large",
            send(
                format!("{{\"text\": \"{}\"}}", "a".repeat(70 * 1024)),
                "application/json",
                tok(),
            )
            .await,
        ),
        (
            413,
            "message_too_large",
            send(
                format!("{{\"text\": \"{}\"}}", "a".repeat(4097)),
                "application/json",
                tok(),
            )
            .await,
        ),
        (
            415,
            "unsupported_media_type",
            send("{\"text\": \"hi\"}".into(), "text/plain", tok()).await,
        ),
        (
            422,
            "invalid_request",
            send("{\"text\": 5}".into(), "application/json", tok()).await,
        ),
        (
            422,
            "invalid_request",
            send("{\"txt\": \"hi\"}".into(), "application/json", tok()).await,
        ),
        (
            422,
            "invalid_request",
            send("[]".into(), "application/json", tok()).await,
        ),
    ];
    for (status, code, (got, body)) in cases {
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // Unknown conversation: 404 with or without a token.
    let (status, body) = server.say(&"f".repeat(32), &token, "hi", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = server
        .get(
            &format!("/api/conversations/{}", "f".repeat(32)),
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    // Someone else's token reads nothing.
    let (other, other_token, _) = server.open_ok().await;
    let (status, _) = server
        .get(&format!("/api/conversations/{other}"), Some(&token))
        .await;
    assert_eq!(status, 401);
    let (status, _) = server
        .get(
            &format!("/api/conversations/{id}/transcript"),
            Some(&other_token),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = server
        .get(&format!("/api/conversations/{id}/transcript"), None)
        .await;
    assert_eq!(status, 401);
    // None of the refused messages was stored, and the conversation goes on.
    assert_eq!(server.transcript(&id, &token).await.len(), 1);
    let (status, answer) = server.say(&id, &token, "Ann", None).await;
    assert_eq!(
        (status, says(&answer)),
        (200, vec!["Your city?".to_string()])
    );
    // A closed chat refuses messages with 409.
    server.say(&id, &token, "Oslo", None).await;
    let (status, body) = server.say(&id, &token, "hello?", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conversation_closed"))
    );
    assert_eq!(server.transcript(&id, &token).await.len(), 3);
    // Unknown paths are JSON 404s too.
    let (status, body) = server.get("/api/nothing", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    server.stop().await;
}

#[tokio::test]
async fn a_conversation_whose_bot_cannot_start_is_failed_and_refuses_messages() {
    // The start loops without waiting: the step limit stops the opening turn.
    let flow =
        "bot \"B\" {\n  start a\n}\nnode a {\n  say \"x\"\n  goto b\n}\nnode b {\n  goto a\n}\n";
    let dir = TempDir::new("serve-api");
    let server = Server::start(flow, &dir.path("s.db"), ServeOptions::default()).await;
    let (status, opened) = server.open(json!({})).await;
    assert_eq!(
        (status, opened["state"].as_str()),
        (201, Some("failed")),
        "{opened}"
    );
    let id = opened["id"].as_str().unwrap();
    let token = opened["token"].as_str().unwrap();
    let (status, body) = server.say(id, token, "hi", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conversation_failed"))
    );
    server.stop().await;
}

#[tokio::test]
async fn admin_endpoints_are_off_without_a_token_and_guarded_with_one() {
    let dir = TempDir::new("serve-api");
    let server = Server::start(TWO_ASKS, &dir.path("s.db"), ServeOptions::default()).await;
    let (id, _, _) = server.open_ok().await;
    let (status, _) = server.get("/api/conversations", Some("anything")).await;
    assert_eq!(status, 404);
    let r = server
        .client
        .delete(server.url(&format!("/api/conversations/{id}")))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    server.stop().await;

    let server = Server::start(TWO_ASKS, &dir.path("s.db"), admin("sesame")).await;
    let (status, _) = server.get("/api/conversations", None).await;
    assert_eq!(status, 401);
    let (status, _) = server.get("/api/conversations", Some("sesam")).await;
    assert_eq!(status, 401);
    let mut ids = vec![id.clone()];
    for _ in 0..4 {
        ids.push(server.open_ok().await.0);
    }
    // Newest first, two per page, `after` the last id of the page before.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let query = if after.is_empty() {
            "?limit=2".to_string()
        } else {
            format!("?limit=2&after={after}")
        };
        let (status, page) = server
            .get(&format!("/api/conversations{query}"), Some("sesame"))
            .await;
        assert_eq!(status, 200, "{page}");
        for c in page["conversations"].as_array().unwrap() {
            assert_eq!(c["state"], "waiting");
            assert_eq!(c["node"], "first");
            seen.push(c["id"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => after = next.to_string(),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    let (status, _) = server
        .get("/api/conversations?limit=0", Some("sesame"))
        .await;
    assert_eq!(status, 422);
    let (status, _) = server
        .get("/api/conversations?limit=lots", Some("sesame"))
        .await;
    assert_eq!(status, 422);

    // The admin reads any conversation and its transcript, and erases it.
    let (status, view) = server
        .get(&format!("/api/conversations/{id}"), Some("sesame"))
        .await;
    assert_eq!((status, view["id"].as_str()), (200, Some(id.as_str())));
    let (status, transcript) = server
        .get(
            &format!("/api/conversations/{id}/transcript"),
            Some("sesame"),
        )
        .await;
    assert_eq!(
        (status, transcript["turns"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let delete = |token: &'static str| {
        server
            .client
            .delete(server.url(&format!("/api/conversations/{id}")))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(delete("wrong").await.unwrap().status(), 401);
    let (status, body) = crate::serve::support::read(delete("sesame").await.unwrap()).await;
    assert_eq!((status, body["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(delete("sesame").await.unwrap().status(), 404);
    let (status, _) = server
        .get(
            &format!("/api/conversations/{id}/transcript"),
            Some("sesame"),
        )
        .await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn health_metrics_and_the_openapi_file() {
    let dir = TempDir::new("serve-api");
    let server = Server::start(TWO_ASKS, &dir.path("s.db"), ServeOptions::default()).await;
    let (id, token, _) = server.open_ok().await;
    server.say(&id, &token, "Ann", None).await;
    server.say(&id, &token, "Oslo", None).await;
    server.open_ok().await;
    let (status, health) = server.get("/healthz", None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("chatflow_turns_total 4"), "{metrics}");
    assert!(
        metrics.contains("chatflow_conversations{state=\"waiting\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("chatflow_conversations{state=\"closed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("chatflow_turn_duration_seconds_count 4"),
        "{metrics}"
    );

    // The OpenAPI file names exactly the routes the server has, and each answers.
    let (status, spec) = server.get("/api/openapi.json", None).await;
    assert_eq!(status, 200);
    let mut documented = Vec::new();
    for (path, ops) in spec["paths"].as_object().expect("paths") {
        for method in ops
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
        {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut routes: Vec<(String, String)> = chatflow::serve::http::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    routes.sort();
    assert_eq!(documented, routes);
    for (method, path) in &routes {
        let url = server.url(&path.replace("{id}", &id));
        let r = server
            .client
            .request(method.parse().unwrap(), url)
            .send()
            .await
            .unwrap();
        let (_, body) = crate::serve::support::read(r).await;
        assert_ne!(
            body["error"]["message"], "no such endpoint",
            "{method} {path}"
        );
    }
    server.stop().await;
}

//! Item 9: only `CHATFLOW_SECRET_NAME` variables and a `--secrets` file are secrets; any other
//! environment variable is not, so `{secret.HOME}` sends nothing.

use crate::support::*;

fn flow(server: &Server, name: &str) -> String {
    format!(
        "api leak {{\n  live\n  internal\n  get \"{}/x\"\n  header \"X-Value\" = \"{{secret.{name}}}\"\n}}\nnode a {{\n  call leak\n  close\n}}\n",
        server.base()
    )
}

async fn call(path: String, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = bin();
        cmd.args(["call", &path, "leak"]).args(&args);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        run_with(&mut cmd, "")
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn ordinary_environment_variables_are_not_secrets() {
    let server = Server::json(200, "{}").await;
    for name in ["HOME", "PATH", "LEAK_ME"] {
        let path = file(&format!("env_{name}"), &flow(&server, name));
        let out = call(
            path,
            &[("HOME", "/home/victim"), ("LEAK_ME", "plain-env-value")],
            &[],
        )
        .await;
        assert!(
            stdout(&out).contains("missing_secret"),
            "{name}: {}",
            stdout(&out)
        );
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[tokio::test]
async fn prefixed_variables_and_the_secrets_file_are() {
    let server = Server::json(200, "{}").await;
    let path = file("env_prefixed", &flow(&server, "API_KEY"));
    let out = call(
        path.clone(),
        &[("CHATFLOW_SECRET_API_KEY", "from-env-1234")],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let secrets = dir("secrets_file").join("prod.env");
    std::fs::write(&secrets, "# prod\nAPI_KEY=\"from-file-5678\"\n").unwrap();
    let secrets = secrets.to_string_lossy().into_owned();
    let out = call(
        path,
        &[("CHATFLOW_SECRET_API_KEY", "from-env-1234")],
        &["--secrets", &secrets],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let values: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("x-value").unwrap_or("").to_string())
        .collect();
    assert_eq!(values, ["from-env-1234", "from-file-5678"]);
    // Shown masked.
    assert!(!stdout(&out).contains("from-file-5678"));
}

#[test]
fn a_bad_secrets_file_is_a_usage_error() {
    let path = file(
        "bad_secrets_flow",
        "api a {\n  get \"https://x.test/\"\n}\nnode n { call a; close }\n",
    );
    let secrets = dir("bad_secrets").join("bad.env");
    std::fs::write(&secrets, "not a pair\n").unwrap();
    let out = run(
        &["call", &path, "a", "--secrets", &secrets.to_string_lossy()],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

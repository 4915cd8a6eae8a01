//! TLS to PostgreSQL (`sslmode` and `sslrootcert` in the `--store` URL), against the test
//! cluster, which accepts TLS with a certificate for `db.chatflow.test` and `127.0.0.1` signed
//! by a CA made for it ([`super::pg`]).

use chatflow::store::Store;

/// The test database's URL with `params` added, and its name; `None` when the PostgreSQL
/// suite is skipped.
async fn url_with(params: &str) -> Option<(String, String)> {
    let url = super::pg::database().await?;
    let name = url.rsplit('/').next().unwrap_or_default().to_string();
    Some((format!("{url}?{params}"), name))
}

fn ca() -> String {
    let cluster = super::pg::cluster().expect("the cluster runs");
    cluster.ca.to_string_lossy().into_owned()
}

/// Whether the server sees every session on database `name` (besides the asking one) over
/// TLS, and how many there are.
async fn sessions_over_tls(name: &str) -> (i64, bool) {
    let port = super::pg::cluster().expect("the cluster runs").port;
    let admin = format!("postgres://chatflow@127.0.0.1:{port}/postgres");
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT COUNT(*), COALESCE(bool_and(s.ssl), false)
             FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
             WHERE a.datname = $1",
            &[&name],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_full_stores_over_tls_to_the_certified_host() {
    let Some((url, name)) = url_with(&format!("sslmode=verify-full&sslrootcert={}", ca())).await
    else {
        return;
    };
    let store = Store::open(&url).await.expect("opens over verified TLS");
    store.ping().await.unwrap();
    let (sessions, all_tls) = sessions_over_tls(&name).await;
    assert!(sessions >= 1, "the store keeps a pooled session");
    assert!(all_tls, "the store's sessions are not encrypted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_full_refuses_a_certificate_for_another_host_and_verify_ca_takes_it() {
    let Some((url, _)) = url_with("").await else {
        return;
    };
    // The same server reached by a name its certificate does not carry.
    let port = super::pg::cluster().expect("the cluster runs").port;
    let other = url.replace(
        &format!("127.0.0.1:{port}"),
        &format!("other.chatflow.test:{port}"),
    );
    let other = format!("{other}hostaddr=127.0.0.1&sslrootcert={}", ca());
    let refused = Store::open(&format!("{other}&sslmode=verify-full"))
        .await
        .err()
        .expect("verify-full connected to a host its certificate does not name");
    assert!(
        refused.to_string().contains("not valid for name"),
        "refused for another reason: {refused}"
    );
    Store::open(&format!("{other}&sslmode=verify-ca"))
        .await
        .expect("verify-ca checks the chain, not the name");
    // The right name, through the same address: taken.
    let named = other.replace("other.chatflow.test", super::pg::TLS_HOST);
    Store::open(&format!("{named}&sslmode=verify-full"))
        .await
        .expect("verify-full takes the certified name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_certificate_from_an_unknown_ca_is_refused_unless_only_encryption_is_asked() {
    let Some((url, name)) = url_with("sslmode=verify-full").await else {
        return;
    };
    // The system's roots do not include the test CA.
    let refused = Store::open(&url)
        .await
        .err()
        .expect("verify-full took a certificate from a CA the system does not trust");
    let text = refused.to_string();
    assert!(
        text.contains("UnknownIssuer") || text.contains("no root certificates"),
        "refused for another reason: {text}"
    );
    let store = Store::open(&url.replace("verify-full", "require"))
        .await
        .expect("require encrypts without checking the certificate, as libpq does");
    let (_, all_tls) = sessions_over_tls(&name).await;
    assert!(all_tls, "require did not encrypt");
    drop(store);
}

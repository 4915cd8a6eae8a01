//! The API Connector over TLS, against a loopback HTTPS API whose certificate a test CA signed.
//! The connector verifies certificates with the platform's verifier, which on Linux reads the
//! system's roots and `SSL_CERT_FILE`: the `chatflow` binary is run with and without the test
//! CA there. When the API offers HTTP/2 (ALPN), the call is made over it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::serve::support::TempDir;

/// A loopback HTTPS API: each answer names the HTTP version the request came over.
struct TlsApi {
    addr: SocketAddr,
    /// The PEM certificate of the CA that signed the server's certificate.
    ca: PathBuf,
    /// The HTTP version of every request that reached the API.
    seen: Arc<Mutex<Vec<String>>>,
}

/// Starts the API with a certificate for `127.0.0.1` (the test PostgreSQL cluster's kind, from
/// a CA of its own made in `dir`); `alpn` is what it offers.
async fn tls_api(dir: &Path, alpn: &[&[u8]]) -> TlsApi {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let ca_path = crate::serve::pg::write_certificates(dir, None).unwrap();
    let cert = CertificateDer::from_pem_file(dir.join("server.crt")).unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), recorded.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
                    let version = format!("{:?}", req.version());
                    seen.lock().unwrap().push(version.clone());
                    let body = serde_json::json!({ "version": version }).to_string();
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(body),
                        )))
                    }
                });
                let io = TokioIo::new(tls);
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                }
            });
        }
    });
    TlsApi {
        addr,
        ca: ca_path,
        seen,
    }
}

/// `chatflow call` on a flow whose API is the HTTPS one, with `SSL_CERT_FILE` set to
/// `trusted` (or unset): its standard output.
async fn call(api: &TlsApi, dir: &Path, trusted: Option<&Path>) -> (bool, String) {
    let flow = dir.join("tls.flow");
    std::fs::write(
        &flow,
        format!(
            "api secure {{\n  live\n  internal\n  get \"https://{}/hello\"\n  save version = body.version\n}}\nnode start {{\n  call secure\n  close\n}}\n",
            api.addr
        ),
    )
    .unwrap();
    let trusted = trusted.map(Path::to_path_buf);
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chatflow"));
        command
            .args(["call", &flow.to_string_lossy(), "secure"])
            .env_remove("SSL_CERT_DIR");
        match trusted {
            Some(ca) => command.env("SSL_CERT_FILE", ca),
            None => command.env_remove("SSL_CERT_FILE"),
        };
        command.output().unwrap()
    })
    .await
    .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_api_is_called_over_http2_when_its_certificate_is_trusted() {
    let dir = TempDir::new("tls-api");
    let dir = dir.0.as_path();
    let api = tls_api(dir, &[b"h2", b"http/1.1"]).await;
    let (ok, out) = call(&api, dir, Some(&api.ca)).await;
    assert!(ok, "{out}");
    assert!(out.contains("status: 200 in "), "{out}");
    assert!(out.contains("save version = \"HTTP/2.0\"\n"), "{out}");
    assert_eq!(*api.seen.lock().unwrap(), ["HTTP/2.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_api_without_http2_is_called_over_http1() {
    let dir = TempDir::new("tls-api");
    let dir = dir.0.as_path();
    let api = tls_api(dir, &[b"http/1.1"]).await;
    let (ok, out) = call(&api, dir, Some(&api.ca)).await;
    assert!(ok, "{out}");
    assert!(out.contains("save version = \"HTTP/1.1\"\n"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_the_system_does_not_trust_fails_the_call_before_any_request() {
    let dir = TempDir::new("tls-api");
    let dir = dir.0.as_path();
    let api = tls_api(dir, &[b"h2", b"http/1.1"]).await;
    // Another CA's certificate in place of the one that signed the API's: still untrusted.
    let other_dir = dir.join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = tls_api(&other_dir, &[b"h2"]).await;
    for trusted in [None, Some(other.ca.as_path())] {
        let (ok, out) = call(&api, dir, trusted).await;
        assert!(!ok, "{trusted:?}: {out}");
        assert!(
            out.contains("status: 0, no response (connect)"),
            "{trusted:?}: {out}"
        );
    }
    assert!(api.seen.lock().unwrap().is_empty(), "a request got through");
}

//! A throwaway PostgreSQL cluster for the PostgreSQL half of the store suite.
//!
//! One cluster per test binary, started on first use: `initdb` and `pg_ctl` (from PATH or
//! Debian's `/usr/lib/postgresql/*/bin`), a temporary directory, a free loopback port, trust
//! authentication for a `chatflow` superuser on loopback only, and `fsync=off` (a test cluster
//! needs no durability against power loss; a killed *client* is what the tests look at). It
//! accepts TLS too (`ssl=on`) with a certificate signed by a CA made for it ([`Cluster::ca`]);
//! clients without TLS are served as before.
//! `initdb` refuses to run as root, so under root the cluster runs as the `postgres` user
//! (Debian's package creates it) or else `nobody`. Each test gets a database of its own.
//!
//! A watchdog shell started with the cluster stops it (SIGQUIT, an immediate shutdown) and
//! removes the directory once this test process is gone, however it ends: Rust runs no
//! destructors for statics.
//!
//! Without the binaries the PostgreSQL tests are skipped with a line on stderr; under
//! `CI=true` that is a failure. `./test.sh` installs Debian's `postgresql` when missing.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// A running cluster.
pub struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    /// The PEM certificate of the test CA that signed the server's certificate (for
    /// `sslrootcert`); the certificate names `db.chatflow.test` and `127.0.0.1`.
    pub ca: PathBuf,
}

/// The host names in the server's certificate, besides `127.0.0.1`.
pub const TLS_HOST: &str = "db.chatflow.test";

/// A CA and a server certificate it signed, written into `dir` as `ca.crt`, `server.crt` and
/// `server.key` (the key readable by `owner`, or this user, only, as PostgreSQL demands); the
/// CA certificate's path. The HTTPS test API (`tls_api.rs`) serves the same kind of pair.
pub fn write_certificates(dir: &Path, owner: Option<(u32, u32)>) -> Result<PathBuf, String> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::os::unix::fs::PermissionsExt;
    let fail = |e: rcgen::Error| format!("test certificates: {e}");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "chatflow test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(fail)?)
        .map_err(fail)?;
    let server_key = KeyPair::generate().map_err(fail)?;
    let server = CertificateParams::new(vec![TLS_HOST.to_string(), "127.0.0.1".to_string()])
        .map_err(fail)?
        .signed_by(&server_key, &ca)
        .map_err(fail)?;
    let write = |name: &str, text: String, mode: u32| -> Result<PathBuf, String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{name}: {e}"))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{name}: {e}"))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                .map_err(|e| format!("chown {name}: {e}"))?;
        }
        Ok(path)
    };
    write("server.crt", server.pem(), 0o644)?;
    write("server.key", server_key.serialize_pem(), 0o600)?;
    write("ca.crt", ca.pem(), 0o644)
}

/// Where `initdb` and `pg_ctl` are: PATH first, then the newest Debian install.
fn server_bin_dir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_both(d)) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The unprivileged user to run the cluster as when this process is root.
fn cluster_user() -> Option<(String, u32, u32)> {
    for name in ["postgres", "nobody"] {
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id").args([flag, name]).output().ok()?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        if let (Some(uid), Some(gid)) = (id("-u"), id("-g")) {
            return Some((name.to_string(), uid, gid));
        }
    }
    None
}

/// `program args` as the cluster's user.
fn command_as(user: Option<&str>, program: &Path, args: &[&str]) -> Command {
    match user {
        Some(user) => {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", user, "--"]).arg(program).args(args);
            cmd
        }
        None => {
            let mut cmd = Command::new(program);
            cmd.args(args);
            cmd
        }
    }
}

fn run(mut cmd: Command, what: &str, cwd: &Path) -> Result<(), String> {
    let out = cmd
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start_cluster(bin: &Path) -> Result<Cluster, String> {
    let dir = std::env::temp_dir().join(format!("chatflow-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("temp dir: {e}"))?;
    let (user, owner) = if is_root() {
        let (name, uid, gid) =
            cluster_user().ok_or("running as root, and no `postgres` or `nobody` user")?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown {}: {e}", dir.display()))?;
        (Some(name), Some((uid, gid)))
    } else {
        (None, None)
    };
    let ca = write_certificates(&dir, owner)?;
    let data = dir.join("data");
    let data_s = data.to_string_lossy().into_owned();
    run(
        command_as(
            user.as_deref(),
            &bin.join("initdb"),
            &[
                "-D",
                &data_s,
                "-U",
                "chatflow",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        ),
        "initdb",
        &dir,
    )?;
    // The watchdog first, so the directory goes even if the start fails half way.
    watchdog(&dir, &data)?;
    let port = free_port();
    let options = format!(
        "-p {port} -k {0} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB \
         -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
        dir.display()
    );
    let log = dir.join("log").to_string_lossy().into_owned();
    run(
        command_as(
            user.as_deref(),
            &bin.join("pg_ctl"),
            &[
                "-D", &data_s, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
            ],
        ),
        "pg_ctl start",
        &dir,
    )
    .map_err(|e| {
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        format!("{e}\nserver log:\n{log}")
    })?;
    Ok(Cluster { port, dir, ca })
}

/// Stops the cluster and removes `dir` once this process has exited.
fn watchdog(dir: &Path, data: &Path) -> Result<(), String> {
    let script = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 1; done
        if [ -f "$3/postmaster.pid" ]; then
          pid=$(head -n 1 "$3/postmaster.pid")
          kill -QUIT "$pid" 2>/dev/null
          for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -rf "$2"
    "#;
    Command::new("sh")
        .args(["-c", script, "watchdog"])
        .arg(std::process::id().to_string())
        .arg(dir)
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("watchdog: {e}"))
}

/// The cluster of this test process, started on first use; `None` (after saying why) when
/// PostgreSQL's server programs are missing.
pub fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            let Some(bin) = server_bin_dir() else {
                skip("initdb and pg_ctl not found");
                return None;
            };
            match start_cluster(&bin) {
                Ok(c) => Some(c),
                Err(e) => panic!("cannot start a PostgreSQL cluster: {e}"),
            }
        })
        .as_ref()
}

fn skip(why: &str) {
    let line = format!(
        "skipped: PostgreSQL store suite: {why} (install Debian's postgresql, or run ./test.sh)"
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{line}; under CI=true every suite must run"
    );
    // Straight to the stderr handle: the harness captures `eprintln!`.
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A new, empty database in the cluster; its URL. `None` when the suite is skipped.
pub async fn database() -> Option<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let cluster = cluster()?;
    let name = format!("t{}", N.fetch_add(1, Ordering::Relaxed));
    let admin = format!("postgres://chatflow@127.0.0.1:{}/postgres", cluster.port);
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("connect to the test cluster");
    let connection = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    drop(client);
    let _ = connection.await;
    Some(format!(
        "postgres://chatflow@127.0.0.1:{}/{name}",
        cluster.port
    ))
}

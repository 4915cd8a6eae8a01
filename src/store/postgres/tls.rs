//! TLS to PostgreSQL with rustls (no system OpenSSL), chosen by libpq's URL parameters.
//!
//! tokio-postgres reads `sslmode=disable|prefer|require` only; the verifying modes and the root
//! certificates are read here and taken out of the URL before it is parsed:
//! - no `sslmode`, or `disable`: plain TCP (chatflow's default, unlike libpq's `prefer`: the
//!   database is expected on loopback or a private network unless the URL asks for TLS);
//! - `prefer` and `require`: TLS (`prefer` falls back to plain TCP when the server has no TLS);
//!   the certificate is checked only when `sslrootcert` names the roots, as libpq does — without
//!   it the link is encrypted but the server is not authenticated;
//! - `verify-ca`: the certificate must chain to a trusted root; the host name is not checked;
//! - `verify-full`: the certificate must chain to a trusted root and name the host.
//!
//! The trusted roots are `sslrootcert=PATH` (PEM certificates), or the system's
//! (`sslrootcert=system`, and the default of the verifying modes).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;

/// What the URL's `sslmode` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it.
    Prefer,
    /// TLS or no connection.
    Require,
    /// TLS to a server whose certificate chains to a trusted root.
    VerifyCa,
    /// TLS to a server whose certificate chains to a trusted root and names the host.
    VerifyFull,
}

/// The TLS settings of a URL, and the URL without the parameters tokio-postgres does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The URL for tokio-postgres: `sslmode` is `disable`, `prefer` or `require`.
    pub url: String,
    /// The mode asked.
    pub mode: Mode,
    /// `sslrootcert`: a PEM file, or `None` for the system's roots.
    pub root_cert: Option<PathBuf>,
}

/// Reads `sslmode` and `sslrootcert` out of `url`.
pub fn settings(url: &str) -> Result<Settings, StoreError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let mut mode = Mode::Disable;
    let mut root_cert = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| StoreError::Spec(format!("the URL's `{key}` is not UTF-8")))?;
        match key {
            "sslmode" => {
                mode = match &*value {
                    "disable" => Mode::Disable,
                    "prefer" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(StoreError::Spec(format!(
                            "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                        )))
                    }
                }
            }
            "sslrootcert" if value == "system" => root_cert = None,
            "sslrootcert" => root_cert = Some(PathBuf::from(&*value)),
            _ => kept.push(pair),
        }
    }
    let sslmode = match mode {
        Mode::Disable => "disable",
        Mode::Prefer => "prefer",
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => "require",
    };
    kept.push(match sslmode {
        "disable" => "sslmode=disable",
        "prefer" => "sslmode=prefer",
        _ => "sslmode=require",
    });
    Ok(Settings {
        url: format!("{base}?{}", kept.join("&")),
        mode,
        root_cert,
    })
}

impl Settings {
    /// The tokio-postgres mode this maps to.
    pub fn ssl_mode(&self) -> SslMode {
        match self.mode {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        }
    }

    /// The rustls connector for these settings; `None` for plain TCP.
    pub fn connector(&self) -> Result<Option<MakeRustlsConnect>, StoreError> {
        if self.mode == Mode::Disable {
            return Ok(None);
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Spec(format!("TLS: {e}")))?;
        let checks_chain =
            matches!(self.mode, Mode::VerifyCa | Mode::VerifyFull) || self.root_cert.is_some();
        let config = if checks_chain {
            let roots = Arc::new(self.roots()?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
                .build()
                .map_err(|e| StoreError::Spec(format!("TLS: {e}")))?;
            if self.mode == Mode::VerifyFull {
                builder.with_webpki_verifier(webpki)
            } else {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyName {
                        chain: Some(webpki),
                        provider,
                    }))
            }
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyName {
                    chain: None,
                    provider,
                }))
        }
        .with_no_client_auth();
        Ok(Some(MakeRustlsConnect::new(config)))
    }

    fn roots(&self) -> Result<RootCertStore, StoreError> {
        let mut roots = RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| {
                        StoreError::Spec(format!("sslrootcert {}: {e}", path.display()))
                    })?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(StoreError::Spec(format!(
                        "sslrootcert {}: no certificate in it",
                        path.display()
                    )));
                }
            }
            None => {
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
                if roots.is_empty() {
                    return Err(StoreError::Spec(
                        "TLS: the system has no root certificates; name them with sslrootcert=PATH"
                            .into(),
                    ));
                }
            }
        }
        Ok(roots)
    }
}

/// The modes that do not check the host name, as in libpq:
/// - `verify-ca` (and `require` with `sslrootcert`): the chain is checked (`chain`);
/// - `prefer` and `require` without `sslrootcert` (`chain` is `None`): any certificate is taken,
///   so the link is encrypted but the server not authenticated.
///
/// Either way the handshake's signatures are checked against the certificate, with the
/// provider's algorithms (what the chain's verifier would use).
#[derive(Debug)]
struct AnyName {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifying_modes_become_require_and_leave_the_rest_of_the_url() {
        let s = settings(
            "postgres://u@db:5432/x?connect_timeout=5&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(s.mode, Mode::VerifyFull);
        assert_eq!(s.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(
            s.url,
            "postgres://u@db:5432/x?connect_timeout=5&sslmode=require"
        );
        let s = settings("postgres://u@db/x").unwrap();
        assert_eq!(s.mode, Mode::Disable);
        assert_eq!(s.url, "postgres://u@db/x?sslmode=disable");
        let s = settings("postgres://u@db/x?sslmode=verify-ca&sslrootcert=system").unwrap();
        assert_eq!((s.mode, s.root_cert), (Mode::VerifyCa, None));
    }

    #[test]
    fn an_unknown_mode_is_refused_with_the_known_ones() {
        let e = settings("postgres://u@db/x?sslmode=allow").unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
    }
}

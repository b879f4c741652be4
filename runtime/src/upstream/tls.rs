//! TLS of the connection to the upstream API: a CA to trust instead of the
//! system's roots, a client certificate (mutual TLS), and the two switches
//! that weaken verification. From the descriptor's `tls` section (paths
//! already rendered) with the operator's flags over it; files are read and
//! checked at start-up, so a bad one stops the server with its name.

use super::error::ConfigError;
use mcpgen_contract as contract;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Start-up TLS settings (`--upstream-ca-cert`, `--upstream-client-cert`,
/// `--upstream-client-key`, `--upstream-insecure`,
/// `--upstream-accept-invalid-hostnames`): each replaces the descriptor's
/// value; the switches can only turn a weakening on.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TlsOverrides {
    /// PEM file of the CA certificate(s) to trust instead of the system's roots.
    pub ca_cert: Option<PathBuf>,
    /// PEM file of the client certificate (chain); may also hold the key.
    pub client_cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate (no verification at all).
    pub insecure: bool,
    /// Accept a certificate signed by the CA for another host name.
    pub accept_invalid_hostnames: bool,
}

impl TlsOverrides {
    pub(crate) fn any_set(&self) -> bool {
        self.ca_cert.is_some()
            || self.client_cert.is_some()
            || self.client_key.is_some()
            || self.insecure
            || self.accept_invalid_hostnames
    }
}

/// The descriptor's `tls` with its paths rendered (`{{ env.NAME }}`).
pub(super) type SpecTls = contract::Tls;

/// What the clients are built with.
#[derive(Default)]
pub(super) struct TlsSettings {
    ca: Option<(PathBuf, Vec<CertificateDer<'static>>)>,
    identity: Option<Identity>,
    verify: bool,
    accept_invalid_hostnames: bool,
}

/// A client certificate chain and its key (reqwest's `Identity::from_pem`).
struct Identity {
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TlsSettings {
    pub(super) fn resolve(
        spec: Option<&SpecTls>,
        o: &TlsOverrides,
    ) -> Result<TlsSettings, ConfigError> {
        let spec = spec.cloned().unwrap_or_default();
        let path = |flag: &Option<PathBuf>, spec: Option<String>| {
            flag.clone().or_else(|| spec.map(PathBuf::from))
        };
        let ca_path = path(&o.ca_cert, spec.ca_cert);
        let cert_path = path(&o.client_cert, spec.client_cert);
        let key_path = path(&o.client_key, spec.client_key);
        let verify = !o.insecure && spec.verify.unwrap_or(true);
        let accept_invalid_hostnames = o.accept_invalid_hostnames || spec.accept_invalid_hostnames;
        let ca = match ca_path {
            Some(p) => {
                let certs = read_ca(&p)?;
                Some((p, certs))
            }
            None => None,
        };
        if accept_invalid_hostnames && verify && ca.is_none() {
            return Err(ConfigError::Tls(
                "accepting invalid host names needs a CA (--upstream-ca-cert or tls.caCert): only certificates that CA signed are then accepted for any host name".into(),
            ));
        }
        let identity = match (cert_path, key_path) {
            (Some(cert), key) => Some(read_identity(&cert, key.as_deref())?),
            (None, Some(key)) => {
                return Err(ConfigError::Tls(format!(
                    "a client key ({}) was given without a client certificate (--upstream-client-cert or tls.clientCert)",
                    key.display()
                )));
            }
            (None, None) => None,
        };
        Ok(TlsSettings {
            ca,
            identity,
            verify,
            accept_invalid_hostnames,
        })
    }

    /// The one rustls config of both upstream clients (reqwest's and
    /// `direct`'s): what reqwest 0.13 builds from the same settings (its
    /// crypto provider, TLS 1.2 and 1.3, its verifiers, ALPN `http/1.1`
    /// since neither client speaks HTTP/2).
    pub(super) fn client_config(&self) -> Result<Arc<ClientConfig>, ConfigError> {
        let provider = CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let algorithms = provider.signature_verification_algorithms;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .map_err(|e| ConfigError::Tls(format!("no usable TLS version: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match (&self.ca, self.verify) {
            (_, false) => Arc::new(NoVerifier),
            (Some((path, certs)), true) => {
                let roots = Arc::new(roots(path, certs)?);
                if self.accept_invalid_hostnames {
                    Arc::new(IgnoreHostname { roots, algorithms })
                } else {
                    WebPkiServerVerifier::builder_with_provider(roots, provider)
                        .build()
                        .map_err(|e| file_error(path, "CA certificate", &e.to_string()))?
                }
            }
            (None, true) => Arc::new(
                rustls_platform_verifier::Verifier::new(provider)
                    .map_err(|e| ConfigError::Tls(format!("the system's TLS roots: {e}")))?,
            ),
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match &self.identity {
            Some(id) => builder
                .with_client_auth_cert(id.certs.clone(), id.key.clone_key())
                .map_err(|e| {
                    ConfigError::Tls(format!(
                        "the client certificate and key do not work together: {e}"
                    ))
                })?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// What to say on stderr at every start-up: weakened verification.
    pub(super) fn warnings(&self) -> Vec<String> {
        let mut out = vec![];
        if !self.verify {
            out.push("WARNING: upstream TLS certificate verification is OFF (--upstream-insecure or tls.verify: false): any server can pose as the upstream API and read its credentials. Use this only against a test server.".to_owned());
        } else if self.accept_invalid_hostnames {
            out.push("WARNING: upstream TLS host names are NOT checked (--upstream-accept-invalid-hostnames or tls.acceptInvalidHostnames): any certificate the CA signed is accepted for the upstream API.".to_owned());
        }
        out
    }
}

fn file_error(path: &Path, what: &'static str, reason: &str) -> ConfigError {
    ConfigError::TlsFile {
        file: path.display().to_string(),
        what,
        reason: reason.to_owned(),
    }
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| file_error(path, what, &format!("cannot read it: {e}")))
}

fn read_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    const WHAT: &str = "CA certificate";
    let pem = read(path, WHAT)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| file_error(path, WHAT, "invalid certificate encoding"))?;
    if certs.is_empty() {
        return Err(file_error(
            path,
            WHAT,
            "it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)",
        ));
    }
    Ok(certs)
}

/// The trust store of `certs`; a certificate that is not one is the file's
/// error.
fn roots(path: &Path, certs: &[CertificateDer<'static>]) -> Result<RootCertStore, ConfigError> {
    let mut roots = RootCertStore::empty();
    for c in certs {
        roots
            .add(c.clone())
            .map_err(|e| file_error(path, "CA certificate", &e.to_string()))?;
    }
    Ok(roots)
}

fn read_identity(cert: &Path, key: Option<&Path>) -> Result<Identity, ConfigError> {
    const CERT: &str = "client certificate";
    const KEY: &str = "client key";
    let cert_pem = read(cert, CERT)?;
    if !contains(&cert_pem, b"-----BEGIN CERTIFICATE-----") {
        return Err(file_error(
            cert,
            CERT,
            "it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)",
        ));
    }
    let mut pem = cert_pem;
    let (key_file, key_what) = match key {
        Some(k) => {
            let key_pem = read(k, KEY)?;
            if !contains(&key_pem, b"PRIVATE KEY-----") {
                return Err(file_error(
                    k,
                    KEY,
                    "it holds no PEM private key (`-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`)",
                ));
            }
            pem.push(b'\n');
            pem.extend_from_slice(&key_pem);
            (k, KEY)
        }
        None if contains(&pem, b"PRIVATE KEY-----") => (cert, CERT),
        None => {
            return Err(file_error(
                cert,
                CERT,
                "it holds no private key, and no client key was given (--upstream-client-key or tls.clientKey)",
            ));
        }
    };
    identity(&pem).map_err(|e| {
        let reason = format!("{e} (with the certificate in {})", cert.display());
        file_error(key_file, key_what, &reason)
    })
}

/// The certificates and last private key of a PEM text, as reqwest's
/// `Identity::from_pem` reads them (with its error texts).
fn identity(pem: &[u8]) -> Result<Identity, &'static str> {
    let mut keys = vec![];
    let mut certs = vec![];
    let mut rest = pem;
    loop {
        match rustls::pki_types::pem::from_buf(&mut rest) {
            Ok(Some((kind, der))) => match kind {
                SectionKind::Certificate => certs.push(der.into()),
                SectionKind::PrivateKey => keys.push(PrivateKeyDer::Pkcs8(der.into())),
                SectionKind::RsaPrivateKey => keys.push(PrivateKeyDer::Pkcs1(der.into())),
                SectionKind::EcPrivateKey => keys.push(PrivateKeyDer::Sec1(der.into())),
                _ => return Err("No valid certificate was found"),
            },
            Ok(None) => break,
            Err(_) => return Err("Invalid identity PEM file"),
        }
    }
    match (keys.pop(), certs.is_empty()) {
        (Some(key), false) => Ok(Identity { certs, key }),
        _ => Err("private key or certificate not found"),
    }
}

/// `--upstream-insecure`: every certificate accepted (reqwest's
/// `NoVerifier`, its schemes included).
#[derive(Debug)]
struct NoVerifier;

impl ServerCertVerifier for NoVerifier {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        use SignatureScheme::*;
        vec![
            RSA_PKCS1_SHA1,
            ECDSA_SHA1_Legacy,
            RSA_PKCS1_SHA256,
            ECDSA_NISTP256_SHA256,
            RSA_PKCS1_SHA384,
            ECDSA_NISTP384_SHA384,
            RSA_PKCS1_SHA512,
            ECDSA_NISTP521_SHA512,
            RSA_PSS_SHA256,
            RSA_PSS_SHA384,
            RSA_PSS_SHA512,
            ED25519,
            ED448,
        ]
    }
}

/// `--upstream-accept-invalid-hostnames`: a chain the CA signed, for any
/// host name (reqwest's `IgnoreHostname`).
#[derive(Debug)]
struct IgnoreHostname {
    roots: Arc<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for IgnoreHostname {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An error with its sources: reqwest's own says only "builder error".
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weakened_verification_is_warned_about_and_default_tls_is_not() {
        let quiet = TlsSettings::resolve(None, &TlsOverrides::default()).unwrap();
        assert!(quiet.warnings().is_empty());
        let insecure = TlsOverrides {
            insecure: true,
            ..TlsOverrides::default()
        };
        let w = TlsSettings::resolve(None, &insecure).unwrap().warnings();
        assert!(
            w.len() == 1 && w[0].contains("verification is OFF"),
            "{w:?}"
        );
        let spec = SpecTls {
            verify: Some(false),
            ..SpecTls::default()
        };
        let w = TlsSettings::resolve(Some(&spec), &TlsOverrides::default())
            .unwrap()
            .warnings();
        assert!(w.len() == 1 && w[0].starts_with("WARNING"), "{w:?}");
    }
}

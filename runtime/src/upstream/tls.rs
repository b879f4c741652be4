//! TLS of the connection to the upstream API: a CA to trust instead of the
//! system's roots, a client certificate (mutual TLS), and the two switches
//! that weaken verification. From the descriptor's `tls` section (paths
//! already rendered) with the operator's flags over it; files are read and
//! checked at start-up, so a bad one stops the server with its name.

use super::error::ConfigError;
use mcpgen_contract as contract;
use reqwest::{Certificate, ClientBuilder, Identity};
use std::path::{Path, PathBuf};

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

/// What the client is built with.
#[derive(Default)]
pub(super) struct TlsSettings {
    ca: Option<(PathBuf, Vec<Certificate>)>,
    identity: Option<Identity>,
    verify: bool,
    accept_invalid_hostnames: bool,
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

    pub(super) fn apply(&self, mut b: ClientBuilder) -> ClientBuilder {
        if let Some((_, certs)) = &self.ca {
            b = b.tls_certs_only(certs.iter().cloned());
        }
        if let Some(id) = &self.identity {
            b = b.identity(id.clone());
        }
        if !self.verify {
            b = b.tls_danger_accept_invalid_certs(true);
        } else if self.accept_invalid_hostnames {
            b = b.tls_danger_accept_invalid_hostnames(true);
        }
        b
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

    /// Which file to blame when the client cannot be built with these
    /// settings (a certificate or key that parsed as PEM but is invalid).
    pub(super) fn blame(&self, user_agent: &str) -> Option<ConfigError> {
        let fails = |b: ClientBuilder| b.user_agent(user_agent).build().err();
        if let Some((path, certs)) = &self.ca
            && let Some(e) = fails(reqwest::Client::builder().tls_certs_only(certs.iter().cloned()))
        {
            return Some(file_error(path, "CA certificate", &chain(&e)));
        }
        if let Some(id) = &self.identity
            && let Some(e) = fails(reqwest::Client::builder().identity(id.clone()))
        {
            return Some(ConfigError::Tls(format!(
                "the client certificate and key do not work together: {}",
                chain(&e)
            )));
        }
        None
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

fn read_ca(path: &Path) -> Result<Vec<Certificate>, ConfigError> {
    const WHAT: &str = "CA certificate";
    let pem = read(path, WHAT)?;
    let certs =
        Certificate::from_pem_bundle(&pem).map_err(|e| file_error(path, WHAT, &chain(&e)))?;
    if certs.is_empty() {
        return Err(file_error(
            path,
            WHAT,
            "it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)",
        ));
    }
    Ok(certs)
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
    Identity::from_pem(&pem).map_err(|e| {
        let reason = format!("{} (with the certificate in {})", chain(&e), cert.display());
        file_error(key_file, key_what, &reason)
    })
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

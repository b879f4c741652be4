//! Upstream TLS against a real HTTPS server on 127.0.0.1 with certificates
//! made here (rcgen): a private CA, server certificates for the right and a
//! wrong host name, a client certificate for mutual TLS. And the
//! `{{ env.NAME }}` templates of the descriptor, rendered at start-up.

mod upstream_support;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::upstream::UpstreamOverrides;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use upstream_support::*;

/// A certificate and its key, as PEM and DER.
struct Pair {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

/// A CA and what it signs, written into a directory of their own.
struct Pki {
    dir: PathBuf,
    ca: Pair,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mcpgen-tls-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "mcpgen test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        let ca = Pair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
            key_der: key.serialize_der(),
        };
        let pki = Pki {
            dir,
            ca,
            issuer: Issuer::new(params, key),
        };
        pki.write("ca.pem", &pki.ca.cert_pem);
        pki
    }

    /// A leaf for `names` (IP addresses become IP SANs), server or client.
    fn leaf(&self, names: &[&str], client: bool) -> Pair {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![match client {
            true => ExtendedKeyUsagePurpose::ClientAuth,
            false => ExtendedKeyUsagePurpose::ServerAuth,
        }];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Pair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// An HTTPS server on 127.0.0.1 presenting `server`; with `client_ca`, it
/// requires a client certificate that CA signed. Answers every request with
/// `{"tenant": <X-Tenant>}`. Returns its base URL.
async fn serve(server: &Pair, client_ca: Option<&Pair>) -> String {
    serve_counting(server, client_ca).await.0
}

/// `serve`, and the count of TLS handshakes it completed.
async fn serve_counting(server: &Pair, client_ca: Option<&Pair>) -> (String, Arc<AtomicUsize>) {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.der.clone()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone()));
    let config = builder
        .with_single_cert(vec![server.der.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let count = handshakes.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                // A refused handshake is the client's error to report.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let tenant = req
                        .headers()
                        .get("x-tenant")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    let body = json!({"tenant": tenant}).to_string();
                    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
                    resp.headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    Ok::<_, Infallible>(resp)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (format!("https://127.0.0.1:{port}"), handshakes)
}

fn server_with(extra: Value) -> Server {
    single(json!({"method": "GET", "path": "/ping"}), extra)
}

fn tls_overrides(base: &str, f: impl FnOnce(&mut UpstreamOverrides)) -> UpstreamOverrides {
    let mut o = overrides(base, &[]);
    f(&mut o);
    o
}

/// A server whose upstream has the TLS overrides `f` sets.
fn server_with_tls(url: &str, f: impl FnOnce(&mut UpstreamOverrides)) -> Server {
    let server = server_with(json!({}));
    server.configure_upstream(&tls_overrides(url, f)).unwrap();
    server
}

async fn call(server: Server) -> Value {
    Mcp::start(server).await.call("op", json!({})).await
}

fn assert_ok(r: &Value) {
    assert!(!is_error(r), "expected success: {r}");
    assert_eq!(r["structuredContent"]["tenant"], json!(""), "{r}");
}

#[tokio::test]
async fn a_custom_ca_is_trusted_and_without_it_the_call_fails_clearly() {
    let pki = Pki::new();
    let url = serve(&pki.leaf(&["127.0.0.1"], false), None).await;

    let server = server_with_tls(&url, |o| o.tls.ca_cert = Some(pki.path("ca.pem")));
    assert_ok(&call(server).await);

    let server = server_with(json!({}));
    server.configure_upstream(&overrides(&url, &[])).unwrap();
    let r = call(server).await;
    assert!(is_error(&r), "{r}");
    assert!(
        text(&r).starts_with(&format!("cannot connect to {url}")),
        "{r}"
    );
    assert!(text(&r).contains("certificate"), "names the cause: {r}");
}

#[tokio::test]
async fn the_spec_tls_section_works_like_the_flags() {
    let pki = Pki::new();
    let url = serve(&pki.leaf(&["127.0.0.1"], false), None).await;
    let ca = pki.path("ca.pem").display().to_string();
    let server = server_with(json!({"tls": {"caCert": ca}}));
    server.configure_upstream(&overrides(&url, &[])).unwrap();
    assert_ok(&call(server).await);
}

#[tokio::test]
async fn mutual_tls_with_the_client_certificate_ok_without_it_refused() {
    let pki = Pki::new();
    let url = serve(&pki.leaf(&["127.0.0.1"], false), Some(&pki.ca)).await;
    let client = pki.leaf(&["mcp-client"], true);
    let cert = pki.write("client.pem", &client.cert_pem);
    let key = pki.write("client.key", &client.key_pem);

    let server = server_with_tls(&url, |o| {
        o.tls.ca_cert = Some(pki.path("ca.pem"));
        o.tls.client_cert = Some(cert.clone());
        o.tls.client_key = Some(key.clone());
    });
    assert_ok(&call(server).await);

    // One file holding certificate and key works too.
    let both = pki.write(
        "both.pem",
        &format!("{}{}", client.cert_pem, client.key_pem),
    );
    let server = server_with_tls(&url, |o| {
        o.tls.ca_cert = Some(pki.path("ca.pem"));
        o.tls.client_cert = Some(both);
    });
    assert_ok(&call(server).await);

    let server = server_with_tls(&url, |o| o.tls.ca_cert = Some(pki.path("ca.pem")));
    let r = call(server).await;
    assert!(
        is_error(&r),
        "the server requires a client certificate: {r}"
    );
    assert!(text(&r).contains("127.0.0.1"), "{r}");
}

#[tokio::test]
async fn verification_off_accepts_an_untrusted_certificate() {
    let pki = Pki::new();
    // Signed by a CA the client is never told about.
    let url = serve(&pki.leaf(&["127.0.0.1"], false), None).await;
    let server = server_with(json!({}));
    server
        .configure_upstream(&tls_overrides(&url, |o| o.tls.insecure = true))
        .unwrap();
    assert_ok(&call(server).await);

    let server = server_with(json!({"tls": {"verify": false}}));
    server.configure_upstream(&overrides(&url, &[])).unwrap();
    assert_ok(&call(server).await);
}

#[tokio::test]
async fn a_wrong_host_name_is_refused_unless_accepted() {
    let pki = Pki::new();
    let url = serve(&pki.leaf(&["api.example.test"], false), None).await;

    let server = server_with_tls(&url, |o| o.tls.ca_cert = Some(pki.path("ca.pem")));
    let r = call(server).await;
    assert!(is_error(&r), "{r}");
    assert!(text(&r).starts_with("cannot connect to"), "{r}");

    let server = server_with_tls(&url, |o| {
        o.tls.ca_cert = Some(pki.path("ca.pem"));
        o.tls.accept_invalid_hostnames = true;
    });
    assert_ok(&call(server).await);

    // Host names unchecked with the system's roots is not offered.
    let e = server_with(json!({}))
        .configure_upstream(&tls_overrides(&url, |o| {
            o.tls.accept_invalid_hostnames = true
        }))
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs a CA"), "{e}");
}

#[test]
fn unreadable_or_invalid_pem_files_are_start_up_errors_naming_the_file() {
    let pki = Pki::new();
    let client = pki.leaf(&["mcp-client"], true);
    let garbage = pki.write("garbage.pem", "not a certificate\n");
    let cert = pki.write("client.pem", &client.cert_pem);
    let key = pki.write("client.key", &client.key_pem);
    let broken = pki.write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let missing = pki.path("missing.pem");
    type Set<'a> = Box<dyn Fn(&mut UpstreamOverrides) + 'a>;
    let cases: Vec<(Set, &Path, &str)> = vec![
        (
            Box::new(|o| o.tls.ca_cert = Some(missing.clone())),
            &missing,
            "cannot read it",
        ),
        (
            Box::new(|o| o.tls.ca_cert = Some(garbage.clone())),
            &garbage,
            "no PEM certificate",
        ),
        (
            Box::new(|o| o.tls.ca_cert = Some(broken.clone())),
            &broken,
            "CA certificate",
        ),
        (
            Box::new(|o| o.tls.client_cert = Some(cert.clone())),
            &cert,
            "no private key",
        ),
        (
            Box::new(|o| {
                o.tls.client_cert = Some(cert.clone());
                o.tls.client_key = Some(garbage.clone());
            }),
            &garbage,
            "no PEM private key",
        ),
        (
            Box::new(|o| {
                o.tls.client_cert = Some(key.clone());
                o.tls.client_key = Some(key.clone());
            }),
            &key,
            "client certificate",
        ),
        (
            Box::new(|o| o.tls.client_key = Some(key.clone())),
            &key,
            "without a client certificate",
        ),
    ];
    for (set, file, says) in cases {
        let server = server_with(json!({}));
        let e = server
            .configure_upstream(&tls_overrides("https://127.0.0.1:9", set))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&file.display().to_string()),
            "names {file:?}: {e}"
        );
        assert!(e.contains(says), "{says:?} in {e}");
    }
}

#[tokio::test]
async fn env_templates_are_rendered_at_start_up() {
    let pki = Pki::new();
    let url = serve(&pki.leaf(&["127.0.0.1"], false), None).await;
    let port = url.rsplit(':').next().unwrap().to_owned();
    let dir = pki.dir.display().to_string();
    let upstream = json!({
        "baseUrl": "https://127.0.0.1:{{ env.TLS_TEST_PORT }}",
        "headers": ["X-Tenant: {{env.TLS_TEST_TENANT}}"],
        "tls": {"caCert": "{{ env.TLS_TEST_DIR }}/ca.pem"}
    });
    let env = [
        ("TLS_TEST_PORT", port.as_str()),
        ("TLS_TEST_TENANT", "acme"),
        ("TLS_TEST_DIR", dir.as_str()),
    ];

    let server = server_with(upstream.clone());
    let mut o = overrides("unused", &env);
    o.base_url = None;
    server.configure_upstream(&o).unwrap();
    let r = call(server).await;
    assert!(!is_error(&r), "{r}");
    assert_eq!(r["structuredContent"]["tenant"], "acme", "{r}");

    // An operator's --header of the same name replaces the spec's.
    let server = server_with(upstream.clone());
    let mut o2 = overrides("unused", &env);
    o2.base_url = None;
    o2.headers = vec!["x-tenant: override".into()];
    server.configure_upstream(&o2).unwrap();
    let r = call(server).await;
    assert_eq!(r["structuredContent"]["tenant"], "override", "{r}");

    // A missing variable: the server still builds (its tests run anywhere),
    // start-up refuses naming the variable and its place, and a call made
    // without start-up settings says the same instead of going out.
    let server = server_with(upstream.clone());
    let mut o3 = overrides("unused", &env[..2]);
    o3.base_url = None;
    let e = server.configure_upstream(&o3).unwrap_err().to_string();
    assert!(
        e.contains("`TLS_TEST_DIR`") && e.contains("tls.caCert"),
        "{e}"
    );
    let r = call(server_with(upstream.clone())).await;
    assert!(is_error(&r), "{r}");
    assert!(text(&r).contains("`TLS_TEST_PORT`"), "{r}");
    assert!(text(&r).contains("baseUrl"), "{r}");

    // What a flag replaces is not rendered, so its variables need not exist.
    let server = server_with(upstream);
    let mut o4 = overrides(&url, &[]);
    o4.headers = vec!["X-Tenant: flag".into()];
    o4.tls.ca_cert = Some(pki.path("ca.pem"));
    server.configure_upstream(&o4).unwrap();
    let r = call(server).await;
    assert_eq!(r["structuredContent"]["tenant"], "flag", "{r}");
}

/// A refused certificate reads as it did when reqwest made every HTTPS
/// call: with the system's roots, and with a CA that did not sign it.
#[tokio::test]
async fn a_refused_certificate_is_reported_as_reqwest_reported_it() {
    let pki = Pki::new();
    let other = Pki::new();
    let url = serve(&pki.leaf(&["127.0.0.1"], false), None).await;
    for ca in [None, Some(other.path("ca.pem"))] {
        let server = server_with_tls(&url, |o| o.tls.ca_cert = ca.clone());
        let r = call(server).await;
        let ours = text(&r);
        let mut before = reqwest::Client::builder().no_proxy();
        if let Some(ca) = &ca {
            let pem = std::fs::read(ca).unwrap();
            before = before.tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap());
        }
        let e = before.build().unwrap().get(&url).send().await.unwrap_err();
        let mut cause: &dyn std::error::Error = &e;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        assert_eq!(ours, format!("cannot connect to {url}: {cause}"));
    }
}

/// Calls over HTTPS share one pooled connection (one handshake), a client
/// certificate presented on it.
#[tokio::test]
async fn tls_connections_are_pooled() {
    let pki = Pki::new();
    let (url, handshakes) = serve_counting(&pki.leaf(&["127.0.0.1"], false), Some(&pki.ca)).await;
    let client = pki.leaf(&["mcp-client"], true);
    let cert = pki.write("client.pem", &client.cert_pem);
    let key = pki.write("client.key", &client.key_pem);
    let server = server_with_tls(&url, |o| {
        o.tls.ca_cert = Some(pki.path("ca.pem"));
        o.tls.client_cert = Some(cert);
        o.tls.client_key = Some(key);
    });
    let mcp = Mcp::start(server).await;
    for _ in 0..3 {
        assert_ok(&mcp.call("op", json!({})).await);
    }
    assert_eq!(handshakes.load(Ordering::SeqCst), 1);
}

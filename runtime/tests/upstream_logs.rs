//! Secrets never reach the logs: every upstream call of this process runs
//! under a global TRACE subscriber writing to memory, which must contain
//! none of them. A test binary of its own, because a global subscriber is
//! once per process and scoped ones miss events of concurrent tests.

mod upstream_support;

use base64::Engine;
use mcpgen_runtime::prelude::*;
use std::sync::{Arc, Mutex, OnceLock};
use upstream_support::*;

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Sink {
    static SINK: OnceLock<Sink> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = Sink::default();
        let writer = sink.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .init();
        sink
    })
}

#[tokio::test]
async fn secrets_stay_out_of_logs() {
    let sink = logs();
    let secrets = [
        ("L_KEY", "hdr-secret-1"),
        ("L_QKEY", "qry-secret-2"),
        ("L_BEARER", "bearer-secret-3"),
        ("L_USER", "bob"),
        ("L_PASSWORD", "password-secret-4"),
        ("L_CLIENT_ID", "client"),
        ("L_CLIENT_SECRET", "client-secret-5"),
    ];
    let schemes = json!({
        "hdr": {"type": "apiKey", "in": "header", "name": "X-API-Key", "env": "L_KEY"},
        "qry": {"type": "apiKey", "in": "query", "name": "api_key", "env": "L_QKEY"},
        "bearer": {"type": "http", "scheme": "bearer", "env": "L_BEARER"},
        "basic": {"type": "http", "scheme": "basic", "envUser": "L_USER", "envPassword": "L_PASSWORD"},
        "oauth": {"type": "oauth2ClientCredentials", "tokenUrl": "/token",
                  "envClientId": "L_CLIENT_ID", "envClientSecret": "L_CLIENT_SECRET"},
        "unset": {"type": "http", "scheme": "bearer", "env": "L_UNSET"}
    });
    let mut b = Server::builder(INFO).upstream(&upstream_json(json!({"securitySchemes": schemes})));
    for s in ["hdr", "qry", "bearer", "basic", "oauth", "unset"] {
        let op = json!({"method": "GET", "path": format!("/{s}"), "security": [[s]]});
        b = b.upstream_tool(&tool(s), &op.to_string());
    }
    let server = b.build().unwrap();
    let upstream = Upstream::start(|c, _| match c.path() {
        "/token" => Reply::json(200, json!({"access_token": "token-secret-6"})),
        _ => Reply::text(500, &format!("{:?} {}", c.headers, c.target)),
    })
    .await;
    configure(&server, &upstream.url, &secrets);
    let mcp = Mcp::start(server).await;
    for t in ["hdr", "qry", "bearer", "basic", "oauth", "unset"] {
        let r = mcp.call(t, json!({})).await;
        assert!(is_error(&r) && text(&r).starts_with("HTTP 500"), "{r}");
    }

    let logs = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("upstream call"),
        "the calls were logged:\n{logs}"
    );
    assert!(
        logs.contains(
            "no credentials configured for any of: unset (L_UNSET); sending without auth"
        ),
        "a missing credential is named by its variable:\n{logs}"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode("bob:password-secret-4");
    for s in [
        "secret-1", "secret-2", "secret-3", "secret-4", "secret-5", "secret-6", &basic,
    ] {
        assert!(!logs.contains(s), "{s} in logs:\n{logs}");
    }
}

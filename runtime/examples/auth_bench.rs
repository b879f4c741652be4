//! Cost of checking a JWT access token on each request, printed (never
//! asserted):
//!
//! ```sh
//! cargo run --release -p mcpgen-runtime --features auth --example auth_bench
//! ```
//!
//! The same `tools/call` over HTTP (one kept-alive connection, one
//! session) with auth off, then on: with one token for every call (after
//! the first, a look-up in the cache of verified tokens) and with a fresh
//! token per call (a full check: header, key look-up, signature, claims),
//! ES256 and ES384, keys already fetched. The difference to auth off is
//! what the check costs per call.
//! The authorization server is a small JWKS server started here; the
//! tokens are signed here. Figures are medians of 5 rounds.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use mcpgen_runtime::auth::AuthSettings;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::transport::http::{HttpConfig, serve_listener};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const ROUNDS: usize = 5;
const CALLS: usize = 2000;

/// An authorization server publishing `keys`: its issuer URL.
async fn jwks_server(keys: JwkSet) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    let meta = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")});
    let app = axum::Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            axum::routing::get(move || async move { axum::Json(meta) }),
        )
        .route(
            "/jwks",
            axum::routing::get(move || async move { axum::Json(keys) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    issuer
}

/// A signing key made here, with its public JWK (kid = the algorithm's name).
fn key(alg: Algorithm, rcgen_alg: &'static rcgen::SignatureAlgorithm) -> (EncodingKey, Jwk) {
    let pair = rcgen::KeyPair::generate_for(rcgen_alg).expect("a key");
    let der = pair.serialize_der();
    let enc = EncodingKey::from_ec_der(&der);
    let mut jwk = Jwk::from_encoding_key(&enc, alg).expect("a JWK");
    jwk.common.key_id = Some(format!("{alg:?}"));
    (enc, jwk)
}

/// `n` tokens, different by `jti`.
fn tokens(
    issuer: &str,
    resource: &str,
    alg: Algorithm,
    key: &EncodingKey,
    n: usize,
) -> Vec<String> {
    (0..n)
        .map(|i| token(issuer, resource, alg, key, i))
        .collect()
}

fn token(issuer: &str, resource: &str, alg: Algorithm, key: &EncodingKey, jti: usize) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let claims = json!({"iss": issuer, "aud": resource, "sub": "bench", "scope": "mcp", "exp": now + 3600, "iat": now, "jti": jti});
    let mut header = Header::new(alg);
    header.kid = Some(format!("{alg:?}"));
    encode(&header, &claims, key).expect("a token")
}

fn server() -> Server {
    Server::builder(r#"{"name":"bench","version":"1"}"#)
        .auth(r#"{"scopes": ["mcp"]}"#)
        .tool(
            r#"{"name":"echo","inputSchema":{"type":"object"}}"#,
            |_ctx: RequestContext, args: Value| async move { Ok(CallToolResult::structured(args)) },
        )
        .build()
        .expect("a server")
}

/// Serve `server` on a free port: its endpoint URL.
async fn serve(server: Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let pending = std::future::pending::<()>();
    tokio::spawn(
        async move { serve_listener(listener, server, HttpConfig::default(), pending).await },
    );
    url
}

/// Microseconds per `tools/call`, median of ROUNDS rounds of CALLS calls;
/// call `i` carries `tokens[i % len]` (none when empty).
async fn per_call(url: &str, tokens: &[String]) -> f64 {
    let http = reqwest::Client::new();
    let post = |body: Value, sid: Option<&str>, i: usize| {
        let mut r = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if !tokens.is_empty() {
            r = r.bearer_auth(&tokens[i % tokens.len()]);
        }
        if let Some(s) = sid {
            r = r.header("mcp-session-id", s);
        }
        r.send()
    };
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}});
    let resp = post(init, None, 0).await.expect("initialize");
    assert_eq!(resp.status(), 200, "initialize");
    let sid = resp.headers()["mcp-session-id"]
        .to_str()
        .expect("sid")
        .to_owned();
    let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    let _ = post(initialized, Some(&sid), 0).await;
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":1}}});
    let mut rounds = vec![];
    for round in 0..ROUNDS {
        let t = Instant::now();
        for i in 0..CALLS {
            let r = post(call.clone(), Some(&sid), 1 + round * CALLS + i)
                .await
                .expect("call");
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await;
        }
        rounds.push(t.elapsed().as_secs_f64() * 1e6 / CALLS as f64);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

#[tokio::main]
async fn main() {
    let (es, es_jwk) = key(Algorithm::ES256, &rcgen::PKCS_ECDSA_P256_SHA256);
    let (es3, es3_jwk) = key(Algorithm::ES384, &rcgen::PKCS_ECDSA_P384_SHA384);
    let issuer = jwks_server(JwkSet {
        keys: vec![es_jwk, es3_jwk],
    })
    .await;

    let off = per_call(&serve(server()).await, &[]).await;
    let on = server();
    let url = serve(on.clone()).await;
    let mut settings = AuthSettings::default();
    settings.issuer = Some(issuer.clone());
    settings.resource = Some(url.clone());
    on.configure_auth(settings);
    let n = 1 + ROUNDS * CALLS;
    let mut rows = vec![];
    for (name, alg, key) in [
        ("ES256", Algorithm::ES256, &es),
        ("ES384", Algorithm::ES384, &es3),
    ] {
        let one = per_call(&url, &tokens(&issuer, &url, alg, key, 1)).await;
        let fresh = per_call(&url, &tokens(&issuer, &url, alg, key, n)).await;
        rows.push((format!("{name}, one token (cached)"), one));
        rows.push((format!("{name}, a new token per call"), fresh));
    }

    println!("tools/call over HTTP, {CALLS} calls x {ROUNDS} rounds (median):");
    println!("  {:<40} {off:8.1} µs/call", "auth off");
    for (name, us) in rows {
        println!(
            "  {:<40} {us:8.1} µs/call   (+{:.1} µs, {:.2}x)",
            format!("auth on, {name}"),
            us - off,
            us / off
        );
    }
}

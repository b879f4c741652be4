//! Upstream tools, credentials: each security scheme, choosing among
//! alternatives, the OAuth2 client-credentials token cache, redaction of
//! secrets from everything the client sees (and from logs), and the rule
//! that the MCP client's Authorization header stays put unless forwarding
//! is switched on. (Logs are checked in upstream_logs.rs, which needs a
//! process of its own for its global subscriber.)

mod upstream_support;

use base64::Engine;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::transport::http::{self, HttpConfig};
use std::sync::{Arc, Mutex};
use upstream_support::*;

const KEY: &str = "k3y-Hdr/+=?&x";
const QKEY: &str = "qk3y/+ =?&#x";
const CKEY: &str = "ck3y+/cookie==";
const BEARER: &str = "bearer-token-123";
const USER: &str = "alice";
const PASSWORD: &str = "pa55:w/rd";
const CLIENT_SECRET: &str = "client-secret-xyz";

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("T_KEY", KEY),
        ("T_QKEY", QKEY),
        ("T_CKEY", CKEY),
        ("T_BEARER", BEARER),
        ("T_USER", USER),
        ("T_PASSWORD", PASSWORD),
        ("T_CLIENT_ID", "client-1"),
        ("T_CLIENT_SECRET", CLIENT_SECRET),
    ]
}

fn schemes() -> Value {
    json!({
        "hdr": {"type": "apiKey", "in": "header", "name": "X-API-Key", "env": "T_KEY"},
        "qry": {"type": "apiKey", "in": "query", "name": "api_key", "env": "T_QKEY"},
        "cki": {"type": "apiKey", "in": "cookie", "name": "token", "env": "T_CKEY"},
        "bearer": {"type": "http", "scheme": "bearer", "env": "T_BEARER"},
        "basic": {"type": "http", "scheme": "basic", "envUser": "T_USER", "envPassword": "T_PASSWORD"},
        "oauth": {"type": "oauth2ClientCredentials", "tokenUrl": "/oauth/token", "scopes": ["read", "write"],
                  "envClientId": "T_CLIENT_ID", "envClientSecret": "T_CLIENT_SECRET"}
    })
}

/// Tools named after their security requirement.
fn auth_server() -> Server {
    let tools: &[(&str, Value)] = &[
        ("hdr", json!([["hdr"]])),
        ("qry", json!([["qry"]])),
        ("cki", json!([["cki"]])),
        ("bearer", json!([["bearer"]])),
        ("basic", json!([["basic"]])),
        ("oauth", json!([["oauth"]])),
        ("bearer_or_basic", json!([["bearer"], ["basic"]])),
        ("optional_then_key", json!([[], ["hdr"]])),
        ("key_and_query", json!([["hdr", "qry"]])),
        ("none", json!([])),
    ];
    let mut b =
        Server::builder(INFO).upstream(&upstream_json(json!({"securitySchemes": schemes()})));
    for (name, security) in tools {
        let op = json!({"method": "GET", "path": format!("/echo/{name}"), "security": security});
        b = b.upstream_tool(&tool(name), &op.to_string());
    }
    b.build().unwrap()
}

/// httpbin-style: echoes the request's headers and URL back as JSON. The
/// token endpoint issues `tok-1`, `tok-2`, … with the given lifetime.
async fn echo_upstream(expires_in: Option<u64>) -> Upstream {
    let issued = Arc::new(Mutex::new(0));
    Upstream::start(move |c, _| {
        if c.path() == "/oauth/token" {
            let mut n = issued.lock().unwrap();
            *n += 1;
            let mut body = json!({"access_token": format!("tok-{n}"), "token_type": "Bearer"});
            if let Some(e) = expires_in {
                body["expires_in"] = json!(e);
            }
            return Reply::json(200, body);
        }
        Reply::json(200, echo(c))
    })
    .await
}

fn echo(c: &Captured) -> Value {
    let headers: serde_json::Map<String, Value> = c
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(String::from_utf8_lossy(v.as_bytes()))))
        .collect();
    json!({"headers": headers, "url": format!("http://upstream{}", c.target)})
}

async fn start(env: &[(&str, &str)], expires_in: Option<u64>) -> (Mcp, Upstream) {
    let server = auth_server();
    let upstream = echo_upstream(expires_in).await;
    configure(&server, &upstream.url, env);
    (Mcp::start(server).await, upstream)
}

/// No secret, in any spelling, anywhere in the result.
fn assert_clean(result: &Value) {
    let all = dump(result);
    let pct = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for s in [
        KEY,
        QKEY,
        CKEY,
        BEARER,
        PASSWORD,
        CLIENT_SECRET,
        &basic,
        "tok-1",
        "tok-2",
    ] {
        assert!(!all.contains(s), "{s} leaked: {all}");
        assert!(!all.contains(&pct(s)), "{s} leaked percent-encoded: {all}");
    }
}

#[tokio::test]
async fn api_keys_go_where_the_scheme_says_and_never_come_back() {
    let (mcp, upstream) = start(&env(), None).await;
    let r = mcp.call("hdr", json!({})).await;
    assert_eq!(upstream.last().header("x-api-key"), Some(KEY));
    assert_eq!(r["structuredContent"]["headers"]["x-api-key"], "[REDACTED]");
    assert_clean(&r);

    let r = mcp.call("qry", json!({})).await;
    assert_eq!(
        upstream.last().query(),
        Some("api_key=qk3y%2F%2B%20%3D%3F%26%23x")
    );
    assert_eq!(
        r["structuredContent"]["url"],
        "http://upstream/echo/qry?api_key=[REDACTED]"
    );
    assert_clean(&r);

    let r = mcp.call("cki", json!({})).await;
    // Legal cookie octets stay raw: servers compare base64 keys verbatim.
    assert_eq!(
        upstream.last().header("cookie"),
        Some("token=ck3y+/cookie==")
    );
    assert_eq!(
        r["structuredContent"]["headers"]["cookie"],
        "token=[REDACTED]"
    );
    assert_clean(&r);
}

#[tokio::test]
async fn bearer_and_basic_credentials() {
    let (mcp, upstream) = start(&env(), None).await;
    let r = mcp.call("bearer", json!({})).await;
    assert_eq!(
        upstream.last().header("authorization"),
        Some("Bearer bearer-token-123")
    );
    assert_eq!(
        r["structuredContent"]["headers"]["authorization"],
        "Bearer [REDACTED]"
    );
    assert_clean(&r);

    let r = mcp.call("basic", json!({})).await;
    let expected = base64::engine::general_purpose::STANDARD.encode("alice:pa55:w/rd");
    assert_eq!(
        upstream.last().header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(
        r["structuredContent"]["headers"]["authorization"],
        "Basic [REDACTED]"
    );
    assert_clean(&r);
}

#[tokio::test]
async fn the_first_configured_alternative_is_used_and_none_is_fine() {
    let only_basic: Vec<_> = env()
        .into_iter()
        .filter(|(k, _)| k.starts_with("T_USER") || k.starts_with("T_PASSWORD"))
        .collect();
    let (mcp, upstream) = start(&only_basic, None).await;
    mcp.call("bearer_or_basic", json!({})).await;
    assert!(
        upstream
            .last()
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );

    // Nothing configured: the request goes out without credentials and
    // the upstream decides.
    let r = mcp.call("hdr", json!({})).await;
    assert!(!is_error(&r));
    assert_eq!(upstream.last().header("x-api-key"), None);

    // An AND-requirement needs all of its schemes.
    let key_only = [("T_KEY", KEY)];
    let (mcp, upstream) = start(&key_only, None).await;
    mcp.call("key_and_query", json!({})).await;
    let c = upstream.last();
    assert_eq!((c.header("x-api-key"), c.query()), (None, None));
    // `{}` (no auth) first in the list does not beat a configured key.
    mcp.call("optional_then_key", json!({})).await;
    assert_eq!(upstream.last().header("x-api-key"), Some(KEY));
}

#[tokio::test]
async fn credential_looking_extra_headers_are_redacted_others_not() {
    let server = auth_server();
    let upstream = echo_upstream(None).await;
    let mut o = overrides(&upstream.url, &[]);
    o.headers = vec![
        "X-Api-Token: extra-token-77".into(),
        "X-Tenant: acme-tenant".into(),
    ];
    server.configure_upstream(&o).unwrap();
    let r = Mcp::start(server).await.call("none", json!({})).await;
    let c = upstream.one();
    assert_eq!(c.header("x-api-token"), Some("extra-token-77"));
    assert_eq!(
        r["structuredContent"]["headers"]["x-api-token"],
        "[REDACTED]"
    );
    assert_eq!(r["structuredContent"]["headers"]["x-tenant"], "acme-tenant");
}

/// httpbin's /cookies and an auth echo: each cookie by name, and the parts
/// of the Authorization header the way a server sees them.
async fn pieces_upstream() -> Upstream {
    Upstream::start(|c, _| {
        let cookies: serde_json::Map<String, Value> = c
            .header("cookie")
            .unwrap_or("")
            .split(';')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), json!(v.trim())))
            .collect();
        let (scheme, credentials) = c
            .header("authorization")
            .and_then(|a| a.split_once(' '))
            .unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let password = decoded.split_once(':').map(|(_, p)| p.to_owned());
        Reply::json(
            200,
            json!({"cookies": cookies, "scheme": scheme, "credentials": credentials,
                   "decoded": decoded, "password": password}),
        )
    })
    .await
}

#[tokio::test]
async fn cookie_and_authorization_headers_are_redacted_piece_by_piece() {
    let server = auth_server();
    let upstream = pieces_upstream().await;
    let mut o = overrides(&upstream.url, &[]);
    o.headers = vec![
        "Cookie: theme=dark; sid=session-SECRET-1; csrf=\"quoted-secret-2\"; lang=en".into(),
        "Authorization: Bearer tkn".into(),
    ];
    server.configure_upstream(&o).unwrap();
    let mcp = Mcp::start(server.clone()).await;
    let r = mcp.call("none", json!({})).await;
    assert_eq!(
        upstream.last().header("cookie"),
        Some("theme=dark; sid=session-SECRET-1; csrf=\"quoted-secret-2\"; lang=en")
    );
    // Each cookie value is a secret; values under 8 characters are not
    // (redacting every `en` would mangle everything).
    assert_eq!(
        r["structuredContent"]["cookies"],
        json!({"theme": "dark", "sid": "[REDACTED]", "csrf": "\"[REDACTED]\"", "lang": "en"})
    );
    // An Authorization header's credentials are a secret however short.
    assert_eq!(r["structuredContent"]["scheme"], "Bearer");
    assert_eq!(r["structuredContent"]["credentials"], "[REDACTED]");
    for leaked in ["session-SECRET-1", "quoted-secret-2", "tkn"] {
        assert!(!dump(&r).contains(leaked), "{leaked}: {r}");
    }

    // Basic: the base64, the decoded `user:password` and the password.
    let basic = base64::engine::general_purpose::STANDARD.encode("bob:hunter2");
    o.headers = vec![format!("Authorization: Basic {basic}")];
    server.configure_upstream(&o).unwrap();
    let r = mcp.call("none", json!({})).await;
    assert_eq!(
        r["structuredContent"],
        json!({"cookies": {}, "scheme": "Basic", "credentials": "[REDACTED]",
               "decoded": "[REDACTED]", "password": "[REDACTED]"})
    );
}

#[tokio::test]
async fn a_forwarded_basic_authorization_is_redacted_decoded_too() {
    let server = auth_server();
    let upstream = pieces_upstream().await;
    let mut o = overrides(&upstream.url, &[]);
    o.forward_authorization = true;
    server.configure_upstream(&o).unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode("carol:s3cret-pass");
    let r = call_over_http(server, &format!("Basic {basic}")).await;
    assert_eq!(
        upstream.one().header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        r["structuredContent"],
        json!({"cookies": {}, "scheme": "Basic", "credentials": "[REDACTED]",
               "decoded": "[REDACTED]", "password": "[REDACTED]"})
    );
}

#[tokio::test]
async fn secrets_are_reread_when_the_server_is_configured_again() {
    let server = auth_server();
    let upstream = echo_upstream(None).await;
    configure(&server, &upstream.url, &[("T_KEY", "first-key")]);
    let mcp = Mcp::start(server.clone()).await;
    mcp.call("hdr", json!({})).await;
    assert_eq!(upstream.last().header("x-api-key"), Some("first-key"));
    configure(&server, &upstream.url, &[("T_KEY", "second-key")]);
    let r = mcp.call("hdr", json!({})).await;
    assert_eq!(upstream.last().header("x-api-key"), Some("second-key"));
    assert!(!dump(&r).contains("second-key"));
}

fn token_requests(u: &Upstream) -> Vec<Captured> {
    u.all()
        .into_iter()
        .filter(|c| c.path() == "/oauth/token")
        .collect()
}

#[tokio::test]
async fn oauth_tokens_are_fetched_once_and_cached() {
    let (mcp, upstream) = start(&env(), Some(3600)).await;
    let r1 = mcp.call("oauth", json!({})).await;
    let r2 = mcp.call("oauth", json!({})).await;
    let tokens = token_requests(&upstream);
    assert_eq!(tokens.len(), 1, "one token for two calls");
    let t = &tokens[0];
    assert_eq!(
        (t.method.as_str(), t.header("content-type")),
        ("POST", Some("application/x-www-form-urlencoded"))
    );
    assert_eq!(
        t.text(),
        "grant_type=client_credentials&client_id=client-1&client_secret=client-secret-xyz&scope=read+write"
    );
    let api: Vec<_> = upstream
        .all()
        .into_iter()
        .filter(|c| c.path() == "/echo/oauth")
        .collect();
    assert_eq!(api.len(), 2);
    assert!(
        api.iter()
            .all(|c| c.header("authorization") == Some("Bearer tok-1"))
    );
    for r in [r1, r2] {
        assert_eq!(
            r["structuredContent"]["headers"]["authorization"],
            "Bearer [REDACTED]"
        );
        assert_clean(&r);
    }
}

#[tokio::test]
async fn expired_oauth_tokens_are_replaced() {
    let (mcp, upstream) = start(&env(), Some(0)).await;
    mcp.call("oauth", json!({})).await;
    mcp.call("oauth", json!({})).await;
    assert_eq!(token_requests(&upstream).len(), 2);
    assert_eq!(
        upstream.last().header("authorization"),
        Some("Bearer tok-2")
    );
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries() {
    // The API accepts only tokens issued after the first; `tok-2` works.
    let issued = Arc::new(Mutex::new(0));
    let server = auth_server();
    let upstream = Upstream::start(move |c, _| match c.path() {
        "/oauth/token" => {
            let mut n = issued.lock().unwrap();
            *n += 1;
            Reply::json(
                200,
                json!({"access_token": format!("tok-{n}"), "expires_in": 3600}),
            )
        }
        _ if c.header("authorization") == Some("Bearer tok-1") => {
            Reply::json(401, json!({"error": "revoked"}))
        }
        "/echo/none" => Reply::json(401, json!({"error": "never"})),
        _ => Reply::json(200, echo(c)),
    })
    .await;
    configure(&server, &upstream.url, &env());
    let mcp = Mcp::start(server).await;
    let r = mcp.call("oauth", json!({})).await;
    assert!(!is_error(&r), "{r}");
    let targets: Vec<String> = upstream.all().iter().map(|c| c.path().to_owned()).collect();
    assert_eq!(
        targets,
        ["/oauth/token", "/echo/oauth", "/oauth/token", "/echo/oauth"]
    );
    assert_clean(&r);

    // A 401 without OAuth involved is just an error.
    upstream.clear();
    let r = mcp.call("none", json!({})).await;
    assert_eq!(upstream.count(), 1);
    assert!(is_error(&r) && text(&r).starts_with("HTTP 401 Unauthorized"));
}

#[tokio::test]
async fn a_persistent_401_is_refreshed_only_once() {
    let server = auth_server();
    let upstream = Upstream::start(|c, n| match c.path() {
        "/oauth/token" => Reply::json(200, json!({"access_token": format!("tok-{n}")})),
        _ => Reply::json(401, json!({"error": "nope", "echo": echo(c)})),
    })
    .await;
    configure(&server, &upstream.url, &env());
    let r = Mcp::start(server).await.call("oauth", json!({})).await;
    assert!(is_error(&r));
    assert!(text(&r).starts_with("HTTP 401 Unauthorized\n\n"));
    assert_eq!(
        upstream.count(),
        4,
        "token, call, token, call — then give up"
    );
    assert!(!dump(&r).contains("tok-"), "{r}");
}

#[tokio::test]
async fn token_endpoint_failures_are_tool_errors_without_the_secret() {
    let server = auth_server();
    // The endpoint echoes the request (client id and secret) in its body:
    // only the RFC 6749 error code reaches the client.
    let upstream = Upstream::start(|c, _| {
        Reply::json(401, json!({"error": "invalid_client", "echo": c.text()}))
    })
    .await;
    configure(&server, &upstream.url, &env());
    let r = Mcp::start(server).await.call("oauth", json!({})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert_eq!(
        t,
        "cannot obtain an OAuth2 access token for `oauth`: the token endpoint answered HTTP 401 Unauthorized (invalid_client)"
    );
    assert!(!t.contains("client_id"), "{t}");
    assert_clean(&r);
}

#[tokio::test]
async fn error_bodies_are_redacted_too() {
    let server = auth_server();
    let upstream = Upstream::start(|c, _| Reply::json(403, echo(c))).await;
    configure(&server, &upstream.url, &env());
    let mcp = Mcp::start(server).await;
    for t in ["hdr", "qry", "cki", "bearer", "basic"] {
        let r = mcp.call(t, json!({})).await;
        assert!(is_error(&r) && text(&r).starts_with("HTTP 403 Forbidden"));
        assert!(text(&r).contains("[REDACTED]"), "{r}");
        assert_clean(&r);
    }
}

#[tokio::test]
async fn secrets_stay_out_of_connection_errors() {
    let server = auth_server();
    let port = closed_port().await;
    configure(&server, &format!("http://127.0.0.1:{port}"), &env());
    let r = Mcp::start(server).await.call("qry", json!({})).await;
    assert!(is_error(&r));
    assert!(!text(&r).contains("api_key"), "no URL query in errors: {r}");
    assert_clean(&r);
}

/// A minimal Streamable HTTP client: the MCP client's Authorization header
/// must reach the runtime (RequestContext::http_headers) but not upstream.
async fn call_over_http(server: Server, authorization: &str) -> Value {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = http::router(server, HttpConfig::default());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}/mcp");
    let client = reqwest::Client::new();
    let post = |body: Value, session: Option<String>| {
        let mut rb = client
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("authorization", authorization)
            .json(&body);
        if let Some(s) = session {
            rb = rb
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-11-25");
        }
        rb.send()
    };
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let r = post(init, None).await.unwrap();
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    post(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        Some(session.clone()),
    )
    .await
    .unwrap();
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "none", "arguments": {}}});
    let body = post(call, Some(session))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Plain JSON, or SSE `data:` lines.
    let message = body
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .find(|d| d.contains("\"id\":1"))
        .unwrap_or(&body)
        .to_owned();
    serde_json::from_str::<Value>(&message).unwrap()["result"].clone()
}

#[tokio::test]
async fn the_clients_authorization_header_is_not_forwarded_by_default() {
    let server = auth_server();
    let upstream = echo_upstream(None).await;
    configure(&server, &upstream.url, &[]);
    let r = call_over_http(server, "Bearer mcp-client-token").await;
    assert!(!is_error(&r), "{r}");
    assert_eq!(upstream.one().header("authorization"), None);
}

#[tokio::test]
async fn forwarding_the_clients_authorization_header_is_opt_in_and_verbatim() {
    let server = auth_server();
    let upstream = echo_upstream(None).await;
    let mut o = overrides(&upstream.url, &[]);
    o.forward_authorization = true;
    server.configure_upstream(&o).unwrap();
    let r = call_over_http(server.clone(), "Bearer mcp-client-token").await;
    assert_eq!(
        upstream.one().header("authorization"),
        Some("Bearer mcp-client-token")
    );
    assert_eq!(
        r["structuredContent"]["headers"]["authorization"],
        "[REDACTED]"
    );
    assert!(!dump(&r).contains("mcp-client-token"));

    // stdio carries no HTTP headers: nothing to forward.
    upstream.clear();
    Mcp::start(server).await.call("none", json!({})).await;
    assert_eq!(upstream.one().header("authorization"), None);
}

/// PHP's `json_encode` with its default flags: `/` as `\/` and every
/// non-ASCII character as `\uXXXX`; `all` escapes every character.
fn php_json(v: &Value, all: bool) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        match c {
            '/' if !all => out.push_str("\\/"),
            c if all && c.is_ascii_alphanumeric() || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Every string the client can read in a tool result, with JSON found in
/// its text decoded as well (so an escaped spelling shows as the secret).
fn readable(result: &Value) -> String {
    let mut all = String::new();
    for item in result["content"].as_array().unwrap() {
        let text = item["text"].as_str().unwrap_or("");
        all.push_str(text);
        all.push('\n');
        if let Some(at) = text.find('{')
            && let Ok(v) = serde_json::from_str::<Value>(&text[at..])
        {
            all.push_str(&v.to_string());
            all.push('\n');
        }
        // A string-escaped JSON document inside a text value.
        let decoded: String =
            serde_json::from_str(&format!("\"{}\"", text.replace('"', "\\\""))).unwrap_or_default();
        all.push_str(&decoded);
    }
    all
}

#[tokio::test]
async fn secrets_echoed_json_escaped_like_php_are_redacted() {
    // A key and a Basic token with `/` in them, as base64 and AWS keys have.
    let server = auth_server();
    let upstream = Upstream::start(|c, n| {
        let echo = echo(c);
        match n % 5 {
            0 => Reply::status(500).typed("application/json", php_json(&echo, false).into()),
            1 => Reply::status(200).typed("text/plain", php_json(&echo, true).into()),
            2 => Reply::status(400).typed("text/html", php_json(&echo, true).into()),
            // JSON that fails to parse is shown as text.
            3 => Reply::status(200).typed(
                "application/json",
                format!("{}!", php_json(&echo, false)).into(),
            ),
            _ => Reply::status(201)
                .header(
                    "location",
                    &format!("/items?k={}", php_json(&echo["headers"], false)),
                )
                .typed("application/json", b"{}".to_vec()),
        }
    })
    .await;
    configure(&server, &upstream.url, &env());
    let mcp = Mcp::start(server).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for round in 0..5 {
        for tool in ["hdr", "basic"] {
            let r = mcp.call(tool, json!({})).await;
            let seen = readable(&r);
            assert!(seen.contains("[REDACTED]"), "round {round} {tool}: {seen}");
            for s in [KEY, PASSWORD, &basic, "k3y-Hdr", "pa55"] {
                assert!(
                    !seen.contains(s),
                    "round {round} {tool}: {s} leaked: {seen}"
                );
            }
            assert_clean(&r);
        }
    }
}

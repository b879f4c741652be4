//! The OAuth resource server on the MCP 2026-07-28 stateless path: the
//! handler sees the caller's `AuthInfo`, `--auth-hide-tools` filters
//! `tools/list` (and makes it private to the caller), and an MRTR
//! `requestState` is bound to the subject it was issued to. The
//! 2024-11-05 HTTP+SSE transport (`--legacy-sse`) checks tokens on both of
//! its paths and binds a session to the subject that opened it.
//!
//! Tokens are opaque and checked by RFC 7662 introspection at a small
//! authorization server in this file (RFC 8414 metadata and an
//! introspection endpoint that knows three tokens); the interop tests
//! run the same paths against a real oidc-provider.

use axum::routing::{get, post};
use axum::{Json, Router};
use mcpgen_runtime::auth::{AuthInfo, AuthSettings};
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::transport::http::{self, HttpConfig};
use std::time::Duration;

const V: &str = "2026-07-28";
const AUTH: &str =
    r#"{"scopes": ["mcp"], "hideTools": true, "toolScopes": {"admin_report": ["admin"]}}"#;
const OBJECT: &str = r#"{"type":"object"}"#;

/// The claims the authorization server gives each token it knows.
fn claims(token: &str, issuer: &str, resource: &str) -> Value {
    let (sub, scope) = match token {
        "alice-token" => ("alice", "mcp"),
        "bob-token" => ("bob", "mcp"),
        "carol-token" => ("carol", "mcp admin"),
        _ => return json!({"active": false}),
    };
    json!({"active": true, "sub": sub, "scope": scope, "iss": issuer, "aud": resource,
           "client_id": "c", "exp": 4_000_000_000u64})
}

/// An authorization server on 127.0.0.1: its issuer URL.
async fn authorization_server(resource: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let meta = json!({"issuer": issuer, "introspection_endpoint": format!("{issuer}/introspect")});
    let iss = issuer.clone();
    let app = Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(move || async move { Json(meta) }),
        )
        .route(
            "/introspect",
            post(move |form: String| async move {
                // The test tokens are plain ASCII: no percent-decoding.
                let token = form.split('&').find_map(|kv| kv.strip_prefix("token="));
                Json(claims(token.unwrap_or_default(), &iss, &resource))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    issuer
}

fn server() -> Server {
    Server::builder(r#"{"name":"auth-2026","version":"1.0.0"}"#)
        .auth(AUTH)
        // Shared caches may keep this server's lists, except what depends
        // on the caller.
        .cache_hints(60_000, "public")
        .tool(
            &format!(r#"{{"name":"whoami","inputSchema":{OBJECT}}}"#),
            |ctx, _: Value| async move {
                let who = ctx
                    .extensions()
                    .get::<AuthInfo>()
                    .map(|i| i.subject.clone());
                Ok(CallToolResult::text(who.unwrap_or_else(|| "nobody".into())))
            },
        )
        .tool(
            &format!(r#"{{"name":"admin_report","inputSchema":{OBJECT}}}"#),
            |_ctx, _: Value| async move { Ok(CallToolResult::text("report")) },
        )
        .tool(
            &format!(r#"{{"name":"ask_name","inputSchema":{OBJECT}}}"#),
            |ctx, _: Value| async move {
                let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}});
                let answer = ctx
                    .elicit(json!({"message": "name?", "requestedSchema": schema}))
                    .await?;
                let name = answer["content"]["name"].as_str().unwrap_or("?");
                Ok(CallToolResult::text(name.to_owned()))
            },
        )
        .tool(
            &format!(
                r#"{{"name":"long_job","inputSchema":{OBJECT},"execution":{{"taskSupport":"required"}}}}"#
            ),
            |ctx, _: Value| async move {
                ctx.cancelled().await;
                Err::<CallToolResult, _>(ToolError::new("cancelled"))
            },
        )
        .resource_text(r#"{"uri":"test://text","name":"text"}"#, "hello")
        .build()
        .unwrap()
}

/// The server behind the authorization server: its endpoint URL.
async fn start() -> String {
    start_with(HttpConfig::default()).await
}

async fn start_with(config: HttpConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let s = server();
    s.set_protocol_2026(true);
    let mut settings = AuthSettings::default();
    settings.issuer = Some(authorization_server(url.clone()).await);
    settings.resource = Some(url.clone());
    settings.introspection_client = Some(("rs".into(), "secret".into()));
    s.configure_auth(settings);
    tokio::spawn(
        async move { http::serve_listener(listener, s, config, std::future::pending()).await },
    );
    url
}

/// A modern request as `token`'s holder: status and the JSON-RPC answer.
async fn send(url: &str, token: &str, method: &str, mut params: Value) -> (u16, Value) {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {},
            "extensions": {"io.modelcontextprotocol/tasks": {}}},
    });
    let mut req = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("mcp-protocol-version", V)
        .header("mcp-method", method);
    let name = params.get("name").or_else(|| params.get("taskId"));
    if let Some(name) = name.and_then(Value::as_str) {
        req = req.header("mcp-name", name);
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let r = req.body(body.to_string()).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn text(r: &Value) -> &str {
    r["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn handlers_see_the_callers_auth_info_on_the_2026_path() {
    let url = start().await;
    let call = json!({"name": "whoami", "arguments": {}});
    let (status, r) = send(&url, "alice-token", "tools/call", call.clone()).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(text(&r), "alice", "{r}");
    let (_, r) = send(&url, "bob-token", "tools/call", call).await;
    assert_eq!(text(&r), "bob", "{r}");
    let (status, _) = send(&url, "unknown-token", "tools/list", json!({})).await;
    assert_eq!(status, 401, "a bad token is refused before the protocol");
}

#[tokio::test]
async fn hidden_tools_are_filtered_and_the_list_is_private_to_the_caller() {
    let url = start().await;
    let names = |r: &Value| -> Vec<String> {
        let tools = r["result"]["tools"].as_array().cloned().unwrap_or_default();
        tools
            .iter()
            .filter_map(|t| t["name"].as_str().map(Into::into))
            .collect()
    };
    let (status, alice) = send(&url, "alice-token", "tools/list", json!({})).await;
    assert_eq!(status, 200, "{alice}");
    assert_eq!(names(&alice), ["whoami", "ask_name", "long_job"], "{alice}");
    let (_, carol) = send(&url, "carol-token", "tools/list", json!({})).await;
    assert_eq!(
        names(&carol),
        ["whoami", "admin_report", "ask_name", "long_job"]
    );
    for list in [&alice, &carol] {
        assert_eq!(list["result"]["cacheScope"], "private", "{list}");
        assert_eq!(list["result"]["ttlMs"], 60_000);
    }
    // A list that does not depend on the caller keeps the server's hints.
    let (_, resources) = send(&url, "alice-token", "resources/list", json!({})).await;
    assert_eq!(resources["result"]["cacheScope"], "public", "{resources}");
}

#[tokio::test]
async fn a_request_state_is_refused_for_another_subject_and_kept_for_its_own() {
    let url = start().await;
    let ask = json!({"name": "ask_name", "arguments": {}});
    let (_, first) = send(&url, "alice-token", "tools/call", ask.clone()).await;
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    let state = first["result"]["requestState"].as_str().unwrap().to_owned();
    let mut replay = ask;
    replay["requestState"] = json!(state);
    replay["inputResponses"] = json!({"input-1": {"action": "accept", "content": {"name": "Ada"}}});

    // Bob's token is valid, but the state was issued to Alice.
    let (status, stolen) = send(&url, "bob-token", "tools/call", replay.clone()).await;
    assert_eq!(status, 200, "{stolen}");
    assert_eq!(stolen["error"]["code"], -32602, "{stolen}");
    let message = stolen["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("another caller"), "{message}");

    let (_, done) = send(&url, "alice-token", "tools/call", replay).await;
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert_eq!(text(&done), "Ada");
}

#[tokio::test]
async fn another_subjects_task_is_answered_exactly_like_an_unknown_one() {
    let url = start().await;
    let (_, created) = send(
        &url,
        "alice-token",
        "tools/call",
        json!({"name": "long_job", "arguments": {}}),
    )
    .await;
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let id = created["result"]["taskId"].as_str().unwrap().to_owned();
    let unknown = "0123456789abcdef0123456789abcdef";
    let update = |id: &str| json!({"taskId": id, "inputResponses": {}});
    for (method, params, none) in [
        (
            "tasks/get",
            json!({"taskId": id}),
            json!({"taskId": unknown}),
        ),
        ("tasks/update", update(&id), update(unknown)),
        (
            "tasks/cancel",
            json!({"taskId": id}),
            json!({"taskId": unknown}),
        ),
    ] {
        let (status, bobs) = send(&url, "bob-token", method, params).await;
        let (unknown_status, missing) = send(&url, "bob-token", method, none).await;
        assert_eq!(bobs["error"]["code"], -32602, "{method}: {bobs}");
        assert_eq!(status, unknown_status, "{method}");
        // The same error but for the id it names: no oracle.
        let message = bobs["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(
            message.replace(&id, unknown),
            missing["error"]["message"].as_str().unwrap_or_default(),
            "{method}"
        );
        assert_eq!(bobs["error"].get("data"), missing["error"].get("data"));
    }
    // Bob's cancel changed nothing; Alice still sees and cancels her task.
    let (_, mine) = send(&url, "alice-token", "tasks/get", json!({"taskId": id})).await;
    assert_eq!(mine["result"]["status"], "working", "{mine}");
    let (_, ack) = send(&url, "alice-token", "tasks/cancel", json!({"taskId": id})).await;
    assert!(ack.get("result").is_some(), "{ack}");
    let (_, mine) = send(&url, "alice-token", "tasks/get", json!({"taskId": id})).await;
    assert_eq!(mine["result"]["status"], "cancelled", "{mine}");
}

#[tokio::test]
async fn the_legacy_sse_transport_checks_tokens_on_both_paths_and_binds_the_session() {
    let mut config = HttpConfig::default();
    config.legacy_sse = Some(http::LegacySse::default());
    let url = start_with(config).await;
    let base = url.trim_end_matches("/mcp").to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let open = |token: Option<&str>| {
        let mut r = client
            .get(format!("{base}/sse"))
            .header("accept", "text/event-stream");
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.send()
    };
    assert_eq!(open(None).await.unwrap().status(), 401);
    let mut stream = open(Some("alice-token")).await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        let chunk = stream.chunk().await.unwrap().expect("the endpoint event");
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let path = seen
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap()
        .to_owned();
    let post = |token: Option<&str>, body: Value| {
        let mut r = client.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.send()
    };
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(post(None, ping.clone()).await.unwrap().status(), 401);
    let bob = post(Some("bob-token"), ping.clone()).await.unwrap();
    assert_eq!(bob.status(), 404, "alice's session is not bob's");
    assert_eq!(post(Some("alice-token"), ping).await.unwrap().status(), 202);
    let admin = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "admin_report", "arguments": {}}});
    assert_eq!(
        post(Some("alice-token"), admin).await.unwrap().status(),
        403
    );
}

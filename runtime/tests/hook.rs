//! The tool-call hook (`ServerBuilder::tool_call_hook`): it wraps handler
//! tools, upstream tools and the compact surface's `call_tool` (seeing the
//! real tool), can refuse, map errors, audit and set per-request values;
//! and the HTTP router takes tower layers.

use mcpgen_runtime::prelude::*;
use mcpgen_runtime::testing::TestClient;
use serde_json::Value;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, PartialEq)]
struct Tenant(String);

type Log = Arc<Mutex<Vec<String>>>;

fn tool(name: &str) -> String {
    json!({
        "name": name,
        "inputSchema": {
            "type": "object",
            "properties": {"n": {"type": "integer", "maximum": 10}},
            "required": ["n"]
        }
    })
    .to_string()
}

/// `ok` echoes its arguments (and the tenant, if any), `fail` fails; both
/// log that they ran.
fn builder(log: &Log) -> ServerBuilder {
    let (l1, l2) = (log.clone(), log.clone());
    Server::builder(r#"{"name":"t","version":"1"}"#)
        .tool(&tool("ok"), move |ctx: RequestContext, args: Value| {
            let log = l1.clone();
            async move {
                log.lock().unwrap().push("handler ok".into());
                let tenant = ctx.extensions().get::<Tenant>().map(|t| t.0.clone());
                Ok(CallToolResult::structured(
                    json!({"args": args, "tenant": tenant}),
                ))
            }
        })
        .tool(&tool("fail"), move |_: RequestContext, _: Value| {
            let log = l2.clone();
            async move {
                log.lock().unwrap().push("handler fail".into());
                Err(ToolError::new("internal detail: db at 10.0.0.7 down"))
            }
        })
}

fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_hook_that_does_not_call_next_refuses_and_the_handler_never_runs() {
    let log = Log::default();
    let server = builder(&log)
        .tool_call_hook(|call: ToolCall, next: Next| async move {
            if call.name() == "fail" {
                return Err(ToolError::new("refused: not for you"));
            }
            next.run(call).await
        })
        .build()
        .unwrap();
    let c = TestClient::connect(server).await.unwrap();
    let r = c.call_tool("fail", json!({"n": 1})).await.unwrap();
    assert_eq!(r["isError"], true);
    assert_eq!(text(&r), "refused: not for you");
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
    let r = c.call_tool("ok", json!({"n": 1})).await.unwrap();
    assert_eq!(r["structuredContent"]["args"], json!({"n": 1}));
    assert_eq!(*log.lock().unwrap(), ["handler ok"]);
}

#[tokio::test]
async fn a_hook_maps_a_handler_error_into_another_result() {
    let log = Log::default();
    let server = builder(&log)
        .tool_call_hook(|call: ToolCall, next: Next| async move {
            let name = call.name().to_owned();
            match next.run(call).await {
                Err(_) => Err(ToolError::new(format!("{name} failed; try again later"))),
                Ok(r) => Ok(r),
            }
        })
        .build()
        .unwrap();
    let c = TestClient::connect(server).await.unwrap();
    let r = c.call_tool("fail", json!({"n": 1})).await.unwrap();
    assert_eq!(r["isError"], true);
    assert_eq!(text(&r), "fail failed; try again later");
    assert!(!r.to_string().contains("10.0.0.7"));
}

#[tokio::test]
async fn audit_sees_name_arguments_and_result_around_the_handler_in_order() {
    let log = Log::default();
    let audit = log.clone();
    let server = builder(&log)
        .tool_call_hook(move |call: ToolCall, next: Next| {
            let audit = audit.clone();
            async move {
                let line = format!("before {} {}", call.name(), call.arguments());
                audit.lock().unwrap().push(line);
                let name = call.name().to_owned();
                let started = std::time::Instant::now();
                let r = next.run(call).await;
                let _took = started.elapsed();
                let outcome = match &r {
                    Ok(r) if !r.is_error => "ok",
                    _ => "error",
                };
                audit
                    .lock()
                    .unwrap()
                    .push(format!("after {name} {outcome}"));
                r
            }
        })
        .build()
        .unwrap();
    let c = TestClient::connect(server).await.unwrap();
    c.call_tool("ok", json!({"n": 1})).await.unwrap();
    c.call_tool("fail", json!({"n": 2})).await.unwrap();
    // Invalid arguments are refused before the hook: it never sees them.
    let r = c.call_tool("ok", json!({"n": 11})).await.unwrap();
    assert_eq!(r["isError"], true);
    assert!(text(&r).starts_with("Invalid arguments for tool ok"));
    assert_eq!(
        *log.lock().unwrap(),
        [
            r#"before ok {"n":1}"#,
            "handler ok",
            "after ok ok",
            r#"before fail {"n":2}"#,
            "handler fail",
            "after fail error",
        ]
    );
}

#[tokio::test]
async fn a_tenant_the_hook_sets_is_visible_to_the_handler() {
    let log = Log::default();
    let server = builder(&log)
        .tool_call_hook(|mut call: ToolCall, next: Next| async move {
            let tenant = Tenant(format!("tenant-of-{}", call.context().session_id().len()));
            call.context_mut().extensions_mut().insert(tenant);
            next.run(call).await
        })
        .build()
        .unwrap();
    let c = TestClient::connect(server).await.unwrap();
    let r = c.call_tool("ok", json!({"n": 1})).await.unwrap();
    let tenant = r["structuredContent"]["tenant"].as_str().unwrap();
    assert!(tenant.starts_with("tenant-of-"), "{r}");
    // Without a hook nothing is there.
    let c = TestClient::connect(builder(&log).build().unwrap())
        .await
        .unwrap();
    let r = c.call_tool("ok", json!({"n": 1})).await.unwrap();
    assert_eq!(r["structuredContent"]["tenant"], Value::Null);
}

#[tokio::test]
async fn changed_arguments_are_checked_again_before_the_handler() {
    let log = Log::default();
    let server = builder(&log)
        .tool_call_hook(|mut call: ToolCall, next: Next| async move {
            let n = call.arguments()["n"].as_i64().unwrap_or(0);
            call.arguments_mut()["n"] = json!(n * 2);
            next.run(call).await
        })
        .build()
        .unwrap();
    let c = TestClient::connect(server).await.unwrap();
    let r = c.call_tool("ok", json!({"n": 3})).await.unwrap();
    assert_eq!(r["structuredContent"]["args"], json!({"n": 6}));
    // 6 → 12 breaks `maximum: 10`: the handler does not run.
    log.lock().unwrap().clear();
    let r = c.call_tool("ok", json!({"n": 6})).await.unwrap();
    assert_eq!(r["isError"], true);
    assert!(text(&r).starts_with("Invalid arguments for tool ok"), "{r}");
    assert!(log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_hook_sees_the_real_tool_behind_compact_call_tool_once() {
    let log = Log::default();
    let seen = Log::default();
    let s = seen.clone();
    let server = builder(&log)
        .tool_surface(r#"{"surface":"compact","toolsets":[{"name":"x","tools":["ok","fail"]}]}"#)
        .tool_call_hook(move |call: ToolCall, next: Next| {
            s.lock().unwrap().push(call.name().to_owned());
            next.run(call)
        })
        .build()
        .unwrap();
    let c = TestClient::connect(server).await.unwrap();
    c.call_tool("search_tools", json!({"query": "ok"}))
        .await
        .unwrap();
    let r = c
        .call_tool("call_tool", json!({"name": "ok", "arguments": {"n": 4}}))
        .await
        .unwrap();
    assert_eq!(r["structuredContent"]["args"], json!({"n": 4}));
    assert_eq!(*seen.lock().unwrap(), ["search_tools", "ok"]);
}

#[tokio::test]
async fn a_second_hook_is_a_build_error() {
    let log = Log::default();
    let e = builder(&log)
        .tool_call_hook(|call: ToolCall, next: Next| next.run(call))
        .tool_call_hook(|call: ToolCall, next: Next| next.run(call))
        .build()
        .err()
        .unwrap();
    assert!(e.to_string().contains("declared twice"), "{e}");
}

/// A local "API" for the upstream tool: GET /uuid.
async fn api() -> String {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/uuid",
            get(|| async { axum::Json(json!({"uuid": "1234"})) }),
        )
        .route(
            "/whoami",
            get(|h: axum::http::HeaderMap| async move {
                let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
                axum::Json(json!({"tenant": get("x-tenant"), "token": get("x-token")}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_hook_wraps_upstream_tools() {
    let base = api().await;
    let seen = Log::default();
    let s = seen.clone();
    let server = Server::builder(r#"{"name":"t","version":"1"}"#)
        .upstream(&json!({"baseUrl": base, "envPrefix": "T", "securitySchemes": {}}).to_string())
        .upstream_tool(
            r#"{"name":"get_uuid","inputSchema":{"type":"object","properties":{}}}"#,
            r#"{"method":"GET","path":"/uuid","parameters":[],"security":[],"successSchemaWrapped":false,"accept":"application/json"}"#,
        )
        .tool_call_hook(move |call: ToolCall, next: Next| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(call.name().to_owned());
                let mut r = next.run(call).await?;
                r.content.push(Content::text("(checked by the hook)"));
                Ok(r)
            }
        })
        .build()
        .unwrap();
    let c = TestClient::connect(server).await.unwrap();
    let r = c.call_tool("get_uuid", json!({})).await.unwrap();
    assert_eq!(r["isError"], Value::Null, "{r}");
    assert_eq!(r["structuredContent"]["uuid"], "1234", "{r}");
    assert_eq!(
        r["content"].as_array().unwrap().last().unwrap()["text"],
        "(checked by the hook)"
    );
    assert_eq!(*seen.lock().unwrap(), ["get_uuid"]);
}

/// "The HTTP router accepts tower layers": `transport::http::router` is an
/// axum `Router`, so any tower layer wraps the MCP endpoint. Here an auth
/// layer refuses requests without a token and passes the caller on as a
/// header, which the hook turns into a `Tenant` for the handler.
#[tokio::test]
async fn a_tower_layer_on_the_router_and_the_hook_work_together() {
    use axum::http::{HeaderValue, StatusCode};
    use axum::middleware::{self, Next as HttpNext};
    use mcpgen_runtime::transport::http::{HttpConfig, router};

    async fn auth(
        mut req: axum::extract::Request,
        next: HttpNext,
    ) -> Result<axum::response::Response, StatusCode> {
        let tenant = match req
            .headers()
            .get("authorization")
            .map(HeaderValue::as_bytes)
        {
            Some(b"Bearer acme-token") => "acme",
            _ => return Err(StatusCode::UNAUTHORIZED),
        };
        req.headers_mut()
            .insert("x-tenant", HeaderValue::from_static(tenant));
        Ok(next.run(req).await)
    }

    let log = Log::default();
    let server = builder(&log)
        .tool_call_hook(|mut call: ToolCall, next: Next| async move {
            let tenant = call
                .context()
                .http_headers()
                .and_then(|h| h.get("x-tenant")?.to_str().ok().map(str::to_owned));
            let Some(tenant) = tenant else {
                return Err(ToolError::new("no tenant"));
            };
            call.context_mut().extensions_mut().insert(Tenant(tenant));
            next.run(call).await
        })
        .build()
        .unwrap();
    let app = router(server, HttpConfig::default()).layer(middleware::from_fn(auth));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::new();
    let post = |body: Value, session: Option<&str>, token: Option<&str>| {
        let mut r = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .json(&body);
        if let Some(s) = session {
            r = r.header("mcp-session-id", s);
        }
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.send()
    };
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let r = post(init.clone(), None, None).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = post(init, None, Some("acme-token")).await.unwrap();
    assert_eq!(r.status(), 200);
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    let r = post(note, Some(&sid), Some("acme-token")).await.unwrap();
    assert_eq!(r.status(), 202);
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"ok","arguments":{"n":1}}});
    let r = post(call.clone(), Some(&sid), Some("wrong")).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = post(call, Some(&sid), Some("acme-token"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["result"]["structuredContent"]["tenant"], "acme",
        "{body}"
    );
}

#[tokio::test]
async fn upstream_headers_the_hook_sets_reach_the_api_and_secrets_stay_redacted() {
    use axum::http::{HeaderMap, HeaderValue};
    use mcpgen_runtime::upstream::UpstreamHeaders;
    let base = api().await;
    let server = Server::builder(r#"{"name":"t","version":"1"}"#)
        .upstream(&json!({"baseUrl": base, "envPrefix": "T", "securitySchemes": {}}).to_string())
        .upstream_tool(
            r#"{"name":"whoami","inputSchema":{"type":"object","properties":{}}}"#,
            r#"{"method":"GET","path":"/whoami","parameters":[],"security":[],"successSchemaWrapped":false,"accept":"application/json"}"#,
        )
        .tool_call_hook(|mut call: ToolCall, next: Next| async move {
            let mut headers = HeaderMap::new();
            headers.insert("x-tenant", HeaderValue::from_static("acme"));
            let mut token = HeaderValue::from_static("tenant-secret-0123456789");
            token.set_sensitive(true);
            headers.insert("x-token", token);
            call.context_mut()
                .extensions_mut()
                .insert(UpstreamHeaders(headers));
            next.run(call).await
        })
        .build()
        .unwrap();
    let c = TestClient::connect(server).await.unwrap();
    let r = c.call_tool("whoami", json!({})).await.unwrap();
    assert_eq!(r["structuredContent"]["tenant"], "acme", "{r}");
    // The API got the token (it echoed something back), the model does not see it.
    assert!(r["structuredContent"]["token"].is_string(), "{r}");
    assert!(!r.to_string().contains("tenant-secret-0123456789"), "{r}");
}

/// What the hook costs per call, in process (no transport): a server
/// without a hook, with a pass-through one (what every generated crate
/// registers), and with one that sets a tenant. Prints figures, asserts
/// nothing about time: `cargo test --release -p mcpgen-runtime --test hook
/// -- --ignored --nocapture hook_overhead`.
#[tokio::test]
#[ignore = "prints figures; run by hand"]
async fn hook_overhead_figures() {
    const CALLS: u32 = 20_000;
    let log = Log::default();
    let plain = builder(&log).build().unwrap();
    let pass = builder(&log)
        .tool_call_hook(|call: ToolCall, next: Next| next.run(call))
        .build()
        .unwrap();
    let tenant = builder(&log)
        .tool_call_hook(|mut call: ToolCall, next: Next| async move {
            call.context_mut()
                .extensions_mut()
                .insert(Tenant("acme".into()));
            next.run(call).await
        })
        .build()
        .unwrap();
    let mut best = [f64::MAX; 3];
    for _round in 0..5 {
        for (i, server) in [&plain, &pass, &tenant].into_iter().enumerate() {
            let c = TestClient::connect(server.clone()).await.unwrap();
            let started = std::time::Instant::now();
            for _ in 0..CALLS {
                c.call_tool("ok", json!({"n": 1})).await.unwrap();
            }
            let per_call = started.elapsed().as_secs_f64() * 1e9 / f64::from(CALLS);
            best[i] = best[i].min(per_call);
        }
        log.lock().unwrap().clear();
    }
    println!(
        "tools/call in process, best of 5 x {CALLS}: no hook {:.0} ns, pass-through hook {:.0} ns ({:.3}x), tenant hook {:.0} ns ({:.3}x)",
        best[0],
        best[1],
        best[1] / best[0],
        best[2],
        best[2] / best[0]
    );
}

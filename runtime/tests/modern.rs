//! MCP 2026-07-28 beside 2025-11-25 on one endpoint: stateless requests
//! over HTTP and stdio, each rule and error code of the new revision, and
//! the session era left as it was.

mod common;

use common::*;
use mcpgen_runtime::transport::http::HttpConfig;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const V: &str = "2026-07-28";

/// The test server with MCP 2026-07-28 switched on.
async fn start_modern() -> TestServer {
    let t = start(HttpConfig::default()).await;
    t.server.set_protocol_2026(true);
    t
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

/// `params` with the modern `_meta` added (unless it has one).
fn with_meta(mut params: Value) -> Value {
    if params.get("_meta").is_none() {
        params["_meta"] = meta();
    }
    params
}

fn body(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// The conformant headers of a modern POST, then `overrides` (None removes).
fn modern_post(
    url: &str,
    method: &str,
    params: &Value,
    overrides: &[(&str, Option<&str>)],
) -> reqwest::RequestBuilder {
    let mut headers: Vec<(String, String)> = vec![
        ("accept".into(), ACCEPT_BOTH.into()),
        ("content-type".into(), "application/json".into()),
        ("mcp-protocol-version".into(), V.into()),
        ("mcp-method".into(), method.into()),
    ];
    let name = match method {
        "tools/call" | "prompts/get" => params.get("name"),
        "resources/read" => params.get("uri"),
        _ => None,
    };
    if let Some(Value::String(n)) = name {
        headers.push(("mcp-name".into(), n.clone()));
    }
    for (k, v) in overrides {
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
        if let Some(v) = v {
            headers.push(((*k).into(), (*v).into()));
        }
    }
    let mut b = client().post(url);
    for (k, v) in headers {
        b = b.header(k, v);
    }
    b
}

/// Status and every message of the answer.
async fn send(
    url: &str,
    id: i64,
    method: &str,
    params: Value,
    overrides: &[(&str, Option<&str>)],
) -> (u16, Vec<Value>) {
    let r = modern_post(url, method, &params, overrides)
        .body(body(id, method, params.clone()).to_string())
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("mcp-session-id").is_none(), "no session");
    let status = r.status().as_u16();
    (status, read_messages(r).await)
}

/// Status and the response (the message with the request's id).
async fn call(url: &str, id: i64, method: &str, params: Value) -> (u16, Value) {
    let (status, msgs) = send(url, id, method, with_meta(params), &[]).await;
    (status, response(msgs, id))
}

fn response(msgs: Vec<Value>, id: i64) -> Value {
    msgs.into_iter()
        .find(|m| m["id"] == json!(id) && m.get("method").is_none())
        .expect("a response")
}

#[tokio::test]
async fn discover_describes_the_server_without_a_session() {
    let t = start_modern().await;
    let (status, r) = call(&t.url, 1, "server/discover", json!({})).await;
    assert_eq!(status, 200, "{r}");
    let result = &r["result"];
    assert_eq!(result["supportedVersions"], json!([V]));
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["ttlMs"], 0);
    assert_eq!(result["cacheScope"], "private");
    assert_eq!(result["instructions"], "test instructions");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "test-server"
    );
    // Change notifications reach modern clients through subscriptions/listen.
    assert_eq!(
        result["capabilities"]["tools"],
        json!({"listChanged": true})
    );
    assert_eq!(
        result["capabilities"]["resources"],
        json!({"subscribe": true, "listChanged": true})
    );
    assert!(t.server.sessions().is_empty(), "no session was made");
}

#[tokio::test]
async fn requests_without_the_modern_meta_get_invalid_params_400() {
    let t = start_modern().await;
    let no_version = json!({"_meta": {"io.modelcontextprotocol/clientCapabilities": {}}});
    let no_caps = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": V}});
    for (i, params) in [json!({}), no_version, no_caps].into_iter().enumerate() {
        let id = 10 + i as i64;
        let (status, msgs) = send(&t.url, id, "server/discover", params.clone(), &[]).await;
        let r = response(msgs, id);
        assert_eq!(status, 400, "{params}");
        assert_eq!(r["error"]["code"], -32602, "{params}");
    }
    // A request with neither a session nor `_meta` is answered the same way
    // (a dual-era client recognizes the modern error).
    let (status, msgs) = send(&t.url, 20, "tools/list", json!({}), &[]).await;
    assert_eq!(status, 400);
    assert_eq!(response(msgs, 20)["error"]["code"], -32602);
}

#[tokio::test]
async fn an_unsupported_version_gets_32022_with_the_supported_list() {
    let t = start_modern().await;
    let mut m = meta();
    m["io.modelcontextprotocol/protocolVersion"] = json!("v999.0.0");
    let (status, msgs) = send(
        &t.url,
        3,
        "server/discover",
        json!({"_meta": m}),
        &[("mcp-protocol-version", Some("v999.0.0"))],
    )
    .await;
    let r = response(msgs, 3);
    assert_eq!(status, 400);
    assert_eq!(r["error"]["code"], -32022);
    assert_eq!(r["error"]["data"]["supported"], json!([V]));
    assert_eq!(r["error"]["data"]["requested"], "v999.0.0");
}

#[tokio::test]
async fn headers_that_do_not_match_the_body_get_32020() {
    let t = start_modern().await;
    let echo = json!({"name": "echo", "arguments": {"text": "hi"}});
    let cases: &[&[(&str, Option<&str>)]] = &[
        &[("mcp-protocol-version", None)],
        &[("mcp-protocol-version", Some("2025-11-25"))],
        &[("mcp-method", None)],
        &[("mcp-method", Some("tools/list"))],
        &[("mcp-name", None)],
        &[("mcp-name", Some("other"))],
        &[("mcp-name", Some("=?base64?b3RoZXI=?="))], // "other"
        &[("mcp-name", Some("=?base64?not base64?="))],
    ];
    for (i, overrides) in cases.iter().enumerate() {
        let id = 30 + i as i64;
        let (status, msgs) =
            send(&t.url, id, "tools/call", with_meta(echo.clone()), overrides).await;
        let r = response(msgs, id);
        assert_eq!(status, 400, "{overrides:?}: {r}");
        assert_eq!(r["error"]["code"], -32020, "{overrides:?}: {r}");
    }
    // The base64 form of the right name is accepted.
    let (status, msgs) = send(
        &t.url,
        40,
        "tools/call",
        with_meta(echo),
        &[("mcp-name", Some("=?base64?ZWNobw==?="))], // "echo"
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(response(msgs, 40)["result"]["content"][0]["text"], "hi");
}

/// A server with one tool whose `region` and `limit` arguments are
/// mirrored into `Mcp-Param-*` headers (SEP-2243).
async fn start_with_param_headers() -> TestServer {
    let server = mcpgen_runtime::Server::builder(r#"{"name":"h","version":"1"}"#)
        .tool(
            r#"{"name":"query","inputSchema":{"type":"object","properties":{
                "region":{"type":"string","x-mcp-header":"Region"},
                "limit":{"type":"integer","x-mcp-header":"Limit"},
                "sql":{"type":"string"}},"required":["sql"]}}"#,
            |_ctx, a: Value| async move {
                Ok(mcpgen_runtime::model::CallToolResult::text(format!(
                    "{} {}",
                    a["region"], a["limit"]
                )))
            },
        )
        .build()
        .expect("server builds");
    let t = serve(server, Default::default(), HttpConfig::default()).await;
    t.server.set_protocol_2026(true);
    t
}

#[tokio::test]
async fn mcp_param_headers_must_match_the_arguments() {
    let t = start_with_param_headers().await;
    let args =
        json!({"name": "query", "arguments": {"region": "Hello, 世界", "limit": 42, "sql": "x"}});
    let good: &[(&str, Option<&str>)] = &[
        ("mcp-param-region", Some("=?base64?SGVsbG8sIOS4lueVjA==?=")),
        ("Mcp-Param-Limit", Some("42")),
    ];
    let (status, msgs) = send(&t.url, 1, "tools/call", with_meta(args.clone()), good).await;
    let r = response(msgs, 1);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["result"]["content"][0]["text"], "\"Hello, 世界\" 42");
    // Without the arguments, no header is expected.
    let bare = json!({"name": "query", "arguments": {"sql": "x"}});
    let (status, msgs) = send(&t.url, 2, "tools/call", with_meta(bare.clone()), &[]).await;
    assert_eq!(status, 200, "{:?}", msgs);
    let cases: &[&[(&str, Option<&str>)]] = &[
        &[good[1]],                                                   // Region missing
        &[good[0]],                                                   // Limit missing
        &[("mcp-param-region", Some("Hello")), good[1]],              // other value
        &[good[0], ("mcp-param-limit", Some("41"))],                  // other number
        &[("mcp-param-region", Some("=?base64?SGVsbG8?=")), good[1]], // bad padding
    ];
    for (i, overrides) in cases.iter().enumerate() {
        let id = 10 + i as i64;
        let (status, msgs) =
            send(&t.url, id, "tools/call", with_meta(args.clone()), overrides).await;
        let r = response(msgs, id);
        assert_eq!(status, 400, "{overrides:?}: {r}");
        assert_eq!(r["error"]["code"], -32020, "{overrides:?}: {r}");
    }
    // A header for an argument the body lacks.
    let (status, msgs) = send(&t.url, 20, "tools/call", with_meta(bare), &[good[1]]).await;
    assert_eq!(
        (status, response(msgs, 20)["error"]["code"].clone()),
        (400, json!(-32020))
    );
    // The session era has no such headers: nothing is checked there.
    let s = Session::open(&t.url).await;
    let r = s.result(21, "tools/call", args).await;
    assert_eq!(
        r["result"]["content"][0]["text"], "\"Hello, 世界\" 42",
        "{r}"
    );
}

#[tokio::test]
async fn unknown_and_session_era_methods_are_404_method_not_found() {
    let t = start_modern().await;
    for (i, method) in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "unknown/method",
    ]
    .into_iter()
    .enumerate()
    {
        let id = 50 + i as i64;
        let (status, r) = call(&t.url, id, method, json!({})).await;
        assert_eq!(status, 404, "{method}");
        assert_eq!(r["error"]["code"], -32601, "{method}");
        assert_eq!(r["id"], id, "{method}: the id is echoed");
    }
}

#[tokio::test]
async fn get_and_delete_from_a_modern_client_are_405() {
    let t = start_modern().await;
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = client()
            .request(method.clone(), &t.url)
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", V)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
        assert_eq!(r.headers()["allow"], "POST");
    }
}

#[tokio::test]
async fn tools_resources_prompts_and_completion_are_served_statelessly() {
    let t = start_modern().await;
    let (_, first) = call(&t.url, 1, "tools/list", json!({})).await;
    let (_, again) = call(&t.url, 2, "tools/list", json!({})).await;
    let names = |r: &Value| -> Vec<String> {
        r["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["echo", "progress", "rendezvous", "panics"]);
    assert_eq!(names(&first), names(&again), "the order is stable");
    assert_eq!(first["result"]["resultType"], "complete");
    assert_eq!(first["result"]["ttlMs"], 0);
    assert_eq!(first["result"]["cacheScope"], "private");
    assert!(first["result"]["nextCursor"].is_string());

    let (status, r) = call(
        &t.url,
        3,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi"}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(r["result"]["content"][0]["text"], "hi");
    assert_eq!(r["result"]["resultType"], "complete");
    assert!(
        r["result"].get("ttlMs").is_none(),
        "tools/call is not cacheable"
    );
    assert_eq!(
        r["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["version"],
        "1.0.0"
    );

    let (_, r) = call(&t.url, 4, "resources/read", json!({"uri": "test://text"})).await;
    assert_eq!(r["result"]["contents"][0]["text"], "hello");
    assert_eq!(r["result"]["cacheScope"], "private");
    let (_, r) = call(&t.url, 5, "resources/templates/list", json!({})).await;
    assert_eq!(r["result"]["ttlMs"], 0);
    let (status, r) = call(&t.url, 6, "resources/read", json!({"uri": "test://nope"})).await;
    assert_eq!(status, 200);
    assert_eq!(r["error"]["code"], -32602, "SEP-2164: unknown resource");

    let (_, r) = call(
        &t.url,
        7,
        "prompts/get",
        json!({"name": "greet", "arguments": {"name": "Ann"}}),
    )
    .await;
    assert_eq!(r["result"]["messages"][0]["content"]["text"], "Hello Ann!");
    assert_eq!(r["result"]["resultType"], "complete");
    let (_, r) = call(
        &t.url,
        8,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "al"}}),
    )
    .await;
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["alice", "albert"])
    );
    assert!(t.server.sessions().is_empty(), "no session was made");
}

#[tokio::test]
async fn progress_streams_and_logs_only_when_the_request_asks() {
    let t = start_modern().await;
    let mut params = with_meta(json!({"name": "progress", "arguments": {}}));
    params["_meta"]["progressToken"] = json!("p");
    let (status, msgs) = send(&t.url, 1, "tools/call", params.clone(), &[]).await;
    assert_eq!(status, 200);
    let methods: Vec<&str> = msgs.iter().filter_map(|m| m["method"].as_str()).collect();
    assert_eq!(
        methods, ["notifications/progress"; 3],
        "no logs without logLevel"
    );
    assert_eq!(response(msgs, 1)["result"]["content"][0]["text"], "done");

    params["_meta"]["io.modelcontextprotocol/logLevel"] = json!("info");
    let (_, msgs) = send(&t.url, 2, "tools/call", params, &[]).await;
    let logs = msgs
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .count();
    assert_eq!(logs, 3);
}

#[tokio::test]
async fn a_capability_the_request_did_not_declare_is_32021() {
    let t = start_modern().await;
    let (status, r) = call(
        &t.url,
        1,
        "tools/call",
        json!({"name": "sample", "arguments": {}}),
    )
    .await;
    assert_eq!(status, 400, "{r}");
    assert_eq!(r["error"]["code"], -32021);
    assert_eq!(
        r["error"]["data"]["requiredCapabilities"],
        json!({"sampling": {}})
    );

    // Declared: the request ends with an InputRequiredResult (MRTR).
    let mut params = with_meta(json!({"name": "sample", "arguments": {}}));
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({"sampling": {}});
    let (status, msgs) = send(&t.url, 2, "tools/call", params, &[]).await;
    let r = response(msgs, 2);
    assert_eq!(status, 200);
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
}

#[tokio::test]
async fn a_panicking_handler_is_a_tool_error_on_the_modern_path_too() {
    let t = start_modern().await;
    let (status, r) = call(
        &t.url,
        1,
        "tools/call",
        json!({"name": "panics", "arguments": {}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(r["result"]["isError"], true);
    assert_eq!(r["result"]["resultType"], "complete");
}

#[tokio::test]
async fn the_session_era_is_unchanged_beside_it() {
    let t = start_modern().await;
    let s = Session::open(&t.url).await;
    let r = s
        .result(
            1,
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "old"}}),
        )
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "old");
    assert!(r["result"].get("resultType").is_none());
    assert!(r["result"].get("_meta").is_none());
    let r = s.result(2, "ping", json!({})).await;
    assert_eq!(r["result"], json!({}));
    // The modern path meanwhile makes no session of its own.
    let (status, _) = call(&t.url, 3, "tools/list", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(t.server.sessions().len(), 1);
}

#[tokio::test]
async fn stdio_serves_both_eras_and_never_exits_before_initialize() {
    let server = server(Arc::default());
    server.set_protocol_2026(true);
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (server_read, server_write) = tokio::io::split(server_end);
    let serving = tokio::spawn(mcpgen_runtime::transport::stdio::serve_io(
        server,
        server_read,
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client_end);
    let mut lines = BufReader::new(client_read).lines();
    let mut ask = async |msg: Value| -> Value {
        client_write
            .write_all(format!("{msg}\n").as_bytes())
            .await
            .unwrap();
        loop {
            let line = lines.next_line().await.unwrap().expect("an answer");
            let v: Value = serde_json::from_str(&line).unwrap();
            if v.get("id") == msg.get("id") && v.get("method").is_none() {
                return v;
            }
        }
    };
    let r = ask(body(1, "server/discover", json!({"_meta": meta()}))).await;
    assert_eq!(r["result"]["supportedVersions"], json!([V]));
    let r = ask(body(2, "server/discover", json!({}))).await;
    assert_eq!(r["error"]["code"], -32602);
    let r = ask(body(
        3,
        "tools/call",
        with_meta(json!({"name": "echo", "arguments": {"text": "x"}})),
    ))
    .await;
    assert_eq!(r["result"]["content"][0]["text"], "x");
    assert_eq!(r["result"]["resultType"], "complete");
    let r = ask(body(4, "ping", json!({"_meta": meta()}))).await;
    assert_eq!(r["error"]["code"], -32601);
    // Still serving: the session era starts with initialize as before.
    let r = ask(init_body(5)).await;
    assert_eq!(r["result"]["protocolVersion"], "2025-11-25");
    let r = ask(body(6, "tools/list", json!({}))).await;
    assert!(r["result"].get("resultType").is_none());
    assert!(!serving.is_finished());
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_its_request() {
    let t = start_modern().await;
    for (id, log_level) in [(1, None), (2, Some("info"))] {
        t.probes
            .cancelled
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let mut params = with_meta(json!({"name": "wait_for_cancel", "arguments": {}}));
        if let Some(level) = log_level {
            // The handler's log line turns the answer into a stream first.
            params["_meta"]["io.modelcontextprotocol/logLevel"] = json!(level);
        }
        let request = modern_post(&t.url, "tools/call", &params, &[])
            .body(body(id, "tools/call", params.clone()).to_string())
            .send();
        match tokio::time::timeout(std::time::Duration::from_millis(300), request).await {
            Err(_) => {}               // gave up while waiting for the answer
            Ok(r) => drop(r.unwrap()), // gave up reading the stream
        }
        // The handler sees the cancellation long before its own 10 s end.
        let mut seen = false;
        for _ in 0..80 {
            if t.probes.cancelled.load(std::sync::atomic::Ordering::SeqCst) {
                seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(seen, "request {id} was not cancelled");
    }
}

#[tokio::test]
async fn switched_off_a_modern_request_gets_the_session_era_answer() {
    let t = start(HttpConfig::default()).await;
    assert!(t.server.serves_protocol_2026(), "on by default");
    t.server.set_protocol_2026(false);
    let (status, r) = call(&t.url, 1, "server/discover", json!({})).await;
    assert_eq!(status, 400);
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("Mcp-Session-Id"), "{message}");
    let r = client()
        .get(&t.url)
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", V)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "GET is the session era's again");

    // stdio: not initialized, a non-modern error (dual-era clients fall back).
    let server = server(Arc::default());
    server.set_protocol_2026(false);
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (server_read, server_write) = tokio::io::split(server_end);
    tokio::spawn(mcpgen_runtime::transport::stdio::serve_io(
        server,
        server_read,
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client_end);
    let discover = body(2, "server/discover", json!({"_meta": meta()}));
    client_write
        .write_all(format!("{discover}\n").as_bytes())
        .await
        .unwrap();
    let line = BufReader::new(client_read)
        .lines()
        .next_line()
        .await
        .unwrap()
        .expect("an answer");
    let r: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(r["error"]["code"], -32600, "{r}");
}

#[tokio::test]
async fn cache_hints_of_the_server_replace_the_defaults() {
    use mcpgen_runtime::prelude::*;
    let built = Server::builder(r#"{"name":"cached","version":"1.0.0"}"#)
        .resource_text(r#"{"uri":"test://a","name":"a"}"#, "A")
        .cache_hints(60_000, "public")
        .build()
        .unwrap();
    built.set_protocol_2026(true);
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (server_read, server_write) = tokio::io::split(server_end);
    tokio::spawn(mcpgen_runtime::transport::stdio::serve_io(
        built,
        server_read,
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client_end);
    let mut lines = BufReader::new(client_read).lines();
    for (id, method, params) in [
        (1, "resources/list", json!({})),
        (2, "resources/read", json!({"uri": "test://a"})),
        (3, "server/discover", json!({})),
    ] {
        let msg = body(id, method, with_meta(params));
        client_write
            .write_all(format!("{msg}\n").as_bytes())
            .await
            .unwrap();
        let r: Value =
            serde_json::from_str(&lines.next_line().await.unwrap().expect("an answer")).unwrap();
        assert_eq!(r["result"]["ttlMs"], 60_000, "{method}: {r}");
        assert_eq!(r["result"]["cacheScope"], "public", "{method}");
    }

    let refused = Server::builder(r#"{"name":"cached","version":"1.0.0"}"#)
        .cache_hints(1, "shared")
        .build();
    let message = refused
        .err()
        .expect("an invalid scope is refused")
        .to_string();
    assert!(message.contains("public"), "{message}");
}

#[tokio::test]
async fn a_list_with_hints_of_its_own_gets_them_and_the_others_the_servers() {
    use mcpgen_runtime::prelude::*;
    use mcpgen_runtime::testing::TestClient;
    let built = Server::builder(r#"{"name":"cached","version":"1.0.0"}"#)
        .resource_text(r#"{"uri":"test://a","name":"a"}"#, "A")
        .list_cache_hints("tools/list", 5_000, "public")
        .cache_hints(60_000, "private")
        .list_cache_hints("resources/list", 7_000, "public")
        .build()
        .unwrap();
    let client = TestClient::connect(built).await.unwrap();
    for (method, params, ttl, scope) in [
        ("tools/list", json!({}), 5_000, "public"),
        ("resources/list", json!({}), 7_000, "public"),
        ("prompts/list", json!({}), 60_000, "private"),
        (
            "resources/read",
            json!({"uri": "test://a"}),
            60_000,
            "private",
        ),
        ("server/discover", json!({}), 60_000, "private"),
    ] {
        let r = client.request_2026(method, params).await.unwrap();
        assert_eq!(
            (r["ttlMs"].as_u64(), r["cacheScope"].as_str()),
            (Some(ttl), Some(scope)),
            "{method}: {r}"
        );
    }
    // The session era has no caching hints.
    let r = client.request("tools/list", json!({})).await.unwrap();
    assert!(r.get("ttlMs").is_none(), "{r}");
    for (method, scope, expected) in [
        (
            "resources/read",
            "public",
            "not a list with hints of its own",
        ),
        ("tools/list", "shared", "scope must be"),
    ] {
        let e = Server::builder(r#"{"name":"c","version":"1"}"#)
            .list_cache_hints(method, 1, scope)
            .build()
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains(expected), "{method} {scope}: {e}");
    }
}

/// A `tools/call` of `interview` declaring elicitation and sampling, with
/// the MRTR fields given.
fn interview(topic: &str, responses: Option<Value>, state: Option<&str>) -> Value {
    let mut params = with_meta(json!({"name": "interview", "arguments": {"topic": topic}}));
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] =
        json!({"elicitation": {}, "sampling": {}});
    if let Some(r) = responses {
        params["inputResponses"] = r;
    }
    if let Some(s) = state {
        params["requestState"] = json!(s);
    }
    params
}

async fn round(url: &str, id: i64, params: Value) -> (u16, Value) {
    let (status, msgs) = send(url, id, "tools/call", params, &[]).await;
    (status, response(msgs, id))
}

#[tokio::test]
async fn a_handler_asking_for_input_runs_again_with_the_answers() {
    let t = start_modern().await;
    let (status, r1) = round(&t.url, 1, interview("rust", None, None)).await;
    assert_eq!(status, 200);
    let res = &r1["result"];
    assert_eq!(res["resultType"], "input_required", "{r1}");
    assert_eq!(
        res["inputRequests"]["input-1"]["method"],
        "elicitation/create"
    );
    assert_eq!(res["inputRequests"].as_object().unwrap().len(), 1);
    assert!(res.get("ttlMs").is_none() && res.get("content").is_none());
    assert!(res["_meta"]["io.modelcontextprotocol/serverInfo"].is_object());
    let state1 = res["requestState"].as_str().unwrap().to_owned();
    assert!(
        !state1.contains("input-1"),
        "the state is sealed, not readable"
    );

    let name = json!({"input-1": {"action": "accept", "content": {"name": "Ada"}}});
    let (_, r2) = round(&t.url, 2, interview("rust", Some(name), Some(&state1))).await;
    let res = &r2["result"];
    assert_eq!(res["resultType"], "input_required", "{r2}");
    assert_eq!(
        res["inputRequests"]["input-2"]["method"],
        "sampling/createMessage"
    );
    assert_eq!(
        res["inputRequests"]["input-2"]["params"]["messages"][0]["content"]["text"],
        "rust"
    );
    let state2 = res["requestState"].as_str().unwrap().to_owned();
    assert_ne!(state1, state2);

    // The second round answers only the new input: the first answer comes
    // back from the state.
    let said = json!({"input-2": {"role": "assistant", "content": {"type": "text", "text": "fast"}, "model": "m"}});
    let (_, r3) = round(&t.url, 3, interview("rust", Some(said), Some(&state2))).await;
    assert_eq!(r3["result"]["resultType"], "complete", "{r3}");
    assert_eq!(r3["result"]["content"][0]["text"], "Ada on rust: fast");
    assert!(t.server.sessions().is_empty(), "no session was made");
}

#[tokio::test]
async fn a_tampered_request_state_is_invalid_params() {
    let t = start_modern().await;
    let (_, r1) = round(&t.url, 1, interview("rust", None, None)).await;
    let state = r1["result"]["requestState"].as_str().unwrap().to_owned();
    let name = json!({"input-1": {"action": "accept", "content": {"name": "Ada"}}});
    let mut flipped = state.clone().into_bytes();
    let i = flipped.len() / 2;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for bad in [format!("{state}-TAMPERED"), flipped, "".into()] {
        let (status, r) = round(&t.url, 2, interview("rust", Some(name.clone()), Some(&bad))).await;
        assert_eq!(status, 200);
        assert_eq!(r["error"]["code"], -32602, "{r}");
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(msg.contains("integrity"), "{msg}");
    }
}

#[tokio::test]
async fn a_request_state_from_another_request_is_invalid_params() {
    let t = start_modern().await;
    let (_, r1) = round(&t.url, 1, interview("rust", None, None)).await;
    let state = r1["result"]["requestState"].as_str().unwrap().to_owned();
    let name = json!({"input-1": {"action": "accept", "content": {"name": "Ada"}}});
    // Other arguments.
    let (_, r) = round(&t.url, 2, interview("go", Some(name.clone()), Some(&state))).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another request")
    );
    // Another tool.
    let mut params = with_meta(json!({"name": "sample", "arguments": {}, "requestState": state}));
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({"sampling": {}});
    let (_, r) = round(&t.url, 3, params).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // A state issued by a server with another key.
    let other = start_modern().await;
    let (_, r) = round(&other.url, 4, interview("rust", Some(name), Some(&state))).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("integrity")
    );
}

#[tokio::test]
async fn instances_sharing_a_state_key_accept_each_others_states() {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let (a, b) = (start_modern().await, start_modern().await);
    for t in [&a, &b] {
        let k = mcpgen_runtime::modern::StateKey::from_base64(&key).unwrap();
        assert!(t.server.set_state_key(k));
    }
    let (_, r1) = round(&a.url, 1, interview("rust", None, None)).await;
    let state = r1["result"]["requestState"].as_str().unwrap().to_owned();
    let name = json!({"input-1": {"action": "accept", "content": {"name": "Ada"}}});
    let (_, r2) = round(&b.url, 2, interview("rust", Some(name), Some(&state))).await;
    assert_eq!(r2["result"]["resultType"], "input_required", "{r2}");
    assert!(r2["result"]["inputRequests"]["input-2"].is_object());
}

#[tokio::test]
async fn malformed_input_responses_are_invalid_params() {
    let t = start_modern().await;
    for bad in [
        json!(null),
        json!([]),
        json!({"input-1": 12345}),
        json!({"input-1": {"action": "perhaps"}}),
    ] {
        let (status, r) = round(&t.url, 1, interview("rust", Some(bad.clone()), None)).await;
        assert_eq!(status, 200);
        assert_eq!(r["error"]["code"], -32602, "{bad}: {r}");
    }
    // Answers to inputs the handler never asks for are ignored.
    let extra =
        json!({"input-1": {"action": "accept", "content": {"name": "Ada"}}, "other": {"x": 1}});
    let (_, r) = round(&t.url, 2, interview("rust", Some(extra), None)).await;
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
    assert_eq!(r["result"]["inputRequests"].as_object().unwrap().len(), 1);
}

/// A request whose client declared no capability an ask needs opens no
/// round (`Server::open_round`): its answers are still checked, and its
/// asks still refused, as when it had one.
#[tokio::test]
async fn a_client_that_cannot_answer_is_judged_as_with_a_round() {
    let t = start_modern().await;
    let undeclared = |responses: Option<Value>, state: Option<&str>| {
        let mut p = interview("rust", responses, state);
        p["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({"experimental": {}});
        p
    };
    for bad in [json!(null), json!([]), json!({"input-1": 12345})] {
        let (status, r) = round(&t.url, 1, undeclared(Some(bad.clone()), None)).await;
        assert_eq!(
            (status, &r["error"]["code"]),
            (200, &json!(-32602)),
            "{bad}: {r}"
        );
    }
    let (status, r) = round(&t.url, 2, undeclared(None, Some("not-a-state"))).await;
    assert_eq!((status, &r["error"]["code"]), (200, &json!(-32602)), "{r}");
    let mut p = undeclared(None, None);
    p["requestState"] = json!(7);
    let (_, r) = round(&t.url, 3, p).await;
    assert_eq!(
        r["error"]["message"], "requestState must be a string",
        "{r}"
    );
    // Valid answers, or none: the handler's ask is -32021 either way.
    let answer = json!({"input-1": {"action": "accept", "content": {"name": "Ada"}}});
    for responses in [None, Some(answer)] {
        let (status, r) = round(&t.url, 4, undeclared(responses, None)).await;
        assert_eq!(status, 400, "{r}");
        assert_eq!(r["error"]["code"], -32021, "{r}");
        assert_eq!(
            r["error"]["data"]["requiredCapabilities"],
            json!({"elicitation": {}})
        );
    }
}

#[tokio::test]
async fn a_session_client_still_gets_real_requests_from_the_same_handler() {
    let t = start_modern().await;
    let s = Session::open(&t.url).await;
    let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "interview", "arguments": {"topic": "rust"}}});
    let mut sse = SseReader::new(s.post(call).await);
    let ask = sse.next_message().await.unwrap();
    assert_eq!(ask["method"], "elicitation/create");
    let answer = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {"name": "Ada"}}});
    assert_eq!(s.post(answer).await.status(), 202);
    let ask = sse.next_message().await.unwrap();
    assert_eq!(ask["method"], "sampling/createMessage");
    let answer = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "fast"}, "model": "m"}});
    assert_eq!(s.post(answer).await.status(), 202);
    let r = sse.next_message().await.unwrap();
    assert_eq!(r["result"]["content"][0]["text"], "Ada on rust: fast");
    assert!(r["result"].get("resultType").is_none());
}

/// Open a `subscriptions/listen` with `notifications`; the stream, after
/// its acknowledgment (returned too).
async fn listen(url: &str, id: i64, notifications: Value) -> (SseReader, Value) {
    let params = with_meta(json!({ "notifications": notifications }));
    let r = modern_post(url, "subscriptions/listen", &params, &[])
        .body(body(id, "subscriptions/listen", params.clone()).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("text/event-stream"));
    let mut sse = SseReader::new(r);
    let ack = sse.next_message().await.expect("an acknowledgment");
    (sse, ack)
}

const SUB_ID: &str = "io.modelcontextprotocol/subscriptionId";

#[tokio::test]
async fn listen_acknowledges_first_then_delivers_only_what_was_asked() {
    let t = start_modern().await;
    let asked =
        json!({"toolsListChanged": true, "resourceSubscriptions": ["test://text", "nope://x"]});
    let (mut sse, ack) = listen(&t.url, 41, asked).await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(ack["params"]["_meta"][SUB_ID], 41);
    // What the server can deliver: not the unknown resource.
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["test://text"]})
    );
    assert_eq!(t.server.listener_count(), 1);
    // Not asked for, sent first: they must not arrive.
    t.server.notify_list_changed("prompts");
    t.server.notify_resource_updated("test://blob");
    t.server.notify_list_changed("tools");
    t.server.notify_resource_updated("test://text");
    let n = sse.next_message().await.unwrap();
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(n["params"]["_meta"][SUB_ID], 41);
    let n = sse.next_message().await.unwrap();
    assert_eq!(n["method"], "notifications/resources/updated");
    assert_eq!(n["params"]["uri"], "test://text");
    assert_eq!(n["params"]["_meta"][SUB_ID], 41);
    // Closing the stream ends the subscription.
    drop(sse);
    let mut open = t.server.listener_count();
    for _ in 0..100 {
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        open = t.server.listener_count();
    }
    assert_eq!(open, 0, "the listener is gone");
}

#[tokio::test]
async fn a_malformed_listen_filter_is_invalid_params() {
    let t = start_modern().await;
    for bad in [json!({}), json!({"notifications": {"toolsListChanged": 1}})] {
        let (status, r) = call(&t.url, 1, "subscriptions/listen", bad.clone()).await;
        assert_eq!(status, 200, "{bad}");
        assert_eq!(r["error"]["code"], -32602, "{bad}: {r}");
    }
    assert_eq!(t.server.listener_count(), 0);
}

#[tokio::test]
async fn changes_reach_listeners_and_sessions_alike() {
    let t = start_modern().await;
    // The session era: resources/subscribe, and the GET stream.
    let s = Session::open(&t.url).await;
    let r = s
        .result(1, "resources/subscribe", json!({"uri": "test://text"}))
        .await;
    assert!(r.get("result").is_some(), "{r}");
    let get = client()
        .get(&t.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &s.id)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let mut legacy = SseReader::new(get);
    // The modern era: a listen stream.
    let asked = json!({"promptsListChanged": true, "resourceSubscriptions": ["test://text"]});
    let (mut modern, _) = listen(&t.url, 7, asked).await;
    // A modern client changes the resource, a session client announces a
    // prompt list change: both eras hear of both.
    let (_, r) = call(
        &t.url,
        2,
        "tools/call",
        json!({"name": "touch", "arguments": {"uri": "test://text"}}),
    )
    .await;
    assert_eq!(r["result"]["content"][0]["text"], "touched", "{r}");
    t.server.notify_list_changed("prompts");
    let mut seen_legacy = vec![];
    while seen_legacy.len() < 2 {
        let m = legacy.next_message().await.unwrap();
        seen_legacy.push(m["method"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        seen_legacy,
        [
            "notifications/resources/updated",
            "notifications/prompts/list_changed"
        ]
    );
    let m = modern.next_message().await.unwrap();
    assert_eq!(m["method"], "notifications/resources/updated");
    assert_eq!(m["params"]["uri"], "test://text");
    let m = modern.next_message().await.unwrap();
    assert_eq!(m["method"], "notifications/prompts/list_changed");
    assert_eq!(m["params"]["_meta"][SUB_ID], 7);
}

#[tokio::test]
async fn stdio_listens_until_end_of_input() {
    let server = server(Arc::default());
    server.set_protocol_2026(true);
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (server_read, server_write) = tokio::io::split(server_end);
    let serving = tokio::spawn(mcpgen_runtime::transport::stdio::serve_io(
        server.clone(),
        server_read,
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client_end);
    let mut lines = BufReader::new(client_read).lines();
    let listen = body(
        3,
        "subscriptions/listen",
        with_meta(json!({"notifications": {"toolsListChanged": true}})),
    );
    client_write
        .write_all(format!("{listen}\n").as_bytes())
        .await
        .unwrap();
    let mut next = async || -> Value {
        let line = lines.next_line().await.unwrap().expect("a message");
        serde_json::from_str(&line).unwrap()
    };
    let ack = next().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(ack["params"]["_meta"][SUB_ID], 3);
    server.notify_list_changed("tools");
    let n = next().await;
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(n["params"]["_meta"][SUB_ID], 3);
    // End of input ends the listen at once, not after the drain grace.
    client_write.shutdown().await.unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), serving).await;
    assert!(ended.is_ok(), "stdio ended promptly");
}

#[tokio::test]
async fn a_quiet_listen_stream_gets_keep_alive_comments() {
    let mut config = HttpConfig::default();
    config.keep_alive = std::time::Duration::from_millis(100);
    let t = start(config).await;
    let params = with_meta(json!({"notifications": {"toolsListChanged": true}}));
    let mut r = modern_post(&t.url, "subscriptions/listen", &params, &[])
        .body(body(1, "subscriptions/listen", params.clone()).to_string())
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !text.contains(": keep-alive") && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(std::time::Duration::from_secs(1), r.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    assert!(
        text.contains("notifications/subscriptions/acknowledged"),
        "{text}"
    );
    assert!(text.contains(": keep-alive"), "{text}");
}

//! A small server exercising every runtime feature, and an HTTP client that
//! speaks just enough Streamable HTTP to test the transport from outside.

#![allow(dead_code)]

pub(crate) mod redis;

use mcpgen_runtime::prelude::*;
use mcpgen_runtime::transport::http::{self, HttpConfig};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Barrier;

#[derive(Deserialize)]
pub(crate) struct EchoArgs {
    pub text: String,
}

#[derive(Deserialize)]
pub(crate) struct NoArgs {}

#[derive(Deserialize)]
pub(crate) struct UserParams {
    pub id: String,
}

#[derive(Default)]
pub(crate) struct Probes {
    pub cancelled: AtomicBool,
}

pub(crate) const OBJECT: &str = r#"{"type":"object"}"#;

fn tool(name: &str, schema: &str) -> String {
    format!(r#"{{"name":"{name}","description":"test tool {name}","inputSchema":{schema}}}"#)
}

pub(crate) fn server(probes: Arc<Probes>) -> Server {
    let builder = Server::builder(r#"{"name":"test-server","version":"1.0.0"}"#)
        .instructions("test instructions");
    let builder = tools_that_run(builder, probes);
    let builder = tools_that_ask_the_client(builder);
    resources_prompts_and_completions(builder)
        .page_size(4)
        .build()
        .expect("test server builds")
}

/// Tools that echo, report progress, meet, panic, wait to be cancelled
/// and nap (listed first, in this order).
fn tools_that_run(builder: ServerBuilder, probes: Arc<Probes>) -> ServerBuilder {
    let barrier = Arc::new(Barrier::new(2));
    builder
        .tool(
            &tool("echo", r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}"#),
            |_ctx, a: EchoArgs| async move { Ok(CallToolResult::text(a.text)) },
        )
        .tool(&tool("progress", OBJECT), |ctx, _: NoArgs| async move {
            for i in 1..=3 {
                ctx.progress(i as f64, Some(3.0), Some("step"));
                ctx.info(format!("step {i}"));
            }
            Ok(CallToolResult::text("done"))
        })
        .tool(&tool("rendezvous", OBJECT), move |_ctx, _: NoArgs| {
            let barrier = barrier.clone();
            async move {
                // Both calls must be in flight at once to get past this.
                match tokio::time::timeout(Duration::from_secs(5), barrier.wait()).await {
                    Ok(_) => Ok(CallToolResult::text("met")),
                    Err(_) => Err(ToolError::new("calls were not concurrent")),
                }
            }
        })
        .tool(&tool("panics", OBJECT), |_ctx, _: NoArgs| async move {
            if true {
                panic!("boom");
            }
            Ok(CallToolResult::text("unreachable"))
        })
        .tool(&tool("wait_for_cancel", OBJECT), {
            let probes = probes.clone();
            move |ctx, _: NoArgs| {
                let probes = probes.clone();
                async move {
                    ctx.info("waiting");
                    tokio::select! {
                        _ = ctx.cancelled() => probes.cancelled.store(true, Ordering::SeqCst),
                        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
                    }
                    Ok(CallToolResult::text("not cancelled"))
                }
            }
        })
        .tool(&tool("nap", OBJECT), |_ctx, _: NoArgs| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(CallToolResult::text("rested"))
        })
}

/// Tools that sample, elicit, reconnect, notify and return structured
/// content (listed after [`tools_that_run`]).
fn tools_that_ask_the_client(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(&tool("sample", OBJECT), |ctx, _: NoArgs| async move {
            let answer = ctx
                .create_message(json!({"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"maxTokens":10}))
                .await?;
            Ok(CallToolResult::text(format!("model said: {}", answer["content"]["text"].as_str().unwrap_or("?"))))
        })
        .tool(&tool("reconnect", OBJECT), |ctx, _: NoArgs| async move {
            ctx.close_sse_stream(Duration::from_millis(50));
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(CallToolResult::text("after reconnect"))
        })
        .tool(&tool("touch", r#"{"type":"object","properties":{"uri":{"type":"string"}}}"#), |ctx, a: Value| async move {
            ctx.notify_resource_updated(a["uri"].as_str().unwrap_or_default());
            Ok(CallToolResult::text("touched"))
        })
        .tool(
            r#"{"name":"typed_out","description":"d","inputSchema":{"type":"object","properties":{"bad":{"type":"boolean"}}},
                "outputSchema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}}"#,
            |_ctx, a: Value| async move {
                Ok(if a["bad"] == json!(true) {
                    CallToolResult::structured(json!({"n": "not a number"}))
                } else {
                    CallToolResult::structured(json!({"n": 7}))
                })
            },
        )
        // Two inputs, one after the other: a name (elicitation), then a
        // sample about `topic`; the same handler on both eras.
        .tool(&tool("interview", r#"{"type":"object","properties":{"topic":{"type":"string"}}}"#), |ctx, a: Value| async move {
            let name = ctx.elicit(json!({"message": "name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}})).await?;
            let topic = a["topic"].as_str().unwrap_or("nothing").to_owned();
            let said = ctx
                .create_message(json!({"messages":[{"role":"user","content":{"type":"text","text": topic}}],"maxTokens":10}))
                .await?;
            Ok(CallToolResult::text(format!(
                "{} on {topic}: {}",
                name["content"]["name"].as_str().unwrap_or("?"),
                said["content"]["text"].as_str().unwrap_or("?")
            )))
        })
}

fn resources_prompts_and_completions(builder: ServerBuilder) -> ServerBuilder {
    builder
        .resource_text(r#"{"uri":"test://text","name":"text","mimeType":"text/plain"}"#, "hello")
        .resource_blob(r#"{"uri":"test://blob","name":"blob","mimeType":"application/octet-stream"}"#, "AAEC")
        .resource_template(
            r#"{"uriTemplate":"test://users/{id}","name":"user","mimeType":"application/json"}"#,
            |_ctx, uri, p: UserParams| async move {
                Ok(ReadResourceResult::text(uri, Some("application/json"), json!({"id": p.id}).to_string()))
            },
        )
        .prompt(
            r#"{"name":"greet","description":"greeting","arguments":[{"name":"name","required":true}]}"#,
            r#"[{"role":"user","content":{"type":"text","text":"Hello {{name}}!"}}]"#,
        )
        .completion(r#"{"type":"ref/prompt","name":"greet"}"#, "name", &["alice", "albert", "bob"])
        .completion(r#"{"type":"ref/resource","uri":"test://users/{id}"}"#, "id", &["1", "2", "10"])
}

/// Wait (up to 5 s, looking every 10 ms) until `done` holds; fail with
/// `what` if it never does.
pub(crate) async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) struct TestServer {
    pub url: String,
    pub addr: std::net::SocketAddr,
    pub server: Server,
    pub probes: Arc<Probes>,
}

pub(crate) async fn start(config: HttpConfig) -> TestServer {
    let probes = Arc::new(Probes::default());
    serve(server(probes.clone()), probes, config).await
}

/// `server` over HTTP on a port of its own.
pub(crate) async fn serve(server: Server, probes: Arc<Probes>, config: HttpConfig) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The production connection loop, with its limits and timeouts.
    let served = server.clone();
    tokio::spawn(async move {
        http::serve_listener(listener, served, config, std::future::pending()).await
    });
    TestServer {
        url: format!("http://{addr}/mcp"),
        addr,
        server,
        probes,
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub(crate) const ACCEPT_BOTH: &str = "application/json, text/event-stream";

pub(crate) fn init_body(id: i64) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"initialize","params":{
        "protocolVersion":"2025-11-25",
        "capabilities":{"sampling":{},"elicitation":{},"roots":{}},
        "clientInfo":{"name":"test","version":"0"}}})
}

/// A client session: initialize + initialized, then JSON-RPC over POST.
pub(crate) struct Session {
    pub http: reqwest::Client,
    pub url: String,
    pub id: String,
}

impl Session {
    pub(crate) async fn open(url: &str) -> Session {
        let http = client();
        let r = http
            .post(url)
            .header("accept", ACCEPT_BOTH)
            .json(&init_body(0))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let id = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
        let s = Session {
            http,
            url: url.to_owned(),
            id,
        };
        let r = s
            .post(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .await;
        assert_eq!(r.status(), 202);
        s
    }

    pub(crate) async fn post(&self, body: Value) -> reqwest::Response {
        self.http
            .post(&self.url)
            .header("accept", ACCEPT_BOTH)
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", "2025-11-25")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// End the session with DELETE.
    pub(crate) async fn delete(&self) -> reqwest::Response {
        self.http
            .delete(&self.url)
            .header("mcp-session-id", &self.id)
            .send()
            .await
            .unwrap()
    }

    /// Send a request and collect every message of its answer, JSON or SSE.
    pub(crate) async fn call(&self, id: i64, method: &str, params: Value) -> Vec<Value> {
        let r = self
            .post(json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}))
            .await;
        assert_eq!(r.status(), 200, "{method}");
        read_messages(r).await
    }

    /// The final response of a request.
    pub(crate) async fn result(&self, id: i64, method: &str, params: Value) -> Value {
        let msgs = self.call(id, method, params).await;
        msgs.into_iter()
            .find(|m| m["id"] == json!(id) && m.get("method").is_none())
            .expect("a response")
    }
}

pub(crate) fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub(crate) async fn read_messages(r: reqwest::Response) -> Vec<Value> {
    if content_type(&r).starts_with("application/json") {
        return vec![r.json().await.unwrap()];
    }
    let text = r.text().await.unwrap();
    parse_sse(&text)
        .into_iter()
        .filter_map(|(_, data)| serde_json::from_str(&data).ok())
        .collect()
}

/// (id, data) of every SSE event.
pub(crate) fn parse_sse(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut id = None;
            let mut data: Option<String> = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = Some(v.strip_prefix(' ').unwrap_or(v).to_owned());
                }
            }
            data.map(|d| (id, d))
        })
        .collect()
}

/// Reads SSE events from a live response as they arrive.
pub(crate) struct SseReader {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl SseReader {
    pub(crate) fn new(r: reqwest::Response) -> Self {
        SseReader {
            stream: futures::StreamExt::boxed(r.bytes_stream()),
            buf: String::new(),
        }
    }
    /// The next event (id, data), or None when the stream ends.
    pub(crate) async fn next(&mut self) -> Option<(Option<String>, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(ev) = parse_sse(&block).into_iter().next() {
                    return Some(ev);
                }
                continue;
            }
            let chunk = tokio::time::timeout(
                Duration::from_secs(10),
                futures::StreamExt::next(&mut self.stream),
            )
            .await
            .expect("event in time")?;
            self.buf
                .push_str(std::str::from_utf8(&chunk.ok()?).unwrap());
        }
    }
    pub(crate) async fn next_message(&mut self) -> Option<Value> {
        loop {
            let (_, data) = self.next().await?;
            if !data.is_empty() {
                return Some(serde_json::from_str(&data).unwrap());
            }
        }
    }
}

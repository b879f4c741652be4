//! Shared by the upstream*.rs tests: an in-process upstream HTTP server that
//! records every raw request and answers as each test scripts, and an MCP
//! client that drives a `Server` through its protocol core.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures::future::BoxFuture;
use mcpgen_runtime::jsonrpc::Message;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::session::{Outbound, Session};
use mcpgen_runtime::upstream::UpstreamOverrides;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub method: String,
    /// Path and raw query exactly as sent (`/a/b?x=1`).
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Captured {
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    pub(crate) fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// What the upstream answers.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: vec![],
            delay: Duration::ZERO,
        }
    }
    pub(crate) fn json(status: u16, v: Value) -> Reply {
        Reply::status(status).typed("application/json", v.to_string().into_bytes())
    }
    pub(crate) fn text(status: u16, t: &str) -> Reply {
        Reply::status(status).typed("text/plain; charset=utf-8", t.as_bytes().to_vec())
    }
    pub(crate) fn typed(mut self, content_type: &str, body: Vec<u8>) -> Reply {
        self.headers
            .push(("content-type".into(), content_type.into()));
        self.body = body;
        self
    }
    pub(crate) fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub(crate) fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Script = Arc<dyn Fn(&Captured, usize) -> Reply + Send + Sync>;

/// The in-process upstream API.
pub(crate) struct Upstream {
    pub addr: SocketAddr,
    pub url: String,
    pub requests: Arc<Mutex<Vec<Captured>>>,
}

impl Upstream {
    /// `script` gets each request and how many came before it.
    pub(crate) async fn start(
        script: impl Fn(&Captured, usize) -> Reply + Send + Sync + 'static,
    ) -> Upstream {
        let requests: Arc<Mutex<Vec<Captured>>> = Arc::default();
        let script: Script = Arc::new(script);
        let app = axum::Router::new().fallback({
            let requests = requests.clone();
            move |req: Request| -> BoxFuture<'static, Response> {
                let (requests, script) = (requests.clone(), script.clone());
                Box::pin(async move {
                    let (parts, body) = req.into_parts();
                    let body = axum::body::to_bytes(body, usize::MAX)
                        .await
                        .unwrap()
                        .to_vec();
                    let captured = Captured {
                        method: parts.method.to_string(),
                        target: parts.uri.to_string(),
                        headers: parts.headers,
                        body,
                    };
                    let n = {
                        let mut r = requests.lock().unwrap();
                        r.push(captured.clone());
                        r.len() - 1
                    };
                    let reply = script(&captured, n);
                    tokio::time::sleep(reply.delay).await;
                    let mut resp = Response::new(Body::from(reply.body));
                    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap();
                    for (k, v) in reply.headers {
                        resp.headers_mut().append(
                            HeaderName::from_bytes(k.as_bytes()).unwrap(),
                            HeaderValue::from_str(&v).unwrap(),
                        );
                    }
                    resp
                })
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Upstream {
            addr,
            url: format!("http://{addr}"),
            requests,
        }
    }

    /// Answers every request with `{"ok": true}`.
    pub(crate) async fn ok() -> Upstream {
        Upstream::start(|_, _| Reply::json(200, json!({"ok": true}))).await
    }

    pub(crate) fn all(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }
    pub(crate) fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
    /// The only request, or a panic.
    pub(crate) fn one(&self) -> Captured {
        let all = self.all();
        assert_eq!(
            all.len(),
            1,
            "expected exactly one upstream request: {all:#?}"
        );
        all[0].clone()
    }
    /// The latest request.
    pub(crate) fn last(&self) -> Captured {
        self.all().pop().expect("an upstream request")
    }
    pub(crate) fn clear(&self) {
        self.requests.lock().unwrap().clear();
    }
}

/// A port with nothing listening on it.
pub(crate) async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

pub(crate) const INFO: &str = r#"{"name":"upstream-test","version":"1.0.0"}"#;

/// A tool descriptor accepting any arguments.
pub(crate) fn tool(name: &str) -> String {
    json!({"name": name, "description": "upstream test tool", "inputSchema": {"type": "object"}})
        .to_string()
}

/// Upstream settings for tests: no retries and a short timeout unless the
/// test says otherwise.
pub(crate) fn upstream_json(extra: Value) -> String {
    let mut u = json!({"baseUrl": "http://placeholder.invalid", "timeoutMs": 5000, "retries": {"max": 0, "initialBackoffMs": 1}});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        u[k] = v;
    }
    u.to_string()
}

/// Point the server at `upstream` with these environment values.
pub(crate) fn configure(server: &Server, base: &str, env: &[(&str, &str)]) {
    server
        .configure_upstream(&overrides(base, env))
        .expect("upstream settings accepted");
}

pub(crate) fn overrides(base: &str, env: &[(&str, &str)]) -> UpstreamOverrides {
    let mut o = UpstreamOverrides::default();
    o.base_url = Some(base.to_owned());
    o.env = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect::<BTreeMap<_, _>>();
    o
}

/// A server with one upstream tool `op` for `operation`.
pub(crate) fn single(operation: Value, upstream_extra: Value) -> Server {
    Server::builder(INFO)
        .upstream(&upstream_json(upstream_extra))
        .upstream_tool(&tool("op"), &operation.to_string())
        .build()
        .expect("server builds")
}

/// An initialized MCP session driven through `Server::handle`.
pub(crate) struct Mcp {
    pub server: Server,
    pub session: Arc<Session>,
    next_id: AtomicI64,
}

impl Mcp {
    pub(crate) async fn start(server: Server) -> Mcp {
        let session = server.create_session();
        let mcp = Mcp {
            server,
            session,
            next_id: AtomicI64::new(1),
        };
        let r = mcp
            .request(
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
            )
            .await;
        assert_eq!(r["result"]["protocolVersion"], "2025-11-25");
        mcp.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        mcp
    }

    pub(crate) async fn send(&self, msg: Value) -> Option<Value> {
        let (out, _rx) = Outbound::channel();
        let msg = Message::from_value(msg).expect("valid message");
        self.server
            .handle(&self.session, msg, out)
            .await
            .map(|r| Message::Response(r).to_value())
    }

    pub(crate) fn next_id(&self) -> i64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    /// The whole JSON-RPC response.
    pub(crate) async fn request(&self, method: &str, params: Value) -> Value {
        let id = self.next_id();
        let r = tokio::time::timeout(
            Duration::from_secs(20),
            self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})),
        )
        .await
        .expect("an answer in time");
        r.expect("a response")
    }

    /// The `result` of tools/call; a protocol error fails the test.
    pub(crate) async fn call(&self, tool: &str, args: Value) -> Value {
        let r = self
            .request("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert!(
            r.get("error").is_none(),
            "tools/call must not be a protocol error: {r}"
        );
        r["result"].clone()
    }
}

/// The text of the first content item.
pub(crate) fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or("")
}

pub(crate) fn is_error(result: &Value) -> bool {
    result["isError"] == json!(true)
}

/// The whole result, to search it for anything that must not be there.
pub(crate) fn dump(result: &Value) -> String {
    result.to_string()
}

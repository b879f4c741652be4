//! Testing a server in-process: no transport, no child process.
//!
//! Generated crates ship a test (`tests/generated_server.rs`) built on this
//! module, and turn on the `testing` feature of this crate in their
//! `[dev-dependencies]` (it is off otherwise, so server binaries do not carry
//! it). Your own tests can use it too:
//!
//! ```
//! use mcpgen_runtime::prelude::*;
//! use mcpgen_runtime::testing::{TestClient, block_on};
//!
//! // In a generated crate: `my_crate::server(ServerHandlers::default())?`.
//! let server = Server::builder(r#"{"name": "demo", "version": "0.1.0"}"#)
//!     .resource_text(r#"{"uri": "demo://greeting", "name": "greeting"}"#, "hello")
//!     .build()?;
//! block_on(async {
//!     let client = TestClient::connect(server).await?;
//!     let uris = client.list_field("resources/list", "resources", "uri").await?;
//!     assert_eq!(uris, ["demo://greeting"]);
//!     let read = client.read_resource("demo://greeting").await?;
//!     assert_eq!(read["contents"][0]["text"], "hello");
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};

use crate::jsonrpc::{ErrorObject, Message, Notification, Payload, Request, RequestId, Response};
use crate::server::Server;
use crate::session::{Inbox, Outbound, Outgoing, Session};

/// The protocol version [`TestClient::connect`] asks for.
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// What went wrong talking to the server under test.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TestError {
    /// The server answered with a JSON-RPC error.
    #[error("{method} failed: {} (code {})", .error.message, .error.code)]
    Rpc {
        /// The method called.
        method: String,
        /// The error the server answered with.
        error: ErrorObject,
    },
    /// The server sent no response to a request.
    #[error("{method}: the server sent no response")]
    NoResponse {
        /// The method called.
        method: String,
    },
    /// A list result had no array under the expected key.
    #[error("{method}: the result has no `{key}` array")]
    Malformed {
        /// The method called.
        method: String,
        /// The key the list was expected under.
        key: String,
    },
    /// A paginated list did not end.
    #[error("{method}: more than {pages} pages; is `nextCursor` ever absent?")]
    EndlessPagination {
        /// The method called.
        method: String,
        /// How many pages were read before giving up.
        pages: usize,
    },
}

/// A client session with a server, in the same process. Notifications and
/// requests the server sends (logs, progress…) are collected and can be
/// read with [`TestClient::drain_outgoing`].
pub struct TestClient {
    server: Server,
    session: Arc<Session>,
    out: Outbound,
    outgoing: std::sync::Mutex<Inbox>,
    next_id: AtomicI64,
    initialize: Value,
}

impl TestClient {
    /// Open a session and initialize it (`initialize`, then
    /// `notifications/initialized`), as a real client does.
    pub async fn connect(server: Server) -> Result<TestClient, TestError> {
        let (out, rx) = Outbound::channel();
        let session = server.create_session();
        let mut client = TestClient {
            server,
            session,
            out,
            outgoing: std::sync::Mutex::new(rx),
            next_id: AtomicI64::new(1),
            initialize: Value::Null,
        };
        client.initialize = client
            .request(
                "initialize",
                json!({
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "mcpgen-runtime-testing", "version": env!("CARGO_PKG_VERSION")},
                }),
            )
            .await?;
        client.notify("notifications/initialized", None).await;
        Ok(client)
    }

    /// The `initialize` result (server info, capabilities, instructions).
    pub fn initialize_result(&self) -> &Value {
        &self.initialize
    }

    /// The server under test.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Send a request and wait for its result.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, TestError> {
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed));
        let msg = Message::Request(Request {
            id,
            method: method.to_string(),
            params: Some(params),
            modern_meta: None,
        });
        let response = self
            .server
            .handle(&self.session, msg, self.out.clone())
            .await;
        result_of(method, response)
    }

    /// Send an MCP 2026-07-28 request (stateless: its `_meta` carries the
    /// version and empty client capabilities; no session) and wait for its
    /// result, envelope included (`resultType`, `ttlMs`, `cacheScope`…).
    pub async fn request_2026(&self, method: &str, mut params: Value) -> Result<Value, TestError> {
        if let Some(p) = params.as_object_mut() {
            p.insert(
                "_meta".into(),
                json!({
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                }),
            );
        }
        let req = Request {
            id: RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed)),
            method: method.to_string(),
            params: Some(params),
            modern_meta: None,
        };
        let cancel = crate::cancel::Cancel::new();
        let response = self
            .server
            .serve_stateless(req, self.out.clone(), cancel, None, http::Extensions::new())
            .await;
        result_of(method, response)
    }

    /// Send a notification.
    pub async fn notify(&self, method: &str, params: Option<Value>) {
        let msg = Message::Notification(Notification {
            method: method.to_string(),
            params,
        });
        let _ = self
            .server
            .handle(&self.session, msg, self.out.clone())
            .await;
    }

    /// Every entry of a paginated list (`tools/list` → `tools`,
    /// `resources/list` → `resources`, `resources/templates/list` →
    /// `resourceTemplates`, `prompts/list` → `prompts`), following
    /// `nextCursor` to the end.
    pub async fn list_all(&self, method: &str, key: &str) -> Result<Vec<Value>, TestError> {
        const MAX_PAGES: usize = 10_000;
        let mut all = Vec::new();
        let mut cursor: Option<Value> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => json!({}),
            };
            let page = self.request(method, params).await?;
            let items =
                page.get(key)
                    .and_then(Value::as_array)
                    .ok_or_else(|| TestError::Malformed {
                        method: method.to_string(),
                        key: key.to_string(),
                    })?;
            all.extend(items.iter().cloned());
            match page.get("nextCursor") {
                Some(c) if !c.is_null() => cursor = Some(c.clone()),
                _ => return Ok(all),
            }
        }
        Err(TestError::EndlessPagination {
            method: method.to_string(),
            pages: MAX_PAGES,
        })
    }

    /// The `field` of every entry of a paginated list, as text (e.g. the
    /// names from `tools/list`): what a generated test compares with the spec.
    pub async fn list_field(
        &self,
        method: &str,
        key: &str,
        field: &str,
    ) -> Result<Vec<String>, TestError> {
        let all = self.list_all(method, key).await?;
        Ok(all
            .iter()
            .map(|e| {
                e[field]
                    .as_str()
                    .map_or_else(|| e[field].to_string(), str::to_owned)
            })
            .collect())
    }

    /// Every problem with the listed tools' schemas: each `inputSchema` and
    /// `outputSchema` must have root `type: object` and be valid, compilable
    /// JSON Schema 2020-12. Empty when all is well.
    pub async fn tool_schema_problems(&self) -> Result<Vec<String>, TestError> {
        let mut problems = Vec::new();
        for tool in self.list_all("tools/list", "tools").await? {
            let name = &tool["name"];
            for (which, schema) in [
                ("inputSchema", tool.get("inputSchema")),
                ("outputSchema", tool.get("outputSchema")),
            ] {
                let Some(schema) = schema else {
                    if which == "inputSchema" {
                        problems.push(format!("tool {name}: no inputSchema"));
                    }
                    continue;
                };
                if schema["type"] != "object" {
                    problems.push(format!(
                        "tool {name}: the {which} root must be `type: object`"
                    ));
                }
                if let Err(e) = check_json_schema(schema) {
                    problems.push(format!("tool {name}: {which}: {e}"));
                }
            }
        }
        Ok(problems)
    }

    /// `tools/call`: the `CallToolResult` (a tool execution error is a
    /// result with `isError: true`, not an `Err`).
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<Value, TestError> {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }

    /// `resources/read`.
    pub async fn read_resource(&self, uri: &str) -> Result<Value, TestError> {
        self.request("resources/read", json!({ "uri": uri })).await
    }

    /// `prompts/get`.
    pub async fn get_prompt(&self, name: &str, arguments: Value) -> Result<Value, TestError> {
        self.request("prompts/get", json!({"name": name, "arguments": arguments}))
            .await
    }

    /// Messages the server sent on its own so far (notifications, requests).
    pub fn drain_outgoing(&self) -> Vec<Outgoing> {
        let mut rx = match self.outgoing.lock() {
            Ok(rx) => rx,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut out = Vec::new();
        while let Ok(o) = rx.try_recv() {
            out.push(o);
        }
        out
    }
}

/// The result a request got, or the error it got instead.
// The error type of the public request methods, returned as it is.
#[allow(clippy::result_large_err)]
fn result_of(method: &str, response: Option<Response>) -> Result<Value, TestError> {
    let response = response.ok_or_else(|| TestError::NoResponse {
        method: method.to_string(),
    })?;
    response
        .outcome
        .map(Payload::into_value)
        .map_err(|error| TestError::Rpc {
            method: method.to_string(),
            error,
        })
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.server.close_session(self.session.id());
    }
}

/// Run a future to completion on a fresh single-threaded runtime, for
/// plain `#[test]` functions.
///
/// # Panics
///
/// If the runtime cannot be created (the OS refuses a timer or an I/O
/// driver): a test cannot go on without one.
pub fn block_on<F: Future>(future: F) -> F::Output {
    #[allow(clippy::expect_used)]
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for the test");
    runtime.block_on(future)
}

/// Check that `schema` is a valid JSON Schema 2020-12 document: valid
/// against the 2020-12 meta-schema, and compilable (its `$ref`s resolve).
pub fn check_json_schema(schema: &Value) -> Result<(), String> {
    jsonschema::draft202012::meta::validate(schema).map_err(|e| {
        let at = e.instance_path().to_string();
        if at.is_empty() {
            format!("not a valid JSON Schema 2020-12: {e}")
        } else {
            format!("not a valid JSON Schema 2020-12 at {at}: {e}")
        }
    })?;
    jsonschema::draft202012::new(schema)
        .map(|_| ())
        .map_err(|e| format!("the schema does not compile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_checks() {
        assert!(check_json_schema(&json!({"type": "object"})).is_ok());
        assert!(check_json_schema(&json!({"type": "objekt"})).is_err());
        assert!(
            check_json_schema(&json!({"properties": {"a": {"$ref": "#/$defs/missing"}}})).is_err()
        );
        assert!(check_json_schema(&json!({"minLength": -1})).is_err());
    }

    #[test]
    fn tool_schema_problems_are_named() {
        block_on(async {
            let server = Server::builder(r#"{"name":"t","version":"1"}"#)
                .tool(
                    r#"{"name":"bad","inputSchema":{"type":"object","properties":{"a":{"type":"objekt"}}},"outputSchema":{"type":"array"}}"#,
                    |_ctx, _args: Value| async move { Ok(crate::model::CallToolResult::text("x")) },
                )
                .build()
                .map_err(|e| e.to_string())?;
            let client = TestClient::connect(server).await.map_err(|e| e.to_string())?;
            let problems = client.tool_schema_problems().await.map_err(|e| e.to_string())?;
            assert_eq!(problems.len(), 2, "{problems:?}");
            assert!(problems[0].contains("inputSchema") && problems[0].contains("not a valid JSON Schema"), "{problems:?}");
            assert!(problems[1].contains("outputSchema root must be `type: object`"), "{problems:?}");
            Ok::<(), String>(())
        })
        .unwrap();
    }

    #[test]
    fn lists_and_calls_in_process() {
        block_on(async {
            let server = Server::builder(r#"{"name":"t","version":"1"}"#)
                .tool(
                    r#"{"name":"echo","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}"#,
                    |_ctx, args: Value| async move {
                        Ok(crate::model::CallToolResult::text(
                            args["text"].as_str().unwrap_or_default().to_string(),
                        ))
                    },
                )
                .page_size(1)
                .tool(r#"{"name":"other","inputSchema":{"type":"object"}}"#, |_ctx, _args: Value| async move {
                    Ok(crate::model::CallToolResult::text("x"))
                })
                .build()
                .map_err(|e| e.to_string())?;
            let client = TestClient::connect(server).await.map_err(|e| e.to_string())?;
            assert_eq!(client.initialize_result()["serverInfo"]["name"], "t");
            let tools = client.list_all("tools/list", "tools").await.map_err(|e| e.to_string())?;
            let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
            assert_eq!(names, ["echo", "other"]);
            let listed = client.list_field("tools/list", "tools", "name").await.map_err(|e| e.to_string())?;
            assert_eq!(listed, ["echo", "other"]);
            assert!(client.tool_schema_problems().await.map_err(|e| e.to_string())?.is_empty());
            let r = client.call_tool("echo", json!({"text": "hi"})).await.map_err(|e| e.to_string())?;
            assert_eq!(r["content"][0]["text"], "hi");
            let e = client.request("nope/nope", json!({})).await.unwrap_err();
            assert!(matches!(e, TestError::Rpc { ref error, .. } if error.code == crate::jsonrpc::METHOD_NOT_FOUND), "{e}");
            Ok::<(), String>(())
        })
        .unwrap();
    }
}

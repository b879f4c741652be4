//! The MCP side of the load generator: the handshake (`initialize`,
//! `notifications/initialized`, `MCP-Session-Id`, `MCP-Protocol-Version`),
//! request bodies, and the checks every answer must pass.

use crate::Error;
use crate::http::{Conn, Reply};
use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

/// The revision whose requests stand alone (no handshake, no session).
pub const REVISION_2026: &str = "2026-07-28";

/// A client session: the id the server assigned (if any) and the protocol
/// revision it negotiated; or, for MCP 2026-07-28, no session at all: every
/// request carries its version and capabilities itself.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Option<String>,
    pub version: String,
    pub stateless: bool,
}

impl Session {
    /// What a 2026-07-28 client has instead of a session: nothing to set up.
    pub fn stateless(version: &str) -> Session {
        Session {
            id: None,
            version: version.to_string(),
            stateless: true,
        }
    }

    /// The headers every request after `initialize` carries.
    pub fn headers(&self) -> Vec<(&str, &str)> {
        let mut h = vec![("mcp-protocol-version", self.version.as_str())];
        if let Some(id) = &self.id {
            h.push(("mcp-session-id", id.as_str()));
        }
        h
    }

    /// The headers of a `tools/call` of `tool`: in 2026-07-28 they also
    /// mirror the method and the tool's name (SEP-2243; `tool` is plain
    /// ASCII here, so it needs no `=?base64?…?=` form).
    pub fn call_headers<'a>(&'a self, tool: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut h = self.headers();
        if self.stateless {
            h.push(("mcp-method", "tools/call"));
            h.push(("mcp-name", tool));
        }
        h
    }

    /// `params._meta` of a 2026-07-28 request: the version and the client's
    /// capabilities (none) and identity; None in a session.
    fn request_meta(&self) -> Option<Value> {
        self.stateless.then(|| {
            json!({
                "io.modelcontextprotocol/protocolVersion": self.version,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo":
                    {"name": "mcpbench", "version": env!("CARGO_PKG_VERSION")},
            })
        })
    }
}

/// Whether `version` is a revision without sessions (2026-07-28 and later).
pub fn is_stateless(version: &str) -> bool {
    version >= REVISION_2026
}

/// What a `tools/call` answer must contain to count as correct.
#[derive(Debug, Clone)]
pub enum Expect {
    /// The first content block is text equal to this.
    Text(String),
    /// The first content block is text containing this (proxied upstream bodies).
    Contains(String),
}

impl Expect {
    fn check(&self, text: &str) -> Result<(), Error> {
        let ok = match self {
            Expect::Text(want) => text == want,
            Expect::Contains(want) => text.contains(want.as_str()),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::new(format!(
                "unexpected tool text {text:?} (wanted {self:?})"
            )))
        }
    }
}

/// `initialize` + `notifications/initialized` on `conn`, asking for `version`.
pub async fn handshake(conn: &mut Conn, path: &str, version: &str) -> Result<Session, Error> {
    let init = json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "mcpbench", "version": env!("CARGO_PKG_VERSION")},
        },
    });
    let reply = conn
        .send(Method::POST, path, &[], Some(to_bytes(&init)))
        .await?;
    let result = rpc_result(&reply, 0)?;
    let version = result
        .get("protocolVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::new("initialize result without protocolVersion"))?
        .to_string();
    let session = Session {
        id: reply.session_id,
        version,
        stateless: false,
    };
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let reply = conn
        .send(
            Method::POST,
            path,
            &session.headers(),
            Some(to_bytes(&note)),
        )
        .await?;
    if !(200..300).contains(&reply.status) {
        return Err(Error::new(format!(
            "notifications/initialized: HTTP {}",
            reply.status
        )));
    }
    Ok(session)
}

/// `tools/list` (first page); returns the number of tools listed.
pub async fn list_tools(conn: &mut Conn, path: &str, session: &Session) -> Result<usize, Error> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let reply = conn
        .send(
            Method::POST,
            path,
            &session.headers(),
            Some(to_bytes(&body)),
        )
        .await?;
    let result = rpc_result(&reply, 1)?;
    result
        .get("tools")
        .and_then(Value::as_array)
        .map(Vec::len)
        .ok_or_else(|| Error::new("tools/list result without a tools array"))
}

/// The body of `tools/call` number `id`; `arguments` is a JSON object.
/// In a 2026-07-28 `session` the params carry the per-request `_meta`.
pub fn call_body(id: u64, tool: &str, arguments: &Value, session: Option<&Session>) -> Bytes {
    let mut params = json!({"name": tool, "arguments": arguments});
    if let Some(meta) = session.and_then(Session::request_meta) {
        params["_meta"] = meta;
    }
    to_bytes(&json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params,
    }))
}

/// Check a `tools/call` answer: HTTP 200, the JSON-RPC response to `id`, a
/// result that is not `isError`, and text content as `expect` says; in
/// 2026-07-28 (`stateless`) also a complete result (`resultType`).
pub fn check_call(reply: &Reply, id: u64, expect: &Expect, stateless: bool) -> Result<(), Error> {
    let result = rpc_result(reply, id)?;
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        return Err(Error::new(format!("tool error result: {result}")));
    }
    if stateless && result.get("resultType").and_then(Value::as_str) != Some("complete") {
        return Err(Error::new(format!(
            "2026-07-28 result without resultType \"complete\": {result}"
        )));
    }
    let text = result
        .pointer("/content/0/text")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::new(format!("result without text content: {result}")))?;
    expect.check(text)
}

/// The `result` of the JSON-RPC response to `id` in `reply`, which may be a
/// JSON body or an SSE stream carrying it as one `data:` event.
pub fn rpc_result(reply: &Reply, id: u64) -> Result<Value, Error> {
    if reply.status != 200 {
        let body = String::from_utf8_lossy(&reply.body);
        return Err(Error::new(format!("HTTP {}: {body}", reply.status)));
    }
    let response = if reply.content_type.starts_with("text/event-stream") {
        sse_response(&reply.body, id)?
    } else {
        serde_json::from_slice::<Value>(&reply.body)
            .map_err(|e| Error::new(format!("answer is not JSON: {e}")))?
    };
    if response.get("id").and_then(Value::as_u64) != Some(id) {
        return Err(Error::new(format!("answer to the wrong id: {response}")));
    }
    if let Some(error) = response.get("error") {
        return Err(Error::new(format!("JSON-RPC error: {error}")));
    }
    response
        .get("result")
        .cloned()
        .ok_or_else(|| Error::new(format!("response without result: {response}")))
}

/// The JSON-RPC response to `id` among the `data:` lines of an SSE body
/// (other events, e.g. priming events with empty data, are skipped).
fn sse_response(body: &[u8], id: u64) -> Result<Value, Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::new("SSE body is not UTF-8"))?;
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim_start()).ok())
        .find(|msg| msg.get("id").and_then(Value::as_u64) == Some(id))
        .ok_or_else(|| Error::new(format!("SSE stream without the response to id {id}")))
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(value.to_string())
}

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

/// The body of every `tools/call` of a run, written once: the text before
/// and after its id. Serializing the body per call cost the generator more
/// than the server's whole answer; the bytes sent are the same as
/// [`call_body`]'s.
#[derive(Debug, Clone)]
pub struct CallTemplate {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl CallTemplate {
    pub fn new(tool: &str, arguments: &Value, session: Option<&Session>) -> CallTemplate {
        // A stand-in id, written where the id goes and nowhere else (the
        // arguments could hold the same number: then it is found twice, and
        // the template falls back to the first, which is the id: `id` comes
        // before `params` in the serialized object).
        let marker = u64::MAX;
        let text = call_body(marker, tool, arguments, session);
        let needle = marker.to_string();
        let at = find(&text, needle.as_bytes()).unwrap_or(text.len());
        let tail_at = (at + needle.len()).min(text.len());
        CallTemplate {
            head: text[..at].to_vec(),
            tail: text[tail_at..].to_vec(),
        }
    }

    /// The body of call `id`.
    pub fn body(&self, id: u64) -> Bytes {
        let mut buf = Vec::with_capacity(self.head.len() + 20 + self.tail.len());
        buf.extend_from_slice(&self.head);
        buf.extend_from_slice(id.to_string().as_bytes());
        buf.extend_from_slice(&self.tail);
        Bytes::from(buf)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// [`check_call`], answering the usual case (a plain JSON answer that
/// passes) without building a `Value` of it; anything else goes to
/// `check_call`, which decides, and words the error.
pub fn check_call_fast(
    reply: &Reply,
    id: u64,
    expect: &Expect,
    stateless: bool,
) -> Result<(), Error> {
    if passes(reply, id, expect, stateless) {
        return Ok(());
    }
    check_call(reply, id, expect, stateless)
}

/// Whether `reply` certainly passes [`check_call`]: every check it makes,
/// on a typed parse that borrows the text.
fn passes(reply: &Reply, id: u64, expect: &Expect, stateless: bool) -> bool {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        id: Option<u64>,
        #[serde(default, deserialize_with = "present")]
        error: bool,
        #[serde(borrow)]
        result: Option<CallResult<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct CallResult<'a> {
        #[serde(rename = "isError")]
        is_error: Option<bool>,
        #[serde(rename = "resultType", borrow)]
        result_type: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        content: Vec<Block<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Block<'a> {
        #[serde(borrow)]
        text: Option<std::borrow::Cow<'a, str>>,
    }
    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| true)
    }
    use serde::Deserialize as _;
    if reply.status != 200 || reply.content_type.starts_with("text/event-stream") {
        return false;
    }
    let Ok(answer) = serde_json::from_slice::<Answer>(&reply.body) else {
        return false;
    };
    let Some(result) = answer
        .result
        .filter(|_| answer.id == Some(id) && !answer.error)
    else {
        return false;
    };
    result.is_error != Some(true)
        && (!stateless || result.result_type.as_deref() == Some("complete"))
        && result
            .content
            .first()
            .and_then(|b| b.text.as_deref())
            .is_some_and(|text| expect.check(text).is_ok())
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            session_id: None,
            content_type: content_type.into(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn a_template_writes_the_bytes_call_body_writes() {
        let stateless = Session::stateless(REVISION_2026);
        let session = Session {
            id: Some("abc".into()),
            version: "2025-11-25".into(),
            stateless: false,
        };
        // The last arguments hold the stand-in id itself.
        let arguments = [
            json!({}),
            json!({"a": [1, "two", {"three": null}]}),
            json!({"n": u64::MAX, "m": u64::MAX}),
        ];
        for args in &arguments {
            for s in [None, Some(&stateless), Some(&session)] {
                let template = CallTemplate::new("test_simple_text", args, s);
                for id in [0, 1, 42, (7 << 32) + 1, u64::MAX] {
                    assert_eq!(
                        template.body(id),
                        call_body(id, "test_simple_text", args, s),
                        "id {id}, arguments {args}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_fast_check_agrees_with_check_call() {
        let text = Expect::Text("hi".into());
        let json = "application/json";
        let sse = "text/event-stream";
        let ok = r#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hi"}],"resultType":"complete"}}"#;
        let cases = [
            (reply(200, json, ok), true),
            (reply(200, json, ok), false),
            (reply(500, json, ok), false),
            (
                reply(200, sse, &format!("event: message\ndata: {ok}\n\n")),
                true,
            ),
            (reply(200, json, &ok.replace("\"id\":7", "\"id\":8")), false),
            (
                reply(200, json, &ok.replace("\"id\":7", "\"id\":\"7\"")),
                false,
            ),
            (reply(200, json, &ok.replace("\"hi\"", "\"ho\"")), false),
            (
                reply(200, json, &ok.replace("\"hi\"", "\"h\\u0069\"")),
                false,
            ),
            (
                reply(200, json, &ok.replace("complete", "incomplete")),
                true,
            ),
            (
                reply(200, json, &ok.replace("complete", "incomplete")),
                false,
            ),
            (
                reply(200, json, &ok.replace(",\"resultType\":\"complete\"", "")),
                true,
            ),
            (
                reply(
                    200,
                    json,
                    &ok.replace("\"content\"", "\"isError\":true,\"content\""),
                ),
                false,
            ),
            (
                reply(
                    200,
                    json,
                    &ok.replace("\"content\"", "\"isError\":\"yes\",\"content\""),
                ),
                false,
            ),
            (
                reply(
                    200,
                    json,
                    &ok.replace("\"result\"", "\"error\":null,\"result\""),
                ),
                false,
            ),
            (
                reply(200, json, &ok.replace("\"text\":\"hi\"", "\"data\":\"hi\"")),
                false,
            ),
            (
                reply(200, json, &ok.replace("[{", "[]").replace("}],", ",")),
                false,
            ),
            (
                reply(
                    200,
                    json,
                    r#"{"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"no"}}"#,
                ),
                false,
            ),
            (reply(200, json, "not json"), false),
        ];
        for (r, stateless) in &cases {
            let slow = check_call(r, 7, &text, *stateless).map_err(|e| e.to_string());
            let fast = check_call_fast(r, 7, &text, *stateless).map_err(|e| e.to_string());
            assert_eq!(fast, slow, "{:?} stateless {stateless}", r.body);
            // The fast path itself claims a pass only where check_call passes.
            if passes(r, 7, &text, *stateless) {
                assert!(slow.is_ok(), "{:?}", r.body);
            }
        }
        assert!(
            passes(&cases[0].0, 7, &text, true),
            "the usual answer takes the fast path"
        );
    }
}

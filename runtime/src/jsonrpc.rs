//! JSON-RPC 2.0 framing. MCP 2025-06-18 and later forbid batches, so a
//! message is always a single object.
//!
//! Handlers meet [`RequestId`] (`RequestContext::request_id`), [`ErrorObject`]
//! (inside `McpError`) and the error codes (`McpError::new`). The message
//! types are for transports and are not part of the stable API.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// JSON-RPC: The message is not valid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: The JSON is not a valid request, or not one allowed now.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: No such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: The parameters are wrong.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC: The server failed.
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP: the requested resource does not exist.
pub const RESOURCE_NOT_FOUND: i64 = -32002;

/// Values one message may hold when no byte limit says otherwise: one per
/// 32 bytes of the default 4 MiB message limit ([`values_for_bytes`]).
pub(crate) const DEFAULT_MAX_VALUES: usize = values_for_bytes(4 * 1024 * 1024);

/// The value budget that goes with a byte limit: one value per 32 bytes
/// (at least 4096). A parsed value costs 70–150 bytes however short its
/// text, so this keeps a parsed message within a few times the byte limit
/// whatever its shape (see `scripts/mem-probe.sh`).
pub(crate) const fn values_for_bytes(limit: usize) -> usize {
    let n = limit / 32;
    if n < 4096 { 4096 } else { n }
}

/// An upper bound of the JSON values in `text` (1 + every `{`, `[` and `,`
/// outside strings), counted without parsing; stops past `stop_after`.
pub(crate) fn count_values(text: &[u8], stop_after: usize) -> usize {
    let (mut n, mut in_string, mut escaped) = (1usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' | b',' => {
                n += 1;
                if n > stop_after {
                    return n;
                }
            }
            _ => {}
        }
    }
    n
}

/// A request id: JSON-RPC allows strings and numbers (MCP forbids null).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A numeric id.
    Number(i64),
    /// A string id.
    String(String),
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// The `error` member of a JSON-RPC error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// One of the codes of this module, or another implementation-defined one.
    pub code: i64,
    /// A short description for people.
    pub message: String,
    /// Anything more the client may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with no `data`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }
}

#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: RequestId,
    pub method: String,
    pub params: Option<Value>,
}

#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub method: String,
    pub params: Option<Value>,
}

#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `None` only for errors about a message whose id could not be read.
    pub id: Option<RequestId>,
    pub outcome: Result<Value, ErrorObject>,
}

impl Response {
    pub fn ok(id: RequestId, result: Value) -> Self {
        Response {
            id: Some(id),
            outcome: Ok(result),
        }
    }
    pub fn err(id: Option<RequestId>, error: ErrorObject) -> Self {
        Response {
            id,
            outcome: Err(error),
        }
    }
}

#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request(Request),
    Notification(Notification),
    Response(Response),
}

impl Message {
    pub fn notification(method: &str, params: Value) -> Self {
        Message::Notification(Notification {
            method: method.to_owned(),
            params: Some(params),
        })
    }

    /// Parse one message from raw bytes. The error is the response to send
    /// back (parse error or invalid request). At most
    /// [`DEFAULT_MAX_VALUES`] JSON values: see [`Message::from_slice_within`].
    pub fn from_slice(bytes: &[u8]) -> Result<Message, Box<Response>> {
        Message::from_slice_within(bytes, DEFAULT_MAX_VALUES)
    }

    /// [`Message::from_slice`] refusing, before parsing, a message of more
    /// than `max_values` JSON values: a parsed value costs tens of bytes
    /// whatever its text (`0,` is two bytes), so the count, not the byte
    /// size, bounds the memory of the tree.
    pub fn from_slice_within(bytes: &[u8], max_values: usize) -> Result<Message, Box<Response>> {
        if count_values(bytes, max_values) > max_values {
            return Err(Box::new(Response::err(
                None,
                ErrorObject::new(
                    INVALID_REQUEST,
                    format!(
                        "Invalid Request: the message holds more than {max_values} JSON values"
                    ),
                ),
            )));
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            Box::new(Response::err(
                None,
                ErrorObject::new(PARSE_ERROR, format!("Parse error: {e}")),
            ))
        })?;
        Message::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<Message, Box<Response>> {
        let invalid = |id: Option<RequestId>, why: &str| {
            Box::new(Response::err(
                id,
                ErrorObject::new(INVALID_REQUEST, format!("Invalid Request: {why}")),
            ))
        };
        let Value::Object(mut obj) = value else {
            let why = if value.is_array() {
                "batches are not supported; send one message per request"
            } else {
                "a message must be a JSON object"
            };
            return Err(invalid(None, why));
        };
        let id = match obj.remove("id") {
            None => None,
            Some(raw) => match serde_json::from_value::<RequestId>(raw) {
                Ok(id) => Some(id),
                Err(_) => return Err(invalid(None, "id must be a string or an integer")),
            },
        };
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(invalid(id, "\"jsonrpc\" must be \"2.0\""));
        }
        let params = match obj.remove("params") {
            None => None,
            Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p),
            Some(_) => return Err(invalid(id, "params must be an object or an array")),
        };
        match obj.remove("method") {
            Some(Value::String(method)) => Ok(match id {
                Some(id) => Message::Request(Request { id, method, params }),
                None => Message::Notification(Notification { method, params }),
            }),
            Some(_) => Err(invalid(id, "method must be a string")),
            None => {
                let Some(id) = id else {
                    return Err(invalid(None, "a message needs a method or an id"));
                };
                match (obj.remove("result"), obj.remove("error")) {
                    (Some(result), None) => Ok(Message::Response(Response::ok(id, result))),
                    (None, Some(error)) => match serde_json::from_value::<ErrorObject>(error) {
                        Ok(e) => Ok(Message::Response(Response::err(Some(id), e))),
                        Err(_) => Err(invalid(Some(id), "malformed error object")),
                    },
                    _ => Err(invalid(
                        Some(id),
                        "a response needs exactly one of result and error",
                    )),
                }
            }
        }
    }

    pub fn to_value(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("jsonrpc".into(), json!("2.0"));
        match self {
            Message::Request(r) => {
                obj.insert("id".into(), json!(r.id));
                obj.insert("method".into(), json!(r.method));
                if let Some(p) = &r.params {
                    obj.insert("params".into(), p.clone());
                }
            }
            Message::Notification(n) => {
                obj.insert("method".into(), json!(n.method));
                if let Some(p) = &n.params {
                    obj.insert("params".into(), p.clone());
                }
            }
            Message::Response(r) => {
                obj.insert(
                    "id".into(),
                    r.id.as_ref().map_or(Value::Null, |id| json!(id)),
                );
                match &r.outcome {
                    Ok(v) => obj.insert("result".into(), v.clone()),
                    Err(e) => obj.insert("error".into(), json!(e)),
                };
            }
        }
        Value::Object(obj)
    }

    /// The wire form, serialized from borrowed parts (no copy of params or
    /// result), keys in the order of [`Message::to_value`].
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Wire::Message(self)).unwrap_or_default()
    }
}

impl Response {
    /// The wire form of a response, as [`Message::to_json`].
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Wire::Response(self)).unwrap_or_default()
    }
}

enum Wire<'a> {
    Message(&'a Message),
    Response(&'a Response),
}

impl Serialize for Wire<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = ser.serialize_map(None)?;
        map.serialize_entry("jsonrpc", "2.0")?;
        let (method, params) = match self {
            Wire::Message(Message::Request(r)) => {
                map.serialize_entry("id", &r.id)?;
                (&r.method, &r.params)
            }
            Wire::Message(Message::Notification(n)) => (&n.method, &n.params),
            Wire::Message(Message::Response(r)) | &Wire::Response(r) => {
                map.serialize_entry("id", &r.id)?;
                match &r.outcome {
                    Ok(v) => map.serialize_entry("result", v)?,
                    Err(e) => map.serialize_entry("error", e)?,
                }
                return map.end();
            }
        };
        map.serialize_entry("method", method)?;
        if let Some(p) = params {
            map.serialize_entry("params", p)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Message, Box<Response>> {
        Message::from_slice(s.as_bytes())
    }

    #[test]
    fn parses_each_message_kind() {
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Ok(Message::Request(_))
        ));
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Message::Notification(_))
        ));
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Ok(Message::Response(_))
        ));
    }

    #[test]
    fn malformed_json_is_parse_error_with_null_id() {
        let err = parse("{not json").unwrap_err();
        assert_eq!(err.id, None);
        assert_eq!(err.outcome.unwrap_err().code, PARSE_ERROR);
    }

    #[test]
    fn wrong_shapes_are_invalid_request_and_keep_the_id() {
        for (text, id) in [
            (r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, None),
            (
                r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#,
                Some(RequestId::Number(7)),
            ),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":5}"#,
                Some(RequestId::Number(7)),
            ),
            (r#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#, None),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":"ping","params":3}"#,
                Some(RequestId::Number(7)),
            ),
            (r#""hello""#, None),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.id, id, "{text}");
            assert_eq!(err.outcome.unwrap_err().code, INVALID_REQUEST, "{text}");
        }
    }

    #[test]
    fn the_wire_form_matches_to_value() {
        for m in [
            Message::Request(Request {
                id: RequestId::Number(1),
                method: "m".into(),
                params: Some(json!({"b": 1, "a": [true]})),
            }),
            Message::notification("n", json!({})),
            Message::Notification(Notification {
                method: "n".into(),
                params: None,
            }),
            Message::Response(Response::ok(RequestId::String("x".into()), json!({"z": 1}))),
            Message::Response(Response::err(None, ErrorObject::new(PARSE_ERROR, "bad"))),
        ] {
            assert_eq!(m.to_json(), m.to_value().to_string());
            if let Message::Response(r) = &m {
                assert_eq!(r.to_json(), m.to_json());
            }
        }
    }

    #[test]
    fn messages_of_too_many_values_are_refused_before_parsing() {
        assert_eq!(count_values(br#"{"a":[1,2,{"b":"x,[{"}]}"#, 100), 6);
        assert_eq!(count_values(br#""\\",[,"#, 100), 4);
        let msg = |n: usize| {
            let items = vec!["0"; n].join(",");
            format!(r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{{"a":[{items}]}}}}"#)
        };
        // 1 + 3 commas + `{` `{` `[` + the n - 1 commas of the items.
        assert!(Message::from_slice_within(msg(93).as_bytes(), 99).is_ok());
        let err = Message::from_slice_within(msg(94).as_bytes(), 99).unwrap_err();
        assert_eq!(err.outcome.unwrap_err().code, INVALID_REQUEST);
        assert_eq!(values_for_bytes(4 * 1024 * 1024), 131_072);
        assert_eq!(values_for_bytes(10), 4096);
    }

    #[test]
    fn nesting_deeper_than_128_is_a_parse_error() {
        let nested = |depth: usize| {
            let params = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            format!(r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{params}}}"#)
        };
        assert!(parse(&nested(100)).is_ok());
        let err = parse(&nested(10_000)).unwrap_err();
        assert_eq!(err.outcome.unwrap_err().code, PARSE_ERROR);
    }

    #[test]
    fn serializes_round_trip() {
        let m = Message::Response(Response::err(
            Some(RequestId::String("x".into())),
            ErrorObject::new(METHOD_NOT_FOUND, "nope"),
        ));
        assert_eq!(Message::from_value(m.to_value()).unwrap(), m);
    }
}

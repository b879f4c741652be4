//! JSON-RPC 2.0 framing. MCP 2025-06-18 and later forbid batches, so a
//! message is always a single object.
//!
//! Handlers meet [`RequestId`] (`RequestContext::request_id`), [`ErrorObject`]
//! (inside `McpError`) and the error codes (`McpError::new`). The message
//! types are for transports and are not part of the stable API.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::sync::Arc;

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

/// The `result` of a response: a JSON value, or JSON text serialized ahead
/// of time (a `tools/list` page, a tool result), which transports write as
/// it is.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub enum Payload {
    Value(Value),
    Json(Arc<RawValue>),
}

impl Payload {
    /// `value` serialized now (no `Value` tree is built).
    pub fn serialize<T: Serialize + ?Sized>(value: &T) -> Result<Payload, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(|raw| Payload::Json(Arc::from(raw)))
    }

    /// As a `Value` (JSON text is parsed: for tests and in-process clients).
    pub fn into_value(self) -> Value {
        match self {
            Payload::Value(v) => v,
            Payload::Json(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
        }
    }

    fn to_value(&self) -> Value {
        self.clone().into_value()
    }
}

impl From<Value> for Payload {
    fn from(v: Value) -> Self {
        Payload::Value(v)
    }
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Value(v) => v.serialize(ser),
            Payload::Json(raw) => raw.serialize(ser),
        }
    }
}

/// Equal when the JSON values are, however they are held.
impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        match (self, other) {
            (Payload::Value(a), Payload::Value(b)) => a == b,
            _ => self.to_value() == other.to_value(),
        }
    }
}

impl PartialEq<Value> for Payload {
    fn eq(&self, other: &Value) -> bool {
        match self {
            Payload::Value(v) => v == other,
            Payload::Json(_) => &self.to_value() == other,
        }
    }
}

#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `None` only for errors about a message whose id could not be read.
    pub id: Option<RequestId>,
    pub outcome: Result<Payload, ErrorObject>,
}

impl Response {
    pub fn ok(id: RequestId, result: impl Into<Payload>) -> Self {
        Response {
            id: Some(id),
            outcome: Ok(result.into()),
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
        // The members read straight into their places (no map of the
        // envelope); anything unusual (not an object, a repeated member)
        // takes the general path, which also words the errors.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
            && let Ok(parts) = serde_json::from_slice::<Parts>(bytes)
        {
            return Message::from_parts(parts);
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
        Message::from_parts(Parts {
            jsonrpc: obj.remove("jsonrpc"),
            id: obj.remove("id"),
            method: obj.remove("method"),
            params: obj.remove("params"),
            result: obj.remove("result"),
            error: obj.remove("error"),
        })
    }

    fn from_parts(parts: Parts) -> Result<Message, Box<Response>> {
        let invalid = |id: Option<RequestId>, why: &str| {
            Box::new(Response::err(
                id,
                ErrorObject::new(INVALID_REQUEST, format!("Invalid Request: {why}")),
            ))
        };
        let Parts {
            jsonrpc,
            id,
            method,
            params,
            result,
            error,
        } = parts;
        let id = match id {
            None => None,
            Some(Value::String(s)) => Some(RequestId::String(s)),
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64().map(RequestId::Number),
            Some(_) => return Err(invalid(None, "id must be a string or an integer")),
        };
        if jsonrpc.as_ref().and_then(Value::as_str) != Some("2.0") {
            return Err(invalid(id, "\"jsonrpc\" must be \"2.0\""));
        }
        let params = match params {
            None => None,
            Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p),
            Some(_) => return Err(invalid(id, "params must be an object or an array")),
        };
        match method {
            Some(Value::String(method)) => Ok(match id {
                Some(id) => Message::Request(Request { id, method, params }),
                None => Message::Notification(Notification { method, params }),
            }),
            Some(_) => Err(invalid(id, "method must be a string")),
            None => {
                let Some(id) = id else {
                    return Err(invalid(None, "a message needs a method or an id"));
                };
                match (result, error) {
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
                    Ok(v) => obj.insert("result".into(), v.to_value()),
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

/// The members of a message, as read from its text: a member given as
/// `null` is `Some(Value::Null)`, not absent.
#[derive(Deserialize)]
struct Parts {
    #[serde(default, deserialize_with = "present")]
    jsonrpc: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    method: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    params: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
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
    fn the_direct_reading_agrees_with_the_value_tree() {
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":[1,{"y":null}]}}}"#,
            r#"  {"method":"m","jsonrpc":"2.0","extra":{"a":[1]}}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":9223372036854775808,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":"s","method":"m","params":null}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"m","method":"n"}"#,
            r#"{"jsonrpc":"2.0","id":3,"result":{"a":1}}"#,
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":3,"result":{},"error":{"code":1,"message":"x"}}"#,
            r#"{"jsonrpc":2,"id":3,"method":"m"}"#,
            r#"{"id":3,"method":"m"}"#,
        ] {
            let tree = serde_json::from_str::<Value>(text)
                .map_err(|e| e.to_string())
                .map(Message::from_value);
            let direct = Message::from_slice(text.as_bytes());
            match (tree, direct) {
                (Ok(a), b) => assert_eq!(a, b, "{text}"),
                (Err(e), b) => panic!("{text}: {e} / {b:?}"),
            }
        }
    }

    #[test]
    fn prepared_json_is_written_as_it_is_and_compares_as_a_value() {
        let raw = Payload::serialize(&json!({"tools": [{"name": "a"}]})).unwrap();
        let r = Response::ok(RequestId::Number(1), raw.clone());
        assert_eq!(
            r.to_json(),
            r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"}]}}"#
        );
        assert_eq!(raw, json!({"tools": [{"name": "a"}]}));
        assert_eq!(raw, Payload::Value(json!({"tools": [{"name": "a"}]})));
        assert_ne!(raw, json!({"tools": []}));
        let m = Message::Response(r);
        assert_eq!(m.to_json(), m.to_value().to_string());
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

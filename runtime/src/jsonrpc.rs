//! JSON-RPC 2.0 framing. MCP 2025-06-18 and later forbid batches, so a
//! message is always a single object.
//!
//! Handlers meet [`RequestId`] (`RequestContext::request_id`), [`ErrorObject`]
//! (inside `McpError`) and the error codes (`McpError::new`). The message
//! types are for transports and are not part of the stable API.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::sync::Arc;

mod scan;

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

/// The member `key` of `params` when they are an object. Params have a
/// few members, and comparing a few short keys is cheaper than SipHashing
/// `key` for the map's look-up; a large object is still looked up.
pub(crate) fn param<'a>(params: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    let members = params?.as_object()?;
    if members.len() > 8 {
        return members.get(key);
    }
    members.iter().find_map(|(k, v)| (k == key).then_some(v))
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
#[derive(Debug, Clone)]
pub struct Request {
    pub id: RequestId,
    pub method: String,
    /// Without its `_meta` when the parser took that out as
    /// [`Request::modern_meta`].
    pub params: Option<Value>,
    /// `params._meta` of an MCP 2026-07-28 request as the parser found it
    /// (its JSON text, not a `Value` tree: it is read once, for a few
    /// members); None when `_meta` is in `params` or absent. Built by hand,
    /// a request puts its `_meta` in `params` and leaves this None.
    pub modern_meta: Option<Arc<ModernMeta>>,
}

impl Request {
    /// A request with `params` as they are (`_meta` in them).
    pub fn new(id: RequestId, method: impl Into<String>, params: Option<Value>) -> Request {
        Request {
            id,
            method: method.into(),
            params,
            modern_meta: None,
        }
    }

    /// The params as the client sent them: with the `_meta` the parser took
    /// out put back (as their last member). A copy: for the rare paths that
    /// keep the whole call (a task).
    pub fn params_with_meta(&self) -> Option<Value> {
        with_meta(self.params.clone(), self.modern_meta.as_deref())
    }
}

/// `params` with `meta` put back as `_meta` (their last member).
fn with_meta(params: Option<Value>, meta: Option<&ModernMeta>) -> Option<Value> {
    let Some(meta) = meta else {
        return params;
    };
    let mut params = params.unwrap_or_else(|| json!({}));
    if let (Some(p), Some(m)) = (params.as_object_mut(), meta.value()) {
        p.insert("_meta".into(), m);
    }
    Some(params)
}

/// Equal when the messages are, wherever `_meta` is held.
impl PartialEq for Request {
    fn eq(&self, other: &Request) -> bool {
        self.id == other.id
            && self.method == other.method
            && match (&self.modern_meta, &other.modern_meta) {
                (None, None) => self.params == other.params,
                _ => self.params_with_meta() == other.params_with_meta(),
            }
    }
}

/// The `_meta` of a request that has one of the MCP 2026-07-28 members
/// (`io.modelcontextprotocol/protocolVersion` or `…/clientCapabilities`):
/// the members of [`ModernMember`] as their JSON text, read when the
/// stateless path needs them (no `Value` tree, no SipHash of their long
/// names), and the others as values. A handler that asks for the whole
/// `_meta` gets it put together then ([`ModernMeta::value`]). Read once
/// and shared (`Arc`): a request whose `_meta` is the one its thread
/// remembers gets that one, not a copy.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ModernMeta {
    /// The modern members' values, one after another; shared, so that a
    /// copy of the one a thread remembers is not another allocation.
    text: Arc<str>,
    /// Where each member of [`ModernMember`] is in `text`, and how many of
    /// `others` came before it.
    spans: [Option<(u32, u32, u32)>; 4],
    others: Map<String, Value>,
    /// The served version of a `_meta` that `modern::request_meta` found
    /// valid with no capabilities and no log level: its verdict is a
    /// function of the text, and a thread's remembered `_meta` is shared
    /// by its requests, so it is read once, not per request.
    plain: std::sync::OnceLock<&'static str>,
}

/// The members of `_meta` the stateless path reads.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum ModernMember {
    ProtocolVersion = 0,
    ClientCapabilities = 1,
    ClientInfo = 2,
    LogLevel = 3,
}

/// The names of the members of [`ModernMember`], in its order.
const MODERN_MEMBERS: [&str; 4] = [
    crate::modern::META_PROTOCOL_VERSION,
    crate::modern::META_CLIENT_CAPABILITIES,
    crate::modern::META_CLIENT_INFO,
    crate::modern::META_LOG_LEVEL,
];

impl ModernMeta {
    /// The JSON text of one member, if present.
    pub fn member(&self, m: ModernMember) -> Option<&str> {
        let (start, end, _) = self.spans[m as usize]?;
        self.text.get(start as usize..end as usize)
    }

    /// See [`ModernMeta::plain`]'s field.
    pub(crate) fn plain(&self) -> Option<&'static str> {
        self.plain.get().copied()
    }

    pub(crate) fn set_plain(&self, version: &'static str) {
        let _ = self.plain.set(version);
    }

    /// The whole `_meta` as a `Value`, members in the client's order (made
    /// now).
    pub fn value(&self) -> Option<Value> {
        let mut modern: Vec<(u32, usize)> = (0..4)
            .filter_map(|i| self.spans[i].map(|(_, _, at)| (at, i)))
            .collect();
        modern.sort_unstable();
        let mut members = modern.into_iter().peekable();
        let mut map = Map::new();
        let put = |map: &mut Map<String, Value>, i: usize| -> Option<()> {
            let text = self.member(MODERN_ORDER[i])?;
            map.insert(MODERN_MEMBERS[i].into(), serde_json::from_str(text).ok()?);
            Some(())
        };
        for (n, (k, v)) in self.others.iter().enumerate() {
            while let Some((_, i)) = members.next_if(|(at, _)| *at as usize == n) {
                put(&mut map, i)?;
            }
            map.insert(k.clone(), v.clone());
        }
        for (_, i) in members {
            put(&mut map, i)?;
        }
        Some(Value::Object(map))
    }
}

const MODERN_ORDER: [ModernMember; 4] = [
    ModernMember::ProtocolVersion,
    ModernMember::ClientCapabilities,
    ModernMember::ClientInfo,
    ModernMember::LogLevel,
];

/// The deepest nesting serde_json accepts (its recursion limit is 128).
const MAX_DEPTH: usize = 127;

/// What `params._meta` is read as: a [`ModernMeta`], or a `Value` when it
/// has no modern member. `Err` (the general parser judges it) for a member
/// name with an escape, a modern member given twice, `clientInfo` or
/// `logLevel` without the others, or nesting deeper than serde_json
/// allows (it does not count inside a raw value).
struct MetaIn(Result<Arc<ModernMeta>, Value>);

/// Read as its text first: a client sends the same `_meta` with every
/// request, and comparing the text with the last one costs less than
/// reading its members (see [`read_meta`]).
impl<'de> Deserialize<'de> for MetaIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MetaIn, D::Error> {
        use serde::de::Error;
        let raw = <&'de RawValue>::deserialize(d)?;
        read_meta(raw.get()).ok_or_else(|| D::Error::custom("left to the general parser"))
    }
}

/// The longest `_meta` text a thread remembers (no large copy kept).
const REMEMBERED_META: usize = 512;

thread_local! {
    /// The last `_meta` text this thread read as a [`ModernMeta`], and
    /// what it read: the reading is a function of the text alone.
    static LAST_META: std::cell::RefCell<Option<(String, Arc<ModernMeta>)>> =
        const { std::cell::RefCell::new(None) };
}

/// [`MetaIn`] of the (valid JSON) text of a `_meta`; None for what the
/// general parser must judge. A text byte-identical to the last modern one
/// this thread read is not read again.
fn read_meta(text: &str) -> Option<MetaIn> {
    if let Some((len, m)) = known_meta(text.as_bytes())
        && len == text.len()
    {
        return Some(MetaIn(Ok(m)));
    }
    // Read on its own, the text is not counted against serde_json's depth
    // limit with the envelope and the params around it: judged here.
    let too_deep = 2 + text.len() / 2 > MAX_DEPTH
        && 2 + skip_value(text.as_bytes(), 0).map_or(0, |(_, n)| n) > MAX_DEPTH;
    if too_deep {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let read = de.deserialize_map(MetaVisitor).ok()?;
    de.end().ok()?;
    if let Ok(m) = &read.0
        && text.len() <= REMEMBERED_META
    {
        let kept = (text.to_owned(), m.clone());
        LAST_META.with_borrow_mut(|last| *last = Some(kept));
    }
    Some(read)
}

struct MetaVisitor;

impl<'de> serde::de::Visitor<'de> for MetaVisitor {
    type Value = MetaIn;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<MetaIn, A::Error> {
        use serde::de::Error;
        let general = || A::Error::custom("left to the general parser");
        let (mut text, mut spans, mut others) = (String::new(), [None; 4], Map::new());
        while let Some(name) = access.next_key::<&'de str>()? {
            let Some(slot) = MODERN_MEMBERS.iter().position(|n| *n == name) else {
                others.insert(name.to_owned(), access.next_value::<Value>()?);
                continue;
            };
            let raw = access.next_value::<&'de RawValue>()?;
            // The envelope, the params and `_meta` enclose the member; a
            // nesting takes two bytes a level, so short text needs no look.
            let text_of = raw.get();
            let too_deep = 3 + text_of.len() / 2 > MAX_DEPTH
                && 3 + skip_value(text_of.as_bytes(), 0).map_or(0, |(_, n)| n) > MAX_DEPTH;
            if spans[slot].is_some() || too_deep {
                return Err(general());
            }
            if text.is_empty() {
                text.reserve(128);
            }
            let start = text.len() as u32;
            text.push_str(raw.get());
            spans[slot] = Some((start, text.len() as u32, others.len() as u32));
        }
        let [version, capabilities, info, level] = spans;
        if version.is_none() && capabilities.is_none() {
            if info.is_some() || level.is_some() {
                return Err(general());
            }
            return Ok(MetaIn(Err(Value::Object(others))));
        }
        if text.len() > u32::MAX as usize {
            return Err(general());
        }
        Ok(MetaIn(Ok(Arc::new(ModernMeta {
            text: text.into(),
            spans,
            others,
            plain: std::sync::OnceLock::new(),
        }))))
    }
}

/// The `_meta` at the start of `text` if it is the last one this thread
/// read as a [`ModernMeta`], and its length. A JSON object ends where its
/// text says, so a text that starts with that (valid) one holds it whole.
fn known_meta(text: &[u8]) -> Option<(usize, Arc<ModernMeta>)> {
    LAST_META.with_borrow(|last| match last {
        Some((t, m)) if text.starts_with(t.as_bytes()) => Some((t.len(), m.clone())),
        _ => None,
    })
}

/// The end of the (valid) JSON value at `i`, and its nesting.
fn skip_value(text: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    loop {
        let b = *text.get(i)?;
        i += 1;
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' if depth == 0 => return Some((i, max)),
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            // A scalar ends before what follows it.
            b'}' | b']' | b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => {
                return Some((i - 1, max));
            }
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some((i, max));
                }
            }
            _ => {}
        }
    }
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
    /// JSON text this answer alone holds (a tool result, a result with its
    /// MCP 2026-07-28 envelope): kept in the box it was written into, not
    /// copied into an `Arc` as a shared page is.
    Owned(Box<RawValue>),
    /// A serialized `CallToolResult` without `_meta`: an object whose only
    /// members are `content`, `structuredContent` and `isError`, so the
    /// modern envelope is added without reading it (`modern::finish`).
    ToolResult(Box<RawValue>),
    /// An object's text (`.0`, `{…}`) with the members `.1` (JSON text, no
    /// leading comma) written before its closing brace: a tool result with
    /// the modern envelope, joined only as it is written (no spliced copy
    /// of the result is made).
    Enveloped(Box<RawValue>, Arc<str>),
}

impl Payload {
    /// `value` serialized now (no `Value` tree is built).
    pub fn serialize<T: Serialize + ?Sized>(value: &T) -> Result<Payload, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(Payload::Owned)
    }

    /// The JSON text of a result held as one text; None for a `Value` and
    /// a [`Payload::Enveloped`] one.
    pub(crate) fn text(&self) -> Option<&RawValue> {
        match self {
            Payload::Value(_) | Payload::Enveloped(..) => None,
            Payload::Json(raw) => Some(raw),
            Payload::Owned(raw) | Payload::ToolResult(raw) => Some(raw),
        }
    }

    /// The JSON text of a result held as text, in pieces, in order, to
    /// `push`; false (nothing pushed) for a `Value`.
    pub(crate) fn text_pieces(&self, mut push: impl FnMut(&str)) -> bool {
        if let Payload::Enveloped(raw, members) = self {
            let text = raw.get();
            // `{…}`: everything but the closing brace, the members, the brace.
            let (open, close) = text.split_at(text.len().saturating_sub(1));
            push(open);
            if has_members(open.get(1..).unwrap_or_default()) {
                push(",");
            }
            push(members);
            push(close);
            return true;
        }
        match self.text() {
            Some(raw) => {
                push(raw.get());
                true
            }
            None => false,
        }
    }

    /// The JSON text of a result held as text, as one string.
    fn joined(&self) -> Option<Cow<'_, str>> {
        if let Some(raw) = self.text() {
            return Some(Cow::Borrowed(raw.get()));
        }
        let mut text = String::new();
        self.text_pieces(|piece| text.push_str(piece))
            .then_some(Cow::Owned(text))
    }

    /// As a `Value` (JSON text is parsed: for tests and in-process clients).
    pub fn into_value(self) -> Value {
        if let Payload::Value(v) = self {
            return v;
        }
        self.joined()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null)
    }

    fn to_value(&self) -> Value {
        self.clone().into_value()
    }
}

/// Whether the text after an object's `{` (its closing brace left out)
/// holds a member: not only whitespace. Compact JSON answers at its first
/// byte.
fn has_members(body: &str) -> bool {
    match body.as_bytes().first() {
        None => false,
        Some(b) if b.is_ascii_whitespace() => !body.trim_start().is_empty(),
        Some(_) => true,
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
            Payload::Owned(raw) | Payload::ToolResult(raw) => raw.serialize(ser),
            Payload::Enveloped(..) => {
                let text = self.joined().unwrap_or_default().into_owned();
                let raw = crate::modern::verbatim(text)
                    .ok_or_else(|| serde::ser::Error::custom("an enveloped result"))?;
                raw.serialize(ser)
            }
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
            _ => &self.to_value() == other,
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
    /// The id of a request; none for a notification or a response.
    pub(crate) fn request_id(&self) -> Option<RequestId> {
        match self {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        }
    }

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
        // A text holds at most one value per byte, plus one: a short one
        // needs no count.
        if bytes.len() >= max_values && count_values(bytes, max_values) > max_values {
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
        if let Some(parts) = scan::envelope(bytes) {
            return Message::from_parts(parts);
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
            jsonrpc: obj.remove("jsonrpc").map(|v| v.as_str() == Some("2.0")),
            id: obj.remove("id").map(|id| match id {
                Value::String(s) => Ok(RequestId::String(s)),
                Value::Number(n) => n.as_i64().map(RequestId::Number).ok_or(()),
                _ => Err(()),
            }),
            method: obj.remove("method").map(|m| match m {
                Value::String(m) => Ok(m),
                _ => Err(()),
            }),
            params: obj
                .remove("params")
                .map(|value| Params { value, meta: None }),
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
            Some(Ok(id)) => Some(id),
            Some(Err(())) => return Err(invalid(None, "id must be a string or an integer")),
        };
        if jsonrpc != Some(true) {
            return Err(invalid(id, "\"jsonrpc\" must be \"2.0\""));
        }
        let (params, modern_meta) = match params {
            None => (None, None),
            Some(Params {
                value: p @ (Value::Object(_) | Value::Array(_)),
                meta,
            }) => (Some(p), meta),
            Some(_) => return Err(invalid(id, "params must be an object or an array")),
        };
        match method {
            Some(Ok(method)) => Ok(match id {
                Some(id) => Message::Request(Request {
                    id,
                    method,
                    params,
                    modern_meta,
                }),
                // Notifications keep their `_meta` in `params`.
                None => Message::Notification(Notification {
                    method,
                    params: with_meta(params, modern_meta.as_deref()),
                }),
            }),
            Some(Err(())) => Err(invalid(id, "method must be a string")),
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
                if let Some(p) = r.params_with_meta() {
                    obj.insert("params".into(), p);
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

    /// [`Response::to_json`] as bytes. A result held as JSON text (a tool
    /// result) is put between the envelope's members as it is, into a
    /// buffer sized for it: no serializer walks the envelope.
    pub(crate) fn to_json_bytes(&self) -> Vec<u8> {
        if let (Some(id), Ok(result)) = (&self.id, &self.outcome) {
            let mut len = 0;
            if result.text_pieces(|piece| len += piece.len()) {
                let mut out = Vec::with_capacity(len + 64);
                out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
                if serde_json::to_writer(&mut out, id).is_ok() {
                    out.extend_from_slice(br#","result":"#);
                    result.text_pieces(|piece| out.extend_from_slice(piece.as_bytes()));
                    out.push(b'}');
                    return out;
                }
            }
        }
        serde_json::to_vec(&Wire::Response(self)).unwrap_or_default()
    }
}

/// The members of a message, as read from its text: a member given as
/// `null` is present, not absent. Read from text, `jsonrpc`, `id` and
/// `method` take only the types they may have (no `Value` is built for
/// them); any other fails, and the general path reads the message.
#[derive(Deserialize)]
struct Parts {
    /// Whether it is `"2.0"`.
    #[serde(default, deserialize_with = "version")]
    jsonrpc: Option<bool>,
    /// `Err`: neither a string nor an integer.
    #[serde(default, deserialize_with = "request_id")]
    id: Option<Result<RequestId, ()>>,
    /// `Err`: not a string.
    #[serde(default, deserialize_with = "method")]
    method: Option<Result<String, ()>>,
    #[serde(default, deserialize_with = "params")]
    params: Option<Params>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    // Borrowed: an escaped string fails, for the general path.
    <&'de str>::deserialize(d).map(|v| Some(v == "2.0"))
}

fn request_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Result<RequestId, ()>>, D::Error> {
    d.deserialize_any(IdVisitor).map(|id| Some(Ok(id)))
}

fn method<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Result<String, ()>>, D::Error> {
    String::deserialize(d).map(|m| Some(Ok(m)))
}

/// A string or an integer id (anything else is an error).
struct IdVisitor;

impl serde::de::Visitor<'_> for IdVisitor {
    type Value = RequestId;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string or an integer")
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<RequestId, E> {
        Ok(RequestId::Number(n))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<RequestId, E> {
        i64::try_from(n)
            .map(RequestId::Number)
            .map_err(|_| E::custom("id out of range"))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<RequestId, E> {
        Ok(RequestId::String(s.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<RequestId, E> {
        Ok(RequestId::String(s))
    }
}

/// `params`, and the modern `_meta` taken out of them unparsed.
struct Params {
    value: Value,
    meta: Option<Arc<ModernMeta>>,
}

/// `params` as an object (anything else fails: the general path reads
/// it); its `_meta` is read as text and, when it is a modern one, kept as
/// a [`ModernMeta`] instead of a `Value` tree in the params.
fn params<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Params>, D::Error> {
    d.deserialize_map(ParamsVisitor).map(Some)
}

struct ParamsVisitor;

impl<'de> serde::de::Visitor<'de> for ParamsVisitor {
    type Value = Params;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Params, A::Error> {
        use serde::de::Error;
        let mut value = Map::new();
        let mut meta = None;
        while let Some(key) = access.next_key::<String>()? {
            if key != "_meta" {
                value.insert(key, access.next_value::<Value>()?);
                continue;
            }
            if meta.is_some() || value.contains_key("_meta") {
                return Err(A::Error::custom("_meta given twice"));
            }
            match access.next_value::<MetaIn>()?.0 {
                Ok(m) => meta = Some(m),
                Err(v) => {
                    value.insert(key, v);
                }
            }
        }
        Ok(Params {
            value: Value::Object(value),
            meta,
        })
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
                let params = match &r.modern_meta {
                    None => r.params.as_ref().map(Cow::Borrowed),
                    Some(_) => r.params_with_meta().map(Cow::Owned),
                };
                (&r.method, params)
            }
            Wire::Message(Message::Notification(n)) => {
                (&n.method, n.params.as_ref().map(Cow::Borrowed))
            }
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
            map.serialize_entry("params", &p)?;
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
    fn param_finds_a_member_of_small_and_large_params() {
        let small = json!({"name": "t", "arguments": {"a": 1}});
        assert_eq!(param(Some(&small), "name"), Some(&json!("t")));
        assert_eq!(param(Some(&small), "arguments"), Some(&json!({"a": 1})));
        assert_eq!(param(Some(&small), "uri"), None);
        let large: Map<String, Value> = (0..20).map(|i| (format!("k{i}"), json!(i))).collect();
        let large = Value::Object(large);
        assert_eq!(param(Some(&large), "k17"), Some(&json!(17)));
        assert_eq!(param(Some(&large), "k20"), None);
        assert_eq!(param(Some(&json!([1])), "name"), None);
        assert_eq!(param(None, "name"), None);
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
                modern_meta: None,
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
    fn the_nesting_limit_is_the_same_on_every_reading() {
        // Around serde_json's limit of 128, in a params member and in a
        // `_meta` (read by hand, then by serde, then from the thread's
        // memory): the direct reading refuses exactly what the tree does.
        for depth in 120..132 {
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            for params in [
                format!(r#"{{"name":"t","arguments":{{"a":{deep}}}}}"#),
                format!(r#"{{"name":"t","_meta":{{"k":{deep}}}}}"#),
                format!(
                    r#"{{"name":"t","_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","k":{deep}}}}}"#
                ),
            ] {
                let text = format!(
                    r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#
                );
                for _ in 0..2 {
                    let tree = serde_json::from_str::<Value>(&text).map(Message::from_value);
                    let direct = Message::from_slice(text.as_bytes());
                    match (tree, direct) {
                        (Ok(a), b) => assert_eq!(a, b, "depth {depth}: {params}"),
                        (Err(_), Err(e)) => {
                            assert_eq!(e.outcome.unwrap_err().code, PARSE_ERROR, "depth {depth}")
                        }
                        (Err(e), Ok(_)) => panic!(
                            "depth {depth}: the tree refuses ({e}), the direct reading accepts"
                        ),
                    }
                }
            }
        }
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
    fn a_modern_meta_is_kept_as_text_and_agrees_with_the_value_tree() {
        let v = "io.modelcontextprotocol/protocolVersion";
        let c = "io.modelcontextprotocol/clientCapabilities";
        let i = "io.modelcontextprotocol/clientInfo";
        let l = "io.modelcontextprotocol/logLevel";
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let cases = [
            // (the `_meta`, whether the parser keeps it as text)
            (
                format!(r#"{{"{v}":"2026-07-28","{c}":{{}},"{i}":{{"name":"n","version":"1"}}}}"#),
                true,
            ),
            (
                format!(
                    r#"{{"progressToken":7,"{c}":{{"a":[1]}},"x":{{"y":null}},"{v}":null,"{l}":"info"}}"#
                ),
                true,
            ),
            (format!(r#"{{ "{c}" : {{}} , "z" : "\u00e9" }}"#), true),
            (
                r#"{"progressToken":"t","other":[1,{"a":2}]}"#.to_owned(),
                false,
            ),
            (format!(r#"{{"{i}":{{"name":"n","version":"1"}}}}"#), false),
            (format!(r#"{{"{v}":"a","{v}":"b"}}"#), false),
            (
                format!(r#"{{"io.modelcontextprotocol\/protocolVersion":"a","{c}":{{}}}}"#),
                false,
            ),
            (format!(r#"{{"{c}":{}}}"#, deep(124)), true),
            (format!(r#"{{"{c}":{}}}"#, deep(125)), false),
            (format!(r#"{{"x":{},"{c}":{{}}}}"#, deep(125)), false),
            ("[1]".to_owned(), false),
        ];
        // Twice: the second round finds each `_meta` the thread remembers.
        for (meta, kept) in cases.iter().chain(cases.iter()) {
            let (meta, kept) = (meta.as_str(), *kept);
            let text = format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"a","_meta":{meta},"arguments":{{}}}}}}"#
            );
            let tree = serde_json::from_str::<Value>(&text).map(Message::from_value);
            let direct = Message::from_slice(text.as_bytes());
            match (tree, direct) {
                (Ok(a), b) => assert_eq!(a, b, "{meta}"),
                (Err(_), Err(e)) => assert_eq!(e.outcome.unwrap_err().code, PARSE_ERROR),
                (Err(e), Ok(b)) => panic!("{meta}: {e} / {b:?}"),
            }
            let Ok(Message::Request(r)) = Message::from_slice(text.as_bytes()) else {
                continue;
            };
            assert_eq!(r.modern_meta.is_some(), kept, "{meta}");
            if let Some(m) = &r.modern_meta {
                // The members in the client's order, as the tree has them.
                let want: Value = serde_json::from_str(meta).unwrap();
                assert_eq!(m.value().unwrap().to_string(), want.to_string());
                assert!(r.params.as_ref().unwrap().get("_meta").is_none());
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
        let text = raw.text().unwrap().to_owned();
        assert_eq!(raw, Payload::Json(Arc::from(text)));
        let m = Message::Response(r);
        assert_eq!(m.to_json(), m.to_value().to_string());
    }

    #[test]
    fn the_wire_bytes_of_a_response_are_its_wire_form() {
        let raw = Payload::serialize(&json!({"content": [{"text": "é\n\"", "type": "text"}]}));
        let raw = raw.unwrap();
        for id in [
            Some(RequestId::Number(-7)),
            Some(RequestId::String("a\"b\u{1}".into())),
            None,
        ] {
            // The same text held alone (a tool result) and shared (a page).
            let shared = Payload::Json(Arc::from(raw.text().unwrap().to_owned()));
            for outcome in [
                Ok(raw.clone()),
                Ok(shared),
                Ok(json!([1]).into()),
                Err(ErrorObject::new(1, "x")),
            ] {
                let r = Response {
                    id: id.clone(),
                    outcome,
                };
                assert_eq!(r.to_json_bytes(), r.to_json().into_bytes());
            }
        }
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

//! MCP 2026-07-28 ("modern"): stateless requests that carry their protocol
//! version and client capabilities in `_meta`, served beside the 2025-11-25
//! session protocol on the same endpoint (see docs/protocol-2026.md).
//!
//! Everything here is transport-agnostic: era detection, validation of the
//! per-request `_meta`, the methods the modern path serves, and the result
//! envelope (`resultType`, `serverInfo` in `_meta`, caching hints). Nothing
//! is kept between requests.

pub mod listen;
pub(crate) mod mrtr;
pub mod param_headers;
mod seal;
mod splice;

pub(crate) use splice::verbatim;
pub mod tasks;

pub use mrtr::STATE_TTL;
pub use seal::StateKey;

use crate::error::McpError;
use crate::jsonrpc::{self, ModernMember, Payload, Request};
use crate::model::LogLevel;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The modern revisions served statelessly, newest first.
pub const MODERN_PROTOCOL_VERSIONS: &[&str] = &["2026-07-28"];

/// `HeaderMismatch`: an HTTP header does not match the body, or a required
/// one is missing or malformed.
pub const HEADER_MISMATCH: i64 = -32020;
/// `MissingRequiredClientCapabilityError`.
pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
/// `UnsupportedProtocolVersionError` (data: `supported`, `requested`).
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

pub(crate) const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub(crate) const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub(crate) const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub(crate) const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub(crate) const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// Caching hints put on cacheable results whose handler set none: stale at
/// once (lists can change at run time) and private (a result may depend on
/// who asks) unless the server says otherwise (`ServerBuilder::cache_hints`,
/// `server.cache` in the YAML spec).
pub(crate) const DEFAULT_TTL_MS: u64 = 0;
pub(crate) const DEFAULT_CACHE_SCOPE: &str = "private";

/// The `ttlMs` / `cacheScope` a server puts on cacheable results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheHints {
    pub ttl_ms: u64,
    /// `"public"` or `"private"`.
    pub scope: &'static str,
}

impl Default for CacheHints {
    fn default() -> Self {
        CacheHints {
            ttl_ms: DEFAULT_TTL_MS,
            scope: DEFAULT_CACHE_SCOPE,
        }
    }
}

impl CacheHints {
    /// Hints from a scope name; None unless it is `public` or `private`.
    pub fn new(ttl_ms: u64, scope: &str) -> Option<CacheHints> {
        let scope = match scope {
            "public" => "public",
            "private" => "private",
            _ => return None,
        };
        Some(CacheHints { ttl_ms, scope })
    }
}

/// The lists that may have caching hints of their own
/// (`ServerBuilder::list_cache_hints`).
pub const CACHE_LISTS: [&str; 4] = [
    "tools/list",
    "resources/list",
    "resources/templates/list",
    "prompts/list",
];

/// The caching hints of a server: its defaults, and a list's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CachePolicy {
    /// For every cacheable result without hints of its own.
    pub default: CacheHints,
    /// By the index of the method in [`CACHE_LISTS`].
    lists: [Option<CacheHints>; 4],
}

impl CachePolicy {
    /// Give `method` (one of [`CACHE_LISTS`]) hints of its own; false for
    /// another method.
    pub fn set_list(&mut self, method: &str, hints: CacheHints) -> bool {
        match CACHE_LISTS.iter().position(|m| *m == method) {
            Some(i) => {
                self.lists[i] = Some(hints);
                true
            }
            None => false,
        }
    }

    /// The hints a result of `method` gets unless its handler set some.
    pub fn for_method(&self, method: &str) -> CacheHints {
        CACHE_LISTS
            .iter()
            .position(|m| *m == method)
            .and_then(|i| self.lists[i])
            .unwrap_or(self.default)
    }
}

/// The methods the modern path serves. Everything else, including the
/// session-era `initialize`, `ping`, `logging/setLevel` and
/// `resources/(un)subscribe`, is "Method not found".
const SERVED: &[&str] = &[
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "subscriptions/listen",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
];

/// Results that carry `ttlMs` and `cacheScope` (`CacheableResult`).
const CACHEABLE: &[&str] = &[
    "server/discover",
    "tools/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
];

/// The static name of a method the modern path serves (no copy of the
/// request's), or None.
pub(crate) fn served(method: &str) -> Option<&'static str> {
    SERVED.iter().find(|m| **m == method).copied()
}

/// Whether a request is a modern one: `server/discover`, or a `_meta` with
/// one of the modern per-request keys. Over HTTP the headers can also say
/// so (see the transport).
pub fn is_modern(req: &Request) -> bool {
    req.method == "server/discover"
        || req.modern_meta.is_some()
        || has_modern_meta(req.params.as_ref())
}

/// Whether `params._meta` has one of the modern per-request keys.
pub fn has_modern_meta(params: Option<&Value>) -> bool {
    crate::jsonrpc::param(params, "_meta")
        .and_then(Value::as_object)
        .is_some_and(|m| {
            m.keys()
                .any(|k| k == META_PROTOCOL_VERSION || k == META_CLIENT_CAPABILITIES)
        })
}

/// The modern per-request members of a `_meta`, found in one pass over its
/// members: a look-up by key would hash each long
/// `io.modelcontextprotocol/…` name (SipHash, per request) and a `_meta`
/// is a handful of members.
struct ModernKeys<'a> {
    version: Option<&'a Value>,
    capabilities: Option<&'a Value>,
    client_info: Option<&'a Value>,
    log_level: Option<&'a Value>,
}

impl<'a> ModernKeys<'a> {
    fn of(meta: &'a Map<String, Value>) -> ModernKeys<'a> {
        let mut keys = ModernKeys {
            version: None,
            capabilities: None,
            client_info: None,
            log_level: None,
        };
        for (k, v) in meta {
            let slot = match k.as_str() {
                META_PROTOCOL_VERSION => &mut keys.version,
                META_CLIENT_CAPABILITIES => &mut keys.capabilities,
                META_CLIENT_INFO => &mut keys.client_info,
                META_LOG_LEVEL => &mut keys.log_level,
                _ => continue,
            };
            *slot = Some(v);
        }
        keys
    }
}

/// The protocol version a modern request declares: a served one is the
/// static name (no copy of the request's per request), another its text.
/// Reads as a `str`.
#[derive(Clone, PartialEq, Eq)]
pub struct ProtocolVersion(std::borrow::Cow<'static, str>);

impl ProtocolVersion {
    /// The version named by `text`: [`MODERN_PROTOCOL_VERSIONS`]' own
    /// name when it is one of them.
    pub fn new(text: &str) -> ProtocolVersion {
        match MODERN_PROTOCOL_VERSIONS.iter().find(|v| **v == text) {
            Some(v) => ProtocolVersion(std::borrow::Cow::Borrowed(v)),
            None => ProtocolVersion(std::borrow::Cow::Owned(text.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is one of [`MODERN_PROTOCOL_VERSIONS`] (only those are
    /// kept as their static name).
    pub fn is_served(&self) -> bool {
        matches!(self.0, std::borrow::Cow::Borrowed(_))
    }
}

impl std::ops::Deref for ProtocolVersion {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ProtocolVersion {
    fn from(text: &str) -> ProtocolVersion {
        ProtocolVersion::new(text)
    }
}

impl From<String> for ProtocolVersion {
    fn from(text: String) -> ProtocolVersion {
        match MODERN_PROTOCOL_VERSIONS.iter().find(|v| **v == text) {
            Some(v) => ProtocolVersion(std::borrow::Cow::Borrowed(v)),
            None => ProtocolVersion(std::borrow::Cow::Owned(text)),
        }
    }
}

impl From<ProtocolVersion> for String {
    fn from(v: ProtocolVersion) -> String {
        v.0.into_owned()
    }
}

impl PartialEq<str> for ProtocolVersion {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ProtocolVersion {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for ProtocolVersion {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

/// What one modern request declares about its client.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub protocol_version: ProtocolVersion,
    pub capabilities: Value,
    /// Null when absent, and from [`request_meta`] when the parser kept the
    /// `_meta` as text: there it is checked, not copied (the throwaway
    /// session it would go to shows it to no one; `ctx.meta()` has it).
    pub client_info: Value,
    pub log_level: Option<LogLevel>,
}

/// The per-request `_meta` of a modern request, checked for shape only
/// (`-32602` when it is missing or malformed). The version is checked by
/// [`check_version`], after the transport compared it with its headers.
pub fn parse_meta(params: Option<&Value>) -> Result<RequestMeta, McpError> {
    let meta = crate::jsonrpc::param(params, "_meta").ok_or_else(|| {
        McpError::invalid_params(
            "params._meta is required (MCP 2026-07-28); a 2025-11-25 client sends initialize first",
        )
    })?;
    let meta = meta
        .as_object()
        .ok_or_else(|| McpError::invalid_params("params._meta must be an object"))?;
    let keys = ModernKeys::of(meta);
    let protocol_version = match keys.version {
        Some(Value::String(v)) => ProtocolVersion::new(v),
        Some(_) => {
            return Err(McpError::invalid_params(format!(
                "_meta.{META_PROTOCOL_VERSION} must be a string"
            )));
        }
        None => {
            return Err(McpError::invalid_params(format!(
                "_meta.{META_PROTOCOL_VERSION} is required"
            )));
        }
    };
    let capabilities = match keys.capabilities {
        Some(c @ Value::Object(_)) => c.clone(),
        Some(_) => {
            return Err(McpError::invalid_params(format!(
                "_meta.{META_CLIENT_CAPABILITIES} must be an object"
            )));
        }
        None => {
            return Err(McpError::invalid_params(format!(
                "_meta.{META_CLIENT_CAPABILITIES} is required"
            )));
        }
    };
    let client_info = match keys.client_info {
        None => Value::Null,
        Some(i @ Value::Object(_)) if is_implementation(i) => i.clone(),
        Some(_) => return Err(bad_client_info()),
    };
    let log_level = match keys.log_level {
        None => None,
        Some(l) => {
            Some(serde_json::from_value::<LogLevel>(l.clone()).map_err(|_| bad_log_level())?)
        }
    };
    Ok(RequestMeta {
        protocol_version,
        capabilities,
        client_info,
        log_level,
    })
}

/// [`parse_meta`] of a request, wherever its `_meta` is: read from the
/// text the parser kept ([`Request::modern_meta`]: no `Value` tree of it
/// is built, and only the members read here are parsed), or in `params`.
pub fn request_meta(req: &Request) -> Result<RequestMeta, McpError> {
    let Some(meta) = &req.modern_meta else {
        return parse_meta(req.params.as_ref());
    };
    // The thread's remembered `_meta`, read before (the usual request).
    if let Some(version) = meta.plain() {
        return Ok(plain_meta(version));
    }
    let member = |m| meta.member(m);
    // Each error made out of line: the usual request runs through less code.
    let protocol_version = match member(ModernMember::ProtocolVersion) {
        Some(v) => match unescaped_str(v) {
            Some(v) => ProtocolVersion::new(v),
            None => serde_json::from_str::<String>(v)
                .map(ProtocolVersion::from)
                .map_err(|_| must_be(META_PROTOCOL_VERSION, "a string"))?,
        },
        None => return Err(required(META_PROTOCOL_VERSION)),
    };
    let capabilities = match member(ModernMember::ClientCapabilities) {
        // No capabilities (most requests): no parse.
        Some("{}") => Some(Value::Object(Map::new())),
        Some(c) if c.starts_with('{') => serde_json::from_str::<Value>(c).ok(),
        Some(_) => None,
        None => return Err(required(META_CLIENT_CAPABILITIES)),
    }
    .ok_or_else(|| must_be(META_CLIENT_CAPABILITIES, "an object"))?;
    if let Some(info) = member(ModernMember::ClientInfo)
        && !is_known_implementation_text(info)
    {
        return Err(bad_client_info());
    }
    let client_info = Value::Null;
    let log_level = match member(ModernMember::LogLevel) {
        None => None,
        Some(l) => Some(serde_json::from_str::<LogLevel>(l).map_err(|_| bad_log_level())?),
    };
    if let std::borrow::Cow::Borrowed(version) = protocol_version.0
        && log_level.is_none()
        && capabilities.as_object().is_some_and(Map::is_empty)
    {
        meta.set_plain(version);
    }
    Ok(RequestMeta {
        protocol_version,
        capabilities,
        client_info,
        log_level,
    })
}

/// What [`request_meta`] reads of a valid `_meta` with a served version,
/// no capabilities and no log level.
fn plain_meta(version: &'static str) -> RequestMeta {
    RequestMeta {
        protocol_version: ProtocolVersion(std::borrow::Cow::Borrowed(version)),
        capabilities: Value::Object(Map::new()),
        client_info: Value::Null,
        log_level: None,
    }
}

/// `-32602`: the `_meta` member `key` is missing.
#[cold]
#[inline(never)]
fn required(key: &str) -> McpError {
    McpError::invalid_params(format!("_meta.{key} is required"))
}

/// `-32602`: the `_meta` member `key` is not `what`.
#[cold]
#[inline(never)]
fn must_be(key: &str, what: &str) -> McpError {
    McpError::invalid_params(format!("_meta.{key} must be {what}"))
}

/// The contents of a JSON string (valid JSON text, as the parser kept it)
/// that has no escapes to decode; None for anything else.
fn unescaped_str(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// An `Implementation` object: `name` and `version` strings.
fn is_implementation(info: &Value) -> bool {
    info.get("name").is_some_and(Value::is_string)
        && info.get("version").is_some_and(Value::is_string)
}

/// [`is_implementation_text`], remembering the last short text each thread
/// found valid: a client sends the same `clientInfo` with every request,
/// and reading it costs more than the rest of the `_meta`.
fn is_known_implementation_text(text: &str) -> bool {
    /// Longer texts are judged every time (no large copy kept per thread).
    const REMEMBERED: usize = 256;
    thread_local! {
        static LAST_VALID: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    let known = LAST_VALID.with_borrow(|last| !last.is_empty() && last == text);
    if known {
        return true;
    }
    let valid = is_implementation_text(text);
    if valid && text.len() <= REMEMBERED {
        LAST_VALID.with_borrow_mut(|last| {
            last.clear();
            last.push_str(text);
        });
    }
    valid
}

/// [`is_implementation`] of JSON text, without a `Value` of it (a member
/// given twice, which serde refuses, is judged on the `Value`).
fn is_implementation_text(text: &str) -> bool {
    /// The members an `Implementation` must have, as strings.
    #[derive(serde::Deserialize)]
    struct Required {
        #[serde(rename = "name")]
        _name: AnyString,
        #[serde(rename = "version")]
        _version: AnyString,
    }
    struct AnyString;
    impl<'de> serde::Deserialize<'de> for AnyString {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<AnyString, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = AnyString;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a string")
                }
                fn visit_str<E>(self, _: &str) -> Result<AnyString, E> {
                    Ok(AnyString)
                }
            }
            d.deserialize_str(V)
        }
    }
    // (A struct also reads from an array: only an object is one.)
    text.starts_with('{')
        && (serde_json::from_str::<Required>(text).is_ok()
            || serde_json::from_str::<Value>(text).is_ok_and(|v| is_implementation(&v)))
}

#[cold]
#[inline(never)]
fn bad_client_info() -> McpError {
    McpError::invalid_params(format!(
        "_meta.{META_CLIENT_INFO} must be an Implementation object (name, version)"
    ))
}

#[cold]
#[inline(never)]
fn bad_log_level() -> McpError {
    McpError::invalid_params(format!(
        "_meta.{META_LOG_LEVEL} must be one of debug, info, notice, warning, error, critical, alert, emergency"
    ))
}

/// `-32022` unless the declared version is one the modern path serves.
pub fn check_version(meta: &RequestMeta) -> Result<(), McpError> {
    if meta.protocol_version.is_served() {
        return Ok(());
    }
    Err(unsupported_version(&meta.protocol_version))
}

pub(crate) fn unsupported_version(requested: &str) -> McpError {
    McpError::new(
        UNSUPPORTED_PROTOCOL_VERSION,
        format!(
            "Unsupported protocol version {requested:?} (supported: {})",
            MODERN_PROTOCOL_VERSIONS.join(", ")
        ),
    )
    .with_data(json!({ "supported": MODERN_PROTOCOL_VERSIONS, "requested": requested }))
}

/// `-32021` naming the capability the client must declare.
pub fn missing_capability(name: &str) -> McpError {
    McpError::new(
        MISSING_CLIENT_CAPABILITY,
        format!(
            "this request needs the client capability `{name}`, which the request did not declare"
        ),
    )
    .with_data(json!({ "requiredCapabilities": { name: {} } }))
}

/// `-32020` with a message saying what did not match.
pub fn header_mismatch(message: impl Into<String>) -> McpError {
    McpError::new(
        HEADER_MISMATCH,
        format!("Header mismatch: {}", message.into()),
    )
}

/// The `server/discover` result body (before [`finish`]).
pub(crate) fn discover(legacy_capabilities: &Value, instructions: Option<&str>) -> Value {
    let mut result = Map::new();
    result.insert("supportedVersions".into(), json!(MODERN_PROTOCOL_VERSIONS));
    // The same as the session era's: list changes and resource updates
    // reach modern clients through `subscriptions/listen`.
    let mut capabilities = legacy_capabilities.clone();
    // Only the modern path serves the tasks extension.
    if capabilities.get("tools").is_some() {
        capabilities["extensions"] = json!({ tasks::EXTENSION: {} });
    }
    result.insert("capabilities".into(), capabilities);
    if let Some(i) = instructions {
        result.insert("instructions".into(), Value::String(i.to_owned()));
    }
    Value::Object(result)
}

/// A server's part of the modern envelope, made once. Every result
/// carries the server's identity in `_meta`; all but `server/discover`'s
/// carry only its stamp (name, version and title, what the schema's
/// "display, logging, and debugging" needs), so that a long description
/// or inline icons are not resent with every answer. `server/discover`
/// gets the whole `Implementation`.
#[derive(Debug)]
pub(crate) struct Envelope {
    stamp: Value,
    stamp_json: Box<RawValue>,
    full_json: Box<RawValue>,
    /// What a complete result that is not cacheable gets: `resultType`
    /// and the stamp in `_meta`, as JSON members.
    members: Arc<str>,
}

impl Envelope {
    pub(crate) fn new(server_info: &Value) -> Envelope {
        let stamp = match server_info {
            Value::Object(info) => Value::Object(
                ["name", "version", "title"]
                    .into_iter()
                    .filter_map(|k| Some((k.to_owned(), info.get(k)?.clone())))
                    .collect(),
            ),
            other => other.clone(),
        };
        let raw = |v: &Value| {
            serde_json::value::to_raw_value(v).unwrap_or_else(|_| RawValue::NULL.to_owned())
        };
        let stamp_json = raw(&stamp);
        let members = format!(
            "\"resultType\":\"complete\",\"_meta\":{{\"{META_SERVER_INFO}\":{}}}",
            stamp_json.get()
        );
        Envelope {
            stamp,
            stamp_json,
            full_json: raw(server_info),
            members: members.into(),
        }
    }
}

/// The modern envelope of a result: `resultType`, the server's identity in
/// `_meta` (`server_info` for `server/discover`, the [`Envelope`]'s stamp
/// for the rest), and caching hints on cacheable results (the handler's
/// own values win). A result that is already JSON text gets it spliced
/// in, without a `Value` round trip.
pub(crate) fn finish(
    method: &str,
    result: Payload,
    server_info: &Value,
    envelope: &Envelope,
    cache: CacheHints,
) -> Payload {
    let cacheable = CACHEABLE.contains(&method);
    // A tool result names none of the envelope's members: they are
    // written after its own, as it is sent.
    if !cacheable && let Payload::ToolResult(raw) = result {
        let text = raw.get();
        if text.starts_with('{') && text.ends_with('}') {
            return Payload::Enveloped(raw, envelope.members.clone());
        }
        return finish(method, Payload::Owned(raw), server_info, envelope, cache);
    }
    let (info, info_json) = match method {
        "server/discover" => (server_info, &*envelope.full_json),
        _ => (&envelope.stamp, &*envelope.stamp_json),
    };
    // The spliced text stays in its box: an `Arc` of it was a copy.
    if let Some(raw) = result.text()
        && let Some(done) = splice::splice(raw, cacheable, cache, info_json)
    {
        return Payload::Owned(done);
    }
    Payload::Value(finish_value(cacheable, result.into_value(), info, cache))
}

fn finish_value(cacheable: bool, result: Value, server_info: &Value, cache: CacheHints) -> Value {
    let mut map = match result {
        Value::Object(m) => m,
        // Every MCP result is an object; anything else is wrapped so the
        // envelope stays valid.
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            m
        }
    };
    let kind = map
        .entry("resultType")
        .or_insert_with(|| Value::String("complete".into()));
    // An InputRequiredResult is not the method's result: nothing to cache.
    if cacheable && kind == "complete" {
        map.entry("ttlMs").or_insert_with(|| json!(cache.ttl_ms));
        map.entry("cacheScope")
            .or_insert_with(|| Value::String(cache.scope.into()));
    }
    let meta = map
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        meta.entry(META_SERVER_INFO)
            .or_insert_with(|| server_info.clone());
    }
    Value::Object(map)
}

/// Errors in the new revision's terms: an unknown resource is `-32602`
/// (SEP-2164) instead of the session era's `-32002`. A shared store that
/// cannot answer keeps its `-32002` (its `data.store` names it), the code
/// the HTTP transport's 503 carries.
pub(crate) fn finish_error(e: McpError) -> McpError {
    let store_away = e.0.data.as_ref().is_some_and(|d| d.get("store").is_some());
    if e.code() == jsonrpc::RESOURCE_NOT_FOUND && !store_away {
        let mut e = e;
        e.0.code = jsonrpc::INVALID_PARAMS;
        return e;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::RequestId;

    fn valid() -> Value {
        json!({"_meta": {
            META_PROTOCOL_VERSION: "2026-07-28",
            META_CLIENT_CAPABILITIES: {},
        }})
    }

    fn req(method: &str, params: Option<Value>) -> Request {
        Request {
            id: RequestId::Number(1),
            method: method.into(),
            params,
            modern_meta: None,
        }
    }

    #[test]
    fn detects_the_era_from_meta_or_discover() {
        assert!(is_modern(&req("tools/list", Some(valid()))));
        assert!(is_modern(&req("server/discover", None)));
        let only_caps = json!({"_meta": {META_CLIENT_CAPABILITIES: {}}});
        assert!(is_modern(&req("tools/list", Some(only_caps))));
        assert!(!is_modern(&req(
            "tools/list",
            Some(json!({"_meta": {"progressToken": 1}}))
        )));
        assert!(!is_modern(&req(
            "initialize",
            Some(json!({"protocolVersion": "2025-11-25"}))
        )));
    }

    #[test]
    fn a_protocol_version_reads_as_its_text_whichever_way_it_is_kept() {
        for text in ["2026-07-28", "2025-11-25", "", "2026-07-28 ", "x\"y"] {
            let v = ProtocolVersion::new(text);
            let owned = ProtocolVersion::from(text.to_owned());
            assert_eq!(v, owned);
            assert_eq!(v, text);
            assert_eq!(v.as_str(), text);
            assert_eq!(format!("{v:?}"), format!("{text:?}"));
            assert_eq!(format!("{v}"), text);
            let served = MODERN_PROTOCOL_VERSIONS.contains(&text);
            assert_eq!(v.is_served(), served, "{text:?}");
            assert_eq!(owned.is_served(), served, "{text:?}");
            let meta = RequestMeta {
                protocol_version: v,
                capabilities: json!({}),
                client_info: Value::Null,
                log_level: None,
            };
            assert_eq!(check_version(&meta).is_ok(), served, "{text:?}");
        }
    }

    #[test]
    fn meta_must_carry_version_and_capabilities() {
        let m = parse_meta(Some(&valid())).unwrap();
        assert_eq!(m.protocol_version, "2026-07-28");
        assert!(m.log_level.is_none() && m.client_info.is_null());
        for bad in [
            json!({}),
            json!({"_meta": []}),
            json!({"_meta": {META_CLIENT_CAPABILITIES: {}}}),
            json!({"_meta": {META_PROTOCOL_VERSION: 2026, META_CLIENT_CAPABILITIES: {}}}),
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28"}}),
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: []}}),
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {}, META_LOG_LEVEL: "loud"}}),
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {}, META_CLIENT_INFO: {"name": "x"}}}),
        ] {
            let e = parse_meta(Some(&bad)).unwrap_err();
            assert_eq!(e.code(), jsonrpc::INVALID_PARAMS, "{bad}");
        }
        assert_eq!(
            parse_meta(None).unwrap_err().code(),
            jsonrpc::INVALID_PARAMS
        );
    }

    #[test]
    fn the_meta_kept_as_text_is_judged_as_the_tree_is() {
        let v = META_PROTOCOL_VERSION;
        let c = META_CLIENT_CAPABILITIES;
        let i = META_CLIENT_INFO;
        let l = META_LOG_LEVEL;
        for meta in [
            format!(
                r#"{{"{v}":"2026-07-28","{c}":{{"x":{{}}}},"{i}":{{"name":"n","version":"1","t":2}},"{l}":"debug"}}"#
            ),
            format!(
                r#"{{"{v}":"2026-07-28","{c}":{{}},"{i}":{{"name":"n","name":"m","version":"1"}}}}"#
            ),
            format!(r#"{{"{v}":"2026-07-28","{c}":{{}},"{i}":{{"name":"n"}}}}"#),
            format!(r#"{{"{v}":"2026-07-28","{c}":{{}},"{i}":{{"name":1,"version":"1"}}}}"#),
            format!(r#"{{"{v}":"2026-07-28","{c}":{{}},"{i}":["n","1"]}}"#),
            format!(r#"{{"{v}":"2026-07-28","{c}":{{}},"{l}":"loud"}}"#),
            format!(r#"{{"{v}":7,"{c}":{{}}}}"#),
            format!(r#"{{"{v}":null,"{c}":{{}}}}"#),
            format!(r#"{{"{v}":"2026-07-28","{c}":[]}}"#),
            format!(r#"{{"{v}":"2026-07-28"}}"#),
            format!(r#"{{"{c}":{{}}}}"#),
            // Plain ones: the second reading is the remembered verdict.
            format!(r#"{{"{v}":"2026-07-28","{c}":{{}},"{i}":{{"name":"n","version":"1"}}}}"#),
            format!(r#"{{"{v}":"2026-07-28","{c}":{{ }}}}"#),
            format!(r#"{{"{v}":"2099-01-01","{c}":{{}}}}"#),
        ] {
            let text = format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"a","_meta":{meta}}}}}"#
            );
            let Ok(jsonrpc::Message::Request(r)) = jsonrpc::Message::from_slice(text.as_bytes())
            else {
                panic!("{meta}");
            };
            assert!(r.modern_meta.is_some(), "{meta}");
            for _ in 0..2 {
                let tree = parse_meta(r.params_with_meta().as_ref());
                match (request_meta(&r), tree) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.protocol_version, b.protocol_version);
                        assert_eq!(
                            a.protocol_version.is_served(),
                            b.protocol_version.is_served()
                        );
                        assert_eq!(a.capabilities, b.capabilities);
                        assert_eq!(a.log_level, b.log_level);
                    }
                    (Err(a), Err(b)) => assert_eq!(a.0.message, b.0.message, "{meta}"),
                    (a, b) => panic!("{meta}: {a:?} / {b:?}"),
                }
            }
        }
    }

    #[test]
    fn a_remembered_client_info_vouches_only_for_itself() {
        let good = r#"{"name":"c","version":"1"}"#;
        assert!(is_known_implementation_text(good));
        assert!(is_known_implementation_text(good));
        assert!(!is_known_implementation_text(r#"{"name":"c"}"#));
        assert!(!is_known_implementation_text(r#"{"name":"c","version":1}"#));
        assert!(!is_known_implementation_text(""));
        assert!(is_known_implementation_text(good));
    }

    #[test]
    fn an_unknown_version_is_refused_with_the_supported_list() {
        let mut p = valid();
        p["_meta"][META_PROTOCOL_VERSION] = json!("2025-11-25");
        let e = check_version(&parse_meta(Some(&p)).unwrap()).unwrap_err();
        assert_eq!(e.code(), UNSUPPORTED_PROTOCOL_VERSION);
        let data = e.0.data.unwrap();
        assert_eq!(data["supported"], json!(["2026-07-28"]));
        assert_eq!(data["requested"], "2025-11-25");
        assert!(check_version(&parse_meta(Some(&valid())).unwrap()).is_ok());
    }

    /// `finish` of `result` held as a `Value` and as JSON text: the same
    /// envelope either way (the text path splices it in).
    fn finish_both(method: &str, result: Value, info: &Value, cache: CacheHints) -> Value {
        let envelope = Envelope::new(info);
        let by_value = finish(
            method,
            Payload::Value(result.clone()),
            info,
            &envelope,
            cache,
        );
        let text = Payload::serialize(&result).unwrap();
        let by_text = finish(method, text, info, &envelope, cache);
        let (a, b) = (by_value.into_value(), by_text.into_value());
        assert_eq!(a, b, "{method}: the Value and text paths differ");
        // Member order too (preserve_order): the wire text is the same.
        assert_eq!(a.to_string(), b.to_string());
        a
    }

    #[test]
    fn results_get_the_envelope_and_keep_handler_values() {
        let info = json!({"name": "s", "version": "1"});
        let d = CacheHints::default();
        let r = finish_both("tools/list", json!({"tools": []}), &info, d);
        assert_eq!(r["resultType"], "complete");
        assert_eq!(r["ttlMs"], 0);
        assert_eq!(r["cacheScope"], "private");
        assert_eq!(r["_meta"][META_SERVER_INFO], info);
        let r = finish_both(
            "resources/read",
            json!({"contents": [], "ttlMs": 60000, "cacheScope": "public", "_meta": {"k": 1}}),
            &info,
            d,
        );
        assert_eq!(r["ttlMs"], 60000);
        assert_eq!(r["cacheScope"], "public");
        assert_eq!(r["_meta"]["k"], 1);
        assert_eq!(r["_meta"][META_SERVER_INFO], info);
        let r = finish_both(
            "tools/call",
            json!({"content": [], "isError": false}),
            &info,
            d,
        );
        assert_eq!(r["resultType"], "complete");
        assert!(r.get("ttlMs").is_none() && r.get("cacheScope").is_none());
        // An InputRequiredResult keeps its kind and gets no caching hints.
        let r = finish_both(
            "resources/read",
            json!({"resultType": "input_required", "inputRequests": {}}),
            &info,
            d,
        );
        assert_eq!(r["resultType"], "input_required");
        assert!(r.get("ttlMs").is_none());
        // Only the hint the handler did not set is added.
        let r = finish_both("tools/list", json!({"tools": [], "ttlMs": 5}), &info, d);
        assert_eq!(
            (&r["ttlMs"], &r["cacheScope"]),
            (&json!(5), &json!("private"))
        );
        // Not an object, and a key with an escape: the Value path, same answer.
        let r = finish_both("tools/call", json!([1]), &info, d);
        assert_eq!(r["value"], json!([1]));
        let r = finish_both("tools/call", json!({"a\"b": 1}), &info, d);
        assert_eq!(r["a\"b"], 1);
        // The server's own defaults.
        let hints = CacheHints::new(60_000, "public").unwrap();
        let r = finish_both("prompts/list", json!({"prompts": []}), &info, hints);
        assert_eq!(r["ttlMs"], 60_000);
        assert_eq!(r["cacheScope"], "public");
        assert!(CacheHints::new(1, "shared").is_none());
        let mut policy = CachePolicy {
            default: hints,
            ..CachePolicy::default()
        };
        let tools = CacheHints::new(5, "private").unwrap();
        assert!(policy.set_list("tools/list", tools));
        assert!(!policy.set_list("resources/read", tools));
        assert_eq!(policy.for_method("tools/list"), tools);
        assert_eq!(policy.for_method("prompts/list"), hints);
        assert_eq!(policy.for_method("server/discover"), hints);
    }

    /// A tool result (`Payload::ToolResult`) gets the envelope appended as
    /// it is written: the same text, by every way of writing it, as the
    /// splice and the `Value` path give, whatever its content says.
    #[test]
    fn an_enveloped_tool_result_is_written_as_the_splice_writes_it() {
        use crate::jsonrpc::{RequestId, Response};
        use crate::model::{CallToolResult, Content};
        let info = json!({"name": "s\"q", "version": "1"});
        let envelope = Envelope::new(&info);
        let d = CacheHints::default();
        let mut structured = CallToolResult::text("x");
        structured.structured_content = Some(json!({"_meta": 1, "resultType": "y"}));
        let mut failed = CallToolResult::text("no");
        failed.is_error = true;
        for result in [
            CallToolResult::text("plain"),
            CallToolResult::text(r#"names "_meta" and "resultType", \u0041 é"#),
            CallToolResult::content(vec![]),
            CallToolResult::content(vec![Content::text("a"), Content::text("b")]),
            structured,
            failed,
        ] {
            let tool = crate::tools::serialize(&result);
            assert!(matches!(tool, Payload::ToolResult(_)));
            let spliced = finish(
                "tools/call",
                Payload::serialize(&result).unwrap(),
                &info,
                &envelope,
                d,
            );
            assert!(
                matches!(spliced, Payload::Owned(_)),
                "the splice took the text"
            );
            let by_value = finish(
                "tools/call",
                Payload::Value(json!(result)),
                &info,
                &envelope,
                d,
            );
            let enveloped = finish("tools/call", tool, &info, &envelope, d);
            assert!(matches!(enveloped, Payload::Enveloped(..)));
            let want = spliced.text().unwrap().get().to_owned();
            assert_eq!(serde_json::to_string(&enveloped).unwrap(), want);
            assert_eq!(serde_json::to_string(&by_value).unwrap(), want);
            let mut pieces = String::new();
            assert!(enveloped.text_pieces(|p| pieces.push_str(p)));
            assert_eq!(pieces, want);
            assert_eq!(enveloped, spliced);
            assert_eq!(
                enveloped.clone().into_value(),
                by_value.clone().into_value()
            );
            for id in [RequestId::Number(3), RequestId::String("i\"d".into())] {
                let a = Response::ok(id.clone(), enveloped.clone());
                let b = Response::ok(id, spliced.clone());
                assert_eq!(a.to_json_bytes(), b.to_json_bytes());
                assert_eq!(a.to_json_bytes(), a.to_json().into_bytes());
                assert_eq!(a.to_json(), b.to_json());
            }
        }
        // A result with a `_meta` of its own is not a known one: merged.
        let mut meta = CallToolResult::text("m");
        meta.meta = Some(json!({"k": 1}));
        let tool = crate::tools::serialize(&meta);
        assert!(matches!(tool, Payload::Owned(_)));
        let r = finish("tools/call", tool, &info, &envelope, d).into_value();
        assert_eq!(r["_meta"]["k"], 1);
        assert_eq!(r["_meta"][META_SERVER_INFO], info);
        // An empty object (no comma before the members), as the splice does.
        let empty = Payload::ToolResult(serde_json::value::to_raw_value(&json!({})).unwrap());
        let spliced = finish(
            "tools/call",
            Payload::serialize(&json!({})).unwrap(),
            &info,
            &envelope,
            d,
        );
        let enveloped = finish("tools/call", empty, &info, &envelope, d);
        assert_eq!(
            serde_json::to_string(&enveloped).unwrap(),
            spliced.text().unwrap().get()
        );
    }

    /// Results carry the server's stamp (name, version, title), not its
    /// description or icons; `server/discover` carries all of it.
    #[test]
    fn results_carry_the_stamp_and_discover_the_whole_identity() {
        let info = json!({
            "name": "s", "version": "1", "title": "S",
            "description": "a long text", "icons": [{"src": "data:image/png;base64,AAAA"}],
        });
        let stamp = json!({"name": "s", "version": "1", "title": "S"});
        let d = CacheHints::default();
        for method in ["tools/list", "tools/call", "resources/read"] {
            let r = finish_both(method, json!({"x": 1}), &info, d);
            assert_eq!(r["_meta"][META_SERVER_INFO], stamp, "{method}");
        }
        let envelope = Envelope::new(&info);
        let tool = crate::tools::serialize(&crate::model::CallToolResult::text("t"));
        let r = finish("tools/call", tool, &info, &envelope, d).into_value();
        assert_eq!(r["_meta"][META_SERVER_INFO], stamp);
        let r = finish_both(
            "server/discover",
            json!({"supportedVersions": []}),
            &info,
            d,
        );
        assert_eq!(r["_meta"][META_SERVER_INFO], info);
        // No title: none in the stamp either.
        let plain = json!({"name": "s", "version": "1", "description": "d"});
        let r = finish_both("tools/call", json!({}), &plain, d);
        assert_eq!(
            r["_meta"][META_SERVER_INFO],
            json!({"name": "s", "version": "1"})
        );
    }

    #[test]
    fn resource_not_found_becomes_invalid_params() {
        let e = finish_error(McpError::resource_not_found("x://y"));
        assert_eq!(e.code(), jsonrpc::INVALID_PARAMS);
        assert_eq!(e.0.data.unwrap()["uri"], "x://y");
        let e = finish_error(McpError::internal("z"));
        assert_eq!(e.code(), jsonrpc::INTERNAL_ERROR);
    }
}

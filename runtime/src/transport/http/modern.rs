//! Streamable HTTP as MCP 2026-07-28 has it: every POST stands alone (no
//! session, no GET stream, no resumption). The request headers mirror the
//! body (SEP-2243: `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) and
//! are checked against it; errors map to the revision's HTTP statuses.
//! The protocol itself is `crate::modern`, reached through
//! `Server::handle_stateless`.

use super::{AppState, PROTOCOL_VERSION, SESSION, json};
use crate::cancel::{Cancel, DropGuard};
use crate::error::McpError;
use crate::jsonrpc::{self, Message, Request, Response};
use crate::modern::param_headers::{self, ParamHeader};
use crate::modern::tasks::TaskSupport;
use crate::modern::{self, RequestMeta};
use crate::session::{Inbox, Outbound, Outgoing};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use base64::Engine;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The header mirroring the JSON-RPC method.
pub const METHOD_HEADER: &str = "mcp-method";
/// The header mirroring `params.name` / `params.uri`.
pub const NAME_HEADER: &str = "mcp-name";
/// The same as names (a look-up by `&str` parses and hashes it each time).
pub(super) const METHOD: HeaderName = HeaderName::from_static(METHOD_HEADER);
pub(super) const NAME: HeaderName = HeaderName::from_static(NAME_HEADER);

/// Whether a POSTed request takes the modern path: it is `server/discover`
/// or carries the modern `_meta`, or it has no session and a modern
/// `MCP-Protocol-Version` header. Anything else (`initialize`, session
/// traffic, a request that names neither era) is the session era's.
///
/// `session` and `version`: whether the request has an `Mcp-Session-Id`,
/// and its first `MCP-Protocol-Version`, as the POST's one pass over its
/// headers found them (a look-up by name hashes it).
pub(super) fn wants(
    st: &AppState,
    session: bool,
    version: Option<&HeaderValue>,
    req: &Request,
) -> bool {
    if !st.server.serves_protocol_2026() {
        return false;
    }
    modern::is_modern(req) || (req.method != "initialize" && !session && is_modern_version(version))
}

fn is_modern_version(version: Option<&HeaderValue>) -> bool {
    version
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| modern::MODERN_PROTOCOL_VERSIONS.contains(&v))
}

/// Whether a request comes from a modern client by its headers: no
/// session, a modern `MCP-Protocol-Version`. A GET or DELETE from one is
/// answered 405, as the revision says.
pub(super) fn is_modern_stream_request(headers: &HeaderMap) -> bool {
    !headers.contains_key(SESSION) && is_modern_version(headers.get(PROTOCOL_VERSION))
}

/// The HTTP status of a modern answer: 404 for an unknown method, 400 for
/// the errors the revision says are bad requests, else 200.
pub(super) fn status_of(resp: &Response) -> StatusCode {
    match &resp.outcome {
        Ok(_) => StatusCode::OK,
        Err(e) => match e.code {
            jsonrpc::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
            modern::HEADER_MISMATCH
            | modern::MISSING_CLIENT_CAPABILITY
            | modern::UNSUPPORTED_PROTOCOL_VERSION
            | jsonrpc::INVALID_REQUEST
            | jsonrpc::PARSE_ERROR => StatusCode::BAD_REQUEST,
            _ => StatusCode::OK,
        },
    }
}

/// The `Mcp-Name` source of a request: `params.name` of `tools/call` and
/// `prompts/get`, `params.uri` of `resources/read`. `Err` for the other
/// methods, which have none.
fn name_source(req: &Request) -> Result<Option<&str>, ()> {
    let field = match req.method.as_str() {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        // The tasks extension names the task (SEP-2663).
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return Err(()),
    };
    Ok(crate::jsonrpc::param(req.params.as_ref(), field).and_then(|v| v.as_str()))
}

/// A header value as the client meant it: plain visible ASCII, or the
/// `=?base64?…?=` sentinel form of a UTF-8 value.
pub fn decode_header_value(raw: &str) -> Result<String, String> {
    decode_header(raw).map(Cow::into_owned)
}

/// [`decode_header_value`], borrowing a plain value (most are).
fn decode_header(raw: &str) -> Result<Cow<'_, str>, String> {
    match base64_sentinel(raw) {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| format!("invalid base64 ({e})"))?;
            String::from_utf8(bytes)
                .map(Cow::Owned)
                .map_err(|_| "base64 value is not UTF-8".to_owned())
        }
        None => Ok(Cow::Borrowed(raw)),
    }
}

/// What a `=?base64?…?=` sentinel value encodes; `None` for a plain value.
fn base64_sentinel(raw: &str) -> Option<&str> {
    raw.strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
}

/// One header as text; a value that is not visible ASCII is malformed.
fn header_text(headers: &HeaderMap, name: HeaderName) -> Result<Option<&str>, McpError> {
    let mut seen = Seen::Absent;
    for v in headers.get_all(&name) {
        seen.add(v);
    }
    seen.text(&name)
}

/// How often a request gave a header, and its value if once.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(super) enum Seen<'a> {
    #[default]
    Absent,
    Once(&'a HeaderValue),
    Repeated,
}

impl<'a> Seen<'a> {
    pub(super) fn add(&mut self, v: &'a HeaderValue) {
        *self = match self {
            Seen::Absent => Seen::Once(v),
            _ => Seen::Repeated,
        };
    }

    /// Whether the header is given once, as exactly `expected`'s bytes,
    /// all of them visible ASCII: then [`Self::text`] is `Ok(Some(expected))`.
    /// Compared before anything is validated; one shared copy of the check
    /// for the three mirrored headers (less code on the request's path).
    #[inline(never)]
    fn is(self, expected: &str) -> bool {
        match self {
            Seen::Once(v) => v.as_bytes() == expected.as_bytes() && visible_ascii(expected),
            _ => false,
        }
    }

    /// The value as text (see [`header_text`]).
    fn text(self, name: &HeaderName) -> Result<Option<&'a str>, McpError> {
        let v = match self {
            Seen::Absent => return Ok(None),
            Seen::Once(v) => v,
            Seen::Repeated => return Err(repeated(name)),
        };
        match v.to_str() {
            Ok(text) => Ok(Some(text)),
            Err(_) => Err(not_visible_ascii(name)),
        }
    }
}

/// What [`HeaderValue::to_str`] accepts: visible ASCII and tabs. Eight
/// bytes at a time for the usual value (no tab); the byte by byte check
/// decides the rest.
fn visible_ascii(text: &str) -> bool {
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const BELOW_SPACE: u64 = u64::from_ne_bytes([0x60; 8]);
    const ONE: u64 = u64::from_ne_bytes([0x01; 8]);
    // Every byte in ' '..='~': below 0x80, + 0x60 reaches 0x80, + 1 does
    // not (no sum carries into the next byte once all are below 0x80).
    let plain = |w: u64| {
        w & HIGH == 0
            && w.wrapping_add(BELOW_SPACE) & HIGH == HIGH
            && w.wrapping_add(ONE) & HIGH == 0
    };
    let word = |c: &[u8]| <[u8; 8]>::try_from(c).is_ok_and(|c| plain(u64::from_ne_bytes(c)));
    let bytes = text.as_bytes();
    // The last eight bytes cover the remainder (overlapping the last word).
    let words =
        bytes.len() >= 8 && bytes.chunks_exact(8).all(word) && word(&bytes[bytes.len() - 8..]);
    words
        || text
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

#[cold]
#[inline(never)]
fn repeated(name: &HeaderName) -> McpError {
    modern::header_mismatch(format!("the {name} header is given more than once"))
}

#[cold]
#[inline(never)]
fn not_visible_ascii(name: &HeaderName) -> McpError {
    modern::header_mismatch(format!(
        "the {name} header has characters that are not visible ASCII (use the =?base64?…?= form)"
    ))
}

/// The standard headers a modern request mirrors its body in, found in one
/// pass over its headers (a look-up hashes the name, once per header): the
/// transport's own pass over a POST's headers (`PostHeaders::of`) finds
/// them with the others it reads.
#[derive(Default, Debug, PartialEq)]
pub(super) struct Mirrored<'a> {
    pub(super) version: Seen<'a>,
    pub(super) method: Seen<'a>,
    pub(super) name: Seen<'a>,
}

impl<'a> Mirrored<'a> {
    /// The mirrored headers in a pass of their own (for [`check_headers`]).
    pub(super) fn of(headers: &'a HeaderMap) -> Mirrored<'a> {
        let mut m = Mirrored::default();
        for (name, v) in headers {
            let slot = if *name == PROTOCOL_VERSION {
                &mut m.version
            } else if *name == METHOD {
                &mut m.method
            } else if *name == NAME {
                &mut m.name
            } else {
                continue;
            };
            slot.add(v);
        }
        m
    }
}

/// SEP-2243: the standard headers must be present and match the body.
pub fn check_headers(
    headers: &HeaderMap,
    req: &Request,
    meta: &RequestMeta,
) -> Result<(), McpError> {
    check_headers_named(&Mirrored::of(headers), req, meta).map(|_| ())
}

/// [`check_headers`], and the body's `Mcp-Name` source it read (the tool
/// a `tools/call` names), for the checks after it.
fn check_headers_named<'r>(
    mirrored: &Mirrored<'_>,
    req: &'r Request,
    meta: &RequestMeta,
) -> Result<Option<&'r str>, McpError> {
    // The checks in the order of their errors, each error made out of line.
    // Each header is first compared with the body as it is (the usual
    // case: equal, plain visible ASCII); the full check below, only when
    // that fails, finds the error.
    if !mirrored.version.is(&meta.protocol_version) {
        let version = mirrored.version.text(&PROTOCOL_VERSION)?;
        if version != Some(meta.protocol_version.as_str()) {
            return Err(version_mismatch(version, meta));
        }
    }
    if !mirrored.method.is(&req.method) {
        let method = mirrored.method.text(&METHOD)?;
        if method != Some(req.method.as_str()) {
            return Err(method_mismatch(method, req));
        }
    }
    let Ok(body_name) = name_source(req) else {
        return Ok(None);
    };
    // A plain name given as it is (a sentinel would decode to another).
    if let Some(b) = body_name
        && base64_sentinel(b).is_none()
        && mirrored.name.is(b)
    {
        return Ok(Some(b));
    }
    let header_name = match mirrored.name.text(&NAME)? {
        Some(raw) => Some(decode_header(raw).map_err(malformed_name)?),
        None => None,
    };
    match (body_name, header_name) {
        (Some(b), Some(h)) if b == h => Ok(Some(b)),
        (None, None) => Ok(None),
        (b, h) => Err(name_mismatch(b, h.as_deref(), req)),
    }
}

#[cold]
#[inline(never)]
fn version_mismatch(header: Option<&str>, meta: &RequestMeta) -> McpError {
    match header {
        None => modern::header_mismatch("the MCP-Protocol-Version header is required"),
        Some(v) => modern::header_mismatch(format!(
            "MCP-Protocol-Version header {v:?} does not match _meta protocolVersion {:?}",
            meta.protocol_version
        )),
    }
}

#[cold]
#[inline(never)]
fn method_mismatch(header: Option<&str>, req: &Request) -> McpError {
    match header {
        None => modern::header_mismatch("the Mcp-Method header is required"),
        Some(m) => modern::header_mismatch(format!(
            "Mcp-Method header {m:?} does not match body method {:?}",
            req.method
        )),
    }
}

#[cold]
#[inline(never)]
fn malformed_name(why: String) -> McpError {
    modern::header_mismatch(format!("the Mcp-Name header is malformed: {why}"))
}

/// The `Mcp-Name` error when the header and the body's name differ (one of
/// them may be absent, not both).
#[cold]
#[inline(never)]
fn name_mismatch(body: Option<&str>, header: Option<&str>, req: &Request) -> McpError {
    match (body, header) {
        (Some(b), Some(h)) => modern::header_mismatch(format!(
            "Mcp-Name header value {h:?} does not match body value {b:?}"
        )),
        (Some(_), None) => modern::header_mismatch(format!(
            "the Mcp-Name header is required for {}",
            req.method
        )),
        (None, h) => modern::header_mismatch(format!(
            "Mcp-Name header value {:?} given, but the body has none",
            h.unwrap_or_default()
        )),
    }
}

/// SEP-2243 custom headers: every `x-mcp-header` argument of the called
/// tool (`declared`) with a value in the body must come with its
/// `Mcp-Param-{Name}` header, equal after decoding; one without a value
/// must come without. Other `Mcp-Param-*` headers are not ours to judge.
pub fn check_param_headers(
    headers: &HeaderMap,
    req: &Request,
    declared: &[ParamHeader],
) -> Result<(), McpError> {
    // Most tools mirror nothing: no look-up of their arguments.
    if declared.is_empty() {
        return Ok(());
    }
    let args = crate::jsonrpc::param(req.params.as_ref(), "arguments");
    for param in declared {
        let Ok(name) = HeaderName::from_bytes(param.header_name().as_bytes()) else {
            // Not a header name (the generator refuses those): no client
            // could send it, so there is nothing to compare.
            continue;
        };
        let shown = format!("{}{}", param_headers::HEADER_PREFIX, param.name);
        let header = match header_text(headers, name)? {
            Some(raw) => Some(decode_header(raw).map_err(|why| {
                modern::header_mismatch(format!("the {shown} header is malformed: {why}"))
            })?),
            None => None,
        };
        let body = param.value(args);
        let agree = match (body, &header) {
            (Some(b), Some(h)) => param_headers::matches(b, h).unwrap_or(true),
            (None, None) => true,
            (Some(_), None) => {
                return Err(modern::header_mismatch(format!(
                    "the {shown} header is required: the argument it mirrors has a value"
                )));
            }
            (None, Some(_)) => false,
        };
        if !agree {
            let body = body.map_or_else(|| "none".to_owned(), |b| b.to_string());
            return Err(modern::header_mismatch(format!(
                "{shown} header value {:?} does not match body value {body}",
                header.unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// The `Mcp-Param-*` check of a `tools/call` of the tool `name`, with its
/// annotations; its task support, found by the same look-up, for the call
/// (None for other methods and a call that names no tool).
fn check_tool_params(
    st: &AppState,
    headers: &HeaderMap,
    req: &Request,
    name: Option<&str>,
) -> Result<Option<(TaskSupport, bool)>, McpError> {
    let Some(name) = name.filter(|_| req.method == "tools/call") else {
        return Ok(None);
    };
    let (declared, task) = st.server.tools().call_facts(name);
    check_param_headers(headers, req, declared)?;
    Ok(Some(task))
}

#[cold]
#[inline(never)]
fn refuse(req: &Request, e: McpError) -> Box<HttpResponse> {
    Box::new(json(
        StatusCode::BAD_REQUEST,
        &Response::err(Some(req.id.clone()), e.0),
    ))
}

/// A plain JSON answer; a cancelled request (no response) is 202.
fn answer(resp: Option<Response>) -> HttpResponse {
    match resp {
        Some(r) => json(status_of(&r), &r),
        None => StatusCode::ACCEPTED.into_response(),
    }
}

/// Serve one modern request: checks, then the handler; plain JSON unless
/// the handler sends something (progress, logs) before its result, which
/// upgrades the answer to an SSE stream. Closing that stream cancels the
/// request. `mirrored`: the headers mirroring the body, found by the
/// transport's one pass over `headers`. `Err`: the refusal, when a check
/// fails (boxed: a refusal as large as a response would widen what the
/// caller keeps and copies, the answer's future). The handler's future is made here, before the answer's future:
/// what it is made of goes straight into it, not through the answer's
/// future first (a larger one, its arguments moved once more).
pub(super) fn post(
    st: &AppState,
    headers: &Arc<HeaderMap>,
    mirrored: &Mirrored<'_>,
    req: Request,
    extensions: axum::http::Extensions,
) -> Result<impl Future<Output = HttpResponse> + Send + 'static + use<>, Box<HttpResponse>> {
    let meta = match modern::request_meta(&req) {
        Ok(m) => m,
        Err(e) => return Err(refuse(&req, e)),
    };
    let checked = check_headers_named(mirrored, &req, &meta)
        .and_then(|name| check_tool_params(st, headers, &req, name));
    let task = match checked {
        Ok(task) => task,
        Err(e) => return Err(refuse(&req, e)),
    };
    let (out, rx) = Outbound::channel();
    let cancel = Cancel::new();
    let (server, token) = (st.server.clone(), cancel.clone());
    // Polled in the connection's task, as on the session path; moved to a
    // task of its own only when the answer becomes an SSE stream.
    let handling = Box::pin(server.handle_stateless_checked(
        req,
        meta,
        out,
        token,
        Some(headers.clone()),
        extensions,
        task,
    ));
    let keep_alive = st.config.keep_alive;
    Ok(async move {
        let (mut handling, mut rx) = (handling, rx);
        // The client going away cancels the request: while we wait here
        // (the guard, declared after `handling`, drops before it, so a
        // handler that moves to a task of its own gets the cancellation
        // grace) and, later, while it reads the stream.
        let guard = cancel.drop_guard();
        let first = super::done_or_first_sent(&mut handling, &mut rx).await;
        let first = match first {
            Ok(o) => o,
            Err(resp) => {
                return match rx.try_recv() {
                    Err(_) => answer(resp),
                    Ok(o) => sent_before(o, rx, resp),
                };
            }
        };
        let Some(first) = first else {
            // Every sender is gone, so the handler has returned.
            return answer(handling.await);
        };
        let body = forward(first, rx, handling);
        sse(with_keep_alive(body, guard, keep_alive))
    })
}

/// The SSE answer of a handler that sent `first` (and what follows it in
/// `rx`) before it finished with `resp`: all of it at once. Out of line:
/// the plain answer's code is kept compact.
#[inline(never)]
fn sent_before(first: Outgoing, mut rx: Inbox, resp: Option<Response>) -> HttpResponse {
    let mut pending = vec![event(first)];
    while let Ok(o) = rx.try_recv() {
        pending.push(event(o));
    }
    pending.extend(resp.map(|r| message_event(&Message::Response(r))));
    sse(futures::stream::iter(pending.into_iter().map(Ok)))
}

/// The stream's body: `first`, what the handler sends after it, then its
/// response, forwarded by a task of its own. Only a few events wait for a
/// slow client here: past them the forwarder waits, and what the handler
/// sends waits in its own queue, which a long sender bounds
/// (subscriptions/listen: `listen::MAX_QUEUED`).
fn forward(
    first: Outgoing,
    mut rx: Inbox,
    mut handling: Pin<Box<impl Future<Output = Option<Response>> + Send + 'static>>,
) -> tokio::sync::mpsc::Receiver<Bytes> {
    let (body_tx, body_rx) = tokio::sync::mpsc::channel::<Bytes>(BODY_QUEUE);
    let _ = body_tx.try_send(event(first));
    tokio::spawn(async move {
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                o = rx.recv(), if open => match o {
                    Some(o) => {
                        if body_tx.send(event(o)).await.is_err() {
                            // The client is gone; the guard cancelled the request.
                            open = false;
                        }
                    }
                    None => open = false,
                },
                resp = &mut handling => {
                    while let Ok(o) = rx.try_recv() {
                        let _ = body_tx.send(event(o)).await;
                    }
                    if let Some(r) = resp {
                        let _ = body_tx.send(message_event(&Message::Response(r))).await;
                    }
                    break;
                }
            }
        }
    });
    body_rx
}

/// `body` with keep-alive comments while nothing else is sent (a quiet
/// subscriptions/listen, a long tool call): proxies keep the stream, and a
/// client that vanished is noticed when the write fails. Dropping the
/// stream (the client closed the connection) drops `guard`, which cancels
/// the request.
fn with_keep_alive(
    body: tokio::sync::mpsc::Receiver<Bytes>,
    guard: DropGuard,
    every: std::time::Duration,
) -> impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
    futures::stream::unfold((body, guard), move |(mut rx, guard)| async move {
        tokio::select! {
            bytes = rx.recv() => Some((Ok(bytes?), (rx, guard))),
            _ = tokio::time::sleep(every) => {
                Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (rx, guard)))
            }
        }
    })
}

/// Events of one SSE answer that may wait for a slow client.
const BODY_QUEUE: usize = 16;

/// A 200 answer streaming `events` as SSE.
fn sse(
    events: impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
) -> HttpResponse {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(events),
    )
        .into_response()
}

fn event(o: Outgoing) -> Bytes {
    match o {
        Outgoing::Message(m) => message_event(&m),
        // Streams are not resumable in this revision: nothing to close early.
        Outgoing::CloseStream { .. } => Bytes::new(),
    }
}

fn message_event(m: &Message) -> Bytes {
    Bytes::from(format!("event: message\ndata: {}\n\n", m.to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::RequestId;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn req(method: &str, params: serde_json::Value) -> Request {
        Request {
            id: RequestId::Number(1),
            method: method.into(),
            params: Some(params),
            modern_meta: None,
        }
    }

    fn meta() -> RequestMeta {
        RequestMeta {
            protocol_version: "2026-07-28".into(),
            capabilities: json!({}),
            client_info: serde_json::Value::Null,
            log_level: None,
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn code(r: Result<(), McpError>) -> Option<i64> {
        r.err().map(|e| e.code())
    }

    /// The wording of every header error, as the checks have always put
    /// it (the errors are made out of line; the text must not change).
    #[test]
    fn header_errors_keep_their_wording() {
        let call = req("tools/call", json!({"name": "echo"}));
        let unnamed = req("tools/call", json!({}));
        let message = |pairs: &[(&'static str, &str)], r: &Request| {
            let e = check_headers(&headers(pairs), r, &meta()).unwrap_err();
            assert_eq!(e.code(), modern::HEADER_MISMATCH);
            e.0.message
        };
        let v = ("mcp-protocol-version", "2026-07-28");
        let m = ("mcp-method", "tools/call");
        let n = ("mcp-name", "echo");
        for (pairs, r, want) in [
            (
                vec![m, n],
                &call,
                "the MCP-Protocol-Version header is required",
            ),
            (
                vec![("mcp-protocol-version", "2025-11-25"), m, n],
                &call,
                r#"MCP-Protocol-Version header "2025-11-25" does not match _meta protocolVersion "2026-07-28""#,
            ),
            (
                vec![v, v, m, n],
                &call,
                "the mcp-protocol-version header is given more than once",
            ),
            (vec![v, n], &call, "the Mcp-Method header is required"),
            (
                vec![v, ("mcp-method", "tools/list"), n],
                &call,
                r#"Mcp-Method header "tools/list" does not match body method "tools/call""#,
            ),
            (
                vec![v, m],
                &call,
                "the Mcp-Name header is required for tools/call",
            ),
            (
                vec![v, m, ("mcp-name", "other")],
                &call,
                r#"Mcp-Name header value "other" does not match body value "echo""#,
            ),
            (
                vec![v, m, ("mcp-name", "=?base64?***?=")],
                &call,
                "the Mcp-Name header is malformed: invalid base64 (Invalid symbol 42, offset 0.)",
            ),
            (
                vec![v, m, n],
                &unnamed,
                r#"Mcp-Name header value "echo" given, but the body has none"#,
            ),
        ] {
            assert_eq!(message(&pairs, r), format!("Header mismatch: {want}"));
        }
        let mut h = headers(&[v, n]);
        h.append(
            "mcp-method",
            HeaderValue::from_bytes(b"tools/\xe9").unwrap(),
        );
        let e = check_headers(&h, &call, &meta()).unwrap_err();
        assert_eq!(
            e.0.message,
            "Header mismatch: the mcp-method header has characters that are not visible ASCII (use the =?base64?…?= form)"
        );
    }

    #[test]
    fn visible_ascii_is_what_to_str_accepts() {
        let agree = |bytes: &[u8]| {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return;
            };
            let by_http = HeaderValue::from_bytes(bytes).is_ok_and(|v| v.to_str().is_ok());
            // `from_bytes` refuses controls other than tab, `to_str` too.
            assert_eq!(visible_ascii(text), by_http, "{bytes:?}");
        };
        // Every byte at every position of values around the word size.
        for len in [1, 7, 8, 9, 10, 15, 16, 17, 24, 33] {
            for at in 0..len {
                for b in 0..=0x7fu8 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    agree(&v);
                }
                let mut v = "a".repeat(len - 1).into_bytes();
                v.splice(at..at, "é".bytes());
                agree(&v);
            }
        }
        agree(b"");
        agree(b"2026-07-28");
        agree(b" ~ ~\t~ ~ ~");
    }

    #[test]
    fn a_header_is_its_expected_value_only_when_text_says_so() {
        let values: &[&[u8]] = &[
            b"echo",
            b"echo ",
            b"ech",
            b"tools/call",
            b"tools/call\t",
            b"2026-07-28",
            b"=?base64?ZWNobw==?=",
            b"\xe9cho",
        ];
        let expected = [
            "echo",
            "tools/call",
            "tools/call\t",
            "2026-07-28",
            "=?base64?ZWNobw==?=",
            "écho",
            "",
        ];
        for raw in values {
            let v = HeaderValue::from_bytes(raw).unwrap();
            for seen in [Seen::Absent, Seen::Once(&v), Seen::Repeated] {
                for e in expected {
                    let by_text = seen.text(&NAME).is_ok_and(|t| t == Some(e));
                    assert_eq!(seen.is(e), by_text, "{raw:?} {e:?}");
                }
            }
        }
    }

    #[test]
    fn the_first_comparison_agrees_with_the_full_check() {
        // Each case through `check_headers_named` (whose first comparison
        // passes equal plain values) and through the full check alone.
        let full = |h: &HeaderMap, r: &Request| -> Result<Option<String>, String> {
            let m = Mirrored::of(h);
            let version = m.version.text(&PROTOCOL_VERSION).map_err(|e| e.0.message)?;
            if version != Some("2026-07-28") {
                return Err(version_mismatch(version, &meta()).0.message);
            }
            let method = m.method.text(&METHOD).map_err(|e| e.0.message)?;
            if method != Some(r.method.as_str()) {
                return Err(method_mismatch(method, r).0.message);
            }
            let Ok(body) = name_source(r) else {
                return Ok(None);
            };
            let header = match m.name.text(&NAME).map_err(|e| e.0.message)? {
                Some(raw) => Some(decode_header(raw).map_err(|w| malformed_name(w).0.message)?),
                None => None,
            };
            match (body, header) {
                (Some(b), Some(h)) if b == h => Ok(Some(b.to_owned())),
                (None, None) => Ok(None),
                (b, h) => Err(name_mismatch(b, h.as_deref(), r).0.message),
            }
        };
        let names = [
            "echo",
            "=?base64?ZWNobw==?=",
            "=?base64?***?=",
            "a\tb",
            "écho",
        ];
        let v = ("mcp-protocol-version", "2026-07-28");
        let m = ("mcp-method", "tools/call");
        for body in names {
            let call = req("tools/call", json!({ "name": body }));
            for header in names {
                let mut h = HeaderMap::new();
                for (k, val) in [v, m] {
                    h.append(k, HeaderValue::from_static(val));
                }
                h.append(
                    "mcp-name",
                    HeaderValue::from_bytes(header.as_bytes()).unwrap(),
                );
                let fast = check_headers_named(&Mirrored::of(&h), &call, &meta())
                    .map(|n| n.map(str::to_owned))
                    .map_err(|e| e.0.message);
                assert_eq!(fast, full(&h, &call), "{body:?} {header:?}");
            }
        }
        let list = req("tools/list", json!({}));
        for method in ["tools/list", "tools/list\t", "tools/lis", "tools/call"] {
            let mut h = HeaderMap::new();
            h.append(
                "mcp-protocol-version",
                HeaderValue::from_static("2026-07-28"),
            );
            h.append(
                "mcp-method",
                HeaderValue::from_bytes(method.as_bytes()).unwrap(),
            );
            let fast = check_headers_named(&Mirrored::of(&h), &list, &meta())
                .map(|n| n.map(str::to_owned))
                .map_err(|e| e.0.message);
            assert_eq!(fast, full(&h, &list), "{method:?}");
        }
    }

    #[test]
    fn base64_sentinel_values_are_decoded() {
        assert_eq!(decode_header_value("plain").unwrap(), "plain");
        assert_eq!(
            decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=").unwrap(),
            "Hello, 世界"
        );
        assert_eq!(
            decode_header_value("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=").unwrap(),
            "=?base64?literal?="
        );
        assert!(decode_header_value("=?base64?!!!?=").is_err());
        assert!(decode_header_value("=?base64?/w==?=").is_err(), "not UTF-8");
    }

    #[test]
    fn standard_headers_must_match_the_body() {
        let call = req("tools/call", json!({"name": "get_weather"}));
        let ok = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "get_weather"),
        ];
        assert_eq!(code(check_headers(&headers(&ok), &call, &meta())), None);
        let mismatch = Some(modern::HEADER_MISMATCH);
        for broken in [
            &ok[1..],            // no version
            &[ok[0], ok[2]][..], // no method
            &ok[..2],            // no name
            &[("mcp-protocol-version", "2025-11-25"), ok[1], ok[2]][..],
            &[ok[0], ("mcp-method", "tools/list"), ok[2]][..],
            &[ok[0], ok[1], ("mcp-name", "other")][..],
            &[ok[0], ok[1], ("mcp-name", "=?base64?bm9w?=")][..], // "nop"
            &[ok[0], ok[1], ("mcp-name", "=?base64?***?=")][..],
            &[ok[0], ok[1], ok[2], ("mcp-name", "get_weather")][..], // twice
            &[ok[0], ok[1], ok[1], ok[2]][..],
            &[ok[0], ok[1], ok[2], ok[0]][..],
        ] {
            assert_eq!(
                code(check_headers(&headers(broken), &call, &meta())),
                mismatch,
                "{broken:?}"
            );
        }
        // Non-ASCII names travel base64-encoded.
        let unicode = req("prompts/get", json!({"name": "grüße"}));
        let h = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "prompts/get"),
            ("mcp-name", "=?base64?Z3LDvMOfZQ==?="),
        ]);
        assert_eq!(code(check_headers(&h, &unicode, &meta())), None);
        let mut raw = h.clone();
        raw.insert(
            "mcp-name",
            HeaderValue::from_bytes("grüße".as_bytes()).unwrap(),
        );
        assert_eq!(code(check_headers(&raw, &unicode, &meta())), mismatch);
        // resources/read names its uri; other methods need no Mcp-Name.
        let read = req("resources/read", json!({"uri": "file:///a b"}));
        let h = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "resources/read"),
            ("mcp-name", "=?base64?ZmlsZTovLy9hIGI=?="),
        ]);
        assert_eq!(code(check_headers(&h, &read, &meta())), None);
        let list = req("tools/list", json!({}));
        let h = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
        ]);
        assert_eq!(code(check_headers(&h, &list, &meta())), None);
    }

    #[test]
    fn param_headers_must_match_the_arguments() {
        let declared = param_headers::param_headers(&json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "limit": {"type": "integer", "x-mcp-header": "Limit"},
                "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"},
                "query": {"type": "string"}
            }
        }));
        let call =
            |args: serde_json::Value| req("tools/call", json!({"name": "t", "arguments": args}));
        let check = |args, pairs: &[(&'static str, &str)]| {
            code(check_param_headers(&headers(pairs), &call(args), &declared))
        };
        let all = json!({"region": "us-west1", "limit": 42, "dry": true, "query": "q"});
        let good = [
            ("mcp-param-region", "us-west1"),
            ("MCP-PARAM-LIMIT", "42"),
            ("Mcp-Param-Dry-Run", "true"),
        ];
        assert_eq!(check(all.clone(), &good), None);
        // Absent and null arguments need no header.
        assert_eq!(check(json!({"query": "q", "region": null}), &[]), None);
        // An unknown Mcp-Param-* header is not ours to judge.
        assert_eq!(check(json!({}), &[("mcp-param-other", "x")]), None);
        // Integers compare by value.
        assert_eq!(
            check(
                all.clone(),
                &[good[0], ("mcp-param-limit", "42.0"), good[2]]
            ),
            None
        );
        // Base64 values are decoded; a literal that only looks like one is not.
        let greeting = json!({"region": "Hello, 世界"});
        assert_eq!(
            check(
                greeting,
                &[("mcp-param-region", "=?base64?SGVsbG8sIOS4lueVjA==?=")]
            ),
            None
        );
        let literal = json!({"region": "=?base64?SGVsbG8="});
        assert_eq!(
            check(literal, &[("mcp-param-region", "=?base64?SGVsbG8=")]),
            None
        );
        let mismatch = Some(modern::HEADER_MISMATCH);
        for broken in [
            &good[1..],                                                // region missing
            &[("mcp-param-region", "us-east1"), good[1], good[2]][..], // other value
            &[("mcp-param-region", "US-WEST1"), good[1], good[2]][..], // values are case-sensitive
            &[good[0], ("mcp-param-limit", "43"), good[2]][..],
            &[good[0], good[1], ("mcp-param-dry-run", "1")][..],
            &[
                ("mcp-param-region", "=?base64?dXMtd2VzdDE?="),
                good[1],
                good[2],
            ][..], // bad padding
            &[
                ("mcp-param-region", "=?base64?dXMt!!!d2VzdDE=?="),
                good[1],
                good[2],
            ][..],
            &[good[0], good[0], good[1], good[2]][..], // given twice
        ] {
            assert_eq!(check(all.clone(), broken), mismatch, "{broken:?}");
        }
        // A header for an argument the body does not have.
        assert_eq!(check(json!({}), &[("mcp-param-region", "x")]), mismatch);
        let e = check_param_headers(&headers(&good[1..]), &call(all), &declared).unwrap_err();
        assert!(e.0.message.contains("Mcp-Param-Region"), "{}", e.0.message);
    }

    /// A served modern POST, end to end: the answer is plain JSON unless
    /// the handler sent something first, and then an SSE stream with what
    /// it sent, in order, before its response; a task the handler spawned
    /// with its context sees the request cancelled when it ends.
    mod served {
        use super::super::super::{HttpConfig, serve_listener};
        use crate::prelude::*;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::Duration;

        fn tool(name: &str) -> String {
            format!(r#"{{"name":"{name}","inputSchema":{{"type":"object"}}}}"#)
        }

        fn server(spawned_saw_cancel: Arc<AtomicBool>) -> Server {
            let nap = || tokio::time::sleep(Duration::from_millis(20));
            Server::builder(r#"{"name":"t","version":"1"}"#)
                .tool(&tool("at_once"), |_ctx, _: Value| async move {
                    Ok(CallToolResult::text("done"))
                })
                .tool(&tool("quiet"), move |_ctx, _: Value| async move {
                    nap().await;
                    Ok(CallToolResult::text("done"))
                })
                .tool(&tool("sent_first"), |ctx, _: Value| async move {
                    ctx.info("one");
                    ctx.info("two");
                    Ok(CallToolResult::text("done"))
                })
                .tool(
                    &tool("sent_while_running"),
                    move |ctx, _: Value| async move {
                        nap().await;
                        ctx.info("one");
                        nap().await;
                        ctx.info("two");
                        nap().await;
                        Ok(CallToolResult::text("done"))
                    },
                )
                .tool(&tool("spawns"), move |ctx, _: Value| {
                    let saw = spawned_saw_cancel.clone();
                    async move {
                        let kept = ctx.clone();
                        tokio::spawn(async move {
                            kept.cancelled().await;
                            saw.store(true, Ordering::SeqCst);
                        });
                        Ok(CallToolResult::text("done"))
                    }
                })
                .build()
                .unwrap()
        }

        /// The answer's content type and its messages.
        async fn call(url: &str, tool: &str) -> (String, Vec<Value>) {
            let params = json!({"name": tool, "arguments": {}, "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/logLevel": "info",
            }});
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
            let r = reqwest::Client::new()
                .post(url)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", tool)
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
            let text = r.text().await.unwrap();
            let msgs = if kind == "application/json" {
                vec![serde_json::from_str(&text).unwrap()]
            } else {
                text.lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .map(|d| serde_json::from_str(d).unwrap())
                    .collect()
            };
            (kind, msgs)
        }

        /// What each message is: a log's text, or "response".
        fn kinds(msgs: &[Value]) -> Vec<String> {
            msgs.iter()
                .map(|m| match m["params"]["data"].as_str() {
                    Some(log) => log.to_owned(),
                    None if m["result"]["content"][0]["text"] == "done" => "response".into(),
                    None => m.to_string(),
                })
                .collect()
        }

        #[tokio::test]
        async fn the_answer_is_json_unless_the_handler_sent_first() {
            let saw = Arc::new(AtomicBool::new(false));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/mcp", listener.local_addr().unwrap());
            let serving = serve_listener(
                listener,
                server(saw.clone()),
                HttpConfig::default(),
                std::future::pending(),
            );
            tokio::spawn(serving);
            for tool in ["at_once", "quiet"] {
                let (kind, msgs) = call(&url, tool).await;
                assert_eq!(kind, "application/json", "{tool}");
                assert_eq!(kinds(&msgs), ["response"], "{tool}");
            }
            for tool in ["sent_first", "sent_while_running"] {
                let (kind, msgs) = call(&url, tool).await;
                assert_eq!(kind, "text/event-stream", "{tool}");
                assert_eq!(kinds(&msgs), ["one", "two", "response"], "{tool}");
            }
            let (kind, _) = call(&url, "spawns").await;
            assert_eq!(kind, "application/json");
            for _ in 0..100 {
                if saw.load(Ordering::SeqCst) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(
                saw.load(Ordering::SeqCst),
                "the spawned task saw the request end"
            );
        }
    }

    #[test]
    fn statuses_follow_the_revision() {
        let err = |code| {
            Response::err(
                Some(RequestId::Number(1)),
                jsonrpc::ErrorObject::new(code, "x"),
            )
        };
        assert_eq!(
            status_of(&err(jsonrpc::METHOD_NOT_FOUND)),
            StatusCode::NOT_FOUND
        );
        for c in [
            modern::HEADER_MISMATCH,
            modern::MISSING_CLIENT_CAPABILITY,
            modern::UNSUPPORTED_PROTOCOL_VERSION,
        ] {
            assert_eq!(status_of(&err(c)), StatusCode::BAD_REQUEST);
        }
        assert_eq!(status_of(&err(jsonrpc::INTERNAL_ERROR)), StatusCode::OK);
        assert_eq!(
            status_of(&Response::ok(RequestId::Number(1), json!({}))),
            StatusCode::OK
        );
    }
}

//! What a handler gets besides its arguments: a way to talk back to the
//! client while it runs.

use crate::error::McpError;
use crate::jsonrpc::{Message, ModernMeta, Request, RequestId};
use crate::model::LogLevel;
use crate::modern::mrtr::Round;
use crate::server::Server;
use crate::session::{Outbound, Outgoing, Session};
use http::HeaderMap;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long a server→client request may wait for its answer.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// What a handler gets besides its arguments: the request's session and
/// id, and ways to talk back to the client while it runs (progress, logs,
/// sampling, elicitation, roots). Cheap to clone.
#[derive(Clone)]
pub struct RequestContext(Box<Fields>);

/// What a [`RequestContext`] holds, boxed: the context is moved through
/// every layer of a call (dispatch, the tool registry, the hook, the
/// handler's futures), and a pointer moves where ≈ 200 bytes were copied
/// at each step.
#[doc(hidden)]
#[derive(Clone)]
pub struct Fields {
    pub(crate) server: Server,
    pub(crate) session: Arc<Session>,
    pub(crate) request_id: RequestId,
    pub(crate) meta: Meta,
    pub(crate) out: Outbound,
    pub(crate) cancel: crate::cancel::Cancel,
    pub(crate) http_headers: Option<Arc<HeaderMap>>,
    pub(crate) extensions: http::Extensions,
    /// An MCP 2026-07-28 request: no session, capabilities and log level
    /// from its own `_meta`, no server→client requests (yet).
    pub(crate) stateless: bool,
    /// Stateless requests only: a protocol error that must answer the
    /// request whatever the handler returns (a client capability it needed
    /// and the request did not declare: -32021).
    pub(crate) refusal: Option<Arc<OnceLock<McpError>>>,
    /// Stateless requests whose method may ask for input (MRTR, SEP-2322):
    /// the answers the client sent, and the asks of this run.
    pub(crate) mrtr: Option<Arc<Mutex<Round>>>,
}

/// A request's `_meta` for [`RequestContext::meta`]: a `Value`, or the
/// text of a modern one, parsed when a handler first asks (most never do).
#[derive(Clone, Default)]
pub(crate) struct Meta {
    text: Option<Arc<ModernMeta>>,
    value: OnceLock<Option<Value>>,
}

impl Meta {
    pub(crate) fn value(meta: Option<Value>) -> Meta {
        Meta {
            text: None,
            value: OnceLock::from(meta),
        }
    }

    /// The `_meta` of `req`: taken out of it as it is (not copied, not parsed).
    pub(crate) fn take(req: &mut Request) -> Meta {
        match req.modern_meta.take() {
            Some(text) => Meta {
                text: Some(text),
                value: OnceLock::new(),
            },
            None => Meta::value(
                req.params
                    .as_mut()
                    .and_then(Value::as_object_mut)
                    .and_then(|p| p.remove("_meta")),
            ),
        }
    }

    fn get(&self) -> Option<&Value> {
        self.value
            .get_or_init(|| self.text.as_ref().and_then(|m| m.value()))
            .as_ref()
    }
}

impl std::ops::Deref for RequestContext {
    type Target = Fields;
    fn deref(&self) -> &Fields {
        &self.0
    }
}

impl std::ops::DerefMut for RequestContext {
    fn deref_mut(&mut self) -> &mut Fields {
        &mut self.0
    }
}

impl From<Fields> for RequestContext {
    fn from(fields: Fields) -> Self {
        RequestContext(Box::new(fields))
    }
}

impl RequestContext {
    /// The id of the session this request belongs to (empty for a
    /// stateless MCP 2026-07-28 request, which has none).
    pub fn session_id(&self) -> &str {
        self.session.id()
    }
    /// The JSON-RPC id of this request.
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }
    /// The request's `_meta`, if the client sent one.
    pub fn meta(&self) -> Option<&Value> {
        self.meta.get()
    }
    /// Headers of the HTTP request that carried this call (None on stdio).
    /// The runtime never forwards them anywhere by itself.
    pub fn http_headers(&self) -> Option<&HeaderMap> {
        self.http_headers.as_deref()
    }
    /// Per-request values by type (`http::Extensions`), empty when the
    /// request arrives: a tool-call hook puts values here (a tenant, a user)
    /// for the handler to read with `ctx.extensions().get::<T>()`.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }
    /// The per-request values, to change (see [`RequestContext::extensions`]).
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }
    /// The server handling the request.
    pub fn server(&self) -> &Server {
        &self.server
    }
    /// The capabilities the client declared in `initialize` (or, on a
    /// stateless request, in its `_meta`).
    pub fn client_capabilities(&self) -> Value {
        self.session
            .client()
            .map(|c| c.capabilities)
            .unwrap_or(Value::Null)
    }
    /// The protocol version negotiated in `initialize` (or declared in the
    /// `_meta` of a stateless request).
    pub fn protocol_version(&self) -> Option<String> {
        self.session.protocol_version()
    }

    /// Whether the client cancelled the request (or the session ended).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
    /// Resolves when the client cancels the request or the session ends.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// Report progress, if the client asked for it with a progressToken.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = self.meta().and_then(|m| m.get("progressToken")) else {
            return;
        };
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.out
            .send(Message::notification("notifications/progress", params));
    }

    /// Send a log message, if the client's level lets it through.
    /// A stateless request gets none unless its `_meta` asked for a level.
    pub fn log(&self, level: LogLevel, logger: Option<&str>, data: Value) {
        if self.stateless && self.session.log_level().is_none() {
            return;
        }
        if !crate::logging::enabled(&self.session, level) {
            return;
        }
        self.out.send(crate::logging::message(level, logger, data));
    }
    /// Send an `info` log message (see [`RequestContext::log`]).
    pub fn info(&self, data: impl Into<Value>) {
        self.log(LogLevel::Info, None, data.into())
    }

    /// Tell subscribed clients that a resource changed.
    pub fn notify_resource_updated(&self, uri: &str) {
        self.server.notify_resource_updated(uri);
    }

    /// Close the HTTP stream carrying this request now; the client reconnects
    /// after `retry` and receives the rest on the resumed stream. No effect
    /// on stdio.
    pub fn close_sse_stream(&self, retry: Duration) {
        self.out.send_outgoing(Outgoing::CloseStream { retry });
    }

    /// `sampling/createMessage`: ask the client's model for a completion.
    ///
    /// On a 2025-11-25 session this is a request to the client. On a
    /// stateless 2026-07-28 request it is a multi round-trip input: the
    /// first run fails here and the request ends with an
    /// `InputRequiredResult`; the client sends it again with the answer, the
    /// handler runs again from the start, and this call returns the answer
    /// (docs/protocol-2026.md says how to write such a handler).
    pub async fn create_message(&self, params: Value) -> Result<Value, McpError> {
        self.ask(None, "sampling", "sampling/createMessage", params)
            .await
    }
    /// `elicitation/create`: ask the user for input (see
    /// [`RequestContext::create_message`] for stateless requests).
    pub async fn elicit(&self, params: Value) -> Result<Value, McpError> {
        self.ask(None, "elicitation", "elicitation/create", params)
            .await
    }
    /// `roots/list`: the client's filesystem roots (see
    /// [`RequestContext::create_message`] for stateless requests).
    pub async fn list_roots(&self) -> Result<Value, McpError> {
        self.ask(None, "roots", "roots/list", json!({})).await
    }
    /// [`RequestContext::create_message`] with the key that names this
    /// input in a stateless request's `inputRequests` (unnamed inputs are
    /// `input-1`, `input-2`… in the order they are asked). The key does
    /// nothing on a session.
    pub async fn create_message_as(&self, key: &str, params: Value) -> Result<Value, McpError> {
        self.ask(Some(key), "sampling", "sampling/createMessage", params)
            .await
    }
    /// [`RequestContext::elicit`] under a key of the handler's choosing
    /// (see [`RequestContext::create_message_as`]).
    pub async fn elicit_as(&self, key: &str, params: Value) -> Result<Value, McpError> {
        self.ask(Some(key), "elicitation", "elicitation/create", params)
            .await
    }
    /// [`RequestContext::list_roots`] under a key of the handler's choosing
    /// (see [`RequestContext::create_message_as`]).
    pub async fn list_roots_as(&self, key: &str) -> Result<Value, McpError> {
        self.ask(Some(key), "roots", "roots/list", json!({})).await
    }

    /// Hand the rest of this call over to a task (tasks extension, MCP
    /// 2026-07-28). Only for a tool marked `inputBeforeTask`, called by a
    /// client that declared the extension: the input gathered so far
    /// (MRTR rounds) is kept, this run ends with `Err` (return it with
    /// `?`), the client gets a `CreateTaskResult`, and the handler runs
    /// again from the start inside the task, where this returns `Ok` and
    /// the asks return the same answers. Everywhere else (a session, a
    /// client without the extension, inside the task) it returns `Ok` and
    /// the call goes on as it is.
    pub fn continue_as_task(&self) -> Result<(), McpError> {
        match &self.mrtr {
            Some(round) => round.lock().unwrap_or_else(|p| p.into_inner()).escalate(),
            None => Ok(()),
        }
    }

    /// Input from the client: a request on a session, an MRTR input on a
    /// stateless request.
    async fn ask(
        &self,
        key: Option<&str>,
        capability: &str,
        method: &str,
        params: Value,
    ) -> Result<Value, McpError> {
        self.require_capability(capability)?;
        if let Some(round) = &self.mrtr {
            let mut round = round.lock().unwrap_or_else(|p| p.into_inner());
            return round.ask(key, method, params);
        }
        self.request(method, params).await
    }

    fn require_capability(&self, name: &str) -> Result<(), McpError> {
        let declared = self.client_capabilities().get(name).is_some();
        if self.stateless {
            if declared && self.mrtr.is_some() {
                return Ok(());
            }
            if !declared {
                // MCP 2026-07-28: -32021, whatever the handler makes of it.
                let e = crate::modern::missing_capability(name);
                if let Some(refusal) = &self.refusal {
                    let _ = refusal.set(e.clone());
                }
                return Err(e);
            }
            return Err(McpError::new(
                crate::jsonrpc::INVALID_REQUEST,
                format!(
                    "only tools/call, prompts/get and resources/read may ask the client for `{name}` input on a stateless MCP 2026-07-28 request"
                ),
            ));
        }
        if declared {
            Ok(())
        } else {
            Err(McpError::new(
                crate::jsonrpc::INVALID_REQUEST,
                format!("the client did not declare the `{name}` capability"),
            ))
        }
    }

    /// Send any request to the client and await its answer, which arrives
    /// later on its own (a separate POST over HTTP) and is matched by id.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, McpError> {
        if self.stateless {
            return Err(McpError::new(
                crate::jsonrpc::INVALID_REQUEST,
                format!(
                    "cannot send {method}: a stateless MCP 2026-07-28 request has no channel for server-to-client requests"
                ),
            ));
        }
        let Some((id, rx)) = self.session.register_outgoing() else {
            return Err(McpError::internal(format!(
                "cannot send {method}: the client can no longer answer"
            )));
        };
        // Forget the request however this future ends, also when the handler
        // drops it (its own timeout, an abort after cancellation).
        let _forget = Forget(&self.session, id.clone());
        let msg = Message::Request(Request {
            id,
            method: method.to_owned(),
            params: Some(params),
            modern_meta: None,
        });
        if !self.out.send(msg) {
            return Err(McpError::internal("the client connection is closed"));
        }
        // Not busy work while nobody can answer (see Session::is_busy).
        let _awaiting = self.session.awaiting_client();
        let outcome = tokio::select! {
            r = rx => r.map_err(|_| McpError::internal("the session ended before the client answered")),
            _ = self.cancel.cancelled() => Err(McpError::internal("request cancelled")),
            _ = tokio::time::sleep(CLIENT_REQUEST_TIMEOUT) => Err(McpError::internal(format!("the client did not answer {method} in time"))),
        };
        outcome?.map_err(McpError)
    }
}

/// Removes a server→client request from the session's pending table on drop.
struct Forget<'a>(&'a Session, RequestId);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.forget_outgoing(&self.1);
    }
}

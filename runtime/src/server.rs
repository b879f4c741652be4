//! The transport-agnostic protocol core: one `handle` call per message.

use crate::builder::ServerBuilder;
use crate::completion::{self, Ref};
use crate::context::{Meta, RequestContext};
use crate::error::McpError;
use crate::jsonrpc::{Message, Notification, Payload, Request, RequestId, Response};
use crate::model::LogLevel;
use crate::modern::{listen, mrtr};
use crate::session::{Admission, ClientInfo, Outbound, Session, SessionStore, new_session_id};
use crate::state::{BusMessage, StateStore};
use crate::{lifecycle, modern, prompts, resources, tools};
use futures::FutureExt;
use http::HeaderMap;
use serde_json::{Value, json};
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use tasks::{CallMode, TaskStart};
use tokio_util::sync::CancellationToken;

use crate::cancel::Cancel;

/// A built server: descriptor tables, handlers and the session store. Cheap to
/// clone; every transport shares one.
#[derive(Clone)]
pub struct Server(Arc<Inner>);

struct Inner {
    info: Value,
    /// `info` as JSON text, and the MCP 2026-07-28 envelope made of it.
    envelope: modern::Envelope,
    instructions: Option<String>,
    capabilities: Value,
    tools: tools::Registry,
    resources: resources::Registry,
    prompts: prompts::Registry,
    completions: completion::Registry,
    sessions: Arc<dyn SessionStore>,
    /// What plug-ins keep (`extension.rs`), found by type.
    extensions: Vec<Arc<dyn Any + Send + Sync>>,
    /// Whether MCP 2026-07-28 requests are served (`modern/`); on by
    /// default.
    protocol_2026: std::sync::atomic::AtomicBool,
    /// `ttlMs` / `cacheScope` of cacheable MCP 2026-07-28 results.
    cache: modern::CachePolicy,
    /// The store the instances of a deployment share, if any
    /// (`state.rs`): change notifications then go through its bus.
    state: std::sync::OnceLock<Arc<dyn StateStore>>,
    /// Seals MRTR `requestState`s; random unless set before first use.
    state_key: std::sync::OnceLock<modern::StateKey>,
    /// Open `subscriptions/listen` requests (MCP 2026-07-28).
    listeners: listen::Listeners,
    /// Tasks of the tasks extension; in memory unless set before first use.
    tasks: std::sync::OnceLock<modern::tasks::Tasks>,
    /// The throwaway session of every stateless request that declares
    /// nothing (see [`Server::stateless_session`]).
    plain_session: std::sync::OnceLock<Arc<Session>>,
}

mod tasks;

impl Server {
    /// Start describing a server; `info_json` is the MCP `Implementation`
    /// object (name, version, title, description, icons, websiteUrl).
    pub fn builder(info_json: &str) -> ServerBuilder {
        ServerBuilder::new(info_json)
    }

    // One argument per registry; only the builder calls this.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        info: Value,
        instructions: Option<String>,
        tools: tools::Registry,
        resources: resources::Registry,
        prompts: prompts::Registry,
        completions: completion::Registry,
        sessions: Arc<dyn SessionStore>,
        extensions: Vec<Arc<dyn Any + Send + Sync>>,
        cache: modern::CachePolicy,
    ) -> Server {
        let mut capabilities = json!({ "logging": {} });
        if !tools.is_empty() {
            capabilities["tools"] = json!({ "listChanged": true });
        }
        if !resources.is_empty() {
            capabilities["resources"] = json!({ "subscribe": true, "listChanged": true });
        }
        if !prompts.is_empty() {
            capabilities["prompts"] = json!({ "listChanged": true });
        }
        if !completions.is_empty() || !prompts.is_empty() || resources.has_templates() {
            capabilities["completions"] = json!({});
        }
        let envelope = modern::Envelope::new(&info);
        Server(Arc::new(Inner {
            info,
            envelope,
            instructions,
            capabilities,
            tools,
            resources,
            prompts,
            completions,
            sessions,
            extensions,
            protocol_2026: std::sync::atomic::AtomicBool::new(true),
            cache,
            state: std::sync::OnceLock::new(),
            state_key: std::sync::OnceLock::new(),
            listeners: listen::Listeners::new(),
            tasks: std::sync::OnceLock::new(),
            plain_session: std::sync::OnceLock::new(),
        }))
    }

    /// Serve MCP 2026-07-28 (stateless requests with the modern `_meta`)
    /// beside 2025-11-25 (the default), or not: then a modern request gets
    /// the session era's answer, so dual-era clients fall back to
    /// `initialize`. See docs/protocol-2026.md. Binaries:
    /// `--protocol-2026=false`.
    pub fn set_protocol_2026(&self, on: bool) {
        self.0
            .protocol_2026
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether MCP 2026-07-28 requests are served (see
    /// [`Server::set_protocol_2026`]).
    pub fn serves_protocol_2026(&self) -> bool {
        self.0
            .protocol_2026
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The tool registry (tool surfaces reach tools through it, the HTTP
    /// transport their `x-mcp-header` arguments).
    pub(crate) fn tools(&self) -> &tools::Registry {
        &self.0.tools
    }

    /// The MCP `Implementation` object (name, version…) the server was built with.
    pub fn info(&self) -> &Value {
        &self.0.info
    }

    /// The capabilities announced in the `initialize` result.
    pub fn capabilities(&self) -> &Value {
        &self.0.capabilities
    }

    #[doc(hidden)]
    pub fn sessions(&self) -> &Arc<dyn SessionStore> {
        &self.0.sessions
    }

    /// The state a plug-in of type `T` kept, if it was used.
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(crate) fn extension<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.extensions.iter().find_map(|e| e.downcast_ref::<T>())
    }

    #[doc(hidden)]
    /// A new session with a fresh random id, registered in the store.
    pub fn create_session(&self) -> Arc<Session> {
        let session = Arc::new(Session::new(new_session_id()));
        self.0.sessions.insert(session.clone());
        session
    }

    #[doc(hidden)]
    /// Like [`Server::create_session`], within `max` sessions: at the limit
    /// the longest-idle session that is not busy is ended to make room;
    /// `None` when every session is busy.
    pub fn try_create_session(&self, max: usize) -> Option<Arc<Session>> {
        let session = Arc::new(Session::new(new_session_id()));
        match self.0.sessions.insert_bounded(session.clone(), max) {
            Admission::Inserted => Some(session),
            Admission::Evicted(old) => {
                tracing::debug!(
                    session = old.id(),
                    "session ended to make room for a new one"
                );
                old.close();
                Some(session)
            }
            Admission::Full => None,
        }
    }

    /// Read one of this server's resources as `resources/read` would; files
    /// given to upstream calls as resource links are read this way.
    #[cfg(feature = "upstream")]
    pub(crate) async fn read_resource(
        &self,
        ctx: RequestContext,
        uri: &str,
    ) -> Result<Value, McpError> {
        let params = json!({ "uri": uri });
        self.0.resources.read(ctx, Some(&params)).await
    }

    #[doc(hidden)]
    /// End a session: it is removed from the store and its handlers cancelled.
    pub fn close_session(&self, id: &str) -> bool {
        match self.0.sessions.remove(id) {
            Some(s) => {
                s.close();
                true
            }
            None => false,
        }
    }

    #[doc(hidden)]
    /// Handle one message from the client. Traffic it causes goes to `out`;
    /// the return value is the response to a request (None for notifications,
    /// responses, and requests the client cancelled).
    pub async fn handle(
        &self,
        session: &Arc<Session>,
        msg: Message,
        out: Outbound,
    ) -> Option<Response> {
        self.handle_with(session, msg, out, None).await
    }

    #[doc(hidden)]
    /// `handle`, with the headers of the HTTP request that carried the
    /// message, for handlers that need them (`RequestContext::http_headers`).
    pub async fn handle_with(
        &self,
        session: &Arc<Session>,
        msg: Message,
        out: Outbound,
        http_headers: Option<Arc<HeaderMap>>,
    ) -> Option<Response> {
        let extensions = http::Extensions::new();
        self.handle_with_extensions(session, msg, out, http_headers, extensions)
            .await
    }

    #[doc(hidden)]
    /// `handle_with`, with per-request values the transport established
    /// (the caller's `AuthInfo`), which the handler finds in
    /// `RequestContext::extensions`.
    pub async fn handle_with_extensions(
        &self,
        session: &Arc<Session>,
        msg: Message,
        out: Outbound,
        http_headers: Option<Arc<HeaderMap>>,
        extensions: http::Extensions,
    ) -> Option<Response> {
        match msg {
            Message::Request(req) => {
                self.handle_request(session.clone(), req, out, http_headers, extensions)
                    .await
            }
            Message::Notification(n) => {
                self.handle_notification(session, n);
                None
            }
            Message::Response(r) => {
                resolve(session, r);
                None
            }
        }
    }

    // Out of line: not on a request's path.
    #[inline(never)]
    fn handle_notification(&self, session: &Session, n: Notification) {
        match n.method.as_str() {
            "notifications/initialized" => session.mark_initialized(),
            "notifications/cancelled" => {
                let id = n.params.as_ref().and_then(|p| p.get("requestId")).cloned();
                match id.and_then(|v| serde_json::from_value::<RequestId>(v).ok()) {
                    Some(id) => {
                        session.cancel_request(&id);
                    }
                    None => tracing::debug!("notifications/cancelled without a usable requestId"),
                }
            }
            other => tracing::debug!(method = other, "notification ignored"),
        }
    }

    /// [`Server::handle_with_extensions`] of a request: the transport that
    /// has one calls this, with no [`Message`] to build and match. The
    /// checks, the context and the handler's boxed future are made before
    /// the future is: it holds what the answer needs, not the request.
    pub(crate) fn handle_request(
        &self,
        session: Arc<Session>,
        mut req: Request,
        out: Outbound,
        http_headers: Option<Arc<HeaderMap>>,
        extensions: http::Extensions,
    ) -> impl Future<Output = Option<Response>> + Send + 'static + use<> {
        use futures::future::{Either, ready};
        if req.modern_meta.is_some() {
            meta_into_params(&mut req);
        }
        if matches!(req.method.as_str(), "initialize" | "ping") || !session.has_client() {
            return Either::Left(ready(Some(self.before_session(&session, req))));
        }
        let Some(cancel) = session.begin_request(&req.id) else {
            return Either::Left(ready(Some(in_flight(req.id))));
        };
        let ctx = RequestContext::from(crate::context::Fields {
            server: self.clone(),
            session: session.clone(),
            request_id: req.id.clone(),
            meta: Meta::value(crate::jsonrpc::param(req.params.as_ref(), "_meta").cloned()),
            out,
            cancel: cancel.clone(),
            http_headers,
            extensions,
            stateless: false,
            refusal: None,
            mrtr: None,
        });
        // Also when the transport drops this future (its client went away):
        // the handler's task runs on, but the id is free again.
        let end = EndRequest(session, req.id.clone());
        let run = run_guarded(self, ctx, req, cancel, false);
        // Mapped, not awaited in an `async` block: that block would keep
        // the handler's future twice (as captured, and as awaited).
        Either::Right(futures::FutureExt::map(run, move |outcome| {
            outcome.map(|r| respond(end.1.clone(), r))
        }))
    }

    /// `initialize`, `ping`, and any request before the session has its
    /// client: answered here, never by a handler. Out of line: the hot
    /// request path's code stays compact.
    #[inline(never)]
    fn before_session(&self, session: &Session, req: Request) -> Response {
        let id = req.id;
        match req.method.as_str() {
            "initialize" if session.has_client() => {
                refused(id, "the session is already initialized")
            }
            "initialize" => {
                let inner = &self.0;
                let r = lifecycle::initialize(
                    session,
                    req.params.as_ref(),
                    &inner.info,
                    &inner.capabilities,
                    inner.instructions.as_deref(),
                );
                respond(id, r.map(Payload::Value))
            }
            "ping" => Response::ok(id, json!({})),
            _ => refused(id, "the session is not initialized: send initialize first"),
        }
    }

    #[doc(hidden)]
    /// Serve one MCP 2026-07-28 request statelessly (see `modern.rs`): its
    /// `_meta` is validated, and the handler sees a throwaway session that
    /// holds what the request declared; nothing outlives the request.
    /// `cancel` is the transport's signal that the client gave up (a closed
    /// HTTP response, `notifications/cancelled` on stdio). `extensions`
    /// are what the transport established (the caller's `AuthInfo`), for
    /// `RequestContext::extensions`. None when cancelled.
    pub async fn handle_stateless(
        &self,
        req: Request,
        out: Outbound,
        cancel: CancellationToken,
        http_headers: Option<Arc<HeaderMap>>,
        extensions: http::Extensions,
    ) -> Option<Response> {
        let cancel = Cancel::from(cancel);
        self.serve_stateless(req, out, cancel, http_headers, extensions)
            .await
    }

    /// [`Server::handle_stateless`] with the runtime's own cancellation
    /// (stdio's: a child of its session's).
    pub(crate) async fn serve_stateless(
        &self,
        req: Request,
        out: Outbound,
        cancel: Cancel,
        http_headers: Option<Arc<HeaderMap>>,
        extensions: http::Extensions,
    ) -> Option<Response> {
        match modern::request_meta(&req) {
            Ok(meta) => {
                let server = self.clone();
                server
                    .handle_stateless_checked(
                        req,
                        meta,
                        out,
                        cancel,
                        http_headers,
                        extensions,
                        None,
                    )
                    .await
            }
            Err(e) => Some(respond(req.id, Err(modern::finish_error(e)))),
        }
    }

    /// [`Server::handle_stateless`] with the request's `_meta` already
    /// parsed (the HTTP transport compares it with the headers first).
    /// The future owns the server: the transport boxes it as it is, with no
    /// future around it to hold the server (a larger copy per request). The
    /// checks that need no waiting are made here, before any future is
    /// built: a plain request's future is its call's own (no outer `async`
    /// layer that every argument is moved through once more), the rare
    /// methods' is boxed, and the answer is made by a map. `task`: the
    /// task support of the tool a `tools/call` names, when the transport
    /// looked the tool up already (else it is looked up here).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn handle_stateless_checked(
        self,
        req: Request,
        meta: modern::RequestMeta,
        out: Outbound,
        cancel: Cancel,
        http_headers: Option<Arc<HeaderMap>>,
        extensions: http::Extensions,
        task: Option<(modern::tasks::TaskSupport, bool)>,
    ) -> impl std::future::Future<Output = Option<Response>> + Send + 'static {
        use futures::future::{Either, ready};
        let id = req.id.clone();
        let caller = Caller {
            http_headers,
            extensions,
        };
        let outcome = match self.stateless_start(&req, &meta, task) {
            Err(e) => Either::Left(ready(Some(Err(e)))),
            Ok((method, Some(mode))) => {
                let client = self.stateless_client(meta);
                let call =
                    self.stateless_call(req, client, out, cancel, caller, mode, Some(method));
                Either::Right(Either::Left(call))
            }
            // The rare methods and the calls that may start a task: their
            // futures boxed, apart from the plain one, which every request
            // builds and moves (smaller, and less code on the usual path).
            Ok((method, None)) => Either::Right(Either::Right(Box::pin(
                self.stateless_special(method, req, meta, out, cancel, caller),
            ))),
        };
        outcome.map(|r| r.map(|r| respond(id, r.map_err(modern::finish_error))))
    }

    /// What a checked stateless request is: its method (as served), and how
    /// its call runs when it needs no step of its own first
    /// ([`Self::plain_mode`]); Err for an unsupported version or an
    /// unknown method.
    fn stateless_start(
        &self,
        req: &Request,
        meta: &modern::RequestMeta,
        task: Option<(modern::tasks::TaskSupport, bool)>,
    ) -> Result<(&'static str, Option<CallMode>), McpError> {
        modern::check_version(meta)?;
        let Some(method) = modern::served(&req.method) else {
            return Err(McpError::method_not_found(&req.method));
        };
        Ok((method, self.plain_mode(method, req, task)))
    }

    /// How a request runs when it needs no step of its own first: inline.
    /// None for `server/discover`, `subscriptions/listen`, `tasks/*` and a
    /// `tools/call` of a tool that supports tasks ([`Self::task_start`]
    /// decides those; both read [`Self::task_capable`], or `task`, the
    /// called tool's task support when the caller found it already).
    fn plain_mode(
        &self,
        method: &str,
        req: &Request,
        task: Option<(modern::tasks::TaskSupport, bool)>,
    ) -> Option<CallMode> {
        if method == "server/discover"
            || method == "subscriptions/listen"
            || method.starts_with("tasks/")
        {
            return None;
        }
        if method != "tools/call" {
            return Some(CallMode::Inline);
        }
        let capable = match task {
            Some((support, _)) => support != modern::tasks::TaskSupport::Forbidden,
            None => self.task_capable(req).is_some(),
        };
        (!capable).then_some(CallMode::Inline)
    }

    /// The requests [`Self::plain_mode`] leaves out: their step first, then
    /// (unless the step is their whole outcome) their call.
    async fn stateless_special(
        self,
        method: &'static str,
        req: Request,
        meta: modern::RequestMeta,
        out: Outbound,
        cancel: Cancel,
        caller: Caller,
    ) -> Option<Result<Payload, McpError>> {
        let step = self.special_step(method, &req, &meta, &out, &cancel, &caller.extensions);
        match step.await {
            Ok(mode) => {
                let client = self.stateless_client(meta);
                self.stateless_call(req, client, out, cancel, caller, mode, Some(method))
                    .await
            }
            Err(done) => done.map(|r| r.map(|p| self.finish_modern(method, p))),
        }
    }

    /// The step of a request [`Self::plain_mode`] leaves out: the mode its
    /// call runs in, or (Err) its whole outcome, before the envelope.
    async fn special_step(
        &self,
        method: &'static str,
        req: &Request,
        meta: &modern::RequestMeta,
        out: &Outbound,
        cancel: &Cancel,
        extensions: &http::Extensions,
    ) -> Result<CallMode, Option<Result<Payload, McpError>>> {
        let inner = &self.0;
        if method == "server/discover" {
            let body = modern::discover(&inner.capabilities, inner.instructions.as_deref());
            return Err(Some(Ok(Payload::Value(body))));
        }
        let declared = modern::tasks::declared(&meta.capabilities);
        let principal = mrtr::principal(extensions);
        let params = req.params.as_ref();
        if method == "subscriptions/listen" {
            let listen = self.listen(&req.id, params, out, cancel, declared, principal.as_deref());
            return Err(listen.await.map(|r| r.map(Payload::Value)));
        }
        if method.starts_with("tasks/") {
            let r = self
                .task_method(method, params, declared, principal.as_deref())
                .await;
            return Err(Some(r.map(Payload::Value)));
        }
        match self.task_start(req, declared, principal.as_deref()).await {
            Ok(TaskStart::Inline) => Ok(CallMode::Inline),
            Ok(TaskStart::InputFirst) => Ok(CallMode::InputFirst),
            Ok(TaskStart::Created(v)) => Err(Some(Ok(Payload::Value(v)))),
            Err(e) => Err(Some(Err(e))),
        }
    }

    /// A modern result with its envelope (`resultType`, cache hints, the
    /// server's identity).
    fn finish_modern(&self, method: &str, r: Payload) -> Payload {
        let inner = &self.0;
        let cache = inner.cache.for_method(method);
        modern::finish(method, r, &inner.info, &inner.envelope, cache)
    }

    /// A modern request past its checks: run it (with its MRTR round) on a
    /// throwaway session. In a task round a panic fails the call instead
    /// of becoming a tool error, since a task reports it as `failed`; in
    /// the inline phase of an `inputBeforeTask` tool the handler may hand
    /// the call over to a task. With `envelope` (the served method), a
    /// result gets its modern envelope here, in the call's own future.
    /// The future owns the server (see [`Self::handle_stateless_checked`]).
    /// Made before its future, which holds what the call's end needs.
    #[allow(clippy::too_many_arguments)]
    fn stateless_call(
        self,
        mut req: Request,
        client: StatelessClient,
        out: Outbound,
        cancel: Cancel,
        caller: Caller,
        mode: CallMode,
        envelope: Option<&'static str>,
    ) -> impl Future<Output = Option<Result<Payload, McpError>>> + Send + 'static {
        use futures::future::{Either, ready};
        let Caller {
            http_headers,
            extensions,
        } = caller;
        let StatelessClient { session, may_ask } = client;
        let principal = mrtr::principal(&extensions);
        let input_first = mode == CallMode::InputFirst;
        let round = match self.start_round(&req, input_first || may_ask, input_first, principal) {
            Ok(r) => r,
            Err(e) => return Either::Left(ready(Some(Err(e)))),
        };
        let mrtr = round.as_ref().map(|r| r.round.clone());
        let refusal = Arc::new(std::sync::OnceLock::new());
        // Moved into the context, not copied: nothing after this reads the
        // params' `_meta` (handlers see it as `ctx.meta()`).
        let request_meta = Meta::take(&mut req);
        let ctx = RequestContext::from(crate::context::Fields {
            server: self.clone(),
            session,
            request_id: req.id.clone(),
            meta: request_meta,
            out,
            cancel: cancel.clone(),
            http_headers,
            extensions,
            stateless: true,
            refusal: Some(refusal.clone()),
            mrtr,
        });
        let in_task = mode == CallMode::TaskRound;
        let run = run_guarded(&self, ctx, req, cancel, in_task);
        let Some(open) = round else {
            // Mapped, not awaited in an `async` block: that block would
            // keep the handler's future twice (as captured, and as awaited).
            let end = move |outcome: Option<_>| {
                let outcome = outcome?;
                refusal_of(&refusal).or_else(|| Some(self.enveloped(envelope, outcome)))
            };
            return Either::Right(Either::Left(futures::FutureExt::map(run, end)));
        };
        // Boxed: the rare round's end must not size every call's future.
        Either::Right(Either::Right(Box::pin(async move {
            let outcome = run.await?;
            if let Some(refused) = refusal_of(&refusal) {
                return Some(refused);
            }
            let outcome = self.close_round(*open, outcome).await;
            Some(self.enveloped(envelope, outcome))
        })))
    }

    /// A stateless call's outcome with its modern envelope (`envelope`: the
    /// served method), when it has one.
    fn enveloped(
        &self,
        envelope: Option<&'static str>,
        outcome: Result<Payload, McpError>,
    ) -> Result<Payload, McpError> {
        match envelope {
            Some(method) => outcome.map(|p| self.finish_modern(method, p)),
            None => outcome,
        }
    }

    /// The MRTR round of a stateless call, if its method has one and the
    /// call may ask or brings answers; boxed with what its end needs (a
    /// round's parts, the call and the caller would otherwise size every
    /// call's future). In the inline phase of an `inputBeforeTask` tool
    /// (`input_first`) the round may escalate to a task, made of the call.
    fn start_round(
        &self,
        req: &Request,
        may_ask: bool,
        input_first: bool,
        principal: Option<String>,
    ) -> Result<Option<Box<OpenRound>>, McpError> {
        let params = req.params.as_ref();
        let Some((binding, round)) = self.open_round(&req.method, params, may_ask, &principal)?
        else {
            return Ok(None);
        };
        if input_first {
            round
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .allow_escalation();
        }
        // What the task is made of, should the handler continue as one.
        let call = input_first.then(|| req.params_with_meta().unwrap_or(Value::Null));
        Ok(Some(Box::new(OpenRound {
            binding,
            round,
            call,
            principal,
        })))
    }

    /// What an opened round makes of the handler's `outcome`
    /// ([`Self::end_round`]); a call escalated to a task answers with the
    /// task it created.
    async fn close_round(
        &self,
        open: OpenRound,
        outcome: Result<Payload, McpError>,
    ) -> Result<Payload, McpError> {
        let OpenRound {
            binding,
            round,
            call,
            principal,
        } = open;
        match self.end_round(binding, round) {
            RoundEnd::Answer(r) => r,
            RoundEnd::Escalate(answers) => {
                let call = call.unwrap_or(Value::Null);
                let created = self.create_task(call, answers, principal.as_deref());
                created.await.map(Payload::Value)
            }
            RoundEnd::Handler => outcome,
        }
    }

    /// What a stateless call keeps of its `_meta`: the session its handler
    /// sees, and whether the client declared anything it can be asked for
    /// (made before the call's future, which then holds 16 bytes of it).
    pub(crate) fn stateless_client(&self, meta: modern::RequestMeta) -> StatelessClient {
        StatelessClient {
            may_ask: mrtr::may_ask(&meta.capabilities),
            session: self.stateless_session(meta),
        }
    }

    /// The session a stateless request's handler sees. Requests that
    /// declare no capabilities, client info or log level at the newest
    /// version share one: nothing on the stateless path writes to it (no
    /// subscriptions, log level or server→client requests there), and a
    /// session per request cost its allocation and drop.
    fn stateless_session(&self, meta: modern::RequestMeta) -> Arc<Session> {
        let plain = meta.log_level.is_none()
            && meta.client_info.is_null()
            && meta.protocol_version == modern::MODERN_PROTOCOL_VERSIONS[0]
            && meta.capabilities.as_object().is_some_and(|c| c.is_empty());
        if !plain {
            return stateless_session(meta);
        }
        let shared = self.0.plain_session.get_or_init(|| stateless_session(meta));
        shared.clone()
    }

    /// Serve `subscriptions/listen`: acknowledge, then deliver every change
    /// the filter accepts, tagged with the request's id, until the client
    /// goes away (None: no response) or the source closes (the result).
    /// While the client is slow to read, at most [`listen::MAX_QUEUED`]
    /// notifications are queued for it; later changes wait, coalesced.
    async fn listen(
        &self,
        id: &RequestId,
        params: Option<&Value>,
        out: &Outbound,
        cancel: &Cancel,
        tasks_declared: bool,
        principal: Option<&str>,
    ) -> Option<Result<Value, McpError>> {
        // Subscribed before the task states are read and before the
        // acknowledgment: no change after them is missed.
        let mut changes = self.0.listeners.subscribe();
        let (filter, mut pending) =
            match self.listen_filter(params, tasks_declared, principal).await {
                Ok(f) => f,
                Err(e) => return Some(Err(e)),
            };
        if !out.send(listen::acknowledged(&filter, id)) {
            return None;
        }
        loop {
            while out.queued() < listen::MAX_QUEUED {
                let Some(c) = pending.pop() else { break };
                if !out.send(listen::notification(&c, id)) {
                    return None;
                }
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return None,
                c = changes.recv() => match c {
                    Ok(c) if filter.accepts(&c) => pending.push(c),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(missed = n, "a listener fell behind: resynchronized");
                        for c in filter.resync() {
                            pending.push(c);
                        }
                        for c in self.task_states(&filter.task_ids, principal).await {
                            pending.push(c);
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        return Some(Ok(listen::ended(id)));
                    }
                },
                // The client reads slowly: look again once it may have.
                _ = tokio::time::sleep(LISTEN_RETRY), if !pending.is_empty() => {}
            }
        }
    }

    /// A listen's filter, its task ids narrowed to the caller's live tasks,
    /// and what it sends first: the current status of those tasks.
    async fn listen_filter(
        &self,
        params: Option<&Value>,
        tasks_declared: bool,
        principal: Option<&str>,
    ) -> Result<(listen::Filter, listen::Pending), McpError> {
        let inner = &self.0;
        let mut filter = {
            let exists = |uri: &str| inner.resources.exists(uri);
            let offer = listen::Offer {
                tools: !inner.tools.is_empty(),
                resources: !inner.resources.is_empty(),
                prompts: !inner.prompts.is_empty(),
                resource_exists: &exists,
                tasks_declared,
            };
            listen::filter(params, &offer)?
        };
        let mut pending = listen::Pending::default();
        let states = self.task_states(&filter.task_ids, principal).await;
        filter.task_ids.clear();
        for c in states {
            if let listen::Change::TaskStatus { id, .. } = &c {
                filter.task_ids.insert(id.clone());
            }
            pending.push(c);
        }
        Ok((filter, pending))
    }

    #[doc(hidden)]
    /// How many `subscriptions/listen` requests are open.
    pub fn listener_count(&self) -> usize {
        self.0.listeners.count()
    }

    /// The one place changes reach MCP 2026-07-28 listeners
    /// (`subscriptions/listen`); the session era's notifications are sent
    /// beside it. A shared fan-out (several instances) plugs in here.
    pub fn notify_listeners(&self, change: listen::Change) {
        self.0.listeners.publish(change);
    }

    /// The answers a stateless request brings for its handler's asks
    /// (MRTR): its `inputResponses` and those in its `requestState`, which
    /// must be intact, this request's, this caller's and unexpired (-32602
    /// otherwise). None for methods that cannot ask, and for a request
    /// that brings no answers and whose handler can neither ask (`may_ask`:
    /// the client declared no capability an ask needs, so every ask is
    /// refused before the round is read) nor become a task: such a round
    /// would end complete whatever the handler does.
    #[allow(clippy::type_complexity)]
    fn open_round(
        &self,
        method: &str,
        params: Option<&Value>,
        may_ask: bool,
        principal: &Option<String>,
    ) -> Result<Option<(mrtr::Unbound, Arc<std::sync::Mutex<mrtr::Round>>)>, McpError> {
        if !mrtr::METHODS.contains(&method) {
            return Ok(None);
        }
        // Most calls: nothing to read but whether answers came.
        if !may_ask && !mrtr::brings_answers(params) {
            return Ok(None);
        }
        let fields = mrtr::Fields::of(params);
        let incoming = mrtr::incoming_of(&fields)?;
        // A state is bound to the authenticated caller (None without auth).
        let binding = mrtr::Unbound::from_fields(method, &fields, principal.clone());
        // Without a state the answers are the request's own (no map built
        // and extended per call).
        let answers = match &incoming.state {
            Some(state) => {
                let mut answers =
                    mrtr::open_state(self.state_key(), state, &binding.bind(), mrtr::now_secs())?;
                answers.extend(incoming.responses);
                answers
            }
            None => incoming.responses,
        };
        let round = Arc::new(std::sync::Mutex::new(mrtr::Round::new(answers)));
        Ok(Some((binding, round)))
    }

    /// What a round of MRTR makes of the handler's outcome: None when its
    /// own result stands; an `InputRequiredResult` when it asked for input
    /// it did not get (whatever it returned after the failed ask); -32602
    /// when an answer had the wrong shape.
    fn end_round(
        &self,
        binding: mrtr::Unbound,
        round: Arc<std::sync::Mutex<mrtr::Round>>,
    ) -> RoundEnd {
        // The usual end, read in place: no copy of the round out of its
        // lock (nor of its binding).
        if round
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_complete()
        {
            return RoundEnd::Handler;
        }
        let round = match Arc::try_unwrap(round) {
            Ok(m) => m.into_inner().unwrap_or_else(|p| p.into_inner()),
            // A handler that kept a clone of its context: read a copy.
            Err(shared) => std::mem::take(&mut *shared.lock().unwrap_or_else(|p| p.into_inner())),
        };
        match round.ending() {
            mrtr::Ending::Complete => RoundEnd::Handler,
            mrtr::Ending::Invalid(e) => RoundEnd::Answer(Err(e)),
            mrtr::Ending::InputRequired { asked, used } => {
                let state =
                    mrtr::seal_state(self.state_key(), &binding.bind(), used, mrtr::now_secs());
                RoundEnd::Answer(Ok(Payload::Value(mrtr::input_required(asked, state))))
            }
            mrtr::Ending::Escalate { used } => RoundEnd::Escalate(used),
        }
    }

    /// The key that seals MRTR `requestState`s: the one set with
    /// [`Server::set_state_key`], or a random one for this process.
    fn state_key(&self) -> &modern::StateKey {
        self.0.state_key.get_or_init(modern::StateKey::random)
    }

    /// Seal MRTR `requestState`s with this key (`--state-key`): every
    /// instance behind one load balancer must share it, or a state issued by
    /// one is refused by another. False when a key is already in use.
    pub fn set_state_key(&self, key: modern::StateKey) -> bool {
        self.0.state_key.set(key).is_ok()
    }

    /// One request to its handler. The future owns the server, so that
    /// `run_guarded` boxes it as it is (no async block around it to hold
    /// the server: a nesting level, and its copy, less per request).
    async fn dispatch(self, ctx: RequestContext, req: Request) -> Result<Payload, McpError> {
        let p = req.params.as_ref();
        let inner = &self.0;
        let value = match req.method.as_str() {
            // Answered with JSON text serialized ahead (pages) or at once.
            "tools/list" => {
                let page = inner.tools.list(p)?;
                #[cfg(feature = "auth")]
                let page = crate::auth::filter_tools(&ctx, page);
                return Ok(page);
            }
            // Routed to the registry by `run_guarded`; boxed here, where it
            // would only make every other method's future larger.
            "tools/call" => return Box::pin(inner.tools.call(ctx, req.params)).await,
            "resources/list" => inner.resources.list(p),
            "resources/templates/list" => inner.resources.list_templates(p),
            "resources/read" => inner.resources.read(ctx, p).await,
            "resources/subscribe" => {
                let uri = resources::uri_param(p)?;
                if !inner.resources.exists(&uri) {
                    return Err(McpError::resource_not_found(&uri));
                }
                if !ctx.session.subscribe(&uri) {
                    return Err(McpError::invalid_params(format!(
                        "a session may hold at most {} subscriptions",
                        crate::session::MAX_SUBSCRIPTIONS
                    )));
                }
                Ok(json!({}))
            }
            "resources/unsubscribe" => {
                ctx.session.unsubscribe(&resources::uri_param(p)?);
                Ok(json!({}))
            }
            "prompts/list" => inner.prompts.list(p),
            "prompts/get" => inner.prompts.get(ctx, p).await,
            "completion/complete" => inner.completions.complete(p, |r| match r {
                Ref::Prompt(n) => inner.prompts.contains(n),
                Ref::Resource(u) => inner.resources.knows_template(u),
            }),
            "logging/setLevel" => {
                let level = p
                    .and_then(|p| p.get("level"))
                    .cloned()
                    .and_then(|l| serde_json::from_value::<LogLevel>(l).ok())
                    .ok_or_else(|| McpError::invalid_params("level must be one of debug, info, notice, warning, error, critical, alert, emergency"))?;
                ctx.session.set_log_level(level);
                Ok(json!({}))
            }
            other => Err(McpError::method_not_found(other)),
        };
        value.map(Payload::Value)
    }

    /// Share state with the other instances of a deployment through
    /// `store` (the HTTP transport's [`HttpConfig`] sets it; see
    /// docs/deployment.md). Set once; false when another store was set.
    ///
    /// [`HttpConfig`]: crate::transport::http::HttpConfig
    pub fn use_state_store(&self, store: Arc<dyn StateStore>) -> bool {
        let same = self.0.state.get_or_init(|| store.clone());
        if !Arc::ptr_eq(same, &store) {
            return false;
        }
        // Task records follow the sessions into a shared store, so that any
        // instance answers tasks/* (unless a task store was set already).
        if let Some(tasks) = store.task_store() {
            self.set_task_store(tasks, modern::tasks::DEFAULT_TASK_TTL);
        }
        true
    }

    /// The shared store, if the server uses one.
    pub fn state_store(&self) -> Option<&Arc<dyn StateStore>> {
        self.0.state.get()
    }

    /// A change notification that reached this instance through the shared
    /// store's bus (from any instance, this one included), for this
    /// instance's MCP 2026-07-28 listeners.
    pub(crate) fn deliver_change(&self, msg: &Message) {
        if let Some(change) = listen::Change::from_notification(msg) {
            self.notify_listeners(change);
        }
    }

    /// Tell every session subscribed to `uri` that it changed, and the
    /// listeners that asked for it (with a shared store, on every instance).
    pub fn notify_resource_updated(&self, uri: &str) {
        let msg = Message::notification("notifications/resources/updated", json!({ "uri": uri }));
        if let Some(store) = self.state_store() {
            publish_to_subscribers(store.clone(), uri.to_owned(), msg);
            return;
        }
        self.notify_listeners(listen::Change::ResourceUpdated(uri.to_owned()));
        for s in self.0.sessions.all() {
            if s.is_subscribed(uri) {
                s.notify(msg.clone());
            }
        }
    }

    /// Broadcast `notifications/{tools,resources,prompts}/list_changed`
    /// to every session and to the listeners that asked for it.
    pub fn notify_list_changed(&self, list: &str) {
        let msg = Message::notification(&format!("notifications/{list}/list_changed"), json!({}));
        if let Some(store) = self.state_store() {
            store.publish(BusMessage::Notify {
                sessions: None,
                data: msg.to_value(),
            });
            return;
        }
        if let Some(kind) = listen::ListKind::from_name(list) {
            self.notify_listeners(listen::Change::ListChanged(kind));
        }
        // Not a session that has not initialized: on stdio that is a
        // modern client's channel, which gets only what it listens for.
        for s in self.0.sessions.all().into_iter().filter(|s| s.has_client()) {
            s.notify(msg.clone());
        }
    }

    /// Hide or show a tool at run time; clients are told the list changed.
    pub fn set_tool_enabled(&self, name: &str, enabled: bool) -> bool {
        let changed = self.0.tools.set_enabled(name, enabled);
        if changed {
            self.notify_list_changed("tools");
        }
        changed
    }
}

/// `resources/updated` to the subscribers the shared store knows, on
/// whichever instance holds their GET streams, and to every instance's
/// listeners (delivered by the bus, this instance included).
fn publish_to_subscribers(store: Arc<dyn StateStore>, uri: String, msg: Message) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    rt.spawn(async move {
        match store.subscribers(&uri).await {
            Ok(ids) => store.publish(BusMessage::Notify {
                sessions: Some(ids),
                data: msg.to_value(),
            }),
            Err(e) => tracing::warn!(%uri, "resources/updated not sent: {e}"),
        }
    });
}

/// How often a listener whose client reads slowly looks whether its queue
/// has room again.
const LISTEN_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

/// What answers a stateless request once its handler has run.
enum RoundEnd {
    /// The handler's own outcome.
    Handler,
    /// This instead (an `InputRequiredResult`, a malformed answer).
    Answer(Result<Payload, McpError>),
    /// The call continues as a task that starts with these answers.
    Escalate(serde_json::Map<String, Value>),
}

/// An MRTR round a stateless call opened, and what its end may need: the
/// call and its caller, should it continue as a task.
struct OpenRound {
    binding: mrtr::Unbound,
    round: Arc<std::sync::Mutex<mrtr::Round>>,
    call: Option<Value>,
    principal: Option<String>,
}

/// What a stateless call keeps of its request's `_meta`
/// ([`Server::stateless_client`]).
pub(crate) struct StatelessClient {
    session: Arc<Session>,
    /// Whether it declared a capability an ask needs ([`mrtr::may_ask`]).
    may_ask: bool,
}

/// What the transport passes on about the sender of a stateless request:
/// its HTTP headers and the extensions handlers may see (`AuthInfo`).
pub(crate) struct Caller {
    pub(crate) http_headers: Option<Arc<HeaderMap>>,
    pub(crate) extensions: http::Extensions,
}

/// A throwaway session holding what a stateless request declared; it is not
/// in the store, so no notification reaches it, and it ends with the request.
fn stateless_session(meta: modern::RequestMeta) -> Arc<Session> {
    let session = Arc::new(Session::new(String::new()));
    session.set_client(ClientInfo {
        protocol_version: meta.protocol_version.into(),
        capabilities: meta.capabilities,
        info: meta.client_info,
    });
    if let Some(level) = meta.log_level {
        session.set_log_level(level);
    }
    session
}

/// Ends a request's bookkeeping in its session however `handle_request` ends.
struct EndRequest(Arc<Session>, RequestId);

impl Drop for EndRequest {
    fn drop(&mut self) {
        self.0.end_request(&self.1);
    }
}

fn respond(id: RequestId, r: Result<Payload, McpError>) -> Response {
    match r {
        Ok(v) => Response::ok(id, v),
        Err(e) => Response::err(Some(id), e.0),
    }
}

const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Run a request so that a panic becomes an error instead of killing the
/// session, and a cancellation stops the work. A cancelled request gets no
/// response.
///
/// The handler is polled by the caller's task (a task per request cost a
/// spawn per call; transports already run each message on a task of its
/// own). It moves to a task of its own when it must outlive the caller:
/// cancelled (cooperative first: the handler sees `ctx.cancelled()` and may
/// clean up; one that ignores it is dropped after a grace period), or
/// dropped by its transport (the client went away: it runs to its end, as
/// it would have on its own task).
/// A modern `_meta` on the session path (the server does not serve
/// 2026-07-28): back into the params, where this path reads it.
#[cold]
#[inline(never)]
fn meta_into_params(req: &mut Request) {
    req.params = req.params_with_meta();
    req.modern_meta = None;
}

/// A stateless call's refusal: when its handler needed a client capability
/// the request did not declare, that is the answer, even if the handler
/// turned the failure into a tool result.
fn refusal_of(refusal: &std::sync::OnceLock<McpError>) -> Option<Result<Payload, McpError>> {
    refusal.get().map(|e| Err(e.clone()))
}

/// A request refused before any handler: an invalid request.
#[cold]
#[inline(never)]
fn refused(id: RequestId, message: &str) -> Response {
    respond(
        id,
        Err(McpError::new(crate::jsonrpc::INVALID_REQUEST, message)),
    )
}

#[cold]
#[inline(never)]
fn in_flight(id: RequestId) -> Response {
    let message = format!("a request with id {id} is already in flight");
    refused(id, &message)
}

/// A client's answer to a request of ours.
#[inline(never)]
fn resolve(session: &Session, r: Response) {
    if !session.resolve(r) {
        tracing::debug!("response to an unknown or finished request ignored");
    }
}

/// A request's handler, its future boxed (see [`guard`]) before the future
/// that waits for it is made: that one holds the method's name, the box and
/// the cancellation, not the request, the context or the server.
fn run_guarded(
    server: &Server,
    ctx: RequestContext,
    req: Request,
    cancel: Cancel,
    panic_fails: bool,
) -> impl Future<Output = Option<Result<Payload, McpError>>> + Send + 'static + use<> {
    let method = method_name(&req.method);
    #[cfg(feature = "telemetry")]
    let observed = crate::telemetry::request(&ctx, &req);
    #[cfg(feature = "telemetry")]
    let span = observed
        .as_ref()
        .map_or_else(tracing::Span::none, |o| o.span());
    // `tools/call`, most requests, boxed as the registry's own future:
    // `dispatch`'s is as large as its largest method's (≈ 1 KB), all of it
    // copied into the box.
    let work = if req.method == "tools/call" {
        let call = server.0.tools.call(ctx, req.params);
        guard(
            call,
            #[cfg(feature = "telemetry")]
            span,
        )
    } else {
        guard(
            server.clone().dispatch(ctx, req),
            #[cfg(feature = "telemetry")]
            span,
        )
    };
    let mut work = RunOn(Some(work), cancel);
    async move {
        let done = match work.0.as_mut() {
            Some(fut) => unless_cancelled(fut, &work.1).await,
            None => None,
        };
        let Some(done) = done else {
            work.detach(Some(CANCEL_GRACE));
            #[cfg(feature = "telemetry")]
            if let Some(o) = observed {
                o.finish(None);
            }
            return None;
        };
        // Finished: nothing for `RunOn` to run on when it drops.
        work.0.take();
        let outcome = done.unwrap_or_else(|_| {
            tracing::error!(%method, "handler panicked");
            if panic_fails {
                return Err(McpError::internal(format!(
                    "internal error: the handler for {method} panicked"
                )));
            }
            panic_outcome(&method)
        });
        #[cfg(feature = "telemetry")]
        if let Some(o) = observed {
            o.finish(Some(&outcome));
        }
        Some(outcome)
    }
}

/// A request's handler future boxed behind its panic guard (and, with
/// telemetry, in the request's span). Always inlined: made where the
/// handler's future is, it is built in its box; a call of its own moved it
/// twice (into the `CatchUnwind`, then into the box).
#[inline(always)]
fn guard<F>(work: F, #[cfg(feature = "telemetry")] span: tracing::Span) -> Work
where
    F: Future<Output = Result<Payload, McpError>> + Send + 'static,
{
    let work = AssertUnwindSafe(work).catch_unwind();
    #[cfg(feature = "telemetry")]
    let work = tracing::Instrument::instrument(work, span);
    Box::pin(work)
}

/// `work`'s outcome, or None once `cancel` fires. Cancellation first: the
/// handler sees the same token and may finish in the same poll, but a
/// cancelled request gets no answer. The token is waited on only when the
/// work has to wait: a handler done in its first poll registers no waiter
/// (a lock to register, one to unregister), and its future (≈ 230 bytes,
/// boxed when made) is no part of every request's future. Made then, it
/// looks at the flag again when first polled, so no cancel is missed.
async fn unless_cancelled<F: Future + Unpin>(work: &mut F, cancel: &Cancel) -> Option<F::Output> {
    let mut cancelled: Option<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = None;
    std::future::poll_fn(|cx| {
        if cancel.is_cancelled() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(done) = Pin::new(&mut *work).poll(cx) {
            return Poll::Ready(Some(done));
        }
        let cancelled = cancelled.get_or_insert_with(|| Box::pin(cancel.cancelled()));
        cancelled.as_mut().poll(cx).map(|()| None)
    })
    .await
}

type Work = Pin<Box<dyn Future<Output = std::thread::Result<Result<Payload, McpError>>> + Send>>;

/// A handler's future that, if dropped before it finished, runs on on a
/// task of its own; for at most the cancellation grace when its request
/// was cancelled by then (a modern client that went away).
struct RunOn(Option<Work>, Cancel);

impl RunOn {
    fn detach(&mut self, limit: Option<std::time::Duration>) {
        let Some(work) = self.0.take() else { return };
        // No runtime (it is shutting down): nothing can run it any more.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        match limit {
            Some(limit) => rt.spawn(async move {
                let _ = tokio::time::timeout(limit, work).await;
            }),
            None => rt.spawn(async move {
                let _ = work.await;
            }),
        };
    }
}

impl Drop for RunOn {
    fn drop(&mut self) {
        let grace = self.1.is_cancelled().then_some(CANCEL_GRACE);
        self.detach(grace);
    }
}

/// A request's method, kept for after the request is gone: the static
/// name of a method the server serves (no copy per request), or a copy.
fn method_name(method: &str) -> std::borrow::Cow<'static, str> {
    const KNOWN: &[&str] = &[
        "tools/call",
        "tools/list",
        "resources/read",
        "resources/list",
        "resources/templates/list",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/get",
        "prompts/list",
        "completion/complete",
        "logging/setLevel",
    ];
    match KNOWN.iter().find(|m| **m == method) {
        Some(m) => std::borrow::Cow::Borrowed(m),
        None => std::borrow::Cow::Owned(method.to_owned()),
    }
}

/// A panicking tool is a failed tool call (`isError`); elsewhere an internal error.
fn panic_outcome(method: &str) -> Result<Payload, McpError> {
    let message = format!("internal error: the handler for {method} panicked");
    if method == "tools/call" {
        Ok(tools::serialize(&crate::model::CallToolResult::error(
            message,
        )))
    } else {
        Err(McpError::internal(message))
    }
}

#[cfg(test)]
mod tests;

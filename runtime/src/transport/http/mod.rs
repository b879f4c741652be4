//! Streamable HTTP (MCP 2025-11-25): one endpoint serving POST, GET and
//! DELETE, as an axum `Router` to mount in any application, plus `serve` /
//! `serve_listener` for the standalone binary, which add the connection
//! limits of `conn` (head, body and idle timeouts, a connection cap).
//!
//! A request whose handler sends nothing before its result is answered with
//! plain `application/json`; the first notification or server→client request
//! upgrades the answer to an SSE stream.

#[cfg(feature = "auth")]
mod auth;
mod body;
mod conn;
mod guard;
mod legacy;
pub mod modern;
mod rate;
mod shared;
mod streams;

use crate::jsonrpc::{self, ErrorObject, Message, Request, RequestId, Response};
use crate::lifecycle;
use crate::server::Server;
use crate::session::{Outbound, Outgoing, Session};
use crate::state::{StateError, StateStore};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::any;
use shared::Shared;
use std::net::SocketAddr;
use std::sync::{Arc, Once, Weak};
use std::task::Poll;
use std::time::Duration;
use streams::{Resume, Streams};
use tokio::sync::mpsc;

pub use legacy::LegacySse;

/// The header carrying the session id (`Mcp-Session-Id`); a browser
/// client behind CORS needs it exposed.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The header carrying the negotiated protocol version.
pub const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
/// The header a client resumes an SSE stream with.
pub const LAST_EVENT_ID_HEADER: &str = "last-event-id";

/// Session-not-found, as the reference implementations answer it.
const SESSION_NOT_FOUND: i64 = -32001;
/// Implementation-defined server error: the session limit is reached.
const TOO_MANY_SESSIONS: i64 = -32000;
/// Implementation-defined server error: the shared state store is away.
const STORE_UNAVAILABLE: i64 = -32002;

/// Settings of the HTTP transport. `HttpConfig::default()` gives the
/// endpoint `/mcp` accepting localhost only; change the fields you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Path of the MCP endpoint.
    pub path: String,
    /// Origins accepted besides localhost ones (`*` accepts any).
    pub allowed_origins: Vec<String>,
    /// Host header names accepted besides localhost ones (`*` accepts any).
    pub allowed_hosts: Vec<String>,
    /// A session with no traffic for this long is ended and freed.
    pub session_idle_timeout: Duration,
    /// Larger bodies get 413.
    pub max_body_bytes: usize,
    /// Sessions open at once, so unauthenticated clients cannot exhaust
    /// memory. At the limit the longest-idle session that is not busy is
    /// ended for a new one (its client gets 404 and initializes again); when
    /// every session is busy, `initialize` gets 503 with `Retry-After`.
    pub max_sessions: usize,
    /// Reconnection delay suggested to clients in SSE `retry` fields.
    pub sse_retry: Duration,
    /// Interval of SSE keep-alive comments.
    pub keep_alive: Duration,
    /// A request head (request line and headers) must arrive within this
    /// long: from accept on a new connection, from its first byte on a
    /// kept-alive one. Applies to [`serve`] / [`serve_listener`].
    pub header_read_timeout: Duration,
    /// A POST body must arrive in full within this long; else 408 and the
    /// connection is closed.
    pub body_read_timeout: Duration,
    /// A kept-alive connection with no request for this long is closed.
    /// Never applies while a response is being sent (SSE streams stay).
    pub idle_timeout: Duration,
    /// Connections open at once; beyond it new ones wait in the kernel's
    /// backlog until one ends. Applies to [`serve`] / [`serve_listener`].
    pub max_connections: usize,
    /// Serve Prometheus metrics at `GET /metrics` beside the endpoint, when
    /// the process switched telemetry on (`--metrics`; docs/telemetry.md).
    #[cfg(feature = "telemetry")]
    pub metrics: bool,
    /// Where 2025-11-25 sessions, SSE event logs and the bus between
    /// instances live, so that instances behind a load balancer share them
    /// (docs/deployment.md); `None` (the default): in this process. The
    /// limits above then count the whole deployment (`max_sessions`) and a
    /// request the store cannot serve gets 503 with `Retry-After`.
    pub state_store: Option<Arc<dyn StateStore>>,
    /// Also serve the deprecated 2024-11-05 HTTP+SSE transport (`GET /sse`,
    /// `POST /messages`) for the oldest clients; `None` (the default): not
    /// served, those paths are 404. Its sessions live on the instance that
    /// opened their stream (docs/deployment.md).
    pub legacy_sse: Option<LegacySse>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            path: "/mcp".into(),
            allowed_origins: vec![],
            allowed_hosts: vec![],
            session_idle_timeout: Duration::from_secs(30 * 60),
            max_body_bytes: 4 * 1024 * 1024,
            max_sessions: 10_000,
            sse_retry: Duration::from_millis(1000),
            keep_alive: Duration::from_secs(15),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            #[cfg(feature = "telemetry")]
            metrics: false,
            state_store: None,
            legacy_sse: None,
        }
    }
}

struct AppState {
    server: Server,
    config: HttpConfig,
    sweeper: Once,
    shared: Option<Arc<Shared>>,
    legacy: Option<legacy::Legacy>,
}

/// The MCP endpoint as a Router, to be merged into an application's own.
/// With [`HttpConfig::state_store`] the server shares its sessions through
/// that store (one store per server).
pub fn router(server: Server, config: HttpConfig) -> Router {
    app(server, config).1
}

/// The endpoint's state, and the Router serving it and the other paths.
fn app(server: Server, config: HttpConfig) -> (Arc<AppState>, Router) {
    let path = config.path.clone();
    #[cfg(feature = "telemetry")]
    let metrics = config.metrics;
    let shared = config.state_store.clone().map(|store| {
        if !server.use_state_store(store.clone()) {
            tracing::warn!("this server already uses another state store; change notifications go through that one");
        }
        Arc::new(Shared::new(store))
    });
    let legacy = config
        .legacy_sse
        .clone()
        .and_then(|l| legacy_paths_ok(&path, l));
    let legacy_paths = legacy
        .as_ref()
        .map(|l| (l.sse_path.clone(), l.messages_path.clone()));
    let state = Arc::new(AppState {
        server,
        config,
        sweeper: Once::new(),
        shared,
        legacy: legacy.map(legacy::Legacy::new),
    });
    let mut r = Router::new().route(&path, any(endpoint));
    if let Some((sse, messages)) = legacy_paths {
        r = r
            .route(&sse, any(legacy_sse))
            .route(&messages, any(legacy_messages));
    }
    #[cfg(feature = "auth")]
    let r = auth::mount(r);
    let router = r.with_state(state.clone());
    #[cfg(feature = "telemetry")]
    let router = if metrics {
        router.merge(crate::telemetry::metrics_router())
    } else {
        router
    };
    (state, router)
}

/// The legacy transport's settings, if its paths can be routed: absolute,
/// and apart from each other and the MCP endpoint (else it is not served).
fn legacy_paths_ok(endpoint: &str, l: LegacySse) -> Option<LegacySse> {
    let paths = [endpoint, &l.sse_path, &l.messages_path];
    let distinct = paths[0] != paths[1] && paths[0] != paths[2] && paths[1] != paths[2];
    let routable = paths
        .iter()
        .all(|p| p.starts_with('/') && !p.contains(['{', '}', '*']));
    if distinct && routable {
        return Some(l);
    }
    tracing::error!(
        sse = l.sse_path,
        messages = l.messages_path,
        "the legacy SSE transport is not served: its paths must be distinct absolute paths without `{{`, `}}` or `*`"
    );
    None
}

/// Bind `addr` and serve until Ctrl-C or SIGTERM.
pub async fn serve(server: Server, addr: SocketAddr, config: HttpConfig) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "MCP server listening on http://{}{}",
        listener.local_addr()?,
        config.path
    );
    serve_listener(listener, server, config, shutdown_signal()).await
}

/// Serve on a bound listener until `shutdown` resolves, with the
/// connection limits and timeouts of `config` (which [`router`] alone,
/// mounted in another server, does not apply).
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    server: Server,
    config: HttpConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = conn::Limits {
        header_read: config.header_read_timeout,
        idle: config.idle_timeout,
        max_connections: config.max_connections,
    };
    let (state, router) = app(server, config);
    // The MCP endpoint's requests go straight to it: through the Router
    // (route matching, its service and response wrappers) each cost ≈ 4k
    // instructions more (docs/benchmarks.md). A path with `{`, `}` or `*`
    // is a pattern to the Router, so it keeps the Router's matching.
    let direct = (!state.config.path.contains(['{', '}', '*'])).then(|| state.config.path.clone());
    let tower = hyper_util::service::TowerToHyperService::new(router);
    let app = move |mut req: hyper::Request<hyper::body::Incoming>, peer| {
        use futures::future::{Either, FutureExt};
        if direct.as_deref() == Some(req.uri().path()) {
            // The client's address goes along as it is: in the request's
            // extensions it would cost them their allocation.
            // Its body stays hyper's own: boxed as an axum `Body`, each of its
            // frames would go through a box and an error map.
            let answer = serve_endpoint(state.clone(), req, Some(peer));
            Either::Left(answer.map(Ok))
        } else {
            // As axum's `into_make_service_with_connect_info` gives it.
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo::<SocketAddr>(peer));
            Either::Right(hyper::service::Service::call(&tower, req))
        }
    };
    conn::serve(listener, app, limits, shutdown).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

impl AppState {
    /// Expire idle sessions in the background; started on first use so that
    /// `router()` needs no runtime.
    fn start_sweeper(self: &Arc<Self>) {
        self.sweeper.call_once(|| {
            let weak: Weak<AppState> = Arc::downgrade(self);
            if let Some(shared) = &self.shared {
                let w = weak.clone();
                shared.store.listen(Arc::new(move |msg| {
                    if let Some(st) = w.upgrade()
                        && let Some(shared) = &st.shared
                    {
                        shared::on_bus(&st, shared, msg);
                    }
                }));
            }
            let timeout = self.config.session_idle_timeout;
            let every = (timeout / 4).clamp(Duration::from_millis(25), Duration::from_secs(30));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let Some(st) = weak.upgrade() else { break };
                    for s in st.server.sessions().take_idle(timeout) {
                        tracing::debug!(session = s.id(), "session expired");
                        end_session(&s);
                    }
                    if let Some(legacy) = &st.legacy {
                        for id in legacy.prune() {
                            legacy::forget(&st, id);
                        }
                    }
                    if let Some(shared) = &st.shared {
                        shared::keep_alive(&st, shared).await;
                    }
                }
            });
        });
    }
}

fn end_session(session: &Session) {
    session.close();
    streams_of(session).close_all();
}

fn streams_of(session: &Session) -> Arc<Streams> {
    session
        .transport_state(|| Arc::new(Streams::default()))
        .clone()
}

/// Give a session its SSE streams (mirrored in the shared store, if any)
/// and route notifications not tied to a request to its standalone
/// stream, pushed there at once (no channel and task per session).
fn attach(st: &AppState, session: &Arc<Session>) {
    if st.shared.is_some() {
        session.randomize_request_ids();
    }
    let streams = session
        .transport_state(|| {
            Arc::new(match &st.shared {
                Some(shared) => shared::mirrored_streams(st, shared, session),
                None => Streams::default(),
            })
        })
        .clone();
    let reach = streams.clone();
    session.set_reachable(move || reach.any_live());
    session.set_notify_sink(move |m| {
        streams.push_standalone(m.to_json());
        true
    });
}

/// 503 with `Retry-After`: the shared store cannot answer now.
#[cold]
#[inline(never)]
fn unavailable(e: &StateError, id: Option<RequestId>) -> HttpResponse {
    tracing::warn!("{e}");
    let mut r = error(
        StatusCode::SERVICE_UNAVAILABLE,
        id,
        STORE_UNAVAILABLE,
        &format!("Service Unavailable: {e}"),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// What every request passes before its endpoint sees it: the Host and
/// Origin checks, authentication (feature `auth`) and the rate limits.
/// `peer`: the client's address, when it is not in the request's
/// extensions.
async fn admitted<B>(
    st: &Arc<AppState>,
    #[cfg_attr(not(feature = "auth"), allow(unused_variables))] req: &mut axum::http::Request<B>,
    peer: Option<SocketAddr>,
) -> Option<HttpResponse> {
    st.start_sweeper();
    let allow = guard::Allow {
        hosts: &st.config.allowed_hosts,
        origins: &st.config.allowed_origins,
    };
    if let Err((status, why)) = allow.check(req.headers(), req.uri()) {
        tracing::warn!("rejected: {why}");
        let reason = status.canonical_reason().unwrap_or("Refused");
        return Some(error(
            status,
            None,
            jsonrpc::INVALID_REQUEST,
            &format!("{reason}: {why}"),
        ));
    }
    #[cfg(feature = "auth")]
    if let Some(refused) = auth::authenticate(st, req).await {
        return Some(refused);
    }
    // The limiter's future (a store's, large) only when it has a limit to
    // apply, and boxed: not part of every request's future.
    if st.server.rate_limiter()?.limits_requests() {
        return Box::pin(rate::check(&st.server, rate::principal(req, peer))).await;
    }
    None
}

/// `GET` of the legacy transport's stream path.
async fn legacy_sse(
    State(st): State<Arc<AppState>>,
    mut req: axum::extract::Request,
) -> HttpResponse {
    if let Some(refused) = admitted(&st, &mut req, None).await {
        return refused;
    }
    match *req.method() {
        Method::GET => legacy::open(st, req).await,
        _ => legacy::not_allowed("GET"),
    }
}

/// `POST` of the legacy transport's message path.
async fn legacy_messages(
    State(st): State<Arc<AppState>>,
    mut req: axum::extract::Request,
) -> HttpResponse {
    if let Some(refused) = admitted(&st, &mut req, None).await {
        return refused;
    }
    match *req.method() {
        Method::POST => legacy::post(st, req).await,
        _ => legacy::not_allowed("POST"),
    }
}

async fn endpoint(State(st): State<Arc<AppState>>, req: axum::extract::Request) -> HttpResponse {
    serve_endpoint(st, req, None).await
}

/// [`endpoint`], told the client's address when it is not in the request.
///
/// An `async` block over the arguments, not an `async fn`: an `async fn`
/// keeps each argument twice in its future (as passed, and as its body's
/// local), and this future is the one hyper moves into place and keeps
/// per connection (the request alone is ≈ 250 bytes).
#[allow(clippy::manual_async_fn)]
fn serve_endpoint<B: RequestBody>(
    st: Arc<AppState>,
    mut req: axum::http::Request<B>,
    peer: Option<SocketAddr>,
) -> impl std::future::Future<Output = HttpResponse> + Send {
    async move {
        if let Some(refused) = admitted(&st, &mut req, peer).await {
            return refused;
        }
        if matches!(*req.method(), Method::GET | Method::DELETE)
            && st.server.serves_protocol_2026()
            && modern::is_modern_stream_request(req.headers())
        {
            // MCP 2026-07-28 has no GET stream and no session to delete.
            let mut r = error(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                jsonrpc::INVALID_REQUEST,
                "Method Not Allowed: MCP 2026-07-28 serves POST only",
            );
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return r;
        }
        match *req.method() {
            Method::POST => post(st, req).await,
            Method::GET => get(st, req.headers()).await,
            Method::DELETE => delete(st, req.headers()).await,
            _ => legacy::not_allowed("GET, POST, DELETE"),
        }
    }
}

/// Out of line, as every refusal below: error paths kept out of the
/// cache lines a served request runs through.
#[cold]
#[inline(never)]
fn error(status: StatusCode, id: Option<RequestId>, code: i64, message: &str) -> HttpResponse {
    json(status, &Response::err(id, ErrorObject::new(code, message)))
}

fn json(status: StatusCode, resp: &Response) -> HttpResponse {
    // Built by hand: axum's tuple `into_response` parses the header value
    // from a `&str` on every answer.
    let mut r = HttpResponse::new(Body::from(resp.to_json_bytes()));
    *r.status_mut() = status;
    let mut headers = HeaderMap::with_capacity(ANSWER_HEADER_ROOM);
    headers.insert(header::CONTENT_TYPE, APPLICATION_JSON);
    *r.headers_mut() = headers;
    r
}

/// The headers an answer's map has room for. hyper parses a connection's
/// next request into the map of the answer before it (emptied, its room
/// kept): a map made for one header has room for six, and a request with
/// more (an MCP 2026-07-28 call: seven) grew it, two allocations and a
/// rehash per request.
const ANSWER_HEADER_ROOM: usize = 12;

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The headers this transport reads, as names: looking one up by `&str`
/// parses and hashes the string on every request.
const SESSION: HeaderName = HeaderName::from_static(SESSION_HEADER);
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static(PROTOCOL_VERSION_HEADER);
const LAST_EVENT_ID: HeaderName = HeaderName::from_static(LAST_EVENT_ID_HEADER);

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the Accept header admits every one of `mimes` (at most two);
/// no header admits anything.
fn accepts(headers: &HeaderMap, mimes: &[&str]) -> bool {
    accept_admits(headers.get(header::ACCEPT), mimes)
}

/// [`accepts`] of the Accept header's value, read as bytes (a `str`
/// split costs several times more; a valid header value is ASCII).
fn accept_admits(value: Option<&HeaderValue>, mimes: &[&str]) -> bool {
    let Some(value) = value else {
        return true;
    };
    // What clients send most: the two types in so many words.
    if let [a, b] = mimes
        && let Some(rest) = value.as_bytes().strip_prefix(a.as_bytes())
        && rest.strip_prefix(b", ") == Some(b.as_bytes())
    {
        return true;
    }
    let Ok(accept) = value.to_str() else {
        return true;
    };
    let mut admitted = [false; 2];
    for part in accept.as_bytes().split(|b| *b == b',') {
        let range = part.split(|b| *b == b';').next().unwrap_or(&[]);
        let range = range.trim_ascii();
        for (seen, mime) in admitted.iter_mut().zip(mimes) {
            *seen = *seen || admits(range, mime.as_bytes());
        }
    }
    mimes.len() <= admitted.len() && admitted.iter().take(mimes.len()).all(|a| *a)
}

/// Whether one media range of an Accept header (`type/sub`, `type/*`,
/// `*/*`) admits `mime`.
fn admits(range: &[u8], mime: &[u8]) -> bool {
    range == mime
        || range == b"*/*"
        || range.strip_suffix(b"/*").is_some_and(|t| {
            mime.strip_prefix(t)
                .is_some_and(|rest| rest.first() == Some(&b'/'))
        })
}

/// The session named by the request (`sid`, its Mcp-Session-Id), or the
/// error response: a missing id is 400, an unknown, expired or deleted one
/// 404. Never creates a session.
async fn find_session(
    st: &AppState,
    sid: Option<&str>,
    id: Option<RequestId>,
) -> Result<Arc<Session>, HttpResponse> {
    let Some(sid) = sid else {
        let message = "Bad Request: the Mcp-Session-Id header is required (initialize first)";
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            id,
            jsonrpc::INVALID_REQUEST,
            message,
        )
        .into_response());
    };
    if st.legacy.as_ref().is_some_and(|l| l.holds(sid)) {
        // A 2024-11-05 session is reached through its own message path.
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            id,
            SESSION_NOT_FOUND,
            "Session not found",
        )
        .into_response());
    }
    let found = match &st.shared {
        None => st.server.sessions().get(sid),
        Some(shared) => match shared::find(st, shared, sid).await {
            Ok(s) => s,
            Err(e) => return Err(unavailable(&e, id)),
        },
    };
    match found {
        Some(s) if !s.is_closed() => Ok(s),
        _ => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            id,
            SESSION_NOT_FOUND,
            "Session not found",
        )
        .into_response()),
    }
}

/// Any supported version is tolerated inside a session; an unknown one is 400.
fn check_version(headers: &HeaderMap, id: Option<RequestId>) -> Result<(), Refusal> {
    check_version_of(header_str(headers, PROTOCOL_VERSION), id)
}

/// [`check_version`] of the MCP-Protocol-Version header's value.
fn check_version_of(version: Option<&str>, id: Option<RequestId>) -> Result<(), Refusal> {
    match version {
        Some(v) if !lifecycle::is_supported(v) => Err(unsupported_version(v, id)),
        _ => Ok(()),
    }
}

#[cold]
#[inline(never)]
fn unsupported_version(v: &str, id: Option<RequestId>) -> Refusal {
    let message = format!(
        "Bad Request: unsupported MCP-Protocol-Version {v:?} (supported: {})",
        lifecycle::SUPPORTED_PROTOCOL_VERSIONS.join(", ")
    );
    Refusal::new(
        StatusCode::BAD_REQUEST,
        id,
        jsonrpc::INVALID_REQUEST,
        &message,
    )
}

/// A request refused before it reaches the protocol core.
struct Refusal {
    status: StatusCode,
    id: Option<RequestId>,
    code: i64,
    message: String,
}

impl Refusal {
    #[cold]
    fn new(status: StatusCode, id: Option<RequestId>, code: i64, message: &str) -> Self {
        Refusal {
            status,
            id,
            code,
            message: message.to_owned(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> HttpResponse {
        error(self.status, self.id, self.code, &self.message)
    }
}

/// Priming events are a 2025-11-25 feature; older clients may choke on them.
fn priming(st: &AppState, session: &Session) -> Option<Duration> {
    let v = session.protocol_version()?;
    (v.as_str() >= "2025-11-25").then_some(st.config.sse_retry)
}

/// A request's body: hyper's own on the direct path, axum's through the Router.
trait RequestBody: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static {}

impl<B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static> RequestBody for B {}

#[cold]
#[inline(never)]
fn unsupported_media_type() -> HttpResponse {
    let msg = "Unsupported Media Type: the body must be application/json";
    error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        None,
        jsonrpc::INVALID_REQUEST,
        msg,
    )
}

/// The body as one message the caller may send, or the refusal (415, 413,
/// 408, 400 with a JSON-RPC parse error, or with `auth` the 403 of a scope
/// the token lacks). `content_type`: the Content-Type header's value;
/// `extensions`: the request's, where the auth layer left the token.
#[cfg_attr(not(feature = "auth"), allow(unused_variables))]
async fn read_message<B: RequestBody>(
    st: &AppState,
    headers: &HeaderMap,
    content_type: Option<&HeaderValue>,
    body: B,
    extensions: &axum::http::Extensions,
) -> Result<Message, HttpResponse> {
    let content_type = content_type.and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type != "application/json"
        && content_type.split(';').next().map(str::trim) != Some("application/json")
    {
        return Err(unsupported_media_type());
    }
    let limit = st.config.max_body_bytes;
    // The length hyper read from the head (the body's exact size); whether
    // the client awaits `100 Continue` matters only to a body refused.
    let length = hyper::body::Body::size_hint(&body).exact();
    let declared = body::Declared {
        length,
        awaits_continue: length.is_some_and(|n| n > limit as u64)
            && header_str(headers, header::EXPECT)
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue")),
    };
    let bytes = body::read(body, declared, limit, st.config.body_read_timeout)
        .await
        .map_err(|e| body_refused(e, limit))?;
    let msg = Message::from_slice_within(&bytes, jsonrpc::values_for_bytes(limit))
        .map_err(|resp| json(StatusCode::BAD_REQUEST, &resp))?;
    #[cfg(feature = "auth")]
    if let Some(refused) = auth::check_call(st, extensions, &msg) {
        return Err(refused);
    }
    Ok(msg)
}

/// The headers a POST reads, found in one pass over the map: a look-up
/// hashes the name every time (≈ 0.1k instructions a standard name, twice
/// that a custom one like Mcp-Session-Id). Each is its first value, as
/// `HeaderMap::get` gives it; and the headers a modern request mirrors its
/// body in, counted (a repeated one is an error there).
#[derive(Default)]
struct PostHeaders<'a> {
    accept: Option<&'a HeaderValue>,
    content_type: Option<&'a HeaderValue>,
    session: Option<&'a HeaderValue>,
    version: Option<&'a HeaderValue>,
    mirrored: modern::Mirrored<'a>,
}

impl<'a> PostHeaders<'a> {
    fn of(headers: &'a HeaderMap) -> Self {
        let mut found = PostHeaders::default();
        for (name, value) in headers {
            let slot = if *name == header::ACCEPT {
                &mut found.accept
            } else if *name == header::CONTENT_TYPE {
                &mut found.content_type
            } else if *name == SESSION {
                &mut found.session
            } else if *name == PROTOCOL_VERSION {
                found.mirrored.version.add(value);
                &mut found.version
            } else if *name == modern::METHOD {
                found.mirrored.method.add(value);
                continue;
            } else if *name == modern::NAME {
                found.mirrored.name.add(value);
                continue;
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        found
    }

    fn session(&self) -> Option<&'a str> {
        self.session.and_then(|v| v.to_str().ok())
    }
}

#[cold]
#[inline(never)]
fn not_acceptable() -> HttpResponse {
    let msg = "Not Acceptable: the client must accept both application/json and text/event-stream";
    error(
        StatusCode::NOT_ACCEPTABLE,
        None,
        jsonrpc::INVALID_REQUEST,
        msg,
    )
}

/// The request taken apart before its future is built: the future keeps
/// the headers (shared), the extensions and the body, not the whole
/// request (≈ 250 bytes) and its parts (≈ 220) besides.
#[inline(always)]
fn post<B: RequestBody>(
    st: Arc<AppState>,
    req: axum::http::Request<B>,
) -> impl std::future::Future<Output = HttpResponse> + Send {
    let (parts, body) = req.into_parts();
    // Shared from the start: the handler gets it (`RequestContext`), and
    // what the one pass below finds in it stays borrowed meanwhile.
    let headers = Arc::new(parts.headers);
    let extensions = parts.extensions;
    async move {
        let found = PostHeaders::of(&headers);
        if !accept_admits(found.accept, &["application/json", "text/event-stream"]) {
            return not_acceptable();
        }
        let msg = match read_message(&st, &headers, found.content_type, body, &extensions).await {
            Ok(m) => m,
            Err(refused) => return refused,
        };
        let request_id = msg.request_id();
        // MCP 2026-07-28: stateless, no session involved.
        let mut msg = match msg {
            Message::Request(r)
                if modern::wants(&st, found.session.is_some(), found.version, &r) =>
            {
                let extensions = handler_extensions(extensions);
                // Bound before it is awaited: a `match` on the `Result` would
                // keep it (the answer's future, ≈ 370 bytes) alongside.
                let answer = match modern::post(&st, &headers, &found.mirrored, r, extensions) {
                    Ok(answer) => answer,
                    Err(refused) => return *refused,
                };
                return answer.await;
            }
            other => other,
        };
        match &msg {
            Message::Request(r) if r.method == "initialize" => {
                return Box::pin(initialize(&st, r.clone())).await;
            }
            // 2026-07-28 defines no client notifications over HTTP: accepted, ignored.
            Message::Notification(n)
                if st.server.serves_protocol_2026()
                    && found.session.is_none()
                    && crate::modern::has_modern_meta(n.params.as_ref()) =>
            {
                return StatusCode::ACCEPTED.into_response();
            }
            _ => {}
        }
        let session = match find_session(&st, found.session(), request_id.clone()).await {
            Ok(s) => s,
            Err(r) => return r,
        };
        let version = found.version.and_then(|v| v.to_str().ok());
        if let Err(r) = check_version_of(version, request_id) {
            return r.into_response();
        }
        if let Some(shared) = st.shared.clone() {
            match Box::pin(shared_message(&st, &shared, &session, msg)).await {
                Ok(r) => return r,
                Err(m) => msg = m,
            }
        }
        match msg {
            Message::Request(r) => request(st, session, r, headers, extensions).await,
            other => {
                // Notifications and responses are acknowledged, not answered.
                let (out, _rx) = Outbound::channel();
                Box::pin(st.server.handle(&session, other, out)).await;
                StatusCode::ACCEPTED.into_response()
            }
        }
    }
}

/// What a shared store changes about a message in a session: requests and
/// notifications that change the session's record write it back before
/// the answer; answers and cancellations go wherever their request is.
/// `Err` hands the message back to the ordinary path.
async fn shared_message(
    st: &AppState,
    shared: &Shared,
    session: &Arc<Session>,
    msg: Message,
) -> Result<HttpResponse, Message> {
    match msg {
        Message::Response(r) => shared::answer(shared, session, r),
        Message::Notification(n) if n.method == "notifications/cancelled" => {
            shared::cancel(shared, session, n.params.as_ref())
        }
        Message::Request(r) if shared::changes_record(&r.method) => {
            let (method, params, id) = (r.method.clone(), r.params.clone(), r.id.clone());
            let (out, _rx) = Outbound::channel();
            let resp = st.server.handle(session, Message::Request(r), out).await;
            let Some(resp) = resp else {
                return Ok(StatusCode::ACCEPTED.into_response());
            };
            if resp.outcome.is_ok()
                && let Err(e) = shared::persist(st, shared, session, &method, params.as_ref()).await
            {
                return Ok(unavailable(&e, Some(id)));
            }
            return Ok(json(StatusCode::OK, &resp));
        }
        Message::Notification(n) if shared::changes_record(&n.method) => {
            let method = n.method.clone();
            let (out, _rx) = Outbound::channel();
            st.server
                .handle(session, Message::Notification(n), out)
                .await;
            if let Err(e) = shared::persist(st, shared, session, &method, None).await {
                return Ok(unavailable(&e, None));
            }
        }
        other => return Err(other),
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// The answer to a body that could not be read; the connection is closed
/// after it, since the rest of the body may still be on its way.
#[cold]
#[inline(never)]
fn body_refused(e: body::BodyError, limit: usize) -> HttpResponse {
    let (status, code, msg) = match e {
        body::BodyError::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            jsonrpc::INVALID_REQUEST,
            format!("Payload Too Large: the limit is {limit} bytes"),
        ),
        body::BodyError::TimedOut => (
            StatusCode::REQUEST_TIMEOUT,
            jsonrpc::INVALID_REQUEST,
            "Request Timeout: the body did not arrive in time".to_owned(),
        ),
        body::BodyError::Broken => (
            StatusCode::BAD_REQUEST,
            jsonrpc::PARSE_ERROR,
            "could not read the request body".to_owned(),
        ),
    };
    let mut r = error(status, None, code, &msg);
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

#[cold]
#[inline(never)]
fn too_many_sessions(st: &AppState, id: Option<RequestId>) -> HttpResponse {
    tracing::warn!(
        max_sessions = st.config.max_sessions,
        "initialize refused: too many open sessions"
    );
    let mut r = error(
        StatusCode::SERVICE_UNAVAILABLE,
        id,
        TOO_MANY_SESSIONS,
        "Too many open sessions; try again later",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// A new session, counted against the limit: this process's, or the
/// deployment's in a shared store.
async fn admit(st: &AppState, id: Option<&RequestId>) -> Result<Arc<Session>, HttpResponse> {
    let max = st.config.max_sessions;
    let Some(shared) = &st.shared else {
        return st
            .server
            .try_create_session(max)
            .ok_or_else(|| too_many_sessions(st, id.cloned()));
    };
    let session = st.server.create_session();
    let idle = st.config.session_idle_timeout;
    let refused = match shared.store.admit(session.id(), max, idle).await {
        Ok(crate::state::Admitted::Yes { evicted }) => {
            if let Some(old) = evicted {
                tracing::debug!(session = old, "session ended to make room for a new one");
                if let Err(e) = shared::end_everywhere(shared, &old).await {
                    tracing::warn!("evicted session {old} not ended: {e}");
                }
            }
            return Ok(session);
        }
        Ok(crate::state::Admitted::Full) => too_many_sessions(st, id.cloned()),
        Err(e) => unavailable(&e, id.cloned()),
    };
    st.server.close_session(session.id());
    Err(refused)
}

/// End a session `initialize` did not open.
async fn abandon(st: &AppState, session: &Session) {
    st.server.close_session(session.id());
    if let Some(shared) = &st.shared
        && let Err(e) = shared.store.end(session.id()).await
    {
        tracing::debug!("abandoned session {} left to expire: {e}", session.id());
    }
}

async fn initialize(st: &AppState, req: Request) -> HttpResponse {
    let id = req.id.clone();
    let session = match admit(st, Some(&id)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (out, _rx) = Outbound::channel();
    let Some(resp) = st.server.handle(&session, Message::Request(req), out).await else {
        abandon(st, &session).await;
        return StatusCode::ACCEPTED.into_response();
    };
    if resp.outcome.is_err() {
        abandon(st, &session).await;
        return json(StatusCode::OK, &resp);
    }
    attach(st, &session);
    if let Some(shared) = &st.shared
        && let Err(e) = shared::persist(st, shared, &session, "initialize", None).await
    {
        abandon(st, &session).await;
        return unavailable(&e, Some(id));
    }
    let mut r = json(StatusCode::OK, &resp);
    if let Ok(v) = HeaderValue::from_str(session.id()) {
        r.headers_mut().insert(SESSION_HEADER, v);
    }
    r
}

/// The handler's future is boxed before this one is built, which keeps
/// only what the answer needs (not the request, the session twice…).
#[inline(always)]
fn request(
    st: Arc<AppState>,
    session: Arc<Session>,
    req: Request,
    headers: Arc<HeaderMap>,
    extensions: axum::http::Extensions,
) -> impl std::future::Future<Output = HttpResponse> + Send {
    let (out, mut rx) = Outbound::channel();
    // What the handler may see of the request's extensions (the caller's
    // `AuthInfo`); nothing else crosses over.
    let extensions = handler_extensions(extensions);
    let request_id = req.id.clone();
    // Polled here, in the connection's task; moved to a task of its own only
    // when the answer becomes an SSE stream. (The handler runs on its own
    // task either way, see `server::run_guarded`.)
    let mut handling =
        Box::pin(
            st.server
                .handle_request(session.clone(), req, out, Some(headers), extensions),
        );

    async move {
        // Plain JSON unless something must be sent before the result.
        let first = done_or_first_sent(&mut handling, &mut rx).await;
        let first = match first {
            Ok(o) => o,
            Err(resp) => match rx.try_recv() {
                Err(_) => {
                    return match resp {
                        Some(r) => json(StatusCode::OK, &r),
                        None => StatusCode::ACCEPTED.into_response(), // cancelled: no response
                    };
                }
                Ok(o) => return streamed_after(&st, &session, &request_id, o, rx, resp),
            },
        };
        let Some(first) = first else {
            // Every sender is gone, so the handler has returned.
            return match handling.await {
                Some(r) => json(StatusCode::OK, &r),
                None => StatusCode::ACCEPTED.into_response(),
            };
        };
        streamed(&st, &session, &request_id, first, rx, handling)
    }
}

/// What a request's handler does first: finish (`Err`, its response), or
/// send something (`Ok`, None once every sender is gone). The handler is
/// polled first: most finish in their first poll, and then the channel is
/// only looked at, never waited on (no waker registered, no `select!`);
/// whatever they sent before finishing is in it either way, for the caller
/// to take first. Both eras' answers start with this.
fn done_or_first_sent<'a, F>(
    handling: &'a mut std::pin::Pin<Box<F>>,
    rx: &'a mut crate::session::Inbox,
) -> impl std::future::Future<Output = Result<Option<Outgoing>, Option<Response>>> + 'a
where
    F: std::future::Future<Output = Option<Response>> + ?Sized,
{
    std::future::poll_fn(move |cx| match handling.as_mut().poll(cx) {
        Poll::Ready(resp) => Poll::Ready(Err(resp)),
        Poll::Pending => rx.poll_recv(cx).map(Ok),
    })
}

/// The SSE answer of a handler that sent `first` before it finished with
/// `resp`. Out of line, as [`streamed`]: the plain JSON answer's code is
/// kept compact.
#[inline(never)]
fn streamed_after(
    st: &AppState,
    session: &Arc<Session>,
    request_id: &RequestId,
    first: Outgoing,
    mut rx: crate::session::Inbox,
    resp: Option<Response>,
) -> HttpResponse {
    let (id, body) = open_stream(st, session, request_id);
    let streams = streams_of(session);
    forward(&streams, id, first);
    while let Ok(o) = rx.try_recv() {
        forward(&streams, id, o);
    }
    complete(&streams, id, resp);
    sse(st, session, body)
}

/// The SSE answer of a handler still running after it sent `first`: it
/// is driven on a task of its own from here.
#[inline(never)]
fn streamed<F>(
    st: &AppState,
    session: &Arc<Session>,
    request_id: &RequestId,
    first: Outgoing,
    mut rx: crate::session::Inbox,
    mut handling: std::pin::Pin<Box<F>>,
) -> HttpResponse
where
    F: std::future::Future<Output = Option<Response>> + Send + 'static,
{
    let (id, body) = open_stream(st, session, request_id);
    let streams = streams_of(session);
    forward(&streams, id, first);
    // The handler runs on even if the client drops the connection: the events
    // are kept for resumption. Cancellation is explicit (notifications/cancelled).
    tokio::spawn(async move {
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                o = rx.recv(), if open => match o {
                    Some(o) => forward(&streams, id, o),
                    None => open = false,
                },
                resp = &mut handling => {
                    while let Ok(o) = rx.try_recv() {
                        forward(&streams, id, o);
                    }
                    complete(&streams, id, resp);
                    break;
                }
            }
        }
    });
    sse(st, session, body)
}

#[cfg(feature = "auth")]
fn handler_extensions(from: axum::http::Extensions) -> axum::http::Extensions {
    let mut e = axum::http::Extensions::new();
    if let Some(info) = from.get::<crate::auth::AuthInfo>() {
        e.insert(info.clone());
    }
    e
}

#[cfg(not(feature = "auth"))]
fn handler_extensions(_: axum::http::Extensions) -> axum::http::Extensions {
    axum::http::Extensions::new()
}

fn open_stream(
    st: &AppState,
    session: &Session,
    request: &RequestId,
) -> (u64, mpsc::UnboundedReceiver<Bytes>) {
    streams_of(session).open(priming(st, session), Some(request))
}

fn forward(streams: &Streams, id: u64, o: Outgoing) {
    match o {
        Outgoing::Message(m) => streams.push(id, m.to_json()),
        Outgoing::CloseStream { retry } => streams.disconnect(id, retry),
    }
}

fn complete(streams: &Streams, id: u64, resp: Option<Response>) {
    if let Some(r) = resp {
        streams.push(id, Message::Response(r).to_json());
    }
    streams.finish(id);
}

/// An SSE response fed by `rx`, with keep-alive comments that also keep the
/// session from expiring while the client listens. Ends when the stream is
/// finished or disconnected, or the session ends.
fn sse(
    st: &AppState,
    session: &Arc<Session>,
    mut rx: mpsc::UnboundedReceiver<Bytes>,
) -> HttpResponse {
    sse_of(
        st,
        session,
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx)),
    )
}

/// [`sse`] fed by any stream of frames (the legacy transport's is bounded).
fn sse_of(
    st: &AppState,
    session: &Arc<Session>,
    frames: impl futures::Stream<Item = Bytes> + Send + Unpin + 'static,
) -> HttpResponse {
    let every = st.config.keep_alive;
    let session = Arc::downgrade(session);
    let stream = futures::stream::unfold((frames, session), move |(mut rx, session)| async move {
        let closed = session.upgrade()?.closed();
        tokio::select! {
            item = futures::StreamExt::next(&mut rx) => {
                // A client listening to a busy stream is active.
                if let Some(s) = session.upgrade() {
                    s.touch();
                }
                item.map(|b| (Ok::<_, std::convert::Infallible>(b), (rx, session)))
            }
            _ = closed.cancelled() => None,
            _ = tokio::time::sleep(every) => {
                if let Some(s) = session.upgrade() {
                    s.touch();
                }
                Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (rx, session)))
            }
        }
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn get(st: Arc<AppState>, headers: &HeaderMap) -> HttpResponse {
    if !accepts(headers, &["text/event-stream"]) {
        let msg = "Not Acceptable: GET opens an SSE stream; accept text/event-stream";
        return error(
            StatusCode::NOT_ACCEPTABLE,
            None,
            jsonrpc::INVALID_REQUEST,
            msg,
        );
    }
    let session = match find_session(&st, header_str(headers, SESSION), None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = check_version(headers, None) {
        return r.into_response();
    }
    let streams = streams_of(&session);
    if let Some(last) = header_str(headers, LAST_EVENT_ID) {
        let known_here = streams::parse_event_id(last).is_some_and(|(id, _)| streams.knows(id));
        let resumed = match &st.shared {
            Some(shared) if !known_here => match shared::resume(shared, &session, last).await {
                Ok(r) => r,
                Err(e) => return unavailable(&e, None),
            },
            _ => match streams.resume(last) {
                Resume::Attached(rx) => shared::Resumed::Attached(rx),
                Resume::UnknownEvent => shared::Resumed::Unknown,
            },
        };
        return match resumed {
            shared::Resumed::Attached(rx) => sse(&st, &session, rx),
            shared::Resumed::Unknown => {
                let msg = format!("Bad Request: unknown Last-Event-ID {last:?}");
                error(
                    StatusCode::BAD_REQUEST,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    &msg,
                )
            }
            shared::Resumed::Conflict => get_conflict(),
        };
    }
    match streams.open_standalone(priming(&st, &session)) {
        Some(rx) => sse(&st, &session, rx),
        None => get_conflict(),
    }
}

fn get_conflict() -> HttpResponse {
    let msg = "Conflict: this session already has an open GET stream";
    error(StatusCode::CONFLICT, None, jsonrpc::INVALID_REQUEST, msg)
}

async fn delete(st: Arc<AppState>, headers: &HeaderMap) -> HttpResponse {
    let session = match find_session(&st, header_str(headers, SESSION), None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(shared) = &st.shared
        && let Err(e) = shared::end_everywhere(shared, session.id()).await
    {
        return unavailable(&e, None);
    }
    st.server.sessions().remove(session.id());
    end_session(&session);
    StatusCode::OK.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// hyper parses the next request into the answer's emptied map: room
    /// for an MCP 2026-07-28 call's seven headers and a few more.
    #[test]
    fn an_answer_has_room_for_the_next_requests_headers() {
        let resp = Response::ok(RequestId::Number(1), serde_json::json!({}));
        let r = json(StatusCode::OK, &resp);
        assert!(
            r.headers().capacity() >= ANSWER_HEADER_ROOM,
            "{}",
            r.headers().capacity()
        );
        assert_eq!(r.headers().len(), 1);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
    }

    /// The POST's one pass over the headers finds what a look-up of each
    /// finds, and the mirrored ones as their own pass counts them.
    #[test]
    fn the_post_pass_finds_what_look_ups_find() {
        let cases: &[&[(&str, &[u8])]] = &[
            &[],
            &[
                ("host", b"localhost"),
                ("mcp-protocol-version", b"2026-07-28"),
                ("mcp-method", b"tools/call"),
                ("mcp-name", b"echo"),
            ],
            &[
                ("MCP-Protocol-Version", b"2026-07-28"),
                ("mcp-protocol-version", b"2025-11-25"),
                ("Accept", b"text/html"),
                ("accept", b"*/*"),
            ],
            &[
                ("mcp-method", b"a"),
                ("Mcp-Method", b"b"),
                ("mcp-name", b"x"),
                ("mcp-name", b"x"),
                ("mcp-name", b"y"),
            ],
            &[
                ("content-type", b"application/json"),
                ("mcp-session-id", b"s1"),
                ("mcp-session-id", b"s2"),
                ("mcp-name", b"\xe9cho"),
                ("mcp-param-name", b"1"),
                ("mcp-names", b"1"),
                ("mcp-method-x", b"1"),
            ],
        ];
        for pairs in cases {
            let mut h = HeaderMap::new();
            for (k, v) in *pairs {
                h.append(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_bytes(v).unwrap(),
                );
            }
            let found = PostHeaders::of(&h);
            assert_eq!(found.accept, h.get(header::ACCEPT), "{pairs:?}");
            assert_eq!(found.content_type, h.get(header::CONTENT_TYPE));
            assert_eq!(found.session, h.get(SESSION));
            assert_eq!(found.version, h.get(PROTOCOL_VERSION));
            assert_eq!(found.mirrored, modern::Mirrored::of(&h), "{pairs:?}");
        }
    }

    #[test]
    fn accept_headers_admit_each_type_by_name_or_wildcard() {
        let both = ["application/json", "text/event-stream"];
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            h
        };
        assert!(
            accepts(&HeaderMap::new(), &both),
            "no Accept admits anything"
        );
        assert!(accepts(&with("application/json, text/event-stream"), &both));
        assert!(!accepts(
            &with("application/json, text/event-streams"),
            &both
        ));
        assert!(accepts(&with("text/event-stream, application/json"), &both));
        assert!(accepts(
            &with("text/event-stream;q=0.5,application/*"),
            &both
        ));
        assert!(accepts(&with("*/*"), &both));
        assert!(!accepts(&with("application/json"), &both));
        assert!(!accepts(&with("text/html, application/jsonx"), &both));
        assert!(!accepts(&with("app/*, text/event-streams"), &both));
        assert!(accepts(&with("text/*"), &["text/event-stream"]));
        assert!(!accepts(&with("text/html"), &["text/event-stream"]));
    }
}

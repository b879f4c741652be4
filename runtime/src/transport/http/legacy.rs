//! The deprecated 2024-11-05 "HTTP with SSE" transport, for the oldest MCP
//! clients; off unless [`HttpConfig::legacy_sse`] is set (`--legacy-sse`).
//!
//! `GET /sse` opens a session and its one SSE stream, whose first event is
//! `event: endpoint` naming `/messages?sessionId=…`; the client POSTs each
//! JSON-RPC message there and gets `202 Accepted`; every response,
//! notification and server→client request goes down the stream as
//! `event: message`. The session is an ordinary 2025-era session of
//! [`Server::handle`](crate::server::Server::handle): this module frames
//! messages and nothing else. The stream ending ends the session and
//! cancels what it still runs.
//!
//! Between the session and the stream sits a bounded queue of
//! [`LegacySse::queue`] messages: a client that reads so slowly that it
//! fills up has its session ended (requests in flight cancelled, the
//! stream closed, 404 on its next POST), so that a slow reader costs at
//! most that queue and the socket's buffers.
//!
//! The stream lives on the instance that opened it: with a shared state
//! store the legacy transport needs session affinity (docs/deployment.md).
//!
//! [`HttpConfig::legacy_sse`]: super::HttpConfig::legacy_sse

use super::{AppState, Refusal, check_version, error, read_message};
use crate::jsonrpc::{self, Message, Request};
use crate::session::{Inbox, Outbound, Outgoing, Session};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::mpsc;

/// Where the 2024-11-05 transport is served, and how much it may queue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LegacySse {
    /// Path of the SSE stream a client opens with GET (`/sse`).
    pub sse_path: String,
    /// Path the client POSTs its messages to (`/messages`), named to it
    /// in the stream's `endpoint` event with `?sessionId=…`, as it is
    /// (an absolute path): merge the router at the root, since nested
    /// under a prefix it would name a path without the prefix.
    pub messages_path: String,
    /// Messages queued for one stream; a client that falls this far
    /// behind has its session ended.
    pub queue: usize,
}

impl Default for LegacySse {
    fn default() -> Self {
        LegacySse {
            sse_path: "/sse".into(),
            messages_path: "/messages".into(),
            queue: 1024,
        }
    }
}

/// The legacy sessions of this instance, by id.
pub(super) struct Legacy {
    pub(super) config: LegacySse,
    links: Mutex<HashMap<String, Arc<Link>>>,
}

/// One open stream: its session, the channel into its queue, and who
/// opened it (only they may post to it).
struct Link {
    session: Arc<Session>,
    out: Outbound,
    subject: Option<String>,
}

impl Legacy {
    pub(super) fn new(config: LegacySse) -> Legacy {
        Legacy {
            config,
            links: Mutex::new(HashMap::new()),
        }
    }

    fn links(&self) -> MutexGuard<'_, HashMap<String, Arc<Link>>> {
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `id` names a session of this transport (not to be used on
    /// the Streamable HTTP endpoint).
    pub(super) fn holds(&self, id: &str) -> bool {
        self.links().contains_key(id)
    }

    /// Forget the links of sessions ended meanwhile (expired, evicted,
    /// ended by a full queue) whose stream has not noticed yet.
    pub(super) fn prune(&self) -> Vec<String> {
        let mut links = self.links();
        let gone: Vec<String> = links
            .iter()
            .filter(|(_, l)| l.session.is_closed())
            .map(|(id, _)| id.clone())
            .collect();
        for id in &gone {
            links.remove(id);
        }
        gone
    }
}

/// The subject the request authenticated as, if auth is on.
fn subject(ext: &axum::http::Extensions) -> Option<String> {
    #[cfg(feature = "auth")]
    if let Some(info) = ext.get::<crate::auth::AuthInfo>() {
        return Some(info.subject.clone());
    }
    let _ = ext;
    None
}

/// `GET /sse`: a new session (counted against the session limit) and its
/// stream, which starts with the `endpoint` event.
pub(super) async fn open(st: Arc<AppState>, req: axum::extract::Request) -> HttpResponse {
    let Some(legacy) = &st.legacy else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !super::accepts(req.headers(), &["text/event-stream"]) {
        let msg = "Not Acceptable: GET opens an SSE stream; accept text/event-stream";
        return error(
            StatusCode::NOT_ACCEPTABLE,
            None,
            jsonrpc::INVALID_REQUEST,
            msg,
        );
    }
    let session = match super::admit(&st, None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (out, inbox) = Outbound::channel();
    let (tx, mut rx) = mpsc::channel(legacy.config.queue.max(2));
    let endpoint = format!("{}?sessionId={}", legacy.config.messages_path, session.id());
    // Room for it: the channel is new and holds at least two.
    let _ = tx.try_send(frame("endpoint", &endpoint));
    session.set_notifier(Some(out.clone()));
    let reach = tx.clone();
    session.set_reachable(move || !reach.is_closed());
    let link = Arc::new(Link {
        session: session.clone(),
        out,
        subject: subject(req.extensions()),
    });
    legacy.links().insert(session.id().to_owned(), link);
    tokio::spawn(pump(inbox, tx, session.clone(), legacy.config.queue));
    let ends = EndOnDrop {
        st: Arc::downgrade(&st),
        session: session.clone(),
    };
    // The guard lives as long as the stream: dropped with it.
    let frames = futures::stream::poll_fn(move |cx| {
        let _ends = &ends;
        rx.poll_recv(cx)
    });
    super::sse_of(&st, &session, frames)
}

/// Move the session's messages into the stream's bounded queue, as SSE
/// frames; a full queue ends the session.
async fn pump(mut inbox: Inbox, tx: mpsc::Sender<Bytes>, session: Arc<Session>, queue: usize) {
    let closed = session.closed();
    loop {
        let o = tokio::select! {
            o = inbox.recv() => o,
            _ = closed.cancelled() => return,
        };
        let Some(o) = o else { return };
        let Outgoing::Message(m) = o else { continue };
        match tx.try_send(frame("message", &m.to_json())) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    session = session.id(),
                    queue,
                    "legacy SSE client reads too slowly: its session is ended"
                );
                session.close();
                return;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
    }
}

/// One SSE event of the 2024-11-05 transport (`data` is one line).
fn frame(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// Ends the session when its stream is dropped (the client went away, or
/// the session ended and the stream with it).
struct EndOnDrop {
    st: Weak<AppState>,
    session: Arc<Session>,
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        let id = self.session.id().to_owned();
        tracing::debug!(session = id, "legacy SSE stream closed: session ended");
        self.session.close();
        let Some(st) = self.st.upgrade() else { return };
        if let Some(legacy) = &st.legacy {
            legacy.links().remove(&id);
        }
        forget(&st, id);
    }
}

/// Remove an ended session from the store (and the shared one, if any).
pub(super) fn forget(st: &Arc<AppState>, id: String) {
    st.server.close_session(&id);
    if let Some(shared) = st.shared.clone()
        && let Ok(rt) = tokio::runtime::Handle::try_current()
    {
        rt.spawn(async move {
            if let Err(e) = shared.store.end(&id).await {
                tracing::debug!("legacy session {id} left to expire in the store: {e}");
            }
        });
    }
}

/// The link a POST names with `?sessionId=`, or the refusal: none is 400,
/// an unknown or ended one (or one opened by someone else) 404.
fn find(legacy: &Legacy, req: &axum::extract::Request) -> Result<Arc<Link>, Refusal> {
    let id = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("sessionId="));
    let Some(id) = id.filter(|id| !id.is_empty()) else {
        let msg =
            "Bad Request: the sessionId query parameter is required (open the SSE stream first)";
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            None,
            jsonrpc::INVALID_REQUEST,
            msg,
        ));
    };
    let link = legacy.links().get(id).cloned();
    match link {
        Some(l) if !l.session.is_closed() && l.subject == subject(req.extensions()) => {
            l.session.touch();
            Ok(l)
        }
        _ => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            None,
            super::SESSION_NOT_FOUND,
            "Session not found",
        )),
    }
}

/// `POST /messages?sessionId=…`: one message for the session, answered
/// 202; what it causes goes down the stream.
pub(super) async fn post(st: Arc<AppState>, req: axum::extract::Request) -> HttpResponse {
    let Some(legacy) = &st.legacy else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let link = match find(legacy, &req) {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let (parts, body) = req.into_parts();
    let content_type = parts.headers.get(axum::http::header::CONTENT_TYPE);
    let msg = match read_message(&st, &parts.headers, content_type, body, &parts.extensions).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Err(r) = check_version(&parts.headers, msg.request_id()) {
        return r.into_response();
    }
    match msg {
        Message::Request(r) => {
            let headers = Arc::new(parts.headers);
            let extensions = super::handler_extensions(parts.extensions);
            tokio::spawn(request(st.clone(), link, r, headers, extensions));
        }
        other => {
            let method = match &other {
                Message::Notification(n) => Some(n.method.clone()),
                _ => None,
            };
            if let Some(resp) = st
                .server
                .handle(&link.session, other, link.out.clone())
                .await
            {
                link.out.send(Message::Response(resp));
            }
            if let Some(m) = method {
                persist(&st, &link.session, &m, None).await;
            }
        }
    }
    StatusCode::ACCEPTED.into_response()
}

/// Run one request of the session; its answer goes down the stream.
async fn request(
    st: Arc<AppState>,
    link: Arc<Link>,
    req: Request,
    headers: Arc<HeaderMap>,
    extensions: axum::http::Extensions,
) {
    let (method, params) = (req.method.clone(), req.params.clone());
    let resp = st
        .server
        .handle_with_extensions(
            &link.session,
            Message::Request(req),
            link.out.clone(),
            Some(headers),
            extensions,
        )
        .await;
    let Some(resp) = resp else { return };
    let ok = resp.outcome.is_ok();
    link.out.send(Message::Response(resp));
    if ok {
        persist(&st, &link.session, &method, params.as_ref()).await;
    }
}

/// With a shared store, write back what a message changed in the
/// session's record, so that `resources/updated` published by any
/// instance finds its subscribers.
async fn persist(
    st: &AppState,
    session: &Session,
    method: &str,
    params: Option<&serde_json::Value>,
) {
    let Some(shared) = &st.shared else { return };
    if !super::shared::changes_record(method) {
        return;
    }
    if let Err(e) = super::shared::persist(st, shared, session, method, params).await {
        tracing::warn!(
            session = session.id(),
            "legacy session record not saved: {e}"
        );
    }
}

/// 405 for a method a legacy path does not serve, with its `Allow` header.
pub(super) fn not_allowed(allow: &'static str) -> HttpResponse {
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        jsonrpc::INVALID_REQUEST,
        "Method not allowed",
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

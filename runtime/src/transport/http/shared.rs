//! The HTTP transport over a shared [`StateStore`] (docs/deployment.md):
//! what lets any instance behind a round-robin load balancer serve any
//! request of a 2025-11-25 session. Used only when one is configured
//! ([`super::HttpConfig::state_store`]); without it nothing here runs.
//!
//! - a request loads the session's record (404 when the store has none),
//!   and the requests that change it write it back before answering;
//! - a client resuming a stream this instance does not know gets it from
//!   the store's log, then follows the events its instance publishes;
//! - answers to server→client requests and `notifications/cancelled` go
//!   to the bus when no local request is waiting for them;
//! - the bus delivers notifications to the GET streams held here, the
//!   end of sessions, and `tasks/cancel` of tasks running here.

use super::streams::{Mirror, Streams, encode, parse_event_id, replayable};
use super::{AppState, end_session, streams_of};
use crate::jsonrpc::{ErrorObject, Message, RequestId, Response};
use crate::session::Session;
use crate::state::{BusMessage, StateError, StateStore};
use axum::body::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;

/// What a stream resumed here gets from the instance producing it.
enum Tail {
    Event(u64, String),
    Finished,
}

type TailKey = (String, u64);

/// The shared store and what this instance follows through it.
pub(super) struct Shared {
    pub(super) store: Arc<dyn StateStore>,
    /// Streams of other instances resumed by clients connected here.
    tails: Mutex<HashMap<TailKey, mpsc::UnboundedSender<Tail>>>,
    /// Held while a local copy of a session is made, so that concurrent
    /// requests of one session share one copy.
    creating: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(super) fn new(store: Arc<dyn StateStore>) -> Shared {
        Shared {
            store,
            tails: Mutex::new(HashMap::new()),
            creating: Mutex::new(()),
        }
    }

    fn untail(&self, key: &TailKey, tx: &mpsc::UnboundedSender<Tail>) {
        let mut tails = lock(&self.tails);
        if tails.get(key).is_some_and(|t| t.same_channel(tx)) {
            tails.remove(key);
        }
    }
}

/// The SSE streams of a session whose events the store keeps too.
pub(super) fn mirrored_streams(st: &AppState, shared: &Shared, session: &Session) -> Streams {
    Streams::mirrored(Mirror {
        store: shared.store.clone(),
        session: session.id().to_owned(),
        ttl: st.config.session_idle_timeout,
    })
}

/// The session as the store has it, with this instance's copy (made now
/// if there is none). None: the store does not know it (never, ended,
/// expired), and a local copy is ended.
pub(super) async fn find(
    st: &AppState,
    shared: &Shared,
    id: &str,
) -> Result<Option<Arc<Session>>, StateError> {
    let idle = st.config.session_idle_timeout;
    let Some(record) = shared.store.load(id, idle).await? else {
        if let Some(local) = st.server.sessions().remove(id) {
            end_session(&local);
        }
        return Ok(None);
    };
    let session = {
        let _creating = lock(&shared.creating);
        match st.server.sessions().get(id) {
            Some(s) if !s.is_closed() => s,
            _ => {
                let s = Arc::new(Session::new(id.to_owned()));
                super::attach(st, &s);
                st.server.sessions().insert(s.clone());
                s
            }
        }
    };
    session.apply_record(record);
    Ok(Some(session))
}

/// Whether handling `method` changes the session's record.
pub(super) fn changes_record(method: &str) -> bool {
    matches!(
        method,
        "initialize"
            | "notifications/initialized"
            | "logging/setLevel"
            | "resources/subscribe"
            | "resources/unsubscribe"
    )
}

/// Write back what `method` (handled, successfully) changed.
pub(super) async fn persist(
    st: &AppState,
    shared: &Shared,
    session: &Session,
    method: &str,
    params: Option<&Value>,
) -> Result<(), StateError> {
    let uri = || params.and_then(|p| p.get("uri")).and_then(Value::as_str);
    match (method, uri()) {
        ("resources/subscribe", Some(uri)) => shared.store.subscribe(session.id(), uri, true).await,
        ("resources/unsubscribe", Some(uri)) => {
            shared.store.subscribe(session.id(), uri, false).await
        }
        ("resources/subscribe" | "resources/unsubscribe", None) => Ok(()),
        _ => {
            let idle = st.config.session_idle_timeout;
            shared
                .store
                .save(session.id(), &session.record(), idle)
                .await
        }
    }
}

/// The client's answer to a server→client request: resolved here, or
/// published for the instance whose handler awaits it.
pub(super) fn answer(shared: &Shared, session: &Session, response: Response) {
    let value = Message::Response(response.clone()).to_value();
    if !session.resolve(response) {
        shared.store.publish(BusMessage::Answer {
            s: session.id().to_owned(),
            response: value,
        });
    }
}

/// `notifications/cancelled`: here, or wherever the request runs.
pub(super) fn cancel(shared: &Shared, session: &Session, params: Option<&Value>) {
    let Some(request) = params.and_then(|p| p.get("requestId")).cloned() else {
        return;
    };
    let here = serde_json::from_value::<RequestId>(request.clone())
        .is_ok_and(|id| session.cancel_request(&id));
    if !here {
        shared.store.publish(BusMessage::Cancel {
            s: session.id().to_owned(),
            request,
        });
    }
}

/// End a session on every instance.
pub(super) async fn end_everywhere(shared: &Shared, id: &str) -> Result<bool, StateError> {
    let existed = shared.store.end(id).await?;
    shared.store.publish(BusMessage::Ended { s: id.to_owned() });
    Ok(existed)
}

/// What [`resume`] found.
pub(super) enum Resumed {
    Attached(mpsc::UnboundedReceiver<Bytes>),
    Unknown,
    /// A standalone stream, and a GET stream of the session is open here.
    Conflict,
}

/// Resume a stream another instance served: replay it from the log, then
/// follow it until it finishes (a request stream), or go on with this
/// instance's GET stream (the standalone one).
pub(super) async fn resume(
    shared: &Arc<Shared>,
    session: &Session,
    last_event_id: &str,
) -> Result<Resumed, StateError> {
    let Some((stream, seq)) = parse_event_id(last_event_id) else {
        return Ok(Resumed::Unknown);
    };
    // Follow before reading the log, so that no event falls in between.
    let key = (session.id().to_owned(), stream);
    let (tail_tx, tail_rx) = mpsc::unbounded_channel();
    lock(&shared.tails).insert(key.clone(), tail_tx.clone());
    let log = match shared.store.replay(session.id(), stream).await {
        Ok(Some(log)) => log,
        other => {
            shared.untail(&key, &tail_tx);
            return other.map(|_| Resumed::Unknown);
        }
    };
    let next = log.events.last().map_or(0, |e| e.seq + 1);
    if !replayable(seq, log.events.first().map(|e| e.seq), next) {
        shared.untail(&key, &tail_tx);
        return Ok(Resumed::Unknown);
    }
    let frames: Vec<Bytes> = log
        .events
        .iter()
        .filter(|e| e.seq > seq && !e.data.is_empty())
        .map(|e| encode(&format!("{stream}_{}", e.seq), None, &e.data))
        .collect();
    if log.standalone || log.finished {
        shared.untail(&key, &tail_tx);
    }
    if log.standalone {
        return Ok(
            match streams_of(session).open_standalone_after(None, frames) {
                Some(rx) => Resumed::Attached(rx),
                None => Resumed::Conflict,
            },
        );
    }
    let (tx, rx) = mpsc::unbounded_channel();
    for f in frames {
        let _ = tx.send(f);
    }
    if !log.finished {
        let following = Following {
            shared: shared.clone(),
            key,
            tail_tx,
            owner: log.owner,
            request: log.request,
        };
        tokio::spawn(following.run(tail_rx, tx, next.max(seq + 1)));
    }
    Ok(Resumed::Attached(rx))
}

/// How often a follower asks whether the stream's instance still runs.
const OWNER_CHECK: Duration = Duration::from_secs(2);

/// A stream resumed here while another instance runs its request.
struct Following {
    shared: Arc<Shared>,
    key: TailKey,
    tail_tx: mpsc::UnboundedSender<Tail>,
    /// The instance running the request.
    owner: Option<String>,
    /// The request's id, to answer it with an error if that instance dies.
    request: Option<Value>,
}

impl Following {
    /// Forward the stream's new events (from `next` on) until it finishes,
    /// the client goes away, or its instance dies (then the request gets
    /// an error, so that the client can send it again).
    async fn run(
        self,
        mut tail: mpsc::UnboundedReceiver<Tail>,
        out: mpsc::UnboundedSender<Bytes>,
        mut next: u64,
    ) {
        let mut check = tokio::time::interval(OWNER_CHECK);
        loop {
            let item = tokio::select! {
                item = tail.recv() => item,
                _ = out.closed() => None,
                _ = check.tick() => {
                    if self.owner_died().await {
                        let _ = out.send(self.owner_gone(next));
                        break;
                    }
                    continue;
                }
            };
            match item {
                Some(Tail::Event(seq, data)) if seq >= next => {
                    next = seq + 1;
                    let frame = encode(&format!("{}_{seq}", self.key.1), None, &data);
                    if data.is_empty() || out.send(frame).is_ok() {
                        continue;
                    }
                    break;
                }
                Some(Tail::Event(..)) => {}
                Some(Tail::Finished) | None => break,
            }
        }
        self.shared.untail(&self.key, &self.tail_tx);
    }

    /// Whether the store says the owner stopped (not when it cannot say).
    async fn owner_died(&self) -> bool {
        match &self.owner {
            Some(owner) => matches!(self.shared.store.alive(owner).await, Ok(false)),
            None => false,
        }
    }

    /// The error answering the request whose instance died.
    fn owner_gone(&self, seq: u64) -> Bytes {
        let id = self
            .request
            .clone()
            .and_then(|r| serde_json::from_value::<RequestId>(r).ok());
        let e = ErrorObject::new(
            crate::jsonrpc::INTERNAL_ERROR,
            "the instance running this request stopped before answering; send it again",
        );
        let data = Message::Response(Response::err(id, e)).to_json();
        encode(&format!("{}_{seq}", self.key.1), None, &data)
    }
}

/// What the bus brings, handled on this instance.
pub(super) fn on_bus(st: &AppState, shared: &Shared, msg: BusMessage) {
    let local = |id: &str| st.server.sessions().get(id);
    match msg {
        BusMessage::Event { s, id, seq, data } => {
            if let Some(tx) = lock(&shared.tails).get(&(s, id)) {
                let _ = tx.send(Tail::Event(seq, data));
            }
        }
        BusMessage::Finished { s, id } => {
            if let Some(tx) = lock(&shared.tails).remove(&(s, id)) {
                let _ = tx.send(Tail::Finished);
            }
        }
        BusMessage::Answer { s, response } => {
            if let (Some(session), Ok(Message::Response(r))) =
                (local(&s), Message::from_value(response))
            {
                session.resolve(r);
            }
        }
        BusMessage::Cancel { s, request } => {
            if let (Some(session), Ok(id)) = (local(&s), serde_json::from_value(request)) {
                session.cancel_request(&id);
            }
        }
        BusMessage::Notify { sessions, data } => notify(st, sessions, data),
        BusMessage::Ended { s } => {
            if let Some(session) = st.server.sessions().remove(&s) {
                end_session(&session);
            }
        }
        BusMessage::CancelTask { task } => {
            st.server.cancel_local_task(&task);
        }
        #[cfg(feature = "surface")]
        BusMessage::ToolsetEnabled { name } => st.server.toolset_enabled_elsewhere(&name),
        // Without tool surfaces no toolset exists here.
        #[cfg(not(feature = "surface"))]
        BusMessage::ToolsetEnabled { .. } => {}
    }
}

/// A change notification for the GET streams held here, and this
/// instance's listeners.
fn notify(st: &AppState, sessions: Option<Vec<String>>, data: Value) {
    let Ok(msg) = Message::from_value(data) else {
        return;
    };
    st.server.deliver_change(&msg);
    let local = st.server.sessions();
    match sessions {
        Some(ids) => {
            for id in ids {
                if let Some(s) = local.get(&id) {
                    s.notify(msg.clone());
                }
            }
        }
        None => {
            for s in local.all() {
                s.notify(msg.clone());
            }
        }
    }
}

/// Keep the sessions this instance works for alive in the store (a
/// request running, a client listening), and drop local copies of those
/// the store no longer has (an `Ended` the bus lost while Redis was away).
pub(super) async fn keep_alive(st: &AppState, shared: &Shared) {
    let active: Vec<String> = st
        .server
        .sessions()
        .all()
        .iter()
        .filter(|s| {
            s.is_busy()
                || st.legacy.as_ref().is_some_and(|l| l.holds(s.id()))
                || streams_of(s).any_live()
        })
        .map(|s| s.id().to_owned())
        .collect();
    match shared
        .store
        .keep_alive(&active, st.config.session_idle_timeout)
        .await
    {
        Ok(gone) => {
            for id in gone {
                if let Some(s) = st.server.sessions().remove(&id) {
                    end_session(&s);
                }
            }
        }
        Err(e) => tracing::debug!("sessions not kept alive: {e}"),
    }
}

//! Session state and the one interface through which it is stored.
//!
//! A `Session` is what one client connection negotiated (version,
//! capabilities, log level, subscriptions) plus the bookkeeping of requests in
//! flight in both directions. Transports keep their own per-session data in
//! [`Session::transport_state`], so it is freed together with the session.

use crate::jsonrpc::{ErrorObject, Message, Payload, RequestId, Response};
use crate::model::LogLevel;
use serde_json::Value;
use std::any::Any;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::cancel::Cancel;

/// Server→client traffic, as handed to a transport.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Message(Message),
    /// Close the current SSE stream now, asking the client to come back after
    /// `retry` (the 2025-11-25 polling pattern). Meaningless on stdio.
    CloseStream {
        retry: Duration,
    },
}

pub use crate::outbound::{Empty, Inbox, Outbound};

/// What the client told us in `initialize`.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub protocol_version: String,
    pub capabilities: Value,
    pub info: Value,
}

#[derive(Debug, Default)]
struct State {
    client: Option<ClientInfo>,
    initialized: bool,
    log_level: Option<LogLevel>,
    subscriptions: HashSet<String>,
}

type Pending = oneshot::Sender<Result<Value, ErrorObject>>;

/// Resource subscriptions one session may hold.
pub const MAX_SUBSCRIPTIONS: usize = 1024;

#[derive(Default)]
struct PendingRequests {
    waiting: HashMap<RequestId, Pending>,
    /// The client can no longer answer (end of input): new requests fail at once.
    refused: bool,
}

pub struct Session {
    id: String,
    last_seen: Mutex<Instant>,
    state: Mutex<State>,
    /// foldhash, not SipHash (≈ 0.2k instructions an id, hashed twice a
    /// request): the ids are the client's, but only its own requests in
    /// flight in this session (a handful) share the map: colliding ids
    /// would cost a client as many look-ups as it has requests running.
    in_flight: Mutex<HashMap<RequestId, Cancel, foldhash::fast::RandomState>>,
    pending: Mutex<PendingRequests>,
    next_id: AtomicI64,
    notifier: Mutex<Option<Notifier>>,
    /// The parent of its requests' cancellations (a plain `Arc` each).
    closed: Cancel,
    /// [`Session::closed_token`]'s, made when first asked for (the
    /// transports' streams; no request needs it).
    closed_token: Mutex<Option<CancellationToken>>,
    transport: OnceLock<Box<dyn Any + Send + Sync>>,
    /// Server→client requests awaiting their answer.
    awaiting_client: AtomicUsize,
    /// Whether some connection could still carry a server→client request
    /// to the client (set by the transport; unset: assumed yes).
    reachable: OnceLock<Reachable>,
}

type Reachable = Box<dyn Fn() -> bool + Send + Sync>;

/// Where notifications not tied to a request go.
enum Notifier {
    Channel(Outbound),
    /// Handed straight to the transport (no channel and task per session:
    /// most sessions never get such a notification).
    Sink(Box<dyn Fn(Message) -> bool + Send + Sync>),
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler must not take the session down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    pub fn new(id: String) -> Self {
        Session {
            id,
            last_seen: Mutex::new(Instant::now()),
            state: Mutex::new(State::default()),
            in_flight: Mutex::new(HashMap::default()),
            pending: Mutex::new(PendingRequests::default()),
            next_id: AtomicI64::new(0),
            notifier: Mutex::new(None),
            closed: Cancel::new(),
            closed_token: Mutex::new(None),
            transport: OnceLock::new(),
            awaiting_client: AtomicUsize::new(0),
            reachable: OnceLock::new(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    pub fn idle_for(&self) -> Duration {
        lock(&self.last_seen).elapsed()
    }

    pub fn client(&self) -> Option<ClientInfo> {
        lock(&self.state).client.clone()
    }

    /// Whether `initialize` was answered (no copy of what the client sent).
    pub(crate) fn has_client(&self) -> bool {
        lock(&self.state).client.is_some()
    }

    pub(crate) fn set_client(&self, client: ClientInfo) {
        lock(&self.state).client = Some(client);
    }

    pub fn protocol_version(&self) -> Option<String> {
        lock(&self.state)
            .client
            .as_ref()
            .map(|c| c.protocol_version.clone())
    }

    pub fn is_initialized(&self) -> bool {
        lock(&self.state).initialized
    }

    pub(crate) fn mark_initialized(&self) {
        lock(&self.state).initialized = true;
    }

    pub fn log_level(&self) -> Option<LogLevel> {
        lock(&self.state).log_level
    }

    pub(crate) fn set_log_level(&self, level: LogLevel) {
        lock(&self.state).log_level = Some(level);
    }

    /// False when the session already holds MAX_SUBSCRIPTIONS others.
    pub(crate) fn subscribe(&self, uri: &str) -> bool {
        let mut state = lock(&self.state);
        if state.subscriptions.len() >= MAX_SUBSCRIPTIONS && !state.subscriptions.contains(uri) {
            return false;
        }
        state.subscriptions.insert(uri.to_owned());
        true
    }

    pub(crate) fn unsubscribe(&self, uri: &str) {
        lock(&self.state).subscriptions.remove(uri);
    }

    pub fn is_subscribed(&self, uri: &str) -> bool {
        lock(&self.state).subscriptions.contains(uri)
    }

    /// Number this copy's server→client requests from a random point, so
    /// that the requests of a session's copies on several instances never
    /// share an id (the client answers each by id, to any instance).
    pub(crate) fn randomize_request_ids(&self) {
        let mut b = [0u8; 8];
        if getrandom::fill(&mut b).is_ok() {
            // Below 2^52: exact in a JavaScript client's numbers, room to count up.
            let start = (u64::from_le_bytes(b) >> 12) as i64;
            self.next_id.store(start, Ordering::Relaxed);
        }
    }

    /// What the session negotiated, as a shared store keeps it.
    pub fn record(&self) -> crate::state::SessionRecord {
        let state = lock(&self.state);
        let client = state.client.clone().unwrap_or_default();
        crate::state::SessionRecord {
            protocol_version: client.protocol_version,
            capabilities: client.capabilities,
            client_info: client.info,
            initialized: state.initialized,
            log_level: state.log_level,
            subscriptions: state.subscriptions.iter().cloned().collect(),
        }
    }

    /// Take on what another instance recorded (a shared store's copy is
    /// the truth: it may have changed there).
    pub(crate) fn apply_record(&self, r: crate::state::SessionRecord) {
        let mut state = lock(&self.state);
        state.client = (!r.protocol_version.is_empty()).then(|| ClientInfo {
            protocol_version: r.protocol_version,
            capabilities: r.capabilities,
            info: r.client_info,
        });
        state.initialized = r.initialized;
        state.log_level = r.log_level;
        state.subscriptions = r.subscriptions.into_iter().collect();
    }

    /// The channel for notifications not tied to a request (the stdio stream,
    /// or the HTTP GET stream while one is open).
    pub fn set_notifier(&self, out: Option<Outbound>) {
        *lock(&self.notifier) = out.map(Notifier::Channel);
    }

    /// Like [`Session::set_notifier`], with a function that takes each
    /// notification at once (false: it could not).
    pub(crate) fn set_notify_sink(&self, sink: impl Fn(Message) -> bool + Send + Sync + 'static) {
        *lock(&self.notifier) = Some(Notifier::Sink(Box::new(sink)));
    }

    /// Send a notification not tied to any request. Returns false when no
    /// channel is open to carry it.
    pub fn notify(&self, msg: Message) -> bool {
        match &*lock(&self.notifier) {
            Some(Notifier::Channel(out)) => out.send(msg),
            Some(Notifier::Sink(sink)) => sink(msg),
            None => false,
        }
    }

    /// None when a request with this id is already running: ids must be
    /// unique among a session's requests in flight.
    pub(crate) fn begin_request(&self, id: &RequestId) -> Option<Cancel> {
        // One look-up (one hash of the id) for the check and the insert.
        match lock(&self.in_flight).entry(id.clone()) {
            Entry::Occupied(_) => None,
            Entry::Vacant(slot) => Some(slot.insert(self.closed.child()).clone()),
        }
    }

    pub(crate) fn end_request(&self, id: &RequestId) {
        lock(&self.in_flight).remove(id);
    }

    /// Cancel a request in flight (notifications/cancelled).
    pub fn cancel_request(&self, id: &RequestId) -> bool {
        match lock(&self.in_flight).get(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    pub fn requests_in_flight(&self) -> usize {
        lock(&self.in_flight).len()
    }

    /// Whether the session is doing work that ending it would lose: a
    /// request in flight that is not merely waiting on a client no
    /// connection can reach (an unanswered sampling request must not pin
    /// its session slot until its timeout). Busy sessions are neither
    /// expired nor evicted.
    pub fn is_busy(&self) -> bool {
        let running = self.requests_in_flight();
        let waiting = self.awaiting_client.load(Ordering::SeqCst);
        running > waiting
            || (running > 0
                && waiting > 0
                && self.reachable.get().is_none_or(|reachable| reachable()))
    }

    /// How the transport tells whether the client can still be reached.
    pub(crate) fn set_reachable(&self, f: impl Fn() -> bool + Send + Sync + 'static) {
        let _ = self.reachable.set(Box::new(f));
    }

    /// Count a server→client request as awaited until the guard drops.
    pub(crate) fn awaiting_client(&self) -> AwaitingClient<'_> {
        self.awaiting_client.fetch_add(1, Ordering::SeqCst);
        AwaitingClient(self)
    }

    /// Register a server→client request and get the receiver of its answer.
    /// None when the client can no longer answer.
    pub(crate) fn register_outgoing(
        &self,
    ) -> Option<(RequestId, oneshot::Receiver<Result<Value, ErrorObject>>)> {
        let mut pending = lock(&self.pending);
        if pending.refused {
            return None;
        }
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        pending.waiting.insert(id.clone(), tx);
        Some((id, rx))
    }

    pub(crate) fn forget_outgoing(&self, id: &RequestId) {
        lock(&self.pending).waiting.remove(id);
    }

    /// Fail every server→client request still waiting: the client can no
    /// longer answer (its input stream ended).
    pub fn fail_pending(&self) {
        let mut pending = lock(&self.pending);
        pending.refused = true;
        pending.waiting.clear();
    }

    /// Deliver the client's answer to a server→client request. False when no
    /// such request is waiting.
    pub fn resolve(&self, response: Response) -> bool {
        let Some(id) = response.id else { return false };
        match lock(&self.pending).waiting.remove(&id) {
            Some(tx) => tx.send(response.outcome.map(Payload::into_value)).is_ok(),
            None => false,
        }
    }

    /// End the session: every handler still running is cancelled and every
    /// channel dropped.
    pub fn close(&self) {
        self.closed.cancel();
        // After the flag: a token made from now on is cancelled when made.
        if let Some(t) = &*lock(&self.closed_token) {
            t.cancel();
        }
        self.fail_pending();
        lock(&self.in_flight).clear();
        self.set_notifier(None);
    }

    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// The session's end, as the runtime's transports wait for it: a
    /// clone of its own cancellation (an `Arc`), which does not keep the
    /// session alive.
    pub(crate) fn closed(&self) -> Cancel {
        self.closed.clone()
    }

    /// A token cancelled when the session ends (for code outside the
    /// runtime; made on first use, as nothing inside needs it).
    pub fn closed_token(&self) -> CancellationToken {
        let mut slot = lock(&self.closed_token);
        let token = slot.get_or_insert_with(CancellationToken::new);
        // Under the lock `close` takes after setting its flag: either it
        // finds this token, or this sees the flag.
        if self.closed.is_cancelled() {
            token.cancel();
        }
        token.clone()
    }

    /// Per-session data owned by the transport (set once).
    pub fn transport_state<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> &T {
        let b = self.transport.get_or_init(|| Box::new(init()));
        match b.downcast_ref::<T>() {
            Some(t) => t,
            // One transport serves a session; a second type is a programming error.
            None => panic!("session transport state has another type"),
        }
    }
}

/// See [`Session::awaiting_client`].
pub(crate) struct AwaitingClient<'a>(&'a Session);

impl Drop for AwaitingClient<'_> {
    fn drop(&mut self) {
        self.0.awaiting_client.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A fresh session id: 128 bits from the operating system's CSPRNG, as hex
/// (visible ASCII, as the spec requires).
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy source is not something to limp along without.
        panic!("the operating system's random source is unavailable");
    }
    hex(&bytes)
}

/// `bytes` as lowercase hex, two digits each (no `format!` per byte: an
/// MCP 2026-07-28 tools/call hashes its arguments, see `modern::mrtr`).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// What [`SessionStore::insert_bounded`] did with a new session.
pub enum Admission {
    Inserted,
    /// Inserted in place of this one, which the caller should close.
    Evicted(Arc<Session>),
    /// Not inserted: the store is full and every session is busy.
    Full,
}

/// The session that makes room in a full store: idle longest, and not busy.
fn eviction_candidate<'a>(
    sessions: impl Iterator<Item = &'a Arc<Session>>,
) -> Option<Arc<Session>> {
    sessions
        .filter(|s| !s.is_busy())
        .max_by_key(|s| s.idle_for())
        .cloned()
}

/// The one interface behind which sessions live. The in-memory store is the
/// default; a shared store (e.g. Redis) implements the same trait.
pub trait SessionStore: Send + Sync + 'static {
    fn insert(&self, session: Arc<Session>);
    /// Insert while the store holds fewer than `max` sessions; at the limit
    /// the session idle longest that is not busy makes room, so a
    /// flood of `initialize` requests cannot lock real clients out (theirs
    /// get 404 and initialize again, as the protocol says). Stores that can
    /// should decide and insert in one step, so that concurrent initializes
    /// cannot overshoot the limit.
    fn insert_bounded(&self, session: Arc<Session>, max: usize) -> Admission {
        if self.len() < max {
            self.insert(session);
            return Admission::Inserted;
        }
        let all = self.all();
        let Some(victim) = eviction_candidate(all.iter()) else {
            return Admission::Full;
        };
        self.remove(victim.id());
        self.insert(session);
        Admission::Evicted(victim)
    }
    /// Look a session up and mark it active.
    fn get(&self, id: &str) -> Option<Arc<Session>>;
    fn remove(&self, id: &str) -> Option<Arc<Session>>;
    /// Remove and return every session idle for longer than `idle`.
    fn take_idle(&self, idle: Duration) -> Vec<Arc<Session>>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn all(&self) -> Vec<Arc<Session>>;
}

/// Keyed by session id with foldhash, not SipHash (≈ 0.2k instructions a
/// look-up, one per request): the ids stored are drawn at random by the
/// server, so no client can choose keys that collide; a look-up of any
/// other string costs one probe as before.
#[derive(Default)]
pub struct InMemorySessionStore {
    sessions: Mutex<HashMap<String, Arc<Session>, foldhash::fast::RandomState>>,
}

impl SessionStore for InMemorySessionStore {
    fn insert(&self, session: Arc<Session>) {
        lock(&self.sessions).insert(session.id().to_owned(), session);
    }
    fn insert_bounded(&self, session: Arc<Session>, max: usize) -> Admission {
        let mut map = lock(&self.sessions);
        let admission = if map.len() < max {
            Admission::Inserted
        } else {
            match eviction_candidate(map.values()) {
                Some(victim) => {
                    map.remove(victim.id());
                    Admission::Evicted(victim)
                }
                None => return Admission::Full,
            }
        };
        map.insert(session.id().to_owned(), session);
        admission
    }
    fn get(&self, id: &str) -> Option<Arc<Session>> {
        let s = lock(&self.sessions).get(id).cloned();
        if let Some(s) = &s {
            s.touch();
        }
        s
    }
    fn remove(&self, id: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).remove(id)
    }
    fn take_idle(&self, idle: Duration) -> Vec<Arc<Session>> {
        let mut map = lock(&self.sessions);
        let expired: Vec<String> = map
            .iter()
            .filter(|(_, s)| s.idle_for() > idle && !s.is_busy())
            .map(|(k, _)| k.clone())
            .collect();
        expired.iter().filter_map(|k| map.remove(k)).collect()
    }
    fn len(&self) -> usize {
        lock(&self.sessions).len()
    }
    fn all(&self) -> Vec<Arc<Session>> {
        lock(&self.sessions).values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_random_hex() {
        assert_eq!(hex(&[0x00, 0x09, 0xab, 0xff]), "0009abff");
        let a = new_session_id();
        let b = new_session_id();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn idle_sessions_are_taken_out_of_the_store() {
        let store = InMemorySessionStore::default();
        store.insert(Arc::new(Session::new("a".into())));
        assert!(store.take_idle(Duration::from_secs(60)).is_empty());
        std::thread::sleep(Duration::from_millis(20));
        let gone = store.take_idle(Duration::from_millis(10));
        assert_eq!(gone.len(), 1);
        assert!(store.get("a").is_none());
        assert!(store.is_empty());
    }

    #[test]
    fn a_full_store_evicts_the_longest_idle_session_that_is_not_busy() {
        let store = InMemorySessionStore::default();
        let new = |id: &str| Arc::new(Session::new(id.into()));
        assert!(matches!(
            store.insert_bounded(new("a"), 2),
            Admission::Inserted
        ));
        std::thread::sleep(Duration::from_millis(5));
        assert!(matches!(
            store.insert_bounded(new("b"), 2),
            Admission::Inserted
        ));
        // `a` is idle longest but busy: `b` goes.
        let a = store.get("a").unwrap();
        assert!(a.begin_request(&RequestId::Number(1)).is_some());
        match store.insert_bounded(new("c"), 2) {
            Admission::Evicted(v) => assert_eq!(v.id(), "b"),
            _ => panic!("expected an eviction"),
        }
        assert_eq!(store.len(), 2);
        assert!(store.get("b").is_none() && store.get("c").is_some());
        // Every session busy: nothing is evicted and the newcomer is refused.
        let c = store.get("c").unwrap();
        assert!(c.begin_request(&RequestId::Number(1)).is_some());
        assert!(matches!(store.insert_bounded(new("d"), 2), Admission::Full));
        assert!(store.get("d").is_none());
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn an_id_in_flight_is_refused_until_its_request_ends() {
        let s = Session::new("s".into());
        for id in [RequestId::Number(7), RequestId::String("7".into())] {
            let token = s.begin_request(&id).expect("a new id");
            assert!(s.begin_request(&id).is_none(), "{id:?} twice");
            assert!(s.cancel_request(&id) && token.is_cancelled());
            s.end_request(&id);
            assert!(!s.cancel_request(&id));
            assert!(s.begin_request(&id).is_some(), "{id:?} again");
        }
        // The number and the string are different ids.
        assert_eq!(s.requests_in_flight(), 2);
        s.close();
        assert_eq!(s.requests_in_flight(), 0);
    }

    #[test]
    fn a_request_waiting_on_an_unreachable_client_is_not_busy() {
        let s = Arc::new(Session::new("s".into()));
        assert!(!s.is_busy());
        assert!(s.begin_request(&RequestId::Number(1)).is_some());
        assert!(s.is_busy());
        let reachable = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let r = reachable.clone();
        s.set_reachable(move || r.load(Ordering::SeqCst));
        {
            let _waiting = s.awaiting_client();
            assert!(s.is_busy(), "the client can still answer");
            reachable.store(false, Ordering::SeqCst);
            assert!(!s.is_busy(), "nobody can answer: the slot is free");
            // Another request doing real work keeps it busy.
            assert!(s.begin_request(&RequestId::Number(2)).is_some());
            assert!(s.is_busy());
            s.end_request(&RequestId::Number(2));
        }
        assert!(s.is_busy(), "no longer waiting: running again");
        let store = InMemorySessionStore::default();
        store.insert(s.clone());
        let _waiting = s.awaiting_client();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(store.take_idle(Duration::from_millis(10)).len(), 1);
    }

    #[tokio::test]
    async fn responses_reach_the_waiting_request() {
        let s = Session::new("x".into());
        let (id, rx) = s.register_outgoing().unwrap();
        assert!(s.resolve(Response::ok(id.clone(), serde_json::json!({"ok": true}))));
        assert_eq!(rx.await.unwrap().unwrap(), serde_json::json!({"ok": true}));
        assert!(
            !s.resolve(Response::ok(id, serde_json::json!({}))),
            "answered twice"
        );
    }
}

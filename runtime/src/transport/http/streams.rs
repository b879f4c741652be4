//! The SSE streams of one session, with the events each carried, so that a
//! client can resume a stream with `Last-Event-ID` — including after the
//! server closed it on purpose (the 2025-11-25 polling pattern).
//!
//! Event ids are `<stream>_<seq>`: unique within the session and enough to
//! find the stream again. Stream 0 is the standalone GET stream.
//!
//! With a shared state store ([`Mirror`]) every event is also appended to
//! the store's log, and stream ids are random (the standalone one too), so
//! that event ids are unique across the instances of a deployment and a
//! client can resume on any of them (`shared.rs`).

use crate::jsonrpc::RequestId;
use crate::state::{AppendEvent, LoggedEvent, StateStore};
use axum::body::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;

/// Events kept per stream for replay; older ones are dropped first.
const MAX_EVENTS_PER_STREAM: usize = 1024;
/// Finished request streams kept for late resumption.
const MAX_FINISHED_STREAMS: usize = 32;

pub(crate) type Live = mpsc::UnboundedSender<Bytes>;

struct Event {
    seq: u64,
    /// Empty for a priming event.
    data: String,
}

#[derive(Default)]
struct Stream {
    events: VecDeque<Event>,
    next_seq: u64,
    live: Option<Live>,
    finished: bool,
    /// The JSON-RPC id of the request whose answer the stream carries, as
    /// JSON (logged with its first event, so that another instance can
    /// answer it when this one dies).
    request: Option<String>,
}

impl Stream {
    fn send_live(&mut self, frame: Bytes) {
        if let Some(tx) = &self.live
            && tx.send(frame).is_err()
        {
            self.live = None;
        }
    }

    fn record(&mut self, id: u64, data: String, retry: Option<Duration>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let frame = encode(&format!("{id}_{seq}"), retry, &data);
        self.events.push_back(Event { seq, data });
        if self.events.len() > MAX_EVENTS_PER_STREAM {
            self.events.pop_front();
        }
        self.send_live(frame);
    }
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    streams: HashMap<u64, Stream>,
    finished: VecDeque<u64>,
}

#[derive(Default)]
pub(crate) struct Streams {
    inner: Mutex<Inner>,
    /// The id of the standalone (GET) stream.
    standalone: u64,
    mirror: Option<Mirror>,
}

/// Where a shared store keeps a session's events.
pub(crate) struct Mirror {
    pub store: Arc<dyn StateStore>,
    pub session: String,
    /// How long a log outlives its last event (the session idle timeout).
    pub ttl: Duration,
}

impl Mirror {
    fn append(&self, stream: u64, event: Option<LoggedEvent>, standalone: bool, finished: bool) {
        self.store.append(AppendEvent {
            session: self.session.clone(),
            stream,
            event,
            standalone,
            finished,
            request: None,
            ttl: self.ttl,
        });
    }
}

/// A random stream id: below 2^53, so that it survives a JavaScript
/// client's number parsing should one parse it, and never 0.
fn random_stream_id() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        panic!("the operating system's random source is unavailable");
    }
    (u64::from_le_bytes(b) >> 11).max(1)
}

/// One SSE event. `data` is single-line JSON (or empty when priming).
pub(crate) fn encode(id: &str, retry: Option<Duration>, data: &str) -> Bytes {
    let mut s = format!("id: {id}\n");
    if let Some(r) = retry {
        s.push_str(&format!("retry: {}\n", r.as_millis()));
    }
    s.push_str("data: ");
    s.push_str(data);
    s.push_str("\n\n");
    Bytes::from(s)
}

/// `<stream>_<seq>`.
pub(super) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (s, q) = id.split_once('_')?;
    Some((s.parse().ok()?, q.parse().ok()?))
}

/// Whether an event after `seq` can be replayed from a log whose oldest
/// kept event is `first` and next is `next`: not unknown, and not so old
/// that events after it were dropped (replaying from later on would lose
/// messages without the client knowing).
pub(super) fn replayable(seq: u64, first: Option<u64>, next: u64) -> bool {
    seq < next && first.is_none_or(|f| f <= seq + 1)
}

pub(crate) enum Resume {
    Attached(mpsc::UnboundedReceiver<Bytes>),
    UnknownEvent,
}

impl Streams {
    /// The streams of a session whose events a shared store keeps too.
    pub(super) fn mirrored(mirror: Mirror) -> Streams {
        let first = random_stream_id();
        Streams {
            inner: Mutex::new(Inner {
                next_id: first,
                ..Inner::default()
            }),
            standalone: first,
            mirror: Some(mirror),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Record an event in `stream` (and in the shared log, if any).
    fn record(&self, stream: &mut Stream, id: u64, data: String, retry: Option<Duration>) {
        if let Some(m) = &self.mirror {
            let event = LoggedEvent {
                seq: stream.next_seq,
                data: data.clone(),
            };
            m.store.append(AppendEvent {
                session: m.session.clone(),
                stream: id,
                event: Some(event),
                standalone: id == self.standalone,
                finished: false,
                request: stream.request.take(),
                ttl: m.ttl,
            });
        }
        stream.record(id, data, retry);
    }

    /// A new request stream with a live connection. With `prime`, an empty
    /// event carrying an id and a retry hint goes first, so the client can
    /// reconnect even before any real event.
    pub(super) fn open(
        &self,
        prime: Option<Duration>,
        request: Option<&RequestId>,
    ) -> (u64, mpsc::UnboundedReceiver<Bytes>) {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut stream = Stream {
            live: Some(tx),
            request: request.and_then(|r| serde_json::to_string(r).ok()),
            ..Default::default()
        };
        if let Some(retry) = prime {
            self.record(&mut stream, id, String::new(), Some(retry));
        }
        inner.streams.insert(id, stream);
        (id, rx)
    }

    /// Attach a new standalone (GET) connection, unless one is still live.
    pub(super) fn open_standalone(
        &self,
        prime: Option<Duration>,
    ) -> Option<mpsc::UnboundedReceiver<Bytes>> {
        self.open_standalone_after(prime, Vec::new())
    }

    /// [`Streams::open_standalone`], the connection first getting `replay`
    /// (events of a standalone stream another instance served).
    pub(super) fn open_standalone_after(
        &self,
        prime: Option<Duration>,
        replay: Vec<Bytes>,
    ) -> Option<mpsc::UnboundedReceiver<Bytes>> {
        let id = self.standalone;
        let mut inner = self.lock();
        let stream = inner.streams.entry(id).or_default();
        if stream.live.as_ref().is_some_and(|tx| !tx.is_closed()) {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        for frame in replay {
            let _ = tx.send(frame);
        }
        stream.live = Some(tx);
        if let Some(retry) = prime {
            self.record(stream, id, String::new(), Some(retry));
        }
        Some(rx)
    }

    pub(super) fn push(&self, id: u64, data: String) {
        let mut inner = self.lock();
        if let Some(stream) = inner.streams.get_mut(&id) {
            self.record(stream, id, data, None);
        }
    }

    /// A notification for the standalone stream (kept for replay once a
    /// GET stream was opened, as before).
    pub(super) fn push_standalone(&self, data: String) {
        self.push(self.standalone, data);
    }

    /// Whether this instance knows the stream (else a shared store may).
    pub(super) fn knows(&self, id: u64) -> bool {
        self.lock().streams.contains_key(&id)
    }

    /// End the live connection but keep the stream open for resumption.
    pub(super) fn disconnect(&self, id: u64, retry: Duration) {
        let mut inner = self.lock();
        if let Some(stream) = inner.streams.get_mut(&id) {
            stream.send_live(Bytes::from(format!("retry: {}\n\n", retry.as_millis())));
            stream.live = None;
        }
    }

    /// The stream's last event is written: close it.
    pub(super) fn finish(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(stream) = inner.streams.get_mut(&id) {
            stream.finished = true;
            stream.live = None;
        }
        if let Some(m) = &self.mirror {
            m.append(id, None, false, true);
        }
        inner.finished.push_back(id);
        while inner.finished.len() > MAX_FINISHED_STREAMS {
            if let Some(old) = inner.finished.pop_front() {
                inner.streams.remove(&old);
            }
        }
    }

    /// Replay what followed `last_event_id` and, if its stream is still
    /// running, attach the new connection to it.
    pub(super) fn resume(&self, last_event_id: &str) -> Resume {
        let Some((stream, seq)) = parse_event_id(last_event_id) else {
            return Resume::UnknownEvent;
        };
        let mut inner = self.lock();
        let Some(s) = inner.streams.get_mut(&stream) else {
            return Resume::UnknownEvent;
        };
        // Unknown, or so old that events after it were dropped: replaying
        // from later on would lose messages without the client knowing.
        if !replayable(seq, s.events.front().map(|e| e.seq), s.next_seq) {
            return Resume::UnknownEvent;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        for e in s
            .events
            .iter()
            .filter(|e| e.seq > seq && !e.data.is_empty())
        {
            let _ = tx.send(encode(&format!("{stream}_{}", e.seq), None, &e.data));
        }
        if !s.finished {
            // A newer connection replaces an older one.
            s.live = Some(tx);
        }
        Resume::Attached(rx)
    }

    /// Whether any stream has a client connected to it: only then can a
    /// server→client request still reach the client (resuming with
    /// Last-Event-ID needs a connection too).
    pub(super) fn any_live(&self) -> bool {
        self.lock()
            .streams
            .values()
            .any(|s| s.live.as_ref().is_some_and(|tx| !tx.is_closed()))
    }

    /// Drop every live connection (the session ended).
    pub(super) fn close_all(&self) {
        let mut inner = self.lock();
        inner.streams.clear();
        inner.finished.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(rx: &mut mpsc::UnboundedReceiver<Bytes>) -> String {
        let mut s = String::new();
        while let Ok(b) = rx.try_recv() {
            s.push_str(std::str::from_utf8(&b).unwrap());
        }
        s
    }

    #[test]
    fn primes_then_resumes_after_a_deliberate_disconnect() {
        let streams = Streams::default();
        let (id, mut rx) = streams.open(Some(Duration::from_millis(500)), None);
        assert_eq!(
            drain(&mut rx),
            format!("id: {id}_0\nretry: 500\ndata: \n\n")
        );
        streams.disconnect(id, Duration::from_millis(500));
        assert_eq!(drain(&mut rx), "retry: 500\n\n");
        assert!(rx.try_recv().is_err(), "live connection ended");
        streams.push(id, r#"{"a":1}"#.into());
        let Resume::Attached(mut resumed) = streams.resume(&format!("{id}_0")) else {
            panic!("resume refused")
        };
        streams.push(id, r#"{"b":2}"#.into());
        streams.finish(id);
        assert_eq!(
            drain(&mut resumed),
            format!("id: {id}_1\ndata: {{\"a\":1}}\n\nid: {id}_2\ndata: {{\"b\":2}}\n\n")
        );
    }

    #[test]
    fn unknown_event_ids_are_refused() {
        let streams = Streams::default();
        let (id, _rx) = streams.open(None, None);
        for bad in ["nope", "99_0", &format!("{id}_5"), "1-0"] {
            assert!(matches!(streams.resume(bad), Resume::UnknownEvent), "{bad}");
        }
    }

    #[test]
    fn live_means_a_connected_receiver() {
        let streams = Streams::default();
        assert!(!streams.any_live());
        let (id, rx) = streams.open(None, None);
        assert!(streams.any_live());
        streams.push(id, "{}".into());
        drop(rx);
        assert!(!streams.any_live(), "the client went away");
        let Resume::Attached(_rx) = streams.resume(&format!("{id}_0")) else {
            panic!("resume refused")
        };
        assert!(streams.any_live());
    }

    #[test]
    fn one_live_standalone_stream_at_a_time() {
        let streams = Streams::default();
        let first = streams.open_standalone(None);
        assert!(first.is_some());
        assert!(streams.open_standalone(None).is_none());
        drop(first);
        assert!(
            streams.open_standalone(None).is_some(),
            "a dropped connection frees the slot"
        );
    }

    #[test]
    fn resuming_past_dropped_events_is_refused() {
        let streams = Streams::default();
        let (id, _rx) = streams.open(None, None);
        for _ in 0..MAX_EVENTS_PER_STREAM + 10 {
            streams.push(id, "{}".into());
        }
        assert!(matches!(
            streams.resume(&format!("{id}_0")),
            Resume::UnknownEvent
        ));
        let recent = format!("{id}_{}", MAX_EVENTS_PER_STREAM + 5);
        assert!(matches!(streams.resume(&recent), Resume::Attached(_)));
    }

    #[test]
    fn finished_streams_are_evicted() {
        let streams = Streams::default();
        let ids: Vec<u64> = (0..MAX_FINISHED_STREAMS + 5)
            .map(|_| streams.open(None, None).0)
            .collect();
        for id in &ids {
            streams.push(*id, "{}".into());
            streams.finish(*id);
        }
        assert!(matches!(
            streams.resume(&format!("{}_0", ids[0])),
            Resume::UnknownEvent
        ));
        assert!(matches!(
            streams.resume(&format!("{}_0", ids[ids.len() - 1])),
            Resume::Attached(_)
        ));
    }
}

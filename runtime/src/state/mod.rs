//! State that the instances of one deployment share (docs/deployment.md).
//!
//! With no store configured — the default — a 2025-11-25 session lives in
//! the process that created it ([`crate::session::InMemorySessionStore`]),
//! and none of this module is on the request path. With a [`StateStore`]
//! (Redis: `--state-store redis://…`, feature `redis`), every instance
//! behind a load balancer can serve every request:
//!
//! - the session *record* (negotiated version, client capabilities and
//!   info, `initialized`, log level, subscriptions) lives in the store with
//!   an idle TTL, and each instance keeps a local [`crate::session::Session`]
//!   for what cannot move: open SSE connections, cancellation tokens of
//!   requests it runs, server→client requests it awaits;
//! - SSE events are appended to a per-stream log, so a client resuming
//!   with `Last-Event-ID` on another instance gets the rest of its stream;
//! - task records of the 2026 tasks extension, when the store offers to
//!   hold them ([`StateStore::task_store`]);
//! - a bus carries what must reach the instance that holds something live:
//!   answers to server→client requests, `notifications/cancelled`,
//!   notifications for a session's GET stream, events of streams resumed
//!   elsewhere, the end of a session, and `tasks/cancel` of a task whose
//!   round runs elsewhere.

#[cfg(feature = "redis")]
mod redis;

use crate::error::McpError;
use crate::model::LogLevel;
use crate::modern::tasks::TaskStore;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

#[cfg(feature = "redis")]
pub use self::redis::RedisState;

/// The store could not answer in time (Redis down, unreachable, timed out).
/// Over HTTP a request that needs the store gets 503 with `Retry-After`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("state store {store} unavailable: {message}")]
pub struct StateError {
    /// The store, without credentials (e.g. `redis://127.0.0.1:6379`).
    pub store: String,
    /// What went wrong.
    pub message: String,
}

/// An operation of a [`StateStore`].
pub type StateFuture<'a, T> = BoxFuture<'a, Result<T, StateError>>;

/// What a 2025-11-25 session negotiated: everything another instance needs
/// to go on serving it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The negotiated protocol version (empty before `initialize`).
    #[serde(rename = "v")]
    pub protocol_version: String,
    /// The client's capabilities.
    #[serde(rename = "c", default)]
    pub capabilities: Value,
    /// The client's `Implementation` object.
    #[serde(rename = "i", default)]
    pub client_info: Value,
    /// Whether `notifications/initialized` arrived.
    #[serde(rename = "n", default)]
    pub initialized: bool,
    /// The level of `logging/setLevel`.
    #[serde(rename = "l", default)]
    pub log_level: Option<LogLevel>,
    /// Subscribed resource URIs (kept apart in the store, see
    /// [`StateStore::subscribe`]).
    #[serde(skip)]
    pub subscriptions: Vec<String>,
}

/// What [`StateStore::admit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    /// Counted; `evicted` names the session ended to make room, if any.
    Yes {
        /// The session idle longest, ended for this one at the limit.
        evicted: Option<String>,
    },
    /// The deployment is at its limit and nothing could be evicted.
    Full,
}

/// One SSE event as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// Its position in its stream (the part after `_` of the event id).
    pub seq: u64,
    /// The JSON-RPC message; empty for a priming event.
    pub data: String,
}

/// An SSE stream as the log keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoggedStream {
    /// Its events, oldest first (the log keeps the last 1024).
    pub events: Vec<LoggedEvent>,
    /// Its last event is written: nothing follows.
    pub finished: bool,
    /// The standalone (GET) stream of the session, not a request's.
    pub standalone: bool,
    /// The instance that wrote it (see [`StateStore::alive`]).
    pub owner: Option<String>,
    /// The JSON-RPC id of the request whose answer it carries.
    pub request: Option<Value>,
}

/// A message between instances (see [`StateStore::publish`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum BusMessage {
    /// An event appended to a stream, for an instance streaming it to a
    /// client that resumed there.
    Event {
        /// The session.
        s: String,
        /// The stream.
        id: u64,
        /// The event's position.
        seq: u64,
        /// The message.
        data: String,
    },
    /// A request stream's last event is written.
    Finished {
        /// The session.
        s: String,
        /// The stream.
        id: u64,
    },
    /// The client's answer to a server→client request, for the instance
    /// whose handler awaits it.
    Answer {
        /// The session.
        s: String,
        /// The JSON-RPC response.
        response: Value,
    },
    /// `notifications/cancelled`, for the instance running the request.
    Cancel {
        /// The session.
        s: String,
        /// The request id.
        request: Value,
    },
    /// A notification for sessions' GET streams (`resources/updated` for
    /// the subscribers named, `list_changed` for all when `sessions` is
    /// None).
    Notify {
        /// The sessions to tell; None: every session.
        sessions: Option<Vec<String>>,
        /// The JSON-RPC notification.
        data: Value,
    },
    /// The session ended (DELETE, eviction): every instance drops it.
    Ended {
        /// The session.
        s: String,
    },
    /// `tasks/cancel` of a task (tasks extension), for the instance
    /// running a round of it.
    CancelTask {
        /// The task id.
        task: String,
    },
    /// `enable_toolset` switched a toolset on (tool surfaces): every
    /// instance switches it on too, without a `list_changed` of its own
    /// (the [`BusMessage::Notify`] that follows says it).
    ToolsetEnabled {
        /// The toolset.
        name: String,
    },
}

/// Receives what other instances publish.
pub type BusHandler = std::sync::Arc<dyn Fn(BusMessage) + Send + Sync>;

/// The one interface through which instances share state. Every operation
/// must end within a bounded time, with a [`StateError`] when its backend
/// is away. Implemented by `RedisState` (feature `redis`); a user may
/// bring another.
pub trait StateStore: Send + Sync + 'static {
    /// The store, without credentials, for logs and errors.
    fn describe(&self) -> String;

    /// Count a new session against the deployment's limit of `max`; at the
    /// limit the session idle longest is ended to make room. Sessions not
    /// seen for `idle` no longer count.
    fn admit<'a>(&'a self, id: &'a str, max: usize, idle: Duration) -> StateFuture<'a, Admitted>;
    /// The session's record, marking it active for another `idle`. None
    /// when it never existed, ended, or expired.
    fn load<'a>(&'a self, id: &'a str, idle: Duration) -> StateFuture<'a, Option<SessionRecord>>;
    /// Write the record (not its subscriptions).
    fn save<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
        idle: Duration,
    ) -> StateFuture<'a, ()>;
    /// Add or remove one subscription of the session.
    fn subscribe<'a>(&'a self, id: &'a str, uri: &'a str, on: bool) -> StateFuture<'a, ()>;
    /// The sessions subscribed to `uri`.
    fn subscribers<'a>(&'a self, uri: &'a str) -> StateFuture<'a, Vec<String>>;
    /// Mark these sessions active (an instance busy with them or streaming
    /// to them); returns those that no longer exist.
    fn keep_alive<'a>(&'a self, ids: &'a [String], idle: Duration) -> StateFuture<'a, Vec<String>>;
    /// End the session everywhere: its record, subscriptions, count and
    /// events. True when it existed.
    fn end<'a>(&'a self, id: &'a str) -> StateFuture<'a, bool>;
    /// Sessions the deployment counts now.
    fn count(&self) -> StateFuture<'_, usize>;

    /// Append an event to a stream's log and publish it as
    /// [`BusMessage::Event`] (`data` empty: priming; `finished`: the last
    /// event was written, publish [`BusMessage::Finished`]). Ordered with
    /// [`StateStore::publish`]; does not wait.
    fn append(&self, event: AppendEvent);
    /// A stream of the session as logged; None when the log does not know it.
    fn replay<'a>(&'a self, session: &'a str, stream: u64)
    -> StateFuture<'a, Option<LoggedStream>>;

    /// Whether the instance that wrote a log still runs (its heartbeat,
    /// renewed by [`StateStore::listen`], is less than 3 s old).
    fn alive<'a>(&'a self, instance: &'a str) -> StateFuture<'a, bool>;

    /// Publish to every instance (this one included); does not wait.
    fn publish(&self, msg: BusMessage);
    /// Deliver what is published to `handler`, from now on, reconnecting
    /// by itself, and keep this instance's heartbeat. After each
    /// (re)connection it also delivers a [`BusMessage::ToolsetEnabled`] for
    /// every toolset [`StateStore::enable_toolset`] kept, so that an
    /// instance started later, or one that missed messages, catches up.
    /// Called once per process.
    fn listen(&self, handler: BusHandler);

    /// Keep a toolset that `enable_toolset` switched on, for instances
    /// that attach later (see [`StateStore::listen`]). A store without
    /// this keeps nothing.
    fn enable_toolset<'a>(&'a self, name: &'a str) -> StateFuture<'a, ()> {
        let _ = name;
        Box::pin(async { Ok(()) })
    }

    /// The store as a home for task records of the tasks extension, when
    /// it can be one (Redis is); None keeps them in each process.
    fn task_store(self: std::sync::Arc<Self>) -> Option<std::sync::Arc<dyn TaskStore>> {
        None
    }
}

/// A store that cannot answer fails the JSON-RPC request that needed it
/// with -32002, as the HTTP transport's 503 does; `data.store` names the
/// store (and tells it from the session era's unknown resource, which the
/// 2026 path turns into -32602).
impl From<StateError> for McpError {
    fn from(e: StateError) -> McpError {
        McpError::new(STORE_UNAVAILABLE, format!("Service Unavailable: {e}"))
            .with_data(serde_json::json!({ "store": e.store }))
    }
}

/// The JSON-RPC code of a request the shared store could not serve.
pub const STORE_UNAVAILABLE: i64 = -32002;

impl std::fmt::Debug for dyn StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateStore({})", self.describe())
    }
}

/// An event for [`StateStore::append`].
#[derive(Debug, Clone)]
pub struct AppendEvent {
    /// The session.
    pub session: String,
    /// The stream (globally unique: see `transport::http::streams`).
    pub stream: u64,
    /// Position in the stream; None with `finished` alone.
    pub event: Option<LoggedEvent>,
    /// The standalone (GET) stream.
    pub standalone: bool,
    /// The stream's last event is written.
    pub finished: bool,
    /// With a request stream's first event: the request's JSON-RPC id, as JSON.
    pub request: Option<String>,
    /// How long the log outlives its last event.
    pub ttl: Duration,
}

/// The store named by `--state-store` / `MCP_STATE_STORE`: `memory` (None:
/// sessions stay in process) or `redis://…` (feature `redis`). `prefix`
/// keeps deployments of different servers apart in one Redis.
pub fn store_from_str(
    spec: &str,
    prefix: &str,
) -> Result<Option<std::sync::Arc<dyn StateStore>>, String> {
    if spec.is_empty() || spec.eq_ignore_ascii_case("memory") {
        return Ok(None);
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        #[cfg(feature = "redis")]
        return Ok(Some(std::sync::Arc::new(RedisState::new(spec, prefix)?)));
        #[cfg(not(feature = "redis"))]
        return Err(format!(
            "`{spec}`: this server was built without the `redis` feature of mcpgen-runtime (prefix {prefix})"
        ));
    }
    Err(format!(
        "`{spec}` is not a state store (memory or redis://HOST:PORT)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_are_named_by_the_switch() {
        assert!(store_from_str("memory", "p").unwrap().is_none());
        assert!(store_from_str("", "p").unwrap().is_none());
        let e = store_from_str("postgres://db", "p").err().unwrap();
        assert!(e.contains("not a state store"), "{e}");
        #[cfg(feature = "redis")]
        {
            let s = store_from_str("redis://user:secret@127.0.0.1:1/0", "p")
                .unwrap()
                .unwrap();
            assert_eq!(
                s.describe(),
                "redis://…@127.0.0.1:1/0",
                "no password in logs"
            );
        }
    }

    #[test]
    fn bus_messages_read_back() {
        let m = BusMessage::Notify {
            sessions: Some(vec!["a".into()]),
            data: serde_json::json!({"jsonrpc": "2.0", "method": "x"}),
        };
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.starts_with(r#"{"t":"notify""#), "{text}");
        assert_eq!(serde_json::from_str::<BusMessage>(&text).unwrap(), m);
        let m = BusMessage::CancelTask { task: "t1".into() };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(text, r#"{"t":"cancel_task","task":"t1"}"#);
        assert_eq!(serde_json::from_str::<BusMessage>(&text).unwrap(), m);
        let m = BusMessage::ToolsetEnabled {
            name: "pets".into(),
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(text, r#"{"t":"toolset_enabled","name":"pets"}"#);
        assert_eq!(serde_json::from_str::<BusMessage>(&text).unwrap(), m);
    }

    #[test]
    fn an_unreachable_store_is_a_clear_json_rpc_error() {
        let e: McpError = StateError {
            store: "redis://127.0.0.1:1".into(),
            message: "Connection refused".into(),
        }
        .into();
        assert_eq!(e.code(), STORE_UNAVAILABLE);
        assert!(
            e.0.message.contains("Connection refused"),
            "{}",
            e.0.message
        );
        // The 2026 path keeps it (an unknown resource would be -32602).
        assert_eq!(crate::modern::finish_error(e).code(), STORE_UNAVAILABLE);
    }
}

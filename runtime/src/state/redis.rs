//! [`StateStore`] in Redis. Keys, under `mcpgen:{prefix}:`:
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `s:{id}` | string (JSON), PX idle | a session's record |
//! | `s:{id}:subs` | set, PX idle | its subscribed URIs |
//! | `subs:{uri}` | set | the sessions subscribed to a URI |
//! | `sessions` | sorted set, score = last seen (ms, Redis clock) | what the session limit counts |
//! | `ev:{id}:{stream}` | stream, MAXLEN ~1024, PX idle | one SSE stream's events |
//! | `bus` | pub/sub channel | [`BusMessage`]s, JSON |
//! | `inst:{id}` | string, PX 3 s | an instance's heartbeat, renewed every second |
//! | `task:{id}` | string (JSON), PX the task's TTL | a task record of the tasks extension |
//! | `toolsets` | set, no TTL | the toolsets `enable_toolset` switched on |
//!
//! Session changes run as Lua scripts on Redis's own clock, so instances on
//! different machines agree. Appends and publications go through one
//! writer task per process, in order, pipelined. Redis Cluster is not
//! supported (scripts touch keys they build).

use super::{
    Admitted, AppendEvent, BusHandler, BusMessage, LoggedEvent, LoggedStream, SessionRecord,
    StateError, StateFuture, StateStore,
};
use crate::error::McpError;
use crate::modern::tasks::{TaskRecord, TaskStore};
use futures::StreamExt;
use futures::future::BoxFuture;
use redis::aio::ConnectionManager;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long one operation may take, connecting included.
const CALL_TIMEOUT: Duration = Duration::from_millis(1500);
/// Events kept per stream.
const MAX_EVENTS: usize = 1024;
/// Operations the writer sends in one pipeline at most.
const BATCH: usize = 256;

/// ARGV: id, idle ms, max. Returns {admitted (0/1), evicted id or ''}.
const ADMIT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local victim = ''
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #oldest == 0 then return {0, ''} end
  victim = oldest[1]
  redis.call('ZREM', KEYS[1], victim)
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
return {1, victim}
"#;

/// KEYS: record, subs, sessions; ARGV: id, idle ms. Returns {record or '', subs}.
const LOAD: &str = r#"
local rec = redis.call('GET', KEYS[1])
if not rec then return {'', {}} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 'XX', now, ARGV[1])
return {rec, redis.call('SMEMBERS', KEYS[2])}
"#;

/// ARGV: prefix, idle ms, ids… Returns the ids whose record is gone.
const KEEP_ALIVE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local p = ARGV[1]
local gone = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('PEXPIRE', p .. 's:' .. id, ARGV[2]) == 1 then
    redis.call('PEXPIRE', p .. 's:' .. id .. ':subs', ARGV[2])
    redis.call('ZADD', p .. 'sessions', 'XX', now, id)
  else
    table.insert(gone, id)
  end
end
return gone
"#;

/// KEYS: subs:{uri}; ARGV: prefix. The subscribers whose session still
/// exists; those that expired are dropped from the set.
const SUBSCRIBERS: &str = r#"
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 's:' .. id) == 1 then
    table.insert(out, id)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
"#;

/// ARGV: prefix, id. Returns 1 when the record existed.
const END: &str = r#"
local p = ARGV[1]
local id = ARGV[2]
local existed = redis.call('DEL', p .. 's:' .. id)
for _, uri in ipairs(redis.call('SMEMBERS', p .. 's:' .. id .. ':subs')) do
  redis.call('SREM', p .. 'subs:' .. uri, id)
end
redis.call('DEL', p .. 's:' .. id .. ':subs')
redis.call('ZREM', p .. 'sessions', id)
return existed
"#;

/// KEYS: task; ARGV: record, ttl ms. Replaces a task record unless the
/// stored one is gone or terminal (a cancelled task stays cancelled).
/// Returns 1 when replaced.
const ADVANCE_TASK: &str = r#"
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local status = cjson.decode(cur)['status']
if status == 'completed' or status == 'failed' or status == 'cancelled' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"#;

/// Shared state in Redis (`--state-store redis://HOST:PORT[/DB]`). Connects
/// on first use and reconnects by itself; while Redis is away each
/// operation fails within [`CALL_TIMEOUT`].
pub struct RedisState {
    url: String,
    prefix: String,
    /// This process's random id (the owner of the logs it writes).
    instance: String,
    client: redis::Client,
    conn: OnceLock<Result<ConnectionManager, String>>,
    writer: OnceLock<mpsc::UnboundedSender<Write>>,
    scripts: Scripts,
}

struct Scripts {
    admit: redis::Script,
    load: redis::Script,
    keep_alive: redis::Script,
    subscribers: redis::Script,
    end: redis::Script,
    advance_task: redis::Script,
}

/// What the writer task sends, in order.
enum Write {
    Append(AppendEvent),
    Publish(BusMessage),
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("url", &self.url)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisState {
    /// A store for `url` (`redis://HOST:PORT[/DB]`) whose keys start with
    /// `mcpgen:{prefix}:`; nothing is connected yet.
    pub fn new(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("`{url}`: {e}"))?;
        Ok(RedisState {
            url: crate::ratelimit::redact_url(url),
            prefix: format!("mcpgen:{prefix}:"),
            instance: crate::session::new_session_id(),
            client,
            conn: OnceLock::new(),
            writer: OnceLock::new(),
            scripts: Scripts {
                admit: redis::Script::new(ADMIT),
                load: redis::Script::new(LOAD),
                keep_alive: redis::Script::new(KEEP_ALIVE),
                subscribers: redis::Script::new(SUBSCRIBERS),
                end: redis::Script::new(END),
                advance_task: redis::Script::new(ADVANCE_TASK),
            },
        })
    }

    fn connection(&self) -> Result<ConnectionManager, StateError> {
        let made = self
            .conn
            .get_or_init(|| crate::ratelimit::redis::lazy_manager(&self.client));
        made.clone().map_err(|message| self.error(message))
    }

    fn error(&self, message: impl Into<String>) -> StateError {
        StateError {
            store: self.url.clone(),
            message: message.into(),
        }
    }

    fn key(&self, rest: std::fmt::Arguments<'_>) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// Wait for one command or pipeline, at most [`CALL_TIMEOUT`].
    async fn timed<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StateError> {
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Err(_) => Err(self.error(format!("no answer within {CALL_TIMEOUT:?}"))),
            Ok(Err(e)) => Err(self.error(e.to_string())),
            Ok(Ok(v)) => Ok(v),
        }
    }

    fn writer(&self) -> &mpsc::UnboundedSender<Write> {
        self.writer.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let (conn, bus) = (self.connection(), self.key(format_args!("bus")));
            let keys = Keys {
                prefix: self.prefix.clone(),
                bus,
                instance: self.instance.clone(),
            };
            tokio::spawn(write_loop(rx, conn, keys));
            tx
        })
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Send appends and publications in order, as many per pipeline as are
/// waiting. While Redis is away they are dropped (logged): the events of
/// a live connection were delivered already, and a resumption then finds
/// fewer of them.
/// What the writer names.
struct Keys {
    prefix: String,
    bus: String,
    instance: String,
}

async fn write_loop(
    mut rx: mpsc::UnboundedReceiver<Write>,
    conn: Result<ConnectionManager, StateError>,
    keys: Keys,
) {
    let Ok(mut conn) = conn else { return };
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for w in batch.drain(..) {
            add_write(&mut pipe, w, &keys);
        }
        let sent = tokio::time::timeout(CALL_TIMEOUT, pipe.query_async::<()>(&mut conn)).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("state store: events not written: {e}"),
            Err(_) => tracing::warn!("state store: events not written within {CALL_TIMEOUT:?}"),
        }
    }
}

fn add_write(pipe: &mut redis::Pipeline, w: Write, keys: &Keys) {
    let msg = match w {
        Write::Publish(msg) => msg,
        Write::Append(e) => {
            let key = format!("{}ev:{}:{}", keys.prefix, e.session, e.stream);
            let mut xadd = redis::cmd("XADD");
            xadd.arg(&key)
                .arg("MAXLEN")
                .arg("~")
                .arg(MAX_EVENTS)
                .arg("*");
            xadd.arg("o").arg(&keys.instance);
            if let Some(r) = &e.request {
                xadd.arg("r").arg(r);
            }
            let msg = match &e.event {
                Some(ev) => {
                    xadd.arg("q").arg(ev.seq).arg("d").arg(&ev.data);
                    BusMessage::Event {
                        s: e.session.clone(),
                        id: e.stream,
                        seq: ev.seq,
                        data: ev.data.clone(),
                    }
                }
                None => BusMessage::Finished {
                    s: e.session.clone(),
                    id: e.stream,
                },
            };
            if e.standalone {
                xadd.arg("s").arg(1);
            }
            if e.finished {
                xadd.arg("f").arg(1);
            }
            pipe.add_command(xadd).ignore();
            pipe.cmd("PEXPIRE").arg(&key).arg(ms(e.ttl)).ignore();
            msg
        }
    };
    if let Ok(text) = serde_json::to_string(&msg) {
        pipe.cmd("PUBLISH").arg(&keys.bus).arg(text).ignore();
    }
}

/// A stream's log from XRANGE: entries of field/value pairs.
fn logged(entries: Vec<(String, Vec<String>)>) -> Option<LoggedStream> {
    if entries.is_empty() {
        return None;
    }
    let mut out = LoggedStream::default();
    for (_, fields) in entries {
        let (mut seq, mut data) = (None, String::new());
        for pair in fields.chunks(2) {
            match (pair[0].as_str(), pair.get(1)) {
                ("q", Some(v)) => seq = v.parse().ok(),
                ("d", Some(v)) => data = v.clone(),
                ("s", _) => out.standalone = true,
                ("f", _) => out.finished = true,
                ("o", Some(v)) => out.owner = Some(v.clone()),
                ("r", Some(v)) => out.request = serde_json::from_str(v).ok(),
                _ => {}
            }
        }
        if let Some(seq) = seq {
            out.events.push(LoggedEvent { seq, data });
        }
    }
    Some(out)
}

impl StateStore for RedisState {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn admit<'a>(&'a self, id: &'a str, max: usize, idle: Duration) -> StateFuture<'a, Admitted> {
        Box::pin(async move {
            let mut call = self.scripts.admit.key(self.key(format_args!("sessions")));
            call.arg(id).arg(ms(idle)).arg(max);
            let (ok, victim): (i64, String) = self
                .timed(call.invoke_async(&mut self.connection()?))
                .await?;
            Ok(match ok {
                1 => Admitted::Yes {
                    evicted: (!victim.is_empty()).then_some(victim),
                },
                _ => Admitted::Full,
            })
        })
    }

    fn load<'a>(&'a self, id: &'a str, idle: Duration) -> StateFuture<'a, Option<SessionRecord>> {
        Box::pin(async move {
            let mut call = self.scripts.load.key(self.key(format_args!("s:{id}")));
            call.key(self.key(format_args!("s:{id}:subs")))
                .key(self.key(format_args!("sessions")))
                .arg(id)
                .arg(ms(idle));
            let (rec, subs): (String, Vec<String>) = self
                .timed(call.invoke_async(&mut self.connection()?))
                .await?;
            if rec.is_empty() {
                return Ok(None);
            }
            let mut record: SessionRecord = serde_json::from_str(&rec)
                .map_err(|e| self.error(format!("session {id}: unreadable record: {e}")))?;
            record.subscriptions = subs;
            Ok(Some(record))
        })
    }

    fn save<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
        idle: Duration,
    ) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let text = serde_json::to_string(record).map_err(|e| self.error(e.to_string()))?;
            let key = self.key(format_args!("s:{id}"));
            let mut conn = self.connection()?;
            let mut set = redis::cmd("SET");
            set.arg(&key).arg(&text).arg("PX").arg(ms(idle));
            self.timed(set.query_async::<()>(&mut conn)).await
        })
    }

    fn subscribe<'a>(&'a self, id: &'a str, uri: &'a str, on: bool) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let op = if on { "SADD" } else { "SREM" };
            let mut pipe = redis::pipe();
            pipe.cmd(op)
                .arg(self.key(format_args!("s:{id}:subs")))
                .arg(uri)
                .ignore();
            pipe.cmd(op)
                .arg(self.key(format_args!("subs:{uri}")))
                .arg(id)
                .ignore();
            self.timed(pipe.query_async::<()>(&mut self.connection()?))
                .await
        })
    }

    fn subscribers<'a>(&'a self, uri: &'a str) -> StateFuture<'a, Vec<String>> {
        Box::pin(async move {
            let mut call = self
                .scripts
                .subscribers
                .key(self.key(format_args!("subs:{uri}")));
            call.arg(&self.prefix);
            self.timed(call.invoke_async(&mut self.connection()?)).await
        })
    }

    fn keep_alive<'a>(&'a self, ids: &'a [String], idle: Duration) -> StateFuture<'a, Vec<String>> {
        Box::pin(async move {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut call = self.scripts.keep_alive.arg(&self.prefix);
            call.arg(ms(idle)).arg(ids);
            self.timed(call.invoke_async(&mut self.connection()?)).await
        })
    }

    fn end<'a>(&'a self, id: &'a str) -> StateFuture<'a, bool> {
        Box::pin(async move {
            let mut call = self.scripts.end.arg(&self.prefix);
            call.arg(id);
            let existed: i64 = self
                .timed(call.invoke_async(&mut self.connection()?))
                .await?;
            Ok(existed == 1)
        })
    }

    fn count(&self) -> StateFuture<'_, usize> {
        Box::pin(async move {
            let key = self.key(format_args!("sessions"));
            self.timed(
                redis::cmd("ZCARD")
                    .arg(&key)
                    .query_async(&mut self.connection()?),
            )
            .await
        })
    }

    fn append(&self, event: AppendEvent) {
        let _ = self.writer().send(Write::Append(event));
    }

    fn replay<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
    ) -> StateFuture<'a, Option<LoggedStream>> {
        Box::pin(async move {
            let key = self.key(format_args!("ev:{session}:{stream}"));
            let entries: Vec<(String, Vec<String>)> = self
                .timed(
                    redis::cmd("XRANGE")
                        .arg(&key)
                        .arg("-")
                        .arg("+")
                        .query_async(&mut self.connection()?),
                )
                .await?;
            Ok(logged(entries))
        })
    }

    fn alive<'a>(&'a self, instance: &'a str) -> StateFuture<'a, bool> {
        Box::pin(async move {
            let key = self.key(format_args!("inst:{instance}"));
            let n: i64 = self
                .timed(
                    redis::cmd("EXISTS")
                        .arg(&key)
                        .query_async(&mut self.connection()?),
                )
                .await?;
            Ok(n == 1)
        })
    }

    fn publish(&self, msg: BusMessage) {
        let _ = self.writer().send(Write::Publish(msg));
    }

    fn task_store(self: Arc<Self>) -> Option<Arc<dyn TaskStore>> {
        Some(self)
    }

    fn enable_toolset<'a>(&'a self, name: &'a str) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let mut sadd = redis::cmd("SADD");
            sadd.arg(self.key(format_args!("toolsets"))).arg(name);
            self.timed(sadd.query_async::<()>(&mut self.connection()?))
                .await
        })
    }

    fn listen(&self, handler: BusHandler) {
        if let Ok(conn) = self.connection() {
            let key = self.key(format_args!("inst:{}", self.instance));
            tokio::spawn(heartbeat(conn, key));
        }
        let (client, channel) = (self.client.clone(), self.key(format_args!("bus")));
        let toolsets = self.key(format_args!("toolsets"));
        tokio::spawn(async move {
            loop {
                let keys = (channel.as_str(), toolsets.as_str());
                if let Err(e) = listen_once(&client, keys, &handler).await {
                    tracing::warn!("state store bus: {e}; reconnecting");
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
    }
}

/// Task records as JSON under `task:{id}`, expiring with their TTL
/// (renewed by each change, as the memory store counts it): no bound on
/// their number is needed, expiry keeps Redis clean.
impl TaskStore for RedisState {
    fn create(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), McpError>> {
        Box::pin(async move {
            let text = serde_json::to_string(&record).map_err(|e| self.error(e.to_string()))?;
            let mut set = redis::cmd("SET");
            set.arg(self.key(format_args!("task:{}", record.id)))
                .arg(text)
                .arg("PX")
                .arg(record.ttl_ms.max(1));
            Ok(self
                .timed(set.query_async::<()>(&mut self.connection()?))
                .await?)
        })
    }

    fn get(&self, id: &str) -> BoxFuture<'_, Result<Option<TaskRecord>, McpError>> {
        let key = self.key(format_args!("task:{id}"));
        Box::pin(async move {
            let mut get = redis::cmd("GET");
            get.arg(&key);
            let text: Option<String> = self.timed(get.query_async(&mut self.connection()?)).await?;
            let Some(text) = text else { return Ok(None) };
            let record = serde_json::from_str(&text)
                .map_err(|e| self.error(format!("{key}: unreadable task record: {e}")))?;
            Ok(Some(record))
        })
    }

    fn advance(&self, record: TaskRecord) -> BoxFuture<'_, Result<bool, McpError>> {
        Box::pin(async move {
            let text = serde_json::to_string(&record).map_err(|e| self.error(e.to_string()))?;
            let mut call = self
                .scripts
                .advance_task
                .key(self.key(format_args!("task:{}", record.id)));
            call.arg(text).arg(record.ttl_ms.max(1));
            let replaced: i64 = self
                .timed(call.invoke_async(&mut self.connection()?))
                .await?;
            Ok(replaced == 1)
        })
    }
}

/// Say every second that this instance runs (for 3 s).
async fn heartbeat(mut conn: ConnectionManager, key: String) {
    loop {
        let mut set = redis::cmd("SET");
        set.arg(&key).arg(1).arg("PX").arg(3000);
        let _ = tokio::time::timeout(CALL_TIMEOUT, set.query_async::<()>(&mut conn)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Subscribe (`keys`: the bus channel and the toolsets key), catch up on
/// the toolsets kept, and deliver until the connection ends.
async fn listen_once(
    client: &redis::Client,
    (channel, toolsets): (&str, &str),
    handler: &BusHandler,
) -> Result<(), String> {
    let mut pubsub = tokio::time::timeout(CALL_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| format!("no connection within {CALL_TIMEOUT:?}"))?
        .map_err(|e| e.to_string())?;
    pubsub.subscribe(channel).await.map_err(|e| e.to_string())?;
    tracing::debug!("state store bus: listening on {channel}");
    // Read after subscribing: a toolset enabled in between arrives twice
    // (harmless), none is missed.
    for name in kept_toolsets(client, toolsets).await? {
        handler(BusMessage::ToolsetEnabled { name });
    }
    let mut messages = pubsub.into_on_message();
    while let Some(msg) = messages.next().await {
        match serde_json::from_slice::<BusMessage>(msg.get_payload_bytes()) {
            Ok(m) => handler(m),
            Err(e) => tracing::warn!("state store bus: unreadable message ignored: {e}"),
        }
    }
    Err("connection closed".into())
}

/// The toolsets kept under `key`.
async fn kept_toolsets(client: &redis::Client, key: &str) -> Result<Vec<String>, String> {
    let read = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("SMEMBERS")
            .arg(key)
            .query_async::<Vec<String>>(&mut conn)
            .await
    };
    tokio::time::timeout(CALL_TIMEOUT, read)
        .await
        .map_err(|_| format!("toolsets not read within {CALL_TIMEOUT:?}"))?
        .map_err(|e| format!("toolsets not read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_read_back_with_their_marks() {
        let entry = |f: &[&str]| ("1-0".to_owned(), f.iter().map(|s| s.to_string()).collect());
        let s = logged(vec![
            entry(&["o", "i1", "r", "7", "q", "0", "d", "", "s", "1"]),
            entry(&["q", "1", "d", "{}"]),
            entry(&["f", "1"]),
        ])
        .unwrap();
        assert!(s.standalone && s.finished);
        assert_eq!(
            (s.owner.as_deref(), s.request),
            (Some("i1"), Some(7.into()))
        );
        assert_eq!(s.events.len(), 2);
        assert_eq!(
            s.events[1],
            LoggedEvent {
                seq: 1,
                data: "{}".into()
            }
        );
        assert!(logged(vec![]).is_none());
    }
}

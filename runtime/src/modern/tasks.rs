//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) of MCP
//! 2026-07-28: a `tools/call` of a tool whose descriptor says
//! `execution.taskSupport` is `optional` or `required` answers at once with
//! a `CreateTaskResult`; the call runs in the background and the client
//! polls `tasks/get`, answers input with `tasks/update` and stops it with
//! `tasks/cancel` (see docs/protocol-2026.md).
//!
//! Task records sit behind [`TaskStore`], narrow and async so a shared
//! store can hold them: [`MemoryTaskStore`] keeps them in this process,
//! `RedisState` (feature `redis`) in Redis when the server uses it as its
//! state store. The running work itself (its cancellation token) is always
//! local to the process that runs it; a `tasks/cancel` reaching another
//! instance goes to it over the state store's bus.

use crate::cancel::Cancel;
use crate::error::McpError;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The extension's identifier, under `capabilities.extensions`.
pub const EXTENSION: &str = "io.modelcontextprotocol/tasks";
/// How long a task record stays readable after its last change, unless the
/// server sets another (`ServerBuilder::task_ttl`).
pub const DEFAULT_TASK_TTL: Duration = Duration::from_secs(600);
/// The tool descriptor's `_meta` key marking a tool that gathers its input
/// inline (MRTR) before it continues as a task.
pub const META_INPUT_BEFORE_TASK: &str = "dev.mcpgen/inputBeforeTask";
/// The polling interval suggested to clients.
pub const POLL_INTERVAL_MS: u64 = 500;
/// At most this many live task records in one [`MemoryTaskStore`].
pub const MAX_TASKS: usize = 10_000;

/// Whether a tool runs as a task (the descriptor's `execution.taskSupport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSupport {
    Forbidden,
    Optional,
    Required,
}

impl TaskSupport {
    /// From a tool descriptor; anything but `optional`/`required` is
    /// `forbidden` (the spec's default).
    pub fn of(descriptor: &Value) -> TaskSupport {
        match descriptor
            .pointer("/execution/taskSupport")
            .and_then(Value::as_str)
        {
            Some("optional") => TaskSupport::Optional,
            Some("required") => TaskSupport::Required,
            _ => TaskSupport::Forbidden,
        }
    }
}

/// Whether a task tool gathers input before it becomes a task (the
/// descriptor's `_meta["dev.mcpgen/inputBeforeTask"]`): its calls start
/// inline and become a task when the handler calls
/// `RequestContext::continue_as_task`.
pub fn input_before_task(descriptor: &Value) -> bool {
    descriptor
        .get("_meta")
        .and_then(|m| m.get(META_INPUT_BEFORE_TASK))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// A task's status on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Working,
    InputRequired,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

/// One task as stored. `call` (the `tools/call` params to run again once
/// input arrives) and `answers` are the server's own, never sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: String,
    pub status: TaskStatus,
    /// Milliseconds since the Unix epoch.
    pub created_ms: u64,
    pub updated_ms: u64,
    pub ttl_ms: u64,
    pub result: Option<Value>,
    pub error: Option<Value>,
    /// Pending input requests by key (status `input_required`).
    pub input_requests: Map<String, Value>,
    /// Answers gathered so far for the next round.
    pub answers: Map<String, Value>,
    /// The sealed MRTR state of the round that asked for input.
    pub request_state: Option<String>,
    /// The `tools/call` params (name, arguments, `_meta`).
    pub call: Value,
    /// Who created it: the authenticated subject (`AuthInfo::subject`),
    /// None without auth. Only the same subject may see or touch it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl TaskRecord {
    /// A new `working` task for the call `call`.
    pub fn new(call: Value, ttl: Duration) -> TaskRecord {
        let now = now_ms();
        TaskRecord {
            id: new_task_id(),
            status: TaskStatus::Working,
            created_ms: now,
            updated_ms: now,
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1),
            result: None,
            error: None,
            input_requests: Map::new(),
            answers: Map::new(),
            request_state: None,
            call,
            owner: None,
        }
    }

    /// Whether the record outlived its TTL (counted from its last change).
    pub fn expired(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.updated_ms) >= self.ttl_ms
    }

    /// Mark a change now.
    pub fn touch(&mut self) {
        self.updated_ms = now_ms().max(self.updated_ms);
    }

    /// The `Task` fields every answer about a task carries.
    fn envelope(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("taskId".into(), json!(self.id));
        m.insert("status".into(), json!(self.status));
        m.insert("createdAt".into(), json!(rfc3339(self.created_ms)));
        m.insert("lastUpdatedAt".into(), json!(rfc3339(self.updated_ms)));
        m.insert("ttlMs".into(), json!(self.ttl_ms));
        m.insert("pollIntervalMs".into(), json!(POLL_INTERVAL_MS));
        m
    }

    /// The `CreateTaskResult` of the `tools/call` that made the task.
    pub fn create_result(&self) -> Value {
        let mut m = self.envelope();
        m.insert("resultType".into(), json!("task"));
        Value::Object(m)
    }

    /// The `DetailedTask` of `tasks/get`: the result, error or pending input
    /// inlined by status.
    pub fn detailed(&self) -> Value {
        let mut m = self.envelope();
        match self.status {
            TaskStatus::Completed => {
                m.insert("result".into(), self.result.clone().unwrap_or(json!({})));
            }
            TaskStatus::Failed => {
                let e = self.error.clone().unwrap_or_else(
                    || json!({"code": crate::jsonrpc::INTERNAL_ERROR, "message": "task failed"}),
                );
                m.insert("error".into(), e);
            }
            TaskStatus::InputRequired => {
                m.insert(
                    "inputRequests".into(),
                    Value::Object(self.input_requests.clone()),
                );
            }
            TaskStatus::Working | TaskStatus::Cancelled => {}
        }
        Value::Object(m)
    }
}

/// Where task records live. Narrow on purpose: a shared store implements
/// these four calls (with the TTL as the key's expiry) and nothing else.
pub trait TaskStore: Send + Sync + 'static {
    /// Store a new record; `Err` when the store is full or unreachable.
    fn create(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), McpError>>;
    /// The record, or None when unknown or expired.
    fn get(&self, id: &str) -> BoxFuture<'_, Result<Option<TaskRecord>, McpError>>;
    /// Replace the record unless the stored one is terminal, missing or
    /// expired (a cancelled task stays cancelled). Whether it was replaced.
    fn advance(&self, record: TaskRecord) -> BoxFuture<'_, Result<bool, McpError>>;
}

/// Task records in this process, swept of expired ones as new ones come.
#[derive(Default)]
pub struct MemoryTaskStore {
    records: Mutex<HashMap<String, TaskRecord>>,
}

impl MemoryTaskStore {
    pub fn new() -> MemoryTaskStore {
        MemoryTaskStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TaskRecord>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TaskStore for MemoryTaskStore {
    fn create(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), McpError>> {
        let mut map = self.lock();
        let now = now_ms();
        map.retain(|_, r| !r.expired(now));
        let outcome = if map.len() >= MAX_TASKS {
            Err(McpError::internal(format!(
                "too many tasks (at most {MAX_TASKS} at once); try again later"
            )))
        } else {
            map.insert(record.id.clone(), record);
            Ok(())
        };
        Box::pin(std::future::ready(outcome))
    }

    fn get(&self, id: &str) -> BoxFuture<'_, Result<Option<TaskRecord>, McpError>> {
        let mut map = self.lock();
        let found = match map.get(id) {
            Some(r) if r.expired(now_ms()) => {
                map.remove(id);
                None
            }
            other => other.cloned(),
        };
        Box::pin(std::future::ready(Ok(found)))
    }

    fn advance(&self, record: TaskRecord) -> BoxFuture<'_, Result<bool, McpError>> {
        let mut map = self.lock();
        let now = now_ms();
        let replaced = match map.get_mut(&record.id) {
            Some(r) if !r.status.is_terminal() && !r.expired(now) => {
                *r = record;
                true
            }
            _ => false,
        };
        Box::pin(std::future::ready(Ok(replaced)))
    }
}

/// The tasks of a server: the store, the TTL of new tasks and the
/// cancellation tokens of the ones running here.
pub(crate) struct Tasks {
    pub(crate) store: std::sync::Arc<dyn TaskStore>,
    pub(crate) ttl: Duration,
    running: Mutex<HashMap<String, Cancel>>,
}

impl Tasks {
    pub(crate) fn new(store: std::sync::Arc<dyn TaskStore>, ttl: Duration) -> Tasks {
        Tasks {
            store,
            ttl,
            running: Mutex::new(HashMap::new()),
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cancel>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A token for a round of `id` that runs here.
    pub(crate) fn start(&self, id: &str) -> Cancel {
        let token = Cancel::new();
        self.running().insert(id.to_owned(), token.clone());
        token
    }

    pub(crate) fn finish(&self, id: &str) {
        self.running().remove(id);
    }

    /// Stop the round of `id` if it runs here; whether it did.
    pub(crate) fn stop(&self, id: &str) -> bool {
        let running = self.running().remove(id);
        if let Some(t) = &running {
            t.cancel();
        }
        running.is_some()
    }

    /// The record of `id` if `principal` (the caller's subject, None
    /// without auth) created it; -32602 when unknown, expired or another
    /// caller's — the same error, so a task id of someone else's is not
    /// told apart from one that does not exist.
    pub(crate) async fn find(
        &self,
        id: &str,
        principal: Option<&str>,
    ) -> Result<TaskRecord, McpError> {
        self.store
            .get(id)
            .await?
            .filter(|r| r.owner.as_deref() == principal)
            .ok_or_else(|| McpError::invalid_params(format!("Unknown task: {id}")))
    }
}

/// Whether a request's client capabilities declare the extension.
pub(crate) fn declared(capabilities: &Value) -> bool {
    capabilities
        .get("extensions")
        .and_then(|e| e.get(EXTENSION))
        .is_some()
}

/// `-32021` naming the extension the request should have declared.
pub(crate) fn missing_extension() -> McpError {
    McpError::new(
        super::MISSING_CLIENT_CAPABILITY,
        format!("this request needs the client extension `{EXTENSION}`, which it did not declare"),
    )
    .with_data(json!({ "requiredCapabilities": { "extensions": { EXTENSION: {} } } }))
}

/// `params.taskId` of a `tasks/*` request (-32602 when missing).
pub(crate) fn task_id(params: Option<&Value>) -> Result<String, McpError> {
    params
        .and_then(|p| p.get("taskId"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| McpError::invalid_params("params.taskId must be a string"))
}

/// Merge a `tasks/update`'s answers into a record parked on input: answered
/// keys leave `input_requests`; answers to nothing pending (a repeat, or a
/// key the server never asked) are ignored. -32602 for an answer that is
/// not an object.
pub(crate) fn take_answers(
    record: &mut TaskRecord,
    params: Option<&Value>,
) -> Result<(), McpError> {
    let answers = match params.and_then(|p| p.get("inputResponses")) {
        Some(Value::Object(m)) => m,
        _ => {
            return Err(McpError::invalid_params(
                "params.inputResponses must be an object of answers by input key",
            ));
        }
    };
    for (k, v) in answers {
        if !v.is_object() {
            return Err(McpError::invalid_params(format!(
                "inputResponses.{k} must be an object"
            )));
        }
        if record.input_requests.remove(k).is_some() {
            record.answers.insert(k.clone(), v.clone());
        }
    }
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// 128 random bits as hex: unguessable, so a task id is its own capability.
fn new_task_id() -> String {
    crate::session::new_session_id()
}

/// `ms` since the epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_979_200_123), "2025-12-06T00:00:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn task_support_comes_from_the_descriptor() {
        let d = |s: &str| json!({"execution": {"taskSupport": s}});
        assert_eq!(TaskSupport::of(&d("optional")), TaskSupport::Optional);
        assert_eq!(TaskSupport::of(&d("required")), TaskSupport::Required);
        assert_eq!(TaskSupport::of(&d("forbidden")), TaskSupport::Forbidden);
        assert_eq!(TaskSupport::of(&json!({})), TaskSupport::Forbidden);
    }
}

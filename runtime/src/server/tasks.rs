//! The server side of the tasks extension (`modern/tasks.rs`): task
//! creation on `tools/call`, the `tasks/*` methods and the background
//! rounds that run a task's tool.

use super::Server;
use crate::cancel::Cancel;
use crate::error::McpError;
use crate::jsonrpc::{Request, RequestId};
use crate::modern::{self, listen, tasks};
use crate::session::Outbound;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tasks::{TaskRecord, TaskStatus, TaskStore, TaskSupport, Tasks};

impl Server {
    fn tasks(&self) -> &Tasks {
        self.0.tasks.get_or_init(|| {
            Tasks::new(
                Arc::new(tasks::MemoryTaskStore::new()),
                tasks::DEFAULT_TASK_TTL,
            )
        })
    }

    /// Keep task records in `store`, each readable for `ttl` after its last
    /// change. False when tasks are already in use (set it before serving).
    pub fn set_task_store(&self, store: Arc<dyn TaskStore>, ttl: Duration) -> bool {
        self.0.tasks.set(Tasks::new(store, ttl)).is_ok()
    }

    /// Stop the round of task `id` if it runs in this process (a
    /// `tasks/cancel` that reached another instance). Whether it ran here.
    pub fn cancel_local_task(&self, id: &str) -> bool {
        self.tasks().stop(id)
    }

    /// The task support of the tool a `tools/call` names (and whether it
    /// asks for input first); None when the call runs inline whatever the
    /// client declared: it names no tool, or one that forbids tasks.
    pub(super) fn task_capable(&self, req: &Request) -> Option<(TaskSupport, bool)> {
        let name = crate::jsonrpc::param(req.params.as_ref(), "name").and_then(Value::as_str)?;
        let support = self.0.tools.task_support(name);
        (support.0 != TaskSupport::Forbidden).then_some(support)
    }

    /// How a `tools/call` from a client that did (`declared`) or did not
    /// declare the extension starts: a task-supporting tool becomes a task
    /// at once (stored, its first round started, the `CreateTaskResult`
    /// returned), or first gathers input inline (`inputBeforeTask`); other
    /// calls run inline. -32021 when the tool needs a task and the client
    /// did not declare the extension.
    pub(super) async fn task_start(
        &self,
        req: &Request,
        declared: bool,
        principal: Option<&str>,
    ) -> Result<TaskStart, McpError> {
        let Some(support) = self.task_capable(req) else {
            return Ok(TaskStart::Inline);
        };
        match (support, declared) {
            // (Forbidden never reaches here: `task_capable` says inline.)
            ((TaskSupport::Forbidden | TaskSupport::Optional, _), false) => Ok(TaskStart::Inline),
            ((TaskSupport::Required, _), false) => Err(tasks::missing_extension()),
            ((_, true), true) => Ok(TaskStart::InputFirst),
            ((_, false), true) => {
                let call = req.params_with_meta().unwrap_or(Value::Null);
                let created = self
                    .create_task(call, Default::default(), principal)
                    .await?;
                Ok(TaskStart::Created(created))
            }
        }
    }

    /// Store a task for the `tools/call` params `call` (its first round
    /// gets `answers` as `inputResponses`: the input gathered inline
    /// before it became a task), start its first round, and return the
    /// `CreateTaskResult`.
    pub(super) async fn create_task(
        &self,
        mut call: Value,
        answers: serde_json::Map<String, Value>,
        principal: Option<&str>,
    ) -> Result<Value, McpError> {
        if let Some(p) = call.as_object_mut() {
            // A legacy v1 `task` hint is tolerated and ignored; the MRTR
            // phase's fields do not follow the call into the task.
            p.remove("task");
            p.remove("inputResponses");
            p.remove("requestState");
        }
        let mut record = TaskRecord::new(call, self.tasks().ttl);
        record.answers = answers;
        record.owner = principal.map(str::to_owned);
        // Durable before it is announced: a tasks/get right after resolves.
        self.tasks().store.create(record.clone()).await?;
        let created = record.create_result();
        self.spawn_round(record);
        Ok(created)
    }

    /// The current status of each of `ids` that `principal` may see, as
    /// `notifications/tasks` changes (unknown, expired and other callers'
    /// tasks left out, as is a store that cannot answer now).
    pub(super) async fn task_states(
        &self,
        ids: &std::collections::BTreeSet<String>,
        principal: Option<&str>,
    ) -> Vec<listen::Change> {
        let mut states = Vec::new();
        for id in ids {
            if let Ok(record) = self.tasks().find(id, principal).await {
                states.push(status_change(&record));
            }
        }
        states
    }

    /// Tell the listeners of the task (`subscriptions/listen` with its id
    /// in `taskIds`) its new status: here, or on every instance through the
    /// shared store's bus.
    fn task_changed(&self, record: &TaskRecord) {
        let change = status_change(record);
        match self.state_store() {
            Some(store) => {
                let listen::Change::TaskStatus { task, .. } = &change else {
                    return;
                };
                let msg =
                    crate::jsonrpc::Message::notification(listen::TASK_STATUS, (**task).clone());
                // To no session: the listeners of every instance take it.
                store.publish(crate::state::BusMessage::Notify {
                    sessions: Some(Vec::new()),
                    data: msg.to_value(),
                });
            }
            None => self.notify_listeners(change),
        }
    }

    /// `tasks/get`, `tasks/update`, `tasks/cancel` (-32021 unless the
    /// request declared the extension; -32602 for an unknown task).
    pub(super) async fn task_method(
        &self,
        method: &str,
        params: Option<&Value>,
        declared: bool,
        principal: Option<&str>,
    ) -> Result<Value, McpError> {
        if !declared {
            return Err(tasks::missing_extension());
        }
        let id = tasks::task_id(params)?;
        let tasks = self.tasks();
        let mut record = tasks.find(&id, principal).await?;
        match method {
            "tasks/get" => return Ok(record.detailed()),
            "tasks/cancel" => {
                // Cancelling a finished task is acknowledged and changes nothing.
                if !record.status.is_terminal() {
                    record.status = TaskStatus::Cancelled;
                    record.input_requests.clear();
                    record.touch();
                    if tasks.store.advance(record.clone()).await? {
                        self.task_changed(&record);
                    }
                }
                if !tasks.stop(&id)
                    && let Some(store) = self.state_store()
                {
                    // Running on another instance, maybe: the bus reaches it.
                    store.publish(crate::state::BusMessage::CancelTask { task: id });
                }
            }
            "tasks/update" => self.update_task(record, params).await?,
            other => return Err(McpError::method_not_found(other)),
        }
        // An empty ack: the new state is seen on the next tasks/get.
        Ok(json!({}))
    }

    /// Take a `tasks/update`'s answers; once nothing is pending, run the
    /// tool again with every answer.
    async fn update_task(
        &self,
        mut record: TaskRecord,
        params: Option<&Value>,
    ) -> Result<(), McpError> {
        if record.status != TaskStatus::InputRequired {
            return Err(McpError::invalid_params(format!(
                "task {} is not waiting for input",
                record.id
            )));
        }
        tasks::take_answers(&mut record, params)?;
        let ready = record.input_requests.is_empty();
        if ready {
            record.status = TaskStatus::Working;
        }
        record.touch();
        if !self.tasks().store.advance(record.clone()).await? {
            return Err(McpError::invalid_params(format!(
                "task {} is no longer waiting for input",
                record.id
            )));
        }
        self.task_changed(&record);
        if ready {
            self.spawn_round(record);
        }
        Ok(())
    }

    /// Run a round of the task's tool on a task of its own.
    fn spawn_round(&self, record: TaskRecord) {
        let cancel = self.tasks().start(&record.id);
        let server = self.clone();
        tokio::spawn(async move { server.run_round(record, cancel).await });
    }

    /// One round: the stored call, with the answers gathered so far, run as
    /// a modern `tools/call`; its outcome settles the record (unless the
    /// task was cancelled meanwhile).
    async fn run_round(self, mut record: TaskRecord, cancel: Cancel) {
        let mut params = record.call.clone();
        if let Some(p) = params.as_object_mut() {
            let answers = std::mem::take(&mut record.answers);
            if !answers.is_empty() {
                p.insert("inputResponses".into(), Value::Object(answers));
            }
            if let Some(state) = record.request_state.take() {
                p.insert("requestState".into(), Value::String(state));
            }
        }
        let outcome = match modern::parse_meta(Some(&params)) {
            Ok(meta) => {
                let req = Request {
                    id: RequestId::String(format!("task-{}", record.id)),
                    method: "tools/call".into(),
                    params: Some(params),
                    modern_meta: None,
                };
                // Nobody listens to a task's notifications: they go nowhere.
                // The round runs on no caller's behalf: the HTTP endpoint
                // checked the creator's token and scopes when it was made.
                let (out, _inbox) = Outbound::channel();
                let no_caller = super::Caller {
                    http_headers: None,
                    extensions: http::Extensions::new(),
                };
                let client = self.stateless_client(meta);
                let round = self.clone().stateless_call(
                    req,
                    client,
                    out,
                    cancel,
                    no_caller,
                    CallMode::TaskRound,
                    None,
                );
                round
                    .await
                    .map(|r| r.map(crate::jsonrpc::Payload::into_value))
            }
            Err(e) => Some(Err(e)),
        };
        self.tasks().finish(&record.id);
        settle(&mut record, outcome);
        record.touch();
        match self.tasks().store.advance(record.clone()).await {
            Ok(true) => self.task_changed(&record),
            // Cancelled meanwhile: the cancel told the listeners.
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e.0.message, "a task's outcome could not be stored"),
        }
    }
}

/// A record's status as the change listeners get.
fn status_change(record: &TaskRecord) -> listen::Change {
    listen::Change::TaskStatus {
        id: record.id.clone(),
        task: Arc::new(record.detailed()),
    }
}

/// How a `tools/call` starts (see [`Server::task_start`]).
pub(super) enum TaskStart {
    /// An ordinary call.
    Inline,
    /// Inline, with MRTR, until the handler continues as a task.
    InputFirst,
    /// A task was created: its `CreateTaskResult`.
    Created(Value),
}

/// How a stateless call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallMode {
    /// An ordinary request.
    Inline,
    /// The inline phase of an `inputBeforeTask` tool: the handler may
    /// continue as a task.
    InputFirst,
    /// A round of a task: a panic fails the task.
    TaskRound,
}

/// What a round's outcome makes of the record: parked on input, completed
/// (a tool error too: `result.isError`), failed (a protocol error) or
/// cancelled (no outcome).
fn settle(record: &mut TaskRecord, outcome: Option<Result<Value, McpError>>) {
    match outcome {
        None => record.status = TaskStatus::Cancelled,
        Some(Ok(mut v))
            if v.get("resultType").and_then(Value::as_str) == Some("input_required") =>
        {
            record.status = TaskStatus::InputRequired;
            record.request_state = v
                .get("requestState")
                .and_then(Value::as_str)
                .map(str::to_owned);
            record.input_requests = match v.get_mut("inputRequests").map(Value::take) {
                Some(Value::Object(m)) => m,
                _ => Default::default(),
            };
        }
        Some(Ok(v)) => {
            record.status = TaskStatus::Completed;
            record.result = Some(v);
        }
        Some(Err(e)) => {
            record.status = TaskStatus::Failed;
            record.error = Some(serde_json::to_value(&e.0).unwrap_or_else(
                |_| json!({"code": crate::jsonrpc::INTERNAL_ERROR, "message": e.0.message}),
            ));
        }
    }
}

//! `subscriptions/listen` (MCP 2026-07-28): a long-lived request on which
//! the server delivers the change notifications the client opted in to,
//! each tagged with the subscription's id (the request's id). It replaces
//! the session era's GET stream and `resources/subscribe`.
//!
//! Changes come from the same calls that notify sessions
//! (`Server::notify_list_changed`, `Server::notify_resource_updated`), and
//! from task status changes (`notifications/tasks`, tasks extension),
//! through `Server::notify_listeners`, into an in-process broadcast.
//!
//! A listener's client may read slowly or not at all: at most
//! [`MAX_QUEUED`] notifications wait in its outbound queue; further changes
//! wait in a `Pending` set where a repeat replaces the one already there
//! (list_changed and resources/updated are idempotent, a task's newer
//! status supersedes the older), so what a listener holds is bounded by
//! what it subscribed to, however many changes happen.

use crate::error::McpError;
use crate::jsonrpc::{Message, RequestId};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashSet, VecDeque};
use tokio::sync::broadcast;

const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// Changes a slow listener may fall behind by before it is resynchronized
/// (see [`Filter::resync`]).
const BACKLOG: usize = 256;

/// Notifications a listener may have waiting in its outbound queue (sent,
/// not yet taken by the transport) before the rest waits, coalesced, in
/// its `Pending` set.
pub const MAX_QUEUED: usize = 32;

/// The notification of a task's status (tasks extension).
pub const TASK_STATUS: &str = "notifications/tasks";

/// A change listeners may be told about.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `notifications/{tools,resources,prompts}/list_changed`.
    ListChanged(ListKind),
    /// `notifications/resources/updated` for this URI.
    ResourceUpdated(String),
    /// `notifications/tasks`: the task's `DetailedTask`, as `tasks/get`
    /// would answer now.
    TaskStatus {
        /// The task's id.
        id: String,
        /// The `DetailedTask` object.
        task: std::sync::Arc<Value>,
    },
}

impl Change {
    /// The change a session-era notification announces
    /// (`notifications/resources/updated`, `notifications/*/list_changed`),
    /// as it arrives from another instance over a shared store's bus.
    pub(crate) fn from_notification(msg: &Message) -> Option<Change> {
        let Message::Notification(n) = msg else {
            return None;
        };
        if n.method == "notifications/resources/updated" {
            let uri = n.params.as_ref()?.get("uri")?.as_str()?;
            return Some(Change::ResourceUpdated(uri.to_owned()));
        }
        if n.method == TASK_STATUS {
            let task = n.params.as_ref()?;
            let id = task.get("taskId")?.as_str()?.to_owned();
            return Some(Change::TaskStatus {
                id,
                task: std::sync::Arc::new(task.clone()),
            });
        }
        let list = n
            .method
            .strip_prefix("notifications/")?
            .strip_suffix("/list_changed")?;
        ListKind::from_name(list).map(Change::ListChanged)
    }
}

/// Which list changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Tools,
    Resources,
    Prompts,
}

impl ListKind {
    /// From the list's name in the notification method (`tools`…).
    pub fn from_name(name: &str) -> Option<ListKind> {
        match name {
            "tools" => Some(ListKind::Tools),
            "resources" => Some(ListKind::Resources),
            "prompts" => Some(ListKind::Prompts),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Resources => "resources",
            ListKind::Prompts => "prompts",
        }
    }
}

/// The in-process fan-out to open listen requests.
pub(crate) struct Listeners(broadcast::Sender<Change>);

impl Listeners {
    pub(crate) fn new() -> Listeners {
        Listeners(broadcast::channel(BACKLOG).0)
    }
    pub(crate) fn publish(&self, change: Change) {
        // No listener is not an error.
        let _ = self.0.send(change);
    }
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.0.subscribe()
    }
    pub(crate) fn count(&self) -> usize {
        self.0.receiver_count()
    }
}

/// What one listen request agreed to deliver.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    tools: bool,
    resources: bool,
    prompts: bool,
    uris: BTreeSet<String>,
    /// Tasks whose status changes are sent (`notifications/tasks`).
    pub(crate) task_ids: BTreeSet<String>,
}

/// What the server can deliver: which lists it has, which URIs exist.
pub(crate) struct Offer<'a> {
    pub(crate) tools: bool,
    pub(crate) resources: bool,
    pub(crate) prompts: bool,
    pub(crate) resource_exists: &'a dyn Fn(&str) -> bool,
    /// Whether the request declared the tasks extension.
    pub(crate) tasks_declared: bool,
}

/// The filter of a listen request's `params.notifications`, narrowed to
/// what the server offers (-32602 when it is malformed).
pub(crate) fn filter(params: Option<&Value>, offer: &Offer<'_>) -> Result<Filter, McpError> {
    let n = match params.and_then(|p| p.get("notifications")) {
        Some(Value::Object(n)) => n,
        Some(_) => return Err(McpError::invalid_params("notifications must be an object")),
        None => return Err(McpError::invalid_params("notifications is required")),
    };
    let flag = |key: &str| match n.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(McpError::invalid_params(format!(
            "notifications.{key} must be a boolean"
        ))),
    };
    let uris = strings(n, "resourceSubscriptions", "URIs")?;
    let task_ids = strings(n, "taskIds", "task ids")?;
    if !task_ids.is_empty() && !offer.tasks_declared {
        // The extension says MUST: task notifications need it declared.
        return Err(super::tasks::missing_extension());
    }
    Ok(Filter {
        tools: flag("toolsListChanged")? && offer.tools,
        resources: flag("resourcesListChanged")? && offer.resources,
        prompts: flag("promptsListChanged")? && offer.prompts,
        uris: uris
            .into_iter()
            .filter(|u| (offer.resource_exists)(u))
            .collect(),
        // Narrowed by the server to the caller's live tasks.
        task_ids: task_ids.into_iter().collect(),
    })
}

/// `notifications.<key>`: an array of at most 1024 strings (-32602
/// otherwise); empty when absent.
fn strings(n: &Map<String, Value>, key: &str, what: &str) -> Result<Vec<String>, McpError> {
    let max = crate::session::MAX_SUBSCRIPTIONS;
    match n.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) if a.len() <= max => a
            .iter()
            .map(|u| u.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                McpError::invalid_params(format!("notifications.{key} must be {what} (strings)"))
            }),
        Some(Value::Array(_)) => Err(McpError::invalid_params(format!(
            "notifications.{key} may name at most {max} {what}"
        ))),
        Some(_) => Err(McpError::invalid_params(format!(
            "notifications.{key} must be an array"
        ))),
    }
}

impl Filter {
    pub(crate) fn accepts(&self, change: &Change) -> bool {
        match change {
            Change::ListChanged(ListKind::Tools) => self.tools,
            Change::ListChanged(ListKind::Resources) => self.resources,
            Change::ListChanged(ListKind::Prompts) => self.prompts,
            Change::ResourceUpdated(uri) => self.uris.contains(uri),
            Change::TaskStatus { id, .. } => self.task_ids.contains(id),
        }
    }

    /// The agreed subset, as the acknowledgment reports it.
    fn agreed(&self) -> Value {
        let mut m = Map::new();
        for (key, on) in [
            ("toolsListChanged", self.tools),
            ("resourcesListChanged", self.resources),
            ("promptsListChanged", self.prompts),
        ] {
            if on {
                m.insert(key.into(), Value::Bool(true));
            }
        }
        if !self.uris.is_empty() {
            m.insert("resourceSubscriptions".into(), json!(self.uris));
        }
        if !self.task_ids.is_empty() {
            m.insert("taskIds".into(), json!(self.task_ids));
        }
        Value::Object(m)
    }

    /// What a listener that fell behind is sent instead of the changes it
    /// missed: every notification it agreed to, so it fetches afresh (the
    /// server adds the current status of its tasks).
    pub(crate) fn resync(&self) -> Vec<Change> {
        let lists = [ListKind::Tools, ListKind::Resources, ListKind::Prompts]
            .into_iter()
            .map(Change::ListChanged);
        let uris = self.uris.iter().cloned().map(Change::ResourceUpdated);
        lists.chain(uris).filter(|c| self.accepts(c)).collect()
    }
}

fn tagged(method: &str, mut params: Map<String, Value>, id: &RequestId) -> Message {
    params.insert("_meta".into(), json!({ META_SUBSCRIPTION_ID: id }));
    Message::notification(method, Value::Object(params))
}

/// `notifications/subscriptions/acknowledged`, the first message of a listen.
pub(crate) fn acknowledged(filter: &Filter, id: &RequestId) -> Message {
    let mut params = Map::new();
    params.insert("notifications".into(), filter.agreed());
    tagged("notifications/subscriptions/acknowledged", params, id)
}

/// A change as the notification a listener gets.
pub(crate) fn notification(change: &Change, id: &RequestId) -> Message {
    match change {
        Change::ListChanged(kind) => tagged(
            &format!("notifications/{}/list_changed", kind.name()),
            Map::new(),
            id,
        ),
        Change::ResourceUpdated(uri) => {
            let mut params = Map::new();
            params.insert("uri".into(), Value::String(uri.clone()));
            tagged("notifications/resources/updated", params, id)
        }
        Change::TaskStatus { task, .. } => {
            let params = task.as_object().cloned().unwrap_or_default();
            tagged(TASK_STATUS, params, id)
        }
    }
}

/// Changes a listener has yet to send, in order, each at most once: a
/// repeat of a list_changed or a resources/updated already waiting is
/// dropped (the one waiting says the same), a task's newer status replaces
/// the older in place. So it never holds more than one entry per list, URI
/// and task the listener agreed to.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    queue: VecDeque<Change>,
    keys: HashSet<(u8, String)>,
}

fn key(change: &Change) -> (u8, String) {
    match change {
        Change::ListChanged(kind) => (0, kind.name().to_owned()),
        Change::ResourceUpdated(uri) => (1, uri.clone()),
        Change::TaskStatus { id, .. } => (2, id.clone()),
    }
}

impl Pending {
    pub(crate) fn push(&mut self, change: Change) {
        if self.keys.insert(key(&change)) {
            self.queue.push_back(change);
        } else if let Change::TaskStatus { id, .. } = &change {
            let waiting = self
                .queue
                .iter_mut()
                .find(|c| matches!(c, Change::TaskStatus { id: other, .. } if other == id));
            if let Some(w) = waiting {
                *w = change;
            }
        }
    }
    pub(crate) fn pop(&mut self) -> Option<Change> {
        let change = self.queue.pop_front()?;
        self.keys.remove(&key(&change));
        Some(change)
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

/// The result that ends a listen gracefully (before the envelope).
pub(crate) fn ended(id: &RequestId) -> Value {
    json!({ "_meta": { META_SUBSCRIPTION_ID: id } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_from_the_bus_becomes_the_change_it_announces() {
        let updated = Message::notification(
            "notifications/resources/updated",
            json!({ "uri": "file:///a" }),
        );
        assert_eq!(
            Change::from_notification(&updated),
            Some(Change::ResourceUpdated("file:///a".into()))
        );
        for (list, kind) in [
            ("tools", ListKind::Tools),
            ("resources", ListKind::Resources),
            ("prompts", ListKind::Prompts),
        ] {
            let m = Message::notification(&format!("notifications/{list}/list_changed"), json!({}));
            assert_eq!(
                Change::from_notification(&m),
                Some(Change::ListChanged(kind))
            );
        }
        // Not a change: other notifications, an updated without a URI.
        for m in [
            Message::notification("notifications/roots/list_changed", json!({})),
            Message::notification("notifications/message", json!({ "level": "info" })),
            Message::notification("notifications/resources/updated", json!({})),
        ] {
            assert_eq!(Change::from_notification(&m), None, "{m:?}");
        }
    }

    fn offer(exists: &dyn Fn(&str) -> bool) -> Offer<'_> {
        Offer {
            tools: true,
            resources: true,
            prompts: false,
            resource_exists: exists,
            tasks_declared: false,
        }
    }

    #[test]
    fn the_filter_keeps_what_was_asked_and_is_offered() {
        let exists = |u: &str| u.starts_with("test://");
        let p = json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true,
            "resourceSubscriptions": ["test://a", "other://b"]}});
        let f = filter(Some(&p), &offer(&exists)).unwrap();
        assert!(f.accepts(&Change::ListChanged(ListKind::Tools)));
        assert!(
            !f.accepts(&Change::ListChanged(ListKind::Prompts)),
            "no prompts offered"
        );
        assert!(
            !f.accepts(&Change::ListChanged(ListKind::Resources)),
            "not asked"
        );
        assert!(f.accepts(&Change::ResourceUpdated("test://a".into())));
        assert!(!f.accepts(&Change::ResourceUpdated("other://b".into())));
        assert_eq!(
            f.agreed(),
            json!({"toolsListChanged": true, "resourceSubscriptions": ["test://a"]})
        );
        assert_eq!(f.resync().len(), 2);
        for bad in [
            json!({}),
            json!({"notifications": []}),
            json!({"notifications": {"toolsListChanged": "yes"}}),
            json!({"notifications": {"resourceSubscriptions": "test://a"}}),
            json!({"notifications": {"resourceSubscriptions": [1]}}),
        ] {
            let e = filter(Some(&bad), &offer(&exists)).unwrap_err();
            assert_eq!(e.code(), crate::jsonrpc::INVALID_PARAMS, "{bad}");
        }
    }

    fn value(m: Message) -> Value {
        serde_json::from_str(&m.to_json()).unwrap()
    }

    #[test]
    fn every_message_carries_the_subscription_id() {
        let id = RequestId::Number(7);
        let f = Filter::default();
        let ack = value(acknowledged(&f, &id));
        assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
        assert_eq!(ack["params"]["notifications"], json!({}));
        assert_eq!(ack["params"]["_meta"][META_SUBSCRIPTION_ID], 7);
        let n = value(notification(&Change::ResourceUpdated("x://y".into()), &id));
        assert_eq!(n["method"], "notifications/resources/updated");
        assert_eq!(n["params"]["uri"], "x://y");
        assert_eq!(n["params"]["_meta"][META_SUBSCRIPTION_ID], 7);
        let n = value(notification(&Change::ListChanged(ListKind::Prompts), &id));
        assert_eq!(n["method"], "notifications/prompts/list_changed");
    }

    #[test]
    fn pending_changes_are_coalesced_and_a_task_keeps_its_latest_status() {
        let task = |id: &str, status: &str| Change::TaskStatus {
            id: id.into(),
            task: std::sync::Arc::new(json!({"taskId": id, "status": status})),
        };
        let mut p = Pending::default();
        for _ in 0..1000 {
            p.push(Change::ListChanged(ListKind::Tools));
            p.push(Change::ResourceUpdated("x://a".into()));
            p.push(task("t1", "working"));
        }
        p.push(task("t1", "completed"));
        assert_eq!(p.len(), 3);
        assert_eq!(p.pop(), Some(Change::ListChanged(ListKind::Tools)));
        assert_eq!(p.pop(), Some(Change::ResourceUpdated("x://a".into())));
        assert_eq!(p.pop(), Some(task("t1", "completed")));
        assert!(p.is_empty());
        // Once sent, the same change waits again.
        p.push(Change::ListChanged(ListKind::Tools));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn task_ids_need_the_extension_and_are_acknowledged() {
        let exists = |_: &str| true;
        let p = json!({"notifications": {"taskIds": ["t1", "t2"]}});
        let e = filter(Some(&p), &offer(&exists)).unwrap_err();
        assert_eq!(e.code(), crate::modern::MISSING_CLIENT_CAPABILITY);
        let declared = Offer {
            tasks_declared: true,
            ..offer(&exists)
        };
        let f = filter(Some(&p), &declared).unwrap();
        assert_eq!(f.agreed(), json!({"taskIds": ["t1", "t2"]}));
        let status = Change::TaskStatus {
            id: "t2".into(),
            task: std::sync::Arc::new(json!({"taskId": "t2", "status": "completed"})),
        };
        assert!(f.accepts(&status));
        let n = value(notification(&status, &RequestId::Number(3)));
        assert_eq!(n["method"], TASK_STATUS);
        assert_eq!(n["params"]["status"], "completed");
        assert_eq!(n["params"]["_meta"][META_SUBSCRIPTION_ID], 3);
        let bad = json!({"notifications": {"taskIds": "t1"}});
        let e = filter(Some(&bad), &declared).unwrap_err();
        assert_eq!(e.code(), crate::jsonrpc::INVALID_PARAMS);
    }
}

//! `subscriptions/listen` (MCP 2026-07-28): a long-lived request on which
//! the server delivers the change notifications the client opted in to,
//! each tagged with the subscription's id (the request's id). It replaces
//! the session era's GET stream and `resources/subscribe`.
//!
//! Changes come from the same calls that notify sessions
//! (`Server::notify_list_changed`, `Server::notify_resource_updated`),
//! through `Server::notify_listeners`, into an in-process broadcast.

use crate::error::McpError;
use crate::jsonrpc::{Message, RequestId};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use tokio::sync::broadcast;

const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// Changes a slow listener may fall behind by before it is resynchronized
/// (see [`Filter::resync`]).
const BACKLOG: usize = 256;

/// A change listeners may be told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `notifications/{tools,resources,prompts}/list_changed`.
    ListChanged(ListKind),
    /// `notifications/resources/updated` for this URI.
    ResourceUpdated(String),
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
}

/// What the server can deliver: which lists it has, which URIs exist.
pub(crate) struct Offer<'a> {
    pub(crate) tools: bool,
    pub(crate) resources: bool,
    pub(crate) prompts: bool,
    pub(crate) resource_exists: &'a dyn Fn(&str) -> bool,
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
    let uris = match n.get("resourceSubscriptions") {
        None => Vec::new(),
        Some(Value::Array(a)) if a.len() <= crate::session::MAX_SUBSCRIPTIONS => a
            .iter()
            .map(|u| u.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                McpError::invalid_params(
                    "notifications.resourceSubscriptions must be URIs (strings)",
                )
            })?,
        Some(Value::Array(_)) => {
            return Err(McpError::invalid_params(format!(
                "a subscription may name at most {} resources",
                crate::session::MAX_SUBSCRIPTIONS
            )));
        }
        Some(_) => {
            return Err(McpError::invalid_params(
                "notifications.resourceSubscriptions must be an array",
            ));
        }
    };
    Ok(Filter {
        tools: flag("toolsListChanged")? && offer.tools,
        resources: flag("resourcesListChanged")? && offer.resources,
        prompts: flag("promptsListChanged")? && offer.prompts,
        uris: uris
            .into_iter()
            .filter(|u| (offer.resource_exists)(u))
            .collect(),
    })
}

impl Filter {
    pub(crate) fn accepts(&self, change: &Change) -> bool {
        match change {
            Change::ListChanged(ListKind::Tools) => self.tools,
            Change::ListChanged(ListKind::Resources) => self.resources,
            Change::ListChanged(ListKind::Prompts) => self.prompts,
            Change::ResourceUpdated(uri) => self.uris.contains(uri),
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
        Value::Object(m)
    }

    /// What a listener that fell behind is sent instead of the changes it
    /// missed: every notification it agreed to, so it fetches afresh.
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
}

//! Long-running operations: whether an operation runs as a task (MCP
//! 2026-07-28 tasks extension) and how its `202 Accepted` is polled.
//!
//! `x-mcp: {task: …}` decides when given; otherwise an operation whose
//! documented `202` response names a status URL (a `Location`,
//! `Operation-Location` or `Azure-AsyncOperation` header, or a body
//! property such as `statusUrl`) is derived to be an optional task that
//! the runtime polls (docs/upstream.md, "Long-running operations").

use mcpgen_contract as contract;
use serde_json::Value;

use super::walk::{OpRef, Selected};
use super::{ApiLowering, Version};
use crate::openapi::doc::Loc;

/// Response headers that name a status URL, as the runtime spells them.
const STATUS_HEADERS: &[&str] = contract::DEFAULT_POLL_HEADERS;

/// Body properties of a 202 that name a status URL (compared without case,
/// `_` or `-`).
const URL_FIELDS: &[&str] = &[
    "statusurl",
    "statusuri",
    "statuslocation",
    "operationlocation",
    "monitorurl",
    "pollurl",
    "pollingurl",
];

/// Keys `x-mcp: {task: {…}}` accepts.
const TASK_KEYS: &[&str] = &[
    "support",
    "statusHeader",
    "statusUrlField",
    "statusField",
    "intervalMs",
    "maxIntervalMs",
    "maxDurationMs",
];

/// An operation's task support (`execution.taskSupport`) and polling.
pub(super) struct Lro {
    pub(super) task: Option<&'static str>,
    pub(super) poll: Option<contract::Poll>,
}

impl ApiLowering<'_> {
    /// Whether the operation runs as a task, and how its 202 is polled:
    /// `x-mcp: {task: forbidden|optional|required}`, `{task: {support,
    /// statusHeader, statusUrlField, statusField, intervalMs,
    /// maxIntervalMs, maxDurationMs}}` or `{longRunning: true}`; else
    /// derived from a documented 202 that names a status URL.
    pub(super) fn lro(&mut self, r: &OpRef<'_>, selected: &Selected) -> Lro {
        let derived = self.accepted(r);
        let at = r.loc.at("x-mcp").at("task");
        match selected.x_mcp.get("task") {
            Some(Value::String(t)) => match support(t) {
                Ok(None) => Lro {
                    task: None,
                    poll: None,
                },
                Ok(task) => Lro {
                    task,
                    poll: derived,
                },
                Err(m) => self.bad(&at, m),
            },
            Some(Value::Object(o)) => self.explicit(&at, o, derived),
            Some(_) => self.bad(&at, "x-mcp task must be a string or an object".into()),
            None => match selected.x_mcp.get("longRunning") {
                Some(Value::Bool(true)) => Lro {
                    task: Some("optional"),
                    poll: derived,
                },
                Some(Value::Bool(false)) => Lro {
                    task: None,
                    poll: None,
                },
                None => Lro {
                    task: derived.as_ref().map(|_| "optional"),
                    poll: derived,
                },
                Some(_) => self.bad(
                    &r.loc.at("x-mcp").at("longRunning"),
                    "x-mcp longRunning must be true or false".into(),
                ),
            },
        }
    }

    fn bad(&mut self, at: &Loc, message: String) -> Lro {
        self.f.error(at, message);
        Lro {
            task: None,
            poll: None,
        }
    }

    /// `x-mcp: {task: {…}}`: support (default optional) and the polling
    /// the user names, over what the 202 documents.
    fn explicit(
        &mut self,
        at: &Loc,
        o: &serde_json::Map<String, Value>,
        derived: Option<contract::Poll>,
    ) -> Lro {
        if let Some(k) = o.keys().find(|k| !TASK_KEYS.contains(&k.as_str())) {
            let known = TASK_KEYS.join(", ");
            return self.bad(
                &at.at(k),
                format!("x-mcp task has no key `{k}` (known: {known})"),
            );
        }
        let task = match o.get("support") {
            None => Some("optional"),
            Some(Value::String(t)) => match support(t) {
                Ok(t) => t,
                Err(m) => return self.bad(&at.at("support"), m),
            },
            Some(_) => {
                return self.bad(
                    &at.at("support"),
                    "x-mcp task support must be a string".into(),
                );
            }
        };
        let mut poll = derived.unwrap_or_default();
        if let Err((key, message)) = poll_keys(o, &mut poll) {
            return self.bad(&at.at(key), message);
        }
        Lro {
            poll: task.map(|_| poll),
            task,
        }
    }

    /// What a documented `202` says of its status URL: the headers it
    /// declares among [`STATUS_HEADERS`], and a body property named like
    /// one ([`URL_FIELDS`]). None when it names neither (a 202 that only
    /// acknowledges), or documents no 202.
    fn accepted(&self, r: &OpRef<'_>) -> Option<contract::Poll> {
        let (rloc, response) = self.docs.deref(&r.loc.at("responses").at("202")).ok()?;
        let mut headers: Vec<String> = Vec::new();
        if let Some(Value::Object(h)) = response.get("headers") {
            for name in STATUS_HEADERS {
                if h.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                    headers.push((*name).to_owned());
                }
            }
        }
        let url_field = self.url_field(&rloc, response);
        if headers.is_empty() && url_field.is_none() {
            return None;
        }
        Some(contract::Poll {
            headers,
            url_field,
            ..contract::Poll::default()
        })
    }

    /// A top-level property of the 202's JSON body schema named like a
    /// status URL, as a JSON pointer.
    fn url_field(&self, rloc: &Loc, response: &Value) -> Option<String> {
        let schema_loc = match self.version {
            Version::Swagger2 => rloc.at("schema"),
            _ => {
                let Some(Value::Object(content)) = response.get("content") else {
                    return None;
                };
                let media = content.keys().find(|m| {
                    let e = super::body::essence(m);
                    e == "application/json" || e.ends_with("+json")
                })?;
                rloc.at("content").at(media).at("schema")
            }
        };
        let (_, schema) = self.docs.deref(&schema_loc).ok()?;
        let props = schema.get("properties")?.as_object()?;
        let mut names: Vec<&String> = props.keys().collect();
        names.sort();
        names
            .into_iter()
            .find(|k| {
                let plain: String = k
                    .chars()
                    .filter(|c| *c != '_' && *c != '-')
                    .collect::<String>()
                    .to_ascii_lowercase();
                URL_FIELDS.contains(&plain.as_str())
            })
            .map(|k| pointer(k))
    }
}

/// The polling keys of `x-mcp: {task: {…}}` onto `poll`; the first bad
/// one's key and message.
fn poll_keys(
    o: &serde_json::Map<String, Value>,
    poll: &mut contract::Poll,
) -> Result<(), (&'static str, String)> {
    let text = |k: &str| {
        o.get(k)
            .map(|v| v.as_str().filter(|s| !s.trim().is_empty()))
    };
    match text("statusHeader") {
        Some(Some(h)) if super::is_token(h) => poll.headers = vec![h.to_owned()],
        Some(_) => {
            let m = "x-mcp task statusHeader must be a header name";
            return Err(("statusHeader", m.into()));
        }
        None => {}
    }
    for (key, slot) in [
        ("statusUrlField", &mut poll.url_field),
        ("statusField", &mut poll.status_field),
    ] {
        match text(key) {
            Some(Some(p)) => *slot = Some(pointer(p)),
            Some(None) => {
                let m = format!("x-mcp task {key} must be a property name or a JSON pointer");
                return Err((key, m));
            }
            None => {}
        }
    }
    for (key, slot) in [
        ("intervalMs", &mut poll.interval_ms),
        ("maxIntervalMs", &mut poll.max_interval_ms),
        ("maxDurationMs", &mut poll.max_duration_ms),
    ] {
        match o.get(key).map(|v| v.as_u64().filter(|n| *n > 0)) {
            Some(Some(n)) => *slot = Some(n),
            Some(None) => {
                let m = format!("x-mcp task {key} must be a positive integer (milliseconds)");
                return Err((key, m));
            }
            None => {}
        }
    }
    Ok(())
}

/// `forbidden` (no task), `optional`, `required`.
fn support(t: &str) -> Result<Option<&'static str>, String> {
    match t {
        "optional" => Ok(Some("optional")),
        "required" => Ok(Some("required")),
        "forbidden" => Ok(None),
        _ => Err("x-mcp task must be one of forbidden, optional, required".into()),
    }
}

/// A JSON pointer: as given when it starts with `/`, else the pointer to
/// that top-level property.
fn pointer(p: &str) -> String {
    match p.starts_with('/') {
        true => p.to_owned(),
        false => format!("/{}", p.replace('~', "~0").replace('/', "~1")),
    }
}

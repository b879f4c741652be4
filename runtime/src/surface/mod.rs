//! Tool surfaces: which of a server's tools `tools/list` shows, and the
//! meta-tools that reach the others (docs/surfaces.md).
//!
//! * `all`: every tool, as without a surface;
//! * `toolsets`: the tools of the toolsets switched on (none by default),
//!   plus `list_toolsets` and `enable_toolset`, which switches one on and
//!   sends `notifications/tools/list_changed`;
//! * `compact`: `search_tools` (BM25, `search`), `describe_tool` and
//!   `call_tool`, which runs a tool exactly as `tools/call` would.
//!
//! The generated `server()` declares the surface and the toolset of every
//! tool (`ServerBuilder::tool_surface`, JSON); the start-up flags
//! `--tool-surface` and `--toolsets` replace both choices
//! (`Server::configure_tool_surface`). Tools in no toolset (a YAML spec's
//! own tools) are always listed. The state is the server's, shared by its
//! sessions: switching a toolset on shows it to every client, and each is
//! told the list changed.

mod search;

use crate::builder::ServerBuilder;
use crate::context::RequestContext;
use crate::error::{BuildError, McpError, ToolError};
use crate::extension::Extension;
use crate::jsonrpc::Message;
use crate::model::CallToolResult;
use crate::server::Server;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// How a server presents its tools to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ToolSurface {
    /// One tool per operation.
    All,
    /// The tools of the toolsets switched on, and `list_toolsets` /
    /// `enable_toolset`.
    Toolsets,
    /// `search_tools`, `describe_tool` and `call_tool` only.
    Compact,
}

/// A start-up choice the server cannot apply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SurfaceError {
    /// The server declares no tool surface (no `ServerBuilder::tool_surface`).
    #[error("this server has no tool surface to configure")]
    NoSurface,
    /// `--toolsets` named a toolset the server does not have.
    #[error("unknown toolset `{name}`; this server has: {known}")]
    UnknownToolset {
        /// The name given.
        name: String,
        /// The toolsets there are, comma-separated.
        known: String,
    },
}

const SEARCH: &str = "search_tools";
const DESCRIBE: &str = "describe_tool";
const CALL: &str = "call_tool";
const LIST_SETS: &str = "list_toolsets";
const ENABLE_SET: &str = "enable_toolset";

/// The meta-tools, each with the surface that lists it.
const META: [(&str, ToolSurface); 5] = [
    (SEARCH, ToolSurface::Compact),
    (DESCRIBE, ToolSurface::Compact),
    (CALL, ToolSurface::Compact),
    (LIST_SETS, ToolSurface::Toolsets),
    (ENABLE_SET, ToolSurface::Toolsets),
];

/// Results `search_tools` returns unless asked for another number.
const DEFAULT_LIMIT: usize = 5;
/// Characters of a description a search result shows.
const SUMMARY_CHARS: usize = 160;

fn descriptor(name: &str) -> &'static str {
    match name {
        SEARCH => {
            r#"{"name":"search_tools","description":"Find the API operations that fit a task, best first (ranked by name, summary, description, tag and parameter names). Then describe_tool for their arguments and call_tool to run one.","inputSchema":{"type":"object","properties":{"query":{"type":"string","minLength":1,"description":"What you want to do, in a few words."},"limit":{"type":"integer","minimum":1,"maximum":25,"description":"Most results to return (default 5)."}},"required":["query"],"additionalProperties":false},"annotations":{"readOnlyHint":true,"openWorldHint":false}}"#
        }
        DESCRIBE => {
            r#"{"name":"describe_tool","description":"The full definitions of tools found by search_tools: input schema, output schema and annotations.","inputSchema":{"type":"object","properties":{"names":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":10}},"required":["names"],"additionalProperties":false},"annotations":{"readOnlyHint":true,"openWorldHint":false}}"#
        }
        CALL => {
            r#"{"name":"call_tool","description":"Run a tool found by search_tools. `arguments` must match its input schema (describe_tool); the result is the tool's own.","inputSchema":{"type":"object","properties":{"name":{"type":"string"},"arguments":{"type":"object"}},"required":["name"],"additionalProperties":false},"annotations":{"openWorldHint":true}}"#
        }
        LIST_SETS => {
            r#"{"name":"list_toolsets","description":"The toolsets this server groups its tools into, and which are enabled. enable_toolset adds one's tools to the tool list.","inputSchema":{"type":"object","properties":{},"additionalProperties":false},"annotations":{"readOnlyHint":true,"openWorldHint":false}}"#
        }
        _ => {
            r#"{"name":"enable_toolset","description":"Add the tools of a toolset (see list_toolsets) to the tool list.","inputSchema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false},"annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false}}"#
        }
    }
}

/// `TOOL_SURFACE`: the surface and the toolsets, as the generator emits them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    surface: ToolSurface,
    #[serde(default)]
    toolsets: Vec<ToolsetConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolsetConfig {
    name: String,
    #[serde(default)]
    description: Option<String>,
    tools: Vec<String>,
}

impl ServerBuilder {
    /// How `tools/list` presents the tools (`surface_json`:
    /// `{"surface": "all"|"toolsets"|"compact", "toolsets": [{"name",
    /// "description"?, "tools": [tool names]}]}`), with the meta-tools of
    /// every surface. The start-up flags `--tool-surface` and `--toolsets`
    /// override it (docs/surfaces.md).
    pub fn tool_surface(mut self, surface_json: &str) -> Self {
        if let Err(e) = self.extension::<SurfaceBuilder>().config(surface_json) {
            return self.with_error(e);
        }
        for (name, _) in META {
            // `call_tool` is not wrapped by the tool-call hook itself: the
            // hook sees the tool it calls (`Registry::call_by_name`).
            self = self.tool_with(
                descriptor(name),
                None,
                move |ctx, args: Value| meta(ctx, name, args),
                name != CALL,
            );
        }
        self
    }
}

fn invalid(message: impl Into<String>) -> BuildError {
    BuildError::Invalid {
        what: "tool surface".into(),
        message: message.into(),
    }
}

/// Collects the surface declaration while the server is described.
#[derive(Default)]
pub(crate) struct SurfaceBuilder {
    config: Option<Config>,
}

impl SurfaceBuilder {
    fn config(&mut self, json: &str) -> Result<(), BuildError> {
        if self.config.is_some() {
            return Err(invalid("declared twice"));
        }
        let config: Config =
            serde_json::from_str(json).map_err(|source| BuildError::Descriptor {
                what: "tool surface".into(),
                source,
            })?;
        self.config = Some(config);
        Ok(())
    }
}

impl Extension for SurfaceBuilder {
    fn finish(
        self: Box<Self>,
        _info: &Value,
    ) -> Result<Arc<dyn Any + Send + Sync>, Vec<BuildError>> {
        let Some(config) = self.config else {
            return Err(vec![invalid("no configuration")]);
        };
        let mut errors = vec![];
        let mut set_of = HashMap::new();
        let mut names = HashMap::new();
        for (i, set) in config.toolsets.iter().enumerate() {
            if set.name.is_empty() || set.name.contains(',') || set.name == "all" {
                errors.push(invalid(format!(
                    "toolset name {:?} must be non-empty, without commas, and not `all`",
                    set.name
                )));
            }
            if names.insert(set.name.as_str(), i).is_some() {
                errors.push(invalid(format!("toolset {} declared twice", set.name)));
            }
            for tool in &set.tools {
                if META.iter().any(|(m, _)| m == tool) {
                    errors.push(invalid(format!("meta-tool {tool} cannot be in a toolset")));
                }
                if set_of.insert(tool.clone(), i).is_some() {
                    errors.push(invalid(format!("tool {tool} is in more than one toolset")));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mode = Mode::initial(config.surface, config.toolsets.len());
        let state: Arc<dyn Any + Send + Sync> = Arc::new(Surface {
            default: config.surface,
            sets: config.toolsets,
            set_of,
            mode: RwLock::new(mode),
            index: OnceLock::new(),
        });
        Ok(state)
    }
}

/// What the server shows now.
#[derive(Debug, Clone)]
struct Mode {
    surface: ToolSurface,
    /// Per toolset: switched on.
    on: Vec<bool>,
}

impl Mode {
    /// Whether this mode lists the tools of toolset `set`.
    fn lists_set(&self, set: usize) -> bool {
        self.surface != ToolSurface::Compact && self.on[set]
    }

    /// Every toolset on, except in `toolsets`, where the model or the
    /// start-up flags choose.
    fn initial(surface: ToolSurface, sets: usize) -> Mode {
        Mode {
            surface,
            on: vec![surface != ToolSurface::Toolsets; sets],
        }
    }
}

/// The surface state a built server keeps.
pub(crate) struct Surface {
    default: ToolSurface,
    sets: Vec<ToolsetConfig>,
    /// Tool name → its toolset.
    set_of: HashMap<String, usize>,
    mode: RwLock<Mode>,
    /// Built on the first search: (tool names, their index).
    index: OnceLock<(Vec<String>, search::Index)>,
}

/// Set the `enabled` flag of every tool as the declared surface lists it,
/// before the registry builds its pages (so they are built once).
/// Returns how many tools are in a toolset.
pub(crate) fn preset(
    extensions: &[Arc<dyn Any + Send + Sync>],
    tools: &crate::tools::Registry,
) -> usize {
    let Some(s) = extensions.iter().find_map(|e| e.downcast_ref::<Surface>()) else {
        return 0;
    };
    let mode = s.mode();
    let mut in_toolsets = 0;
    for t in tools.iter() {
        let name = t.name();
        let listed = match s.set_of.get(name) {
            Some(&set) => {
                in_toolsets += 1;
                mode.lists_set(set)
            }
            None => match META.iter().find(|(m, _)| *m == name) {
                Some((_, surface)) => *surface == mode.surface,
                None => continue,
            },
        };
        t.enabled
            .store(listed, std::sync::atomic::Ordering::Relaxed);
    }
    in_toolsets
}

/// Check that the toolsets name only tools the server has; `preset` has
/// shown what the declared surface shows. `ServerBuilder::build` calls
/// this with what `preset` counted: as tool names are unique, all are
/// there when as many tools are in a toolset as the toolsets name (a
/// lookup per name again cost Graph 22,361 of them at every start).
pub(crate) fn start(server: &Server, in_toolsets: usize) -> Result<(), BuildError> {
    let Some(s) = server.extension::<Surface>() else {
        return Ok(());
    };
    if in_toolsets == s.set_of.len() {
        return Ok(());
    }
    let mut missing: Vec<&str> = s
        .set_of
        .keys()
        .filter(|t| !server.tools().has(t))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        return Err(invalid(format!(
            "toolsets name tools the server does not have: {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

impl Server {
    /// A toolset another instance switched on (or one the shared store
    /// kept): switch it on here, silently, since the bus carries the
    /// `list_changed`. Names this server does not know are ignored.
    pub(crate) fn toolset_enabled_elsewhere(&self, name: &str) {
        if let Some(s) = self.extension::<Surface>()
            && let Some(i) = s.set_index(name)
        {
            s.switch_on(self, i);
        }
    }

    /// Whether this server declares a tool surface.
    pub fn has_tool_surface(&self) -> bool {
        self.extension::<Surface>().is_some()
    }

    /// Apply start-up choices: `surface` replaces the declared one (None
    /// keeps it); `toolsets` are the toolsets switched on (`all` for every
    /// one; None: all of them, except under `toolsets`, where none is).
    /// Clients are told if the tool list changed.
    pub fn configure_tool_surface(
        &self,
        surface: Option<ToolSurface>,
        toolsets: Option<&[String]>,
    ) -> Result<(), SurfaceError> {
        let s = self.extension::<Surface>().ok_or(SurfaceError::NoSurface)?;
        let surface = surface.unwrap_or(s.default);
        let mut mode = Mode::initial(surface, s.sets.len());
        if let Some(names) = toolsets {
            mode.on = vec![false; s.sets.len()];
            for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                if name == "all" {
                    mode.on = vec![true; s.sets.len()];
                    continue;
                }
                let i = s
                    .set_index(name)
                    .ok_or_else(|| SurfaceError::UnknownToolset {
                        name: name.to_owned(),
                        known: s.known(),
                    })?;
                mode.on[i] = true;
            }
        }
        *s.mode.write().unwrap_or_else(|e| e.into_inner()) = mode;
        if s.show(self) {
            self.notify_list_changed("tools");
        }
        Ok(())
    }
}

impl Surface {
    /// Switch toolset `set` on and show its tools; true if the tool list
    /// changed.
    fn switch_on(&self, server: &Server, set: usize) -> bool {
        self.mode.write().unwrap_or_else(|e| e.into_inner()).on[set] = true;
        self.show(server)
    }

    fn mode(&self) -> Mode {
        self.mode.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_index(&self, name: &str) -> Option<usize> {
        self.sets.iter().position(|s| s.name == name)
    }

    fn known(&self) -> String {
        let names: Vec<&str> = self.sets.iter().map(|s| s.name.as_str()).collect();
        names.join(", ")
    }

    /// Whether `mode` lists the tool `name`; None for a tool the surface
    /// does not manage (always listed).
    fn listed(&self, mode: &Mode, name: &str) -> Option<bool> {
        // A meta-tool is in no toolset (`SurfaceBuilder::finish`).
        if let Some(&set) = self.set_of.get(name) {
            return Some(mode.lists_set(set));
        }
        let (_, surface) = META.iter().find(|(m, _)| *m == name)?;
        Some(*surface == mode.surface)
    }

    /// Enable exactly the tools the current mode lists; true if that changed
    /// the list.
    fn show(&self, server: &Server) -> bool {
        let mode = self.mode();
        let names = self.set_of.keys().map(String::as_str);
        let all = names.chain(META.iter().map(|(m, _)| *m));
        let changes: Vec<(&str, bool)> = all
            .filter_map(|n| Some((n, self.listed(&mode, n)?)))
            .collect();
        server.tools().set_enabled_many(changes)
    }

    /// Whether `call_tool` and `describe_tool` may reach `name` now.
    fn reachable(&self, server: &Server, name: &str) -> bool {
        if META.iter().any(|(m, _)| *m == name) {
            return false;
        }
        match self.set_of.get(name) {
            Some(&set) => self.mode().on[set],
            None => server.tools().is_enabled(name),
        }
    }

    fn index(&self, server: &Server) -> &(Vec<String>, search::Index) {
        self.index.get_or_init(|| {
            let mut names = vec![];
            let mut docs = vec![];
            for set in &self.sets {
                for tool in &set.tools {
                    if let Some(d) = server.tools().registered_descriptor(tool) {
                        docs.push(search::document(&d, Some(&set.name)));
                        names.push(tool.clone());
                    }
                }
            }
            (names, search::Index::new(&docs))
        })
    }
}

/// A meta-tool's result: the value as structured content and as text.
fn structured(value: Value) -> Result<CallToolResult, ToolError> {
    Ok(CallToolResult::structured(value))
}

fn string_arg(args: &Value, key: &str) -> String {
    args.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// One call of a meta-tool; its arguments were checked against its schema.
async fn meta(
    ctx: RequestContext,
    which: &'static str,
    args: Value,
) -> Result<CallToolResult, ToolError> {
    let server = ctx.server().clone();
    let Some(s) = server.extension::<Surface>() else {
        return Err(ToolError::new("this server has no tool surface"));
    };
    match which {
        SEARCH => search_tools(&server, s, &args),
        DESCRIBE => describe_tool(&server, s, &args),
        CALL => call_tool(ctx, &server, s, args).await,
        LIST_SETS => list_toolsets(s),
        _ => enable_toolset(&ctx, &server, s, &args).await,
    }
}

/// `search_tools`: the reachable tools that best match the query.
fn search_tools(server: &Server, s: &Surface, args: &Value) -> Result<CallToolResult, ToolError> {
    let query = string_arg(args, "query");
    let limit = args
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIMIT, |n| n.clamp(1, 25) as usize);
    let (names, index) = s.index(server);
    let hits = index.search(&query, limit, |i| s.reachable(server, &names[i]));
    let tools: Vec<Value> = hits
        .into_iter()
        .filter_map(|(i, _)| summary(server, s, &names[i]))
        .collect();
    structured(json!({ "tools": tools }))
}

/// `describe_tool`: the descriptors of the named reachable tools; the
/// other names are listed as unknown, and an error when none is known.
fn describe_tool(server: &Server, s: &Surface, args: &Value) -> Result<CallToolResult, ToolError> {
    let mut tools = vec![];
    let mut unknown = vec![];
    for name in args["names"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        match server.tools().descriptor(name) {
            Some(d) if s.reachable(server, name) => tools.push(d),
            _ => unknown.push(name.to_owned()),
        }
    }
    if tools.is_empty() {
        return Err(ToolError::new(format!(
            "Unknown tool: {} (search_tools finds tool names)",
            unknown.join(", ")
        )));
    }
    let mut out = Map::new();
    out.insert("tools".into(), Value::Array(tools));
    if !unknown.is_empty() {
        out.insert("unknown".into(), json!(unknown));
    }
    structured(Value::Object(out))
}

/// `call_tool`: a reachable tool called by name, like a direct call.
async fn call_tool(
    ctx: RequestContext,
    server: &Server,
    s: &Surface,
    args: Value,
) -> Result<CallToolResult, ToolError> {
    let name = string_arg(&args, "name");
    if !s.reachable(server, &name) {
        return Ok(CallToolResult::error(format!("Unknown tool: {name}")));
    }
    let arguments = args.get("arguments").cloned().unwrap_or(Value::Null);
    drop(args);
    match server.tools().call_by_name(ctx, &name, arguments).await {
        Ok(p) => serde_json::from_value::<CallToolResult>(p.into_value()).map_err(ToolError::from),
        Err(McpError(e)) => Ok(CallToolResult::error(e.message)),
    }
}

/// `list_toolsets`: each toolset with its size and whether it is on.
fn list_toolsets(s: &Surface) -> Result<CallToolResult, ToolError> {
    let mode = s.mode();
    let sets: Vec<Value> = s
        .sets
        .iter()
        .zip(&mode.on)
        .map(|(set, on)| {
            let mut v = Map::new();
            v.insert("name".into(), set.name.clone().into());
            if let Some(d) = &set.description {
                v.insert("description".into(), d.clone().into());
            }
            v.insert("tools".into(), set.tools.len().into());
            v.insert("enabled".into(), (*on).into());
            Value::Object(v)
        })
        .collect();
    structured(json!({ "toolsets": sets }))
}

/// `enable_toolset`: switch a toolset on here, share it, and announce the
/// change when the list of tools changed.
async fn enable_toolset(
    ctx: &RequestContext,
    server: &Server,
    s: &Surface,
    args: &Value,
) -> Result<CallToolResult, ToolError> {
    let name = string_arg(args, "name");
    let Some(i) = s.set_index(&name) else {
        return Err(ToolError::new(format!(
            "Unknown toolset: {name}; this server has: {}",
            s.known()
        )));
    };
    let changed = s.switch_on(server, i);
    let kept = share_enabled(server, &name).await;
    if changed {
        tools_changed(ctx, server);
    }
    kept?;
    structured(json!({ "enabled": name, "tools": s.sets[i].tools }))
}

/// With a shared store, keep the toolset there for instances that start
/// later and tell the running ones (before the `list_changed`, which the
/// bus delivers after it). A failed write is a tool error; the set is on
/// here all the same.
async fn share_enabled(server: &Server, name: &str) -> Result<(), ToolError> {
    let Some(store) = server.state_store() else {
        return Ok(());
    };
    let kept = store.enable_toolset(name).await;
    store.publish(crate::state::BusMessage::ToolsetEnabled {
        name: name.to_owned(),
    });
    kept.map_err(|e| {
        tracing::warn!(toolset = name, "toolset not kept in the state store: {e}");
        ToolError::new(format!(
            "Toolset {name} is enabled on this instance, but the shared state store \
             could not keep it: {e}"
        ))
    })
}

/// `notifications/tools/list_changed` to MCP 2026-07-28 listeners and to
/// every session: the caller's on
/// this request's own stream (over HTTP, the POST's SSE stream, which a
/// client reads whether or not it keeps a GET stream open), the others on
/// theirs.
fn tools_changed(ctx: &RequestContext, server: &Server) {
    let msg = Message::notification("notifications/tools/list_changed", json!({}));
    ctx.out.send(msg.clone());
    if let Some(store) = server.state_store() {
        // Every instance tells its sessions (the caller's GET stream too:
        // a second list_changed costs a client one more tools/list).
        store.publish(crate::state::BusMessage::Notify {
            sessions: None,
            data: msg.to_value(),
        });
        return;
    }
    server.notify_listeners(crate::modern::listen::Change::ListChanged(
        crate::modern::listen::ListKind::Tools,
    ));
    for s in server.sessions().all() {
        if s.id() != ctx.session_id() && s.has_client() {
            s.notify(msg.clone());
        }
    }
}

/// A search hit as the model sees it: name, title, the start of the
/// description, toolset.
fn summary(server: &Server, s: &Surface, name: &str) -> Option<Value> {
    let d = server.tools().registered_descriptor(name)?;
    let mut v = Map::new();
    v.insert("name".into(), name.into());
    if let Some(t) = d.get("title") {
        v.insert("title".into(), t.clone());
    }
    if let Some(text) = d.get("description").and_then(Value::as_str) {
        v.insert("description".into(), short(text).into());
    }
    if let Some(&set) = s.set_of.get(name) {
        v.insert("toolset".into(), s.sets[set].name.clone().into());
    }
    Some(Value::Object(v))
}

/// The first paragraph of `text`, at most [`SUMMARY_CHARS`] characters.
fn short(text: &str) -> String {
    let para = text.trim().split("\n\n").next().unwrap_or_default();
    let words: Vec<&str> = para.split_whitespace().collect();
    let one = words.join(" ");
    if one.chars().count() <= SUMMARY_CHARS {
        return one;
    }
    let cut: String = one.chars().take(SUMMARY_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Outbound, Outgoing};
    use crate::testing::{TestClient, block_on};

    fn tool(name: &str, description: &str, required: &str) -> String {
        json!({
            "name": name,
            "description": description,
            "inputSchema": {
                "type": "object",
                "properties": {required: {"type": "integer"}},
                "required": [required]
            },
            "annotations": {"readOnlyHint": name.starts_with("get")}
        })
        .to_string()
    }

    /// Three API tools in two toolsets, and one tool of the spec's own.
    fn server(surface: &str) -> Server {
        let echo = |ctx: RequestContext, args: Value| async move {
            let _ = ctx;
            Ok(CallToolResult::structured(json!({ "echo": args })))
        };
        Server::builder(r#"{"name":"t","version":"1"}"#)
            .tool(&tool("own", "The spec's own tool.", "n"), echo)
            .tool(&tool("get_pet", "Find a pet by its id.", "pet_id"), echo)
            .tool(&tool("add_pet", "Add a new pet to the store.", "age"), echo)
            .tool(
                &tool("get_order", "Find a purchase order.", "order_id"),
                echo,
            )
            .tool_surface(
                &json!({"surface": surface, "toolsets": [
                    {"name": "pet", "description": "Pets", "tools": ["get_pet", "add_pet"]},
                    {"name": "store", "tools": ["get_order"]}
                ]})
                .to_string(),
            )
            .build()
            .unwrap()
    }

    async fn names(c: &TestClient) -> Vec<String> {
        c.list_field("tools/list", "tools", "name").await.unwrap()
    }

    #[test]
    fn compact_lists_the_meta_tools_and_calls_like_a_direct_call() {
        block_on(async {
            let c = TestClient::connect(server("compact")).await.unwrap();
            assert_eq!(names(&c).await, ["own", SEARCH, DESCRIBE, CALL]);
            // A hidden tool is not called directly.
            assert!(c.call_tool("get_pet", json!({"pet_id": 1})).await.is_err());

            let found = c
                .call_tool(SEARCH, json!({"query": "pet by id"}))
                .await
                .unwrap();
            let hits = &found["structuredContent"]["tools"];
            assert_eq!(hits[0]["name"], "get_pet", "{found}");
            assert_eq!(hits[0]["toolset"], "pet");
            let limited = c
                .call_tool(SEARCH, json!({"query": "pet", "limit": 1}))
                .await
                .unwrap();
            assert_eq!(
                limited["structuredContent"]["tools"]
                    .as_array()
                    .unwrap()
                    .len(),
                1
            );

            let d = c
                .call_tool(DESCRIBE, json!({"names": ["get_pet", "nope"]}))
                .await
                .unwrap();
            let described = &d["structuredContent"];
            assert_eq!(
                described["tools"][0]["inputSchema"]["required"],
                json!(["pet_id"])
            );
            assert_eq!(described["tools"][0]["annotations"]["readOnlyHint"], true);
            assert_eq!(described["unknown"], json!(["nope"]));

            let via_meta = c
                .call_tool(CALL, json!({"name": "get_pet", "arguments": {"pet_id": 7}}))
                .await
                .unwrap();
            let bad_via_meta = c
                .call_tool(
                    CALL,
                    json!({"name": "get_pet", "arguments": {"pet_id": "x"}}),
                )
                .await
                .unwrap();
            let missing_via_meta = c.call_tool(CALL, json!({"name": "get_pet"})).await.unwrap();
            let meta_via_meta = c
                .call_tool(CALL, json!({"name": SEARCH, "arguments": {"query": "x"}}))
                .await
                .unwrap();
            assert_eq!(meta_via_meta["isError"], true);

            // The same calls made directly, with every tool listed.
            c.server()
                .configure_tool_surface(Some(ToolSurface::All), None)
                .unwrap();
            assert_eq!(names(&c).await, ["own", "get_pet", "add_pet", "get_order"]);
            let direct = c.call_tool("get_pet", json!({"pet_id": 7})).await.unwrap();
            let bad = c
                .call_tool("get_pet", json!({"pet_id": "x"}))
                .await
                .unwrap();
            let missing = c.call_tool("get_pet", json!({})).await.unwrap();
            assert_eq!(via_meta, direct);
            assert_eq!(bad_via_meta, bad);
            assert_eq!(missing_via_meta, missing);
            assert_eq!(bad["isError"], true);
            let text = bad["content"][0]["text"].as_str().unwrap();
            assert!(
                text.starts_with("Invalid arguments for tool get_pet: "),
                "{text}"
            );
        });
    }

    #[test]
    fn compact_reaches_only_the_toolsets_switched_on() {
        block_on(async {
            let c = TestClient::connect(server("compact")).await.unwrap();
            let on = ["store".to_owned()];
            c.server().configure_tool_surface(None, Some(&on)).unwrap();
            let found = c
                .call_tool(SEARCH, json!({"query": "pet order"}))
                .await
                .unwrap();
            assert_eq!(
                found["structuredContent"]["tools"],
                json!([{
                    "name": "get_order", "description": "Find a purchase order.", "toolset": "store"
                }])
            );
            let r = c
                .call_tool(CALL, json!({"name": "get_pet", "arguments": {"pet_id": 1}}))
                .await
                .unwrap();
            assert_eq!(r["content"][0]["text"], "Unknown tool: get_pet");
        });
    }

    #[test]
    fn toolsets_list_the_enabled_sets_and_enabling_one_says_the_list_changed() {
        block_on(async {
            let c = TestClient::connect(server("toolsets")).await.unwrap();
            assert_eq!(names(&c).await, ["own", LIST_SETS, ENABLE_SET]);
            // Another session hears of it on its own stream.
            let other = TestClient::connect(c.server().clone()).await.unwrap();
            let (out, mut rx) = Outbound::channel();
            for s in c.server().sessions().all() {
                s.set_notifier(Some(out.clone()));
            }
            c.drain_outgoing();
            let sets = c.call_tool(LIST_SETS, json!({})).await.unwrap();
            assert_eq!(
                sets["structuredContent"]["toolsets"],
                json!([
                    {"name": "pet", "description": "Pets", "tools": 2, "enabled": false},
                    {"name": "store", "tools": 1, "enabled": false}
                ])
            );
            assert!(rx.try_recv().is_err(), "nothing changed yet");

            let r = c
                .call_tool(ENABLE_SET, json!({"name": "pet"}))
                .await
                .unwrap();
            assert_eq!(r["isError"], Value::Null, "{r}");
            assert_eq!(
                names(&c).await,
                ["own", "get_pet", "add_pet", LIST_SETS, ENABLE_SET]
            );
            let is_list_changed = |o: &Outgoing| match o {
                Outgoing::Message(m) => {
                    m.to_value()["method"] == "notifications/tools/list_changed"
                }
                _ => false,
            };
            // The caller on its request's stream, once; the other session on its own.
            let mine = c.drain_outgoing();
            assert_eq!(
                mine.iter().filter(|o| is_list_changed(o)).count(),
                1,
                "{mine:?}"
            );
            let theirs = rx.try_recv().expect("the other session is told");
            assert!(is_list_changed(&theirs), "{theirs:?}");
            assert!(rx.try_recv().is_err(), "once");
            drop(other);
            // Enabling it again changes nothing and says nothing.
            c.call_tool(ENABLE_SET, json!({"name": "pet"}))
                .await
                .unwrap();
            assert!(rx.try_recv().is_err());
            assert!(!c.drain_outgoing().iter().any(is_list_changed));
            let r = c
                .call_tool(ENABLE_SET, json!({"name": "nope"}))
                .await
                .unwrap();
            assert_eq!(r["isError"], true);
            assert_eq!(
                r["content"][0]["text"],
                "Unknown toolset: nope; this server has: pet, store"
            );
        });
    }

    #[test]
    fn start_up_choices_replace_the_generated_ones() {
        block_on(async {
            let c = TestClient::connect(server("toolsets")).await.unwrap();
            let s = c.server();
            s.configure_tool_surface(None, Some(&["store".to_owned()]))
                .unwrap();
            assert_eq!(names(&c).await, ["own", "get_order", LIST_SETS, ENABLE_SET]);
            s.configure_tool_surface(Some(ToolSurface::All), Some(&["all".to_owned()]))
                .unwrap();
            assert_eq!(names(&c).await, ["own", "get_pet", "add_pet", "get_order"]);
            s.configure_tool_surface(Some(ToolSurface::All), Some(&["pet".to_owned()]))
                .unwrap();
            assert_eq!(names(&c).await, ["own", "get_pet", "add_pet"]);
            let e = s
                .configure_tool_surface(None, Some(&["pets".to_owned()]))
                .unwrap_err();
            assert_eq!(
                e.to_string(),
                "unknown toolset `pets`; this server has: pet, store"
            );
        });
    }

    #[test]
    fn toolsets_must_name_real_tools_once() {
        let build = |sets: Value| {
            Server::builder(r#"{"name":"t","version":"1"}"#)
                .tool(&tool("a", "A.", "n"), |_: RequestContext, _: Value| async {
                    Ok(CallToolResult::text("a"))
                })
                .tool_surface(&json!({"surface": "all", "toolsets": sets}).to_string())
                .build()
        };
        let e = build(json!([{"name": "x", "tools": ["a", "b"]}]))
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("tools the server does not have: b"),
            "{e}"
        );
        let e = build(json!([{"name": "x", "tools": ["a"]}, {"name": "y", "tools": ["a"]}]))
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("tool a is in more than one toolset"),
            "{e}"
        );
        assert!(build(json!([{"name": "x", "tools": ["a"]}])).is_ok());
    }
}

//! `tools/list` and `tools/call`: arguments are checked against the input
//! schema before the handler runs; structured output against the output schema.

use crate::context::RequestContext;
use crate::error::{BuildError, McpError, ToolError};
use crate::jsonrpc::Payload;
use crate::model::CallToolResult;
use crate::modern::param_headers::{self, ParamHeader};
use crate::pagination;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

pub(crate) type ToolFn = Arc<
    dyn Fn(RequestContext, Value) -> BoxFuture<'static, Result<CallToolResult, ToolError>>
        + Send
        + Sync,
>;

/// What turns a registered descriptor into the one clients see (an
/// upstream tool gets its shared `$defs` and a relaxed `outputSchema`). Runs
/// once per tool, when the tool is first listed or called.
pub(crate) type Prepare = Arc<dyn Fn(&mut Value) -> Result<(), String> + Send + Sync>;

/// A tool. Its descriptor is kept as the JSON text it was registered with
/// and assembled on first need (its page of `tools/list` is asked for, or
/// it is called): parsed, prepared, serialized once. A server of thousands
/// of tools thus does no per-tool schema work at start-up; registration
/// only checks the name and the `inputSchema` type, and a tool registered
/// from static text with its name beside ([`Tool::from_static`]) neither
/// copies nor reads its descriptor until then.
pub(crate) struct Tool {
    name: Cow<'static, str>,
    source: Cow<'static, str>,
    prepare: Option<Prepare>,
    assembled: OnceLock<Result<Assembled, String>>,
    pub handler: ToolFn,
    pub enabled: AtomicBool,
    /// Its `x-mcp-header` arguments, read from the descriptor on first need.
    param_headers: OnceLock<Arc<[ParamHeader]>>,
    /// Its `execution.taskSupport` and `inputBeforeTask`, read from the
    /// descriptor on first need (every modern call asks).
    task_support: OnceLock<(crate::modern::tasks::TaskSupport, bool)>,
    /// Whether the tool-call hook wraps it (not the compact surface's
    /// `call_tool`: the hook sees the tool that one calls).
    pub hooked: bool,
}

/// A descriptor as clients see it; its schemas are compiled from it on
/// first use.
struct Assembled {
    json: Box<RawValue>,
    input: OnceLock<Result<jsonschema::Validator, String>>,
    output: Option<OnceLock<Result<jsonschema::Validator, String>>>,
}

/// The members of a descriptor that registration checks, read without
/// building the rest.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    name: Option<Value>,
    #[serde(rename = "inputSchema", default)]
    input_schema: Option<SchemaHead>,
}

#[derive(Deserialize)]
struct SchemaHead {
    #[serde(rename = "type", default)]
    ty: Option<Value>,
}

fn invalid(what: &str, message: &str) -> BuildError {
    BuildError::Invalid {
        what: what.to_owned(),
        message: message.to_owned(),
    }
}

impl Tool {
    /// A tool from its descriptor: the name must be valid and the
    /// `inputSchema` of type object; the rest waits for first use.
    pub(crate) fn new(
        descriptor_json: &str,
        prepare: Option<Prepare>,
        handler: ToolFn,
    ) -> Result<Tool, BuildError> {
        let (name, schema_type) = match serde_json::from_str::<Head>(descriptor_json) {
            Ok(h) => (h.name, h.input_schema.map(|s| s.ty)),
            // Not the usual shape (or a repeated member): as a whole, which
            // also words a syntax error.
            Err(_) => {
                let d: Value = serde_json::from_str(descriptor_json).map_err(|source| {
                    BuildError::Descriptor {
                        what: "tool".to_owned(),
                        source,
                    }
                })?;
                let schema_type = d
                    .get("inputSchema")
                    .map(|s| s.get("type").cloned().filter(|t| !t.is_null()));
                (d.get("name").cloned(), schema_type)
            }
        };
        let Some(Value::String(name)) = name else {
            return Err(invalid("tool", "missing string field `name`"));
        };
        let what = format!("tool {name}");
        if !is_valid_name(&name) {
            return Err(invalid(
                &what,
                "name must be 1-128 characters of A-Z a-z 0-9 _ - .",
            ));
        }
        match schema_type {
            None => return Err(invalid(&what, "missing inputSchema")),
            Some(t) if t.as_ref().and_then(Value::as_str) != Some("object") => {
                return Err(invalid(&what, "inputSchema must have type \"object\""));
            }
            Some(_) => {}
        }
        Ok(Tool::with_parts(
            name.into(),
            descriptor_json.to_owned().into(),
            prepare,
            handler,
        ))
    }

    /// A tool whose name is given beside its descriptor (the generator
    /// writes both): only the name is checked now; that the descriptor
    /// bears it and an `inputSchema` of type object is checked when it is
    /// assembled (all in `build()` with `check_schemas`). Nothing is copied:
    /// Microsoft Graph's 22,361 descriptors are 30 MB of static text.
    #[cfg(feature = "upstream")]
    pub(crate) fn from_static(
        name: &'static str,
        descriptor_json: &'static str,
        prepare: Option<Prepare>,
        handler: ToolFn,
    ) -> Result<Tool, BuildError> {
        if !is_valid_name(name) {
            return Err(invalid(
                &format!("tool {name}"),
                "name must be 1-128 characters of A-Z a-z 0-9 _ - .",
            ));
        }
        Ok(Tool::with_parts(
            name.into(),
            descriptor_json.into(),
            prepare,
            handler,
        ))
    }

    fn with_parts(
        name: Cow<'static, str>,
        source: Cow<'static, str>,
        prepare: Option<Prepare>,
        handler: ToolFn,
    ) -> Tool {
        Tool {
            name,
            source,
            prepare,
            assembled: OnceLock::new(),
            handler,
            enabled: AtomicBool::new(true),
            param_headers: OnceLock::new(),
            task_support: OnceLock::new(),
            hooked: true,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    fn assembled(&self) -> Result<&Assembled, McpError> {
        self.try_assembled()
            .map_err(|e| McpError::internal(format!("tool {}: {e}", self.name)))
    }

    fn try_assembled(&self) -> Result<&Assembled, &String> {
        self.assembled.get_or_init(|| self.assemble()).as_ref()
    }

    fn assemble(&self) -> Result<Assembled, String> {
        let mut d: Value = serde_json::from_str(&self.source).map_err(|e| e.to_string())?;
        self.check_head(&d)?;
        if let Some(prepare) = &self.prepare {
            prepare(&mut d)?;
        }
        let output = d.get("outputSchema").map(|_| OnceLock::new());
        let json = serde_json::value::to_raw_value(&d).map_err(|e| e.to_string())?;
        Ok(Assembled {
            json,
            input: OnceLock::new(),
            output,
        })
    }

    /// What registration checks of a descriptor read in full, again: a
    /// tool registered with its name beside was not read then.
    fn check_head(&self, d: &Value) -> Result<(), String> {
        if d.get("name").and_then(Value::as_str) != Some(&*self.name) {
            return Err(format!(
                "the descriptor's `name` is not {:?}, the name it was registered with",
                self.name
            ));
        }
        match d.get("inputSchema") {
            None => Err("missing inputSchema".to_owned()),
            Some(s) if s.get("type").and_then(Value::as_str) != Some("object") => {
                Err("inputSchema must have type \"object\"".to_owned())
            }
            Some(_) => Ok(()),
        }
    }

    /// The descriptor as clients see it.
    pub(crate) fn descriptor_json(&self) -> Result<&RawValue, McpError> {
        self.assembled().map(|a| &*a.json)
    }

    /// The compiled `inputSchema` of the assembled descriptor.
    pub(crate) fn input(&self) -> Result<&jsonschema::Validator, McpError> {
        let a = self.assembled()?;
        a.validator("inputSchema", &a.input)
    }

    /// The compiled `outputSchema`, if the tool declares one.
    pub(crate) fn output(&self) -> Result<Option<&jsonschema::Validator>, McpError> {
        let a = self.assembled()?;
        match &a.output {
            Some(cell) => a.validator("outputSchema", cell).map(Some),
            None => Ok(None),
        }
    }

    /// Assemble and compile now; the error names what is wrong
    /// (`ServerBuilder::check_schemas`).
    pub(crate) fn check(&self) -> Result<(), String> {
        let a = self.try_assembled().map_err(Clone::clone)?;
        a.validator("inputSchema", &a.input)
            .and_then(|_| match &a.output {
                Some(cell) => a.validator("outputSchema", cell).map(|_| ()),
                None => Ok(()),
            })
            .map_err(|e| e.0.message)
    }
}

impl Assembled {
    fn validator<'a>(
        &self,
        key: &'static str,
        cell: &'a OnceLock<Result<jsonschema::Validator, String>>,
    ) -> Result<&'a jsonschema::Validator, McpError> {
        cell.get_or_init(|| {
            // Read back from the text: only compiled schemas stay in memory
            // as trees.
            let mut d: Value = serde_json::from_str(self.json.get()).map_err(|e| e.to_string())?;
            let schema = d.get_mut(key).map(Value::take).unwrap_or(Value::Null);
            compile(&schema, key)
        })
        .as_ref()
        .map_err(|e| McpError::internal(e.clone()))
    }
}

/// Valid tool names per 2025-11-25: 1-128 of A-Z a-z 0-9 _ - .
pub(crate) fn is_valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

pub(crate) fn compile(schema: &Value, what: &str) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| format!("{what} is not a valid JSON Schema: {e}"))
}

/// A schema compiled on first use. Compiling every schema of a large API at
/// start-up (Kubernetes: 1,067 tools) would delay the first answer by
/// seconds; the generator has already checked them, and `ServerBuilder::
/// check_schemas` compiles them all up front for those who want it.
#[cfg_attr(not(feature = "upstream"), allow(dead_code))]
pub(crate) struct LazySchema {
    what: &'static str,
    schema: Value,
    compiled: OnceLock<Result<jsonschema::Validator, String>>,
}

#[cfg_attr(not(feature = "upstream"), allow(dead_code))]
impl LazySchema {
    pub(crate) fn new(what: &'static str, schema: Value) -> Self {
        LazySchema {
            what,
            schema,
            compiled: OnceLock::new(),
        }
    }

    pub(crate) fn get(&self) -> Result<&jsonschema::Validator, McpError> {
        self.compiled
            .get_or_init(|| compile(&self.schema, self.what))
            .as_ref()
            .map_err(|e| McpError::internal(e.clone()))
    }
}

/// The hasher of the registry's names: foldhash, not SipHash, which cost
/// more than the rest of a look-up (a modern `tools/call` makes three).
/// The keys are the server's own names, fixed when it is built; a client
/// only looks names up, so it cannot fill a bucket.
type NameHash = foldhash::fast::RandomState;

/// The listed tools of one moment, cut into pages that are serialized on
/// first request and kept until the list changes.
struct Pages {
    tools: Vec<Arc<Tool>>,
    size: usize,
    built: Vec<OnceLock<Arc<RawValue>>>,
}

impl Pages {
    fn new(tools: Vec<Arc<Tool>>, size: usize) -> Self {
        let size = size.max(1);
        let count = tools.len().div_ceil(size).max(1);
        Pages {
            tools,
            size,
            built: (0..count).map(|_| OnceLock::new()).collect(),
        }
    }

    fn page(&self, index: usize) -> Result<Arc<RawValue>, McpError> {
        let cell = self
            .built
            .get(index)
            .ok_or_else(|| McpError::invalid_params("invalid cursor"))?;
        if let Some(page) = cell.get() {
            return Ok(page.clone());
        }
        let start = (index * self.size).min(self.tools.len());
        let end = (start + self.size).min(self.tools.len());
        let items = self.tools[start..end]
            .iter()
            .map(|t| t.descriptor_json())
            .collect::<Result<Vec<_>, _>>()?;
        let next = (index + 1 < self.built.len()).then_some(index + 1);
        let page = pagination::page_json("tools", &items, next)
            .map_err(|e| McpError::internal(e.to_string()))?;
        // Two first requests may both build it; either result is the same.
        Ok(cell.get_or_init(|| page).clone())
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    order: Vec<Arc<Tool>>,
    /// Keyed by the tools' own names: a static one is not copied.
    by_name: HashMap<Cow<'static, str>, Arc<Tool>, NameHash>,
    /// None after a change: made again on the next `tools/list`.
    pages: RwLock<Option<Arc<Pages>>>,
    page_size: usize,
}

impl Registry {
    #[cfg(test)]
    pub(crate) fn new(tools: Vec<Tool>, page_size: usize) -> Self {
        Self::with_duplicates(tools, page_size).0
    }

    /// The registry, and the names of the tools registered twice (the
    /// later one wins here; `build()` refuses them). One pass, one map:
    /// Graph's 22,361 names are hashed once.
    pub(crate) fn with_duplicates(tools: Vec<Tool>, page_size: usize) -> (Self, Vec<String>) {
        let order: Vec<Arc<Tool>> = tools.into_iter().map(Arc::new).collect();
        let mut by_name = HashMap::with_capacity_and_hasher(order.len(), NameHash::default());
        let mut twice = vec![];
        for t in &order {
            if by_name.insert(t.name.clone(), t.clone()).is_some() {
                twice.push(t.name().to_owned());
            }
        }
        let registry = Registry {
            order,
            by_name,
            pages: RwLock::default(),
            page_size,
        };
        (registry, twice)
    }

    /// Every tool, listed or not, in registration order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Tool> {
        self.order.iter().map(|t| &**t)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn pages(&self) -> Arc<Pages> {
        if let Some(p) = &*self.pages.read().unwrap_or_else(|e| e.into_inner()) {
            return p.clone();
        }
        let mut slot = self.pages.write().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(|| {
            let listed = self
                .order
                .iter()
                .filter(|t| t.enabled.load(Ordering::Relaxed))
                .cloned()
                .collect();
            Arc::new(Pages::new(listed, self.page_size))
        })
        .clone()
    }

    /// The page the request's cursor points at, as serialized JSON.
    pub(crate) fn list(&self, params: Option<&Value>) -> Result<Payload, McpError> {
        let pages = self.pages();
        let index = pagination::page_index(params, pages.built.len())?;
        pages.page(index).map(Payload::Json)
    }

    /// Returns whether anything changed. Cheap: the pages are made again
    /// on the next `tools/list`, so many changes in a row cost one rebuild.
    pub(crate) fn set_enabled(&self, name: &str, enabled: bool) -> bool {
        let Some(tool) = self.by_name.get(name) else {
            return false;
        };
        if tool.enabled.swap(enabled, Ordering::Relaxed) == enabled {
            return false;
        }
        *self.pages.write().unwrap_or_else(|e| e.into_inner()) = None;
        true
    }

    fn get(&self, name: &str) -> Option<&Arc<Tool>> {
        self.by_name
            .get(name)
            .filter(|t| t.enabled.load(Ordering::Relaxed))
    }

    /// Whether `name` runs as a task: its descriptor's
    /// `execution.taskSupport` (MCP 2026-07-28 tasks extension).
    /// How the tool runs as a task, and whether it gathers input inline
    /// before it becomes one (`inputBeforeTask`).
    pub(crate) fn task_support(&self, name: &str) -> (crate::modern::tasks::TaskSupport, bool) {
        match self.get(name) {
            Some(t) => task_support_of(t),
            None => (crate::modern::tasks::TaskSupport::Forbidden, false),
        }
    }

    /// The arguments of `name` that clients mirror into `Mcp-Param-*`
    /// headers (SEP-2243; none for an unknown or disabled tool), and its
    /// [`Registry::task_support`], by one look-up (a stateless `tools/call`
    /// reads both).
    pub(crate) fn call_facts(
        &self,
        name: &str,
    ) -> (&[ParamHeader], (crate::modern::tasks::TaskSupport, bool)) {
        match self.get(name) {
            Some(t) => (param_headers_of(t), task_support_of(t)),
            None => (&[], (crate::modern::tasks::TaskSupport::Forbidden, false)),
        }
    }

    /// `tools/call`: the tool and its arguments found without waiting, and
    /// the call's future made of them. It borrows nothing (no layer around
    /// it keeps the server, the params or a second copy of the arguments).
    pub(crate) fn call(
        &self,
        ctx: RequestContext,
        params: Option<Value>,
    ) -> impl Future<Output = Result<Payload, McpError>> + Send + 'static + use<> {
        use futures::future::{Either, ready};
        match self.find(params) {
            Ok((tool, args)) => Either::Left(Self::run(tool, ctx, args)),
            Err(e) => Either::Right(ready(Err(e))),
        }
    }

    /// A `tools/call`'s tool and its arguments (`{}` for none or null).
    fn find(&self, params: Option<Value>) -> Result<(Arc<Tool>, Value), McpError> {
        let (name, args) = call_params(params);
        let Some(name) = name else {
            return Err(McpError::invalid_params("tools/call needs a string `name`"));
        };
        let tool = self
            .get(&name)
            .ok_or_else(|| McpError::invalid_params(format!("Unknown tool: {name}")))?;
        let args = match args {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(a) => a,
        };
        Ok((tool.clone(), args))
    }

    /// `tools/call` of the tool `name` whether it is listed or not (the
    /// `call_tool` meta-tool of the compact surface): the same checks,
    /// errors and result as a direct call.
    #[cfg(feature = "surface")]
    pub(crate) async fn call_by_name(
        &self,
        ctx: RequestContext,
        name: &str,
        args: Value,
    ) -> Result<Payload, McpError> {
        let tool = self
            .by_name
            .get(name)
            .ok_or_else(|| McpError::invalid_params(format!("Unknown tool: {name}")))?;
        let args = match args {
            Value::Null => Value::Object(Default::default()),
            a => a,
        };
        Self::run(tool.clone(), ctx, args).await
    }

    /// A tool's descriptor as clients see it, listed or not (assembled
    /// now if it was not yet).
    #[cfg(feature = "surface")]
    pub(crate) fn descriptor(&self, name: &str) -> Option<Value> {
        let json = self.by_name.get(name)?.descriptor_json().ok()?;
        serde_json::from_str(json.get()).ok()
    }

    /// A tool's descriptor as registered: name, title, description and
    /// argument names as clients see them, but its schemas not yet given
    /// their shared `$defs`. For search, which reads every tool: assembling
    /// them all would cost what lazy assembly saves (Graph: a gigabyte).
    #[cfg(feature = "surface")]
    pub(crate) fn registered_descriptor(&self, name: &str) -> Option<Value> {
        serde_json::from_str(&self.by_name.get(name)?.source).ok()
    }

    /// Whether the server has a tool `name`, listed or not (nothing is
    /// assembled).
    #[cfg(feature = "surface")]
    pub(crate) fn has(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Whether `name` is a tool that `tools/list` shows.
    #[cfg(feature = "surface")]
    pub(crate) fn is_enabled(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// [`Registry::set_enabled`] for many tools, the pages rebuilt once;
    /// returns whether anything changed.
    #[cfg(feature = "surface")]
    pub(crate) fn set_enabled_many<'a>(
        &self,
        changes: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> bool {
        let mut changed = false;
        for (name, enabled) in changes {
            if let Some(tool) = self.by_name.get(name) {
                changed |= tool.enabled.swap(enabled, Ordering::Relaxed) != enabled;
            }
        }
        if changed {
            *self.pages.write().unwrap_or_else(|e| e.into_inner()) = None;
        }
        changed
    }

    /// The call of `tool` (found by its name) with `args`, in its span
    /// when telemetry observes it. An `async fn`, unlike its twin below:
    /// the tool's span is made when this is first polled, inside the
    /// request's span, which is its parent.
    #[cfg(feature = "telemetry")]
    async fn run(tool: Arc<Tool>, ctx: RequestContext, args: Value) -> Result<Payload, McpError> {
        let Some(observed) = crate::telemetry::tool(tool.name()) else {
            return Self::run_checked(tool, ctx, args).await.map(|(p, _)| p);
        };
        let run = Self::run_checked(tool, ctx, args);
        let outcome = tracing::Instrument::instrument(run, observed.span()).await;
        observed.finish(outcome.as_ref().map(|(_, is_error)| *is_error));
        outcome.map(|(p, _)| p)
    }

    /// The call of `tool` (found by its name) with `args`.
    #[cfg(not(feature = "telemetry"))]
    fn run(
        tool: Arc<Tool>,
        ctx: RequestContext,
        args: Value,
    ) -> impl Future<Output = Result<Payload, McpError>> + Send + 'static {
        use futures::FutureExt;
        Self::run_checked(tool, ctx, args).map(|r| r.map(|(p, _)| p))
    }

    /// The call, and whether its result is a tool error.
    /// Its one future: it holds the tool, the context and the arguments
    /// (until they go to the handler) once, and the handler's boxed future.
    async fn run_checked(
        tool: Arc<Tool>,
        ctx: RequestContext,
        args: Value,
    ) -> Result<(Payload, bool), McpError> {
        let name = tool.name();
        #[cfg(feature = "auth")]
        if let Err(text) = crate::auth::check_tool_scopes(&ctx, name) {
            return Ok((serialize(&CallToolResult::error(text)), true));
        }
        // The limiter's future (a store's, large) only for a tool it
        // limits, and boxed: not part of every call's future.
        if let Some(r) = ctx.server.rate_limiter().filter(|r| r.limits_tool(name))
            && let Err(e) = Box::pin(r.check_tool(name)).await
        {
            return Ok((serialize(&CallToolResult::error(e.to_string())), true));
        }
        if let Some(text) = invalid_arguments(&tool, &args)? {
            return Ok((serialize(&CallToolResult::error(text)), true));
        }
        // The tool-call hook, if the server has one, around the handler.
        let result = match crate::hook::call(&tool, ctx, args).await {
            Ok(r) => r,
            Err(e) => CallToolResult::error(e.message),
        };
        if let Some(output) = tool.output()?
            && !result.is_error
        {
            let Some(structured) = &result.structured_content else {
                return Err(McpError::internal(format!(
                    "tool {name} declares an outputSchema but returned no structuredContent"
                )));
            };
            if let Some(e) = output.iter_errors(structured).next() {
                return Err(McpError::internal(format!(
                    "tool {name} returned structuredContent that does not match its outputSchema: {e}"
                )));
            }
        }
        Ok((serialize(&result), result.is_error))
    }
}

/// [`Registry::task_support`] of a tool found.
fn task_support_of(t: &Tool) -> (crate::modern::tasks::TaskSupport, bool) {
    use crate::modern::tasks::{self, TaskSupport};
    *t.task_support.get_or_init(|| {
        // Most tools have none: skip the parse.
        if !t.source.contains("taskSupport") {
            return (TaskSupport::Forbidden, false);
        }
        serde_json::from_str::<Value>(&t.source)
            .map(|d| (TaskSupport::of(&d), tasks::input_before_task(&d)))
            .unwrap_or((TaskSupport::Forbidden, false))
    })
}

/// The `Mcp-Param-*` arguments of a tool found ([`Registry::call_facts`]).
fn param_headers_of(t: &Tool) -> &Arc<[ParamHeader]> {
    t.param_headers.get_or_init(|| {
        // Most tools have none: skip the parse.
        if !t.source.contains(param_headers::ANNOTATION) {
            return Arc::new([]);
        }
        serde_json::from_str::<Value>(&t.source)
            .ok()
            .and_then(|d| d.get("inputSchema").map(param_headers::param_headers))
            .unwrap_or_default()
            .into()
    })
}

/// What is wrong with `args` for `tool`, as the model reads it; None when
/// they are valid.
pub(crate) fn invalid_arguments(tool: &Tool, args: &Value) -> Result<Option<String>, McpError> {
    let validator = tool.input()?;
    // The common case, valid arguments, without building an error iterator.
    if validator.is_valid(args) {
        return Ok(None);
    }
    Ok(describe_invalid(validator, tool.name(), args))
}

/// [`invalid_arguments`]' message, out of line: the error path's code
/// stays out of the cache lines every valid call runs through.
#[cold]
#[inline(never)]
fn describe_invalid(validator: &jsonschema::Validator, name: &str, args: &Value) -> Option<String> {
    let problems: Vec<String> = validator
        .iter_errors(args)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    (!problems.is_empty())
        .then(|| format!("Invalid arguments for tool {name}: {}", problems.join("; ")))
}

/// The result as JSON text, written into the response as it is (no `Value`
/// tree of a result that can be as large as an upstream response).
/// The `name` (when a string) and `arguments` of `tools/call` params,
/// both moved out, not copied (the arguments can be the bulk of a
/// message). The params are consumed in one pass over their few members:
/// no SipHash'd look-up and removal per member.
fn call_params(params: Option<Value>) -> (Option<String>, Option<Value>) {
    let Some(Value::Object(members)) = params else {
        return (None, None);
    };
    let (mut name, mut args) = (None, None);
    for (key, value) in members {
        match (key.as_str(), value) {
            ("name", Value::String(n)) => name = Some(n),
            ("arguments", a) => args = Some(a),
            _ => {}
        }
    }
    (name, args)
}

pub(crate) fn serialize(r: &CallToolResult) -> Payload {
    // Without `_meta` its members are known (`Payload::ToolResult`).
    let text = match r.meta {
        None => serde_json::value::to_raw_value(r).map(Payload::ToolResult),
        Some(_) => Payload::serialize(r),
    };
    text.unwrap_or_else(|e| {
        Payload::Value(serde_json::json!({
            "content": [{ "type": "text", "text": format!("unserializable result: {e}") }],
            "isError": true
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::AtomicUsize;

    fn handler() -> ToolFn {
        Arc::new(|_, _| Box::pin(async { Ok(CallToolResult::text("ok")) }))
    }

    /// Tools t0…t{n-1}; preparing one counts and makes `x` required.
    #[test]
    fn call_params_move_out_a_string_name_and_any_arguments() {
        let (name, args) = call_params(Some(json!({"arguments": {"a": 1}, "name": "t", "x": 2})));
        assert_eq!(name.as_deref(), Some("t"));
        assert_eq!(args, Some(json!({"a": 1})));
        assert_eq!(call_params(Some(json!({"name": 7}))), (None, None));
        assert_eq!(
            call_params(Some(json!({"arguments": null}))),
            (None, Some(Value::Null))
        );
        assert_eq!(call_params(Some(json!(["t"]))), (None, None));
        assert_eq!(call_params(None), (None, None));
    }

    /// One look-up for both facts: the headers as the annotations say, the
    /// task support as `task_support` says, and nothing for a tool that is
    /// unknown or disabled.
    #[test]
    fn call_facts_are_the_tools_annotations_and_task_support() {
        use crate::modern::tasks::TaskSupport;
        let plain = r#"{"name": "plain", "inputSchema": {"type": "object"}}"#;
        let mirrored = r#"{"name": "mirrored", "inputSchema": {"type": "object",
            "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}},
            "execution": {"taskSupport": "optional"}}"#;
        let tools = [plain, mirrored]
            .into_iter()
            .map(|d| Tool::new(d, None, handler()).unwrap())
            .collect();
        let r = Registry::new(tools, 10);
        let (headers, task) = r.call_facts("plain");
        assert!(headers.is_empty());
        assert_eq!(task, r.task_support("plain"));
        assert_eq!(task.0, TaskSupport::Forbidden);
        let (headers, task) = r.call_facts("mirrored");
        let want = param_headers::param_headers(
            &serde_json::from_str::<Value>(mirrored).unwrap()["inputSchema"],
        );
        assert_eq!(headers.len(), 1);
        assert_eq!(headers.len(), want.len());
        assert_eq!(headers[0].name, want[0].name);
        assert_eq!(task, r.task_support("mirrored"));
        assert_eq!(task.0, TaskSupport::Optional);
        assert!(r.set_enabled("mirrored", false));
        let (headers, task) = r.call_facts("mirrored");
        assert!(headers.is_empty());
        assert_eq!(task, (TaskSupport::Forbidden, false));
        assert_eq!(task, r.task_support("mirrored"));
        let (headers, task) = r.call_facts("nope");
        assert!(headers.is_empty() && task.0 == TaskSupport::Forbidden);
    }

    fn registry(n: usize, page_size: usize, prepared: &Arc<AtomicUsize>) -> Registry {
        let tools = (0..n)
            .map(|i| {
                let count = prepared.clone();
                let prepare: Prepare = Arc::new(move |d: &mut Value| {
                    count.fetch_add(1, Ordering::SeqCst);
                    d["inputSchema"]["required"] = json!(["x"]);
                    Ok(())
                });
                let text = format!(
                    "{{\n  \"name\": \"t{i}\",\n  \"description\": \"é \\u2028\",\n  \"inputSchema\": {{ \"type\": \"object\" }}\n}}"
                );
                Tool::new(&text, Some(prepare), handler()).unwrap()
            })
            .collect();
        Registry::new(tools, page_size)
    }

    fn page(r: &Registry, cursor: Option<&str>) -> Value {
        let params = cursor.map(|c| json!({ "cursor": c }));
        r.list(params.as_ref()).unwrap().into_value()
    }

    #[cfg(feature = "surface")]
    #[test]
    fn search_reads_registered_descriptors_without_assembling() {
        let prepared = Arc::new(AtomicUsize::new(0));
        let r = registry(3, 2, &prepared);
        let d = r.registered_descriptor("t1").unwrap();
        assert_eq!(d["name"], "t1");
        assert_eq!(d["description"], "é \u{2028}");
        assert_eq!(d["inputSchema"].get("required"), None, "as registered");
        assert_eq!(prepared.load(Ordering::SeqCst), 0, "nothing assembled");
        assert_eq!(r.registered_descriptor("nope"), None);
        let full = r.descriptor("t1").unwrap();
        assert_eq!(full["inputSchema"]["required"], json!(["x"]));
        assert_eq!(prepared.load(Ordering::SeqCst), 1, "describe assembles");
    }

    #[test]
    fn tools_are_assembled_when_their_page_is_first_asked_for() {
        let prepared = Arc::new(AtomicUsize::new(0));
        let r = registry(5, 2, &prepared);
        assert_eq!(prepared.load(Ordering::SeqCst), 0, "nothing at start-up");
        let first = page(&r, None);
        assert_eq!(prepared.load(Ordering::SeqCst), 2, "the first page only");
        assert_eq!(first["nextCursor"], "page-1");
        assert_eq!(first["tools"][1]["inputSchema"]["required"], json!(["x"]));
        assert_eq!(page(&r, None), first);
        assert_eq!(prepared.load(Ordering::SeqCst), 2, "kept, not rebuilt");
        let last = page(&r, Some("page-2"));
        assert_eq!(last["tools"].as_array().unwrap().len(), 1);
        assert!(last.get("nextCursor").is_none());
        assert_eq!(prepared.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_page_is_the_text_of_its_descriptors_as_values() {
        let prepared = Arc::new(AtomicUsize::new(0));
        let r = registry(3, 2, &prepared);
        let Payload::Json(text) = r.list(None).unwrap() else {
            panic!("pages are serialized")
        };
        let mut want = json!({ "tools": [], "nextCursor": "page-1" });
        for i in 0..2 {
            let mut d = json!({ "name": format!("t{i}"), "description": "é \u{2028}",
                "inputSchema": { "type": "object" } });
            d["inputSchema"]["required"] = json!(["x"]);
            want["tools"].as_array_mut().unwrap().push(d);
        }
        assert_eq!(text.get(), want.to_string());
    }

    #[test]
    fn enabling_and_disabling_changes_the_pages_and_not_the_descriptors() {
        let prepared = Arc::new(AtomicUsize::new(0));
        let r = registry(3, 2, &prepared);
        assert!(r.set_enabled("t0", false));
        assert!(!r.set_enabled("t0", false), "no change");
        assert!(r.set_enabled("t1", false));
        let names = |v: &Value| -> Vec<String> {
            v["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let only = page(&r, None);
        assert_eq!(names(&only), ["t2"]);
        assert!(only.get("nextCursor").is_none());
        assert!(r.set_enabled("t0", true));
        assert_eq!(names(&page(&r, None)), ["t0", "t2"]);
        assert_eq!(
            prepared.load(Ordering::SeqCst),
            2,
            "each tool assembled once"
        );
        assert!(r.get("t1").is_none() && r.get("t2").is_some());
    }

    #[test]
    fn validation_uses_the_prepared_schema() {
        let prepared = Arc::new(AtomicUsize::new(0));
        let r = registry(1, 10, &prepared);
        let tool = r.get("t0").unwrap();
        let input = tool.input().unwrap();
        assert!(!input.is_valid(&json!({})), "x is required after preparing");
        assert!(input.is_valid(&json!({ "x": 1 })));
        assert!(tool.output().unwrap().is_none());
        assert_eq!(prepared.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn registration_reads_only_what_it_checks() {
        let t = |text: &str| Tool::new(text, None, handler()).map(|t| t.name().to_owned());
        assert_eq!(
            t(r#"{"inputSchema":{"type":"object","properties":{"a":{}}},"name":"a"}"#).unwrap(),
            "a"
        );
        // A repeated member takes the general path (the last one counts).
        assert_eq!(
            t(r#"{"name":"a","name":"b","inputSchema":{"type":"object"}}"#).unwrap(),
            "b"
        );
        for (text, want) in [
            (
                r#"{"name":"a","inputSchema":{"type":"string"}}"#,
                "inputSchema must have type",
            ),
            (
                r#"{"name":"a","inputSchema":true}"#,
                "inputSchema must have type",
            ),
            (r#"{"name":"a"}"#, "missing inputSchema"),
            (
                r#"{"name":7,"inputSchema":{"type":"object"}}"#,
                "missing string field `name`",
            ),
            (
                r#"{"name":"a b","inputSchema":{"type":"object"}}"#,
                "name must be",
            ),
            (r#"{"name":"a","#, "tool"),
        ] {
            let e = t(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[cfg(feature = "upstream")]
    #[test]
    fn a_tool_registered_with_its_name_beside_is_read_when_assembled() {
        let t =
            |name: &'static str, text: &'static str| Tool::from_static(name, text, None, handler());
        let ok = t("a", r#"{"name":"a","inputSchema":{"type":"object"}}"#).unwrap();
        assert_eq!(ok.name(), "a");
        assert!(ok.check().is_ok());
        // Nothing but the name is read at registration: not even the syntax.
        let refused = t("a b", r#"{"name":"a b"}"#).err().map(|e| e.to_string());
        assert!(refused.unwrap().contains("name must be"));
        for (text, want) in [
            (
                r#"{"name":"b","inputSchema":{"type":"object"}}"#,
                "not \"a\"",
            ),
            (
                r#"{"name":"a","name":"b","inputSchema":{"type":"object"}}"#,
                "not \"a\"",
            ),
            (r#"{"name":"a"}"#, "missing inputSchema"),
            (
                r#"{"name":"a","inputSchema":{"type":"string"}}"#,
                "inputSchema must have type",
            ),
            (r#"{"name":"a","#, "EOF"),
        ] {
            let tool = t("a", text).unwrap();
            let e = tool.check().unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
            let listed = Registry::new(vec![tool], 10).list(None).unwrap_err();
            assert!(
                listed.0.message.contains(want),
                "{text}: {}",
                listed.0.message
            );
        }
    }

    #[test]
    fn tool_name_rules() {
        for ok in ["a", "get_user", "admin.tools-list", "A9", &"x".repeat(128)] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "é", "a,b", &"x".repeat(129)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}

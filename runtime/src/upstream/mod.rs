//! OpenAPI operations as tools (and resources) that call the real API.
//!
//! Compiled with the `upstream` feature, which generated crates that call an
//! API turn on. The core knows nothing of this module: its builder methods
//! (`ServerBuilder::upstream`, `upstream_tool`, `upstream_resource`,
//! `upstream_resource_template`) register ordinary tool and resource handlers
//! and keep the shared state as a plug-in (`crate::extension`). This module
//! turns arguments into HTTP requests and responses into MCP results.
//! The JSON contract is docs/upstream.md. Start-up settings (base URL, extra
//! headers, Authorization forwarding, timeout) arrive through
//! `Server::configure_upstream`, which `cli::run` calls.

mod auth;
mod body;
mod call;
mod config;
mod data;
mod direct;
mod error;
mod lenient;
mod operation;
mod poll;
mod pool;
mod redact;
mod response;
mod serialize;
mod tls;

pub use config::UpstreamOverrides;
pub(crate) use config::split_header_list;
pub(crate) use error::CallError;
pub use error::ConfigError;
pub use tls::TlsOverrides;

/// Headers for the upstream requests of one tool call, set by a tool-call
/// hook: `call.context_mut().extensions_mut().insert(UpstreamHeaders(map))`
/// (a tenant's header, a per-user token). They win over `--header` values
/// and lose to the credentials of the operation's security schemes and a
/// forwarded Authorization; like `--header` values they are not sent to an
/// operation's server on another host. Values marked sensitive
/// (`HeaderValue::set_sensitive`) are redacted from the tool's output.
#[derive(Debug, Clone, Default)]
pub struct UpstreamHeaders(pub http::HeaderMap);

use crate::builder::ServerBuilder;
use crate::context::RequestContext;
use crate::error::{BuildError, McpError, ToolError};
use crate::extension::Extension;
use crate::model::{CallToolResult, ReadResourceResult};
use crate::resources::UriTemplate;
use crate::server::Server;
use crate::tools::Prepare;
use auth::CheckScheme;
use config::{Config, Settings};
use futures::FutureExt;
use futures::future::BoxFuture;
use operation::Operation;
use redact::Redactor;
use serde_json::{Map, Value};
use std::any::Any;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock, RwLock};

/// The upstream state every upstream tool of one server shares. Handlers
/// are created before `build()` knows the configuration, so they hold this
/// handle and read the current settings on each call.
#[derive(Clone, Default)]
pub(crate) struct Upstream(Arc<RwLock<Option<State>>>);

struct State {
    config: Arc<Config>,
    user_agent: String,
    settings: Arc<Settings>,
    /// The redactor of the static secrets, built with the settings (its
    /// automaton takes ≈ 15 µs to build: not once per call).
    redactor: Redactor,
}

impl State {
    fn new(config: Arc<Config>, user_agent: String, settings: Settings) -> Self {
        State {
            config,
            user_agent,
            redactor: Redactor::new(&settings.secrets),
            settings: Arc::new(settings),
        }
    }
}

impl Upstream {
    fn settings(&self) -> Option<(Arc<Settings>, Redactor)> {
        let state = self.0.read().unwrap_or_else(|e| e.into_inner());
        state
            .as_ref()
            .map(|s| (s.settings.clone(), s.redactor.clone()))
    }

    /// Re-resolve the settings (re-reading secrets from the environment).
    fn reconfigure(&self, overrides: &UpstreamOverrides) -> Result<(), ConfigError> {
        let mut state = self.0.write().unwrap_or_else(|e| e.into_inner());
        let s = state.as_mut().ok_or(ConfigError::NoUpstream)?;
        let settings = Settings::resolve(s.config.clone(), overrides, &s.user_agent)?;
        settings.warn_about_short_secrets();
        settings.warn_about_tls();
        *s = State::new(
            s.config.clone(),
            std::mem::take(&mut s.user_agent),
            settings,
        );
        Ok(())
    }
}

impl Server {
    /// Whether this server calls an upstream API.
    pub fn has_upstream(&self) -> bool {
        self.extension::<Upstream>().is_some()
    }

    /// Apply start-up settings (CLI flags, environment) to the upstream
    /// API. Secrets are read from the environment again. Refused settings
    /// leave the previous ones in place.
    pub fn configure_upstream(&self, overrides: &UpstreamOverrides) -> Result<(), ConfigError> {
        self.extension::<Upstream>()
            .ok_or(ConfigError::NoUpstream)?
            .reconfigure(overrides)
    }
}

impl ServerBuilder {
    /// The API that upstream tools and resources call (`UPSTREAM_JSON`:
    /// base URL, security schemes, timeouts, retries; docs/upstream.md).
    pub fn upstream(mut self, upstream_json: &str) -> Self {
        match self.extension::<UpstreamBuilder>().config(upstream_json) {
            Ok(()) => self,
            Err(e) => self.with_error(e),
        }
    }

    /// The schema definitions the upstream tools share (a JSON object, name →
    /// schema). Each later `upstream_tool` whose `inputSchema` or
    /// `outputSchema` has no `$defs` gets those it reaches, sorted by name:
    /// clients see self-contained schemas while the generated crate holds
    /// each definition once.
    ///
    /// The text is kept and parsed when the first tool that may use it is
    /// assembled (Microsoft Graph's 3 MB took a tenth of its start-up); a
    /// text that is not a JSON object then fails those tools' assembly,
    /// and `build()` with `check_schemas(true)`.
    pub fn upstream_defs(mut self, defs_json: &str) -> Self {
        let upstream = self.extension::<UpstreamBuilder>();
        let mut texts = upstream.defs.texts.clone();
        texts.push(defs_json.into());
        upstream.defs = Arc::new(SharedDefs {
            texts,
            parsed: OnceLock::new(),
        });
        self
    }

    /// A tool without a handler: calling it sends the HTTP request that
    /// `operation_json` describes and returns the upstream response.
    ///
    /// The descriptor is assembled (shared `$defs` attached, `outputSchema`
    /// relaxed) when the tool is first listed or called, and the operation
    /// parsed and checked on first call, not here: start-up does no
    /// per-tool schema or operation work (`check_schemas` does it all in
    /// `build`).
    pub fn upstream_tool(mut self, descriptor_json: &str, operation_json: &str) -> Self {
        let upstream = self.extension::<UpstreamBuilder>();
        let (handler, prepare, binding) = upstream.tool(operation_json.to_owned().into());
        let before = self.tool_count();
        self = self.tool_with(descriptor_json, Some(prepare), handler, true);
        // The name registration read (`Tool::new`); none if it was refused.
        if let Some(name) = self.tool_name(before) {
            let _ = binding.name.set(name.to_owned().into());
        }
        self
    }

    /// [`ServerBuilder::upstream_tool`] from static text, with the tool's
    /// name beside its descriptor (generated crates call this): the texts
    /// are kept where they are, not copied, and the descriptor is not read
    /// until the tool is first listed or called. Only the name is checked
    /// here; that the descriptor bears that name and an `inputSchema` of
    /// type object is checked when it is assembled (for every tool in
    /// `build()` with `check_schemas(true)`).
    pub fn upstream_tool_static(
        mut self,
        name: &'static str,
        descriptor_json: &'static str,
        operation_json: &'static str,
    ) -> Self {
        let upstream = self.extension::<UpstreamBuilder>();
        let (handler, prepare, binding) = upstream.tool(operation_json.into());
        let _ = binding.name.set(name.into());
        self.tool_static(name, descriptor_json, Some(prepare), handler)
    }

    /// A resource read by a parameterless GET operation.
    pub fn upstream_resource(mut self, descriptor_json: &str, operation_json: &str) -> Self {
        let upstream = self.extension::<UpstreamBuilder>();
        match upstream.resource(descriptor_json, operation_json) {
            Ok(handler) => self.resource(descriptor_json, handler),
            Err(e) => self.with_error(e),
        }
    }

    /// A resource template read by a GET operation; each URI variable is
    /// the argument of the same name.
    pub fn upstream_resource_template(
        mut self,
        descriptor_json: &str,
        operation_json: &str,
    ) -> Self {
        let upstream = self.extension::<UpstreamBuilder>();
        match upstream.template(descriptor_json, operation_json) {
            Ok(handler) => self.resource_template(descriptor_json, handler),
            Err(e) => self.with_error(e),
        }
    }
}

/// Collects upstream declarations while the server is being built.
#[derive(Default)]
pub(crate) struct UpstreamBuilder {
    handle: Upstream,
    config: Option<Config>,
    /// (what, operation) of the resources and templates, checked in `finish`.
    operations: Vec<(String, Arc<Operation>)>,
    /// The tools, whose operations are parsed on first call; `finish`
    /// parses and checks them all when `check_operations` is set
    /// (`ServerBuilder::check_schemas`).
    tools: Vec<Arc<ToolBinding>>,
    pub(crate) check_operations: bool,
    /// The document's shared schema definitions (`upstream_defs`), shared
    /// by the tools registered after them.
    defs: Arc<SharedDefs>,
}

fn invalid(what: &str, message: impl Into<String>) -> BuildError {
    BuildError::Invalid {
        what: what.to_owned(),
        message: message.into(),
    }
}

type ToolHandler = Box<
    dyn Fn(RequestContext, Value) -> BoxFuture<'static, Result<CallToolResult, ToolError>>
        + Send
        + Sync,
>;
type ResourceHandler = Box<
    dyn Fn(RequestContext, String) -> BoxFuture<'static, Result<ReadResourceResult, McpError>>
        + Send
        + Sync,
>;
type TemplateHandler = Box<
    dyn Fn(
            RequestContext,
            String,
            Map<String, Value>,
        ) -> BoxFuture<'static, Result<ReadResourceResult, McpError>>
        + Send
        + Sync,
>;

impl UpstreamBuilder {
    pub(crate) fn config(&mut self, json: &str) -> Result<(), BuildError> {
        if self.config.is_some() {
            return Err(invalid("upstream", "declared twice"));
        }
        let config: Config =
            serde_json::from_str(json).map_err(|source| BuildError::Descriptor {
                what: "upstream".into(),
                source,
            })?;
        for (name, scheme) in &config.security_schemes {
            scheme
                .check()
                .map_err(|m| invalid(&format!("upstream security scheme {name}"), m))?;
        }
        self.config = Some(config);
        Ok(())
    }

    fn operation(&mut self, what: String, json: &str) -> Result<Arc<Operation>, BuildError> {
        let op = Arc::new(Operation::parse(json).map_err(|m| invalid(&what, m))?);
        self.operations.push((what, op.clone()));
        Ok(op)
    }

    /// The tool's handler, and what makes its descriptor the one clients
    /// see: the shared `$defs` attached to its schemas, and the
    /// outputSchema relaxed (`lenient`), since a real API does not keep to
    /// its document and a validating client must not refuse what it sends.
    pub(crate) fn tool(
        &mut self,
        operation_json: Cow<'static, str>,
    ) -> (ToolHandler, Prepare, Arc<ToolBinding>) {
        // The operation is kept as text, parsed (and its security schemes
        // checked) on first call: parsing 22,361 operations took a third of
        // Graph's start-up. The descriptor's `$defs` references are checked
        // when it is assembled (first listed or called; all of them in
        // `build()` with `check_schemas`): the generator emits none that
        // dangle, and scanning every descriptor for them took a tenth.
        let binding = Arc::new(ToolBinding {
            name: OnceLock::new(),
            op: LazyOperation {
                source: operation_json,
                parsed: OnceLock::new(),
            },
            output: OnceLock::new(),
        });
        self.tools.push(binding.clone());
        let defs = self.defs.clone();
        let assembled = binding.clone();
        let prepare: Prepare = Arc::new(move |d: &mut Value| {
            let table = defs.get().map_err(|e| format!("upstream defs: {e}"))?;
            if !table.is_empty() {
                for key in ["inputSchema", "outputSchema"] {
                    if let Some(schema) = d.get_mut(key) {
                        mcpgen_contract::defs::attach_shared_defs(schema, table)
                            .map_err(|e| format!("{key}: {e}"))?;
                    }
                }
            }
            let output = d.get_mut("outputSchema").map(|schema| {
                let own = std::mem::replace(schema, Value::Null);
                *schema = lenient::relax_output_schema(&own);
                crate::tools::LazySchema::new("outputSchema", own)
            });
            let _ = assembled.output.set(output);
            Ok(())
        });
        let handle = self.handle.clone();
        let called = binding.clone();
        let handler: ToolHandler = Box::new(move |ctx, args| {
            let (handle, binding) = (handle.clone(), called.clone());
            async move { Ok(call_tool(&handle, &binding, ctx, args).await) }.boxed()
        });
        (handler, prepare, binding)
    }

    pub(crate) fn resource(
        &mut self,
        descriptor_json: &str,
        operation_json: &str,
    ) -> Result<ResourceHandler, BuildError> {
        let d: Value = serde_json::from_str(descriptor_json).unwrap_or_default();
        let uri = d.get("uri").and_then(Value::as_str).unwrap_or("?");
        let what = format!("upstream resource {uri} operation");
        let op = self.operation(what.clone(), operation_json)?;
        check_readable(&op, &what, &[])?;
        let handle = self.handle.clone();
        Ok(Box::new(move |ctx, uri| {
            let (handle, op) = (handle.clone(), op.clone());
            async move { read(&handle, &op, ctx, uri, Value::Object(Map::new())).await }.boxed()
        }))
    }

    pub(crate) fn template(
        &mut self,
        descriptor_json: &str,
        operation_json: &str,
    ) -> Result<TemplateHandler, BuildError> {
        let d: Value = serde_json::from_str(descriptor_json).unwrap_or_default();
        let t = d.get("uriTemplate").and_then(Value::as_str).unwrap_or("");
        let what = format!("upstream resource template {t} operation");
        let variables: Vec<String> = UriTemplate::parse(t)
            .map(|t| t.variables().map(str::to_owned).collect())
            .unwrap_or_default();
        let op = self.operation(what.clone(), operation_json)?;
        check_readable(&op, &what, &variables)?;
        let handle = self.handle.clone();
        Ok(Box::new(move |ctx, uri, vars| {
            let (handle, op) = (handle.clone(), op.clone());
            async move { read(&handle, &op, ctx, uri, Value::Object(vars)).await }.boxed()
        }))
    }

    /// Check every operation against the configuration and resolve the
    /// settings (secrets from the environment, the HTTP client).
    pub(crate) fn finish(self, info: &Value) -> Result<Upstream, Vec<BuildError>> {
        let mut errors = vec![];
        if self.check_operations
            && let Err(m) = self.defs.get()
        {
            errors.push(invalid("upstream defs", m.clone()));
        }
        if self.check_operations {
            for b in &self.tools {
                let checked = match &self.config {
                    Some(config) => b.op.get(config).map(|_| ()).map_err(Clone::clone),
                    None => Operation::parse(&b.op.source).map(|_| ()),
                };
                if let Err(m) = checked {
                    errors.push(invalid(&format!("upstream tool {} operation", b.name()), m));
                }
            }
        }
        let Some(config) = self.config else {
            errors.push(invalid(
                "upstream",
                "upstream tools and resources need `.upstream(UPSTREAM_JSON)`",
            ));
            return Err(errors);
        };
        for (what, op) in &self.operations {
            if let Err(m) = check_security(op, &config) {
                errors.push(invalid(what, m));
            }
        }
        let text = |k: &str| info.get(k).and_then(Value::as_str).unwrap_or("mcp-server");
        let user_agent = format!(
            "{}/{} mcpgen-runtime/{}",
            text("name"),
            text("version"),
            env!("CARGO_PKG_VERSION")
        );
        let config = Arc::new(config);
        match Settings::resolve_or_defer(config.clone(), &UpstreamOverrides::default(), &user_agent)
        {
            Ok(settings) if errors.is_empty() => {
                *self.handle.0.write().unwrap_or_else(|e| e.into_inner()) =
                    Some(State::new(config, user_agent, settings));
                Ok(self.handle)
            }
            Ok(_) => Err(errors),
            Err(e) => {
                errors.push(invalid("upstream", e.to_string()));
                Err(errors)
            }
        }
    }
}

impl Extension for UpstreamBuilder {
    fn finish(
        self: Box<Self>,
        info: &Value,
    ) -> Result<Arc<dyn Any + Send + Sync>, Vec<BuildError>> {
        let upstream: Arc<dyn Any + Send + Sync> = Arc::new(UpstreamBuilder::finish(*self, info)?);
        Ok(upstream)
    }
}

/// A resource read must be a GET whose required inputs the URI provides.
fn check_readable(op: &Operation, what: &str, variables: &[String]) -> Result<(), BuildError> {
    if op.method != reqwest::Method::GET {
        return Err(invalid(what, "only GET operations can back a resource"));
    }
    if op.body_required() {
        return Err(invalid(
            what,
            "an operation with a required body cannot back a resource",
        ));
    }
    if let Some(p) = op.parameters().iter().find(|p| {
        (p.required || p.location == operation::Location::Path) && !variables.contains(&p.arg)
    }) {
        return Err(invalid(
            what,
            format!(
                "required parameter `{}` is not a variable of the URI",
                p.arg
            ),
        ));
    }
    Ok(())
}

/// The shared definitions declared so far (`upstream_defs`), kept as text
/// and parsed once, when a tool that may use them is first assembled.
#[derive(Default)]
struct SharedDefs {
    texts: Vec<Arc<str>>,
    parsed: OnceLock<Result<Map<String, Value>, String>>,
}

impl SharedDefs {
    fn get(&self) -> Result<&Map<String, Value>, &String> {
        self.parsed
            .get_or_init(|| {
                let mut table = Map::new();
                for text in &self.texts {
                    match serde_json::from_str::<Value>(text) {
                        Ok(Value::Object(m)) => table.extend(m),
                        Ok(_) => return Err("must be a JSON object".to_owned()),
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Ok(table)
            })
            .as_ref()
    }
}

/// Every security scheme an operation names must be declared.
fn check_security(op: &Operation, config: &Config) -> Result<(), String> {
    match op
        .security
        .iter()
        .flatten()
        .find(|s| !config.security_schemes.contains_key(*s))
    {
        Some(scheme) => Err(format!("security names unknown scheme `{scheme}`")),
        None => Ok(()),
    }
}

/// An upstream tool's operation descriptor, parsed and checked against the
/// configuration on first use. The generator has checked it already;
/// `ServerBuilder::check_schemas` parses them all in `build()`.
struct LazyOperation {
    source: Cow<'static, str>,
    parsed: OnceLock<Result<Operation, String>>,
}

impl ToolBinding {
    fn name(&self) -> &str {
        self.name.get().map_or("?", |n| n)
    }
}

impl LazyOperation {
    fn get(&self, config: &Config) -> Result<&Operation, &String> {
        self.parsed
            .get_or_init(|| {
                let op = Operation::parse(&self.source)?;
                check_security(&op, config)?;
                Ok(op)
            })
            .as_ref()
    }
}

pub(crate) struct ToolBinding {
    /// Set right after registration: the name given beside the descriptor,
    /// or the one `Tool::new` read from it.
    name: OnceLock<Cow<'static, str>>,
    op: LazyOperation,
    /// The document's own response schema (not the relaxed one clients
    /// see): a response that departs from it gets a note. Set when the
    /// descriptor is assembled, which a call's argument check does first.
    output: OnceLock<Option<crate::tools::LazySchema>>,
}

/// Every outcome is a tool result: upstream failures are for the model to
/// see, never protocol errors. Cancellation drops the request future, which
/// aborts the HTTP exchange.
async fn call_tool(
    handle: &Upstream,
    b: &ToolBinding,
    ctx: RequestContext,
    args: Value,
) -> CallToolResult {
    let Some((settings, red)) = handle.settings() else {
        return CallToolResult::error(CallError::NotConfigured.to_string());
    };
    if let Some(pending) = &settings.pending {
        return CallToolResult::error(pending.clone());
    }
    let op = match b.op.get(&settings.config) {
        Ok(op) => op,
        Err(m) => {
            return CallToolResult::error(format!("upstream tool {} operation: {m}", b.name()));
        }
    };
    let mut secrets = vec![];
    // Boxed: the call's future is kilobytes; inline, the tool handler's
    // future (moved twice on its way to the task) would carry it.
    let call = Box::pin(call_and_follow(
        &settings,
        op,
        &ctx,
        &args,
        b.name(),
        &mut secrets,
    ));
    // The call first: its result is there at the last poll, when the
    // cancellation need not be polled (nor a branch drawn at random).
    let outcome = tokio::select! {
        biased;
        r = call => Some(r),
        _ = ctx.cancelled() => None,
    };
    let red = red.with(&settings.secrets, &secrets);
    match outcome {
        None => CallToolResult::error("cancelled"),
        Some(Ok(mut done)) => {
            let mut result = done.response.tool_result(
                op.wrapped,
                b.output
                    .get()
                    .and_then(Option::as_ref)
                    .and_then(|s| s.get().ok()),
                &red,
            );
            result.is_error |= done.failed;
            result
        }
        Some(Err(e)) => CallToolResult::error(red.text(&e.to_string())),
    }
}

/// The call, and for a long-running operation the polling of its status
/// until it ends (`poll`).
async fn call_and_follow(
    settings: &Settings,
    op: &Operation,
    ctx: &RequestContext,
    args: &Value,
    name: &str,
    secrets: &mut Vec<String>,
) -> Result<poll::Finished, CallError> {
    let first = call::execute(settings, op, ctx, args, name, secrets).await?;
    match &op.poll {
        // Boxed: polling is rare and its future larger than the call's.
        Some(p) => Box::pin(poll::follow(settings, op, p, ctx, first, name, secrets)).await,
        None => Ok(poll::Finished {
            response: first,
            failed: false,
        }),
    }
}

async fn read(
    handle: &Upstream,
    op: &Operation,
    ctx: RequestContext,
    uri: String,
    args: Value,
) -> Result<ReadResourceResult, McpError> {
    let (settings, red) = handle
        .settings()
        .ok_or_else(|| McpError::internal(CallError::NotConfigured.to_string()))?;
    if let Some(pending) = &settings.pending {
        return Err(McpError::internal(pending.clone()));
    }
    let mut secrets = vec![];
    let outcome = tokio::select! {
        r = call::execute(&settings, op, &ctx, &args, &uri, &mut secrets) => r,
        _ = ctx.cancelled() => return Err(McpError::internal("cancelled")),
    };
    let red = red.with(&settings.secrets, &secrets);
    match outcome {
        Ok(mut response) => response.resource_result(&uri, &red),
        Err(e) => Err(McpError::internal(red.text(&e.to_string()))),
    }
}

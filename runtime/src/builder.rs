//! `ServerBuilder`: turns descriptor tables (JSON text emitted by the
//! generator) and handler closures into a `Server`. Problems are collected and
//! reported together by `build()`; nothing here panics.

use crate::completion::{self, Ref};
use crate::context::RequestContext;
use crate::error::{BuildError, McpError, ToolError};
use crate::extension::Extension;
use crate::model::{CallToolResult, GetPromptResult, ReadResourceResult};
use crate::pagination::DEFAULT_PAGE_SIZE;
use crate::prompts::{self, Prompt};
use crate::resources::{self, Resource, Template, UriTemplate};
use crate::server::Server;
use crate::session::{InMemorySessionStore, SessionStore};
use crate::tools::{self, Tool};
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

/// Describes a server: its descriptor tables and handlers. Made by
/// [`Server::builder`]; every method returns the builder, and problems are
/// reported together by [`ServerBuilder::build`], never by a panic.
pub struct ServerBuilder {
    info: Value,
    instructions: Option<String>,
    tools: Vec<Tool>,
    resources: Vec<Resource>,
    templates: Vec<Template>,
    prompts: Vec<Prompt>,
    completions: HashMap<(Ref, String), Vec<String>>,
    page_size: usize,
    cache: crate::modern::CachePolicy,
    check_schemas: bool,
    sessions: Option<Arc<dyn SessionStore>>,
    /// Plug-ins (`extension.rs`), in order of first use.
    extensions: Vec<Box<dyn Extension>>,
    errors: Vec<BuildError>,
}

/// A handler of the builder's `(ctx, input)` shape (or the tool-call
/// hook's `(call, next)`) from a closure that gets its own clone of the
/// shared `handlers` too: generated `server()` functions register each
/// `Handlers` method with one call of this (tools, resources, prompts, the
/// hook) instead of cloning the `Arc` by hand twice.
#[doc(hidden)]
pub fn bind<H, C, I, F, Fut>(
    handlers: &Arc<H>,
    f: F,
) -> impl Fn(C, I) -> Fut + Send + Sync + 'static
where
    H: ?Sized + Send + Sync + 'static,
    F: Fn(Arc<H>, C, I) -> Fut + Send + Sync + 'static,
{
    let handlers = Arc::clone(handlers);
    move |ctx, input| f(Arc::clone(&handlers), ctx, input)
}

/// [`bind`] for resource templates, whose handlers get `(ctx, uri, params)`.
#[doc(hidden)]
pub fn bind_template<H, P, F, Fut>(
    handlers: &Arc<H>,
    f: F,
) -> impl Fn(RequestContext, String, P) -> Fut + Send + Sync + 'static
where
    H: ?Sized + Send + Sync + 'static,
    F: Fn(Arc<H>, RequestContext, String, P) -> Fut + Send + Sync + 'static,
{
    let handlers = Arc::clone(handlers);
    move |ctx, uri, params| f(Arc::clone(&handlers), ctx, uri, params)
}

fn parse(what: &str, json: &str) -> Result<Value, BuildError> {
    serde_json::from_str(json).map_err(|source| BuildError::Descriptor {
        what: what.to_owned(),
        source,
    })
}

fn invalid(what: impl Into<String>, message: impl Into<String>) -> BuildError {
    BuildError::Invalid {
        what: what.into(),
        message: message.into(),
    }
}

fn str_field<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a str, BuildError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(what, format!("missing string field `{key}`")))
}

/// Deserialize handler arguments; a mismatch is the caller's mistake.
/// Handlers that take the JSON itself get it moved, not rebuilt (which
/// would hold two copies of a large argument tree at once).
fn args<A: DeserializeOwned + 'static>(v: Value) -> Result<A, String> {
    let any: Box<dyn std::any::Any> = Box::new(v);
    match any.downcast::<A>() {
        Ok(a) => Ok(*a),
        Err(any) => match any.downcast::<Value>() {
            Ok(v) => serde_json::from_value(*v).map_err(|e| format!("invalid arguments: {e}")),
            Err(_) => Err("invalid arguments".to_owned()),
        },
    }
}

/// A tool handler taking its arguments as JSON.
fn erase<A, F, Fut>(handler: F) -> tools::ToolFn
where
    A: DeserializeOwned + Send + 'static,
    F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
{
    let handler = Arc::new(handler);
    Arc::new(move |ctx, v| match args::<A>(v) {
        Ok(a) => handler(ctx, a).boxed(),
        Err(e) => futures::future::ready(Err(ToolError::new(e))).boxed(),
    })
}

impl ServerBuilder {
    pub(crate) fn new(info_json: &str) -> Self {
        let mut errors = vec![];
        let info = parse("server info", info_json).unwrap_or_else(|e| {
            errors.push(e);
            Value::Null
        });
        if info.get("name").and_then(Value::as_str).is_none()
            || info.get("version").and_then(Value::as_str).is_none()
        {
            errors.push(invalid("server info", "needs string `name` and `version`"));
        }
        ServerBuilder {
            info,
            instructions: None,
            tools: vec![],
            resources: vec![],
            templates: vec![],
            prompts: vec![],
            completions: HashMap::new(),
            page_size: DEFAULT_PAGE_SIZE,
            cache: crate::modern::CachePolicy::default(),
            check_schemas: false,
            sessions: None,
            extensions: vec![],
            errors,
        }
    }

    /// The plug-in state of type `E`, made on first use.
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(crate) fn extension<E: Extension + Default>(&mut self) -> &mut E {
        let at = self
            .extensions
            .iter()
            .position(|e| (e.as_ref() as &dyn Any).is::<E>())
            .unwrap_or_else(|| {
                self.extensions.push(Box::new(E::default()));
                self.extensions.len() - 1
            });
        // Found or pushed by type just above, so the downcast succeeds.
        match (self.extensions[at].as_mut() as &mut dyn Any).downcast_mut::<E>() {
            Some(e) => e,
            None => unreachable!("extension {at} has the type it was found by"),
        }
    }

    /// How many tools are registered.
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(crate) fn tool_count(&self) -> usize {
        self.tools.len()
    }

    /// Room for `n` more tools.
    #[cfg(feature = "upstream")]
    pub(crate) fn reserve_tools(&mut self, n: usize) {
        self.tools.reserve(n);
    }

    /// The name of the tool registered at `index`.
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(crate) fn tool_name(&self, index: usize) -> Option<&str> {
        self.tools.get(index).map(Tool::name)
    }

    /// Record a problem, reported by `build()`.
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(crate) fn with_error(mut self, e: BuildError) -> Self {
        self.errors.push(e);
        self
    }

    fn record<T>(mut self, r: Result<T, BuildError>, add: impl FnOnce(&mut Self, T)) -> Self {
        match r {
            Ok(t) => add(&mut self, t),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Instructions for the client's model, sent in the `initialize` result.
    pub fn instructions(mut self, text: &str) -> Self {
        self.instructions = Some(text.to_owned());
        self
    }

    /// Assemble every tool descriptor (shared `$defs` attached) and compile
    /// its schemas, and parse every upstream tool's operation descriptor, in
    /// `build()`, reporting invalid ones there. Off by default: a tool is
    /// assembled when first listed or called, its schemas compiled and its
    /// operation parsed on first use, so a server with thousands of tools
    /// starts at once (the generator checks them already).
    pub fn check_schemas(mut self, yes: bool) -> Self {
        self.check_schemas = yes;
        self
    }

    /// Items per page of every list method (at least 1; 100 by default).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// The caching hints of MCP 2026-07-28 results (`server/discover`, the
    /// lists, `resources/read`) whose handler set none: `ttl_ms`
    /// milliseconds, `scope` `"public"` or `"private"` (by default 0 and
    /// `"private"`: stale at once, not shared across users).
    pub fn cache_hints(mut self, ttl_ms: u64, scope: &str) -> Self {
        match crate::modern::CacheHints::new(ttl_ms, scope) {
            Some(hints) => self.cache.default = hints,
            None => self.errors.push(invalid(
                "cache hints",
                format!("scope must be \"public\" or \"private\", not {scope:?}"),
            )),
        }
        self
    }

    /// The caching hints of one list's MCP 2026-07-28 results (`method`:
    /// `tools/list`, `resources/list`, `resources/templates/list` or
    /// `prompts/list`), over [`ServerBuilder::cache_hints`]; a handler's own
    /// still win, and a `tools/list` filtered by the caller's scopes stays
    /// `"private"`.
    pub fn list_cache_hints(mut self, method: &str, ttl_ms: u64, scope: &str) -> Self {
        let Some(hints) = crate::modern::CacheHints::new(ttl_ms, scope) else {
            self.errors.push(invalid(
                "cache hints",
                format!("{method}: scope must be \"public\" or \"private\", not {scope:?}"),
            ));
            return self;
        };
        if !self.cache.set_list(method, hints) {
            self.errors.push(invalid(
                "cache hints",
                format!(
                    "{method:?} is not a list with hints of its own ({})",
                    crate::modern::CACHE_LISTS.join(", ")
                ),
            ));
        }
        self
    }

    /// Where sessions live (in memory by default). Part of the
    /// transport-level API, which is not stable yet.
    #[doc(hidden)]
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.sessions = Some(store);
        self
    }

    /// A tool: `descriptor_json` is its MCP `Tool` object (`name`,
    /// `inputSchema` of type object…); `handler` gets the arguments,
    /// checked against `inputSchema` and deserialized into `A`.
    pub fn tool<A, F, Fut>(self, descriptor_json: &str, handler: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
    {
        self.tool_with(descriptor_json, None, handler, true)
    }

    /// [`ServerBuilder::tool`], with what turns the descriptor into the one
    /// clients see when the tool is first listed or called (`prepare`), and
    /// wrapped by the tool-call hook or not (`hooked`).
    pub(crate) fn tool_with<A, F, Fut>(
        self,
        descriptor_json: &str,
        prepare: Option<tools::Prepare>,
        handler: F,
        hooked: bool,
    ) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
    {
        let r = Tool::new(descriptor_json, prepare, erase(handler)).map(|mut t| {
            t.hooked = hooked;
            t
        });
        self.record(r, |b, t| b.tools.push(t))
    }

    /// [`ServerBuilder::tool_with`] from static text with the tool's
    /// name beside it ([`Tool::from_static`]): nothing copied or parsed.
    #[cfg(feature = "upstream")]
    pub(crate) fn tool_static<A, F, Fut>(
        self,
        name: &'static str,
        descriptor_json: &'static str,
        prepare: Option<tools::Prepare>,
        handler: F,
    ) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
    {
        let r = Tool::from_static(name, descriptor_json, prepare, erase(handler));
        self.record(r, |b, t| b.tools.push(t))
    }

    fn add_resource(self, descriptor_json: &str, body: impl FnOnce() -> resources::Body) -> Self {
        let r = parse("resource", descriptor_json).and_then(|d| {
            let uri = str_field(&d, "uri", "resource")?.to_owned();
            str_field(&d, "name", &format!("resource {uri}"))?;
            Ok(Resource {
                uri,
                descriptor: d,
                body: body(),
            })
        });
        self.record(r, |b, r| b.resources.push(r))
    }

    /// A resource whose contents are this text; `descriptor_json` is its MCP
    /// `Resource` object (`uri`, `name`…).
    pub fn resource_text(self, descriptor_json: &str, text: &str) -> Self {
        self.add_resource(descriptor_json, || resources::Body::Text(text.to_owned()))
    }

    /// `base64` is the blob, already encoded.
    pub fn resource_blob(self, descriptor_json: &str, base64: &str) -> Self {
        self.add_resource(descriptor_json, || resources::Body::Blob(base64.to_owned()))
    }

    /// A resource whose contents `handler` reads on each `resources/read`;
    /// it gets the URI.
    pub fn resource<F, Fut>(self, descriptor_json: &str, handler: F) -> Self
    where
        F: Fn(RequestContext, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, McpError>> + Send + 'static,
    {
        self.add_resource(descriptor_json, || {
            resources::Body::Handler(Arc::new(move |ctx, uri| handler(ctx, uri).boxed()))
        })
    }

    /// A resource template (`uriTemplate`, RFC 6570 levels 1-3): `handler` gets
    /// the URI read and its variables, deserialized into `A` (one `String`
    /// field per variable).
    pub fn resource_template<A, F, Fut>(self, descriptor_json: &str, handler: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(RequestContext, String, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, McpError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: resources::TemplateFn = Arc::new(move |ctx, uri, vars| {
            let vars = Value::Object(
                vars.into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            );
            match args::<A>(vars) {
                Ok(a) => handler(ctx, uri, a).boxed(),
                Err(e) => futures::future::ready(Err(McpError::invalid_params(e))).boxed(),
            }
        });
        let r = parse("resource template", descriptor_json).and_then(|d| {
            let t = str_field(&d, "uriTemplate", "resource template")?;
            let what = format!("resource template {t}");
            str_field(&d, "name", &what)?;
            let template = UriTemplate::parse(t).map_err(|m| invalid(&what, m))?;
            Ok(Template {
                descriptor: d,
                template,
                handler: erased,
            })
        });
        self.record(r, |b, t| b.templates.push(t))
    }

    fn add_prompt(self, descriptor_json: &str, body: Result<prompts::Body, BuildError>) -> Self {
        let r = parse("prompt", descriptor_json).and_then(|d| {
            let name = str_field(&d, "name", "prompt")?.to_owned();
            Ok(Prompt {
                name,
                descriptor: d,
                body: body?,
            })
        });
        self.record(r, |b, p| b.prompts.push(p))
    }

    /// A prompt rendered from message templates (`{{argument}}` placeholders).
    pub fn prompt(self, descriptor_json: &str, messages_json: &str) -> Self {
        let body = parse("prompt messages", messages_json).and_then(|m| match m {
            Value::Array(items) => Ok(prompts::Body::Messages(items)),
            _ => Err(invalid("prompt messages", "must be an array")),
        });
        self.add_prompt(descriptor_json, body)
    }

    /// A prompt whose messages `handler` makes from the arguments,
    /// deserialized into `A`.
    pub fn prompt_handler<A, F, Fut>(self, descriptor_json: &str, handler: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(RequestContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, McpError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: prompts::PromptFn =
            Arc::new(
                move |ctx, m: Map<String, Value>| match args::<A>(Value::Object(m)) {
                    Ok(a) => handler(ctx, a).boxed(),
                    Err(e) => futures::future::ready(Err(McpError::invalid_params(e))).boxed(),
                },
            );
        self.add_prompt(descriptor_json, Ok(prompts::Body::Handler(erased)))
    }

    /// Fixed completion values for one argument of a prompt
    /// (`{"type":"ref/prompt","name":…}`) or one variable of a template
    /// (`{"type":"ref/resource","uri":…}`).
    pub fn completion(self, ref_json: &str, argument: &str, values: &[&str]) -> Self {
        let r = parse("completion ref", ref_json)
            .and_then(|v| Ref::from_value(&v).map_err(|m| invalid("completion ref", m)));
        let values: Vec<String> = values.iter().map(|s| (*s).to_owned()).collect();
        let argument = argument.to_owned();
        self.record(r, |b, r| {
            b.completions.insert((r, argument), values);
        })
    }

    /// Tool names given twice are found by the registry, which hashes
    /// them anyway (`tools::Registry::with_duplicates`).
    fn check_unique(&mut self, tools_twice: Vec<String>) {
        let mut dupes: Vec<String> = tools_twice
            .into_iter()
            .map(|t| format!("tool {t}"))
            .collect();
        let mut seen = HashSet::with_capacity(self.resources.len());
        for r in &self.resources {
            if !seen.insert(r.uri.as_str()) {
                dupes.push(format!("resource {}", r.uri));
            }
        }
        let mut seen = HashSet::with_capacity(self.prompts.len());
        for p in &self.prompts {
            if !seen.insert(p.name.as_str()) {
                dupes.push(format!("prompt {}", p.name));
            }
        }
        for d in dupes {
            self.errors.push(invalid(d, "declared twice"));
        }
    }

    /// Check everything declared and build the server; the error lists every
    /// problem found.
    pub fn build(mut self) -> Result<Server, BuildError> {
        let (tools, twice) =
            tools::Registry::with_duplicates(std::mem::take(&mut self.tools), self.page_size);
        self.check_unique(twice);
        self.with_rate_limiter();
        #[cfg(feature = "auth")]
        self.with_authorizer();
        let extensions = self.finish_extensions();
        self.check_completions();
        if self.check_schemas {
            self.check_tool_schemas(&tools);
        }
        self.take_errors()?;
        // The declared tool surface's flags before the pages are built.
        #[cfg(feature = "surface")]
        let in_toolsets = crate::surface::preset(&extensions, &tools);
        let resources = resources::Registry::new(self.resources, self.templates, self.page_size);
        let prompts = prompts::Registry::new(self.prompts, self.page_size);
        let completions = completion::Registry::new(self.completions);
        let sessions = self
            .sessions
            .unwrap_or_else(|| Arc::new(InMemorySessionStore::default()));
        let server = Server::from_parts(
            self.info,
            self.instructions,
            tools,
            resources,
            prompts,
            completions,
            sessions,
            extensions,
            self.cache,
        );
        // The declared tool surface hides what it does not list.
        #[cfg(feature = "surface")]
        crate::surface::start(&server, in_toolsets)?;
        Ok(server)
    }

    /// Finish each plug-in, keeping the state it returns and its errors.
    fn finish_extensions(&mut self) -> Vec<Arc<dyn Any + Send + Sync>> {
        // Upstream tools' operations are parsed on first call unless asked.
        #[cfg(feature = "upstream")]
        if self.check_schemas {
            for e in &mut self.extensions {
                let e = e.as_mut() as &mut dyn Any;
                if let Some(u) = e.downcast_mut::<crate::upstream::UpstreamBuilder>() {
                    u.check_operations = true;
                }
            }
        }
        let mut extensions = vec![];
        for e in std::mem::take(&mut self.extensions) {
            match e.finish(&self.info) {
                Ok(state) => extensions.push(state),
                Err(errors) => self.errors.extend(errors),
            }
        }
        extensions
    }

    /// Every completion names a declared prompt or resource template.
    fn check_completions(&mut self) {
        for (r, _) in self.completions.keys() {
            let known = match r {
                Ref::Prompt(n) => self.prompts.iter().any(|p| &p.name == n),
                Ref::Resource(u) => self
                    .templates
                    .iter()
                    .any(|t| t.descriptor.get("uriTemplate").and_then(Value::as_str) == Some(u)),
            };
            if !known {
                self.errors.push(invalid(
                    "completion",
                    format!("{r:?} names no prompt or resource template"),
                ));
            }
        }
    }

    /// Each tool's schemas compile (asked for by `check_schemas`).
    fn check_tool_schemas(&mut self, tools: &tools::Registry) {
        for t in tools.iter() {
            if let Err(e) = t.check() {
                self.errors.push(invalid(format!("tool {}", t.name()), e));
            }
        }
    }

    /// The problems found, as one error: the only one, or all listed.
    fn take_errors(&mut self) -> Result<(), BuildError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(self.errors.remove(0)),
            n => {
                let list = self
                    .errors
                    .iter()
                    .map(|e| format!("  - {e}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                Err(BuildError::Many(n, list))
            }
        }
    }
}

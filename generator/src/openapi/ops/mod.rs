//! Operations → tools (or resources): input schema, operation descriptor,
//! output schema, annotations, security; and the upstream descriptor.
//!
//! [`ApiLowering::lower`] runs the phases: security schemes (`security`),
//! the walk over paths and methods (`walk`), one draft per operation
//! (`draft`: parameters from `params`, the body from `body`, output
//! and `Accept` from `responses`), unique names, then the items of
//! `ir::Upstream`. Descriptors are built as `mcpgen_contract` values, so
//! what the runtime cannot read does not compile.

use std::collections::{HashMap, HashSet};

use mcpgen_contract as contract;
use serde_json::{Map, Value, json};

use super::OpenApiOptions;
use super::doc::{Docs, Findings, Loc};
use super::names;
use super::schema::{Dialect, Schemas};
use crate::ir::{EnvVar, UpstreamItem};
use crate::names::is_token;

mod body;
mod cache;
mod draft;
mod filter;
mod lro;
mod params;
mod responses;
mod security;
mod walk;

/// The version of the description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

/// Everything the OpenAPI description contributes to a server.
#[derive(Debug, Clone, Default)]
pub struct Api {
    pub description: Option<String>,
    pub version: Option<String>,
    /// `UPSTREAM_JSON`.
    pub upstream: contract::Upstream,
    pub base_url: Option<String>,
    pub tools: Vec<UpstreamItem>,
    /// The definitions the tools' schemas share (see `ir::Upstream::defs`).
    pub defs: Map<String, Value>,
    pub resources: Vec<UpstreamItem>,
    pub templates: Vec<UpstreamItem>,
    pub env: Vec<EnvVar>,
    /// Things the README should say (skipped security schemes…).
    pub notes: Vec<String>,
    /// Keys of `overrides` that matched an operation, with its method and
    /// path (as its item has them).
    pub matched_overrides: HashMap<String, (String, String)>,
    /// The document's tags with a description (`tags`), for toolsets.
    pub tag_descriptions: Vec<(String, String)>,
    /// Tools' OAuth scopes from their operations' security requirements
    /// (see `draft::operation_scopes`), for `auth.operationScopes`.
    pub scopes: Vec<(String, Vec<String>)>,
    /// The root `x-mcp.cache`: caching hints of MCP 2026-07-28 results.
    pub cache: Option<crate::spec::CacheHints>,
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The strings of the array at `key` (`tags`, `required`); other items skipped.
fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Lowers the operations of a description to upstream tools, resources
/// and templates: one [`Api`].
pub struct ApiLowering<'a> {
    docs: &'a Docs,
    version: Version,
    opts: &'a OpenApiOptions,
    schemas: Schemas,
    f: &'a mut Findings,
    root: Loc,
    prefix: String,
    uri_base: String,
    /// The document's base URL as built in (after --base-url).
    doc_base: Option<String>,
    /// Operation servers already resolved, by the place of their Server Object.
    server_cache: HashMap<Loc, Option<String>>,
    matched: HashMap<String, (String, String)>,
}

struct Draft {
    loc: Loc,
    method: String,
    path: String,
    base_name: String,
    explicit_name: bool,
    title: Option<String>,
    description: Option<String>,
    input: Value,
    output: Option<Value>,
    operation: contract::Operation,
    annotations: Map<String, Value>,
    /// `execution.taskSupport`: from `x-mcp` (`task`, `longRunning`), or a
    /// documented 202 naming a status URL (`lro`).
    task: Option<&'static str>,
    resource: Option<(String, Option<String>, bool)>,
    toolset: String,
    scopes: Vec<String>,
}

impl<'a> ApiLowering<'a> {
    pub fn new(
        docs: &'a Docs,
        version: Version,
        opts: &'a OpenApiOptions,
        f: &'a mut Findings,
        prefix: String,
    ) -> Self {
        let dialect = match version {
            Version::OpenApi31 => Dialect::Modern,
            _ => Dialect::Legacy,
        };
        ApiLowering {
            docs,
            version,
            opts,
            schemas: Schemas::new(dialect),
            f,
            root: Loc {
                file: 0,
                ptr: String::new(),
            },
            prefix,
            uri_base: String::new(),
            doc_base: None,
            server_cache: HashMap::new(),
            matched: HashMap::new(),
        }
    }

    fn root(&self) -> &Value {
        self.docs.get(&self.root).unwrap_or(&Value::Null)
    }

    fn deref(&mut self, loc: &Loc) -> Option<(Loc, Value)> {
        match self.docs.deref(loc) {
            Ok((l, v)) => Some((l, v.clone())),
            Err((at, message)) => {
                self.f.error(&at, message);
                None
            }
        }
    }

    /// A parameter's or body's description as the tool shows it: cleaned
    /// for a model (`describe::clean`) unless `raw_descriptions`.
    fn describe(&self, text: Option<&str>) -> Option<String> {
        match self.opts.raw_descriptions {
            true => text.map(str::to_string),
            false => text.map(super::describe::clean).filter(|t| !t.is_empty()),
        }
    }

    /// Lower everything; `taken` are tool names already used by the spec.
    pub fn lower(mut self, package: &str, taken: &HashSet<String>) -> Api {
        let mut api = self.info();
        api.cache = self.cache_hints();
        self.reserve_definitions();
        api.base_url = self.document_base_url();
        self.doc_base = api.base_url.clone();
        self.uri_base = match &api.base_url {
            Some(b) if b.starts_with("http://") || b.starts_with("https://") => b.clone(),
            _ => format!("openapi://{package}"),
        };
        let security = self.security_schemes();
        api.env = security.env;
        api.notes = security.notes;
        let drafts = self.operations(&security.schemes);
        crate::tick("operations read");
        api.notes.extend(own_servers_note(&drafts));
        self.schemas.drain(self.docs, self.f);
        self.schemas.finish();
        crate::tick("definitions converted");
        // The runtime's meta-tools keep their names.
        let mut taken = taken.clone();
        taken.extend(super::surface::META_TOOLS.iter().map(|m| (*m).to_owned()));
        let names = self.unique_names(&drafts, &taken);
        let dropped_outputs = self.append_items(&mut api, drafts, names);
        crate::tick("tools built");
        api.defs = std::mem::take(&mut self.schemas.shared);
        api.matched_overrides = std::mem::take(&mut self.matched);
        if dropped_outputs > 0 {
            let limit = self.output_limit();
            self.f.warn(
                &self.root,
                format!("{dropped_outputs} tools get no outputSchema: theirs would exceed {limit} bytes (raise --max-output-schema-bytes to keep them)"),
            );
            api.notes.push(format!("{dropped_outputs} tools declare no output schema because theirs would exceed {limit} bytes; their results are still returned as structured content."));
        }
        api.upstream = contract::Upstream {
            base_url: api.base_url.clone(),
            env_prefix: Some(self.prefix.clone()),
            security_schemes: security.schemes,
            timeout_ms: Some(contract::DEFAULT_TIMEOUT_MS),
            retries: contract::Retries {
                max: Some(contract::DEFAULT_RETRIES),
                initial_backoff_ms: Some(contract::DEFAULT_INITIAL_BACKOFF_MS),
                max_backoff_ms: None,
            },
            ..contract::Upstream::default()
        };
        api
    }

    /// `info`: description and version (the title names the server, in
    /// `openapi::lower`).
    fn info(&self) -> Api {
        let info = self.root().get("info").cloned().unwrap_or(Value::Null);
        let tag_descriptions = self
            .root()
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let d = super::surface::tag_description(s(t, "description")?)?;
                Some((s(t, "name")?.to_owned(), d))
            })
            .collect();
        Api {
            tag_descriptions,
            description: s(&info, "description").map(str::to_string),
            version: match info.get("version") {
                Some(Value::String(v)) => Some(v.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            },
            ..Api::default()
        }
    }

    /// Names for the document's schema definitions, before any is used.
    fn reserve_definitions(&mut self) {
        let at = match self.version {
            Version::Swagger2 => self.root.at("definitions"),
            _ => self.root.at("components").at("schemas"),
        };
        self.schemas.reserve(self.docs, &at);
    }

    /// The base URL built in: `--base-url`, else the document's, without a
    /// trailing `/`.
    fn document_base_url(&mut self) -> Option<String> {
        self.opts
            .base_url
            .clone()
            .or_else(|| self.base_url())
            .map(|b| match b.trim_end_matches('/') {
                "" => b,
                trimmed => trimmed.to_string(),
            })
    }

    fn output_limit(&self) -> usize {
        self.opts
            .max_output_schema_bytes
            .unwrap_or(super::DEFAULT_MAX_OUTPUT_SCHEMA)
    }

    /// Tool names, unique across the server and independent of document
    /// order: a clash is disambiguated by method and path, unless the name
    /// was chosen explicitly (an error then).
    fn unique_names(&mut self, drafts: &[Draft], taken: &HashSet<String>) -> Vec<String> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for d in drafts {
            *counts.entry(d.base_name.clone()).or_default() += 1;
        }
        let mut used: HashSet<String> = taken.clone();
        let mut finals = Vec::new();
        for d in drafts {
            let clash =
                counts.get(&d.base_name).copied().unwrap_or(0) > 1 || taken.contains(&d.base_name);
            let mut name = if clash && !d.explicit_name {
                names::disambiguate(&d.base_name, &format!("{} {}", d.method, d.path))
            } else {
                d.base_name.clone()
            };
            if clash && d.explicit_name {
                self.f.error(
                    &d.loc,
                    format!(
                        "tool name {:?} is used twice; choose another name",
                        d.base_name
                    ),
                );
            }
            if used.contains(&name) {
                match names::numbered(&d.base_name, &d.method, &d.path, &used) {
                    Some(n) => name = n,
                    None => self.f.error(
                        &d.loc,
                        format!("cannot find a unique tool name for {:?}", d.base_name),
                    ),
                }
            }
            used.insert(name.clone());
            finals.push(name);
        }
        finals
    }

    /// Each draft as a tool, resource or template of `api`; returns how
    /// many tools lost their output schema to the size limit.
    fn append_items(&mut self, api: &mut Api, drafts: Vec<Draft>, names: Vec<String>) -> usize {
        let mut dropped_outputs = 0;
        for (d, name) in drafts.into_iter().zip(names) {
            match d.resource.clone() {
                Some((uri, mime, is_template)) => {
                    let item = resource_item(d, name, uri, mime, is_template);
                    match is_template {
                        true => api.templates.push(item),
                        false => api.resources.push(item),
                    }
                }
                None => {
                    if !d.scopes.is_empty() {
                        api.scopes.push((name.clone(), d.scopes.clone()));
                    }
                    let (item, dropped) = self.tool_item(d, name);
                    dropped_outputs += usize::from(dropped);
                    api.tools.push(item);
                }
            }
        }
        dropped_outputs
    }

    /// A draft as a tool; true when its output schema was too large to keep.
    /// Its schemas name definitions by `#/$defs/<name>` and those go to the
    /// shared table ([`Schemas::share`]); with `inline_refs` or
    /// `self_contained_schemas` each schema carries its own `$defs`
    /// instead ([`Schemas::attach_defs`]).
    fn tool_item(&mut self, d: Draft, name: String) -> (UpstreamItem, bool) {
        let whole = self.opts.inline_refs || self.opts.self_contained_schemas;
        let inline = self.opts.inline_refs;
        let mut input = d.input;
        if whole {
            self.schemas.attach_defs(&mut input, inline);
        }
        if self.check_schema(&d.loc, &input, "input", whole) && !whole {
            self.schemas.share(&input);
        }
        let mut desc = Map::new();
        desc.insert("name".into(), name.clone().into());
        if let Some(t) = &d.title {
            desc.insert("title".into(), t.clone().into());
        }
        if let Some(t) = &d.description {
            desc.insert("description".into(), t.clone().into());
        }
        desc.insert("inputSchema".into(), input);
        let mut dropped = false;
        if let Some(mut out) = d.output {
            let limit = self.output_limit();
            let too_large = if whole {
                self.schemas.attach_defs(&mut out, inline);
                out.to_string().len() > limit
            } else {
                self.schemas.whole_len_exceeds(&out, limit)
            };
            if too_large {
                dropped = true;
            } else if self.check_schema(&d.loc, &out, "output", whole) {
                if !whole {
                    self.schemas.share(&out);
                }
                desc.insert("outputSchema".into(), out);
            }
        }
        desc.insert("annotations".into(), Value::Object(d.annotations));
        if let Some(t) = d.task {
            desc.insert("execution".into(), json!({ "taskSupport": t }));
        }
        let item = UpstreamItem {
            name,
            method: d.method,
            path: d.path,
            title: d.title,
            descriptor: desc,
            operation: d.operation,
            uri: None,
            toolset: Some(d.toolset),
        };
        (item, dropped)
    }

    /// Whether the runtime's validator will accept `schema` (`whole`: with
    /// its own `$defs`; else with the definitions it reaches); a generator
    /// bug or an unusual document otherwise.
    fn check_schema(&mut self, loc: &Loc, schema: &Value, what: &str, whole: bool) -> bool {
        let problem = match whole {
            true => jsonschema::validator_for(schema)
                .err()
                .map(|e| e.to_string()),
            false => self.schemas.problem(schema),
        };
        let Some(e) = problem else {
            return true;
        };
        let message =
            format!("the {what} schema of this operation is not a valid JSON Schema 2020-12 ({e})");
        if what == "output" {
            self.f
                .warn(loc, format!("{message}; no outputSchema emitted"));
        } else {
            self.f.error(loc, message);
        }
        false
    }

    /// `servers[0]` (3.x) or `schemes`/`host`/`basePath` (2.0), variables
    /// substituted with their defaults.
    fn base_url(&mut self) -> Option<String> {
        let root = self.root();
        if self.version == Version::Swagger2 {
            let host = s(root, "host");
            let base = s(root, "basePath").unwrap_or("");
            let schemes: Vec<&str> = root
                .get("schemes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let scheme = if schemes.is_empty() || schemes.contains(&"https") {
                "https"
            } else {
                schemes[0]
            };
            return match host {
                Some(h) => Some(format!("{scheme}://{h}{base}")),
                None if !base.is_empty() => Some(base.to_string()),
                None => None,
            };
        }
        let server = root.get("servers")?.as_array()?.first()?.clone();
        let loc = self.root.at("servers").idx(0);
        self.server_url(&server, &loc, true)
    }

    /// A Server Object's URL with its variables substituted by their
    /// defaults (or first enum value); None, with a warning, when one has
    /// neither.
    fn server_url(&mut self, server: &Value, loc: &Loc, document: bool) -> Option<String> {
        let mut url = s(server, "url")?.to_string();
        if let Some(Value::Object(vars)) = server.get("variables") {
            for (name, var) in vars {
                let value = match var.get("default") {
                    Some(Value::String(d)) => d.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => match var
                        .get("enum")
                        .and_then(Value::as_array)
                        .and_then(|e| e.first())
                    {
                        Some(Value::String(d)) => d.clone(),
                        _ => continue,
                    },
                };
                url = url.replace(&format!("{{{name}}}"), &value);
            }
        }
        if url.contains('{') {
            let consequence = match document {
                true => "no base URL is built in (pass --base-url)",
                false => "this operation uses the document's base URL",
            };
            self.f.warn(
                &loc.at("url"),
                format!(
                    "server URL {:?} has variables without defaults; {consequence}",
                    without_userinfo(&url)
                ),
            );
            return None;
        }
        Some(url)
    }

    /// The server an operation names itself (OpenAPI 3.x: the operation's
    /// `servers`, else its path item's) when it differs from the document's;
    /// None otherwise. A base URL given at generation replaces every
    /// server, these included, as `--base-url` does at run time.
    pub(super) fn operation_server(
        &mut self,
        op: (&Value, &Loc),
        item: (&Value, &Loc),
    ) -> Option<String> {
        if self.version == Version::Swagger2 || self.opts.base_url.is_some() {
            return None;
        }
        let (server, loc) = [op, item].into_iter().find_map(|(v, loc)| {
            let first = v.get("servers")?.as_array()?.first()?;
            Some((first.clone(), loc.at("servers").idx(0)))
        })?;
        // A path item's servers are judged (and warned about) once, not
        // once per operation.
        if let Some(known) = self.server_cache.get(&loc) {
            return known.clone();
        }
        let resolved = self.resolve_operation_server(&server, &loc);
        self.server_cache.insert(loc, resolved.clone());
        resolved
    }

    fn resolve_operation_server(&mut self, server: &Value, loc: &Loc) -> Option<String> {
        let raw = self.server_url(server, loc, false)?;
        // Relative URLs (`/v2`, `//uploads.example.com`, `v2`) resolve
        // against the document's server, as URL references do.
        let url = url::Url::parse(&raw).ok().or_else(|| {
            let base = url::Url::parse(self.doc_base.as_deref()?).ok()?;
            base.join(&raw).ok()
        });
        // What the runtime would refuse at start-up is refused here.
        let url = url.filter(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none()
        });
        let Some(url) = url else {
            self.f.warn(
                &loc.at("url"),
                format!(
                    "server URL {:?} is not an http(s) URL this operation can call; it uses the document's base URL",
                    without_userinfo(&raw)
                ),
            );
            return None;
        };
        let url = url.as_str().trim_end_matches('/').to_string();
        (Some(url.as_str()) != self.doc_base.as_deref()).then_some(url)
    }
}

/// A draft as a resource (`uri`) or resource template (`uriTemplate`).
fn resource_item(
    d: Draft,
    name: String,
    uri: String,
    mime: Option<String>,
    is_template: bool,
) -> UpstreamItem {
    let mut desc = Map::new();
    desc.insert(
        if is_template { "uriTemplate" } else { "uri" }.into(),
        uri.clone().into(),
    );
    desc.insert("name".into(), name.clone().into());
    if let Some(t) = &d.title {
        desc.insert("title".into(), t.clone().into());
    }
    if let Some(t) = &d.description {
        desc.insert("description".into(), t.clone().into());
    }
    if let Some(m) = mime {
        desc.insert("mimeType".into(), m.into());
    }
    UpstreamItem {
        name,
        method: d.method,
        path: d.path,
        title: d.title,
        descriptor: desc,
        operation: d.operation,
        uri: Some(uri),
        toolset: None,
    }
}

/// The README note about operations that call servers of their own.
fn own_servers_note(drafts: &[Draft]) -> Option<String> {
    let mut own: Vec<&str> = drafts
        .iter()
        .filter_map(|d| d.operation.base_url.as_deref())
        .collect();
    own.sort_unstable();
    own.dedup();
    (!own.is_empty()).then(|| {
        format!(
            "Some operations call servers of their own ({}); `--base-url` replaces those too.",
            own.iter()
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// A URL as it may be shown in a diagnostic: any `user:password@` removed.
fn without_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &url[start + at + 1..]),
        None => url.to_owned(),
    }
}

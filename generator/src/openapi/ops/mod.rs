//! Operations → tools (or resources): input schema, operation descriptor,
//! output schema, annotations, security; and the upstream descriptor.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::OpenApiOptions;
use super::doc::{Docs, Findings, Loc};
use super::names;
use super::schema::{Dialect, Schemas};

mod body;
mod filter;
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

/// One operation, as the rest of the generator needs it.
#[derive(Debug, Clone)]
pub struct Built {
    pub name: String,
    pub method: String,
    pub path: String,
    pub title: Option<String>,
    /// MCP `Tool`, `Resource` or `ResourceTemplate` JSON.
    pub descriptor: String,
    /// `OPERATION_JSON`.
    pub operation: String,
    /// For resources and templates: the URI (template).
    pub uri: Option<String>,
}

/// An environment variable the generated server reads.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvVar {
    pub name: String,
    pub what: String,
}

/// Everything the OpenAPI description contributes to a server.
#[derive(Debug, Clone, Default)]
pub struct Api {
    pub title: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub upstream_json: String,
    pub base_url: Option<String>,
    pub tools: Vec<Built>,
    pub resources: Vec<Built>,
    pub templates: Vec<Built>,
    pub env: Vec<EnvVar>,
    /// Things the README should say (skipped security schemes…).
    pub notes: Vec<String>,
    /// Keys of `overrides` that matched an operation.
    pub matched_overrides: HashSet<String>,
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

/// Reads the description into an [`Api`].
pub struct Builder<'a> {
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
    matched: HashSet<String>,
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
    operation: Map<String, Value>,
    annotations: Map<String, Value>,
    resource: Option<(String, Option<String>, bool)>,
}

impl<'a> Builder<'a> {
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
        Builder {
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
            matched: HashSet::new(),
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

    /// Build everything; `taken` are tool names already used by the spec.
    pub fn build(mut self, package: &str, taken: &HashSet<String>) -> Api {
        let mut api = Api::default();
        let info = self.root().get("info").cloned().unwrap_or(Value::Null);
        api.title = s(&info, "title").map(str::to_string);
        api.description = s(&info, "description").map(str::to_string);
        api.version = match info.get("version") {
            Some(Value::String(v)) => Some(v.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        if self.version == Version::Swagger2 {
            self.schemas
                .reserve(self.docs, &self.root.at("definitions"));
        } else {
            self.schemas
                .reserve(self.docs, &self.root.at("components").at("schemas"));
        }
        api.base_url = self
            .opts
            .base_url
            .clone()
            .or_else(|| self.base_url())
            .map(|b| match b.trim_end_matches('/') {
                "" => b,
                trimmed => trimmed.to_string(),
            });
        self.doc_base = api.base_url.clone();
        self.uri_base = match &api.base_url {
            Some(b) if b.starts_with("http://") || b.starts_with("https://") => b.clone(),
            _ => format!("openapi://{package}"),
        };
        let (schemes, env, notes) = self.security_schemes();
        api.env = env;
        api.notes = notes;

        let drafts = self.operations(&schemes);
        let mut own: Vec<&str> = drafts
            .iter()
            .filter_map(|d| d.operation.get("baseUrl")?.as_str())
            .collect();
        own.sort_unstable();
        own.dedup();
        if !own.is_empty() {
            api.notes.push(format!(
                "Some operations call servers of their own ({}); `--base-url` replaces those too.",
                own.iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.schemas.drain(self.docs, self.f);
        self.schemas.finish();

        // Names: unique across the server, independent of document order.
        let mut counts: HashMap<String, usize> = HashMap::new();
        for d in &drafts {
            *counts.entry(d.base_name.clone()).or_default() += 1;
        }
        let mut used: HashSet<String> = taken.clone();
        let mut finals = Vec::new();
        for d in &drafts {
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

        let mut dropped_outputs = 0usize;
        for (d, name) in drafts.into_iter().zip(finals) {
            let inline = self.opts.inline_refs;
            match d.resource.clone() {
                Some((uri, mime, is_template)) => {
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
                    let built = Built {
                        name,
                        method: d.method.clone(),
                        path: d.path.clone(),
                        title: d.title.clone(),
                        descriptor: Value::Object(desc).to_string(),
                        operation: Value::Object(d.operation).to_string(),
                        uri: Some(uri),
                    };
                    if is_template {
                        api.templates.push(built);
                    } else {
                        api.resources.push(built);
                    }
                }
                None => {
                    let mut input = d.input;
                    self.schemas.attach_defs(&mut input, inline);
                    self.check_schema(&d.loc, &input, "input");
                    let mut desc = Map::new();
                    desc.insert("name".into(), name.clone().into());
                    if let Some(t) = &d.title {
                        desc.insert("title".into(), t.clone().into());
                    }
                    if let Some(t) = &d.description {
                        desc.insert("description".into(), t.clone().into());
                    }
                    desc.insert("inputSchema".into(), input);
                    if let Some(mut out) = d.output {
                        self.schemas.attach_defs(&mut out, inline);
                        let limit = self
                            .opts
                            .max_output_schema_bytes
                            .unwrap_or(super::DEFAULT_MAX_OUTPUT_SCHEMA);
                        if out.to_string().len() > limit {
                            dropped_outputs += 1;
                        } else if self.check_schema(&d.loc, &out, "output") {
                            desc.insert("outputSchema".into(), out);
                        }
                    }
                    desc.insert("annotations".into(), Value::Object(d.annotations));
                    api.tools.push(Built {
                        name,
                        method: d.method.clone(),
                        path: d.path.clone(),
                        title: d.title.clone(),
                        descriptor: Value::Object(desc).to_string(),
                        operation: Value::Object(d.operation).to_string(),
                        uri: None,
                    });
                }
            }
        }
        api.matched_overrides = std::mem::take(&mut self.matched);
        if dropped_outputs > 0 {
            let limit = self
                .opts
                .max_output_schema_bytes
                .unwrap_or(super::DEFAULT_MAX_OUTPUT_SCHEMA);
            self.f.warn(
                &self.root,
                format!("{dropped_outputs} tools get no outputSchema: theirs would exceed {limit} bytes (raise --max-output-schema-bytes to keep them)"),
            );
            api.notes.push(format!("{dropped_outputs} tools declare no output schema because theirs would exceed {limit} bytes; their results are still returned as structured content."));
        }

        let mut upstream = Map::new();
        if let Some(b) = &api.base_url {
            upstream.insert("baseUrl".into(), b.clone().into());
        }
        upstream.insert("envPrefix".into(), self.prefix.clone().into());
        upstream.insert("securitySchemes".into(), Value::Object(schemes));
        upstream.insert("timeoutMs".into(), 30000.into());
        upstream.insert("retries".into(), json!({"max": 2, "initialBackoffMs": 200}));
        api.upstream_json = Value::Object(upstream).to_string();
        api
    }

    /// Whether the runtime's validator will accept `schema`; a generator
    /// bug or an unusual document otherwise.
    fn check_schema(&mut self, loc: &Loc, schema: &Value, what: &str) -> bool {
        match jsonschema::validator_for(schema) {
            Ok(_) => true,
            Err(e) => {
                let message = format!(
                    "the {what} schema of this operation is not a valid JSON Schema 2020-12 ({e})"
                );
                if what == "output" {
                    self.f
                        .warn(loc, format!("{message}; no outputSchema emitted"));
                } else {
                    self.f.error(loc, message);
                }
                false
            }
        }
    }

    /// `servers[0]` (3.x) or `schemes`/`host`/`basePath` (2.0), variables
    /// substituted with their defaults.
    fn base_url(&mut self) -> Option<String> {
        let root = self.root().clone();
        if self.version == Version::Swagger2 {
            let host = s(&root, "host");
            let base = s(&root, "basePath").unwrap_or("");
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
        let servers = root.get("servers").and_then(Value::as_array)?;
        let server = servers.first()?;
        let loc = self.root.at("servers").idx(0);
        self.server_url(server, &loc, true)
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
        let url = reqwest::Url::parse(&raw).ok().or_else(|| {
            let base = reqwest::Url::parse(self.doc_base.as_deref()?).ok()?;
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

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Sorted copy of a map (deterministic iteration for callers).
pub fn sorted_keys<V>(m: &BTreeMap<String, V>) -> Vec<&String> {
    m.keys().collect()
}

//! Operations → tools (or resources): input schema, operation descriptor,
//! output schema, annotations, security; and the upstream descriptor.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::doc::{Docs, Findings, Loc};
use super::names;
use super::schema::{Dialect, Schemas};
use super::{Filter, OpenApiOptions, Override};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace", "query",
];

/// Keys of a Parameter Object (2.0 or 3.x) that describe the parameter, not
/// its value: never copied into a 2.0 parameter's schema.
const PARAMETER_KEYS: &[&str] = &[
    "name",
    "in",
    "required",
    "description",
    "deprecated",
    "collectionFormat",
    "allowEmptyValue",
    "style",
    "explode",
    "allowReserved",
    "schema",
    "content",
    "examples",
];

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

struct Param {
    name: String,
    location: String,
    required: bool,
    schema: Value,
    description: Option<String>,
    deprecated: bool,
    style: Option<String>,
    explode: Option<bool>,
    allow_reserved: bool,
    content_type: Option<String>,
    loc: Loc,
}

struct Body {
    media_type: String,
    schema: Value,
    required: bool,
    description: Option<String>,
    encoding: Map<String, Value>,
    loc: Loc,
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(media: &str) -> bool {
    let e = essence(media);
    e == "application/json" || e.ends_with("+json") || e == "*/*" || e == "application/*"
}

/// Preference among request media types: JSON first (merge-patch before
/// other JSON flavours), then forms, text, binary.
fn media_rank(media: &str) -> u8 {
    let e = essence(media);
    match e.as_str() {
        "application/json" => 0,
        "application/merge-patch+json" => 1,
        _ if e.ends_with("+json") => 2,
        "application/x-www-form-urlencoded" => 3,
        "multipart/form-data" => 4,
        _ if e.starts_with("text/") => 5,
        "application/octet-stream" => 6,
        _ if e.contains('/') && !e.contains('*') => 7,
        _ => 8,
    }
}

fn glob_match(pattern: &str, text: &str) -> bool {
    // `**` any characters; `*` any but `/`; `?` one character.
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => (0..=t.len()).any(|i| go(&p[2..], &t[i..])),
            Some(b'*') => {
                let mut i = 0;
                loop {
                    if go(&p[1..], &t[i..]) {
                        return true;
                    }
                    if i >= t.len() || t[i] == b'/' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some(b'?') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// The facts filters look at.
struct Facts<'a> {
    method: &'a str,
    path: &'a str,
    operation_id: Option<&'a str>,
    tags: &'a [String],
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.tags.is_empty()
            && self.operations.is_empty()
            && self.paths.is_empty()
            && self.methods.is_empty()
    }

    /// Per dimension: None when the filter says nothing about it.
    fn dims(&self, f: &Facts<'_>) -> [Option<bool>; 4] {
        let any = |list: &[String], m: &dyn Fn(&str) -> bool| {
            (!list.is_empty()).then(|| list.iter().any(|p| m(p)))
        };
        [
            any(&self.tags, &|p| f.tags.iter().any(|t| glob_match(p, t))),
            any(&self.operations, &|p| {
                f.operation_id.is_some_and(|id| glob_match(p, id))
                    || glob_match(p, &format!("{} {}", f.method, f.path))
            }),
            any(&self.paths, &|p| glob_match(p, f.path)),
            any(&self.methods, &|p| p.eq_ignore_ascii_case(f.method)),
        ]
    }

    /// Included: matches every dimension the filter names.
    fn includes(&self, f: &Facts<'_>) -> bool {
        self.is_empty() || self.dims(f).iter().all(|d| d.unwrap_or(true))
    }

    /// Excluded: matches any entry.
    fn excludes(&self, f: &Facts<'_>) -> bool {
        self.dims(f).contains(&Some(true))
    }
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
        self.uri_base = match &api.base_url {
            Some(b) if b.starts_with("http://") || b.starts_with("https://") => b.clone(),
            _ => format!("openapi://{package}"),
        };
        let (schemes, env, notes) = self.security_schemes();
        api.env = env;
        api.notes = notes;

        let drafts = self.operations(&schemes);
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
            let mut n = 2;
            while used.contains(&name) {
                name = names::disambiguate(&format!("{}_{n}", d.base_name), &d.path);
                n += 1;
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
            self.f.warn(
                &loc.at("url"),
                format!("server URL {url:?} has variables without defaults; no base URL is built in (pass --base-url)"),
            );
            return None;
        }
        Some(url)
    }

    /// `securitySchemes` (3.x) / `securityDefinitions` (2.0) → the upstream
    /// descriptor's schemes with environment variable names.
    fn security_schemes(&mut self) -> (Map<String, Value>, Vec<EnvVar>, Vec<String>) {
        let container = if self.version == Version::Swagger2 {
            self.root.at("securityDefinitions")
        } else {
            self.root.at("components").at("securitySchemes")
        };
        let mut out = Map::new();
        let mut env = Vec::new();
        let mut notes = Vec::new();
        let Some(Value::Object(map)) = self.docs.get(&container).cloned() else {
            return (out, env, notes);
        };
        let mut used_env: HashSet<String> = HashSet::new();
        let prefix = self.prefix.clone();
        let var = |suffix: &str, scheme: &str, used: &mut HashSet<String>| {
            let base = shouty_scheme(&prefix, scheme, suffix);
            let mut name = base.clone();
            let mut n = 2;
            while !used.insert(name.clone()) {
                name = format!("{base}_{n}");
                n += 1;
            }
            name
        };
        for (name, _) in &map {
            let loc = container.at(name);
            let Some((_, scheme)) = self.deref(&loc) else {
                continue;
            };
            let ty = s(&scheme, "type").unwrap_or("");
            let converted = match ty {
                "apiKey" => {
                    let location = s(&scheme, "in").unwrap_or("header");
                    let Some(key) = s(&scheme, "name") else {
                        self.f.warn(&loc, "apiKey scheme without `name`; skipped");
                        continue;
                    };
                    if !matches!(location, "header" | "query" | "cookie") {
                        self.f.warn(
                            &loc,
                            format!("apiKey in {location:?} is not supported; skipped"),
                        );
                        continue;
                    }
                    if location == "header" && !is_token(key) {
                        self.f.warn(
                            &loc,
                            format!("apiKey header name {key:?} is not an HTTP token; skipped"),
                        );
                        continue;
                    }
                    let e = var("", name, &mut used_env);
                    env.push(EnvVar {
                        name: e.clone(),
                        what: format!("API key `{name}` (sent as {location} `{key}`)"),
                    });
                    json!({"type": "apiKey", "in": location, "name": key, "env": e})
                }
                "http" | "basic" => {
                    let scheme_name = if ty == "basic" {
                        "basic".to_string()
                    } else {
                        s(&scheme, "scheme").unwrap_or("").to_ascii_lowercase()
                    };
                    match scheme_name.as_str() {
                        "bearer" => {
                            let e = var("TOKEN", name, &mut used_env);
                            env.push(EnvVar {
                                name: e.clone(),
                                what: format!("bearer token for `{name}`"),
                            });
                            json!({"type": "http", "scheme": "bearer", "env": e})
                        }
                        "basic" => {
                            let u = var("USERNAME", name, &mut used_env);
                            let p = var("PASSWORD", name, &mut used_env);
                            env.push(EnvVar {
                                name: u.clone(),
                                what: format!("user name for `{name}` (HTTP basic)"),
                            });
                            env.push(EnvVar {
                                name: p.clone(),
                                what: format!("password for `{name}` (HTTP basic)"),
                            });
                            json!({"type": "http", "scheme": "basic", "envUser": u, "envPassword": p})
                        }
                        other => {
                            self.f.warn(&loc, format!("HTTP authentication scheme {other:?} is not supported (bearer, basic); skipped"));
                            notes.push(format!("Security scheme `{name}` (HTTP `{other}`) is not supported and was skipped."));
                            continue;
                        }
                    }
                }
                "oauth2" => {
                    let cc = if self.version == Version::Swagger2 {
                        (s(&scheme, "flow") == Some("application")).then(|| scheme.clone())
                    } else {
                        scheme
                            .get("flows")
                            .and_then(|fl| fl.get("clientCredentials"))
                            .cloned()
                    };
                    match cc.as_ref().and_then(|c| s(c, "tokenUrl")) {
                        Some(token_url) => {
                            let scopes: Vec<String> = cc
                                .as_ref()
                                .and_then(|c| c.get("scopes"))
                                .and_then(Value::as_object)
                                .map(|m| m.keys().cloned().collect())
                                .unwrap_or_default();
                            let id = var("CLIENT_ID", name, &mut used_env);
                            let secret = var("CLIENT_SECRET", name, &mut used_env);
                            env.push(EnvVar {
                                name: id.clone(),
                                what: format!(
                                    "OAuth 2 client id for `{name}` (client credentials)"
                                ),
                            });
                            env.push(EnvVar {
                                name: secret.clone(),
                                what: format!("OAuth 2 client secret for `{name}`"),
                            });
                            json!({"type": "oauth2ClientCredentials", "tokenUrl": token_url, "scopes": scopes,
                                   "envClientId": id, "envClientSecret": secret})
                        }
                        None => {
                            // Interactive flows: the user supplies a token.
                            let e = var("ACCESS_TOKEN", name, &mut used_env);
                            env.push(EnvVar {
                                name: e.clone(),
                                what: format!("OAuth 2 access token for `{name}` (obtained elsewhere; sent as a bearer token)"),
                            });
                            json!({"type": "http", "scheme": "bearer", "env": e})
                        }
                    }
                }
                "openIdConnect" | "mutualTLS" => {
                    self.f.warn(&loc, format!("security scheme type {ty:?} is not supported; skipped (operations that require it are called without it)"));
                    notes.push(format!("Security scheme `{name}` ({ty}) is not supported and was skipped; operations that need only it are called without credentials."));
                    continue;
                }
                other => {
                    self.f.warn(
                        &loc,
                        format!("unknown security scheme type {other:?}; skipped"),
                    );
                    continue;
                }
            };
            out.insert(name.clone(), converted);
        }
        (out, env, notes)
    }

    /// The alternatives of a security requirement list, keeping only the
    /// schemes the upstream descriptor has.
    fn security(&mut self, loc: &Loc, req: &Value, schemes: &Map<String, Value>) -> Value {
        let Some(list) = req.as_array() else {
            return json!([]);
        };
        let mut out = Vec::new();
        let mut dropped = false;
        for alt in list {
            let Some(m) = alt.as_object() else { continue };
            if m.keys().all(|k| schemes.contains_key(k)) {
                out.push(Value::Array(
                    m.keys().map(|k| Value::from(k.as_str())).collect(),
                ));
            } else {
                for k in m.keys().filter(|k| !schemes.contains_key(*k)) {
                    let declared = self.version != Version::Swagger2
                        && self
                            .root()
                            .pointer(&format!(
                                "/components/securitySchemes/{}",
                                k.replace('~', "~0").replace('/', "~1")
                            ))
                            .is_some()
                        || self.version == Version::Swagger2
                            && self
                                .root()
                                .get("securityDefinitions")
                                .and_then(|d| d.get(k))
                                .is_some();
                    if !declared {
                        self.f.warn(
                            loc,
                            format!("security requirement names undeclared scheme {k:?}; ignored"),
                        );
                    }
                }
                dropped = true;
            }
        }
        if out.is_empty() && dropped {
            // Nothing usable: call without credentials.
            return json!([]);
        }
        Value::Array(out)
    }

    fn operations(&mut self, schemes: &Map<String, Value>) -> Vec<Draft> {
        let mut drafts = Vec::new();
        let paths_loc = self.root.at("paths");
        let Some(Value::Object(paths)) = self.docs.get(&paths_loc).cloned() else {
            if self.docs.get(&paths_loc).is_none() {
                self.f
                    .warn(&self.root, "the document has no `paths`: no tools");
            }
            return drafts;
        };
        let global_security = self.root().get("security").cloned();
        let global_consumes = self.root().get("consumes").cloned();
        let global_produces = self.root().get("produces").cloned();
        for (path, _) in &paths {
            let item_loc = paths_loc.at(path);
            if path.starts_with("x-") {
                continue;
            }
            let Some((item_loc, item)) = self.deref(&item_loc) else {
                continue;
            };
            if !item.is_object() {
                if !item.is_null() {
                    self.f
                        .warn(&item_loc, "a path item must be an object; ignored");
                }
                continue;
            }
            if !path.starts_with('/') {
                self.f
                    .warn(&item_loc, format!("path {path:?} does not start with `/`"));
            }
            let mut ops: Vec<(String, Loc)> = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_ascii_uppercase(), item_loc.at(m)))
                .collect();
            if let Some(Value::Object(extra)) = item.get("additionalOperations") {
                for m in extra.keys() {
                    ops.push((
                        m.to_ascii_uppercase(),
                        item_loc.at("additionalOperations").at(m),
                    ));
                }
            }
            for (method, op_loc) in ops {
                let Some(op) = self.docs.get(&op_loc).cloned() else {
                    continue;
                };
                if !op.is_object() {
                    self.f
                        .warn(&op_loc, "an operation must be an object; ignored");
                    continue;
                }
                let operation_id = s(&op, "operationId").map(str::to_string);
                let tags: Vec<String> = op
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                let facts = Facts {
                    method: &method,
                    path,
                    operation_id: operation_id.as_deref(),
                    tags: &tags,
                };
                if !self.opts.include.includes(&facts) || self.opts.exclude.excludes(&facts) {
                    continue;
                }
                let key = format!("{method} {path}");
                let found = self
                    .opts
                    .overrides
                    .iter()
                    .find(|(k, _)| Some(k.as_str()) == operation_id.as_deref() || *k == key)
                    .cloned();
                let ov: Option<Override> = found.map(|(k, o)| {
                    self.matched.insert(k);
                    o
                });
                let x_mcp = op.get("x-mcp").cloned().unwrap_or(Value::Null);
                let hidden = ov.as_ref().and_then(|o| o.hidden).unwrap_or(false)
                    || (ov.as_ref().and_then(|o| o.hidden).is_none()
                        && x_mcp.get("hidden") == Some(&Value::Bool(true)));
                if hidden {
                    continue;
                }
                let ctx = OpCtx {
                    item: &item,
                    item_loc: &item_loc,
                    global_security: &global_security,
                    global_consumes: &global_consumes,
                    global_produces: &global_produces,
                    schemes,
                };
                if let Some(d) = self.operation(&method, path, &op_loc, &op, &ctx, ov, &x_mcp) {
                    drafts.push(d);
                }
            }
        }
        drafts
    }

    fn params(
        &mut self,
        list_loc: &Loc,
        consumes_form: bool,
        out: &mut Vec<Param>,
        body: &mut Option<Body>,
        form: &mut Vec<Param>,
    ) {
        let Some(list) = self.docs.get(list_loc).cloned() else {
            return;
        };
        let Some(items) = list.as_array() else {
            self.f
                .warn(list_loc, "`parameters` must be an array; ignored");
            return;
        };
        let _ = consumes_form;
        for i in 0..items.len() {
            let Some((loc, p)) = self.deref(&list_loc.idx(i)) else {
                continue;
            };
            let (Some(name), Some(location)) = (s(&p, "name"), s(&p, "in")) else {
                self.f
                    .warn(&loc, "a parameter needs `name` and `in`; ignored");
                continue;
            };
            let name = name.to_string();
            let location = location.to_string();
            let required = p.get("required") == Some(&Value::Bool(true));
            let description = s(&p, "description").map(str::to_string);
            if location == "body" {
                let schema_loc = loc.at("schema");
                let schema = match p.get("schema") {
                    Some(v) => self.schemas.convert(self.docs, &schema_loc, v, self.f),
                    None => json!({}),
                };
                *body = Some(Body {
                    media_type: String::from("application/json"),
                    schema,
                    required,
                    description,
                    encoding: Map::new(),
                    loc: loc.clone(),
                });
                continue;
            }
            let mut param = Param {
                name,
                location: location.clone(),
                required,
                schema: json!({}),
                description,
                deprecated: p.get("deprecated") == Some(&Value::Bool(true)),
                style: s(&p, "style").map(str::to_string),
                explode: p.get("explode").and_then(Value::as_bool),
                allow_reserved: p.get("allowReserved") == Some(&Value::Bool(true)),
                content_type: None,
                loc: loc.clone(),
            };
            let swagger2 = self.version == Version::Swagger2;
            if swagger2 {
                // OpenAPI 3 keys in a 2.0 parameter: the document mixes
                // versions. They are read as OpenAPI 3 would read them.
                let oas3: Vec<&str> = ["schema", "content", "style", "explode", "allowReserved"]
                    .into_iter()
                    .filter(|k| p.get(*k).is_some())
                    .collect();
                if !oas3.is_empty() {
                    let keys = oas3
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.f.warn(
                        &loc,
                        format!(
                            "this Swagger 2.0 parameter uses OpenAPI 3 keys ({keys}): the document mixes versions; they are read as OpenAPI 3 reads them"
                        ),
                    );
                }
            }
            if swagger2 && p.get("schema").is_none() && p.get("content").is_none() {
                // The parameter itself is the schema (type, items, enum…),
                // without the parameter's own keys.
                let mut schema = Map::new();
                if let Some(m) = p.as_object() {
                    for (k, v) in m {
                        if !PARAMETER_KEYS.contains(&k.as_str()) {
                            schema.insert(k.clone(), v.clone());
                        }
                    }
                }
                param.schema =
                    self.schemas
                        .convert(self.docs, &loc, &Value::Object(schema), self.f);
                let format = s(&p, "collectionFormat");
                let is_array = s(&p, "type") == Some("array");
                // An OpenAPI 3 `style` stands when no collectionFormat says otherwise.
                if is_array
                    && (format.is_some() || (param.style.is_none() && param.explode.is_none()))
                {
                    let format = format.unwrap_or("csv");
                    let (style, explode) = match (format, location.as_str()) {
                        ("multi", "query" | "formData") => ("form", true),
                        ("ssv", "query" | "formData") => ("spaceDelimited", false),
                        ("pipes", "query" | "formData") => ("pipeDelimited", false),
                        ("csv", "query" | "formData" | "cookie") => ("form", false),
                        ("csv", _) => ("simple", false),
                        (other, _) => {
                            self.f.warn(
                                &loc.at("collectionFormat"),
                                format!("collectionFormat {other:?} is not supported here; comma-separated values are sent"),
                            );
                            if matches!(location.as_str(), "query" | "formData" | "cookie") {
                                ("form", false)
                            } else {
                                ("simple", false)
                            }
                        }
                    };
                    param.style = Some(style.into());
                    param.explode = Some(explode);
                }
            } else if let Some(schema) = p.get("schema") {
                param.schema = self
                    .schemas
                    .convert(self.docs, &loc.at("schema"), schema, self.f);
            } else if let Some(Value::Object(content)) = p.get("content") {
                if let Some((media, m)) = content.iter().next() {
                    let sl = loc.at("content").at(media).at("schema");
                    param.schema = match m.get("schema") {
                        Some(sv) => self.schemas.convert(self.docs, &sl, sv, self.f),
                        None => json!({}),
                    };
                    param.content_type = Some(media.clone());
                }
            }
            if location == "formData" {
                form.push(param);
                continue;
            }
            match location.as_str() {
                "path" | "query" | "header" | "cookie" => {}
                other => {
                    self.f.warn(
                        &loc.at("in"),
                        format!("parameters in {other:?} are not supported; ignored"),
                    );
                    continue;
                }
            }
            if location == "header" {
                let lower = param.name.to_ascii_lowercase();
                if matches!(lower.as_str(), "accept" | "content-type" | "authorization") {
                    continue; // OpenAPI: such header parameters are ignored
                }
                if matches!(
                    lower.as_str(),
                    "host" | "content-length" | "transfer-encoding" | "connection" | "cookie"
                ) || !is_token(&param.name)
                {
                    self.f.warn(
                        &loc,
                        format!(
                            "header parameter {:?} cannot be set by a tool; ignored",
                            param.name
                        ),
                    );
                    continue;
                }
            }
            // Operation-level parameters override path-level ones (name + in).
            if let Some(existing) = out
                .iter_mut()
                .find(|e| e.name == param.name && e.location == param.location)
            {
                *existing = param;
            } else {
                out.push(param);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        method: &str,
        path: &str,
        loc: &Loc,
        op: &Value,
        ctx: &OpCtx<'_>,
        ov: Option<Override>,
        x_mcp: &Value,
    ) -> Option<Draft> {
        let mut params: Vec<Param> = Vec::new();
        let mut body: Option<Body> = None;
        let mut form: Vec<Param> = Vec::new();
        self.params(
            &ctx.item_loc.at("parameters"),
            false,
            &mut params,
            &mut body,
            &mut form,
        );
        // Operation-level parameters replace path-level ones by (name, in).
        let mut op_params = Vec::new();
        let mut op_body = None;
        let mut op_form = Vec::new();
        self.params(
            &loc.at("parameters"),
            false,
            &mut op_params,
            &mut op_body,
            &mut op_form,
        );
        for p in op_params {
            if let Some(e) = params
                .iter_mut()
                .find(|e| e.name == p.name && e.location == p.location)
            {
                *e = p;
            } else {
                params.push(p);
            }
        }
        if op_body.is_some() {
            body = op_body;
        }
        for p in op_form {
            if let Some(e) = form.iter_mut().find(|e| e.name == p.name) {
                *e = p;
            } else {
                form.push(p);
            }
        }
        let _ = ctx.item;

        // Path parameters must all be declared and are always required.
        let template_vars: Vec<String> = path
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(v, _)| v.to_string()))
            .collect();
        for v in &template_vars {
            if !params.iter().any(|p| p.location == "path" && &p.name == v) {
                self.f.warn(
                    loc,
                    format!(
                        "path parameter {v:?} is not declared; it is added as a required string"
                    ),
                );
                params.push(Param {
                    name: v.clone(),
                    location: "path".into(),
                    required: true,
                    schema: json!({"type": "string"}),
                    description: None,
                    deprecated: false,
                    style: None,
                    explode: None,
                    allow_reserved: false,
                    content_type: None,
                    loc: loc.clone(),
                });
            }
        }
        params.retain(|p| p.location != "path" || template_vars.contains(&p.name));
        for p in params.iter_mut().filter(|p| p.location == "path") {
            p.required = true;
        }

        // Request body (3.x).
        let consumes = op
            .get("consumes")
            .cloned()
            .or_else(|| ctx.global_consumes.clone());
        if self.version != Version::Swagger2 {
            if let Some(rb) = op.get("requestBody") {
                let _ = rb;
                if let Some((rb_loc, rb)) = self.deref(&loc.at("requestBody")) {
                    if let Some(Value::Object(content)) = rb.get("content") {
                        let best = content.keys().min_by_key(|k| media_rank(k)).cloned();
                        if let Some(media) = best {
                            let m = &content[&media];
                            let sl = rb_loc.at("content").at(&media).at("schema");
                            let schema = match m.get("schema") {
                                Some(sv) => self.schemas.convert(self.docs, &sl, sv, self.f),
                                None => json!({}),
                            };
                            let encoding = m
                                .get("encoding")
                                .and_then(Value::as_object)
                                .cloned()
                                .unwrap_or_default();
                            let media = if media.contains('*') {
                                String::from("application/json")
                            } else {
                                media
                            };
                            body = Some(Body {
                                media_type: media,
                                schema,
                                required: rb.get("required") == Some(&Value::Bool(true)),
                                description: s(&rb, "description").map(str::to_string),
                                encoding,
                                loc: rb_loc.clone(),
                            });
                        }
                    }
                }
            }
        } else if let Some(b) = body.as_mut() {
            // 2.0: the body's media type from `consumes`.
            if let Some(list) = consumes.as_ref().and_then(Value::as_array) {
                let best = list
                    .iter()
                    .filter_map(Value::as_str)
                    .min_by_key(|m| media_rank(m));
                if let Some(m) = best {
                    if !m.contains('*') && media_rank(m) <= 2 {
                        b.media_type = m.to_string();
                    }
                }
            }
        }
        if !form.is_empty() {
            let has_file = form.iter().any(|p| {
                self.schemas.resolve(&p.schema).get("format") == Some(&Value::from("binary"))
            });
            let wants_multipart = consumes
                .as_ref()
                .and_then(Value::as_array)
                .is_some_and(|l| {
                    l.iter().any(|m| {
                        m.as_str()
                            .is_some_and(|m| essence(m) == "multipart/form-data")
                    })
                });
            let wants_urlencoded = consumes
                .as_ref()
                .and_then(Value::as_array)
                .is_some_and(|l| {
                    l.iter().any(|m| {
                        m.as_str()
                            .is_some_and(|m| essence(m) == "application/x-www-form-urlencoded")
                    })
                });
            let media = if has_file || (wants_multipart && !wants_urlencoded) {
                "multipart/form-data"
            } else {
                "application/x-www-form-urlencoded"
            };
            let mut props = Map::new();
            let mut required = Vec::new();
            let mut encoding = Map::new();
            for p in &form {
                let mut schema = p.schema.clone();
                if let (Some(d), Value::Object(m)) = (&p.description, &mut schema) {
                    m.insert("description".into(), d.clone().into());
                }
                props.insert(p.name.clone(), schema);
                if p.required {
                    required.push(Value::from(p.name.clone()));
                }
                if let Some(style) = &p.style {
                    encoding.insert(
                        p.name.clone(),
                        json!({"style": style, "explode": p.explode.unwrap_or(false)}),
                    );
                }
            }
            let required_body = !required.is_empty();
            let mut schema = json!({"type": "object", "properties": props});
            if required_body {
                schema["required"] = Value::Array(required);
            }
            body = Some(Body {
                media_type: media.into(),
                schema,
                required: required_body,
                description: None,
                encoding,
                loc: loc.at("parameters"),
            });
        }

        // Every definition used so far is converted before types are read.
        self.schemas.drain(self.docs, self.f);

        // Argument names: snake case, prefixed by location when two collide.
        let bases: Vec<String> = params.iter().map(|p| names::arg_name(&p.name)).collect();
        let mut args: Vec<String> = Vec::new();
        for (i, p) in params.iter().enumerate() {
            let clash = bases
                .iter()
                .enumerate()
                .any(|(j, b)| j != i && *b == bases[i]);
            let mut arg = if clash {
                format!("{}_{}", p.location, bases[i])
            } else {
                bases[i].clone()
            };
            let mut n = 2;
            while args.contains(&arg) {
                arg = format!("{}_{n}", bases[i]);
                n += 1;
            }
            args.push(arg);
        }

        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        let mut op_params = Vec::new();
        for (p, arg) in params.iter().zip(&args) {
            let mut schema = p.schema.clone();
            let mut description = p.description.clone();
            if p.deprecated {
                description = Some(
                    format!("Deprecated. {}", description.unwrap_or_default())
                        .trim()
                        .to_string(),
                );
            }
            if let Some(d) = description {
                match &mut schema {
                    Value::Object(m) => {
                        m.insert("description".into(), d.into());
                    }
                    Value::Bool(true) => schema = json!({"description": d}),
                    _ => {}
                }
            }
            let kind = match self.schemas.single_type(&p.schema).as_deref() {
                Some("array") => "array",
                Some("object") => "object",
                _ => "primitive",
            };
            let kind = if p.content_type.is_some() {
                "primitive"
            } else {
                kind
            };
            let (style, explode) = self.style(p, kind);
            properties.insert(arg.clone(), schema);
            if p.required {
                required.push(arg.clone().into());
            }
            let mut entry = Map::new();
            entry.insert("name".into(), p.name.clone().into());
            entry.insert("in".into(), p.location.clone().into());
            entry.insert("arg".into(), arg.clone().into());
            entry.insert("style".into(), style.into());
            entry.insert("explode".into(), explode.into());
            entry.insert("required".into(), p.required.into());
            entry.insert("kind".into(), kind.into());
            if p.allow_reserved && p.location == "query" {
                entry.insert("allowReserved".into(), true.into());
            }
            if let Some(ct) = &p.content_type {
                entry.insert("contentType".into(), ct.clone().into());
            }
            op_params.push(Value::Object(entry));
        }

        let mut operation = Map::new();
        operation.insert("method".into(), method.into());
        operation.insert("path".into(), path.into());
        operation.insert("parameters".into(), Value::Array(op_params));
        if let Some(b) = body {
            let descriptor = self.body(b, &args, &mut properties, &mut required);
            operation.insert("body".into(), descriptor);
        }
        let security = match op.get("security") {
            Some(sec) => self.security(&loc.at("security"), sec, ctx.schemes),
            None => match ctx.global_security {
                Some(sec) => self.security(&self.root.at("security"), &sec.clone(), ctx.schemes),
                None => json!([]),
            },
        };
        operation.insert("security".into(), security);

        // Output: the first 2xx response with a JSON schema.
        let produces = op
            .get("produces")
            .cloned()
            .or_else(|| ctx.global_produces.clone());
        let (output, wrapped, mime) = self.success(loc, op, produces.as_ref());
        operation.insert("successSchemaWrapped".into(), wrapped.into());
        let produces_loc = if op.get("produces").is_some() {
            loc.at("produces")
        } else {
            self.root.at("produces")
        };
        if let Some(accept) = self.accept(loc, op, produces.as_ref(), &produces_loc) {
            operation.insert("accept".into(), accept.into());
        }

        let mut input = Map::new();
        input.insert("type".into(), "object".into());
        input.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            input.insert("required".into(), Value::Array(required.clone()));
        }

        // Name, title, description.
        let x_name = s(x_mcp, "name").map(str::to_string);
        let ov_name = ov.as_ref().and_then(|o| o.name.clone());
        let explicit_name = ov_name.is_some() || x_name.is_some();
        let base_name = match ov_name.or(x_name) {
            Some(n) => {
                let valid = !n.is_empty()
                    && n.len() <= 128
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
                if !valid {
                    self.f.error(
                        loc,
                        format!(
                            "tool name {n:?} is invalid: 1-128 characters of A-Z a-z 0-9 _ - ."
                        ),
                    );
                }
                n
            }
            None => {
                let id = s(op, "operationId");
                if let Some(id) = id {
                    if id.is_empty() {
                        self.f.warn(
                            &loc.at("operationId"),
                            "empty operationId; the name comes from the method and path",
                        );
                    }
                }
                names::tool_name(id, method, path)
            }
        };
        let summary = s(op, "summary")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let title = ov
            .as_ref()
            .and_then(|o| o.title.clone())
            .or_else(|| s(x_mcp, "title").map(str::to_string))
            .or_else(|| summary.clone());
        let deprecated = op.get("deprecated") == Some(&Value::Bool(true));
        let description = ov
            .as_ref()
            .and_then(|o| o.description.clone())
            .or_else(|| s(x_mcp, "description").map(str::to_string))
            .or_else(|| {
                let d = s(op, "description")
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty());
                let mut parts: Vec<String> = Vec::new();
                if deprecated {
                    parts.push("Deprecated.".into());
                }
                if let Some(sm) = &summary {
                    parts.push(sm.clone());
                }
                if let Some(d) = d {
                    if Some(&d) != summary.as_ref() {
                        parts.push(d);
                    }
                }
                if parts.is_empty() || parts == ["Deprecated."] {
                    parts.push(format!("{method} {path}"));
                }
                Some(parts.join("\n\n"))
            });

        // Annotations from the method, then x-mcp, then overrides.
        let mut annotations = Map::new();
        let read_only = matches!(method, "GET" | "HEAD" | "OPTIONS");
        annotations.insert("readOnlyHint".into(), read_only.into());
        if !read_only {
            annotations.insert("destructiveHint".into(), (method == "DELETE").into());
            annotations.insert(
                "idempotentHint".into(),
                matches!(method, "PUT" | "DELETE").into(),
            );
        }
        annotations.insert("openWorldHint".into(), true.into());
        if let Some(Value::Object(a)) = x_mcp.get("annotations") {
            for (k, v) in a {
                annotations.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(a)) = ov.as_ref().and_then(|o| o.annotations.clone()) {
            for (k, v) in a {
                annotations.insert(k, v);
            }
        }

        let resource = if self.opts.get_as_resources && method == "GET" {
            self.as_resource(path, &params, &args, &operation, mime)
        } else {
            None
        };

        Some(Draft {
            loc: loc.clone(),
            method: method.to_string(),
            path: path.to_string(),
            base_name,
            explicit_name,
            title,
            description,
            input: Value::Object(input),
            output,
            operation,
            annotations,
            resource,
        })
    }

    /// A GET operation whose required inputs are all path parameters, as a
    /// resource (no variables) or resource template.
    fn as_resource(
        &mut self,
        path: &str,
        params: &[Param],
        args: &[String],
        operation: &Map<String, Value>,
        mime: Option<String>,
    ) -> Option<(String, Option<String>, bool)> {
        if operation
            .get("body")
            .is_some_and(|b| b.get("required") == Some(&Value::Bool(true)))
        {
            return None;
        }
        if params.iter().any(|p| p.required && p.location != "path") {
            return None;
        }
        let mut uri = self.uri_base.trim_end_matches('/').to_string();
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            uri.push_str(&rest[..open]);
            let close = rest[open..].find('}')? + open;
            let name = &rest[open + 1..close];
            let i = params
                .iter()
                .position(|p| p.location == "path" && p.name == name)?;
            uri.push('{');
            uri.push_str(&args[i]);
            uri.push('}');
            rest = &rest[close + 1..];
        }
        uri.push_str(rest);
        let query: Vec<&String> = params
            .iter()
            .zip(args)
            .filter(|(p, _)| {
                p.location == "query"
                    && self
                        .schemas
                        .single_type(&p.schema)
                        .is_some_and(|t| t != "array" && t != "object")
            })
            .map(|(_, a)| a)
            .collect();
        if !query.is_empty() {
            uri.push_str("{?");
            uri.push_str(
                &query
                    .iter()
                    .map(|q| q.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            );
            uri.push('}');
        }
        let is_template = uri.contains('{');
        if crate::spec::validate::template_variables(&uri).is_err() {
            return None;
        }
        if uri.contains(' ') || uri.chars().any(char::is_control) {
            return None;
        }
        Some((uri, mime, is_template))
    }

    fn style(&mut self, p: &Param, kind: &str) -> (String, bool) {
        let allowed: &[&str] = match p.location.as_str() {
            "path" => &["simple", "label", "matrix"],
            "query" => &["form", "spaceDelimited", "pipeDelimited", "deepObject"],
            "header" => &["simple"],
            _ => &["form"],
        };
        let default = if matches!(p.location.as_str(), "path" | "header") {
            "simple"
        } else {
            "form"
        };
        let mut style = p.style.clone().unwrap_or_else(|| default.to_string());
        if !allowed.contains(&style.as_str()) || (style == "deepObject" && kind != "object") {
            self.f.warn(
                &p.loc,
                format!(
                    "style {style:?} is not allowed for a {kind} {} parameter; {default:?} is used",
                    p.location
                ),
            );
            style = default.to_string();
        }
        let explode = p.explode.unwrap_or(style == "form");
        (style, explode)
    }

    /// The body descriptor; adds the body's arguments to the input schema.
    fn body(
        &mut self,
        b: Body,
        args: &[String],
        properties: &mut Map<String, Value>,
        required: &mut Vec<Value>,
    ) -> Value {
        let media = b.media_type.clone();
        let e = essence(&media);
        let structured = is_json(&media)
            || e == "application/x-www-form-urlencoded"
            || e == "multipart/form-data";
        let mut d = Map::new();
        let resolved = self.schemas.resolve(&b.schema).clone();
        let object_props = resolved
            .get("properties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
            .cloned();
        let composite = ["allOf", "anyOf", "oneOf", "not", "if", "patternProperties"]
            .iter()
            .any(|k| resolved.get(*k).is_some());
        let open_map = matches!(
            resolved.get("additionalProperties"),
            Some(Value::Object(_)) | Some(Value::Bool(true))
        );
        let body_required: Vec<String> = resolved
            .get("required")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let multipart = e == "multipart/form-data";
        let mut binary_fields = Vec::new();
        if structured && !is_json(&media) {
            if let Some(props) = &object_props {
                for (name, ps) in props {
                    let r = self.schemas.resolve(ps);
                    let items = r.get("items").map(|i| self.schemas.resolve(i));
                    let is_bin = |v: &Value| {
                        v.get("format") == Some(&Value::from("binary"))
                            || v.get("contentMediaType").is_some()
                                && v.get("type") == Some(&Value::from("string"))
                                && v.get("contentEncoding").is_none()
                    };
                    if multipart && (is_bin(r) || items.is_some_and(is_bin)) {
                        binary_fields.push(name.clone());
                    }
                }
            }
        }
        let readonly = |v: &Value, schemas: &Schemas| {
            schemas.resolve(v).get("readOnly") == Some(&Value::Bool(true))
        };
        let flatten = structured
            && !composite
            && !open_map
            && object_props.as_ref().is_some_and(|props| {
                props
                    .keys()
                    .all(|k| !args.contains(k) && !properties.contains_key(k))
            });
        let file_schema = |description: Option<&Value>| {
            let mut v = json!({
                "description": "File contents: base64 text (or a data: URL), or an object {\"data\": base64, \"filename\": …, \"contentType\": …}.",
                "oneOf": [
                    {"type": "string", "contentEncoding": "base64"},
                    {"type": "object", "properties": {
                        "data": {"type": "string", "contentEncoding": "base64"},
                        "filename": {"type": "string"},
                        "contentType": {"type": "string"}
                    }, "required": ["data"]}
                ]
            });
            if let Some(Value::String(d)) = description {
                v["description"] = Value::String(format!(
                    "{d} ({})",
                    v["description"].as_str().unwrap_or_default()
                ));
            }
            v
        };
        let prop_schema = |name: &str, ps: &Value, schemas: &Schemas| -> Value {
            if binary_fields.iter().any(|f| f == name) {
                let r = schemas.resolve(ps);
                if r.get("type") == Some(&Value::from("array")) {
                    json!({"type": "array", "items": file_schema(ps.get("description"))})
                } else {
                    file_schema(ps.get("description"))
                }
            } else {
                ps.clone()
            }
        };
        if flatten {
            let props = object_props.unwrap_or_default();
            let mut lifted = Vec::new();
            for (name, ps) in &props {
                if readonly(ps, &self.schemas) {
                    continue;
                }
                properties.insert(name.clone(), prop_schema(name, ps, &self.schemas));
                if b.required && body_required.contains(name) {
                    required.push(name.clone().into());
                }
                lifted.push(Value::from(name.clone()));
            }
            d.insert("flattened".into(), Value::Array(lifted));
        } else {
            let mut arg = String::from("body");
            while args.contains(&arg) || properties.contains_key(&arg) {
                arg = format!("request_{arg}");
            }
            let mut schema = if !structured {
                if e.starts_with("text/")
                    || e == "application/xml"
                    || e.ends_with("+xml")
                    || e.contains("yaml")
                {
                    json!({"type": "string"})
                } else {
                    json!({"type": "string", "contentEncoding": "base64", "description": "The request body, base64-encoded."})
                }
            } else if !binary_fields.is_empty() {
                // Rewrite file fields of a form body kept whole.
                let mut r = resolved.clone();
                if let Some(Value::Object(props)) = r.get_mut("properties") {
                    for (name, ps) in props.iter_mut() {
                        *ps = prop_schema(name, ps, &self.schemas);
                    }
                }
                r
            } else {
                b.schema.clone()
            };
            if let (Some(desc), Value::Object(m)) = (&b.description, &mut schema) {
                if !m.contains_key("description") {
                    m.insert("description".into(), desc.clone().into());
                }
            }
            properties.insert(arg.clone(), schema);
            if b.required {
                required.push(arg.clone().into());
            }
            d.insert("arg".into(), arg.into());
        }
        d.insert("required".into(), b.required.into());
        d.insert("mediaType".into(), media.into());
        if !binary_fields.is_empty() {
            d.insert(
                "binaryFields".into(),
                binary_fields.into_iter().map(Value::from).collect(),
            );
        }
        if !b.encoding.is_empty() && (e == "application/x-www-form-urlencoded" || multipart) {
            let mut enc = Map::new();
            for (prop, v) in &b.encoding {
                let mut o = Map::new();
                if let Some(ct) = s(v, "contentType") {
                    o.insert("contentType".into(), ct.into());
                }
                if let Some(st) = s(v, "style") {
                    if matches!(
                        st,
                        "form" | "spaceDelimited" | "pipeDelimited" | "deepObject"
                    ) {
                        o.insert("style".into(), st.into());
                    } else {
                        self.f.warn(&b.loc, format!("encoding style {st:?} of {prop:?} is not allowed in a body; ignored"));
                    }
                }
                if let Some(x) = v.get("explode").and_then(Value::as_bool) {
                    o.insert("explode".into(), x.into());
                }
                if let Some(x) = v.get("allowReserved").and_then(Value::as_bool) {
                    o.insert("allowReserved".into(), x.into());
                }
                enc.insert(prop.clone(), Value::Object(o));
            }
            d.insert("encoding".into(), Value::Object(enc));
        }
        Value::Object(d)
    }

    /// The `Accept` header: the media types the operation documents for its
    /// successful responses (2.0: `produces`, the operation's or else the
    /// document's; 3.x: the content of every 2xx response), JSON types
    /// first, the others as listed. None (the runtime's default) when
    /// nothing but `*/*` is documented.
    fn accept(
        &mut self,
        loc: &Loc,
        op: &Value,
        produces: Option<&Value>,
        produces_loc: &Loc,
    ) -> Option<String> {
        let mut listed: Vec<(Loc, String)> = Vec::new();
        if self.version == Version::Swagger2 {
            match produces {
                Some(Value::Array(list)) => {
                    for (i, m) in list.iter().enumerate() {
                        match m.as_str() {
                            Some(m) => listed.push((produces_loc.idx(i), m.to_string())),
                            None => self.f.warn(
                                &produces_loc.idx(i),
                                "a media type must be a string; ignored",
                            ),
                        }
                    }
                }
                Some(_) => self
                    .f
                    .warn(produces_loc, "`produces` must be an array; ignored"),
                None => {}
            }
        } else {
            let Some(Value::Object(responses)) = op.get("responses") else {
                return None;
            };
            let mut codes: Vec<&String> = responses
                .keys()
                .filter(|k| {
                    k.len() == 3
                        && k.starts_with('2')
                        && (k[1..].chars().all(|c| c.is_ascii_digit())
                            || k[1..].eq_ignore_ascii_case("XX"))
                })
                .collect();
            // 200…299, then 2XX.
            codes.sort_by_key(|k| (k[1..].eq_ignore_ascii_case("XX"), k.to_string()));
            for code in codes {
                let Some((rloc, response)) = self.deref(&loc.at("responses").at(code)) else {
                    continue;
                };
                if let Some(Value::Object(content)) = response.get("content") {
                    for media in content.keys() {
                        listed.push((rloc.at("content").at(media), media.clone()));
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        let mut types: Vec<String> = Vec::new();
        for (at, media) in listed {
            let media = media.trim().to_string();
            let (kind, rest) = media.split_once('/').unwrap_or((&media, ""));
            let subtype = rest.split(';').next().unwrap_or("").trim();
            let valid = is_token(kind)
                && is_token(subtype)
                && !media.contains(',')
                && media
                    .bytes()
                    .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic());
            if !valid {
                self.f.warn(
                    &at,
                    format!("{media:?} is not a media type; it is not sent in `Accept`"),
                );
                continue;
            }
            if seen.insert(media.to_ascii_lowercase()) {
                types.push(media);
            }
        }
        if types.iter().all(|m| essence(m) == "*/*") {
            return None;
        }
        let json = |m: &String| {
            let e = essence(m);
            e == "application/json" || e.ends_with("+json")
        };
        let (mut first, rest): (Vec<String>, Vec<String>) = types.into_iter().partition(json);
        first.extend(rest);
        Some(first.join(", "))
    }

    /// Output schema, whether it is wrapped, and the success media type.
    fn success(
        &mut self,
        loc: &Loc,
        op: &Value,
        produces: Option<&Value>,
    ) -> (Option<Value>, bool, Option<String>) {
        let Some(Value::Object(responses)) = op.get("responses") else {
            return (None, false, None);
        };
        let mut codes: Vec<&String> = responses
            .keys()
            .filter(|k| {
                k.len() == 3 && k.starts_with('2') && k[1..].chars().all(|c| c.is_ascii_digit())
            })
            .collect();
        codes.sort();
        let code = codes
            .first()
            .copied()
            .or_else(|| responses.keys().find(|k| k.eq_ignore_ascii_case("2XX")));
        let Some(code) = code else {
            return (None, false, None);
        };
        let Some((rloc, response)) = self.deref(&loc.at("responses").at(code)) else {
            return (None, false, None);
        };
        let (schema_loc, schema, mime) = if self.version == Version::Swagger2 {
            let mime = produces
                .and_then(Value::as_array)
                .and_then(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .min_by_key(|m| media_rank(m))
                })
                .map(str::to_string);
            if mime.as_deref().is_some_and(|m| !is_json(m)) {
                return (None, false, mime);
            }
            match response.get("schema") {
                Some(s) => (
                    rloc.at("schema"),
                    s.clone(),
                    mime.or(Some("application/json".into())),
                ),
                None => return (None, false, mime),
            }
        } else {
            let Some(Value::Object(content)) = response.get("content") else {
                return (None, false, None);
            };
            let Some(media) = content.keys().min_by_key(|k| media_rank(k)).cloned() else {
                return (None, false, None);
            };
            if !is_json(&media) || media.contains('*') {
                return (None, false, Some(media).filter(|m| !m.contains('*')));
            }
            match content[&media].get("schema") {
                Some(s) => (
                    rloc.at("content").at(&media).at("schema"),
                    s.clone(),
                    Some(media),
                ),
                None => return (None, false, Some(media)),
            }
        };
        let converted = self
            .schemas
            .convert(self.docs, &schema_loc, &schema, self.f);
        self.schemas.drain(self.docs, self.f);
        if self.schemas.is_object(&converted) {
            let mut out = match converted {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            out.insert("type".into(), "object".into());
            (Some(Value::Object(out)), false, mime)
        } else {
            let wrapped = json!({
                "type": "object",
                "properties": {"result": converted},
                "required": ["result"]
            });
            (Some(wrapped), true, mime)
        }
    }
}

struct OpCtx<'a> {
    item: &'a Value,
    item_loc: &'a Loc,
    global_security: &'a Option<Value>,
    global_consumes: &'a Option<Value>,
    global_produces: &'a Option<Value>,
    schemes: &'a Map<String, Value>,
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn shouty_scheme(prefix: &str, scheme: &str, suffix: &str) -> String {
    let s = names::shouty(scheme);
    let mut parts = vec![prefix.to_string()];
    if !s.is_empty() {
        parts.push(s.clone());
    }
    if !suffix.is_empty() && !s.ends_with(suffix) {
        parts.push(suffix.to_string());
    }
    parts.retain(|p| !p.is_empty());
    parts.join("_")
}

/// Sorted copy of a map (deterministic iteration for callers).
pub fn sorted_keys<V>(m: &BTreeMap<String, V>) -> Vec<&String> {
    m.keys().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("/pets/*", "/pets/{id}"));
        assert!(!glob_match("/pets/*", "/pets/{id}/photos"));
        assert!(glob_match("/pets/**", "/pets/{id}/photos"));
        assert!(glob_match("list*", "listPets"));
        assert!(glob_match("?et", "get"));
    }

    #[test]
    fn env_names() {
        assert_eq!(shouty_scheme("PETSTORE", "api_key", ""), "PETSTORE_API_KEY");
        assert_eq!(
            shouty_scheme("PETSTORE", "bearer", "TOKEN"),
            "PETSTORE_BEARER_TOKEN"
        );
        assert_eq!(shouty_scheme("P", "bearerToken", "TOKEN"), "P_BEARER_TOKEN");
    }

    #[test]
    fn media() {
        assert!(media_rank("application/json") < media_rank("multipart/form-data"));
        assert!(is_json("application/vnd.api+json; charset=utf-8"));
    }
}

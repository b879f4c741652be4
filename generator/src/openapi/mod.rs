//! OpenAPI input: Swagger 2.0, OpenAPI 3.0, 3.1 (and 3.2 where compatible),
//! JSON or YAML, one file or several joined by relative `$ref`s. Every
//! operation becomes a tool without a handler: the generated crate
//! registers its descriptors and `mcpgen-runtime` calls the API (see
//! `docs/upstream.md`).
//!
//! * [`doc`]: reading files, positions, `$ref` resolution;
//! * [`schema`]: Schema Objects → JSON Schema 2020-12 with shared `$defs`;
//! * [`ops`]: operations → tool / resource descriptors and operation
//!   descriptors, security schemes → the upstream descriptor;
//! * [`names`]: tool, argument and environment variable names;
//! * `describe`: descriptions cleaned for a model (HTML, repeated
//!   summaries, example blobs), unless `raw_descriptions`.
//!
//! Nothing here panics on input: problems whose meaning is clear are
//! warnings (generation goes on), the others are errors with file, line,
//! column and JSON pointer.

mod describe;
pub mod doc;
pub mod names;
pub mod ops;
pub mod schema;
pub mod surface;

use std::collections::HashSet;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Diagnostic, Diagnostics, Error, Problem, Warning};
use crate::ir::{self, EnvVar, RuntimeDep, Upstream};
pub use crate::spec::ToolSurface;
use crate::spec::{self, LoadedSpec, OpenApiImport, ServerInfo, Spec};
pub use ops::{Api, Version};

/// Which operations to keep. Within a list, any entry may match; an
/// include filter must match in every list it gives; an exclude filter
/// drops an operation that matches any entry. `*` matches within a path
/// segment, `**` across segments, `?` one character.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Tags (globs).
    pub tags: Vec<String>,
    /// operationIds (or `METHOD /path`).
    pub operations: Vec<String>,
    /// Paths (globs).
    pub paths: Vec<String>,
    /// HTTP methods.
    pub methods: Vec<String>,
}

/// Per-operation changes (from the YAML spec's `openapi.overrides`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Override {
    /// The tool name.
    pub name: Option<String>,
    /// The tool title.
    pub title: Option<String>,
    /// The tool description.
    pub description: Option<String>,
    /// MCP tool annotations (JSON object), merged over the defaults.
    pub annotations: Option<Value>,
    /// Leave the operation out.
    pub hidden: Option<bool>,
    /// Calls of the tool allowed, canonical (`5/1m`).
    pub rate_limit: Option<String>,
}

/// How an OpenAPI description becomes tools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenApiOptions {
    /// Fetch `$ref`s that point to other hosts (http/https); off by default
    /// so that a document cannot make the generator reach an arbitrary host.
    pub allow_remote_refs: bool,
    /// Inline non-recursive `$ref`s in tool schemas.
    pub inline_refs: bool,
    /// Give every tool schema its own `$defs` in the IR, as clients receive
    /// it, instead of naming definitions in one shared table
    /// (`ir::Upstream::defs`). Costs memory as tools × definitions; for
    /// comparing the two (`tests/shared_defs.rs`).
    pub self_contained_schemas: bool,
    /// Expose GET operations without required non-path inputs as resources
    /// and resource templates.
    pub get_as_resources: bool,
    /// Base URL built into the server (instead of `servers[0]`).
    pub base_url: Option<String>,
    /// Server name (default: from `info.title`).
    pub name: Option<String>,
    /// Prefix of environment variables (default: the server name in
    /// SHOUTY_SNAKE_CASE).
    pub env_prefix: Option<String>,
    /// Keep only the operations this matches (an empty filter keeps all).
    pub include: Filter,
    /// Drop the operations this matches.
    pub exclude: Filter,
    /// operationId (or `METHOD /path`) → override.
    pub overrides: Vec<(String, Override)>,
    /// Output schemas larger than this (in bytes of JSON, `$defs` included)
    /// are left out; default [`DEFAULT_MAX_OUTPUT_SCHEMA`].
    pub max_output_schema_bytes: Option<usize>,
    /// Keep operation and parameter descriptions as written; by default
    /// HTML becomes text, a summary repeated by the description is said
    /// once and large example blobs are left out.
    pub raw_descriptions: bool,
    /// How `tools/list` presents the operations (default: `auto`).
    pub tool_surface: ToolSurface,
    /// Toolsets of the spec's own, in order (default: one per tag).
    pub toolsets: Vec<Toolset>,
}

/// A toolset defined in a spec: the operations `filter` selects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toolset {
    /// Its name (as `--toolsets` and `enable_toolset` take it).
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The operations it holds (an empty filter holds none).
    pub filter: Filter,
}

/// Default bound on one tool's output schema: huge ones (a Kubernetes
/// `PodList`) cost every client context and compile time, and a real API
/// that deviates from them turns successful calls into errors.
pub const DEFAULT_MAX_OUTPUT_SCHEMA: usize = 64 * 1024;

/// Whether `text` looks like an OpenAPI/Swagger document rather than an
/// mcpgen spec: a top-level `openapi` or `swagger` key with a version.
pub fn sniff(text: &str) -> bool {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return ["\"openapi\"", "\"swagger\""].iter().any(|k| {
            trimmed.match_indices(k).any(|(i, _)| {
                let rest = trimmed[i + k.len()..].trim_start();
                rest.strip_prefix(':')
                    .is_some_and(|r| r.trim_start().starts_with('"'))
            })
        });
    }
    text.lines().any(|line| {
        [
            "openapi:",
            "swagger:",
            "\"openapi\":",
            "'openapi':",
            "\"swagger\":",
        ]
        .iter()
        .any(|k| {
            line.strip_prefix(k).is_some_and(|rest| {
                let v = rest.trim().trim_matches(['"', '\'']);
                v.starts_with(|c: char| c.is_ascii_digit())
            })
        })
    })
}

/// A loaded description: the API as tools plus its warnings.
pub struct Loaded {
    pub api: Api,
    pub warnings: Vec<Warning>,
    /// Every file read (the entry point first).
    pub inputs: Vec<std::path::PathBuf>,
    /// `info.title`, `info.version`, `info.description`.
    pub title: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
}

/// Read the description at `path` and turn it into tools. `server_name`
/// names the environment variables (unless `env_prefix` is set) and the
/// URIs of resources; `taken` are tool names already used.
pub fn load(
    path: &Path,
    opts: &OpenApiOptions,
    server_name: &dyn Fn(Option<&str>) -> String,
    taken: &HashSet<String>,
) -> Result<Loaded, Error> {
    let mut findings = doc::Findings::default();
    crate::tick("reading the description");
    let docs = doc::Docs::load(path, opts.allow_remote_refs, &mut findings)?;
    crate::tick("description read");
    let root_loc = doc::Loc {
        file: 0,
        ptr: String::new(),
    };
    let root = docs.get(&root_loc).unwrap_or(&Value::Null);
    let version = version(root, &root_loc, &mut findings);
    if let Some(v) = version {
        warn_unknown_keys(v, root, &mut findings);
    }
    let title = root
        .pointer("/info/title")
        .and_then(Value::as_str)
        .map(str::to_string);
    let name = server_name(title.as_deref());
    let api = match version {
        Some(v) if !findings.has_errors() => {
            let prefix = env_prefix(opts, &name);
            ops::ApiLowering::new(&docs, v, opts, &mut findings, prefix).lower(&name, taken)
        }
        _ => Api::default(),
    };
    let (errors, warnings) = docs.resolve(findings);
    if !errors.is_empty() {
        return Err(Error::Invalid(Diagnostics(errors)));
    }
    Ok(Loaded {
        inputs: docs.files.iter().map(|f| f.path.clone()).collect(),
        title,
        version: api.version.clone(),
        description: api.description.clone(),
        api,
        warnings,
    })
}

/// The document's version from `swagger` / `openapi`; None, with an
/// error, when it is missing or unsupported.
fn version(root: &Value, root_loc: &doc::Loc, findings: &mut doc::Findings) -> Option<Version> {
    match (root.get("swagger"), root.get("openapi")) {
        (Some(v), _) if version_text(v).starts_with("2.") => Some(Version::Swagger2),
        (_, Some(v)) if version_text(v).starts_with("3.0") => Some(Version::OpenApi30),
        (_, Some(v))
            if version_text(v).starts_with("3.1") || version_text(v).starts_with("3.2") =>
        {
            Some(Version::OpenApi31)
        }
        (Some(v), _) => {
            findings.error(
                &root_loc.at("swagger"),
                format!(
                    "unsupported Swagger version {}; expected 2.0",
                    version_text(v)
                ),
            );
            None
        }
        (_, Some(v)) => {
            findings.error(
                &root_loc.at("openapi"),
                format!(
                    "unsupported OpenAPI version {}; expected 3.0.x, 3.1.x or 3.2.x",
                    version_text(v)
                ),
            );
            None
        }
        (None, None) => {
            findings.error(
                root_loc,
                "not an OpenAPI document: no top-level `openapi` or `swagger` version",
            );
            None
        }
    }
}

/// Top-level keys the version does not define (other than `x-`): warned
/// about and ignored.
fn warn_unknown_keys(version: Version, root: &Value, findings: &mut doc::Findings) {
    let known: &[&str] = match version {
        Version::Swagger2 => &[
            "swagger",
            "info",
            "host",
            "basePath",
            "schemes",
            "consumes",
            "produces",
            "paths",
            "definitions",
            "parameters",
            "responses",
            "securityDefinitions",
            "security",
            "tags",
            "externalDocs",
        ],
        _ => &[
            "openapi",
            "info",
            "jsonSchemaDialect",
            "servers",
            "paths",
            "webhooks",
            "components",
            "security",
            "tags",
            "externalDocs",
            "$self",
        ],
    };
    let Some(map) = root.as_object() else {
        return;
    };
    let root_loc = doc::Loc {
        file: 0,
        ptr: String::new(),
    };
    for key in map.keys() {
        if !key.starts_with("x-") && !known.contains(&key.as_str()) {
            findings.warn(
                &doc::Loc {
                    file: 0,
                    ptr: format!("{}/~key", root_loc.at(key).ptr),
                },
                format!("unknown top-level key `{key}` ignored"),
            );
        }
    }
}

/// The prefix of environment variable names: `--env-prefix`, else the
/// server name, in SHOUTY_SNAKE_CASE; `API` when that leaves nothing.
fn env_prefix(opts: &OpenApiOptions, name: &str) -> String {
    let prefix = opts
        .env_prefix
        .as_deref()
        .map(names::shouty)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| names::shouty(name));
    if prefix.is_empty() {
        String::from("API")
    } else {
        prefix
    }
}

/// A server lowered to IR from an OpenAPI description (or a spec that
/// imports one).
pub struct Lowered {
    pub server: ir::Server,
    /// Every file read.
    pub inputs: Vec<std::path::PathBuf>,
    pub warnings: Vec<Warning>,
}

/// The server name for a description: `--name`, else a short name from
/// `info.title` (`names::short_name`), else the title or the file name,
/// kebab-cased into a valid package name.
fn server_name(explicit: Option<&str>, title: Option<&str>, path: &Path) -> String {
    if let Some(n) = explicit {
        return n.to_string();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let title = title.unwrap_or("");
    let kebab = [title, stem.as_str()]
        .into_iter()
        .filter_map(|c| crate::names::package_name(c).ok());
    crate::names::short_name(title)
        .into_iter()
        .chain(kebab)
        .next()
        .unwrap_or_else(|| String::from("openapi-server"))
}

/// The first paragraph of `info.description`, for the package description.
fn summary(description: Option<&str>) -> Option<String> {
    let first = description?
        .trim()
        .split("\n\n")
        .next()?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if first.is_empty() {
        return None;
    }
    Some(if first.chars().count() > 300 {
        let cut: String = first.chars().take(297).collect();
        format!("{cut}...")
    } else {
        first
    })
}

fn upstream(api: Api, source: String, opts: &OpenApiOptions) -> Upstream {
    let surface = surface::choose(
        &api.tools,
        opts.tool_surface,
        &opts.toolsets,
        &api.tag_descriptions,
    );
    Upstream {
        surface,
        config: api.upstream,
        source,
        base_url: api.base_url,
        tools: api.tools,
        defs: api.defs,
        resources: api.resources,
        templates: api.templates,
        env: api.env,
        notes: api.notes,
        settings_env: Vec::new(),
        scopes: api.scopes,
    }
}

/// The import's headers and TLS, carried to the runtime as written
/// (`{{ env.NAME }}` templates included: the runtime substitutes them at
/// start-up), and for the README the variables the templates read.
fn import_settings(import: &OpenApiImport, up: &mut Upstream) {
    up.config.headers = import
        .headers
        .iter()
        .flat_map(|h| h.iter())
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    up.config.tls = import.tls.as_ref().map(|t| mcpgen_contract::Tls {
        ca_cert: t.ca_cert.clone(),
        client_cert: t.client_cert.clone(),
        client_key: t.client_key.clone(),
        verify: t.verify,
        accept_invalid_hostnames: t.accept_invalid_hostnames,
    });
    let mut places: Vec<(String, String)> = Vec::new();
    if let Some(b) = &up.config.base_url {
        places.push((b.clone(), "the base URL".into()));
    }
    for (name, value) in import.headers.iter().flat_map(|h| h.iter()) {
        places.push((value.clone(), format!("header `{name}`")));
    }
    if let Some(t) = &up.config.tls {
        for (v, field) in [
            (&t.ca_cert, "caCert"),
            (&t.client_cert, "clientCert"),
            (&t.client_key, "clientKey"),
        ] {
            if let Some(v) = v {
                places.push((v.clone(), format!("`tls.{field}`")));
            }
        }
    }
    let mut vars: Vec<(String, Vec<String>)> = Vec::new();
    for (text, place) in places {
        for name in mcpgen_contract::template::variables(&text).unwrap_or_default() {
            match vars.iter_mut().find(|(n, _)| n == name) {
                Some((_, used)) => used.push(place.clone()),
                None => vars.push((name.to_owned(), vec![place.clone()])),
            }
        }
    }
    up.settings_env = vars
        .into_iter()
        .map(|(name, used)| EnvVar {
            name,
            what: format!(
                "substituted into {} at start-up (required)",
                used.join(", ")
            ),
        })
        .collect();
    if let Some(t) = &up.config.tls {
        let mut parts = Vec::new();
        if let Some(ca) = &t.ca_cert {
            parts.push(format!(
                "trusts the CA certificate(s) in `{ca}` instead of the system's roots"
            ));
        }
        if let Some(cert) = &t.client_cert {
            let key = t
                .client_key
                .as_ref()
                .map(|k| format!(" with the key in `{k}`"))
                .unwrap_or_default();
            parts.push(format!("presents the client certificate in `{cert}`{key}"));
        }
        if t.verify == Some(false) {
            parts.push("does NOT verify the API's certificate (it warns at every start-up)".into());
        } else if t.accept_invalid_hostnames {
            parts.push("does not check the host name of the API's certificate (it warns at every start-up)".into());
        }
        if !parts.is_empty() {
            up.notes.push(format!(
                "TLS, as the spec sets it: the server {}. The `--upstream-*` flags above replace each setting.",
                parts.join("; ")
            ));
        }
    }
}

/// Lower an OpenAPI description at `path` to a server of its own.
pub fn lower(path: &Path, opts: &OpenApiOptions, runtime: RuntimeDep) -> Result<Lowered, Error> {
    if let Some(n) = &opts.name
        && let Err(reason) = crate::names::package_name(n)
    {
        return Err(Error::Invalid(Diagnostics(vec![Diagnostic {
            file: path.to_path_buf(),
            pos: crate::yaml::Pos { line: 1, column: 1 },
            problem: Problem::InvalidCrateName {
                name: n.clone(),
                reason,
            },
        }])));
    }
    let name_of = |title: Option<&str>| server_name(opts.name.as_deref(), title, path);
    let loaded = load(path, opts, &name_of, &HashSet::new())?;
    let name = name_of(loaded.title.as_deref());
    let spec = Spec {
        schema: None,
        server: ServerInfo {
            name,
            version: loaded.version.clone().unwrap_or_else(|| "0.1.0".into()),
            title: loaded.title.clone(),
            description: summary(loaded.description.as_deref()),
            instructions: None,
            icons: Vec::new(),
            website_url: None,
            cache: loaded.api.cache.clone(),
        },
        tools: Vec::new(),
        resources: Vec::new(),
        resource_templates: Vec::new(),
        prompts: Vec::new(),
        openapi: None,
        rate_limits: None,
        auth: None,
    };
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let spec_loaded = LoadedSpec {
        spec,
        path: path.to_path_buf(),
        base_dir,
        files: Default::default(),
    };
    let mut server = spec::lower(&spec_loaded, runtime);
    server.upstream = Some(upstream(
        loaded.api,
        crate::names::source_file_name(path),
        opts,
    ));
    Ok(Lowered {
        server,
        inputs: loaded.inputs,
        warnings: loaded.warnings,
    })
}

/// Options for a spec's `openapi` import: the spec's settings over those
/// given on the command line.
fn import_options(import: &OpenApiImport, cli: &OpenApiOptions) -> OpenApiOptions {
    let mut o = cli.clone();
    o.name = None;
    if import.base_url.is_some() {
        o.base_url = import.base_url.clone();
    }
    if import.env_prefix.is_some() {
        o.env_prefix = import.env_prefix.clone();
    }
    if let Some(s) = import.tool_surface {
        o.tool_surface = s;
    }
    if let Some(sets) = &import.toolsets {
        o.toolsets = sets
            .iter()
            .map(|(name, t)| Toolset {
                name: name.clone(),
                description: t.description.clone(),
                filter: Filter {
                    tags: t.tags.clone(),
                    operations: t.operations.clone(),
                    paths: t.paths.clone(),
                    methods: t.methods.clone(),
                },
            })
            .collect();
    }
    o.get_as_resources |= import.get_as_resources;
    o.inline_refs |= import.inline_refs;
    o.raw_descriptions |= import.raw_descriptions;
    o.allow_remote_refs |= import.allow_remote_refs;
    let extend = |f: &mut Filter, s: &Option<spec::OperationFilter>| {
        if let Some(s) = s {
            f.tags.extend(s.tags.iter().cloned());
            f.operations.extend(s.operations.iter().cloned());
            f.paths.extend(s.paths.iter().cloned());
            f.methods.extend(s.methods.iter().cloned());
        }
    };
    extend(&mut o.include, &import.include);
    extend(&mut o.exclude, &import.exclude);
    if let Some(overrides) = &import.overrides {
        for (key, ov) in overrides.iter() {
            o.overrides.push((
                key.clone(),
                Override {
                    name: ov.name.clone(),
                    title: ov.title.clone(),
                    description: ov.description.clone(),
                    annotations: ov
                        .annotations
                        .as_ref()
                        .and_then(|a| serde_json::to_value(a).ok()),
                    hidden: ov.hidden,
                    rate_limit: ov.rate_limit.as_ref().and_then(|r| r.canonical().ok()),
                },
            ));
        }
    }
    o
}

/// Add the spec's `openapi` import (if any) to `server`: returns the files
/// read and the warnings.
pub fn import(
    loaded: &LoadedSpec,
    server: &mut ir::Server,
    cli: &OpenApiOptions,
) -> Result<(Vec<std::path::PathBuf>, Vec<Warning>), Error> {
    let Some(import) = &loaded.spec.openapi else {
        return Ok((Vec::new(), Vec::new()));
    };
    let opts = import_options(import, cli);
    let bad_toolsets: Vec<(String, String)> = opts
        .toolsets
        .iter()
        .filter(|t| !is_toolset_name(&t.name))
        .map(|t| {
            (
                format!(
                    "/openapi/toolsets/{}/~key",
                    crate::yaml::escape_pointer(&t.name)
                ),
                format!(
                    "toolset name {:?} must be 1-64 characters of A-Z a-z 0-9 _ - . and not `all`",
                    t.name
                ),
            )
        })
        .collect();
    if !bad_toolsets.is_empty() {
        return Err(spec_errors(loaded, bad_toolsets));
    }
    let path = loaded.base_dir.join(&import.path);
    let taken: HashSet<String> = server.tools.iter().map(|t| t.name.clone()).collect();
    let name = loaded.spec.server.name.clone();
    let result = load(&path, &opts, &|_| name.clone(), &taken)?;
    // Overrides that match no operation are mistakes worth stopping for.
    let unmatched: Vec<&String> = opts
        .overrides
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !result.api.matched_overrides.contains_key(*k))
        .collect();
    if !unmatched.is_empty() {
        let problems = unmatched
            .into_iter()
            .map(|k| {
                let ptr = format!(
                    "/openapi/overrides/{}/~key",
                    crate::yaml::escape_pointer(k)
                );
                let message = format!(
                    "override {k:?} matches no operation of {} (give an operationId or `METHOD /path`)",
                    path.display()
                );
                (ptr, message)
            })
            .collect();
        return Err(spec_errors(loaded, problems));
    }
    // The spec's own `server.cache` wins over the document's `x-mcp.cache`.
    if let (None, Some(c)) = (&loaded.spec.server.cache, &result.api.cache) {
        server.cache = crate::spec::lower::cache_defaults(c);
        server.list_cache = crate::spec::lower::list_cache(c);
    }
    let limits = override_rate_limits(&opts, &result.api);
    let mut up = upstream(result.api, crate::names::source_file_name(&path), &opts);
    import_settings(import, &mut up);
    add_tool_rate_limits(server, limits);
    server.upstream = Some(up);
    Ok((result.inputs, result.warnings))
}

/// The tools whose override sets a `rateLimit`, with it.
fn override_rate_limits(opts: &OpenApiOptions, api: &ops::Api) -> Vec<(String, String)> {
    opts.overrides
        .iter()
        .filter_map(|(key, ov)| {
            let rate = ov.rate_limit.clone()?;
            let (method, path) = api.matched_overrides.get(key)?;
            let tool = api
                .tools
                .iter()
                .find(|t| (&t.method, &t.path) == (method, path))?;
            Some((tool.name.clone(), rate))
        })
        .collect()
}

/// Put tool limits into `RATE_LIMITS` and the README rows; like a YAML
/// tool's own `rateLimit`, they win over `rateLimits.tools`.
fn add_tool_rate_limits(server: &mut ir::Server, limits: Vec<(String, String)>) {
    if limits.is_empty() {
        return;
    }
    let mut json: Map<String, Value> = server
        .rate_limits
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let tools = json
        .entry("tools")
        .or_insert_with(|| Value::Object(Map::new()));
    for (name, rate) in limits {
        let row = format!("calls of tool `{name}`");
        server.rate_limit_rows.retain(|(what, _)| *what != row);
        server.rate_limit_rows.push((row, rate.clone()));
        if let Some(t) = tools.as_object_mut() {
            t.insert(name, Value::String(rate));
        }
    }
    server.rate_limits = Some(Value::Object(json).to_string());
}

/// Every tool named in the spec's `rateLimits.tools` must exist (a spec
/// tool, or one made from an imported operation): a misspelt name would
/// otherwise limit nothing.
pub(crate) fn check_rate_limit_tools(
    loaded: &LoadedSpec,
    server: &ir::Server,
) -> Result<(), Error> {
    let Some(tools) = loaded
        .spec
        .rate_limits
        .as_ref()
        .and_then(|r| r.tools.as_ref())
    else {
        return Ok(());
    };
    let upstream = server
        .upstream
        .as_ref()
        .map(|u| u.tools.as_slice())
        .unwrap_or_default();
    let known: HashSet<&str> = server
        .tools
        .iter()
        .map(|t| t.name.as_str())
        .chain(upstream.iter().map(|t| t.name.as_str()))
        .collect();
    let problems: Vec<(String, String)> = tools
        .iter()
        .filter(|(name, _)| !known.contains(name.as_str()))
        .map(|(name, _)| {
            (
                format!(
                    "/rateLimits/tools/{}/~key",
                    crate::yaml::escape_pointer(name)
                ),
                format!("rate limit for {name:?}, which is no tool of this server"),
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(spec_errors(loaded, problems))
    }
}

/// What `--toolsets` and `enable_toolset` can name.
fn is_toolset_name(name: &str) -> bool {
    name != "all"
        && (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// Problems of the spec itself, `(JSON pointer, message)`, located in its
/// file.
fn spec_errors(loaded: &LoadedSpec, problems: Vec<(String, String)>) -> Error {
    let tree = std::fs::read_to_string(&loaded.path)
        .ok()
        .and_then(|t| crate::yaml::parse_yaml(&t).ok().flatten());
    let list = problems
        .into_iter()
        .map(|(ptr, message)| Diagnostic {
            file: loaded.path.clone(),
            pos: tree
                .as_ref()
                .map(|t| t.locate(&ptr))
                .unwrap_or(crate::yaml::Pos { line: 1, column: 1 }),
            problem: Problem::OpenApi {
                pointer: ptr.trim_end_matches("/~key").to_string(),
                message,
            },
        })
        .collect();
    Error::Invalid(Diagnostics(list))
}

fn version_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert!(sniff("openapi: 3.0.0\ninfo: {}\n"));
        assert!(sniff("# c\nswagger: \"2.0\"\n"));
        assert!(sniff("{\n  \"openapi\": \"3.1.0\"}"));
        assert!(!sniff("server:\n  name: x\nopenapi:\n  path: a.yaml\n"));
        assert!(!sniff("server: {name: x}\n"));
    }
}

//! The intermediate representation between the front ends and emitted
//! files: plain types, owned by neither front end. The YAML spec front end
//! (`spec::lower`) and the OpenAPI front end (`openapi`) each lower into
//! them; `emit` and `diff` read them. Everything the templates need is here:
//! identifiers (validated, see `crate::names`), Rust types, and every MCP
//! descriptor (the spec's and upstream ones, typed by `mcpgen_contract`) as
//! a value (serde_json with `preserve_order`, so key order is the order we
//! insert in, and output is deterministic). A descriptor becomes text only
//! when `emit` serialises the IR for the templates (`json_text`).
//!
//! Strings in the IR that come from the spec are *data*: templates only ever
//! put them into Rust code through the `lit` filter.

pub mod defs;
pub mod headers;
pub(crate) mod schema;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

pub use schema::DefaultExpr;

/// How the generated crate depends on the runtime.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuntimeDep {
    /// `mcpgen-runtime = { path = "..." }`, relative to the crate directory.
    Path {
        /// The path, written as given.
        path: String,
    },
    /// `mcpgen-runtime = "..."` from crates.io.
    Version {
        /// The version requirement.
        version: String,
    },
}

/// The whole server.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// The spec's file name (no directories), for `@generated` headers.
    pub spec_file: String,
    /// The server name as in the spec.
    pub name: String,
    /// MCP `title`: a display name.
    pub title: Option<String>,
    /// MCP `description`.
    pub description: Option<String>,
    /// Cargo package (and binary) name.
    pub package: String,
    /// The library crate's identifier (`package` in snake case).
    pub crate_ident: String,
    /// Crate version: the server version if it is semver, else `0.1.0`.
    pub crate_version: String,
    /// The server version as in the spec.
    pub version: String,
    /// How the crate depends on the runtime.
    pub runtime: RuntimeDep,
    /// MCP `Implementation` JSON.
    #[serde(serialize_with = "json_text")]
    pub info_json: Value,
    /// MCP `instructions` sent with the `initialize` result.
    pub instructions: Option<String>,
    /// `ttlMs` / `cacheScope` of cacheable MCP 2026-07-28 results, when the
    /// spec sets them (else the runtime's defaults).
    pub cache: Option<CacheHints>,
    /// Per-list hints (`ServerBuilder::list_cache_hints`), resolved against
    /// the server's: (`tools/list`…, hints).
    pub list_cache: Vec<ListCache>,
    /// Tools backed by a `Handlers` method.
    pub tools: Vec<Tool>,
    /// Resources with fixed contents or a handler.
    pub resources: Vec<Resource>,
    /// Resource templates (each read by a handler).
    pub templates: Vec<Template>,
    /// Prompts with fixed messages or a handler.
    pub prompts: Vec<Prompt>,
    /// Static completion values of prompt and template arguments.
    pub completions: Vec<Completion>,
    /// Every argument/parameter struct, in spec order.
    pub structs: Vec<Struct>,
    /// Whether the spec has anything a `Handlers` method implements (tools,
    /// handler-backed resources, templates, prompts). A server with an
    /// upstream API has the trait too, for its tool-call hook
    /// (`wrap_tool_call`, emit).
    pub has_handlers: bool,
    /// Tools, resources and templates that call an upstream API (OpenAPI).
    pub upstream: Option<Upstream>,
    /// `RATE_LIMITS`: the declared rate limits as the runtime reads them
    /// (`ServerBuilder::rate_limits`), when there are any.
    pub rate_limits: Option<String>,
    /// The declared rate limits for the README: (what, `100/1m`).
    pub rate_limit_rows: Vec<(String, String)>,
    /// `AUTH`: the spec's `auth:` section and tools' `scopes:` as the
    /// runtime reads them (`ServerBuilder::auth`), when there are any.
    pub auth: Option<String>,
    /// The tools' scopes for the README: (tool, "`a`, `b`").
    pub auth_rows: Vec<(String, String)>,
}

/// What an OpenAPI description contributes: descriptor tables only (the
/// runtime makes the calls, see `docs/upstream.md`). Descriptors are typed
/// values (`mcpgen_contract`); templates see them as JSON text.
#[derive(Debug, Clone, Serialize)]
pub struct Upstream {
    /// `UPSTREAM_JSON`.
    #[serde(serialize_with = "json_text")]
    pub config: mcpgen_contract::Upstream,
    /// The description's file name.
    pub source: String,
    /// The API's base URL built into the server, if any.
    pub base_url: Option<String>,
    /// Operations exposed as tools. Their schemas name definitions by
    /// `#/$defs/<name>` and carry no `$defs` of their own: those are in
    /// `defs` ([`Upstream::whole_descriptor`] attaches them).
    pub tools: Vec<UpstreamItem>,
    /// The schema definitions the tools share, in the order first met; the
    /// runtime gives each tool schema the ones it reaches, as `$defs`, at
    /// start-up (`ir::defs`). Empty when every schema carries its own
    /// (`OpenApiOptions::inline_refs`, `self_contained_schemas`).
    #[serde(skip)]
    pub defs: Map<String, Value>,
    /// GET operations exposed as resources.
    pub resources: Vec<UpstreamItem>,
    /// GET operations exposed as resource templates.
    pub templates: Vec<UpstreamItem>,
    /// Environment variables the security schemes read.
    pub env: Vec<EnvVar>,
    /// Remarks for the README (skipped security schemes…).
    pub notes: Vec<String>,
    /// How `tools/list` presents the tools (docs/surfaces.md).
    pub surface: Surface,
    /// Environment variables the `{{ env.NAME }}` templates of `config`
    /// read at start-up (base URL, headers, TLS paths).
    pub settings_env: Vec<EnvVar>,
    /// Tools' OAuth scopes from their operations' security requirements,
    /// used when the spec's `auth.operationScopes` asks (docs/auth.md).
    #[serde(skip)]
    pub scopes: Vec<(String, Vec<String>)>,
}

/// The tool surface a server starts with, the toolset of every upstream
/// tool, and why it was chosen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Surface {
    /// `all`, `toolsets` or `compact`.
    pub surface: String,
    /// Why, for `mcpgen generate`'s message.
    pub reason: String,
    /// Estimated tokens of `tools/list` with every tool listed.
    pub estimated_tokens: usize,
    /// `TOOL_SURFACE`: the surface and the toolsets (`ServerBuilder::tool_surface`).
    #[serde(serialize_with = "json_text")]
    pub config: Value,
    /// The upstream tools and meta-tools `tools/list` shows at start, in order.
    pub listed: Vec<String>,
}

/// An environment variable the generated server reads.
#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    /// The variable's name.
    pub name: String,
    /// What it holds, for the README.
    pub what: String,
}

/// One upstream tool, resource or template.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamItem {
    /// The tool, resource or template name.
    pub name: String,
    /// The operation's HTTP method.
    pub method: String,
    /// The operation's path template.
    pub path: String,
    /// MCP `title`.
    pub title: Option<String>,
    /// The MCP `Tool`, `Resource` or `ResourceTemplate` object.
    #[serde(serialize_with = "json_text")]
    pub descriptor: Map<String, Value>,
    /// `OPERATION_JSON`.
    #[serde(serialize_with = "json_text")]
    pub operation: mcpgen_contract::Operation,
    /// For resources and templates: the URI (template).
    pub uri: Option<String>,
    /// For tools: the toolset it belongs to (its first tag, or the spec's
    /// grouping).
    pub toolset: Option<String>,
}

/// A descriptor as the JSON text the templates put into a string literal:
/// compact, keys in insertion order. The only place IR descriptors become
/// text.
fn json_text<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

/// A generated struct (tool arguments, template variables, prompt arguments).
#[derive(Debug, Clone, Serialize)]
pub struct Struct {
    /// The type's identifier.
    pub ident: String,
    /// Doc-comment lines.
    pub doc: Vec<String>,
    /// Fields in declaration order.
    pub fields: Vec<Field>,
    /// Default-value functions used by `#[serde(default = "...")]`.
    pub defaults: Vec<DefaultFn>,
    /// The string enums its fields use, emitted just before it.
    pub enums: Vec<Enum>,
}

/// A spec `enum` of strings as a Rust enum: one variant per value, renamed
/// by serde to the value.
#[derive(Debug, Clone, Serialize)]
pub struct Enum {
    /// The type's identifier (unique among the generated types).
    pub ident: String,
    /// Doc-comment lines.
    pub doc: Vec<String>,
    /// Variants in spec order.
    pub variants: Vec<Variant>,
    /// Whether one variant is `#[default]` (then the enum derives `Default`).
    pub has_default: bool,
}

/// A variant of an [`Enum`].
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    /// The variant's identifier (valid and unique within the enum).
    pub ident: String,
    /// The spec value (spec text: rendered as a literal).
    pub value: String,
    /// The field's declared default.
    pub default: bool,
}

/// A field of a generated struct.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The field's identifier.
    pub ident: String,
    /// The wire name when it differs from the identifier.
    pub rename: Option<String>,
    /// Rust type source text (fixed vocabulary, see `schema::RustType`).
    pub ty: String,
    /// `#[serde(default)]` (for `Option` fields).
    pub default: bool,
    /// `#[serde(default = "...")]` function name.
    pub default_fn: Option<String>,
    /// Doc-comment lines.
    pub doc: Vec<String>,
}

/// A function returning a field's default value.
#[derive(Debug, Clone, Serialize)]
pub struct DefaultFn {
    /// The function's identifier.
    pub ident: String,
    /// Its return type as Rust source (fixed vocabulary).
    pub ty: String,
    /// The value it returns.
    pub expr: DefaultExpr,
}

/// A tool served by a `Handlers` method.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// The MCP tool name.
    pub name: String,
    /// The `Handlers` method.
    pub method: String,
    /// The arguments struct.
    pub args: String,
    /// MCP `Tool` descriptor.
    #[serde(serialize_with = "json_text")]
    pub descriptor: Value,
    /// Doc-comment lines of the method.
    pub doc: Vec<String>,
}

/// What reading a resource returns.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Contents {
    /// Fixed text.
    Text {
        /// The text.
        text: String,
    },
    /// Fixed bytes.
    Blob {
        /// The bytes, in canonical base64.
        base64: String,
    },
    /// Whatever a `Handlers` method returns.
    Handler {
        /// The method.
        method: String,
    },
}

/// A resource.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    /// The MCP resource name.
    pub name: String,
    /// Its URI.
    pub uri: String,
    /// MCP `Resource` descriptor.
    #[serde(serialize_with = "json_text")]
    pub descriptor: Value,
    /// What reading it returns.
    pub contents: Contents,
    /// Doc-comment lines.
    pub doc: Vec<String>,
}

/// A resource template, read by a `Handlers` method.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    /// The MCP template name.
    pub name: String,
    /// Its URI template (RFC 6570).
    pub uri_template: String,
    /// The `Handlers` method.
    pub method: String,
    /// The struct of the template's variables.
    pub params: String,
    /// MCP `ResourceTemplate` descriptor.
    #[serde(serialize_with = "json_text")]
    pub descriptor: Value,
    /// Doc-comment lines of the method.
    pub doc: Vec<String>,
}

/// A prompt: fixed messages or a `Handlers` method.
#[derive(Debug, Clone, Serialize)]
pub struct Prompt {
    /// The MCP prompt name.
    pub name: String,
    /// MCP `Prompt` descriptor.
    #[serde(serialize_with = "json_text")]
    pub descriptor: Value,
    /// Static messages (MCP `PromptMessage[]` JSON) or a handler.
    #[serde(serialize_with = "opt_json_text")]
    pub messages: Option<Value>,
    /// The `Handlers` method, for a handler-backed prompt.
    pub method: Option<String>,
    /// Its arguments struct, for a handler-backed prompt.
    pub args: Option<String>,
    /// Doc-comment lines.
    pub doc: Vec<String>,
}

/// Static completion values for one argument of a prompt or template.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    /// MCP reference JSON (`ref/prompt` or `ref/resource`).
    #[serde(serialize_with = "json_text")]
    pub reference: Value,
    /// The argument (or template variable) completed.
    pub argument: String,
    /// The values offered.
    pub values: Vec<String>,
}

/// [`json_text`] of an optional value (`None` stays none).
fn opt_json_text<S: Serializer>(value: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => json_text(v, s),
        None => s.serialize_none(),
    }
}

/// `ServerBuilder::list_cache_hints` arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListCache {
    /// `tools/list`, `resources/list`, `resources/templates/list`, `prompts/list`.
    pub method: String,
    /// Milliseconds.
    pub ttl_ms: u64,
    /// `public` or `private`.
    pub scope: String,
}

/// `ServerBuilder::cache_hints` arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheHints {
    /// Milliseconds.
    pub ttl_ms: u64,
    /// `public` or `private`.
    pub scope: String,
}

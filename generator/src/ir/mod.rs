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

pub mod schema;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use schema::DefaultExpr;

/// How the generated crate depends on the runtime.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuntimeDep {
    /// `mcpgen-runtime = { path = "..." }`, relative to the crate directory.
    Path { path: String },
    /// `mcpgen-runtime = "..."` from crates.io.
    Version { version: String },
}

/// The whole server.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// The spec's file name (no directories), for `@generated` headers.
    pub spec_file: String,
    /// The server name as in the spec.
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Cargo package (and binary) name.
    pub package: String,
    /// The library crate's identifier (`package` in snake case).
    pub crate_ident: String,
    /// Crate version: the server version if it is semver, else `0.1.0`.
    pub crate_version: String,
    pub version: String,
    pub runtime: RuntimeDep,
    /// MCP `Implementation` JSON.
    #[serde(serialize_with = "json_text")]
    pub info_json: Value,
    pub instructions: Option<String>,
    pub tools: Vec<Tool>,
    pub resources: Vec<Resource>,
    pub templates: Vec<Template>,
    pub prompts: Vec<Prompt>,
    pub completions: Vec<Completion>,
    /// Every argument/parameter struct, in spec order.
    pub structs: Vec<Struct>,
    /// Whether any `Handlers` method exists (otherwise `handlers` is unused).
    pub has_handlers: bool,
    /// Tools, resources and templates that call an upstream API (OpenAPI).
    pub upstream: Option<Upstream>,
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
    pub base_url: Option<String>,
    pub tools: Vec<UpstreamItem>,
    pub resources: Vec<UpstreamItem>,
    pub templates: Vec<UpstreamItem>,
    /// Environment variables the security schemes read.
    pub env: Vec<EnvVar>,
    /// Remarks for the README (skipped security schemes…).
    pub notes: Vec<String>,
}

/// An environment variable the generated server reads.
#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    pub name: String,
    /// What it holds, for the README.
    pub what: String,
}

/// One upstream tool, resource or template.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamItem {
    pub name: String,
    pub method: String,
    pub path: String,
    pub title: Option<String>,
    /// The MCP `Tool`, `Resource` or `ResourceTemplate` object.
    #[serde(serialize_with = "json_text")]
    pub descriptor: Map<String, Value>,
    /// `OPERATION_JSON`.
    #[serde(serialize_with = "json_text")]
    pub operation: mcpgen_contract::Operation,
    /// For resources and templates: the URI (template).
    pub uri: Option<String>,
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
    pub ident: String,
    pub doc: Vec<String>,
    pub fields: Vec<Field>,
    /// Default-value functions used by `#[serde(default = "...")]`.
    pub defaults: Vec<DefaultFn>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub ident: String,
    /// The wire name when it differs from the identifier.
    pub rename: Option<String>,
    /// Rust type source text (fixed vocabulary, see `schema::RustType`).
    pub ty: String,
    /// `#[serde(default)]` (for `Option` fields).
    pub default: bool,
    /// `#[serde(default = "...")]` function name.
    pub default_fn: Option<String>,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DefaultFn {
    pub ident: String,
    pub ty: String,
    pub expr: DefaultExpr,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: String,
    pub method: String,
    pub args: String,
    #[serde(serialize_with = "json_text")]
    pub descriptor: Value,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Contents {
    Text { text: String },
    Blob { base64: String },
    Handler { method: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub name: String,
    pub uri: String,
    #[serde(serialize_with = "json_text")]
    pub descriptor: Value,
    pub contents: Contents,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Template {
    pub name: String,
    pub uri_template: String,
    pub method: String,
    pub params: String,
    #[serde(serialize_with = "json_text")]
    pub descriptor: Value,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Prompt {
    pub name: String,
    #[serde(serialize_with = "json_text")]
    pub descriptor: Value,
    /// Static messages (MCP `PromptMessage[]` JSON) or a handler.
    #[serde(serialize_with = "opt_json_text")]
    pub messages: Option<Value>,
    pub method: Option<String>,
    pub args: Option<String>,
    pub doc: Vec<String>,
}

/// Static completion values for one argument of a prompt or template.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    /// MCP reference JSON (`ref/prompt` or `ref/resource`).
    #[serde(serialize_with = "json_text")]
    pub reference: Value,
    pub argument: String,
    pub values: Vec<String>,
}

/// [`json_text`] of an optional value (`None` stays none).
fn opt_json_text<S: Serializer>(value: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => json_text(v, s),
        None => s.serialize_none(),
    }
}

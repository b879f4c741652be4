//! The YAML spec format: plain serde + schemars types.
//!
//! Field names follow MCP's camelCase (`inputSchema`, `mimeType`,
//! `uriTemplate`, `readOnlyHint`…). Every struct rejects unknown keys. The
//! JSON Schema of the format (`specs/mcpgen.schema.json`) is derived from
//! these types by [`json_schema`].
//!
//! Loading ([`load`]) is: YAML text → positioned tree (`crate::yaml`) → these types
//! (`de`, collecting every problem) → semantic checks (`validate`); [`lower`]
//! then turns a loaded spec into IR.

mod de;
pub(crate) mod lower;
pub(crate) mod validate;

pub(crate) use lower::add_operation_scopes;
pub use lower::lower;

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Diagnostic, Diagnostics, Error, Problem};
use crate::yaml::{self, Node, NodeKind, Pos};
use de::{lenient_opt_vec, lenient_vec};

/// A server spec: one YAML document describing an MCP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(
    title = "mcpgen server spec",
    description = "Describes an MCP server from which mcpgen generates a Rust crate.",
    extend("$id" = "https://github.com/mcpgen/mcpgen/blob/main/specs/mcpgen.schema.json")
)]
pub struct Spec {
    /// The JSON Schema this file conforms to (for editors); ignored by mcpgen.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The server's identity, sent to clients in the `initialize` result.
    pub server: ServerInfo,
    /// Tools the server offers (`tools/list`, `tools/call`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub tools: Vec<Tool>,
    /// Concrete resources (`resources/list`, `resources/read`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub resources: Vec<Resource>,
    /// Parameterised resources (`resources/templates/list`), always served by a handler.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub resource_templates: Vec<ResourceTemplate>,
    /// Prompts (`prompts/list`, `prompts/get`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub prompts: Vec<Prompt>,
    /// An OpenAPI description (Swagger 2.0, OpenAPI 3.0, 3.1) whose
    /// operations become tools that call the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi: Option<OpenApiImport>,
    /// Rate limits (off unless given; docs/rate-limits.md). Flags of the
    /// generated binary replace them level by level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimits>,
    /// OAuth 2.1 resource server (docs/auth.md): HTTP requests need a
    /// bearer token from the authorization server (`--auth-issuer` or
    /// `issuer` here); off unless an issuer is given at start-up or here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSpec>,
}

/// The `auth:` section. Flags of the generated binary replace each value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthSpec {
    /// Issuer URL of the authorization server (else `--auth-issuer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// This server's canonical resource URI, the audience of its tokens
    /// (else `--auth-resource`, or `http://BIND/mcp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Scopes every request needs, besides those of the tool it calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
    /// `tools/list` shows only the tools the caller has the scopes for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_tools: bool,
    /// Tools made from the `openapi:` import's operations need the scopes
    /// of the operation's first oauth2/openIdConnect security requirement
    /// with scopes: for an API whose authorization server is this server's
    /// too. Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub operation_scopes: bool,
}

/// An OAuth scope: printable ASCII without spaces, `"` or `\\` (RFC 6749 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Scope(pub String);

impl Scope {
    /// Whether `s` is a scope token (RFC 6749 §3.3).
    pub fn is_valid(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if Scope::is_valid(&s) {
            Ok(Scope(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "{s:?} is not an OAuth scope (printable ASCII, no spaces, quotes or backslashes)"
            )))
        }
    }
}

/// Limits per client, per server and global (HTTP requests), and per tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimits {
    /// HTTP requests of one client: its IP address, or its authenticated
    /// principal once authentication exists. Over it: 429 + `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_client: Option<RateLimit>,
    /// Every HTTP request to this server (all instances sharing the store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<RateLimit>,
    /// Every HTTP request to every server sharing the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<RateLimit>,
    /// Calls of a tool by name, all callers (also for tools made from
    /// OpenAPI operations); a tool's own `rateLimit` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<OrderedMap<RateLimit>>,
}

/// `LIMIT/INTERVAL` such as `100/1m` (units ms, s, m, h, d; `10/s` is ten
/// a second), or the same as `{limit, interval}`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RateLimit {
    /// E.g. `100/1m`.
    Short(String),
    /// E.g. `{limit: 100, interval: 1m}`.
    Detailed(RateLimitDetail),
}

/// A rate limit as a mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitDetail {
    /// Calls allowed per interval (at least 1).
    pub limit: u64,
    /// The interval: a number and a unit (ms, s, m, h, d), e.g. `1m`.
    pub interval: String,
}

impl RateLimit {
    /// The limit as the runtime reads it (`100/1m`), or what is wrong.
    pub fn canonical(&self) -> Result<String, String> {
        let (limit, interval) = match self {
            RateLimit::Short(s) => s
                .split_once('/')
                .map(|(l, i)| (l.trim().parse::<u64>().ok(), i))
                .ok_or_else(|| {
                    format!("`{s}` is not a rate limit (LIMIT/INTERVAL, e.g. 100/1m)")
                })?,
            RateLimit::Detailed(d) => (Some(d.limit), d.interval.as_str()),
        };
        let limit = limit
            .filter(|&n| n > 0 && n <= u64::from(u32::MAX))
            .ok_or("the limit must be a whole number from 1")?;
        let i = interval.trim();
        let digits = i.find(|c: char| !c.is_ascii_digit()).unwrap_or(i.len());
        let (n, unit) = i.split_at(digits);
        let n: u64 = if n.is_empty() {
            1
        } else {
            n.parse().map_err(|_| "the interval is too large")?
        };
        let unit_ms: u64 = match unit.trim() {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => {
                return Err(format!(
                    "`{i}` is not an interval (a number and ms, s, m, h or d, e.g. 1m)"
                ));
            }
        };
        match n.checked_mul(unit_ms) {
            Some(ms) if ms > 0 && ms <= 366 * 86_400_000 => {
                let (n, unit) = [
                    (86_400_000, "d"),
                    (3_600_000, "h"),
                    (60_000, "m"),
                    (1000, "s"),
                ]
                .into_iter()
                .find(|(u, _)| ms.is_multiple_of(*u))
                .map_or((ms, "ms"), |(u, unit)| (ms / u, unit));
                Ok(format!("{limit}/{n}{unit}"))
            }
            _ => Err(format!("`{i}`: an interval is from 1ms to 366d")),
        }
    }
}

impl<'de> Deserialize<'de> for RateLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RateVisitor;
        impl<'de> serde::de::Visitor<'de> for RateVisitor {
            type Value = RateLimit;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a rate limit such as `100/1m`, or a mapping with `limit` and `interval`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RateLimit, E> {
                let r = RateLimit::Short(v.to_owned());
                r.canonical().map_err(E::custom)?;
                Ok(r)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RateLimit, A::Error> {
                let d = RateLimitDetail::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                let r = RateLimit::Detailed(d);
                r.canonical().map_err(serde::de::Error::custom)?;
                Ok(r)
            }
        }
        d.deserialize_any(RateVisitor)
    }
}

/// Import of an OpenAPI description: every operation becomes a tool (or,
/// with `getAsResources`, a resource) that calls the API for real.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OpenApiImport {
    /// The description (JSON or YAML), relative to this spec.
    pub path: String,
    /// Base URL of the API (default: its first server, or host + basePath).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Prefix of the environment variables holding credentials (default:
    /// the server name in SHOUTY_SNAKE_CASE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_prefix: Option<String>,
    /// Keep only operations that match (every list given must match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<OperationFilter>,
    /// Drop operations that match any entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<OperationFilter>,
    /// Changes per operation, keyed by operationId or `METHOD /path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<OrderedMap<OperationOverride>>,
    /// Expose GET operations whose only required inputs are path parameters
    /// as resources and resource templates instead of tools.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub get_as_resources: bool,
    /// Inline non-recursive `$ref`s in tool schemas (for clients that cannot
    /// follow references); recursive ones stay references.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inline_refs: bool,
    /// Follow `$ref`s to other hosts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_remote_refs: bool,
    /// Keep descriptions as written: by default HTML becomes text, a
    /// summary repeated by the description is said once and large example
    /// blobs are left out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub raw_descriptions: bool,
    /// How `tools/list` presents the operations: `auto` (the default:
    /// `all` when they fit a model's budget, else `toolsets` or `compact`),
    /// `all`, `toolsets` or `compact` (docs/surfaces.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_surface: Option<ToolSurface>,
    /// Toolsets of your own, by name, instead of one per tag: an operation
    /// belongs to the first whose filter matches, else to `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolsets: Option<OrderedMap<ToolsetSpec>>,
    /// Headers sent with every request to the API, name → value; an
    /// operator's `--header` of the same name replaces one. Values may
    /// hold `{{ env.NAME }}`, substituted at start-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<OrderedMap<String>>,
    /// TLS of the connection to the API (default: the system's roots, no
    /// client certificate, full verification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<UpstreamTls>,
}

/// How a server presents an API's operations as tools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ToolSurface {
    /// `all` when the tool list fits about 25,000 tokens, else `toolsets`
    /// when every toolset does, else `compact`.
    #[default]
    Auto,
    /// One tool per operation.
    All,
    /// The operations of the toolsets switched on (`--toolsets`, or the
    /// model's `enable_toolset`).
    Toolsets,
    /// Three meta-tools: `search_tools`, `describe_tool`, `call_tool`.
    Compact,
}

impl ToolSurface {
    /// The name as written in specs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolSurface::Auto => "auto",
            ToolSurface::All => "all",
            ToolSurface::Toolsets => "toolsets",
            ToolSurface::Compact => "compact",
        }
    }
}

/// A toolset of your own: the operations its filter matches (every list
/// given must match; globs as in `include`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToolsetSpec {
    /// What the toolset is for, shown by `list_toolsets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags (globs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// operationIds or `METHOD /path` (globs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
    /// Paths (globs), e.g. `/pets/**`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// HTTP methods, e.g. `GET`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
}

/// TLS of the connection to an imported API. Paths are PEM files on the
/// machine the server runs on, relative to its working directory; they may
/// hold `{{ env.NAME }}`. The server's `--upstream-*` flags replace each.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpstreamTls {
    /// CA certificate(s) trusted instead of the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    /// Client certificate (chain) for mutual TLS; may also hold the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<String>,
    /// The client certificate's private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    /// Verify the API's certificate (default true); `false` accepts any
    /// certificate and warns at every start-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<bool>,
    /// Accept a certificate signed by `caCert` for another host name
    /// (warns at every start-up).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accept_invalid_hostnames: bool,
}

/// Operations to keep or drop. Globs: `*` within a path segment, `**`
/// across segments, `?` one character.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OperationFilter {
    /// Tags (globs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// operationIds or `METHOD /path` (globs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
    /// Paths (globs), e.g. `/pets/**`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// HTTP methods, e.g. `GET`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
}

/// Changes to one imported operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OperationOverride {
    /// The tool's name (1–128 characters of `A-Z a-z 0-9 _ - .`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Hints merged over the defaults derived from the HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Leave the operation out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// Calls of this operation's tool, all callers (docs/rate-limits.md);
    /// wins over `rateLimits.tools`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

/// The server's identity (MCP `Implementation`) and instructions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerInfo {
    /// Programmatic name; also the generated package and binary name (kebab-cased).
    pub name: String,
    /// Server version; also the crate version when it is a semantic version.
    pub version: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the server does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Instructions for the model, returned by `initialize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Icons representing the server.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub icons: Vec<Icon>,
    /// The server's website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
    /// Caching hints of MCP 2026-07-28 results (`server/discover`, the lists,
    /// `resources/read`) whose handler sets none, with per-list ones for
    /// `tools/list`, `resources/list`, `resources/templates/list` and
    /// `prompts/list`. Without it: `ttlMs` 0 and `cacheScope` private.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheHints>,
}

/// `ttlMs` and `cacheScope` put on cacheable MCP 2026-07-28 results: the
/// server's defaults, and per list. A list's own values win, then the
/// defaults given here, then the runtime's (`0`, `private`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CacheHints {
    /// How long (milliseconds) a client may use a result before fetching it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// `public`: no user-specific data, any cache may share it; `private`:
    /// reuse only within the same authorization context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<CacheScope>,
    /// `tools/list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<ListCacheHints>,
    /// `resources/list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ListCacheHints>,
    /// `resources/templates/list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates: Option<ListCacheHints>,
    /// `prompts/list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts: Option<ListCacheHints>,
}

/// The caching hints of one list result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListCacheHints {
    /// Milliseconds; default the server's `ttlMs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Default the server's `scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<CacheScope>,
}

impl CacheHints {
    /// Each list given, with the MCP method it applies to.
    pub fn lists(&self) -> [(&'static str, Option<&ListCacheHints>); 4] {
        [
            ("tools/list", self.tools.as_ref()),
            ("resources/list", self.resources.as_ref()),
            ("resources/templates/list", self.templates.as_ref()),
            ("prompts/list", self.prompts.as_ref()),
        ]
    }
}

/// Who may share a cached result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// Any client or intermediary, across authorization contexts.
    Public,
    /// Only within the same authorization context.
    Private,
}

impl CacheScope {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheScope::Public => "public",
            CacheScope::Private => "private",
        }
    }
}

/// An icon (MCP `Icon`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Icon {
    /// URI of the icon: `https:` or a `data:` URI.
    pub src: String,
    /// MIME type of the icon, e.g. `image/png`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes the icon is available in, e.g. `48x48` or `any`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<String>,
    /// Background the icon is designed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<IconTheme>,
}

/// The theme an icon suits.
// Variants have no doc comments on purpose: schemars would turn them into
// a `oneOf` in specs/mcpgen.schema.json; the serde names say it all.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IconTheme {
    Light,
    Dark,
}

/// A tool (MCP `Tool`). Give its arguments either as `params` (short-hand)
/// or as a full `inputSchema`; with neither, the tool takes no arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tool {
    /// 1–128 characters of `A-Z a-z 0-9 _ - .`.
    pub name: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Short-hand arguments: name → type (`string`, `integer`, `number`,
    /// `boolean`, or an array of those such as `string[]`) or → details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<OrderedMap<Param>>,
    /// Full JSON Schema (2020-12) of the arguments; its root must be `type: object`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// JSON Schema (2020-12) of the structured result; its root must be `type: object`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Hints about the tool's behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Icons representing the tool.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub icons: Vec<Icon>,
    /// Calls of this tool allowed per interval, all callers (`5/1m`); over
    /// it the call gets a tool error naming the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// OAuth scopes a caller needs for this tool over HTTP (docs/auth.md),
    /// besides `auth.scopes`; without them `tools/call` gets 403
    /// `insufficient_scope`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
    /// Run calls as tasks (MCP 2026-07-28 tasks extension) that clients
    /// poll and cancel: `optional` (a task when the client supports them)
    /// or `required` (clients that do not are refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskSupport>,
    /// `true` is short for `task: optional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_running: Option<bool>,
    /// For a task tool: calls from clients with the tasks extension start
    /// inline, gathering input with multi round-trip requests, and become a
    /// task when the handler calls `ctx.continue_as_task()?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_before_task: Option<bool>,
}

impl Tool {
    /// How calls run as tasks (`task`, or `longRunning: true`); None:
    /// never.
    pub fn task_support(&self) -> Option<TaskSupport> {
        match (self.task, self.long_running) {
            (Some(t), _) => Some(t),
            (None, Some(true)) => Some(TaskSupport::Optional),
            (None, _) => None,
        }
        .filter(|t| *t != TaskSupport::Forbidden)
    }
}

/// How a tool runs as a task (MCP `execution.taskSupport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Never (the default).
    Forbidden,
    /// When the client declares the tasks extension; else an ordinary call.
    Optional,
    /// Always; a client without the tasks extension gets error -32021.
    Required,
}

impl TaskSupport {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSupport::Forbidden => "forbidden",
            TaskSupport::Optional => "optional",
            TaskSupport::Required => "required",
        }
    }
}

/// Behaviour hints (MCP `ToolAnnotations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// Human-readable name (prefer the tool's `title`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may perform destructive updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling the tool again with the same arguments has no further effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool interacts with an open world of external entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// A short-hand parameter: a type name, or details.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Param {
    /// Just the type, e.g. `string` or `integer[]`; the parameter is required.
    Type(ParamType),
    /// Type plus details.
    Detailed(ParamDetail),
}

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ParamVisitor;
        impl<'de> serde::de::Visitor<'de> for ParamVisitor {
            type Value = Param;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a type name such as `string` or `integer[]`, or a mapping with `type`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Param, E> {
                ParamType::deserialize(serde::de::value::StrDeserializer::<E>::new(v))
                    .map(Param::Type)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Param, A::Error> {
                ParamDetail::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Param::Detailed)
            }
        }
        d.deserialize_any(ParamVisitor)
    }
}

/// Types available to short-hand parameters.
// Variants have no doc comments on purpose: schemars would turn them into
// a `oneOf` in specs/mcpgen.schema.json; the serde names say it all.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ParamType {
    #[serde(rename = "string")]
    String,
    #[serde(rename = "integer")]
    Integer,
    #[serde(rename = "number")]
    Number,
    #[serde(rename = "boolean")]
    Boolean,
    #[serde(rename = "string[]")]
    StringArray,
    #[serde(rename = "integer[]")]
    IntegerArray,
    #[serde(rename = "number[]")]
    NumberArray,
    #[serde(rename = "boolean[]")]
    BooleanArray,
}

impl ParamType {
    /// The JSON Schema `type` of the parameter and, for arrays, of its items.
    pub fn json_types(self) -> (&'static str, Option<&'static str>) {
        match self {
            ParamType::String => ("string", None),
            ParamType::Integer => ("integer", None),
            ParamType::Number => ("number", None),
            ParamType::Boolean => ("boolean", None),
            ParamType::StringArray => ("array", Some("string")),
            ParamType::IntegerArray => ("array", Some("integer")),
            ParamType::NumberArray => ("array", Some("number")),
            ParamType::BooleanArray => ("array", Some("boolean")),
        }
    }
}

/// A short-hand parameter with details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ParamDetail {
    /// The parameter's type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// What the parameter means, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the parameter must be given (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Value used when the parameter is omitted (implies `required: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Mirror the argument into the HTTP header `Mcp-Param-{name}` (MCP
    /// 2026-07-28, SEP-2243): an HTTP token, unique in the tool
    /// (case-insensitively), on a `string`, `integer` or `boolean`
    /// parameter. Clients send the header beside the body; the server
    /// refuses a call whose header and argument differ.
    #[serde(
        rename = "x-mcp-header",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub x_mcp_header: Option<String>,
    /// The allowed values.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<Value>>,
}

/// A concrete resource (MCP `Resource`) with exactly one of `text`, `blob`,
/// `file` or `handler: true` saying where its contents come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resource {
    /// The resource's URI.
    pub uri: String,
    /// Programmatic name; handler methods are named `read_<name>`.
    pub name: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the resource holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type of the contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Audience, priority and modification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Icons representing the resource.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub icons: Vec<Icon>,
    /// Inline text contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Inline binary contents, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// A file (relative to the spec) bundled at generation time: text if the
    /// MIME type is textual and the file is UTF-8, binary otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Read by a `Handlers` method at run time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handler: bool,
}

/// MCP `Annotations` of resources and content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Annotations {
    /// Who the data is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<Role>>,
    /// Importance from 0 (least) to 1 (most).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    /// ISO 8601 time of the last modification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// A conversation role.
// Variants have no doc comments on purpose: schemars would turn them into
// a `oneOf` in specs/mcpgen.schema.json; the serde names say it all.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    /// The MCP role name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// A resource template (MCP `ResourceTemplate`), read by a handler that
/// receives the template's variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceTemplate {
    /// An RFC 6570 URI template, e.g. `notes://notes/{id}`.
    pub uri_template: String,
    /// Programmatic name; the handler method is `read_<name>`.
    pub name: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the resources hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type of every matching resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Audience, priority and modification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Icons representing the template.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub icons: Vec<Icon>,
    /// Completion values offered for template variables: variable → values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<OrderedMap<Vec<String>>>,
}

/// A prompt (MCP `Prompt`): fixed `messages` with `{{argument}}`
/// placeholders, or `handler: true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Prompt {
    /// Programmatic name; a handler method is `prompt_<name>`.
    pub name: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the prompt is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icons representing the prompt.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub icons: Vec<Icon>,
    /// Arguments the prompt accepts.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub arguments: Vec<PromptArgument>,
    /// The messages, with `{{argument}}` placeholders in text.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt_vec"
    )]
    pub messages: Option<Vec<PromptMessage>>,
    /// Produced by a `Handlers` method at run time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handler: bool,
}

/// An argument of a prompt (MCP `PromptArgument`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PromptArgument {
    /// The argument's name, as used in `{{name}}` placeholders.
    pub name: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the argument means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the argument must be given (default `false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Completion values offered for the argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<Vec<String>>,
}

/// One message of a prompt: a role and exactly one of `text`, `image`,
/// `audio` or `resource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PromptMessage {
    /// Who says it.
    pub role: Role,
    /// Text, with `{{argument}}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Media>,
    /// An audio clip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Media>,
    /// An embedded resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<EmbeddedResource>,
}

/// Image or audio data: inline base64 `data` or a bundled `file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Media {
    /// Base64-encoded data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// A file (relative to the spec) bundled at generation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// MIME type, e.g. `image/png`.
    pub mime_type: String,
}

/// A resource embedded in a prompt message, with exactly one of `text`,
/// `blob` or `file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmbeddedResource {
    /// The resource's URI.
    pub uri: String,
    /// MIME type of the contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Text contents (placeholders are substituted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Binary contents, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// A file (relative to the spec) bundled at generation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A string-keyed map that keeps the document's order (generated code and
/// descriptors follow it, so output is deterministic and reads like the spec).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> OrderedMap<V> {
    /// The entries in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    // A bad value is recorded and skipped while collecting.
                    if let Some(value) = map.next_value::<de::Lenient<V>>()?.0 {
                        entries.push((key, value));
                    }
                }
                Ok(OrderedMap(entries))
            }
        }
        d.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for OrderedMap<V> {
    fn schema_name() -> Cow<'static, str> {
        std::collections::BTreeMap::<String, V>::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        std::collections::BTreeMap::<String, V>::schema_id()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        std::collections::BTreeMap::<String, V>::json_schema(generator)
    }
}

/// The JSON Schema (2020-12) of the spec format, pretty-printed with a
/// trailing newline: the contents of `specs/mcpgen.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Spec);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// A spec that parsed and validated, with what is needed to point back into
/// its text and to find bundled files.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The spec.
    pub spec: Spec,
    /// Path of the spec file as given (used in messages).
    pub path: PathBuf,
    /// Directory bundled files are relative to.
    pub base_dir: PathBuf,
    /// Bundled files, read during validation: spec-relative path → bytes.
    pub files: std::collections::BTreeMap<String, Vec<u8>>,
}

/// Read, parse and validate the spec at `path`.
pub fn load(path: &Path) -> Result<LoadedSpec, Error> {
    let text = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = match String::from_utf8(text) {
        Ok(t) => t,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let column = valid
                .rsplit(|b| *b == b'\n')
                .next()
                .map_or(0, |l| String::from_utf8_lossy(l).chars().count())
                + 1;
            return Err(Error::Invalid(Diagnostics(vec![Diagnostic {
                file: path.to_path_buf(),
                pos: Pos { line, column },
                problem: Problem::NotUtf8,
            }])));
        }
    };
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_str(&text, path, &base_dir)
}

/// Parse and validate spec `text`; `path` is only used in messages and
/// `base_dir` to resolve bundled files.
pub fn load_str(text: &str, path: &Path, base_dir: &Path) -> Result<LoadedSpec, Error> {
    let diag = |pos: Pos, problem: Problem| Diagnostic {
        file: path.to_path_buf(),
        pos,
        problem,
    };
    let fail = |mut list: Vec<Diagnostic>| {
        list.sort_by_key(|d| d.pos);
        Error::Invalid(Diagnostics(list))
    };
    let root = match yaml::parse_yaml(text) {
        Ok(Some(root)) => root,
        Ok(None) => return Err(fail(vec![diag(Pos { line: 1, column: 1 }, Problem::Empty)])),
        Err(problems) => {
            return Err(fail(
                problems
                    .into_iter()
                    .map(|p| diag(p.pos, p.problem.into()))
                    .collect(),
            ));
        }
    };
    if !matches!(root.kind, NodeKind::Map(_)) {
        let found = root.type_name();
        return Err(fail(vec![diag(root.pos, Problem::NotAMapping { found })]));
    }
    let sink = de::Sink::default();
    let spec = de::from_node::<Spec>(&root, &sink);
    let mut diagnostics: Vec<Diagnostic> = sink
        .into_problems()
        .into_iter()
        .map(|(pos, problem)| diag(pos, problem))
        .collect();
    let Some(spec) = spec else {
        // The structure is wrong somewhere; still run the semantic checks on
        // whatever parts did parse, so that one run reports everything.
        let report = validate::validate_sections(&partial_sections(&root), &root, base_dir);
        diagnostics.extend(
            report
                .problems
                .into_iter()
                .map(|(ptr, p)| diag(root.locate(&ptr), p)),
        );
        return Err(fail(dedup(diagnostics)));
    };
    let report = validate::validate(&spec, &root, base_dir);
    diagnostics.extend(
        report
            .problems
            .into_iter()
            .map(|(ptr, p)| diag(root.locate(&ptr), p)),
    );
    if !diagnostics.is_empty() {
        return Err(fail(dedup(diagnostics)));
    }
    Ok(LoadedSpec {
        spec,
        path: path.to_path_buf(),
        base_dir: base_dir.to_path_buf(),
        files: report.files,
    })
}

fn dedup(mut list: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = std::collections::BTreeSet::new();
    list.retain(|d| seen.insert((d.pos, d.problem.to_string())));
    list
}

/// When `Spec` as a whole did not deserialize, the parts that did (each
/// list element on its own, keeping its index), so that their semantic
/// problems are reported in the same run.
fn partial_sections(root: &Node) -> validate::Sections {
    fn one<T: for<'de> Deserialize<'de>>(node: &Node) -> Option<T> {
        de::from_node::<T>(node, &de::Sink::default())
    }
    fn list<T: for<'de> Deserialize<'de>>(root: &Node, key: &str) -> Vec<(usize, T)> {
        match root.get(key).map(|(_, v)| &v.kind) {
            Some(NodeKind::Seq(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| one::<T>(item).map(|t| (i, t)))
                .collect(),
            _ => Vec::new(),
        }
    }
    validate::Sections {
        server: root.get("server").and_then(|(_, n)| one::<ServerInfo>(n)),
        tools: list(root, "tools"),
        resources: list(root, "resources"),
        resource_templates: list(root, "resourceTemplates"),
        prompts: list(root, "prompts"),
        openapi: root
            .get("openapi")
            .and_then(|(_, n)| one::<OpenApiImport>(n)),
    }
}

//! OAuth 2.1 resource server (docs/auth.md): the HTTP transport asks for a
//! bearer access token issued by one authorization server (AS) for this
//! server's canonical resource URI (RFC 8707), checks it — a JWT against
//! the AS's JWKS, an opaque token by RFC 7662 introspection — and the
//! scopes each tool needs. Off unless an issuer is configured; stdio is
//! never affected (MCP: stdio servers take credentials from the
//! environment).
//!
//! The transport's side (Protected Resource Metadata, the 401/403 answers)
//! is `transport::http::auth`; this module decides.

mod args;
#[cfg(feature = "upstream")]
mod exchange;
mod introspect;
mod jwt;
mod keys;
#[cfg(test)]
mod tests;
mod ttl;

use crate::builder::ServerBuilder;
use crate::error::BuildError;
use crate::extension::Extension;
use crate::server::Server;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub(crate) use args::AuthArgs;

/// The caller a validated access token speaks for. HTTP handlers find it
/// with `ctx.extensions().get::<AuthInfo>()`; the token itself is never
/// shown by `Debug`.
#[derive(Clone)]
pub struct AuthInfo {
    /// `sub`, else `client_id` (a client-credentials token has no user).
    pub subject: String,
    /// `client_id` (or `azp`), when the token names its client.
    pub client_id: Option<String>,
    /// The scopes granted (`scope`, space-separated, or `scp`).
    pub scopes: BTreeSet<String>,
    /// Every claim of the token (or the introspection response).
    pub claims: Value,
    /// `exp`, seconds since the epoch.
    pub expires_at: Option<u64>,
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(crate) token: Arc<str>,
}

impl AuthInfo {
    /// Whether every scope in `needed` was granted.
    pub fn has_scopes<'a>(&self, needed: impl IntoIterator<Item = &'a String>) -> bool {
        needed.into_iter().all(|s| self.scopes.contains(s))
    }
}

impl fmt::Debug for AuthInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthInfo")
            .field("subject", &self.subject)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a request was not let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denial {
    /// No bearer token: 401 with no `error` (RFC 6750 §3.1).
    Missing,
    /// A bad token: 401 `invalid_token`. The reason is for the log and the
    /// `error_description`; it never holds the token.
    Invalid(String),
    /// The AS (metadata, keys, introspection) could not answer: 503.
    Unavailable(String),
}

/// Start-up settings (flags, environment); each `Some` replaces the
/// spec's `auth:` value.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuthSettings {
    /// The authorization server's issuer URL; auth is on when there is one.
    pub issuer: Option<String>,
    /// This server's canonical resource URI (the tokens' audience).
    pub resource: Option<String>,
    /// Scopes every request needs, besides those of the tool it calls.
    pub scopes: Option<Vec<String>>,
    /// `tools/list` shows only the tools the caller has the scopes for.
    pub hide_tools: Option<bool>,
    /// Client id and secret for the introspection endpoint (opaque tokens).
    pub introspection_client: Option<(String, String)>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Option<Duration>,
    /// Least time between two JWKS fetches for an unknown `kid`.
    pub jwks_refresh: Option<Duration>,
}

/// What the spec declares (`AUTH` of a generated crate, see
/// [`ServerBuilder::auth`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Declared {
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    hide_tools: bool,
    #[serde(default)]
    tool_scopes: BTreeMap<String, Vec<String>>,
}

/// The settings in force once auth is on.
#[derive(Debug, Clone)]
pub(crate) struct Active {
    pub(crate) issuer: String,
    pub(crate) resource: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) hide_tools: bool,
    pub(crate) leeway: Duration,
    introspection_client: Option<(String, String)>,
    jwks_refresh: Duration,
}

/// The server's auth state: the tools' scopes, and the verifier once
/// configured.
pub(crate) struct Authorizer {
    declared: Declared,
    verifier: RwLock<Option<Arc<Verifier>>>,
}

/// Checks tokens for one configuration: the AS's metadata and keys,
/// fetched on first need and kept.
pub(crate) struct Verifier {
    pub(crate) settings: Active,
    keys: keys::KeySource,
    introspection: introspect::Cache,
    verified: introspect::Cache,
    #[cfg(feature = "upstream")]
    exchanged: exchange::Cache,
}

impl Authorizer {
    fn new(declared: Declared) -> Self {
        let auth = Authorizer {
            declared,
            verifier: RwLock::new(None),
        };
        auth.configure(AuthSettings::default());
        auth
    }

    /// Apply start-up settings over the declared ones; auth stays off
    /// without an issuer.
    pub(crate) fn configure(&self, s: AuthSettings) {
        let d = &self.declared;
        let verifier = s.issuer.or_else(|| d.issuer.clone()).map(|issuer| {
            let resource = s
                .resource
                .or_else(|| d.resource.clone())
                .unwrap_or_else(|| "http://127.0.0.1:8000/mcp".to_owned());
            let settings = Active {
                issuer,
                resource,
                scopes: s.scopes.unwrap_or_else(|| d.scopes.clone()),
                hide_tools: s.hide_tools.unwrap_or(d.hide_tools),
                leeway: s.leeway.unwrap_or(Duration::from_secs(30)),
                introspection_client: s.introspection_client,
                jwks_refresh: s.jwks_refresh.unwrap_or(Duration::from_secs(30)),
            };
            Arc::new(Verifier::new(settings))
        });
        *self.verifier.write().unwrap_or_else(|e| e.into_inner()) = verifier;
    }

    /// Whether the spec names the resource URI.
    pub(crate) fn declares_resource(&self) -> bool {
        self.declared.resource.is_some()
    }

    /// The verifier, when auth is on.
    pub(crate) fn verifier(&self) -> Option<Arc<Verifier>> {
        self.verifier
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The scopes `tool` needs besides the server-wide ones.
    pub(crate) fn tool_scopes(&self, tool: &str) -> &[String] {
        self.declared
            .tool_scopes
            .get(tool)
            .map_or(&[], Vec::as_slice)
    }

    /// Every scope the server knows of, for `scopes_supported`.
    pub(crate) fn all_scopes(&self, active: &Active) -> BTreeSet<String> {
        let tools = self.declared.tool_scopes.values().flatten();
        active.scopes.iter().chain(tools).cloned().collect()
    }

    /// The scopes a call of `tool` needs (server-wide ones first) when the
    /// caller lacks one of them.
    pub(crate) fn missing_for(
        &self,
        active: &Active,
        info: &AuthInfo,
        tool: Option<&str>,
    ) -> Option<Vec<String>> {
        let tool = tool.map_or(&[][..], |t| self.tool_scopes(t));
        let mut needed: Vec<String> = active.scopes.clone();
        needed.extend(tool.iter().filter(|s| !active.scopes.contains(s)).cloned());
        (!info.has_scopes(&needed)).then_some(needed)
    }
}

impl Verifier {
    fn new(settings: Active) -> Self {
        let keys = keys::KeySource::new(&settings.issuer, settings.jwks_refresh);
        Verifier {
            settings,
            keys,
            introspection: introspect::Cache::default(),
            verified: introspect::Cache::default(),
            #[cfg(feature = "upstream")]
            exchanged: exchange::Cache::default(),
        }
    }

    /// Check an `Authorization` header value.
    pub(crate) async fn authenticate(&self, header: Option<&str>) -> Result<AuthInfo, Denial> {
        let token = bearer(header)?;
        if jwt::looks_like_jwt(token) {
            // A JWT verified once stays valid until its `exp` (nothing
            // revokes it), so the signature check is not repeated for a
            // minute: the same text is the same signed claims.
            if let Some(info) = self.verified.cached(token) {
                return Ok(info);
            }
            let info = jwt::validate(token, &self.keys, &self.settings).await?;
            self.verified.keep(token, &info);
            Ok(info)
        } else {
            let client = self.settings.introspection_client.as_ref();
            let Some(client) = client else {
                return Err(Denial::Invalid(
                    "not a JWT, and no introspection client is configured".into(),
                ));
            };
            let s = &self.settings;
            self.introspection.check(token, &self.keys, client, s).await
        }
    }
}

/// The token of a `Bearer` authorization (the scheme is case-insensitive).
fn bearer(header: Option<&str>) -> Result<&str, Denial> {
    let Some(h) = header else {
        return Err(Denial::Missing);
    };
    let (scheme, token) = h.split_once(' ').unwrap_or((h, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Denial::Invalid("not a Bearer authorization".into()));
    }
    let token = token.trim();
    if token.is_empty() || token.contains(' ') {
        return Err(Denial::Invalid("malformed Bearer token".into()));
    }
    Ok(token)
}

/// Scopes from `scope` (RFC 8693/9068: space-separated) or `scp`.
pub(crate) fn scopes_of(claims: &Value) -> BTreeSet<String> {
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) | (None, Some(Value::String(s))) => words(s),
        (_, Some(Value::Array(a))) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The caller of a token's claims (`sub`, else the client).
pub(crate) fn info_from_claims(claims: Value, token: &str) -> AuthInfo {
    let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
    let client_id = text("client_id").or_else(|| text("azp"));
    let subject = text("sub")
        .or_else(|| client_id.clone())
        .unwrap_or_default();
    AuthInfo {
        subject,
        client_id,
        scopes: scopes_of(&claims),
        expires_at: claims.get("exp").and_then(Value::as_u64),
        claims,
        token: Arc::from(token),
    }
}

#[derive(Default)]
pub(crate) struct AuthBuilder {
    declared: Declared,
}

impl Extension for AuthBuilder {
    fn finish(
        self: Box<Self>,
        _info: &Value,
    ) -> Result<Arc<dyn std::any::Any + Send + Sync>, Vec<BuildError>> {
        Ok(Arc::new(Authorizer::new(self.declared)))
    }
}

impl ServerBuilder {
    /// The spec's `auth:` section and the tools' scopes, as JSON:
    /// `{"issuer"?, "resource"?, "scopes": [..], "hideTools": bool,
    /// "toolScopes": {"tool": ["scope", ..]}}`. Auth is on once there is an
    /// issuer (here, or `--auth-issuer` at start-up).
    pub fn auth(mut self, json: &str) -> Self {
        match serde_json::from_str::<Declared>(json) {
            Ok(d) => {
                self.extension::<AuthBuilder>().declared = d;
                self
            }
            Err(e) => self.with_error(BuildError::Invalid {
                what: "auth settings".to_owned(),
                message: e.to_string(),
            }),
        }
    }

    /// Make sure the built server can be configured for auth at start-up.
    pub(crate) fn with_authorizer(&mut self) {
        self.extension::<AuthBuilder>();
    }
}

impl Server {
    /// Apply start-up auth settings (flags, environment) over the spec's.
    pub fn configure_auth(&self, settings: AuthSettings) {
        if let Some(a) = self.extension::<Authorizer>() {
            a.configure(settings);
        }
    }

    pub(crate) fn authorizer(&self) -> Option<&Authorizer> {
        self.extension::<Authorizer>()
    }
}

/// `tools/list` for a caller, when auth hides what it may not call: the
/// cached page, parsed, without those tools. Such a page is made for each
/// request and never cached (docs/auth.md); on the 2026-07-28 path its
/// `cacheScope` is `private`.
pub(crate) fn filter_tools(
    ctx: &crate::RequestContext,
    page: crate::jsonrpc::Payload,
) -> crate::jsonrpc::Payload {
    let server = ctx.server();
    let (Some(auth), Some(info)) = (server.authorizer(), ctx.extensions().get::<AuthInfo>()) else {
        return page;
    };
    let Some(v) = auth.verifier().filter(|v| v.settings.hide_tools) else {
        return page;
    };
    let mut value = page.into_value();
    if let Some(Value::Array(tools)) = value.get_mut("tools") {
        tools.retain(|t| {
            let name = t.get("name").and_then(Value::as_str);
            auth.missing_for(&v.settings, info, name).is_none()
        });
    }
    // MCP 2026-07-28 caching hints: this list is the caller's own, so a
    // shared cache must never serve it to someone else, whatever scope the
    // server gives its other lists (`modern::finish` keeps this value).
    if ctx.stateless
        && let Some(map) = value.as_object_mut()
    {
        map.insert("cacheScope".into(), Value::String("private".into()));
    }
    crate::jsonrpc::Payload::Value(value)
}

/// The scope check of a tool call inside the server, after the HTTP one:
/// it also covers the tool the compact surface's `call_tool` runs. `Err`
/// is the tool-error text. Calls without an `AuthInfo` (stdio, auth off)
/// pass.
pub(crate) fn check_tool_scopes(ctx: &crate::RequestContext, tool: &str) -> Result<(), String> {
    let server = ctx.server();
    let (Some(auth), Some(info)) = (server.authorizer(), ctx.extensions().get::<AuthInfo>()) else {
        return Ok(());
    };
    let Some(v) = auth.verifier() else {
        return Ok(());
    };
    match auth.missing_for(&v.settings, info, Some(tool)) {
        Some(needed) => Err(format!(
            "insufficient scope: {tool} needs {}",
            needed.join(" ")
        )),
        None => Ok(()),
    }
}

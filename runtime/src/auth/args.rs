//! The auth flags of generated binaries (`crate::cli`); each replaces the
//! spec's `auth:` value. The introspection client's credentials come from
//! the environment only, so they are not in `ps` output.

use super::AuthSettings;
use crate::server::Server;
use clap::ArgAction;
use clap::builder::BoolishValueParser;
use std::time::Duration;

/// OAuth 2.1 resource server (docs/auth.md), HTTP transport only.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct AuthArgs {
    /// Issuer URL of the OAuth authorization server; switches auth on.
    #[arg(long, value_name = "URL", env = "MCP_AUTH_ISSUER")]
    pub(crate) auth_issuer: Option<String>,
    /// This server's canonical resource URI, the audience its tokens must
    /// name (default: http://BIND/mcp).
    #[arg(long, value_name = "URL", env = "MCP_AUTH_RESOURCE")]
    pub(crate) auth_resource: Option<String>,
    /// Scopes every request needs, comma-separated.
    #[arg(
        long,
        value_name = "A,B",
        env = "MCP_AUTH_SCOPES",
        value_delimiter = ','
    )]
    pub(crate) auth_scopes: Option<Vec<String>>,
    /// tools/list shows only the tools the caller has the scopes for.
    #[arg(long, env = "MCP_AUTH_HIDE_TOOLS", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub(crate) auth_hide_tools: bool,
    /// Least seconds between two JWKS fetches for an unknown key id.
    #[arg(long, value_name = "SECS", env = "MCP_AUTH_JWKS_REFRESH")]
    pub(crate) auth_jwks_refresh: Option<u64>,
}

impl AuthArgs {
    /// The settings these flags (and MCP_AUTH_CLIENT_ID /
    /// MCP_AUTH_CLIENT_SECRET) give; `default_resource` is the endpoint's URL.
    pub(crate) fn settings(&self, default_resource: String) -> AuthSettings {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let introspection_client = env("MCP_AUTH_CLIENT_ID").zip(env("MCP_AUTH_CLIENT_SECRET"));
        AuthSettings {
            issuer: self.auth_issuer.clone(),
            resource: self.auth_resource.clone().or(Some(default_resource)),
            scopes: self.auth_scopes.clone(),
            hide_tools: self.auth_hide_tools.then_some(true),
            introspection_client,
            leeway: None,
            jwks_refresh: self.auth_jwks_refresh.map(Duration::from_secs),
        }
    }

    /// Apply the flags to `server`.
    pub(crate) fn apply(&self, server: &Server, default_resource: String) {
        let mut s = self.settings(default_resource);
        if self.auth_resource.is_none()
            && server.authorizer().is_some_and(|a| a.declares_resource())
        {
            s.resource = None; // the spec's resource wins over the default
        }
        server.configure_auth(s);
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::Args;
    use clap::Parser;

    #[test]
    fn auth_flags_parse() {
        let a = Args::try_parse_from([
            "bin",
            "--auth-issuer",
            "http://127.0.0.1:9",
            "--auth-resource",
            "http://127.0.0.1:8000/mcp",
            "--auth-scopes",
            "mcp,read",
            "--auth-hide-tools",
        ])
        .unwrap();
        let s = a.auth.settings("http://x/mcp".into());
        assert_eq!(s.issuer.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(s.resource.as_deref(), Some("http://127.0.0.1:8000/mcp"));
        assert_eq!(s.scopes, Some(vec!["mcp".to_owned(), "read".to_owned()]));
        assert_eq!(s.hide_tools, Some(true));
        let d = Args::try_parse_from(["bin"]).unwrap().auth;
        assert!(d.auth_issuer.is_none(), "auth is off by default");
        assert_eq!(
            d.settings("http://x/mcp".into()).resource.as_deref(),
            Some("http://x/mcp")
        );
    }
}

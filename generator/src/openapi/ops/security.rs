//! Security: schemes for the upstream descriptor, their environment
//! variable names, and operations' requirements.

use std::collections::HashSet;

use mcpgen_contract::{KeyLocation, NamedMap, Scheme};
use serde_json::Value;

use super::{ApiLowering, Version, is_token, s};
use crate::ir::EnvVar;
use crate::openapi::doc::Loc;
use crate::openapi::names;

/// The schemes of the upstream descriptor, with what the README says of them.
pub(super) struct SecuritySchemes {
    pub(super) schemes: NamedMap<Scheme>,
    /// The environment variables the schemes read.
    pub(super) env: Vec<EnvVar>,
    /// Schemes skipped, for the README.
    pub(super) notes: Vec<String>,
}

/// Environment variable names for the schemes: `<PREFIX>_<SCHEME>_<SUFFIX>`,
/// numbered on a clash.
struct EnvNames {
    prefix: String,
    used: HashSet<String>,
}

impl EnvNames {
    fn var(&mut self, suffix: &str, scheme: &str) -> String {
        let base = shouty_scheme(&self.prefix, scheme, suffix);
        let mut name = base.clone();
        let mut n = 2;
        while !self.used.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        name
    }
}

/// What one Security Scheme Object became.
enum Converted {
    Scheme(Scheme, Vec<EnvVar>),
    /// Skipped with a warning; the note (if any) goes into the README.
    Skipped(Option<String>),
}

impl ApiLowering<'_> {
    /// `securitySchemes` (3.x) / `securityDefinitions` (2.0) → the upstream
    /// descriptor's schemes with environment variable names.
    pub(super) fn security_schemes(&mut self) -> SecuritySchemes {
        let container = if self.version == Version::Swagger2 {
            self.root.at("securityDefinitions")
        } else {
            self.root.at("components").at("securitySchemes")
        };
        let mut out = SecuritySchemes {
            schemes: NamedMap::new(),
            env: Vec::new(),
            notes: Vec::new(),
        };
        let Some(Value::Object(map)) = self.docs.get(&container).cloned() else {
            return out;
        };
        let mut names = EnvNames {
            prefix: self.prefix.clone(),
            used: HashSet::new(),
        };
        for (name, _) in &map {
            let loc = container.at(name);
            let Some((_, scheme)) = self.deref(&loc) else {
                continue;
            };
            match self.scheme(name, &loc, &scheme, &mut names) {
                Converted::Scheme(scheme, env) => {
                    out.env.extend(env);
                    out.schemes.insert(name.clone(), scheme);
                }
                Converted::Skipped(note) => out.notes.extend(note),
            }
        }
        out
    }

    fn scheme(&mut self, name: &str, loc: &Loc, scheme: &Value, names: &mut EnvNames) -> Converted {
        let ty = s(scheme, "type").unwrap_or("");
        match ty {
            "apiKey" => self.api_key(name, loc, scheme, names),
            "http" | "basic" => {
                let scheme_name = if ty == "basic" {
                    "basic".to_string()
                } else {
                    s(scheme, "scheme").unwrap_or("").to_ascii_lowercase()
                };
                self.http(name, loc, &scheme_name, names)
            }
            "oauth2" => self.oauth2(name, loc, scheme, names),
            "openIdConnect" | "mutualTLS" => {
                self.f.warn(loc, format!("security scheme type {ty:?} is not supported; skipped (operations that require it are called without it)"));
                Converted::Skipped(Some(format!(
                    "Security scheme `{name}` ({ty}) is not supported and was skipped; operations that need only it are called without credentials."
                )))
            }
            other => {
                self.f.warn(
                    loc,
                    format!("unknown security scheme type {other:?}; skipped"),
                );
                Converted::Skipped(None)
            }
        }
    }

    fn api_key(
        &mut self,
        name: &str,
        loc: &Loc,
        scheme: &Value,
        names: &mut EnvNames,
    ) -> Converted {
        let location = s(scheme, "in").unwrap_or("header");
        let Some(key) = s(scheme, "name") else {
            self.f.warn(loc, "apiKey scheme without `name`; skipped");
            return Converted::Skipped(None);
        };
        let key_location = match location {
            "header" => KeyLocation::Header,
            "query" => KeyLocation::Query,
            "cookie" => KeyLocation::Cookie,
            _ => {
                self.f.warn(
                    loc,
                    format!("apiKey in {location:?} is not supported; skipped"),
                );
                return Converted::Skipped(None);
            }
        };
        if key_location == KeyLocation::Header && !is_token(key) {
            self.f.warn(
                loc,
                format!("apiKey header name {key:?} is not an HTTP token; skipped"),
            );
            return Converted::Skipped(None);
        }
        let e = names.var("", name);
        let env = vec![EnvVar {
            name: e.clone(),
            what: format!("API key `{name}` (sent as {location} `{key}`)"),
        }];
        let scheme = Scheme::ApiKey {
            location: key_location,
            name: key.to_string(),
            env: e,
        };
        Converted::Scheme(scheme, env)
    }

    fn http(
        &mut self,
        name: &str,
        loc: &Loc,
        scheme_name: &str,
        names: &mut EnvNames,
    ) -> Converted {
        match scheme_name {
            "bearer" => {
                let e = names.var("TOKEN", name);
                let env = vec![EnvVar {
                    name: e.clone(),
                    what: format!("bearer token for `{name}`"),
                }];
                Converted::Scheme(bearer(e), env)
            }
            "basic" => {
                let u = names.var("USERNAME", name);
                let p = names.var("PASSWORD", name);
                let env = vec![
                    EnvVar {
                        name: u.clone(),
                        what: format!("user name for `{name}` (HTTP basic)"),
                    },
                    EnvVar {
                        name: p.clone(),
                        what: format!("password for `{name}` (HTTP basic)"),
                    },
                ];
                let scheme = Scheme::Http {
                    scheme: "basic".into(),
                    env: None,
                    env_user: Some(u),
                    env_password: Some(p),
                };
                Converted::Scheme(scheme, env)
            }
            other => {
                self.f.warn(loc, format!("HTTP authentication scheme {other:?} is not supported (bearer, basic); skipped"));
                Converted::Skipped(Some(format!(
                    "Security scheme `{name}` (HTTP `{other}`) is not supported and was skipped."
                )))
            }
        }
    }

    /// Client credentials become `oauth2ClientCredentials`; flows that need
    /// a user become a bearer token obtained elsewhere.
    fn oauth2(&mut self, name: &str, loc: &Loc, scheme: &Value, names: &mut EnvNames) -> Converted {
        let cc = if self.version == Version::Swagger2 {
            (s(scheme, "flow") == Some("application")).then(|| scheme.clone())
        } else {
            scheme
                .get("flows")
                .and_then(|fl| fl.get("clientCredentials"))
                .cloned()
        };
        let token_url = cc.as_ref().and_then(|c| s(c, "tokenUrl"));
        if token_url == Some("") {
            self.f.warn(
                loc,
                "the client credentials flow has an empty `tokenUrl`; the access token is read from the environment instead",
            );
        }
        let Some(token_url) = token_url.filter(|u| !u.is_empty()) else {
            let e = names.var("ACCESS_TOKEN", name);
            let env = vec![EnvVar {
                name: e.clone(),
                what: format!(
                    "OAuth 2 access token for `{name}` (obtained elsewhere; sent as a bearer token)"
                ),
            }];
            return Converted::Scheme(bearer(e), env);
        };
        let scopes: Vec<String> = cc
            .as_ref()
            .and_then(|c| c.get("scopes"))
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let id = names.var("CLIENT_ID", name);
        let secret = names.var("CLIENT_SECRET", name);
        let env = vec![
            EnvVar {
                name: id.clone(),
                what: format!("OAuth 2 client id for `{name}` (client credentials)"),
            },
            EnvVar {
                name: secret.clone(),
                what: format!("OAuth 2 client secret for `{name}`"),
            },
        ];
        let scheme = Scheme::OAuth2 {
            token_url: token_url.to_string(),
            scopes,
            env_client_id: id,
            env_client_secret: secret,
        };
        Converted::Scheme(scheme, env)
    }

    /// The alternatives of a security requirement list, keeping only the
    /// schemes the upstream descriptor has.
    pub(super) fn security(
        &mut self,
        loc: &Loc,
        req: &Value,
        schemes: &NamedMap<Scheme>,
    ) -> Vec<Vec<String>> {
        let Some(list) = req.as_array() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut dropped = false;
        for alt in list {
            let Some(m) = alt.as_object() else { continue };
            if m.keys().all(|k| schemes.contains_key(k)) {
                out.push(m.keys().cloned().collect());
            } else {
                for k in m.keys().filter(|k| !schemes.contains_key(k)) {
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
            return Vec::new();
        }
        out
    }
}

fn bearer(env: String) -> Scheme {
    Scheme::Http {
        scheme: "bearer".into(),
        env: Some(env),
        env_user: None,
        env_password: None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert_eq!(shouty_scheme("PETSTORE", "api_key", ""), "PETSTORE_API_KEY");
        assert_eq!(
            shouty_scheme("PETSTORE", "bearer", "TOKEN"),
            "PETSTORE_BEARER_TOKEN"
        );
        assert_eq!(shouty_scheme("P", "bearerToken", "TOKEN"), "P_BEARER_TOKEN");
    }
}

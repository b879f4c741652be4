//! Security: schemes for the upstream descriptor, their environment
//! variable names, and operations' requirements.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::{Builder, EnvVar, Version, is_token, s};
use crate::openapi::doc::Loc;
use crate::openapi::names;

impl Builder<'_> {
    /// `securitySchemes` (3.x) / `securityDefinitions` (2.0) → the upstream
    /// descriptor's schemes with environment variable names.
    pub(super) fn security_schemes(&mut self) -> (Map<String, Value>, Vec<EnvVar>, Vec<String>) {
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
    pub(super) fn security(
        &mut self,
        loc: &Loc,
        req: &Value,
        schemes: &Map<String, Value>,
    ) -> Value {
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

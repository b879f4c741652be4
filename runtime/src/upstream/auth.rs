//! Security schemes: which credentials are configured (read from the
//! environment at start-up), which alternative of an operation's `security`
//! applies, and what it adds to a request. OAuth2 client-credentials tokens
//! are fetched lazily, cached until shortly before they expire, and
//! refreshed on demand (after a 401).

use super::error::CallError;
use super::redact::Redactor;
use super::serialize::{cookie_octets, encode};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) use mcpgen_contract::{KeyLocation, Scheme};

/// Checks of a scheme beyond its shape.
pub(crate) trait CheckScheme {
    /// Problems the generator should never emit; reported by `build()`.
    fn check(&self) -> Result<(), String>;
}

impl CheckScheme for Scheme {
    fn check(&self) -> Result<(), String> {
        match self {
            Scheme::ApiKey { location, name, .. } => {
                if *location == KeyLocation::Header
                    && HeaderName::from_bytes(name.as_bytes()).is_err()
                {
                    return Err(format!("apiKey header name {name:?} is not an HTTP token"));
                }
                Ok(())
            }
            Scheme::Http {
                scheme,
                env,
                env_user,
                env_password,
            } => match scheme.to_ascii_lowercase().as_str() {
                "bearer" if env.is_some() => Ok(()),
                "bearer" => Err("http bearer needs `env`".into()),
                "basic" if env_user.is_some() && env_password.is_some() => Ok(()),
                "basic" => Err("http basic needs `envUser` and `envPassword`".into()),
                other => Err(format!(
                    "http scheme `{other}` is not supported (bearer, basic)"
                )),
            },
            Scheme::OAuth2 { token_url, .. } if token_url.is_empty() => {
                Err("oauth2ClientCredentials needs a `tokenUrl`".into())
            }
            Scheme::OAuth2 { .. } => Ok(()),
        }
    }
}

/// A configured credential: every environment variable it needs was set.
pub(super) enum Credential {
    ApiKey {
        location: KeyLocation,
        name: String,
        value: String,
    },
    Bearer(String),
    /// `user:password` in base64, as the Authorization header carries it.
    Basic {
        password: String,
        token: String,
    },
    OAuth2(Arc<OAuthClient>),
}

pub(super) struct Credentials {
    by_scheme: BTreeMap<String, Credential>,
    /// Scheme name → the environment variables it reads, for the debug hint.
    wanted: BTreeMap<String, Vec<String>>,
}

impl Credentials {
    pub(super) fn resolve(
        schemes: &BTreeMap<String, Scheme>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Credentials {
        let mut by_scheme = BTreeMap::new();
        let mut wanted = BTreeMap::new();
        for (name, scheme) in schemes {
            let (cred, vars) = match scheme {
                Scheme::ApiKey {
                    location,
                    name: key,
                    env,
                } => (
                    var(env).map(|value| Credential::ApiKey {
                        location: *location,
                        name: key.clone(),
                        value,
                    }),
                    vec![env.clone()],
                ),
                Scheme::Http {
                    scheme,
                    env,
                    env_user,
                    env_password,
                } => {
                    if scheme.eq_ignore_ascii_case("bearer") {
                        let env = env.clone().unwrap_or_default();
                        (var(&env).map(Credential::Bearer), vec![env])
                    } else {
                        let (u, p) = (
                            env_user.clone().unwrap_or_default(),
                            env_password.clone().unwrap_or_default(),
                        );
                        let cred = match (var(&u), var(&p)) {
                            (Some(user), Some(password)) => Some(Credential::Basic {
                                token: Redactor::basic_token(&user, &password),
                                password,
                            }),
                            _ => None,
                        };
                        (cred, vec![u, p])
                    }
                }
                Scheme::OAuth2 {
                    token_url,
                    scopes,
                    env_client_id,
                    env_client_secret,
                } => {
                    let cred = match (var(env_client_id), var(env_client_secret)) {
                        (Some(client_id), Some(client_secret)) => {
                            Some(Credential::OAuth2(Arc::new(OAuthClient {
                                scheme: name.clone(),
                                token_url: token_url.clone(),
                                scopes: scopes.clone(),
                                client_id,
                                client_secret,
                                cache: tokio::sync::Mutex::new(None),
                            })))
                        }
                        _ => None,
                    };
                    (cred, vec![env_client_id.clone(), env_client_secret.clone()])
                }
            };
            if let Some(c) = cred {
                by_scheme.insert(name.clone(), c);
            }
            wanted.insert(name.clone(), vars);
        }
        Credentials { by_scheme, wanted }
    }

    /// Every secret value, for the redactor. Usernames and client ids are
    /// identifiers, not secrets; the Basic token covers the pair.
    pub(super) fn secrets(&self) -> Vec<String> {
        let mut out = vec![];
        for c in self.by_scheme.values() {
            match c {
                Credential::ApiKey { value, .. } => out.push(value.clone()),
                Credential::Bearer(t) => out.push(t.clone()),
                Credential::Basic { password, token } => {
                    out.push(password.clone());
                    out.push(token.clone());
                }
                Credential::OAuth2(o) => out.push(o.client_secret.clone()),
            }
        }
        out
    }

    /// The first alternative whose schemes are all configured. An empty
    /// alternative (OpenAPI's `{}`, "no auth") never wins over a configured
    /// one; with none configured the request goes out without credentials,
    /// because many specs declare auth that is optional in practice.
    pub(super) fn select(&self, security: &[Vec<String>], operation: &str) -> Vec<&Credential> {
        for alt in security.iter().filter(|a| !a.is_empty()) {
            let creds: Option<Vec<&Credential>> =
                alt.iter().map(|s| self.by_scheme.get(s)).collect();
            if let Some(creds) = creds {
                return creds;
            }
        }
        if security.iter().any(|a| !a.is_empty()) {
            let hints: Vec<String> = security
                .iter()
                .filter(|a| !a.is_empty())
                .map(|alt| {
                    alt.iter()
                        .map(|s| {
                            format!(
                                "{s} ({})",
                                self.wanted.get(s).map(|v| v.join(", ")).unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
                .collect();
            tracing::debug!(
                operation,
                "no credentials configured for any of: {}; sending without auth",
                hints.join(" | ")
            );
        }
        vec![]
    }
}

/// What the chosen credentials add to one request.
#[derive(Default)]
pub(super) struct Applied {
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub query: Vec<String>,
    pub cookies: Vec<String>,
    /// Secrets obtained for this call (OAuth tokens), for the redactor.
    pub tokens: Vec<String>,
    pub oauth: Vec<Arc<OAuthClient>>,
}

pub(super) async fn apply(
    creds: &[&Credential],
    client: &reqwest::Client,
    base: Option<&Url>,
    timeout: Duration,
) -> Result<Applied, CallError> {
    let mut a = Applied::default();
    for c in creds {
        match c {
            Credential::OAuth2(o) => {
                let token = o.token(client, base, timeout).await?;
                a.headers.push((
                    reqwest::header::AUTHORIZATION,
                    sensitive(&format!("Bearer {token}"))?,
                ));
                a.tokens.push(token);
                a.oauth.push(o.clone());
            }
            other => add_static(&mut a, other)?,
        }
    }
    Ok(a)
}

/// What `apply` gives when no credential is OAuth2 (nothing to wait
/// for), without making its future; None when one is.
pub(super) fn apply_static(creds: &[&Credential]) -> Option<Result<Applied, CallError>> {
    if creds.iter().any(|c| matches!(c, Credential::OAuth2(_))) {
        return None;
    }
    let mut a = Applied::default();
    for c in creds {
        if let Err(e) = add_static(&mut a, c) {
            return Some(Err(e));
        }
    }
    Some(Ok(a))
}

/// A credential other than OAuth2, added to `a`.
fn add_static(a: &mut Applied, c: &Credential) -> Result<(), CallError> {
    match c {
        Credential::ApiKey {
            location,
            name,
            value,
        } => match location {
            KeyLocation::Header => a.headers.push((header_name(name)?, sensitive(value)?)),
            KeyLocation::Query => a.query.push(format!("{}={}", encode(name), encode(value))),
            KeyLocation::Cookie => {
                a.cookies
                    .push(format!("{}={}", cookie_octets(name), cookie_octets(value)))
            }
        },
        Credential::Bearer(t) => a.headers.push((
            reqwest::header::AUTHORIZATION,
            sensitive(&format!("Bearer {t}"))?,
        )),
        Credential::Basic { token, .. } => a.headers.push((
            reqwest::header::AUTHORIZATION,
            sensitive(&format!("Basic {token}"))?,
        )),
        // Fetched by `apply`, which awaits it.
        Credential::OAuth2(_) => {}
    }
    Ok(())
}

fn header_name(name: &str) -> Result<HeaderName, CallError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| CallError::invalid(name, "not a valid header name"))
}

/// Credentials from the environment go into headers verbatim, so a value
/// with CR/LF is refused here instead of being sent.
fn sensitive(v: &str) -> Result<HeaderValue, CallError> {
    let mut h = HeaderValue::from_str(v).map_err(|_| {
        CallError::invalid(
            "credentials",
            "a configured credential is not a valid header value",
        )
    })?;
    h.set_sensitive(true);
    Ok(h)
}

/// A client-credentials grant (RFC 6749 §4.4) and its cached token.
pub(super) struct OAuthClient {
    scheme: String,
    token_url: String,
    scopes: Vec<String>,
    client_id: String,
    client_secret: String,
    cache: tokio::sync::Mutex<Option<Token>>,
}

struct Token {
    value: String,
    /// None when the server gave no `expires_in`: used until a 401.
    refresh_at: Option<Instant>,
}

impl OAuthClient {
    /// The cached token, or a new one. The lock is held across the fetch so
    /// that concurrent calls share one token request.
    async fn token(
        &self,
        client: &reqwest::Client,
        base: Option<&Url>,
        timeout: Duration,
    ) -> Result<String, CallError> {
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.as_ref()
            && t.refresh_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(t.value.clone());
        }
        let token = self.fetch(client, base, timeout).await?;
        let value = token.value.clone();
        *cache = Some(token);
        Ok(value)
    }

    /// Drop the cached token if it is still `rejected`, so the next call
    /// fetches a fresh one (another call may already have).
    pub(super) async fn invalidate(&self, rejected: &str) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|t| t.value == rejected) {
            *cache = None;
        }
    }

    /// The token endpoint: OpenAPI 3.1 resolves a relative tokenUrl against
    /// the server URL.
    fn token_endpoint(&self, base: Option<&Url>) -> Result<Url, String> {
        match (Url::parse(&self.token_url), base) {
            (Ok(u), _) => Ok(u),
            (Err(_), Some(b)) => b
                .join(&self.token_url)
                .map_err(|e| format!("bad tokenUrl: {e}")),
            (Err(_), None) => Err("the tokenUrl is relative and no base URL is configured".into()),
        }
    }

    async fn fetch(
        &self,
        client: &reqwest::Client,
        base: Option<&Url>,
        timeout: Duration,
    ) -> Result<Token, CallError> {
        let fail = |reason: String| CallError::Token {
            scheme: self.scheme.clone(),
            reason,
        };
        let url = self.token_endpoint(base).map_err(fail)?;
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials")
                .append_pair("client_id", &self.client_id)
                .append_pair("client_secret", &self.client_secret);
            if !self.scopes.is_empty() {
                form.append_pair("scope", &self.scopes.join(" "));
            }
            form.finish()
        };
        let request = client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .timeout(timeout);
        let response = request
            .send()
            .await
            .map_err(|e| fail(super::call::describe(&e.without_url())))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| fail(super::call::describe(&e.without_url())))?;
        if !status.is_success() {
            // Only the RFC 6749 error code: some providers echo the request
            // (client id, secret) in the rest of the body.
            let code = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_owned))
                .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_graphic()));
            let detail = code.map(|c| format!(" ({c})")).unwrap_or_default();
            return Err(fail(format!(
                "the token endpoint answered HTTP {status}{detail}"
            )));
        }
        let json: Value = serde_json::from_slice(&body)
            .map_err(|_| fail("the token endpoint did not answer with JSON".into()))?;
        let value = json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| fail("the token response has no access_token".into()))?
            .to_owned();
        let expires_in = match json.get("expires_in") {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        Ok(Token {
            value,
            refresh_at: expires_in.map(|secs| Instant::now() + refresh_after(secs)),
        })
    }
}

/// Refresh a little early — a tenth of the lifetime, at most 60 s — so a
/// token does not expire between being read and being checked upstream.
fn refresh_after(expires_in: f64) -> Duration {
    let lifetime = Duration::from_secs_f64(expires_in.clamp(0.0, 1e9));
    lifetime.saturating_sub((lifetime / 10).min(Duration::from_secs(60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemes() -> BTreeMap<String, Scheme> {
        serde_json::from_value(serde_json::json!({
            "key": {"type": "apiKey", "in": "header", "name": "X-Key", "env": "KEY"},
            "basic": {"type": "http", "scheme": "Basic", "envUser": "U", "envPassword": "P"},
        }))
        .unwrap()
    }

    #[test]
    fn the_first_fully_configured_alternative_wins() {
        let env = |n: &str| (n == "U" || n == "P").then(|| "x".to_owned());
        let c = Credentials::resolve(&schemes(), env);
        let security = vec![vec![], vec!["key".into()], vec!["basic".into()]];
        let chosen = c.select(&security, "op");
        assert!(matches!(chosen.as_slice(), [Credential::Basic { .. }]));
        let both = vec![vec!["key".to_owned(), "basic".to_owned()]];
        assert!(c.select(&both, "op").is_empty());
    }

    /// Without OAuth2, `apply_static` gives what `apply` gives, errors
    /// included; with it, it leaves the call to `apply`.
    #[tokio::test]
    async fn static_credentials_apply_as_the_future_does() {
        let key = |location, name: &str, value: &str| Credential::ApiKey {
            location,
            name: name.into(),
            value: value.into(),
        };
        let sets = [
            vec![],
            vec![key(KeyLocation::Header, "X-Key", "k1")],
            vec![
                key(KeyLocation::Query, "api key", "a&b"),
                key(KeyLocation::Cookie, "c", "v;1"),
                Credential::Bearer("t0k".into()),
            ],
            vec![Credential::Basic {
                password: "p".into(),
                token: "dTpw".into(),
            }],
            vec![key(KeyLocation::Header, "bad name", "v")],
            vec![Credential::Bearer("line\nbreak".into())],
        ];
        let client = reqwest::Client::new();
        let shown = |a: Result<Applied, CallError>| match a {
            Ok(a) => format!(
                "{:?} {:?} {:?} {:?}",
                a.headers, a.query, a.cookies, a.tokens
            ),
            Err(e) => format!("error: {e}"),
        };
        for set in &sets {
            let creds: Vec<&Credential> = set.iter().collect();
            let now = apply_static(&creds).expect("no OAuth2");
            let later = apply(&creds, &client, None, Duration::from_secs(1)).await;
            assert_eq!(shown(now), shown(later));
        }
        let oauth = Credential::OAuth2(Arc::new(OAuthClient {
            scheme: "o".into(),
            token_url: "http://127.0.0.1:1/token".into(),
            scopes: vec![],
            client_id: "id".into(),
            client_secret: "secret".into(),
            cache: tokio::sync::Mutex::new(None),
        }));
        let bearer = Credential::Bearer("t".into());
        assert!(apply_static(&[&bearer, &oauth]).is_none());
    }

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        assert_eq!(refresh_after(3600.0), Duration::from_secs(3540));
        assert_eq!(refresh_after(10.0), Duration::from_secs(9));
        assert_eq!(refresh_after(0.0), Duration::ZERO);
        assert_eq!(refresh_after(-5.0), Duration::ZERO);
    }

    #[test]
    fn unsupported_schemes_are_reported() {
        let s: Scheme =
            serde_json::from_value(serde_json::json!({"type": "http", "scheme": "digest"}))
                .unwrap();
        assert!(s.check().is_err());
        let bad: Result<Scheme, _> =
            serde_json::from_value(serde_json::json!({"type": "openIdConnect"}));
        assert!(bad.is_err());
    }
}

//! The upstream descriptor (`UPSTREAM_JSON`), start-up overrides (CLI flags,
//! environment), and the settings resolved from both that every call reads.

use super::auth::{Credentials, Scheme};
use super::direct::Direct;
use super::error::ConfigError;
use super::redact::{MIN_PIECE_LEN, header_secrets};
use super::tls::{TlsOverrides, TlsSettings, chain};
use mcpgen_contract as contract;
use mcpgen_contract::template::{self, RenderError};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use rustls::ClientConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// `UPSTREAM_JSON` (`mcpgen_contract::Upstream`) with its defaults applied.
#[derive(Debug, Deserialize)]
#[serde(from = "mcpgen_contract::Upstream")]
pub(super) struct Config {
    /// `servers[0]` with its variables substituted; may be relative (then
    /// `--base-url` is needed) or absent.
    pub base_url: Option<String>,
    pub security_schemes: BTreeMap<String, Scheme>,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    pub retries: Retries,
    /// Largest successful response body read; larger ones are a tool error.
    pub max_response_bytes: usize,
    /// `Name: value` lines of the spec, `{{ env.NAME }}` templates unrendered.
    pub headers: Vec<String>,
    /// TLS of the spec, paths unrendered.
    pub tls: Option<contract::Tls>,
}

impl From<contract::Upstream> for Config {
    fn from(u: contract::Upstream) -> Self {
        // `envPrefix` only documents the names the schemes carry.
        Config {
            base_url: u.base_url,
            security_schemes: u.security_schemes.into_iter().collect(),
            timeout_ms: u.timeout_ms.unwrap_or(contract::DEFAULT_TIMEOUT_MS),
            connect_timeout_ms: u
                .connect_timeout_ms
                .unwrap_or(contract::DEFAULT_CONNECT_TIMEOUT_MS),
            retries: Retries {
                max: u.retries.max.unwrap_or(contract::DEFAULT_RETRIES),
                initial_backoff_ms: u
                    .retries
                    .initial_backoff_ms
                    .unwrap_or(contract::DEFAULT_INITIAL_BACKOFF_MS),
                max_backoff_ms: u
                    .retries
                    .max_backoff_ms
                    .unwrap_or(contract::DEFAULT_MAX_BACKOFF_MS),
            },
            max_response_bytes: u
                .max_response_bytes
                .unwrap_or(contract::DEFAULT_MAX_RESPONSE_BYTES),
            headers: u.headers,
            tls: u.tls,
        }
    }
}

/// The retry policy, defaults applied.
#[derive(Debug, Clone)]
pub(super) struct Retries {
    pub max: u32,
    pub initial_backoff_ms: u64,
    /// Cap of one backoff delay, and the longest Retry-After honoured: a
    /// server asking for a longer wait gets its error passed on instead.
    pub max_backoff_ms: u64,
}

/// Start-up settings that override the descriptor: the `--base-url`,
/// `--header`, `--forward-authorization`, `--upstream-timeout-secs`,
/// `--upstream-retries` and `--upstream-*` TLS flags of generated binaries
/// (see `cli`). Start from
/// `UpstreamOverrides::default()` (nothing overridden) and set the fields.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct UpstreamOverrides {
    /// Base URL replacing the description's server URL.
    pub base_url: Option<String>,
    /// `Name: value` lines, sent with every upstream request.
    pub headers: Vec<String>,
    /// Forward the MCP client's own `Authorization` header upstream.
    pub forward_authorization: bool,
    /// RFC 8693: exchange the caller's validated token for one with this
    /// audience and send that upstream (docs/auth.md).
    #[cfg(feature = "auth")]
    pub token_exchange: Option<String>,
    /// Timeout of one upstream request.
    pub timeout: Option<Duration>,
    /// Retries of idempotent requests after transient failures.
    pub max_retries: Option<u32>,
    /// Values consulted before the process environment when reading the
    /// secrets the security schemes name and the `{{ env.NAME }}`
    /// templates of the descriptor (for embedding and tests).
    pub env: BTreeMap<String, String>,
    /// TLS of the upstream connection, over the descriptor's `tls`.
    pub tls: TlsOverrides,
}

impl UpstreamOverrides {
    fn var(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .filter(|v| !v.is_empty())
    }

    /// `text` with its `{{ env.NAME }}` templates substituted; `used_in`
    /// names the place for the error.
    fn render(&self, text: &str, used_in: &str) -> Result<String, ConfigError> {
        if !template::is_template(text) {
            return Ok(text.to_owned());
        }
        template::render(text, |n| self.var(n)).map_err(|e| match e {
            RenderError::Missing(name) => ConfigError::Env {
                name,
                used_in: used_in.to_owned(),
            },
            RenderError::Syntax(e) => ConfigError::Template {
                used_in: used_in.to_owned(),
                reason: e.message,
            },
        })
    }
}

/// Everything a call needs, resolved once at start-up (and again whenever
/// `Server::configure_upstream` runs).
pub(super) struct Settings {
    pub config: Arc<Config>,
    pub base_url: Option<Url>,
    /// The Host header of `base_url`, made once: hyper would format it
    /// from the URL for every request.
    pub host: Option<HeaderValue>,
    /// The operator gave the base URL (`--base-url`): it then replaces every
    /// server of the spec, operations' own servers included, so that a run
    /// against a mock or staging host never reaches another one.
    pub base_url_overridden: bool,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub forward_authorization: bool,
    /// The audience to exchange the caller's token for (RFC 8693).
    #[cfg(feature = "auth")]
    pub token_exchange: Option<String>,
    pub timeout: Duration,
    pub retries: Retries,
    pub credentials: Credentials,
    /// Static secrets: credential values and extra header values.
    pub secrets: Vec<String>,
    pub client: reqwest::Client,
    /// The client of plain-HTTP calls when no proxy applies (`direct`).
    pub direct: Option<Direct>,
    /// Said on stderr at every start-up: weakened TLS verification.
    pub tls_warnings: Vec<String>,
    /// Why these settings cannot call the API yet: a variable or TLS file
    /// missing when the server was built (see [`Settings::resolve_or_defer`]).
    pub pending: Option<String>,
}

impl Settings {
    pub(super) fn resolve(
        config: Arc<Config>,
        overrides: &UpstreamOverrides,
        user_agent: &str,
    ) -> Result<Settings, ConfigError> {
        // What a flag replaces is not rendered: its variables need not exist.
        let spec_base = match (&overrides.base_url, &config.base_url) {
            (None, Some(u)) => Some(overrides.render(u, "baseUrl")?),
            _ => None,
        };
        let base_url = match (&overrides.base_url, &spec_base) {
            (Some(u), _) => Some(parse_base_url(u)?),
            // A relative server URL waits for --base-url; calls say so.
            (None, Some(u)) if Url::parse(u).is_ok() => Some(parse_base_url(u)?),
            _ => None,
        };
        let headers = resolve_headers(&config, overrides)?;
        let spec_tls = spec_tls(&config, overrides)?;
        let tls = TlsSettings::resolve(spec_tls.as_ref(), &overrides.tls)?;
        let timeout = match overrides.timeout {
            Some(t) if t.is_zero() => return Err(ConfigError::Timeout("must be positive".into())),
            Some(t) => t,
            None => Duration::from_millis(config.timeout_ms.max(1)),
        };
        let mut retries = config.retries.clone();
        if let Some(max) = overrides.max_retries {
            retries.max = max;
        }
        let credentials = Credentials::resolve(&config.security_schemes, |n| overrides.var(n));
        let mut secrets = credentials.secrets();
        for (n, v) in &headers {
            if let (true, Ok(v)) = (is_credential_header(n), v.to_str()) {
                // The whole value, and its parts that show alone in echoes:
                // each cookie's value, the token after `Bearer `, …
                secrets.extend(header_secrets(n.as_str(), v));
            }
        }
        // One TLS config: both clients trust and present the same things.
        let tls_config = tls.client_config()?;
        let client = client_builder(&config, timeout, user_agent)
            .tls_backend_preconfigured(ClientConfig::clone(&tls_config))
            .build()
            .map_err(|e| ConfigError::Client(chain(&e)))?;
        // Where reqwest would use no proxy, calls go around it.
        let direct = (!system_proxy() && !proxy_in_env())
            .then(|| HeaderValue::from_str(user_agent).ok())
            .flatten()
            .map(|ua| {
                let connect = connect_timeout(&config, timeout);
                Direct::new(connect, ua, tls_config, base_url.as_ref())
            });
        Ok(Settings {
            direct,
            config,
            host: base_url.as_ref().and_then(host_header),
            base_url,
            base_url_overridden: overrides.base_url.is_some(),
            headers,
            forward_authorization: overrides.forward_authorization,
            #[cfg(feature = "auth")]
            token_exchange: overrides.token_exchange.clone(),
            timeout,
            retries,
            credentials,
            secrets,
            client,
            tls_warnings: tls.warnings(),
            pending: None,
        })
    }

    /// [`Settings::resolve`] at `build()`: a missing variable or TLS file
    /// (`ConfigError::is_environmental`) does not stop the build, since the
    /// operator's flags and environment come later (`configure_upstream`,
    /// which refuses them); until then every call fails with that error
    /// instead of reaching the API half-configured.
    pub(super) fn resolve_or_defer(
        config: Arc<Config>,
        overrides: &UpstreamOverrides,
        user_agent: &str,
    ) -> Result<Settings, ConfigError> {
        match Settings::resolve(config.clone(), overrides, user_agent) {
            Err(e) if e.is_environmental() => {
                let timeout = Duration::from_millis(config.timeout_ms.max(1));
                let client = client_builder(&config, timeout, user_agent)
                    .build()
                    .map_err(|e| ConfigError::Client(chain(&e)))?;
                Ok(Settings {
                    base_url: None,
                    host: None,
                    base_url_overridden: false,
                    headers: vec![],
                    forward_authorization: false,
                    #[cfg(feature = "auth")]
                    token_exchange: None,
                    timeout,
                    retries: config.retries.clone(),
                    credentials: Credentials::resolve(&BTreeMap::new(), |_| None),
                    secrets: vec![],
                    client,
                    direct: None,
                    tls_warnings: vec![],
                    pending: Some(e.to_string()),
                    config,
                })
            }
            other => other,
        }
    }

    /// Said at every start-up: weakened TLS verification, on stderr
    /// whatever the log level.
    pub(super) fn warn_about_tls(&self) {
        for w in &self.tls_warnings {
            eprintln!("{w}");
        }
    }

    /// Said once per start-up (not per resolve): short secrets make
    /// redaction replace innocent text too.
    pub(super) fn warn_about_short_secrets(&self) {
        // Pieces shorter than this were never registered (see
        // `header_secrets`): only whole credentials can warn here.
        if self.secrets.iter().any(|s| s.len() < MIN_PIECE_LEN) {
            tracing::warn!(
                "an upstream secret is shorter than {MIN_PIECE_LEN} characters; redacting it may mangle tool output"
            );
        }
    }
}

fn client_builder(config: &Config, timeout: Duration, user_agent: &str) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    // reqwest reads the proxy variables once, here; with none set its
    // matcher finds nothing for every request, yet costs two look-ups per
    // call. Elsewhere the system settings may name a proxy: kept there.
    let builder = if system_proxy() || proxy_in_env() {
        builder
    } else {
        builder.no_proxy()
    };
    builder
        .user_agent(user_agent)
        .connect_timeout(connect_timeout(config, timeout))
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(same_origin_redirects())
        // reqwest's own retries are for HTTP/2 and HTTP/3 refusals, and it is
        // built without either (no `http2` feature): its default policy only
        // copies every request in case. Our retries are `call::next_step`'s.
        .retry(reqwest::retry::never().max_retries_per_request(0))
        // A Referer would repeat the previous URL, query (API key) included.
        .referer(false)
}

fn connect_timeout(config: &Config, timeout: Duration) -> Duration {
    Duration::from_millis(config.connect_timeout_ms.max(1)).min(timeout)
}

/// Whether reqwest reads the system's proxy settings here.
fn system_proxy() -> bool {
    cfg!(any(target_os = "macos", target_os = "windows"))
}

/// Whether a variable reqwest takes a proxy from is set (even empty).
fn proxy_in_env() -> bool {
    [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some())
}

/// Extra headers whose values are redacted from output like configured
/// secrets. Not every header: redacting `Accept-Language: en` would
/// mangle every `en` in every response.
/// The spec's headers (templates rendered), then the operator's; an
/// operator's header replaces the spec's of the same name, whose template is
/// then not rendered (its variables need not exist).
fn resolve_headers(
    config: &Config,
    overrides: &UpstreamOverrides,
) -> Result<Vec<(HeaderName, HeaderValue)>, ConfigError> {
    let flag_headers = overrides
        .headers
        .iter()
        .map(|l| parse_header_line(l))
        .collect::<Result<Vec<_>, _>>()?;
    // The spec's headers first; an operator's header of the same name
    // replaces the spec's.
    let mut headers = vec![];
    for line in &config.headers {
        let name = line
            .split_once(':')
            .map_or(line.as_str(), |(n, _)| n.trim());
        let replaced = flag_headers
            .iter()
            .any(|(f, _)| f.as_str().eq_ignore_ascii_case(name));
        if !replaced {
            let rendered = overrides.render(line, &format!("header `{name}`"))?;
            headers.push(parse_header_line(&rendered)?);
        }
    }
    headers.extend(flag_headers);
    Ok(headers)
}

/// The spec's TLS settings with their paths rendered, except those a flag
/// replaces (their variables need not exist).
fn spec_tls(
    config: &Config,
    overrides: &UpstreamOverrides,
) -> Result<Option<contract::Tls>, ConfigError> {
    Ok(match &config.tls {
        Some(t) => {
            let o = &overrides.tls;
            let path = |p: &Option<String>, field: &str, flag: &Option<_>| match flag {
                Some(_) => Ok(None),
                None => p
                    .as_deref()
                    .map(|p| overrides.render(p, &format!("tls.{field}")))
                    .transpose(),
            };
            Some(contract::Tls {
                ca_cert: path(&t.ca_cert, "caCert", &o.ca_cert)?,
                client_cert: path(&t.client_cert, "clientCert", &o.client_cert)?,
                client_key: path(&t.client_key, "clientKey", &o.client_key)?,
                ..t.clone()
            })
        }
        None => None,
    })
}

fn is_credential_header(name: &HeaderName) -> bool {
    const HINTS: &[&str] = &[
        "auth",
        "key",
        "token",
        "secret",
        "session",
        "password",
        "passwd",
        "cookie",
        "signature",
        "credential",
    ];
    let n = name.as_str();
    HINTS.iter().any(|h| n.contains(h))
}

/// Redirects followed before giving up, by both clients.
pub(super) const MAX_REDIRECTS: usize = 10;

/// Redirects are followed only within the origin of the request: a
/// cross-origin hop would carry API-key headers to a host nobody configured.
pub(super) fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().map(Url::origin);
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if first.as_ref() == Some(&attempt.url().origin()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// The Host header hyper would send to `url`: the host, and the port
/// unless it is the scheme's default (which `Url` leaves out).
fn host_header(url: &Url) -> Option<HeaderValue> {
    let host = url.host_str()?;
    let value = match url.port() {
        Some(port) => HeaderValue::from_str(&format!("{host}:{port}")),
        None => HeaderValue::from_str(host),
    };
    value.ok()
}

pub(crate) fn parse_base_url(raw: &str) -> Result<Url, ConfigError> {
    let bad = |reason: &str| ConfigError::BaseUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none() {
        return Err(bad("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::BaseUrl {
            url: "(withheld: it contains credentials)".into(),
            reason: "put credentials in the security scheme's environment variables or --header"
                .into(),
        });
    }
    Ok(url)
}

/// `Name: value` → a header, refusing names that are not HTTP tokens and
/// values with control characters (header injection).
pub(super) fn parse_header_line(line: &str) -> Result<(HeaderName, HeaderValue), ConfigError> {
    let bad = |header: &str, reason: &str| ConfigError::Header {
        header: header.to_owned(),
        reason: reason.to_owned(),
    };
    let Some((name, value)) = line.split_once(':') else {
        return Err(bad("(unnamed)", "expected `Name: value`"));
    };
    let name = name.trim();
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| bad(&format!("{name:?}"), "the name is not an HTTP token"))?;
    let value = value.trim();
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(bad(
            name,
            "the value contains a control character (CR, LF, …)",
        ));
    }
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| bad(name, "the value is not a valid header value"))?;
    value.set_sensitive(true);
    Ok((header, value))
}

/// Split `MCP_UPSTREAM_HEADERS`: one header per line, or several on a line
/// separated by commas — but only at a comma followed by `Name:`, so values
/// that contain commas (`Accept: a, b`) survive.
pub(crate) fn split_header_list(raw: &str) -> Vec<String> {
    let mut out = vec![];
    for line in raw.lines() {
        let mut current = String::new();
        for piece in line.split(',') {
            if !current.is_empty() && starts_with_header_name(piece) {
                out.push(std::mem::take(&mut current));
            } else if !current.is_empty() {
                current.push(',');
            }
            current.push_str(piece);
        }
        if !current.trim().is_empty() {
            out.push(current);
        }
    }
    out.into_iter().map(|h| h.trim().to_owned()).collect()
}

fn starts_with_header_name(piece: &str) -> bool {
    let piece = piece.trim_start();
    let name_len = piece
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
        .count();
    name_len > 0 && piece[name_len..].trim_start().starts_with(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_are_validated() {
        let (n, v) = parse_header_line("X-Api-Key:  abc ").unwrap();
        assert_eq!((n.as_str(), v.to_str().unwrap()), ("x-api-key", "abc"));
        assert!(parse_header_line("X-A: a\r\nX-B: b").is_err());
        assert!(parse_header_line("X-A: a\nb").is_err());
        assert!(parse_header_line("Bad Name: v").is_err());
        assert!(parse_header_line("novalue").is_err());
        let e = parse_header_line("X-Key: top\x07secret")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn credential_headers_are_recognised_by_name() {
        for (name, secret) in [
            ("Authorization", true),
            ("X-API-Key", true),
            ("Private-Token", true),
            ("Cookie", true),
            ("X-Auth-User", true),
            ("Accept-Language", false),
            ("X-Tenant", false),
        ] {
            let n = HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(is_credential_header(&n), secret, "{name}");
        }
    }

    #[test]
    fn header_lists_split_on_lines_and_header_commas() {
        assert_eq!(
            split_header_list("X-A: 1, X-B: 2\nAccept: a, b\n\nX-C: c,d"),
            ["X-A: 1", "X-B: 2", "Accept: a, b", "X-C: c,d"]
        );
    }

    #[test]
    fn base_urls_must_be_plain_http() {
        assert!(parse_base_url("https://api.example.com/v1").is_ok());
        for bad in [
            "ftp://x",
            "https://u:p@x",
            "https://x/?a=1",
            "/relative",
            "mailto:a@b",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
        let e = parse_base_url("https://u:hunter2@x")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"));
    }
}

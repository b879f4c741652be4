//! Errors of upstream calls and of upstream configuration. Every message
//! here may reach the client, so none carries a secret, a header value or a
//! full URL (query strings can hold API keys); the redactor runs over them
//! anyway.

use std::time::Duration;

/// Why one upstream call produced no usable HTTP response. Becomes a tool
/// result with `isError: true`, never a protocol error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error("missing required parameter `{0}`")]
    MissingParameter(String),
    #[error("missing required request body `{0}`")]
    MissingBody(String),
    #[error("invalid argument `{arg}`: {reason}")]
    InvalidArgument { arg: String, reason: String },
    #[error(
        "path parameter `{0}` would make a `.` or `..` path segment, which URL normalization would turn into a different path; refusing to send"
    )]
    DotSegment(String),
    #[error("path parameter `{0}` is empty")]
    EmptyPathParameter(String),
    #[error(
        "no base URL for the upstream API (the specification gives `{0}`); start the server with --base-url URL or MCP_UPSTREAM_BASE_URL"
    )]
    NoBaseUrl(String),
    #[error("cannot build the request URL: {0}")]
    Url(String),
    #[error("cannot connect to {origin}: {cause}")]
    Connect { origin: String, cause: String },
    #[error("the upstream request to {origin} timed out after {}", secs(*.after))]
    Timeout { origin: String, after: Duration },
    #[error("the upstream request to {origin} failed: {cause}")]
    Transport { origin: String, cause: String },
    #[error("cannot decode the upstream response from {origin}: {cause}")]
    Decode { origin: String, cause: String },
    #[error("the upstream response is larger than {limit} bytes; refusing to read it")]
    TooLarge { limit: usize },
    #[error("cannot obtain an OAuth2 access token for `{scheme}`: {reason}")]
    Token { scheme: String, reason: String },
    #[error("the long-running operation's status URL {0}")]
    StatusUrl(String),
    #[error(
        "the long-running operation at {origin} had not finished after {} ({polls} polls of its status); it may still finish upstream", secs(*.after)
    )]
    PollTimedOut {
        origin: String,
        after: Duration,
        polls: u32,
    },
    #[error("the upstream API is not configured (the server was built without `.upstream(...)`)")]
    NotConfigured,
}

impl CallError {
    pub(crate) fn invalid(arg: &str, reason: impl Into<String>) -> Self {
        CallError::InvalidArgument {
            arg: arg.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Why start-up settings (CLI flags, environment) were refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The server has no upstream API to configure.
    #[error("this server calls no upstream API, so upstream settings do not apply")]
    NoUpstream,
    /// The base URL is not an absolute http(s) URL.
    #[error("invalid upstream base URL `{url}`: {reason}")]
    BaseUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An extra header is not `Name: value`, or not a valid header.
    /// The value is never shown: extra headers usually carry credentials.
    #[error("invalid upstream header {header}: {reason}")]
    Header {
        /// The header's name (or its position when it has none).
        header: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The timeout is not a positive duration.
    #[error("invalid upstream timeout: {0}")]
    Timeout(String),
    /// The HTTP client could not be created.
    #[error("cannot create the HTTP client: {0}")]
    Client(String),
    /// A `{{ env.NAME }}` template names a variable that is unset or empty.
    #[error(
        "environment variable `{name}` is not set; the upstream {used_in} uses it (`{{{{ env.{name} }}}}`)"
    )]
    Env {
        /// The variable.
        name: String,
        /// Where the template is (`baseUrl`, `header X-Tenant`, `tls.caCert`).
        used_in: String,
    },
    /// A `{{ … }}` template is malformed.
    #[error("invalid template in the upstream {used_in}: {reason}")]
    Template {
        /// Where the template is.
        used_in: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A TLS file (CA, client certificate or key) is unreadable or invalid.
    #[error("upstream TLS {what} `{file}`: {reason}")]
    TlsFile {
        /// The file's path.
        file: String,
        /// `CA certificate`, `client certificate` or `client key`.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// TLS settings that do not go together.
    #[error("upstream TLS: {0}")]
    Tls(String),
}

impl ConfigError {
    /// Errors that depend on the machine the server starts on (variables,
    /// files): `build()` defers them to start-up (`configure_upstream`)
    /// and to each call, so that a server builds, and its generated tests
    /// run, where they are not set up.
    pub(crate) fn is_environmental(&self) -> bool {
        matches!(
            self,
            ConfigError::Env { .. } | ConfigError::TlsFile { .. } | ConfigError::Tls(_)
        )
    }
}

/// "30 s", "0.25 s": timeouts are configured in ms or s, shown in s.
pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{} s", (s * 1000.0).round() / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(secs(Duration::from_secs(30)), "30 s");
        assert_eq!(secs(Duration::from_millis(250)), "0.25 s");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5 s");
    }
}

#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
//!
//! Field order is the order of the keys in the serialized JSON: it is the
//! order mcpgen has always written them, so generated crates stay the same
//! byte for byte.

pub mod defs;
pub mod template;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// `timeoutMs` when absent: one attempt, connect to last body byte.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// `connectTimeoutMs` when absent.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
/// `maxResponseBytes` when absent.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// `retries.max` when absent.
pub const DEFAULT_RETRIES: u32 = 2;
/// `retries.initialBackoffMs` when absent.
pub const DEFAULT_INITIAL_BACKOFF_MS: u64 = 200;
/// `retries.maxBackoffMs` when absent.
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 10_000;
/// `poll.intervalMs` when absent: the first wait before polling a status URL.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1_000;
/// `poll.maxIntervalMs` when absent: the longest wait between two polls
/// (a longer `Retry-After` is cut to it).
pub const DEFAULT_POLL_MAX_INTERVAL_MS: u64 = 30_000;
/// `poll.maxDurationMs` when absent: how long a call may poll in all.
pub const DEFAULT_POLL_MAX_DURATION_MS: u64 = 300_000;
/// `poll.headers` when absent: response headers that may name a status URL.
pub const DEFAULT_POLL_HEADERS: &[&str] =
    &["Operation-Location", "Azure-AsyncOperation", "Location"];

/// `UPSTREAM_JSON`: what the generator knows about the API as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Upstream {
    /// `servers[0]` with its variables substituted; may be relative (then
    /// `--base-url` is needed) or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Prefix of the environment variables the generator named; for
    /// documentation only (the runtime reads exactly the names in the schemes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_prefix: Option<String>,
    /// By name, as operations' `security` refers to them.
    #[serde(default)]
    pub security_schemes: NamedMap<Scheme>,
    /// Default [`DEFAULT_TIMEOUT_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Default [`DEFAULT_CONNECT_TIMEOUT_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_ms: Option<u64>,
    /// Retries of idempotent calls.
    #[serde(default)]
    pub retries: Retries,
    /// Largest successful response body read; larger ones are a tool
    /// error. Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_response_bytes: Option<usize>,
    /// Extra headers (`Name: value`) sent with every request; the
    /// operator's `--header` with the same name replaces one. Values may
    /// hold `{{ env.NAME }}` templates ([`template`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// How to secure the connection to the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

/// `tls` of [`Upstream`]: trust, client certificate and verification.
/// Paths are PEM files, relative to the server's working directory, and
/// may hold `{{ env.NAME }}` templates ([`template`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tls {
    /// CA certificate(s) to trust *instead of* the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    /// Client certificate (chain) for mutual TLS; may also hold the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<String>,
    /// The client certificate's private key (PKCS#8, PKCS#1 or SEC1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    /// Verify the API's certificate (default true). `false` accepts any
    /// certificate, and the server warns at every start-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<bool>,
    /// Accept a certificate, signed by `caCert`, for another host name.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accept_invalid_hostnames: bool,
}

/// `retries` of [`Upstream`]; each field has a `DEFAULT_*` constant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Retries {
    /// Retries after the first attempt. Default [`DEFAULT_RETRIES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// Default [`DEFAULT_INITIAL_BACKOFF_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_backoff_ms: Option<u64>,
    /// Cap of one backoff delay, and the longest Retry-After honoured.
    /// Default [`DEFAULT_MAX_BACKOFF_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff_ms: Option<u64>,
}

/// One entry of `securitySchemes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Scheme {
    /// An API key in a header, query parameter or cookie.
    #[serde(rename = "apiKey")]
    ApiKey {
        /// Where the key goes.
        #[serde(rename = "in")]
        location: KeyLocation,
        /// The header, parameter or cookie name.
        name: String,
        /// The environment variable holding the key.
        env: String,
    },
    /// HTTP `bearer` (with `env`) or `basic` (with `envUser` and `envPassword`).
    #[serde(rename = "http", rename_all = "camelCase")]
    Http {
        /// `bearer` or `basic`, any case.
        scheme: String,
        /// The bearer token's environment variable.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        env: Option<String>,
        /// The basic user name's environment variable.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        env_user: Option<String>,
        /// The basic password's environment variable.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        env_password: Option<String>,
    },
    /// OAuth 2 client credentials: the runtime fetches and caches tokens.
    #[serde(rename = "oauth2ClientCredentials", rename_all = "camelCase")]
    OAuth2 {
        /// May be relative to the base URL.
        token_url: String,
        /// Requested scopes.
        #[serde(default)]
        scopes: Vec<String>,
        /// The client id's environment variable.
        env_client_id: String,
        /// The client secret's environment variable.
        env_client_secret: String,
    },
}

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyLocation {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

/// `OPERATION_JSON`: how one tool's arguments become an HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation {
    /// The HTTP method, any case.
    pub method: String,
    /// The path template, `/pets/{petId}`, appended to the base URL's path.
    pub path: String,
    /// The operation's own server, when the spec gives it one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Query pieces sent on every call, percent-encoded `name=value` (a
    /// document that writes a fixed query into its path:
    /// `/#Action=DescribeInstances`, `/expire_password?tempPassword=true`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_query: Vec<String>,
    /// Path, query, header and cookie parameters.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// The request body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// Alternatives, each a list of schemes (names in
    /// [`Upstream::security_schemes`]) applied together.
    #[serde(default)]
    pub security: Vec<Vec<String>>,
    /// Whether a failed call may be retried; defaults to the method's HTTP
    /// idempotency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// The output schema wraps a non-object result as `{"result": …}`.
    #[serde(default)]
    pub success_schema_wrapped: bool,
    /// The Accept header; defaults to preferring JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
    /// A `202 Accepted` answer names a status URL to poll until the
    /// operation ends (a long-running operation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Poll>,
}

/// How a long-running operation's `202 Accepted` is followed: where its
/// status URL is, what says it has ended, how often and how long to poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Poll {
    /// Response headers naming the status URL, tried in order. Default
    /// [`DEFAULT_POLL_HEADERS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// A JSON pointer (`/links/status`) into the 202's JSON body naming the
    /// status URL, tried after the headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_field: Option<String>,
    /// A JSON pointer into a status body to its status value. Default `/status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_field: Option<String>,
    /// Default [`DEFAULT_POLL_INTERVAL_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    /// Default [`DEFAULT_POLL_MAX_INTERVAL_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_interval_ms: Option<u64>,
    /// Default [`DEFAULT_POLL_MAX_DURATION_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_ms: Option<u64>,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// A `{name}` of the path template.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// The Cookie header.
    Cookie,
}

/// What the shape of the value should be; serialization follows the value
/// actually passed, this only lets the runtime check style compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A string, number or boolean.
    #[default]
    Primitive,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// OpenAPI `style` of a parameter or encoded body property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Style {
    /// `simple`
    Simple,
    /// `label`
    Label,
    /// `matrix`
    Matrix,
    /// `form`
    Form,
    /// `spaceDelimited`
    SpaceDelimited,
    /// `pipeDelimited`
    PipeDelimited,
    /// `deepObject`
    DeepObject,
}

/// One parameter of an [`Operation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameter {
    /// The name on the wire; never empty.
    pub name: String,
    /// Where it goes.
    #[serde(rename = "in")]
    pub location: Location,
    /// The tool argument that carries the value; each is used once.
    pub arg: String,
    /// Defaults per location (path/header `simple`, query/cookie `form`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<Style>,
    /// Defaults to `style == form`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
    /// Path parameters are always required.
    #[serde(default)]
    pub required: bool,
    /// The value's shape.
    #[serde(default)]
    pub kind: Kind,
    /// Query values keep RFC 3986 reserved characters unencoded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_reserved: bool,
    /// For parameters described with `content` instead of `schema`: the
    /// value is serialized in that media type (JSON) and then treated as a
    /// string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// The request body of an [`Operation`]: exactly one of `arg` and a
/// non-empty `flattened`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Body {
    /// The argument holding the whole body (when not flattened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arg: Option<String>,
    /// Body properties lifted into top-level arguments of the same name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flattened: Vec<String>,
    /// Whether the body must be sent.
    #[serde(default)]
    pub required: bool,
    /// `type/subtype`, parameters allowed.
    pub media_type: String,
    /// Multipart properties that carry files (base64 or a file object).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_fields: Vec<String>,
    /// The spec's Encoding Object per property (form and multipart bodies).
    #[serde(default, skip_serializing_if = "NamedMap::is_empty")]
    pub encoding: NamedMap<Encoding>,
    /// Whether the whole body is a base64 argument sent as bytes; defaults
    /// to true for application/octet-stream, image/*, audio/* and video/*.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<bool>,
}

/// The Encoding Object of one body property.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Encoding {
    /// The part's (multipart) content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `form`, `spaceDelimited`, `pipeDelimited` or `deepObject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<Style>,
    /// Defaults to `style == form`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
    /// Keep RFC 3986 reserved characters unencoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_reserved: Option<bool>,
}

/// A JSON object kept in the order its entries were inserted (the order of
/// the OpenAPI document), so that serialized descriptors follow the
/// document. A duplicate name is refused when parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedMap<T>(Vec<(String, T)>);

impl<T> Default for NamedMap<T> {
    fn default() -> Self {
        NamedMap(Vec::new())
    }
}

impl<T> NamedMap<T> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add `value` under `name`, replacing (in place) an entry of that name.
    pub fn insert(&mut self, name: String, value: T) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.0.push((name, value)),
        }
    }
    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    /// Whether an entry is named `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
        self.0.iter().map(|(n, v)| (n, v))
    }
}

impl<T> FromIterator<(String, T)> for NamedMap<T> {
    fn from_iter<I: IntoIterator<Item = (String, T)>>(iter: I) -> Self {
        let mut map = NamedMap::new();
        for (n, v) in iter {
            map.insert(n, v);
        }
        map
    }
}

impl<T> IntoIterator for NamedMap<T> {
    type Item = (String, T);
    type IntoIter = std::vec::IntoIter<(String, T)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a NamedMap<T> {
    type Item = (&'a String, &'a T);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, T)>,
        fn(&'a (String, T)) -> (&'a String, &'a T),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(n, v)| (n, v))
    }
}

impl<T: Serialize> Serialize for NamedMap<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (n, v) in &self.0 {
            map.serialize_entry(n, v)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NamedMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = NamedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut out = NamedMap::new();
                while let Some((name, value)) = access.next_entry::<String, T>()? {
                    if out.contains_key(&name) {
                        return Err(serde::de::Error::custom(format!("duplicate name `{name}`")));
                    }
                    out.0.push((name, value));
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(Entries(PhantomData))
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_maps_keep_insertion_order() {
        let text = r#"{"z":{"style":"form"},"a":{"explode":true}}"#;
        let map: NamedMap<Encoding> = serde_json::from_str(text).unwrap();
        assert_eq!(
            map.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["z", "a"]
        );
        assert_eq!(map.get("a").and_then(|e| e.explode), Some(true));
        assert_eq!(serde_json::to_string(&map).unwrap(), text);
    }

    #[test]
    fn operations_round_trip_in_the_documented_key_order() {
        let text = r#"{"method":"POST","path":"/pets/{id}","parameters":[{"name":"id","in":"path","arg":"id","style":"simple","explode":false,"required":true,"kind":"primitive"}],"body":{"flattened":["name"],"required":true,"mediaType":"application/json"},"security":[["key"]],"successSchemaWrapped":false,"accept":"application/json"}"#;
        let op: Operation = serde_json::from_str(text).unwrap();
        assert_eq!(op.parameters[0].location, Location::Path);
        assert_eq!(serde_json::to_string(&op).unwrap(), text);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let bad = r#"{"method":"GET","path":"/","unknown":1}"#;
        assert!(serde_json::from_str::<Operation>(bad).is_err());
        let bad = r#"{"retries":{"max":1,"forever":true}}"#;
        assert!(serde_json::from_str::<Upstream>(bad).is_err());
    }

    #[test]
    fn absent_upstream_fields_stay_absent() {
        let up: Upstream = serde_json::from_str("{}").unwrap();
        assert_eq!(up, Upstream::default());
        assert_eq!(
            serde_json::to_string(&up).unwrap(),
            r#"{"securitySchemes":{},"retries":{}}"#
        );
        let dup = r#"{"securitySchemes":{"a":{"type":"http","scheme":"bearer"},"a":{"type":"http","scheme":"bearer"}}}"#;
        assert!(serde_json::from_str::<Upstream>(dup).is_err());
        let scheme = r#"{"type":"http","scheme":"basic","envUser":"U","envPassword":"P"}"#;
        let s: Scheme = serde_json::from_str(scheme).unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), scheme);
    }
}

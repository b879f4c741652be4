//! Rate limits (docs/rate-limits.md): `limit` calls per `interval` at four
//! levels, each counted in a [`RateLimitStore`] (in memory, or in Redis with
//! the `redis` feature so that several instances share the counters).
//!
//! | level | what it counts | key |
//! | --- | --- | --- |
//! | tool | `tools/call` of that tool on this server, by every caller (both transports) | `mcpgen:rl:{server}:tool:{name}` |
//! | per client | HTTP requests of one [`Principal`]: the authenticated principal once authentication exists, else the client IP | `mcpgen:rl:{server}:client:{principal}` |
//! | server | every HTTP request to this MCP server (its name), on every instance sharing the store | `mcpgen:rl:{server}:server` |
//! | global | every HTTP request to every server sharing the store | `mcpgen:rl:global` |
//!
//! An HTTP request passes the per-client, server and global limits in that
//! order (most specific first); the first one exceeded answers 429 with
//! `Retry-After`, and the less specific ones are not counted for it. A tool
//! call over its tool limit gets a tool error naming the limit.
//!
//! Each limit is a GCRA (the generic cell rate algorithm, a leaky bucket
//! kept as one timestamp per key): `limit` calls may come at once, and one
//! more every `interval / limit` after that, so the retry delay is exact.

mod args;
mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;

use crate::builder::ServerBuilder;
use crate::error::BuildError;
use crate::extension::Extension;
use crate::server::Server;
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub(crate) use args::RateLimitArgs;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "redis")]
pub(crate) use redis::redact as redact_url;

/// `limit` calls per `interval`, written `100/1m` (units ms, s, m, h, d; a
/// bare unit means one of it: `10/s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Calls allowed per interval (at least 1).
    pub limit: u64,
    /// The interval (at least 1 ms).
    pub interval: Duration,
}

impl Rate {
    /// The time one call uses up: `interval / limit`.
    fn emission(&self) -> Duration {
        self.interval / u32::try_from(self.limit).unwrap_or(u32::MAX)
    }
}

/// Parse an interval such as `1m`, `30s`, `500ms`, `s` (one second).
pub(crate) fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(digits);
    let n: u64 = if n.is_empty() {
        1
    } else {
        n.parse().map_err(|_| format!("`{s}`: too large"))?
    };
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "`{s}` is not an interval (a number and ms, s, m, h or d, e.g. 1m)"
            ));
        }
    };
    match n.checked_mul(unit_ms) {
        Some(ms) if ms > 0 && ms <= 366 * 86_400_000 => Ok(Duration::from_millis(ms)),
        _ => Err(format!("`{s}`: an interval is from 1ms to 366d")),
    }
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (limit, interval) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a rate (LIMIT/INTERVAL, e.g. 100/1m)"))?;
        let limit: u64 = limit
            .trim()
            .parse()
            .ok()
            .filter(|&n| n > 0 && n <= u64::from(u32::MAX))
            .ok_or_else(|| format!("`{s}`: the limit must be a whole number from 1"))?;
        Ok(Rate {
            limit,
            interval: parse_interval(interval)?,
        })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.interval.as_millis();
        let (n, unit) = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1000, "s"),
        ]
        .into_iter()
        .find(|(u, _)| ms.is_multiple_of(*u))
        .map_or((ms, "ms"), |(u, unit)| (ms / u, unit));
        write!(f, "{}/{n}{unit}", self.limit)
    }
}

/// The level a limit applies at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// One tool, all callers.
    Tool,
    /// One principal (client IP while there is no authentication).
    PerClient,
    /// This server, all instances sharing the store.
    Server,
    /// Every server sharing the store.
    Global,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Tool => "tool",
            Level::PerClient => "per-client",
            Level::Server => "server",
            Level::Global => "global",
        })
    }
}

/// Who an HTTP request counts against for the per-client limit. An
/// authentication layer inserts `Principal::Authenticated` into the
/// request's extensions (`http::Request::extensions_mut`); without one the
/// transport uses the client's IP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// An authenticated caller (e.g. an OAuth subject).
    Authenticated(String),
    /// An anonymous caller, by IP address.
    Ip(IpAddr),
    /// The address is not known (the router is mounted without connect info).
    Unknown,
}

impl Principal {
    fn key(&self) -> String {
        match self {
            Principal::Authenticated(s) => format!("sub:{s}"),
            Principal::Ip(ip) => format!("ip:{ip}"),
            Principal::Unknown => "unknown".to_owned(),
        }
    }
}

/// What the store says about one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Within the limit; counted.
    Allow,
    /// Over the limit; not counted. The next call is allowed after this long.
    Deny {
        /// How long until a call would pass.
        retry_after: Duration,
    },
}

/// The store could not answer (Redis down, timed out…).
#[derive(Debug, Clone, thiserror::Error)]
#[error("rate-limit store {store} unavailable: {message}")]
pub struct StoreError {
    /// The store, e.g. `redis://127.0.0.1:6379`.
    pub store: String,
    /// What went wrong.
    pub message: String,
}

/// Where the counters live. Implementations must answer within a bounded
/// time (an error, not a hang, when their backend is away).
pub trait RateLimitStore: Send + Sync + 'static {
    /// Count one call against `key` under `rate`, or say when to retry.
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        rate: Rate,
    ) -> BoxFuture<'a, Result<Decision, StoreError>>;
    /// The store, for logs: `memory`, `redis://host:port`.
    fn describe(&self) -> String;
}

/// What to do when the store cannot answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailMode {
    /// Let the call through (the default: a store outage does not stop the
    /// server; the error is logged).
    #[default]
    Open,
    /// Refuse the call as if the limit were exceeded (retry after 1 s).
    Closed,
}

impl FromStr for FailMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(FailMode::Open),
            "closed" => Ok(FailMode::Closed),
            _ => Err(format!("`{s}` is not a fail mode (open or closed)")),
        }
    }
}

/// The limits of one server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Per tool name.
    pub tools: BTreeMap<String, Rate>,
    /// Per principal (client IP for anonymous callers), HTTP only.
    pub per_client: Option<Rate>,
    /// This server's whole HTTP traffic.
    pub server: Option<Rate>,
    /// All servers sharing the store, HTTP only.
    pub global: Option<Rate>,
}

impl Limits {
    /// Read the generated `RATE_LIMITS_JSON`: `{"tools": {"name": "5/1m"},
    /// "perClient": "10/1s", "server": "100/1m", "global": "1000/1m"}`.
    pub fn from_json(json: &str) -> Result<Limits, String> {
        let v: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let obj = v.as_object().ok_or("must be a JSON object")?;
        let rate = |key: &str, v: &Value| -> Result<Rate, String> {
            v.as_str()
                .ok_or_else(|| format!("`{key}` must be a string like 100/1m"))?
                .parse()
                .map_err(|e| format!("`{key}`: {e}"))
        };
        let mut limits = Limits::default();
        for (key, v) in obj {
            match key.as_str() {
                "perClient" => limits.per_client = Some(rate(key, v)?),
                "server" => limits.server = Some(rate(key, v)?),
                "global" => limits.global = Some(rate(key, v)?),
                "tools" => {
                    let tools = v.as_object().ok_or("`tools` must be an object")?;
                    for (name, r) in tools {
                        limits.tools.insert(name.clone(), rate(name, r)?);
                    }
                }
                other => return Err(format!("unknown field `{other}`")),
            }
        }
        Ok(limits)
    }

    fn is_empty(&self) -> bool {
        self.tools.is_empty()
            && self.per_client.is_none()
            && self.server.is_none()
            && self.global.is_none()
    }

    fn has_http(&self) -> bool {
        self.per_client.is_some() || self.server.is_some() || self.global.is_some()
    }
}

/// A limit that was hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    /// Which level.
    pub level: Level,
    /// The limit.
    pub rate: Rate,
    /// How long until a call would pass.
    pub retry_after: Duration,
    /// The limit could not be checked: the store is unavailable and the
    /// fail mode is closed.
    pub unchecked: bool,
}

impl Exceeded {
    /// Whole seconds, rounded up, at least 1 (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_millis().div_ceil(1000).max(1) as u64
    }
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unchecked {
            return write!(
                f,
                "rate limit not checked: the {} limit of {} could not be read from the rate-limit store (unavailable; fail closed); retry after {} s",
                self.level,
                self.rate,
                self.retry_after_secs()
            );
        }
        write!(
            f,
            "rate limit exceeded: the {} limit of {}; retry after {} s",
            self.level,
            self.rate,
            self.retry_after_secs()
        )
    }
}

/// Start-up settings: store and fail mode, and limits that replace the
/// declared ones level by level.
#[derive(Clone, Default)]
pub struct RateLimitSettings {
    /// The store; `None` keeps the current one (in memory at first).
    pub store: Option<Arc<dyn RateLimitStore>>,
    /// What to do when the store cannot answer.
    pub fail: FailMode,
    /// Replace the declared per-client limit.
    pub per_client: Option<Rate>,
    /// Replace the declared server limit.
    pub server: Option<Rate>,
    /// Replace the declared global limit.
    pub global: Option<Rate>,
    /// Add or replace tool limits.
    pub tools: Vec<(String, Rate)>,
}

/// Make a store from `memory` or `redis://…` (`rediss://` too).
pub fn store_from_str(s: &str) -> Result<Arc<dyn RateLimitStore>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("memory") {
        return Ok(Arc::new(MemoryStore::default()));
    }
    if s.starts_with("redis://") || s.starts_with("rediss://") || s.starts_with("redis+unix://") {
        #[cfg(feature = "redis")]
        return RedisStore::new(s).map(|r| Arc::new(r) as Arc<dyn RateLimitStore>);
        #[cfg(not(feature = "redis"))]
        return Err(
            "this server was built without the `redis` feature (cargo build --features redis)"
                .to_owned(),
        );
    }
    Err(format!(
        "`{s}` is not a rate-limit store (memory or redis://HOST:PORT)"
    ))
}

/// The limiter a server keeps: limits, store and fail mode.
struct Active {
    limits: Limits,
    store: Arc<dyn RateLimitStore>,
    fail: FailMode,
}

/// The rate-limit state of a built server (found as a plug-in by type).
pub(crate) struct RateLimiter {
    server_name: String,
    active: RwLock<Option<Arc<Active>>>,
    /// Milliseconds since `epoch` of the last store-error log line.
    last_error_log: AtomicU64,
    epoch: Instant,
}

impl RateLimiter {
    fn new(server_name: String, limits: Limits) -> Self {
        let active = (!limits.is_empty()).then(|| {
            Arc::new(Active {
                limits,
                store: Arc::new(MemoryStore::default()),
                fail: FailMode::Open,
            })
        });
        RateLimiter {
            server_name,
            active: RwLock::new(active),
            last_error_log: AtomicU64::new(u64::MAX),
            epoch: Instant::now(),
        }
    }

    fn active(&self) -> Option<Arc<Active>> {
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether [`RateLimiter::check_request`] has a limit to apply now:
    /// when not, the transport skips it (its future and the principal).
    pub(crate) fn limits_requests(&self) -> bool {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        active.as_ref().is_some_and(|a| a.limits.has_http())
    }

    /// Whether [`RateLimiter::check_tool`] has a limit for `tool` now.
    pub(crate) fn limits_tool(&self, tool: &str) -> bool {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        active
            .as_ref()
            .is_some_and(|a| a.limits.tools.contains_key(tool))
    }

    fn configure(&self, settings: RateLimitSettings) {
        let mut slot = self.active.write().unwrap_or_else(|e| e.into_inner());
        let (mut limits, store) = match slot.as_ref() {
            Some(a) => (a.limits.clone(), a.store.clone()),
            None => (
                Limits::default(),
                Arc::new(MemoryStore::default()) as Arc<dyn RateLimitStore>,
            ),
        };
        limits.per_client = settings.per_client.or(limits.per_client);
        limits.server = settings.server.or(limits.server);
        limits.global = settings.global.or(limits.global);
        limits.tools.extend(settings.tools);
        let store = settings.store.unwrap_or(store);
        *slot = (!limits.is_empty()).then(|| {
            tracing::info!(
                "rate limits on: store {}, fail {:?}",
                store.describe(),
                settings.fail
            );
            Arc::new(Active {
                limits,
                store,
                fail: settings.fail,
            })
        });
    }

    /// One limit: counted, exceeded, or the store's failure under the fail mode.
    async fn one(&self, a: &Active, key: &str, level: Level, rate: Rate) -> Result<(), Exceeded> {
        match a.store.acquire(key, rate).await {
            Ok(Decision::Allow) => Ok(()),
            Ok(Decision::Deny { retry_after }) => Err(Exceeded {
                level,
                rate,
                retry_after,
                unchecked: false,
            }),
            Err(e) => {
                self.log_store_error(&e, a.fail);
                match a.fail {
                    FailMode::Open => Ok(()),
                    FailMode::Closed => Err(Exceeded {
                        level,
                        rate,
                        retry_after: Duration::from_secs(1),
                        unchecked: true,
                    }),
                }
            }
        }
    }

    /// At most one line every 10 s while the store is down.
    fn log_store_error(&self, e: &StoreError, fail: FailMode) {
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last_error_log.load(Ordering::Relaxed);
        if last != u64::MAX && now.saturating_sub(last) < 10_000 {
            return;
        }
        if self
            .last_error_log
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            let what = match fail {
                FailMode::Open => "calls are let through (--rate-limit-fail open)",
                FailMode::Closed => "calls are refused (--rate-limit-fail closed)",
            };
            tracing::error!("{e}; {what}");
        }
    }

    /// The tool limit of `tool`, if it has one.
    pub(crate) async fn check_tool(&self, tool: &str) -> Result<(), Exceeded> {
        let Some(a) = self.active() else {
            return Ok(());
        };
        let Some(&rate) = a.limits.tools.get(tool) else {
            return Ok(());
        };
        let key = format!("mcpgen:rl:{}:tool:{tool}", self.server_name);
        self.one(&a, &key, Level::Tool, rate).await
    }

    /// The per-client, server and global limits of one HTTP request, most
    /// specific first; stops at the first one exceeded.
    pub(crate) async fn check_request(&self, principal: &Principal) -> Result<(), Exceeded> {
        let Some(a) = self.active() else {
            return Ok(());
        };
        if !a.limits.has_http() {
            return Ok(());
        }
        let name = &self.server_name;
        if let Some(rate) = a.limits.per_client {
            let key = format!("mcpgen:rl:{name}:client:{}", principal.key());
            self.one(&a, &key, Level::PerClient, rate).await?;
        }
        if let Some(rate) = a.limits.server {
            let key = format!("mcpgen:rl:{name}:server");
            self.one(&a, &key, Level::Server, rate).await?;
        }
        if let Some(rate) = a.limits.global {
            self.one(&a, "mcpgen:rl:global", Level::Global, rate)
                .await?;
        }
        Ok(())
    }
}

/// The limits declared while the server is described.
#[derive(Default)]
pub(crate) struct RateLimitBuilder {
    limits: Limits,
}

impl Extension for RateLimitBuilder {
    fn finish(
        self: Box<Self>,
        info: &Value,
    ) -> Result<Arc<dyn std::any::Any + Send + Sync>, Vec<BuildError>> {
        let name = info
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("server")
            .to_owned();
        Ok(Arc::new(RateLimiter::new(name, self.limits)))
    }
}

impl ServerBuilder {
    /// The declared rate limits (`RATE_LIMITS_JSON`; see [`Limits::from_json`]).
    pub fn rate_limits(mut self, json: &str) -> Self {
        match Limits::from_json(json) {
            Ok(l) => {
                self.extension::<RateLimitBuilder>().limits = l;
                self
            }
            Err(message) => self.with_error(BuildError::Invalid {
                what: "rate limits".to_owned(),
                message,
            }),
        }
    }

    /// Make sure the built server has a rate limiter (off unless configured).
    pub(crate) fn with_rate_limiter(&mut self) {
        self.extension::<RateLimitBuilder>();
    }
}

impl Server {
    /// Apply start-up rate-limit settings (CLI flags, environment): the
    /// store, the fail mode and limits replacing the declared ones.
    pub fn configure_rate_limits(&self, settings: RateLimitSettings) {
        if let Some(r) = self.extension::<RateLimiter>() {
            r.configure(settings);
        }
    }

    pub(crate) fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.extension::<RateLimiter>()
    }
}

#[cfg(test)]
mod tests;

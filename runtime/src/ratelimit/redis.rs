//! Counters in Redis, shared by every instance that uses the same Redis:
//! the GCRA step runs as one Lua script on Redis's own clock, so instances
//! on different machines agree. Keys expire when their timestamp passes.

use super::{Decision, Rate, RateLimitStore, StoreError};
use futures::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::OnceLock;
use std::time::Duration;

/// KEYS[1]: the counter; ARGV[1]: interval (µs); ARGV[2]: limit.
/// Returns {1, 0} when allowed, {0, µs until a call passes} when not.
const GCRA: &str = r#"
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = interval / limit
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + emission
local wait = new_tat - now - interval
if wait > 0 then return {0, math.ceil(wait)} end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
return {1, 0}
"#;

/// How long one check may take, connecting included.
const CALL_TIMEOUT: Duration = Duration::from_millis(1500);

/// Redis counters (`--rate-limit-store redis://HOST:PORT`). Connects on
/// first use and reconnects by itself; while Redis is away each check fails
/// within [`CALL_TIMEOUT`] and the fail mode decides.
pub struct RedisStore {
    url: String,
    client: redis::Client,
    conn: OnceLock<Result<ConnectionManager, String>>,
    script: redis::Script,
}

impl RedisStore {
    /// A store for `url` (`redis://HOST:PORT[/DB]`); nothing is connected yet.
    pub fn new(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("`{url}`: {e}"))?;
        Ok(RedisStore {
            url: redact(url),
            client,
            conn: OnceLock::new(),
            script: redis::Script::new(GCRA),
        })
    }

    fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let made = self.conn.get_or_init(|| lazy_manager(&self.client));
        made.clone().map_err(|message| self.error(message))
    }

    fn error(&self, message: impl Into<String>) -> StoreError {
        StoreError {
            store: self.url.clone(),
            message: message.into(),
        }
    }
}

/// The URL without a password, for logs.
/// A connection to `client`'s Redis made on first use, with short
/// timeouts and one retry, so that a request never waits long on a Redis
/// that is away (the rate-limit and the state stores both use it).
pub(crate) fn lazy_manager(client: &redis::Client) -> Result<ConnectionManager, String> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(1000)))
        .set_response_timeout(Some(Duration::from_millis(1000)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(|e| e.to_string())
}

pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

impl RateLimitStore for RedisStore {
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        rate: Rate,
    ) -> BoxFuture<'a, Result<Decision, StoreError>> {
        Box::pin(async move {
            let mut conn = self.connection()?;
            let interval = u64::try_from(rate.interval.as_micros()).unwrap_or(u64::MAX);
            let mut call = self.script.key(key);
            call.arg(interval).arg(rate.limit);
            let answer: Result<redis::RedisResult<(i64, i64)>, _> =
                tokio::time::timeout(CALL_TIMEOUT, call.invoke_async(&mut conn)).await;
            match answer {
                Err(_) => Err(self.error(format!("no answer within {CALL_TIMEOUT:?}"))),
                Ok(Err(e)) => Err(self.error(e.to_string())),
                Ok(Ok((1i64, _))) => Ok(Decision::Allow),
                Ok(Ok((_, wait_us))) => Ok(Decision::Deny {
                    retry_after: Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
                }),
            }
        })
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_logs() {
        assert_eq!(
            super::redact("redis://user:secret@db:6379/0"),
            "redis://…@db:6379/0"
        );
        assert_eq!(super::redact("redis://db:6379"), "redis://db:6379");
    }
}

//! Long-running operations: an operation whose descriptor has `poll`
//! answers `202 Accepted` with a status URL, which is polled until the
//! operation ends; the tool's result is the final response
//! (docs/upstream.md, "Long-running operations").
//!
//! The status URL comes from the first of the descriptor's headers the
//! 202 carries (default `Operation-Location`, `Azure-AsyncOperation`,
//! `Location`), else from a JSON pointer into its body; relative URLs are
//! resolved against the request URL, and only the API's own origin is
//! polled, with the operation's credentials. A poll answer ends it when it
//! is not a 202 and its body's status field (default `/status`) is absent
//! or terminal; a redirect, or a succeeded status with a
//! `resourceLocation`, names the result, fetched once more.

use super::call;
use super::config::Settings;
use super::error::CallError;
use super::operation::Operation;
use super::response::RawResponse;
use crate::context::RequestContext;
use mcpgen_contract as contract;
use reqwest::header::HeaderName;
use reqwest::{StatusCode, Url};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Status values that end an operation well (compared without case,
/// spaces, `_` or `-`).
const SUCCEEDED: &[&str] = &[
    "succeeded",
    "success",
    "successful",
    "completed",
    "complete",
    "done",
    "finished",
];

/// Status values that end an operation badly.
const FAILED: &[&str] = &[
    "failed",
    "failure",
    "error",
    "errored",
    "canceled",
    "cancelled",
    "aborted",
    "rejected",
    "timedout",
    "expired",
];

/// `poll` of an operation, checked.
#[derive(Debug)]
pub(super) struct Poll {
    headers: Vec<HeaderName>,
    url_field: Option<String>,
    status_field: String,
    interval: Duration,
    max_interval: Duration,
    max_duration: Duration,
}

impl Poll {
    pub(super) fn parse(d: &contract::Poll) -> Result<Poll, String> {
        let names: Vec<&str> = match d.headers.is_empty() {
            true => contract::DEFAULT_POLL_HEADERS.to_vec(),
            false => d.headers.iter().map(String::as_str).collect(),
        };
        let headers = names
            .into_iter()
            .map(|n| {
                HeaderName::from_bytes(n.as_bytes())
                    .map_err(|_| format!("poll header `{n}` is not a header name"))
            })
            .collect::<Result<_, _>>()?;
        for (key, p) in [("urlField", &d.url_field), ("statusField", &d.status_field)] {
            if p.as_deref().is_some_and(|p| !p.starts_with('/')) {
                return Err(format!("poll {key} must be a JSON pointer (`/status`)"));
            }
        }
        let ms = |v: Option<u64>, default: u64| Duration::from_millis(v.unwrap_or(default).max(1));
        let interval = ms(d.interval_ms, contract::DEFAULT_POLL_INTERVAL_MS);
        let max_interval = ms(d.max_interval_ms, contract::DEFAULT_POLL_MAX_INTERVAL_MS);
        Ok(Poll {
            headers,
            url_field: d.url_field.clone(),
            status_field: d.status_field.clone().unwrap_or_else(|| "/status".into()),
            interval: interval.min(max_interval),
            max_interval,
            max_duration: ms(d.max_duration_ms, contract::DEFAULT_POLL_MAX_DURATION_MS),
        })
    }

    /// The status URL a 202 names, as given.
    fn status_url(&self, r: &RawResponse) -> Option<String> {
        let header = self.headers.iter().find_map(|h| {
            let v = r.headers.get(h)?.to_str().ok()?.trim();
            (!v.is_empty()).then(|| v.to_owned())
        });
        header.or_else(|| {
            let body: Value = serde_json::from_slice(&r.body).ok()?;
            let v = body.pointer(self.url_field.as_deref()?)?.as_str()?.trim();
            (!v.is_empty()).then(|| v.to_owned())
        })
    }

    /// The wait before poll `n` (0 first): the API's `Retry-After`, else
    /// the interval doubled per poll; at most `max_interval`.
    fn wait(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        retry_after
            .unwrap_or_else(|| self.interval.saturating_mul(1 << n.min(16)))
            .min(self.max_interval)
    }

    /// What a poll's answer says.
    fn judge(&self, r: &RawResponse) -> Verdict {
        if r.status == StatusCode::ACCEPTED {
            return Verdict::Running("accepted".into());
        }
        if r.status.is_redirection() {
            return match &r.location {
                Some(l) => Verdict::Result(l.clone()),
                None => Verdict::Done { failed: false },
            };
        }
        if !r.status.is_success() {
            return Verdict::Done { failed: false };
        }
        let body: Option<Value> = serde_json::from_slice(&r.body).ok();
        let Some(status) = body
            .as_ref()
            .and_then(|b| b.pointer(&self.status_field))
            .and_then(Value::as_str)
        else {
            return Verdict::Done { failed: false };
        };
        let plain: String = status
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .collect::<String>()
            .to_ascii_lowercase();
        if SUCCEEDED.contains(&plain.as_str()) {
            let result = body
                .as_ref()
                .and_then(|b| b.get("resourceLocation"))
                .and_then(Value::as_str);
            match result {
                Some(l) => Verdict::Result(l.to_owned()),
                None => Verdict::Done { failed: false },
            }
        } else if FAILED.contains(&plain.as_str()) {
            Verdict::Done { failed: true }
        } else {
            Verdict::Running(status.chars().take(64).collect())
        }
    }
}

enum Verdict {
    /// Not finished; the status as the API words it.
    Running(String),
    /// This answer is the result (`failed`: the status says it failed).
    Done { failed: bool },
    /// The result is at this URL.
    Result(String),
}

/// The final response of a call, and whether a status field said the
/// operation failed (the tool result is then an error).
pub(super) struct Finished {
    pub response: RawResponse,
    pub failed: bool,
}

impl Finished {
    fn ok(response: RawResponse) -> Finished {
        Finished {
            response,
            failed: false,
        }
    }
}

/// `url` resolved against `base`, if it is of `base`'s origin: the
/// operation's credentials never go elsewhere.
fn same_origin(base: &Url, url: &str) -> Result<Url, CallError> {
    let joined = base
        .join(url)
        .map_err(|e| CallError::StatusUrl(format!("is not a URL ({e})")))?;
    if joined.origin() != base.origin() {
        return Err(CallError::StatusUrl(format!(
            "is on another origin ({}) than the API's ({}); it is not followed with the API's credentials",
            joined.origin().ascii_serialization(),
            base.origin().ascii_serialization()
        )));
    }
    Ok(joined)
}

/// Follow `first`, the operation's answer: a 202 naming a status URL is
/// polled until the operation ends, within `max_duration`; anything else
/// is the result as it is. Cancellation (dropping this future) stops the
/// polling; nothing is sent to cancel the operation upstream.
pub(super) async fn follow(
    settings: &Settings,
    op: &Operation,
    poll: &Poll,
    ctx: &RequestContext,
    first: RawResponse,
    name: &str,
    secrets: &mut Vec<String>,
) -> Result<Finished, CallError> {
    if first.status != StatusCode::ACCEPTED {
        return Ok(Finished::ok(first));
    }
    let Some(raw) = poll.status_url(&first) else {
        return Ok(Finished::ok(first));
    };
    let base = Url::parse(&first.url).map_err(|e| CallError::Url(e.to_string()))?;
    let url = same_origin(&base, &raw)?;
    let deadline = Instant::now() + poll.max_duration;
    let mut retry_after = first.retry_after;
    let mut n = 0u32;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(CallError::PollTimedOut {
                origin: base.origin().ascii_serialization(),
                after: poll.max_duration,
                polls: n,
            });
        }
        tokio::time::sleep(poll.wait(n, retry_after).min(left)).await;
        let r = call::get_status(settings, op, ctx, &url, name, secrets).await?;
        n = n.saturating_add(1);
        match poll.judge(&r) {
            Verdict::Running(status) => {
                retry_after = r.retry_after;
                let message = format!("{name}: {status} (poll {n})");
                ctx.progress(f64::from(n), None, Some(&message));
            }
            Verdict::Done { failed } => {
                return Ok(Finished {
                    response: r,
                    failed,
                });
            }
            Verdict::Result(at) => {
                let result = same_origin(&url, &at)?;
                let r = call::get_status(settings, op, ctx, &result, name, secrets).await?;
                return Ok(Finished::ok(r));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll() -> Poll {
        Poll::parse(&contract::Poll {
            interval_ms: Some(100),
            max_interval_ms: Some(1000),
            ..contract::Poll::default()
        })
        .unwrap()
    }

    #[test]
    fn waits_double_and_retry_after_wins_up_to_the_cap() {
        let p = poll();
        let ms = |n, ra| p.wait(n, ra).as_millis();
        assert_eq!(
            (ms(0, None), ms(1, None), ms(3, None), ms(9, None)),
            (100, 200, 800, 1000)
        );
        assert_eq!(ms(0, Some(Duration::from_millis(300))), 300);
        assert_eq!(ms(0, Some(Duration::from_secs(60))), 1000);
    }

    #[test]
    fn bad_pointers_and_header_names_are_refused() {
        let bad = |d: contract::Poll| Poll::parse(&d).unwrap_err();
        assert!(
            bad(contract::Poll {
                status_field: Some("status".into()),
                ..Default::default()
            })
            .contains("statusField")
        );
        assert!(
            bad(contract::Poll {
                headers: vec!["a b".into()],
                ..Default::default()
            })
            .contains("a b")
        );
    }

    #[test]
    fn only_the_same_origin_is_followed() {
        let base = Url::parse("https://api.example.com/v1/jobs").unwrap();
        assert_eq!(
            same_origin(&base, "/v1/ops/1").unwrap().as_str(),
            "https://api.example.com/v1/ops/1"
        );
        assert_eq!(
            same_origin(&base, "ops/2").unwrap().as_str(),
            "https://api.example.com/v1/ops/2"
        );
        let e = same_origin(&base, "https://evil.example.net/ops/1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("https://evil.example.net") && e.contains("another origin"),
            "{e}"
        );
        assert!(same_origin(&base, "http://api.example.com/v1/ops/1").is_err());
    }
}

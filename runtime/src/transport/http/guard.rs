//! DNS-rebinding protection: the Host and Origin of every request must name
//! this machine (or an allow-listed name). Checked before anything else.

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};

/// Compared without case and without a lowercased copy (every request
/// passes here).
fn is_loopback(host: &str) -> bool {
    // `trim_matches` by hand: the pattern machinery is much more code.
    let b = host.as_bytes();
    let start = b.iter().take_while(|c| **c == b'[').count();
    let end = b.len() - b[start..].iter().rev().take_while(|c| **c == b']').count();
    let h = &host[start..end];
    const SUFFIX: &str = ".localhost";
    // The usual local names first, as they are.
    h == "127.0.0.1"
        || h.eq_ignore_ascii_case("localhost")
        || h == "::1"
        || h.len()
            .checked_sub(SUFFIX.len())
            .and_then(|at| h.get(at..))
            .is_some_and(|end| end.eq_ignore_ascii_case(SUFFIX))
        || h.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// "name:port", "[v6]:port" or "name" → "name" / "[v6]".
fn host_name(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.find(']').map_or(authority, |i| &authority[..=i]);
    }
    // `rsplit_once` by hand, as in `is_loopback`.
    let b = authority.as_bytes();
    match b.iter().rposition(|c| *c == b':') {
        Some(at) if b[at + 1..].iter().all(u8::is_ascii_digit) => &authority[..at],
        _ => authority,
    }
}

pub(crate) struct Allow<'a> {
    pub hosts: &'a [String],
    pub origins: &'a [String],
}

impl Allow<'_> {
    fn host_ok(&self, authority: &str) -> bool {
        let name = host_name(authority);
        is_loopback(name)
            || self.hosts.iter().any(|h| {
                h == "*" || h.eq_ignore_ascii_case(name) || h.eq_ignore_ascii_case(authority)
            })
    }

    fn origin_ok(&self, origin: &str) -> bool {
        if self
            .origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
        {
            return true;
        }
        let Some(rest) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            return false; // "null", file:, other schemes
        };
        !rest.contains('/') && is_loopback(host_name(rest))
    }

    /// Err carries the status (400 for a malformed request, else 403) and
    /// the reason.
    pub(super) fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), (StatusCode, String)> {
        let forbid = |why: String| (StatusCode::FORBIDDEN, why);
        // RFC 9112 §3.2: a request with more than one Host is a 400. Two
        // could otherwise be read differently here and by a proxy.
        let found = HostAndOrigin::of(headers);
        if found.hosts > 1 {
            return Err((
                StatusCode::BAD_REQUEST,
                "more than one Host header".to_string(),
            ));
        }
        let first_host = found.host;
        // RFC 9112 §3.2.2: the authority of an absolute-form target wins
        // over Host. Fail closed: a request whose Host cannot be read is
        // not checked as allowed.
        let host = match (uri.authority(), first_host) {
            (Some(a), _) => a.as_str(),
            (None, Some(h)) => h
                .to_str()
                .map_err(|_| forbid("the Host header is not valid ASCII".to_string()))?,
            (None, None) => return Err(forbid("the request has no Host".to_string())),
        };
        if !self.host_ok(host) {
            return Err(forbid(format!("Host {host:?} is not allowed")));
        }
        if let Some(origin) = found.origin {
            if found.origins > 1 {
                return Err(forbid("more than one Origin header".to_string()));
            }
            let origin = origin.to_str().unwrap_or("");
            if !self.origin_ok(origin) {
                return Err(forbid(format!("Origin {origin:?} is not allowed")));
            }
        }
        Ok(())
    }
}

/// The Host and Origin headers, found in one pass over the map: each
/// `get_all` hashes its name and probes (≈ 0.13k instructions a request).
#[derive(Default)]
struct HostAndOrigin<'a> {
    host: Option<&'a HeaderValue>,
    hosts: usize,
    origin: Option<&'a HeaderValue>,
    origins: usize,
}

impl<'a> HostAndOrigin<'a> {
    fn of(headers: &'a HeaderMap) -> Self {
        let mut found = HostAndOrigin::default();
        for (name, value) in headers {
            let (first, count) = if *name == header::HOST {
                (&mut found.host, &mut found.hosts)
            } else if *name == header::ORIGIN {
                (&mut found.origin, &mut found.origins)
            } else {
                continue;
            };
            first.get_or_insert(value);
            *count += 1;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(hosts: &[&str], origins: &[&str], host: Option<&str>, origin: Option<&str>) -> bool {
        let hosts: Vec<String> = hosts.iter().map(|s| s.to_string()).collect();
        let origins: Vec<String> = origins.iter().map(|s| s.to_string()).collect();
        let mut h = HeaderMap::new();
        if let Some(v) = host {
            h.insert(header::HOST, v.parse().unwrap());
        }
        if let Some(v) = origin {
            h.insert(header::ORIGIN, v.parse().unwrap());
        }
        Allow {
            hosts: &hosts,
            origins: &origins,
        }
        .check(&h, &Uri::from_static("/mcp"))
        .is_ok()
    }

    /// The hand-written trims and split read hosts as `str`'s patterns do.
    #[test]
    fn host_names_are_split_and_trimmed_as_the_str_patterns_do() {
        let hosts = [
            "",
            ":",
            "a:",
            ":1",
            "localhost",
            "localhost:3000",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:9",
            "[[::1]]",
            "[]",
            "]]",
            "[[",
            "x.localhost:1a",
            "h:1:2",
            "é:80",
            "[é]",
            "ünï.localhost",
            "127.0.0.1:",
            "::1",
        ];
        for host in hosts {
            let split = match host.rsplit_once(':') {
                Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
                _ => host,
            };
            if !host.starts_with('[') {
                assert_eq!(host_name(host), split, "{host:?}");
            }
            let trimmed = host.trim_start_matches('[').trim_end_matches(']');
            let by_pattern = trimmed == "127.0.0.1"
                || trimmed.eq_ignore_ascii_case("localhost")
                || trimmed == "::1"
                || trimmed.to_ascii_lowercase().ends_with(".localhost")
                || trimmed
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback());
            assert_eq!(is_loopback(host), by_pattern, "{host:?}");
        }
    }

    #[test]
    fn localhost_is_allowed_by_default() {
        for host in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:8080",
            "[::1]:9",
            "127.0.0.2",
        ] {
            assert!(
                check(&[], &[], Some(host), Some(&format!("http://{host}"))),
                "{host}"
            );
        }
    }

    #[test]
    fn rebinding_attempts_are_rejected() {
        assert!(!check(&[], &[], Some("evil.example.com"), None));
        assert!(!check(
            &[],
            &[],
            Some("127.0.0.1:80"),
            Some("http://evil.example.com")
        ));
        assert!(!check(&[], &[], Some("127.0.0.1:80"), Some("null")));
        assert!(!check(&[], &[], Some("localhost.evil.com"), None));
        assert!(!check(
            &[],
            &[],
            Some("127.0.0.1"),
            Some("http://127.0.0.1.evil.com")
        ));
    }

    #[test]
    fn a_missing_or_unreadable_host_is_rejected() {
        assert!(!check(&[], &[], None, None));
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            axum::http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        );
        let allow = Allow {
            hosts: &[],
            origins: &[],
        };
        assert!(allow.check(&h, &Uri::from_static("/mcp")).is_err());
        let with_authority = Uri::from_static("http://127.0.0.1:8000/mcp");
        assert!(allow.check(&HeaderMap::new(), &with_authority).is_ok());
    }

    #[test]
    fn duplicates_and_foreign_absolute_targets_are_refused() {
        let allow = Allow {
            hosts: &[],
            origins: &[],
        };
        let local = Uri::from_static("/mcp");
        let mut h = HeaderMap::new();
        h.append(header::HOST, "localhost".parse().unwrap());
        h.append(header::HOST, "evil.example.com".parse().unwrap());
        assert_eq!(
            allow.check(&h, &local).unwrap_err().0,
            StatusCode::BAD_REQUEST
        );
        let mut h = HeaderMap::new();
        h.append(header::HOST, "localhost".parse().unwrap());
        h.append(header::ORIGIN, "http://localhost".parse().unwrap());
        h.append(header::ORIGIN, "http://evil.example.com".parse().unwrap());
        assert_eq!(
            allow.check(&h, &local).unwrap_err().0,
            StatusCode::FORBIDDEN
        );
        // The target's authority wins over a local Host.
        let mut h = HeaderMap::new();
        h.append(header::HOST, "localhost".parse().unwrap());
        let foreign = Uri::from_static("http://evil.example.com/mcp");
        assert_eq!(
            allow.check(&h, &foreign).unwrap_err().0,
            StatusCode::FORBIDDEN
        );
        let local_abs = Uri::from_static("http://localhost:8000/mcp");
        let mut h = HeaderMap::new();
        h.append(header::HOST, "evil.example.com".parse().unwrap());
        assert!(allow.check(&h, &local_abs).is_ok());
    }

    #[test]
    fn allow_lists_extend_the_defaults() {
        assert!(check(
            &["mcp.example.com"],
            &[],
            Some("mcp.example.com:443"),
            None
        ));
        assert!(check(
            &[],
            &["https://app.example.com"],
            Some("localhost"),
            Some("https://app.example.com")
        ));
        assert!(!check(
            &[],
            &["https://app.example.com"],
            Some("localhost"),
            Some("https://other.example.com")
        ));
    }
}

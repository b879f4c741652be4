//! DNS-rebinding protection: the Host and Origin of every request must name
//! this machine (or an allow-listed name). Checked before anything else.

use axum::http::{HeaderMap, Uri, header};

fn is_loopback(host: &str) -> bool {
    let h = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    h == "localhost"
        || h == "::1"
        || h.ends_with(".localhost")
        || h.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// "name:port", "[v6]:port" or "name" → "name" / "[v6]".
fn host_name(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.find(']').map_or(authority, |i| &authority[..=i]);
    }
    match authority.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
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

    /// Err carries the reason for the 403.
    pub fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), String> {
        // Fail closed: a request whose Host cannot be read is not checked
        // as allowed.
        let host = match headers.get(header::HOST) {
            Some(h) => h
                .to_str()
                .map_err(|_| "the Host header is not valid ASCII".to_string())?,
            None => uri
                .authority()
                .map(|a| a.as_str())
                .ok_or_else(|| "the request has no Host".to_string())?,
        };
        if !self.host_ok(host) {
            return Err(format!("Host {host:?} is not allowed"));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !self.origin_ok(origin) {
                return Err(format!("Origin {origin:?} is not allowed"));
            }
        }
        Ok(())
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

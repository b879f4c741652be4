//! Scrubbing secrets from everything returned to the client. Upstream APIs
//! echo requests back (httpbin's /headers, error pages quoting the URL), so
//! the body of a response is as dangerous as our own error messages.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

/// Replaces every configured secret, and the encodings under which it may
/// come back (percent-encoded in an echoed URL, escaped inside JSON text),
/// with `[REDACTED]`.
#[derive(Clone, Default)]
pub struct Redactor {
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut patterns: Vec<String> = vec![];
        for s in secrets {
            let s = s.as_ref();
            if s.is_empty() {
                continue;
            }
            patterns.push(s.to_owned());
            let pct = percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
            patterns.push(lower_hex(&pct));
            patterns.push(pct);
            patterns.push(form_urlencoded::byte_serialize(s.as_bytes()).collect());
            if let Ok(json) = serde_json::to_string(s) {
                patterns.push(json[1..json.len() - 1].to_owned());
            }
        }
        patterns.sort();
        patterns.dedup();
        // Longest first, so a secret that contains another is replaced whole.
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()
            .filter(|_| !patterns.is_empty());
        Redactor { matcher }
    }

    /// What HTTP Basic credentials look like on the wire: an echo endpoint
    /// shows the base64 of `user:password`, not the password.
    pub fn basic_token(user: &str, password: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    }

    pub fn text(&self, s: &str) -> String {
        match &self.matcher {
            Some(m) => m.replace_all(s, &vec![REDACTED; m.patterns_len()]),
            None => s.to_owned(),
        }
    }

    pub fn bytes(&self, b: &[u8]) -> Vec<u8> {
        match &self.matcher {
            Some(m) => m.replace_all_bytes(b, &vec![REDACTED.as_bytes(); m.patterns_len()]),
            None => b.to_vec(),
        }
    }

    /// Redact every string and object key of a JSON value.
    pub fn json(&self, v: Value) -> Value {
        if self.matcher.is_none() {
            return v;
        }
        match v {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|i| self.json(i)).collect()),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.text(&k), self.json(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// A copy that also hides `extra` (a token obtained or forwarded for one call).
    pub fn with<S: AsRef<str>>(secrets: &[String], extra: impl IntoIterator<Item = S>) -> Self {
        let mut all: Vec<String> = secrets.to_vec();
        all.extend(extra.into_iter().map(|s| s.as_ref().to_owned()));
        Redactor::new(all)
    }
}

/// `%2F` → `%2f`: some servers echo percent-encoding in lower case.
fn lower_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for h in chars.by_ref().take(2) {
                out.push(h.to_ascii_lowercase());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_encoding_of_a_secret_is_hidden() {
        let r = Redactor::new(["s3cr3t/+ =\"x"]);
        assert_eq!(r.text("key=s3cr3t/+ =\"x!"), "key=[REDACTED]!");
        assert_eq!(r.text("?k=s3cr3t%2F%2B%20%3D%22x"), "?k=[REDACTED]");
        assert_eq!(r.text("?k=s3cr3t%2f%2b%20%3d%22x"), "?k=[REDACTED]");
        assert_eq!(r.text("k=s3cr3t%2F%2B+%3D%22x"), "k=[REDACTED]");
        assert_eq!(r.text(r#"{"k":"s3cr3t/+ =\"x"}"#), r#"{"k":"[REDACTED]"}"#);
        assert_eq!(
            r.json(json!({"a": ["s3cr3t/+ =\"x"], "s3cr3t/+ =\"x": 1})),
            json!({"a": ["[REDACTED]"], "[REDACTED]": 1})
        );
        assert_eq!(r.bytes(b"\x00s3cr3t/+ =\"x\xff"), b"\x00[REDACTED]\xff");
    }

    #[test]
    fn nothing_configured_changes_nothing() {
        let r = Redactor::new(Vec::<String>::new());
        assert_eq!(r.text("abc"), "abc");
        let r = Redactor::new([""]);
        assert_eq!(r.text("abc"), "abc");
    }

    #[test]
    fn a_longer_secret_wins_over_its_prefix() {
        let r = Redactor::new(["abc", "abcdef"]);
        assert_eq!(r.text("xabcdefx abc"), "x[REDACTED]x [REDACTED]");
    }
}

//! Scrubbing secrets from everything returned to the client. Upstream APIs
//! echo requests back (httpbin's /headers, error pages quoting the URL), so
//! the body of a response is as dangerous as our own error messages.
//!
//! Text is matched twice: as it is, and with its JSON string escapes
//! undone (`\/`, `\uXXXX`, `\"`…), so a secret echoed the way PHP's
//! `json_encode` spells it — in any mix of escapes — is found too; the
//! escaped span of the original text is what gets replaced.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use serde_json::Value;

pub(super) const REDACTED: &str = "[REDACTED]";

/// Replaces every configured secret, and the encodings under which it may
/// come back (percent-encoded in an echoed URL, escaped inside JSON text),
/// with `[REDACTED]`.
#[derive(Clone, Default)]
pub(super) struct Redactor {
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    pub(super) fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
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
                let json = &json[1..json.len() - 1];
                // Escaped once more (JSON text inside a JSON string), the
                // decoded view reads `\/` and `\"`.
                patterns.push(json.replace('/', "\\/"));
                patterns.push(json.to_owned());
            }
        }
        if patterns.is_empty() {
            return Redactor::default();
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
    pub(super) fn basic_token(user: &str, password: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    }

    /// Whether any secret is configured (else output passes unchanged).
    pub(super) fn hides_anything(&self) -> bool {
        self.matcher.is_some()
    }

    pub(super) fn text(&self, s: &str) -> String {
        match self.redact(s.as_bytes()) {
            // Spans start and end on character boundaries (see `redact`).
            Some(out) => String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            None => s.to_owned(),
        }
    }

    pub(super) fn bytes(&self, b: &[u8]) -> Vec<u8> {
        self.redact(b).unwrap_or_else(|| b.to_vec())
    }

    /// None when nothing is configured.
    fn redact(&self, hay: &[u8]) -> Option<Vec<u8>> {
        let m = self.matcher.as_ref()?;
        let plain = m.replace_all_bytes(hay, &vec![REDACTED.as_bytes(); m.patterns_len()]);
        if !plain.contains(&b'\\') {
            return Some(plain);
        }
        // Match on the un-escaped view and replace the original spans.
        let view = Unescaped::of(&plain);
        let mut out = Vec::with_capacity(plain.len());
        let mut at = 0;
        for found in m.find_iter(&view.bytes) {
            let (start, end) = view.original(found.start(), found.end());
            out.extend_from_slice(&plain[at..start]);
            out.extend_from_slice(REDACTED.as_bytes());
            at = end;
        }
        out.extend_from_slice(&plain[at..]);
        Some(out)
    }

    /// Redact every string and object key of a JSON value.
    pub(super) fn json(&self, v: Value) -> Value {
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

    /// This redactor of `secrets`, or, when a call brought `extra` ones (a
    /// token obtained or forwarded for it), a new one hiding both. Most
    /// calls bring none and reuse the automaton built at start-up.
    pub(super) fn with(self, secrets: &[String], extra: &[String]) -> Self {
        if extra.is_empty() {
            return self;
        }
        Redactor::new(secrets.iter().chain(extra))
    }
}

/// Shortest *piece* of a credential header that is redacted on its own. A
/// header's whole value, an Authorization header's credentials and a Basic
/// password are whole credentials: always redacted, whatever their length
/// (a short one gets the start-up warning). Pieces — one cookie's value, an
/// auth-param, the part after a space in an `X-Api-Key`-style header — are
/// redacted only from this length on: `lang=en` or `consent=1` are no
/// secrets, and redacting every `en` or `1` would mangle all output, while a
/// session value under 8 characters protects nothing anyway.
pub(super) const MIN_PIECE_LEN: usize = 8;

/// The secrets in the value of a credential-looking header (`--header`, or
/// the MCP client's forwarded Authorization): the whole value, plus
/// - Cookie: each cookie's value (`a=x; sid=SECRET` → `SECRET`);
/// - Authorization / Proxy-Authorization (`scheme credentials`): the
///   credentials (the token after `Bearer `); for Basic also the decoded
///   `user:password` and the password; for other schemes each auth-param
///   value (`Signature=…`) as a piece;
/// - any other header: the part after the first space, as a piece.
pub(super) fn header_secrets(name: &str, value: &str) -> Vec<String> {
    let value = value.trim();
    let mut out = vec![value.to_owned()];
    let mut piece = |p: &str| {
        let p = p.trim();
        let p = p
            .strip_prefix('"')
            .and_then(|p| p.strip_suffix('"'))
            .unwrap_or(p);
        if p.len() >= MIN_PIECE_LEN {
            out.push(p.to_owned());
        }
    };
    let name = name.to_ascii_lowercase();
    if name == "cookie" {
        for pair in value.split(';') {
            if let Some((_, v)) = pair.split_once('=') {
                piece(v);
            }
        }
        return out;
    }
    let Some((scheme, credentials)) = value.split_once([' ', '\t']) else {
        return out;
    };
    let credentials = credentials.trim();
    if !matches!(name.as_str(), "authorization" | "proxy-authorization") {
        piece(credentials);
        return out;
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((_, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            out.push(password.to_owned());
            out.extend(decoded.clone());
        }
    } else if !scheme.eq_ignore_ascii_case("bearer") {
        // `Digest username="u", response="…"`, `AWS4-HMAC-SHA256 …, Signature=…`
        for param in credentials.split(',') {
            if let Some((_, v)) = param.split_once('=') {
                piece(v);
            }
        }
    }
    out.push(credentials.to_owned());
    out.retain(|s| !s.is_empty());
    out
}

/// Text with its JSON string escapes decoded, and where each escape was, to
/// map a match back to the original bytes. Backslashes that start no valid
/// escape (and lone surrogates) are kept as they are.
struct Unescaped {
    bytes: Vec<u8>,
    /// (start in `bytes`, start in the original, decoded length, escape
    /// length) of every escape, in order; bytes between escapes map 1:1.
    escapes: Vec<(usize, usize, u8, u8)>,
}

impl Unescaped {
    fn of(src: &[u8]) -> Self {
        let mut u = Unescaped {
            bytes: Vec::with_capacity(src.len()),
            escapes: vec![],
        };
        let mut i = 0;
        while i < src.len() {
            match escape_at(&src[i..]) {
                Some((c, used)) => {
                    let mut buf = [0u8; 4];
                    let c = c.encode_utf8(&mut buf);
                    u.escapes
                        .push((u.bytes.len(), i, c.len() as u8, used as u8));
                    u.bytes.extend_from_slice(c.as_bytes());
                    i += used;
                }
                None => {
                    u.bytes.push(src[i]);
                    i += 1;
                }
            }
        }
        u
    }

    /// The original span behind decoded bytes `start..end` (non-empty). A
    /// match starts and ends on character boundaries (its pattern is UTF-8),
    /// hence on whole escapes.
    fn original(&self, start: usize, end: usize) -> (usize, usize) {
        (self.at(start, false), self.at(end - 1, true))
    }

    /// Where decoded byte `p` came from: the start of its original bytes,
    /// or (`after`) the end.
    fn at(&self, p: usize, after: bool) -> usize {
        let i = self.escapes.partition_point(|e| e.0 <= p);
        let Some(&(d, o, dlen, olen)) = i.checked_sub(1).and_then(|i| self.escapes.get(i)) else {
            return p + usize::from(after);
        };
        let (dend, oend) = (d + usize::from(dlen), o + usize::from(olen));
        match (p < dend, after) {
            (true, false) => o,
            (true, true) => oend,
            (false, _) => oend + (p - dend) + usize::from(after),
        }
    }
}

/// The character a JSON escape at the start of `s` stands for, and the
/// escape's length; None when `s` starts with no valid escape.
fn escape_at(s: &[u8]) -> Option<(char, usize)> {
    if s.first() != Some(&b'\\') {
        return None;
    }
    let simple = match *s.get(1)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => return unicode_escape(s),
        _ => return None,
    };
    Some((simple, 2))
}

/// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`.
fn unicode_escape(s: &[u8]) -> Option<(char, usize)> {
    let hex = |at: usize| -> Option<u32> {
        let h = s.get(at..at + 4)?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    let first = hex(2)?;
    if let Some(c) = char::from_u32(first) {
        return Some((c, 6));
    }
    if !(0xD800..0xDC00).contains(&first) || s.get(6..8) != Some(b"\\u") {
        return None;
    }
    let second = hex(8).filter(|l| (0xDC00..0xE000).contains(l))?;
    let c = char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))?;
    Some((c, 12))
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
    fn json_escaped_spellings_are_hidden() {
        // Base64 and AWS-style keys hold `/`; PHP's json_encode writes `\/`.
        let r = Redactor::new(["wJalrXUtnFEMI/K7MDENG+bPxRfiCY"]);
        for echoed in [
            r#"{"key":"wJalrXUtnFEMI\/K7MDENG+bPxRfiCY"}"#,
            r#"{"key":"wJalrXUtnFEMI\u002fK7MDENG+bPxRfiCY"}"#,
            r#"{"key":"wJalrXUtnFEMI\u002FK7MDENG\u002bbPxRfiCY"}"#,
            r#"{"key":"\u0077JalrXUtnFEMI\/K7MDENG+bPxRfiC\u0059"}"#,
            r#"{"outer":"{\"key\":\"wJalrXUtnFEMI\\\/K7MDENG+bPxRfiCY\"}"}"#,
        ] {
            let out = r.text(&format!("error: {echoed} (end)"));
            assert!(!out.contains("K7MDENG"), "{echoed} -> {out}");
            assert!(
                out.starts_with("error: {") && out.ends_with("} (end)"),
                "{out}"
            );
            assert!(out.contains(REDACTED), "{out}");
            assert!(
                !r.bytes(echoed.as_bytes())
                    .windows(7)
                    .any(|w| w == b"K7MDENG")
            );
        }
        // Non-ASCII and astral characters through \u escapes and pairs.
        let r = Redactor::new(["pässwört😀/x"]);
        let out = r.text(r#"a p\u00e4ssw\u00f6rt\ud83d\ude00\/x b"#);
        assert_eq!(out, "a [REDACTED] b");
        // Text that merely holds backslashes is left alone.
        assert_eq!(r.text(r"C:\dir\u00zz \ud800 \"), r"C:\dir\u00zz \ud800 \");
    }

    #[test]
    fn nothing_configured_changes_nothing() {
        let r = Redactor::new(Vec::<String>::new());
        assert_eq!(r.text("abc"), "abc");
        let r = Redactor::new([""]);
        assert_eq!(r.text("abc"), "abc");
    }

    fn secrets_of(name: &str, value: &str) -> Vec<String> {
        let mut s = header_secrets(name, value);
        s.sort();
        s.dedup();
        s
    }

    #[test]
    fn each_cookie_value_is_a_secret_but_not_a_short_one() {
        assert_eq!(
            secrets_of(
                "Cookie",
                " theme=dark; sid=SECRET-123 ; q=\"quoted-value\"; flag"
            ),
            [
                "SECRET-123",
                "quoted-value",
                "theme=dark; sid=SECRET-123 ; q=\"quoted-value\"; flag"
            ]
        );
        // The whole value is a credential even when short.
        assert_eq!(secrets_of("Cookie", "s=1"), ["s=1"]);
    }

    #[test]
    fn authorization_credentials_are_secrets_whatever_their_length() {
        assert_eq!(
            secrets_of("Authorization", "Bearer abc"),
            ["Bearer abc", "abc"]
        );
        let basic = Redactor::basic_token("alice", "pw");
        assert_eq!(
            secrets_of("authorization", &format!("Basic {basic}")),
            [
                format!("Basic {basic}"),
                basic.clone(),
                "alice:pw".into(),
                "pw".into()
            ]
        );
        // Not base64, or no colon: only the token itself.
        assert_eq!(
            secrets_of("Authorization", "Basic %%%"),
            ["%%%", "Basic %%%"]
        );
        assert_eq!(
            secrets_of(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830, SignedHeaders=host, Signature=5d672d79c15b"
            ),
            [
                "5d672d79c15b",
                "AKIDEXAMPLE/20150830",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830, SignedHeaders=host, Signature=5d672d79c15b",
                "Credential=AKIDEXAMPLE/20150830, SignedHeaders=host, Signature=5d672d79c15b",
            ]
        );
    }

    #[test]
    fn other_credential_headers_keep_a_long_second_word() {
        assert_eq!(secrets_of("X-Api-Key", "k3y"), ["k3y"]);
        assert_eq!(secrets_of("X-Api-Key", "Token abc"), ["Token abc"]);
        assert_eq!(
            secrets_of("X-Api-Key", "Token abcdefgh"),
            ["Token abcdefgh", "abcdefgh"]
        );
    }

    #[test]
    fn a_longer_secret_wins_over_its_prefix() {
        let r = Redactor::new(["abc", "abcdef"]);
        assert_eq!(r.text("xabcdefx abc"), "x[REDACTED]x [REDACTED]");
    }
}

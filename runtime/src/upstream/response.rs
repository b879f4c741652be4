//! Upstream responses → MCP results. JSON becomes structured content plus
//! its text; text stays text; images and audio become image/audio content;
//! other binary an embedded blob. A non-2xx status is a tool result with
//! `isError`, carrying the status and (a bounded piece of) the body. All of
//! it passes through the redactor first.

use super::body::{essence, is_json};
use super::redact::Redactor;
use crate::error::McpError;
use crate::model::{CallToolResult, Content, ReadResourceResult, ResourceContents};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// How much of an error body the client sees.
pub(super) const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Most JSON values an upstream body is parsed into (one per 32 bytes of
/// the default 16 MiB response limit). A parsed value costs tens of bytes
/// whatever its text, so a larger document is passed on as text instead,
/// which costs its size.
pub(super) const MAX_JSON_VALUES: usize = crate::jsonrpc::values_for_bytes(16 * 1024 * 1024);

/// The body as JSON, unless it is not JSON or holds too many values; with
/// it, the body itself as the value's compact text when it already is that
/// text (see `Scan`), which spares serializing the value again. The text
/// is the body, taken (left empty), not copied.
fn parse_json(body: &mut Vec<u8>, red: &Redactor) -> Option<(Value, Option<String>)> {
    let scan = Scan::of(body);
    if scan.values > MAX_JSON_VALUES {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    // A redactor that hides something may change the value; a duplicate
    // key leaves fewer entries than the text has.
    let text = (scan.compact && !red.hides_anything() && entries(&v) == scan.entries)
        .then(|| {
            // Valid JSON is UTF-8; the body is put back if not.
            String::from_utf8(std::mem::take(body))
                .map_err(|e| *body = e.into_bytes())
                .ok()
        })
        .flatten();
    Some((red.json(v), text))
}

/// Object entries in a value, nested ones included.
fn entries(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.len() + m.values().map(entries).sum::<usize>(),
        Value::Array(a) => a.iter().map(entries).sum(),
        _ => 0,
    }
}

/// One pass over a JSON text, without parsing it.
struct Scan {
    /// An upper bound of its values (1 + every `{`, `[` and `,` outside
    /// strings); counting stops past `MAX_JSON_VALUES`.
    values: usize,
    /// Its object entries (every `:` outside strings).
    entries: usize,
    /// Whether `serde_json::to_string` of the parsed value gives the same
    /// bytes, as far as the text shows: no whitespace between tokens, no
    /// escapes but the ones serde_json writes itself, integers only (a
    /// float's digits may be written back differently) of at most 18
    /// digits (larger ones may become floats) and not `-0` (a float too).
    compact: bool,
}

impl Scan {
    fn of(text: &[u8]) -> Scan {
        let (mut values, mut entries, mut compact) = (1usize, 0usize, true);
        let mut digits = 0u32;
        let mut prev = 0u8;
        let mut at = 0;
        while let Some(&b) = text.get(at) {
            at += 1;
            match b {
                b'"' => {
                    // A string: skipped to its closing quote, each escape
                    // checked on the way; nothing in it counts.
                    at = Scan::string_end(text, at, &mut compact);
                }
                b'{' | b'[' | b',' => {
                    values += 1;
                    if values > MAX_JSON_VALUES {
                        break;
                    }
                }
                b':' => entries += 1,
                b'0'..=b'9' => {
                    digits += 1;
                    compact &= digits <= 18 && !(prev == b'-' && b == b'0');
                }
                // `e` also spells `true` and `false`: an exponent's follows a digit.
                b'e' | b'E' if prev.is_ascii_digit() => compact = false,
                b'.' | b'+' | b' ' | b'\t' | b'\n' | b'\r' => compact = false,
                _ => {}
            }
            if !b.is_ascii_digit() {
                digits = 0;
            }
            prev = b;
        }
        Scan {
            values,
            entries,
            compact,
        }
    }

    /// Where the string whose body starts at `at` ends (past its closing
    /// quote, or the text's end); an escape serde_json does not write
    /// clears `compact`.
    fn string_end(text: &[u8], mut at: usize, compact: &mut bool) -> usize {
        loop {
            let rest = text.get(at..).unwrap_or_default();
            let Some(n) = rest.iter().position(|&c| c == b'"' || c == b'\\') else {
                return text.len();
            };
            at += n;
            if text[at] == b'"' {
                return at + 1;
            }
            // A backslash: the byte after it is escaped, whatever it is.
            let Some(&escaped) = text.get(at + 1) else {
                return text.len();
            };
            *compact &= matches!(escaped, b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f');
            at += 2;
        }
    }
}

/// A response read in full (or, for errors, its first part).
pub(super) struct RawResponse {
    pub status: StatusCode,
    pub content_type: Option<String>,
    /// A Content-Encoding the client did not decode (not gzip, deflate, br
    /// or zstd, nor identity): the body is still encoded.
    pub content_encoding: Option<String>,
    pub content_length: Option<u64>,
    pub body: Vec<u8>,
    /// Only the first part of the body was read.
    pub truncated: bool,
    /// The request URL without its query, which may hold an API key.
    pub url: String,
    pub location: Option<String>,
    pub retry_after: Option<Duration>,
    /// Every response header (a 202's status URL may be in any of them).
    pub headers: reqwest::header::HeaderMap,
}

enum Payload {
    Empty,
    /// The value, and its compact text when the body already is that text.
    Json(Value, Option<String>),
    Text(String),
    Image(String, String),
    Audio(String, String),
    Binary(String, String),
}

fn is_text(essence: &str) -> bool {
    essence.starts_with("text/")
        || essence.ends_with("+xml")
        || essence.ends_with("+yaml")
        || matches!(
            essence,
            "application/xml"
                | "application/javascript"
                | "application/yaml"
                | "application/x-yaml"
                | "application/x-www-form-urlencoded"
                | "application/graphql"
                | "application/x-ndjson"
        )
}

impl RawResponse {
    pub(super) fn status_line(&self) -> String {
        let reason = self.status.canonical_reason().unwrap_or("");
        format!("HTTP {} {reason}", self.status.as_u16())
            .trim_end()
            .to_owned()
    }

    fn essence(&self) -> Option<String> {
        self.content_type.as_deref().map(essence)
    }

    /// The body as a payload; a JSON body that is its own compact text
    /// is moved into it (`self.body` is then empty).
    fn payload(&mut self, red: &Redactor) -> Payload {
        if self.body.is_empty() {
            return Payload::Empty;
        }
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(red.bytes(b));
        let text = |body: &[u8]| red.text(&String::from_utf8_lossy(body));
        // JSON, the common case, checked on the header itself: no copy.
        if self.content_type.as_deref().is_some_and(is_json) {
            return match parse_json(&mut self.body, red) {
                Some((v, text)) => Payload::Json(v, text),
                None => Payload::Text(text(&self.body)),
            };
        }
        let Some(e) = self.essence() else {
            // No Content-Type: sniff JSON, then text, else bytes.
            return match parse_json(&mut self.body, red) {
                Some((v, text)) => Payload::Json(v, text),
                None if std::str::from_utf8(&self.body).is_ok() => Payload::Text(text(&self.body)),
                None => Payload::Binary(b64(&self.body), "application/octet-stream".into()),
            };
        };
        if is_text(&e) {
            Payload::Text(text(&self.body))
        } else if e.starts_with("image/") {
            Payload::Image(b64(&self.body), e)
        } else if e.starts_with("audio/") {
            Payload::Audio(b64(&self.body), e)
        } else {
            Payload::Binary(b64(&self.body), e)
        }
    }

    /// The encoding a non-empty body is still in, if any: such a body is
    /// never shown (it would be bytes passed off as text).
    fn undecodable(&self) -> Option<&str> {
        self.content_encoding
            .as_deref()
            .filter(|_| !self.body.is_empty())
    }

    fn size(&self) -> String {
        let n = self.content_length.unwrap_or(self.body.len() as u64);
        format!("{n} bytes")
    }

    fn summary(&self, mime: &str) -> String {
        format!(
            "{}: {} bytes of {mime}",
            self.status_line(),
            self.body.len()
        )
    }

    /// The text of an error response: redacted, then cut to the limit
    /// (redacting first, so a cut never leaves half a secret).
    fn error_text(&self, red: &Redactor) -> String {
        let mut out = self.status_line();
        if let Some(loc) = &self.location
            && self.status.is_redirection()
        {
            out.push_str(&format!(
                "\nredirect to {} not followed: it leaves the API's origin",
                red.text(loc)
            ));
        }
        if self.body.is_empty() {
            return out;
        }
        if let Some(encoding) = self.undecodable() {
            out.push_str(&format!(
                "\n\n({} with Content-Encoding {} not shown: it cannot be decoded)",
                self.size(),
                red.text(encoding)
            ));
            return out;
        }
        let textual = self.essence().is_none_or(|e| is_json(&e) || is_text(&e));
        if !textual && std::str::from_utf8(&self.body).is_err() {
            let mime = self.content_type.as_deref().unwrap_or("unknown type");
            out.push_str(&format!(
                "\n\n({} bytes of {mime} not shown)",
                self.body.len()
            ));
            return out;
        }
        let mut body = red.text(&String::from_utf8_lossy(&self.body));
        out.push_str("\n\n");
        if body.len() > ERROR_BODY_LIMIT || self.truncated {
            let total = self
                .content_length
                .map_or("a longer body".to_owned(), |n| format!("{n} bytes"));
            cut(&mut body, ERROR_BODY_LIMIT, &total);
        }
        out.push_str(&body);
        out
    }

    /// A successful response whose body is still encoded.
    fn undecodable_text(&self, encoding: &str, red: &Redactor) -> String {
        format!(
            "The upstream answered {} with Content-Encoding {}, which cannot be decoded (supported: gzip, deflate, br, zstd); {} not shown",
            self.status_line(),
            red.text(encoding),
            self.size()
        )
    }

    /// The tool result. `output` is the document's response schema, when
    /// the tool declares one (relaxed, see `lenient`): then there is always
    /// structured content, and a response that departs from the document
    /// is still a success, with a note saying where. A JSON body may be
    /// moved into the result (see `payload`).
    pub(super) fn tool_result(
        &mut self,
        wrapped: bool,
        output: Option<&jsonschema::Validator>,
        red: &Redactor,
    ) -> CallToolResult {
        if self.status == StatusCode::NOT_MODIFIED {
            return self.not_modified_result(output.is_some());
        }
        if !self.status.is_success() {
            return CallToolResult::error(self.error_text(red));
        }
        if let Some(encoding) = self.undecodable() {
            return CallToolResult::error(self.undecodable_text(encoding, red));
        }
        // Where a created (or accepted) thing lives: often the only place
        // an API puts the new id.
        let location = self
            .location
            .as_deref()
            .map(|l| format!("Location: {}", red.text(l)));
        let has_body = !self.body.is_empty();
        let (mut result, not_object) =
            self.payload_result(wrapped, output.is_some(), location.as_deref(), red);
        if let Some(l) = location
            && has_body
        {
            result.content.push(Content::text(l));
        }
        if let Some(schema) = output {
            add_schema_note(&mut result, schema, not_object);
        }
        result
    }

    /// The answer to a conditional request the model made: not a failure.
    /// With an output schema there is no structured content to give, so
    /// MCP leaves only a tool error.
    fn not_modified_result(&self, declared: bool) -> CallToolResult {
        let text = format!(
            "{}: unchanged since the version the request's conditions (If-None-Match, If-Modified-Since) name; no body is sent.",
            self.status_line()
        );
        if declared {
            CallToolResult::error(text)
        } else {
            CallToolResult::text(text)
        }
    }

    /// A successful response's body as a tool result, and whether it is a
    /// bare array or scalar where the document (`declared`) promised an
    /// object.
    fn payload_result(
        &mut self,
        wrapped: bool,
        declared: bool,
        location: Option<&str>,
        red: &Redactor,
    ) -> (CallToolResult, bool) {
        let result = match self.payload(red) {
            Payload::Empty => CallToolResult::text(match location {
                Some(l) => format!("{}\n{l}", self.status_line()),
                None => self.status_line(),
            }),
            Payload::Json(v, text) => return json_result(v, text, wrapped, declared),
            Payload::Text(t) => CallToolResult::text(t),
            Payload::Image(data, mime) => CallToolResult::content(vec![
                Content::text(self.summary(&mime)),
                Content::image(data, mime),
            ]),
            Payload::Audio(data, mime) => CallToolResult::content(vec![
                Content::text(self.summary(&mime)),
                Content::audio(data, mime),
            ]),
            Payload::Binary(data, mime) => CallToolResult::content(vec![
                Content::text(self.summary(&mime)),
                Content::resource(ResourceContents::blob(
                    red.text(&self.url),
                    Some(&mime),
                    data,
                )),
            ]),
        };
        (result, false)
    }

    /// The result of `resources/read` for an upstream-backed resource.
    pub(super) fn resource_result(
        &mut self,
        uri: &str,
        red: &Redactor,
    ) -> Result<ReadResourceResult, McpError> {
        if self.status == StatusCode::NOT_FOUND {
            return Err(McpError::resource_not_found(uri));
        }
        if !self.status.is_success() {
            return Err(McpError::internal(format!(
                "upstream request failed: {}",
                self.error_text(red)
            )));
        }
        if let Some(encoding) = self.undecodable() {
            return Err(McpError::internal(self.undecodable_text(encoding, red)));
        }
        let mime = self.essence();
        let contents = match self.payload(red) {
            Payload::Empty => ResourceContents::text(uri, mime.as_deref(), ""),
            Payload::Json(v, text) => ResourceContents::text(
                uri,
                Some("application/json"),
                text.unwrap_or_else(|| serde_json::to_string(&v).unwrap_or_default()),
            ),
            Payload::Text(t) => ResourceContents::text(uri, mime.as_deref(), t),
            Payload::Image(data, m) | Payload::Audio(data, m) | Payload::Binary(data, m) => {
                ResourceContents::blob(uri, Some(&m), data)
            }
        };
        Ok(ReadResourceResult {
            contents: vec![contents],
        })
    }
}

/// A JSON body as a tool result: the text, and the structured content
/// when the value is an object or the tool's schema wraps it. The second
/// value is whether a bare array or scalar stands where the document
/// (`declared`) promised an object.
fn json_result(
    v: Value,
    text: Option<String>,
    wrapped: bool,
    declared: bool,
) -> (CallToolResult, bool) {
    // The same compact text as `to_string`, written straight into a buffer
    // rather than through `fmt` (a value's keys are strings: it cannot fail).
    let text = text.unwrap_or_else(|| serde_json::to_string(&v).unwrap_or_default());
    let mut not_object = false;
    let structured = match v {
        v if wrapped => Some(json!({ "result": v })),
        v @ Value::Object(_) => Some(v),
        // The document promised an object: the declared (relaxed) schema
        // accepts the value wrapped.
        v if declared => {
            not_object = true;
            Some(json!({ "result": v }))
        }
        // MCP structured content is an object; a bare array or scalar
        // without a wrapping schema travels as text only.
        _ => None,
    };
    let result = CallToolResult {
        structured_content: structured,
        ..CallToolResult::text(text)
    };
    (result, not_object)
}

/// With an output schema: structured content is required (clients refuse a
/// result without it), so a body that is not JSON gets an empty object and
/// stays in the text; a departure from the document's schema is named in a
/// last text block, in one line that never quotes the value.
fn add_schema_note(result: &mut CallToolResult, schema: &jsonschema::Validator, not_object: bool) {
    let problem = match &result.structured_content {
        None => Some("it is not JSON".to_owned()),
        Some(_) if not_object => Some("it is not a JSON object; `result` holds it".to_owned()),
        Some(s) => schema.iter_errors(s).next().map(|e| schema_problem(&e)),
    };
    result.structured_content.get_or_insert_with(|| json!({}));
    if let Some(problem) = problem {
        result.content.push(Content::text(format!(
            "Note: the response departs from the API's own description ({problem}); it is passed on as received."
        )));
    }
}

/// Cut `text` to at most `limit` bytes (at a character boundary) and say so.
fn cut(text: &mut String, limit: usize, total: &str) {
    let mut at = text.len().min(limit);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text.truncate(at);
    text.push_str(&format!("\n[truncated: the first {at} bytes of {total}]"));
}

/// Longest instance path or detail quoted in an output-schema problem.
const PROBLEM_PART_LIMIT: usize = 200;

/// What is wrong with a response, in one short line: the keyword, where,
/// and the validator's message with the value masked. The instance itself
/// (possibly the whole response, which follows anyway) is never quoted.
fn schema_problem(e: &jsonschema::ValidationError) -> String {
    let short = |mut s: String| {
        if s.len() > PROBLEM_PART_LIMIT {
            let mut at = PROBLEM_PART_LIMIT;
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            s.truncate(at);
            s.push('…');
        }
        s
    };
    let at = e.instance_path().to_string();
    let at = if at.is_empty() {
        "the top level".to_owned()
    } else {
        short(at)
    };
    format!(
        "`{}` fails at {at} ({})",
        e.kind().keyword(),
        short(e.masked_with("the value").to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, ct: Option<&str>, body: &[u8]) -> RawResponse {
        RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            content_type: ct.map(str::to_owned),
            content_encoding: None,
            content_length: Some(body.len() as u64),
            body: body.to_vec(),
            truncated: false,
            url: "http://h/x".into(),
            location: None,
            retry_after: None,
            headers: Default::default(),
        }
    }

    #[test]
    fn error_bodies_are_cut_after_redaction() {
        let secret = "s".repeat(20);
        let mut body = "a".repeat(ERROR_BODY_LIMIT - 5).into_bytes();
        body.extend_from_slice(secret.as_bytes());
        let r = raw(500, Some("text/plain"), &body);
        let text = r.error_text(&Redactor::new([&secret]));
        assert!(text.starts_with("HTTP 500 Internal Server Error\n\n"));
        assert!(
            !text.contains("sssss"),
            "no piece of the secret survives the cut"
        );
        assert!(text.contains("[truncated: the first 65536 bytes of 65551 bytes]"));
    }

    #[test]
    fn json_text_is_the_compact_form_whether_or_not_the_body_is_reused() {
        let bodies = [
            r#"{"args":{},"origin":"127.0.0.1","n":-12,"ok":true,"no":false,"x":null}"#,
            r#"[1,[2,{"a":"b\"c\\d\n\t\r\b\f"}],"é"]"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"b":1},"c":[]}"#,
            r#"{"a": 1}"#,
            r#"{"a":1.0,"b":1e3,"c":1E3,"d":-0,"e":-0.0}"#,
            r#"{"big":123456789012345678901234567890,"u":18446744073709551615}"#,
            r#"{"s":"\/\u0041\u00e9\u001f"}"#,
            "{\"a\":1}\n",
            r#"[]"#,
            r#""text""#,
            r#"12"#,
            r#"-0"#,
            r#"true"#,
        ];
        for body in bodies {
            let v: Value = serde_json::from_str(body).unwrap();
            let want = serde_json::to_string(&v).unwrap();
            let (_, text) =
                parse_json(&mut body.as_bytes().to_vec(), &Redactor::default()).unwrap();
            if let Some(text) = &text {
                assert_eq!(text, &want, "{body}");
            }
            let mut r = raw(200, Some("application/json"), body.as_bytes());
            let result = r.tool_result(true, None, &Redactor::default());
            let Content::Text { text, .. } = &result.content[0] else {
                panic!("{body}: not text");
            };
            assert_eq!(text, &want, "{body}");
        }
        let reused = |b: &str| {
            parse_json(&mut b.as_bytes().to_vec(), &Redactor::default())
                .unwrap()
                .1
        };
        assert!(reused(bodies[0]).is_some() && reused(bodies[1]).is_some());
        assert!(reused(bodies[2]).is_none() && reused(bodies[5]).is_none());
        let red = Redactor::new(["127.0.0.1"]);
        assert!(
            parse_json(&mut bodies[0].as_bytes().to_vec(), &red)
                .unwrap()
                .1
                .is_none()
        );
    }

    #[test]
    fn json_of_too_many_values_is_passed_on_as_text() {
        let within = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES - 2));
        let mut r = raw(200, Some("application/json"), within.as_bytes());
        let result = r.tool_result(true, None, &Redactor::default());
        assert!(result.structured_content.is_some(), "parsed");
        let over = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES - 1));
        let mut r = raw(200, Some("application/json"), over.as_bytes());
        let result = r.tool_result(true, None, &Redactor::default());
        assert!(result.structured_content.is_none(), "not parsed");
        assert!(!result.is_error);
        match &result.content[..] {
            [Content::Text { text, .. }] => assert_eq!(text, &over),
            other => panic!("one text item expected: {other:?}"),
        }
    }

    fn validator(schema: serde_json::Value) -> jsonschema::Validator {
        jsonschema::validator_for(&schema).unwrap()
    }

    /// The byte-at-a-time scan `Scan::of` replaced (strings skipped to
    /// their next quote or backslash instead).
    fn scan_bytewise(text: &[u8]) -> (usize, usize, bool) {
        let (mut values, mut entries, mut compact) = (1usize, 0usize, true);
        let (mut in_string, mut escaped, mut digits) = (false, false, 0u32);
        let mut prev = 0u8;
        for &b in text {
            if in_string {
                if escaped {
                    escaped = false;
                    compact &= matches!(b, b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f');
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' | b',' => {
                    values += 1;
                    if values > MAX_JSON_VALUES {
                        break;
                    }
                }
                b':' => entries += 1,
                b'0'..=b'9' => {
                    digits += 1;
                    compact &= digits <= 18 && !(prev == b'-' && b == b'0');
                }
                b'e' | b'E' if prev.is_ascii_digit() => compact = false,
                b'.' | b'+' | b' ' | b'\t' | b'\n' | b'\r' => compact = false,
                _ => {}
            }
            if !b.is_ascii_digit() {
                digits = 0;
            }
            prev = b;
        }
        (values, entries, compact)
    }

    #[test]
    fn the_scan_counts_as_the_bytewise_one_did() {
        let mut texts: Vec<Vec<u8>> = [
            r#"{"args":{},"origin":"127.0.0.1","bench":"upstream-ok"}"#,
            r#"{"a":"x\"y","b":"\\","c":"\u0041","d":"\/"}"#,
            r#"{"a":"1,2:3{[","b":[1,-0,-1,12345678901234567890]}"#,
            r#"{"e":1e5,"t":true,"f":false,"s":"e","n":null,"x":"1"}"#,
            r#"["unterminated"#,
            r#"["ends in an escape\"#,
            r#""\"#,
            r#"{"k" : "v"}"#,
            "\"",
            "",
            "\"a\"1e",
            "[\"\\n\\t\\r\\b\\f\\\"\"]",
        ]
        .iter()
        .map(|t| t.as_bytes().to_vec())
        .collect();
        // Random texts over the bytes that matter.
        let alphabet = b"\"\\{}[],:0123456789-eE.+ \t\nabtnrfu/";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..400 {
            let text = (0..len % 60)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            texts.push(text);
        }
        for t in &texts {
            let s = Scan::of(t);
            let got = (s.values, s.entries, s.compact);
            assert_eq!(got, scan_bytewise(t), "{}", String::from_utf8_lossy(t));
        }
    }

    #[test]
    fn a_location_header_reaches_the_model() {
        let mut r = raw(201, None, b"");
        r.location = Some("https://api.example.com/pets/42?key=s3cret-value".into());
        let red = Redactor::new(["s3cret-value"]);
        let empty = serde_json::to_value(r.tool_result(false, None, &red)).unwrap();
        let text = empty["content"][0]["text"].as_str().unwrap();
        assert!(
            text.starts_with("HTTP 201 Created\nLocation: https://api.example.com/pets/42?key="),
            "{text}"
        );
        assert!(!text.contains("s3cret-value"), "{text}");
        let mut r = raw(201, Some("application/json"), br#"{"id": 42}"#);
        r.location = Some("/pets/42".into());
        let json = serde_json::to_value(r.tool_result(false, None, &red)).unwrap();
        assert_eq!(json["structuredContent"], serde_json::json!({"id": 42}));
        assert_eq!(json["content"][1]["text"], "Location: /pets/42");
        // A compact body is moved into the result: the location still follows.
        let mut r = raw(201, Some("application/json"), br#"{"id":42}"#);
        r.location = Some("/pets/42".into());
        let json = serde_json::to_value(r.tool_result(false, None, &Redactor::default())).unwrap();
        assert_eq!(json["content"][0]["text"], r#"{"id":42}"#);
        assert_eq!(json["content"][1]["text"], "Location: /pets/42");
        assert!(r.body.is_empty(), "the text is the body itself");
    }

    #[test]
    fn not_modified_is_an_answer_not_a_failure() {
        let mut r = raw(304, None, b"");
        let plain = r.tool_result(false, None, &Redactor::default());
        assert!(!plain.is_error);
        let text = serde_json::to_string(&plain).unwrap();
        assert!(text.contains("HTTP 304 Not Modified: unchanged"), "{text}");
        let schema = validator(serde_json::json!({"type": "object"}));
        let typed = r.tool_result(false, Some(&schema), &Redactor::default());
        assert!(typed.is_error && typed.structured_content.is_none());
    }

    #[test]
    fn a_response_that_departs_from_the_document_is_a_success_with_all_its_data_and_a_note() {
        let big = "x".repeat(100_000);
        let value = json!({"items": [1, "two"], "note": "hello", "big": big});
        let mut r = raw(200, Some("application/json"), value.to_string().as_bytes());
        let schema = validator(json!({"properties": {"items": {"items": {"type": "integer"}}}}));
        let result = r.tool_result(false, Some(&schema), &Redactor::default());
        assert!(!result.is_error);
        assert_eq!(result.structured_content.as_ref(), Some(&value));
        let [
            Content::Text { text: data, .. },
            Content::Text { text: note, .. },
        ] = result.content.as_slice()
        else {
            panic!("data and note: {:?}", result.content);
        };
        assert_eq!(data, &value.to_string(), "the whole response, uncut");
        assert_eq!(
            note,
            "Note: the response departs from the API's own description (`type` fails at /items/1 (the value is not of type \"integer\")); it is passed on as received."
        );
    }

    #[test]
    fn with_an_output_schema_there_is_always_structured_content() {
        let schema = validator(json!({"type": "object", "required": ["id"]}));
        let red = Redactor::default();
        let bare =
            raw(200, Some("application/json"), b"[1,2]").tool_result(false, Some(&schema), &red);
        assert!(!bare.is_error);
        assert_eq!(bare.structured_content, Some(json!({"result": [1, 2]})));
        let text = raw(200, Some("text/plain"), b"hi").tool_result(false, Some(&schema), &red);
        assert!(!text.is_error);
        assert_eq!(text.structured_content, Some(json!({})));
        let texts: Vec<_> = text
            .content
            .iter()
            .filter_map(|c| match c {
                Content::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts[0], "hi");
        assert!(texts[1].contains("(it is not JSON)"), "{texts:?}");
        let fine = raw(200, Some("application/json"), br#"{"id":1}"#).tool_result(
            false,
            Some(&schema),
            &red,
        );
        assert_eq!(
            fine.content.len(),
            1,
            "no note when the response keeps to the document"
        );
    }

    #[test]
    fn schema_problems_never_quote_the_instance() {
        let secretless = json!({"a": "value-that-must-not-show", "b": "z".repeat(1000)});
        let r = || {
            raw(
                200,
                Some("application/json"),
                secretless.to_string().as_bytes(),
            )
        };
        for (schema, problem) in [
            (
                json!({"type": "array"}),
                "`type` fails at the top level (the value is not of type \"array\")",
            ),
            (
                json!({"required": ["id"]}),
                "`required` fails at the top level (\"id\" is a required property)",
            ),
            (
                json!({"properties": {"a": {"enum": ["x", "y"]}}}),
                "`enum` fails at /a (the value is not one of \"x\" or \"y\")",
            ),
            (
                json!({"properties": {"b": {"maxLength": 3}}}),
                "`maxLength` fails at /b (the value is longer than 3 characters)",
            ),
        ] {
            let result = r().tool_result(false, Some(&validator(schema)), &Redactor::default());
            let Some(Content::Text { text: note, .. }) = result.content.get(1) else {
                panic!("{:?}", result.content)
            };
            assert!(note.contains(&format!("({problem});")), "{note}");
            assert!(!note.contains("value-that-must-not-show") && !note.contains("zzz"));
        }
    }

    #[test]
    fn bodies_in_an_unknown_content_encoding_are_not_shown() {
        let mut r = raw(200, Some("application/json"), b"\x1f\x8b\x08garbage");
        r.content_encoding = Some("x-compress".into());
        let red = Redactor::default();
        let result = r.tool_result(false, None, &red);
        assert!(result.is_error);
        let Content::Text { text, .. } = &result.content[0] else {
            panic!()
        };
        assert_eq!(
            text,
            "The upstream answered HTTP 200 OK with Content-Encoding x-compress, which cannot be decoded (supported: gzip, deflate, br, zstd); 10 bytes not shown"
        );
        assert!(r.resource_result("x:/y", &red).is_err());

        r.status = StatusCode::BAD_GATEWAY;
        assert_eq!(
            r.error_text(&red),
            "HTTP 502 Bad Gateway\n\n(10 bytes with Content-Encoding x-compress not shown: it cannot be decoded)"
        );
        // An empty body has nothing to decode.
        let mut r = raw(204, None, b"");
        r.content_encoding = Some("x-compress".into());
        assert!(!r.tool_result(false, None, &red).is_error);
    }

    #[test]
    fn non_object_json_is_wrapped_only_when_declared() {
        let r = || raw(200, Some("application/json"), b"[1,2]");
        let red = Redactor::default();
        assert_eq!(r().tool_result(false, None, &red).structured_content, None);
        assert_eq!(
            r().tool_result(true, None, &red).structured_content,
            Some(json!({"result": [1, 2]}))
        );
    }
}

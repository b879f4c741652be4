//! `OPERATION_JSON`: how one tool's arguments become an HTTP request. The
//! descriptor is checked once, when parsed (a tool's on its first call, or
//! at build time with `check_schemas`); `prepare` then turns arguments
//! into a method, a path and query, headers, cookies and a body.

use super::body::{self, BodySpec, PreparedBody};
use super::error::CallError;
use super::serialize::{self, Style};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;
use std::collections::HashSet;

pub(super) use mcpgen_contract::{Kind, Location, Parameter};

/// The style, explode and value rules OpenAPI gives a parameter.
trait ParameterRules {
    fn style(&self) -> Style;
    fn explode(&self) -> bool;
    /// The value to serialize: JSON text for `content: application/json`.
    fn value(&self, v: &Value) -> Value;
}

impl ParameterRules for Parameter {
    fn style(&self) -> Style {
        self.style.unwrap_or(match self.location {
            Location::Path | Location::Header => Style::Simple,
            Location::Query | Location::Cookie => Style::Form,
        })
    }
    fn explode(&self) -> bool {
        self.explode.unwrap_or(self.style() == Style::Form)
    }
    fn value(&self, v: &Value) -> Value {
        match &self.content_type {
            Some(ct) if body::is_json(ct) && !v.is_null() => Value::String(v.to_string()),
            _ => v.clone(),
        }
    }
}

enum Segment {
    Literal(String),
    Param(usize),
}

pub(super) struct Operation {
    pub method: Method,
    /// The path template as the spec wrote it, for logs.
    pub path: String,
    segments: Vec<Segment>,
    fixed_query: Vec<String>,
    params: Vec<Parameter>,
    body: Option<BodySpec>,
    pub security: Vec<Vec<String>>,
    pub idempotent: bool,
    pub wrapped: bool,
    accept: HeaderValue,
    /// The operation's own server; `--base-url` replaces it too.
    pub base_url: Option<Url>,
    /// How a `202 Accepted` is followed (a long-running operation).
    pub poll: Option<super::poll::Poll>,
}

/// Headers OpenAPI says to ignore as parameters, plus those that would
/// break the message framing if a model could set them.
const RESERVED_HEADERS: &[&str] = &[
    "accept",
    "content-type",
    "authorization",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "cookie",
];

impl Operation {
    pub(super) fn parse(json: &str) -> Result<Operation, String> {
        let d: mcpgen_contract::Operation =
            serde_json::from_str(json).map_err(|e| e.to_string())?;
        let method = Method::from_bytes(d.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("invalid method `{}`", d.method))?;
        let segments = template(&d.path, &d.parameters)?;
        let mut args = HashSet::new();
        for p in &d.parameters {
            check_parameter(p)?;
            if !args.insert(p.arg.as_str()) {
                return Err(format!("argument `{}` is used by two parameters", p.arg));
            }
        }
        for piece in &d.fixed_query {
            check_fixed_query(piece)?;
        }
        let body = d.body.map(BodySpec);
        if let Some(b) = &body {
            b.check()?;
            if let Some(a) = b.arg.as_deref().filter(|a| args.contains(a)) {
                return Err(format!("body argument `{a}` is also a parameter"));
            }
        }
        let idempotent = d.idempotent.unwrap_or(matches!(
            method,
            Method::GET
                | Method::HEAD
                | Method::PUT
                | Method::DELETE
                | Method::OPTIONS
                | Method::TRACE
        ));
        let accept =
            HeaderValue::from_str(d.accept.as_deref().unwrap_or("application/json, */*;q=0.8"))
                .map_err(|_| "invalid `accept`".to_owned())?;
        let base_url = d
            .base_url
            .as_deref()
            .map(super::config::parse_base_url)
            .transpose()
            .map_err(|e| e.to_string())?;
        let poll = d.poll.as_ref().map(super::poll::Poll::parse).transpose()?;
        Ok(Operation {
            base_url,
            poll,
            method,
            path: d.path,
            segments,
            fixed_query: d.fixed_query,
            params: d.parameters,
            body,
            security: d.security,
            idempotent,
            wrapped: d.success_schema_wrapped,
            accept,
        })
    }

    pub(super) fn parameters(&self) -> &[Parameter] {
        &self.params
    }

    pub(super) fn body_required(&self) -> bool {
        self.body.as_ref().is_some_and(|b| b.required)
    }

    /// Where `args` give files as resource links (see `BodySpec::file_links`).
    pub(super) fn file_links(&self, args: &Value) -> Vec<String> {
        self.body
            .as_ref()
            .map_or_else(Vec::new, |b| b.file_links(args))
    }

    /// A GET of a status URL (the URL itself is given apart): the
    /// operation's `Accept`, nothing else of its arguments.
    pub(super) fn status_request(&self) -> Prepared {
        Prepared {
            method: Method::GET,
            path: String::new(),
            query: vec![],
            headers: vec![(reqwest::header::ACCEPT, self.accept.clone())],
            cookies: vec![],
            body: None,
        }
    }

    /// Turn validated tool arguments into the parts of a request.
    pub(super) fn prepare(&self, args: &Value) -> Result<Prepared, CallError> {
        let get = |p: &Parameter| args.get(&p.arg).filter(|v| !v.is_null());
        for p in &self.params {
            if (p.required || p.location == Location::Path) && get(p).is_none() {
                return Err(CallError::MissingParameter(p.arg.clone()));
            }
        }
        let mut path = String::new();
        // Where each parameter landed, to name the culprit of a bad segment.
        let mut spans: Vec<(usize, usize, &str)> = vec![];
        for s in &self.segments {
            match s {
                Segment::Literal(l) => path.push_str(l),
                Segment::Param(i) => {
                    let p = &self.params[*i];
                    let v = get(p).map(|v| p.value(v)).unwrap_or_default();
                    let text = serialize::path(&p.name, &v, p.style(), p.explode())
                        .filter(|t| !t.is_empty())
                        .ok_or_else(|| CallError::EmptyPathParameter(p.arg.clone()))?;
                    spans.push((path.len(), path.len() + text.len(), &p.arg));
                    path.push_str(&text);
                }
            }
        }
        let mut start = 0;
        for segment in path.split('/') {
            let end = start + segment.len();
            if is_dot_segment(segment) {
                let arg = spans
                    .iter()
                    .find(|(s, e, _)| *s <= end && *e >= start)
                    .map_or("(path)", |(_, _, a)| a);
                return Err(CallError::DotSegment(arg.to_owned()));
            }
            start = end + 1;
        }
        let mut prepared = Prepared {
            method: self.method.clone(),
            path,
            query: self.fixed_query.clone(),
            headers: vec![(reqwest::header::ACCEPT, self.accept.clone())],
            cookies: vec![],
            body: None,
        };
        for p in &self.params {
            let Some(v) = get(p).map(|v| p.value(v)) else {
                continue;
            };
            match p.location {
                Location::Path => {}
                Location::Query => prepared.query.extend(serialize::query(
                    &p.name,
                    &v,
                    p.style(),
                    p.explode(),
                    p.allow_reserved,
                )),
                Location::Header => {
                    if let Some(text) = serialize::header(&v, p.explode()) {
                        prepared
                            .headers
                            .push((header_name(p)?, header_value(p, &text)?));
                    }
                }
                Location::Cookie => {
                    prepared
                        .cookies
                        .extend(serialize::cookie(&p.name, &v, p.explode()))
                }
            }
        }
        if let Some(b) = &self.body {
            prepared.body = b.prepare(args)?;
        }
        Ok(prepared)
    }
}

/// The parts of one request before credentials and start-up headers.
pub(super) struct Prepared {
    pub method: Method,
    /// Percent-encoded, starting with `/`; appended to the base URL's path.
    pub path: String,
    /// Percent-encoded `name=value` pieces.
    pub query: Vec<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Percent-encoded `name=value` pieces of the Cookie header.
    pub cookies: Vec<String>,
    pub body: Option<PreparedBody>,
}

/// A fixed query piece is sent as written: it must already be encoded,
/// `name=value` or `name`, with nothing that ends or splits a query.
fn check_fixed_query(piece: &str) -> Result<(), String> {
    let bytes = piece.as_bytes();
    let encoded = bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => {
            bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        }
        b'&' | b'#' => false,
        b => b.is_ascii_alphanumeric() || b"-._~!$'()*+,;=:@/?".contains(&b),
    });
    if piece.is_empty() || piece.starts_with('=') || !encoded {
        return Err(format!("invalid fixed query piece {piece:?}"));
    }
    Ok(())
}

/// `.` and `..` segments, also percent-encoded: URL parsers resolve
/// `%2e%2e` like `..` (WHATWG), so no encoding keeps them in place.
fn is_dot_segment(s: &str) -> bool {
    // The longest is `%2e%2e`, and each starts with `.` or `%`: most
    // segments are ruled out without the copies below.
    if s.len() > 6 || !s.starts_with(['.', '%']) {
        return false;
    }
    let s = s.to_ascii_lowercase().replace("%2e", ".");
    s == "." || s == ".."
}

fn header_name(p: &Parameter) -> Result<HeaderName, CallError> {
    HeaderName::from_bytes(p.name.as_bytes())
        .map_err(|_| CallError::invalid(&p.arg, "not a header name"))
}

/// Header values are sent unencoded, so control characters (CR/LF header
/// injection, NUL) are refused instead of being sent.
fn header_value(p: &Parameter, text: &str) -> Result<HeaderValue, CallError> {
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(CallError::invalid(
            &p.arg,
            "header values must not contain control characters such as CR or LF",
        ));
    }
    HeaderValue::from_str(text).map_err(|_| CallError::invalid(&p.arg, "not a valid header value"))
}

fn check_parameter(p: &Parameter) -> Result<(), String> {
    let style = p.style();
    let allowed: &[Style] = match p.location {
        Location::Path => &[Style::Simple, Style::Label, Style::Matrix],
        Location::Query => &[
            Style::Form,
            Style::SpaceDelimited,
            Style::PipeDelimited,
            Style::DeepObject,
        ],
        Location::Header => &[Style::Simple],
        Location::Cookie => &[Style::Form],
    };
    if !allowed.contains(&style) {
        return Err(format!(
            "parameter `{}`: style {style:?} is not allowed in {:?}",
            p.name, p.location
        ));
    }
    if style == Style::DeepObject && p.kind != Kind::Object {
        return Err(format!(
            "parameter `{}`: deepObject needs kind object",
            p.name
        ));
    }
    if p.location == Location::Header {
        let name = HeaderName::from_bytes(p.name.as_bytes())
            .map_err(|_| format!("header parameter `{}` is not an HTTP token", p.name))?;
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(format!(
                "header parameter `{}` is not allowed (OpenAPI ignores Accept, Content-Type and Authorization; the others would break the request)",
                p.name
            ));
        }
    }
    if p.name.is_empty() || p.arg.is_empty() {
        return Err("parameters need a non-empty `name` and `arg`".into());
    }
    Ok(())
}

/// Split `/pets/{petId}` into literals and parameter slots; every `{name}`
/// needs a path parameter and every path parameter a `{name}`.
fn template(path: &str, params: &[Parameter]) -> Result<Vec<Segment>, String> {
    if !path.starts_with('/') {
        return Err(format!("path `{path}` must start with `/`"));
    }
    let mut segments = vec![];
    let mut used = HashSet::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| c + open)
            .ok_or_else(|| format!("unclosed `{{` in path `{path}`"))?;
        if open > 0 {
            segments.push(Segment::Literal(literal(&rest[..open])));
        }
        let name = &rest[open + 1..close];
        let i = params
            .iter()
            .position(|p| p.location == Location::Path && p.name == name)
            .ok_or_else(|| {
                format!("path `{path}` uses `{{{name}}}` but no path parameter is named `{name}`")
            })?;
        used.insert(i);
        segments.push(Segment::Param(i));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("unmatched `}}` in path `{path}`"));
    }
    if !rest.is_empty() {
        segments.push(Segment::Literal(literal(rest)));
    }
    if let Some(p) = params
        .iter()
        .enumerate()
        .find(|(i, p)| p.location == Location::Path && !used.contains(i))
    {
        return Err(format!(
            "path parameter `{}` does not appear in `{path}`",
            p.1.name
        ));
    }
    Ok(segments)
}

/// Encode what a URL parser would otherwise rewrite in a literal part of
/// the path (WHATWG's path set, plus `\`, which it reads as `/`), so the
/// final URL's path is exactly what was built.
fn literal(s: &str) -> String {
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'\\');
    percent_encoding::utf8_percent_encode(s, PATH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(json: Value) -> Result<Operation, String> {
        Operation::parse(&json.to_string())
    }

    #[test]
    fn descriptors_are_checked() {
        let p = |name: &str, loc: &str| json!({"name": name, "in": loc, "arg": name});
        assert!(
            op(json!({"method": "GET", "path": "/a/{id}", "parameters": [p("id", "path")]}))
                .is_ok()
        );
        for bad in [
            json!({"method": "GET", "path": "/a/{id}"}),
            json!({"method": "GET", "path": "/a", "parameters": [p("id", "path")]}),
            json!({"method": "GET", "path": "a"}),
            json!({"method": "G T", "path": "/a"}),
            json!({"method": "GET", "path": "/a", "parameters": [p("Authorization", "header")]}),
            json!({"method": "GET", "path": "/a", "parameters": [p("Bad Name", "header")]}),
            json!({"method": "GET", "path": "/a", "parameters": [p("x", "query"), p("x", "header")]}),
            json!({"method": "GET", "path": "/a", "parameters": [{"name": "q", "in": "query", "arg": "q", "style": "label"}]}),
            json!({"method": "GET", "path": "/a", "unknown": 1}),
        ] {
            assert!(op(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_follows_the_method_unless_given() {
        assert!(
            op(json!({"method": "put", "path": "/"}))
                .unwrap()
                .idempotent
        );
        assert!(
            !op(json!({"method": "POST", "path": "/"}))
                .unwrap()
                .idempotent
        );
        assert!(
            op(json!({"method": "POST", "path": "/", "idempotent": true}))
                .unwrap()
                .idempotent
        );
    }

    #[test]
    fn dot_segments_are_recognised_in_any_spelling() {
        for s in [".", "..", "%2e", "%2E%2e", ".%2E", "%2e."] {
            assert!(is_dot_segment(s), "{s}");
        }
        for s in ["...", "..%2F", "a..", "", "%2e%2e%2e", "get"] {
            assert!(!is_dot_segment(s), "{s}");
        }
    }
}

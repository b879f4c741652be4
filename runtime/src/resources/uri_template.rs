//! Matching URIs against RFC 6570 templates — the reverse of expansion, which
//! resources/read needs to route a URI to its template. Supports the operators
//! of levels 1-3 and the explode modifier; values are percent-decoded.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Expr { op: Option<char>, vars: Vec<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UriTemplate {
    parts: Vec<Part>,
}

impl UriTemplate {
    pub(crate) fn parse(template: &str) -> Result<Self, String> {
        let mut parts = vec![];
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or("unclosed `{` in URI template")?
                + open;
            let body = &rest[open + 1..close];
            let (op, names) = match body.chars().next() {
                Some(c @ ('+' | '#' | '.' | '/' | ';' | '?' | '&')) => (Some(c), &body[1..]),
                _ => (None, body),
            };
            let vars: Vec<String> = names
                .split(',')
                .map(|v| {
                    v.trim_end_matches('*')
                        .split(':')
                        .next()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect();
            if vars.iter().any(|v| {
                v.is_empty()
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '%')
            }) {
                return Err(format!("invalid expression `{{{body}}}` in URI template"));
            }
            parts.push(Part::Expr { op, vars });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err("unmatched `}` in URI template".into());
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(UriTemplate { parts })
    }

    /// The names of the variables, in order (upstream templates map them to arguments).
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(crate) fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().flat_map(|p| match p {
            Part::Expr { vars, .. } => vars.iter().map(String::as_str).collect::<Vec<_>>(),
            Part::Literal(_) => vec![],
        })
    }

    /// The variables of `uri`, or None when it does not fit the template.
    pub(crate) fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        match_parts(&self.parts, uri, &mut out).then_some(out)
    }
}

fn match_parts(parts: &[Part], input: &str, out: &mut BTreeMap<String, String>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return input.is_empty();
    };
    match first {
        Part::Literal(lit) => input
            .strip_prefix(lit.as_str())
            .is_some_and(|r| match_parts(rest, r, out)),
        Part::Expr { op, vars } => {
            // Try every split point, shortest first, so that a following
            // literal decides where the expression ends.
            let stop = |c: char| match op {
                None | Some('.') | Some(';') => matches!(c, '/' | '?' | '#'),
                Some('/') => matches!(c, '?' | '#'),
                Some('?') | Some('&') => c == '#',
                _ => false,
            };
            let limit = input.find(stop).unwrap_or(input.len());
            // Only ends that the next part can follow from: the end of the
            // input, or a place where the next literal starts. Trying every
            // end would make matching a long URI quadratic or worse.
            let ends: Vec<usize> = match rest.first() {
                None if limit == input.len() => vec![limit],
                None => vec![],
                Some(Part::Literal(lit)) => input
                    .match_indices(lit.as_str())
                    .map(|(i, _)| i)
                    .take_while(|i| *i <= limit)
                    .collect(),
                Some(Part::Expr { .. }) => {
                    (0..=limit).filter(|i| input.is_char_boundary(*i)).collect()
                }
            };
            for end in ends {
                let mut vals = BTreeMap::new();
                if expression(*op, vars, &input[..end], &mut vals) {
                    let mut trial = out.clone();
                    trial.extend(vals);
                    if match_parts(rest, &input[end..], &mut trial) {
                        *out = trial;
                        return true;
                    }
                }
            }
            false
        }
    }
}

fn expression(
    op: Option<char>,
    vars: &[String],
    text: &str,
    out: &mut BTreeMap<String, String>,
) -> bool {
    let (prefix, sep, named) = match op {
        None | Some('+') => ("", ',', false),
        Some('#') => ("#", ',', false),
        Some('.') => (".", '.', false),
        Some('/') => ("/", '/', false),
        Some(';') => (";", ';', true),
        Some('?') => ("?", '&', true),
        Some('&') => ("&", '&', true),
        Some(_) => return false,
    };
    if text.is_empty() {
        // Every variable undefined: fine for `{?q}` and the like, but a bare
        // `{id}` must match something.
        return !prefix.is_empty();
    }
    let Some(body) = text.strip_prefix(prefix) else {
        return false;
    };
    if named {
        for pair in body.split(sep) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if !vars.iter().any(|n| n == k) {
                return false;
            }
            out.insert(k.to_owned(), decode(v));
        }
        true
    } else if vars.len() == 1 {
        // Simple expansion never yields a reserved character unencoded.
        if op.is_none() && body.contains(['/', '?', '#', '&', '=']) {
            return false;
        }
        out.insert(vars[0].clone(), decode(body));
        true
    } else {
        let values: Vec<&str> = body.split(sep).collect();
        if values.len() > vars.len() {
            return false;
        }
        for (name, v) in vars.iter().zip(values) {
            out.insert(name.clone(), decode(v));
        }
        true
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(t)
            .unwrap()
            .matches(uri)
            .map(|m| m.into_iter().collect())
    }
    fn kv(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn simple_variables() {
        assert_eq!(
            m("test://template/{id}/data", "test://template/42/data"),
            kv(&[("id", "42")])
        );
        assert_eq!(
            m("file:///{dir}/{name}", "file:///a/b%20c"),
            kv(&[("dir", "a"), ("name", "b c")])
        );
        assert_eq!(
            m("test://template/{id}/data", "test://template/4/2/data"),
            None
        );
        assert_eq!(m("test://template/{id}/data", "test://other/42/data"), None);
        assert_eq!(m("users://{id}", "users://"), None);
    }

    #[test]
    fn reserved_and_path_and_query() {
        assert_eq!(
            m("file:///{+path}", "file:///a/b/c.txt"),
            kv(&[("path", "a/b/c.txt")])
        );
        assert_eq!(
            m("repo://x{/a,b}", "repo://x/1/2"),
            kv(&[("a", "1"), ("b", "2")])
        );
        assert_eq!(
            m("search://q{?term,limit}", "search://q?term=rust&limit=5"),
            kv(&[("limit", "5"), ("term", "rust")])
        );
        assert_eq!(m("search://q{?term}", "search://q?other=1"), None);
    }

    #[test]
    fn variables_are_listed_and_bad_templates_rejected() {
        let t = UriTemplate::parse("a://{x}/{+y}{?z*}").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["x", "y", "z"]);
        assert!(UriTemplate::parse("a://{x").is_err());
        assert!(UriTemplate::parse("a://x}").is_err());
        assert!(UriTemplate::parse("a://{}").is_err());
    }

    #[test]
    fn long_uris_match_in_linear_time() {
        let t = UriTemplate::parse("test://template/{id}/data").unwrap();
        let long = format!("test://template/{}", "x".repeat(1 << 20));
        let started = std::time::Instant::now();
        assert!(t.matches(&long).is_none());
        assert!(t.matches(&format!("{long}/data")).is_some());
        // Generous bound: the old every-split-point search took minutes here.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn decode_leaves_bad_escapes_alone() {
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%41"), "A");
    }
}

//! OpenAPI parameter serialization (`style` + `explode`), following the
//! style examples table of OpenAPI 3.1.1 and RFC 6570 where the table is
//! silent. The shape of the JSON value decides between the table's
//! primitive, array and object columns; `null`, empty arrays and empty
//! objects are undefined and produce nothing. Combinations the table marks
//! n/a fall back to `form` with the same `explode`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

pub(super) use mcpgen_contract::Style;

/// RFC 3986 unreserved characters stay; everything else is encoded, so no
/// value can smuggle in a `/`, `?`, `#`, `&`, `=` or `%`.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(super) fn encode(s: &str) -> String {
    utf8_percent_encode(s, VALUE).to_string()
}

/// What a cookie value may not hold raw (RFC 6265 cookie-octet): base64
/// API keys keep their `=`, `+` and `/`, which servers compare verbatim.
const COOKIE: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%');

pub(super) fn cookie_octets(s: &str) -> String {
    utf8_percent_encode(s, COOKIE).to_string()
}

/// RFC 6570 reserved expansion for `allowReserved`: reserved characters and
/// existing `%XX` triples pass through, except those that would break the
/// query string itself (`#`, `[`, `]`) or its form syntax (`&`, `+`).
fn encode_reserved(s: &str) -> String {
    const PASS: &[u8] = b":/?@!$'()*,;=";
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let triple = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if triple {
            out.push_str(&s[i..i + 3]);
            i += 3;
            continue;
        }
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || PASS.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

/// A value's text when it stands alone: strings verbatim, numbers and
/// booleans as JSON writes them, anything nested as JSON text.
pub(super) fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The three columns of the style table.
enum Shape {
    Primitive(String),
    Array(Vec<String>),
    Object(Vec<(String, String)>),
}

fn shape(v: &Value) -> Option<Shape> {
    match v {
        Value::Null => None,
        Value::Array(items) => {
            let items: Vec<String> = items.iter().filter(|i| !i.is_null()).map(scalar).collect();
            (!items.is_empty()).then_some(Shape::Array(items))
        }
        Value::Object(map) => {
            let pairs: Vec<(String, String)> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), scalar(v)))
                .collect();
            (!pairs.is_empty()).then_some(Shape::Object(pairs))
        }
        other => Some(Shape::Primitive(scalar(other))),
    }
}

/// `R,100,G,200` — an object flattened into one list.
fn flat(pairs: &[(String, String)], enc: impl Fn(&str) -> String) -> Vec<String> {
    pairs.iter().flat_map(|(k, v)| [enc(k), enc(v)]).collect()
}

fn kv(pairs: &[(String, String)], sep: &str, enc: impl Fn(&str) -> String) -> Vec<String> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}{sep}{}", enc(k), enc(v)))
        .collect()
}

/// `;name` or `;name=value`: RFC 6570 drops the `=` before an empty value.
fn matrix_pair(name: &str, value: &str) -> String {
    if value.is_empty() {
        format!(";{name}")
    } else {
        format!(";{name}={value}")
    }
}

/// The text that replaces `{name}` in the path, already percent-encoded.
/// None when the value is undefined.
pub(super) fn path(name: &str, v: &Value, style: Style, explode: bool) -> Option<String> {
    let n = encode(name);
    Some(match (style, shape(v)?) {
        (Style::Label, Shape::Primitive(s)) => format!(".{}", encode(&s)),
        (Style::Label, Shape::Array(items)) => {
            let items: Vec<String> = items.iter().map(|i| encode(i)).collect();
            format!(".{}", items.join(if explode { "." } else { "," }))
        }
        (Style::Label, Shape::Object(pairs)) if explode => {
            format!(".{}", kv(&pairs, "=", encode).join("."))
        }
        (Style::Label, Shape::Object(pairs)) => format!(".{}", flat(&pairs, encode).join(",")),
        (Style::Matrix, Shape::Primitive(s)) => matrix_pair(&n, &encode(&s)),
        (Style::Matrix, Shape::Array(items)) if explode => {
            items.iter().map(|i| matrix_pair(&n, &encode(i))).collect()
        }
        (Style::Matrix, Shape::Array(items)) => {
            let items: Vec<String> = items.iter().map(|i| encode(i)).collect();
            matrix_pair(&n, &items.join(","))
        }
        (Style::Matrix, Shape::Object(pairs)) if explode => pairs
            .iter()
            .map(|(k, v)| matrix_pair(&encode(k), &encode(v)))
            .collect(),
        (Style::Matrix, Shape::Object(pairs)) => matrix_pair(&n, &flat(&pairs, encode).join(",")),
        // simple, and anything not meant for paths
        (_, Shape::Primitive(s)) => encode(&s),
        (_, Shape::Array(items)) => items
            .iter()
            .map(|i| encode(i))
            .collect::<Vec<_>>()
            .join(","),
        (_, Shape::Object(pairs)) if explode => kv(&pairs, "=", encode).join(","),
        (_, Shape::Object(pairs)) => flat(&pairs, encode).join(","),
    })
}

/// `name=value` pieces of a query string (or form body), percent-encoded,
/// to be joined with `&`.
pub(super) fn query(
    name: &str,
    v: &Value,
    style: Style,
    explode: bool,
    allow_reserved: bool,
) -> Vec<String> {
    let n = encode(name);
    let val = |s: &str| {
        if allow_reserved {
            encode_reserved(s)
        } else {
            encode(s)
        }
    };
    if style == Style::DeepObject
        && let Value::Object(map) = v
    {
        let mut out = vec![];
        deep_object(&n, map, &val, &mut out);
        return out;
    }
    let Some(shape) = shape(v) else {
        return vec![];
    };
    let delimiter = match style {
        Style::SpaceDelimited if !explode => "%20",
        Style::PipeDelimited if !explode => "%7C",
        _ => ",",
    };
    match shape {
        Shape::Primitive(s) => vec![format!("{n}={}", val(&s))],
        Shape::Array(items) if explode => items.iter().map(|i| format!("{n}={}", val(i))).collect(),
        Shape::Array(items) => {
            let items: Vec<String> = items.iter().map(|i| val(i)).collect();
            vec![format!("{n}={}", items.join(delimiter))]
        }
        Shape::Object(pairs) if explode => pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), val(v)))
            .collect(),
        Shape::Object(pairs) => {
            let flat: Vec<String> = pairs
                .iter()
                .flat_map(|(k, v)| [encode(k), val(v)])
                .collect();
            vec![format!("{n}={}", flat.join(delimiter))]
        }
    }
}

/// `color[R]=100`, with brackets percent-encoded as the 3.1.1 table shows.
/// Nested objects nest the brackets; arrays repeat the key.
fn deep_object(
    prefix: &str,
    map: &serde_json::Map<String, Value>,
    val: &impl Fn(&str) -> String,
    out: &mut Vec<String>,
) {
    for (k, v) in map {
        let key = format!("{prefix}%5B{}%5D", encode(k));
        match v {
            Value::Null => {}
            Value::Object(inner) => deep_object(&key, inner, val, out),
            Value::Array(items) => out.extend(
                items
                    .iter()
                    .filter(|i| !i.is_null())
                    .map(|i| format!("{key}={}", val(&scalar(i)))),
            ),
            other => out.push(format!("{key}={}", val(&scalar(other)))),
        }
    }
}

/// A header value (`simple`). Not percent-encoded: headers are not URIs.
/// The caller still refuses control characters.
pub(super) fn header(v: &Value, explode: bool) -> Option<String> {
    Some(match shape(v)? {
        Shape::Primitive(s) => s,
        Shape::Array(items) => items.join(","),
        Shape::Object(pairs) if explode => kv(&pairs, "=", str::to_owned).join(","),
        Shape::Object(pairs) => flat(&pairs, str::to_owned).join(","),
    })
}

/// `name=value` pairs for the Cookie header (`form`), joined with `; ` by
/// the caller: cookies separate pairs with `;`, never `&` (Appendix D).
pub(super) fn cookie(name: &str, v: &Value, explode: bool) -> Vec<String> {
    let n = encode(name);
    match shape(v) {
        None => vec![],
        Some(Shape::Primitive(s)) => vec![format!("{n}={}", encode(&s))],
        Some(Shape::Array(items)) if explode => {
            items.iter().map(|i| format!("{n}={}", encode(i))).collect()
        }
        Some(Shape::Array(items)) => {
            let items: Vec<String> = items.iter().map(|i| encode(i)).collect();
            vec![format!("{n}={}", items.join(","))]
        }
        Some(Shape::Object(pairs)) if explode => kv(&pairs, "=", encode),
        Some(Shape::Object(pairs)) => vec![format!("{n}={}", flat(&pairs, encode).join(","))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_values_cannot_leave_their_segment() {
        for (raw, want) in [
            ("../etc", "..%2Fetc"),
            ("a/b", "a%2Fb"),
            ("a?b#c", "a%3Fb%23c"),
            ("%2F", "%252F"),
            ("a\\b", "a%5Cb"),
            ("ü", "%C3%BC"),
        ] {
            assert_eq!(path("p", &json!(raw), Style::Simple, false).unwrap(), want);
        }
    }

    #[test]
    fn allow_reserved_keeps_reserved_characters_and_triples() {
        let v = json!("a/b:c?d%2Fe f&g+h#i[j]%zz");
        assert_eq!(
            query("q", &v, Style::Form, true, true),
            ["q=a/b:c?d%2Fe%20f%26g%2Bh%23i%5Bj%5D%25zz"]
        );
        assert_eq!(
            query("q", &v, Style::Form, true, false),
            ["q=a%2Fb%3Ac%3Fd%252Fe%20f%26g%2Bh%23i%5Bj%5D%25zz"]
        );
    }

    #[test]
    fn undefined_values_produce_nothing() {
        for v in [json!(null), json!([]), json!({}), json!([null])] {
            assert_eq!(path("p", &v, Style::Simple, false), None);
            assert!(query("q", &v, Style::Form, true, false).is_empty());
            assert_eq!(header(&v, false), None);
            assert!(cookie("c", &v, true).is_empty());
        }
    }

    #[test]
    fn deep_objects_nest_and_arrays_repeat() {
        let v = json!({"a": {"b": 1}, "c": [1, 2], "d": null});
        assert_eq!(
            query("f", &v, Style::DeepObject, true, false),
            ["f%5Ba%5D%5Bb%5D=1", "f%5Bc%5D=1", "f%5Bc%5D=2"]
        );
    }

    #[test]
    fn cookie_octets_stay_raw() {
        assert_eq!(cookie_octets("ab+/c=="), "ab+/c==");
        assert_eq!(cookie_octets("a b;c,d\"e"), "a%20b%3Bc%2Cd%22e");
    }

    #[test]
    fn scalars_print_as_json_does() {
        assert_eq!(scalar(&json!(5)), "5");
        assert_eq!(scalar(&json!(1.5)), "1.5");
        assert_eq!(scalar(&json!(true)), "true");
        assert_eq!(scalar(&json!({"a": 1})), r#"{"a":1}"#);
    }
}

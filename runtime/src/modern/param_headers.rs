//! Tool arguments mirrored into HTTP headers (SEP-2243, `x-mcp-header`).
//!
//! A property of a tool's `inputSchema` that carries `x-mcp-header: Name`
//! is sent by clients, besides the body, as the header `Mcp-Param-Name`;
//! the server checks that the two agree (error -32020 otherwise). This
//! module reads the annotations from a schema and compares one header
//! value with one argument; the HTTP transport does the rest.

use serde_json::Value;

/// The annotation key in a property's schema.
pub const ANNOTATION: &str = "x-mcp-header";
/// The prefix of the header a client sends for an annotated argument.
pub const HEADER_PREFIX: &str = "Mcp-Param-";

/// Nesting deeper than this is not followed (a descriptor is trusted, but
/// recursion stays bounded).
const MAX_DEPTH: usize = 32;

/// One annotated argument: where it is in the arguments and the name part
/// of its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    /// The chain of `properties` keys from the root to the argument.
    pub path: Vec<String>,
    /// The name in `Mcp-Param-{name}`, as the schema spells it.
    pub name: String,
}

impl ParamHeader {
    /// The header's name in lower case (header names are case-insensitive).
    pub fn header_name(&self) -> String {
        format!("{}{}", HEADER_PREFIX, self.name).to_ascii_lowercase()
    }

    /// The argument's value in `args`, if there is one (`null` counts as
    /// none: clients omit the header then).
    pub fn value<'a>(&self, args: Option<&'a Value>) -> Option<&'a Value> {
        let mut v = args?;
        for key in &self.path {
            v = v.get(key)?;
        }
        (!v.is_null()).then_some(v)
    }
}

/// Whether `name` is an HTTP field-name token (RFC 9110 `1*tchar`).
pub fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The annotated arguments of an `inputSchema`: the properties reached from
/// the root through `properties` keys alone whose `x-mcp-header` is a
/// token. Annotations anywhere else are not the revision's (the generator
/// refuses them) and are ignored here.
pub fn param_headers(input_schema: &Value) -> Vec<ParamHeader> {
    let mut found = Vec::new();
    collect(input_schema, &mut Vec::new(), &mut found);
    found
}

fn collect(schema: &Value, path: &mut Vec<String>, found: &mut Vec<ParamHeader>) {
    if path.len() > MAX_DEPTH {
        return;
    }
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (key, prop) in props {
        path.push(key.clone());
        if let Some(name) = prop.get(ANNOTATION).and_then(Value::as_str)
            && is_token(name)
        {
            found.push(ParamHeader {
                path: path.clone(),
                name: name.to_owned(),
            });
        }
        collect(prop, path, found);
        path.pop();
    }
}

/// Whether a decoded header value stands for the argument `body`: a string
/// as it is, a boolean as `true`/`false`, a number by its value (`42.0` is
/// `42`). `None` when the argument is not a primitive (no header value can
/// stand for it; argument validation refuses it).
pub fn matches(body: &Value, header: &str) -> Option<bool> {
    Some(match body {
        Value::String(s) => s == header,
        Value::Bool(b) => header == if *b { "true" } else { "false" },
        Value::Number(n) => match (n.as_i64(), header.parse::<i64>()) {
            (Some(a), Ok(b)) => a == b,
            _ => match (n.as_f64(), header.parse::<f64>()) {
                (Some(a), Ok(b)) => b.is_finite() && a == b,
                _ => false,
            },
        },
        Value::Null | Value::Array(_) | Value::Object(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotations_are_read_along_properties_only() {
        let schema = json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "query": {"type": "string"},
                "target": {
                    "type": "object",
                    "properties": {"id": {"type": "integer", "x-mcp-header": "Target-Id"}}
                },
                "list": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}},
                "bad": {"type": "string", "x-mcp-header": "a b"}
            },
            "anyOf": [{"properties": {"x": {"x-mcp-header": "X"}}}]
        });
        let found = param_headers(&schema);
        assert_eq!(
            found,
            vec![
                ParamHeader {
                    path: vec!["region".into()],
                    name: "Region".into()
                },
                ParamHeader {
                    path: vec!["target".into(), "id".into()],
                    name: "Target-Id".into()
                },
            ]
        );
        assert_eq!(found[1].header_name(), "mcp-param-target-id");
        let args = json!({"region": "eu", "target": {"id": 7}, "query": null});
        assert_eq!(found[0].value(Some(&args)), Some(&json!("eu")));
        assert_eq!(found[1].value(Some(&args)), Some(&json!(7)));
        let none = ParamHeader {
            path: vec!["query".into()],
            name: "Q".into(),
        };
        assert_eq!(none.value(Some(&args)), None, "null is no value");
        assert_eq!(found[0].value(None), None);
    }

    #[test]
    fn values_compare_by_their_type() {
        assert_eq!(matches(&json!("us-west1"), "us-west1"), Some(true));
        assert_eq!(matches(&json!("us-west1"), "US-WEST1"), Some(false));
        assert_eq!(matches(&json!(42), "42"), Some(true));
        assert_eq!(matches(&json!(42), "42.0"), Some(true));
        assert_eq!(matches(&json!(-7), "-7"), Some(true));
        assert_eq!(matches(&json!(42), "43"), Some(false));
        assert_eq!(matches(&json!(42), "forty-two"), Some(false));
        assert_eq!(matches(&json!(1.0), "NaN"), Some(false));
        assert_eq!(matches(&json!(true), "true"), Some(true));
        assert_eq!(matches(&json!(false), "false"), Some(true));
        assert_eq!(matches(&json!(true), "True"), Some(false));
        assert_eq!(matches(&json!(true), "1"), Some(false));
        assert_eq!(matches(&json!({"a": 1}), "x"), None);
    }

    #[test]
    fn header_names_are_tokens() {
        for ok in ["Region", "a", "X-Tenant_1", "~!#$%&'*+-.^_`|"] {
            assert!(is_token(ok), "{ok}");
        }
        for bad in ["", "a b", "a:b", "a\r\nb", "é", "a/b", "(x)"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }
}

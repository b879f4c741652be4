//! `x-mcp-header` (MCP 2026-07-28, SEP-2243): a tool argument mirrored
//! into the HTTP header `Mcp-Param-{Name}`. The revision's rules on where
//! the annotation may stand, checked over a whole input schema (pure).

use crate::names::is_token;
use crate::yaml::escape_pointer as escape;
use serde_json::Value;
use std::collections::HashMap;

/// The annotation key in a property's schema.
pub const ANNOTATION: &str = "x-mcp-header";

/// Keywords whose value is a map of subschemas.
const SCHEMA_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
/// Keywords whose value is a subschema or a list of them.
const SCHEMA_VALUES: &[&str] = &[
    "items",
    "prefixItems",
    "additionalItems",
    "contains",
    "additionalProperties",
    "unevaluatedItems",
    "unevaluatedProperties",
    "propertyNames",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
];

/// Deeper schemas are not searched (and would be no property chain anyone
/// writes).
const MAX_DEPTH: usize = 64;

/// One misplaced or invalid annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderIssue {
    /// JSON pointer, within the schema, of the schema carrying it.
    pub pointer: String,
    /// What is wrong, in words.
    pub reason: String,
}

/// Every `x-mcp-header` of `schema` (a tool's `inputSchema`) that breaks a
/// rule of the revision: not a token, on a property not reached from the
/// root through `properties` alone (under `items`, a composition or
/// conditional keyword, `$defs`…), on a type other than string, integer or
/// boolean, or the same header (case-insensitively) as another property.
pub fn header_issues(schema: &Value) -> Vec<HeaderIssue> {
    let mut walk = Walk::default();
    walk.schema(schema, String::new(), Reach::Root, 0);
    walk.issues
}

#[derive(Clone, Copy, PartialEq)]
enum Reach {
    Root,
    /// A chain of `properties` keys from the root.
    Property,
    Elsewhere,
}

#[derive(Default)]
struct Walk {
    issues: Vec<HeaderIssue>,
    /// Header names seen, lower-cased, by the pointer of their property.
    seen: HashMap<String, String>,
}

impl Walk {
    fn schema(&mut self, schema: &Value, at: String, reach: Reach, depth: usize) {
        let Some(obj) = schema.as_object() else {
            return;
        };
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(name) = obj.get(ANNOTATION) {
            self.annotation(schema, name, &at, reach);
        }
        for (key, value) in obj {
            let under = format!("{at}/{}", escape(key));
            if SCHEMA_MAPS.contains(&key.as_str()) {
                let child_reach = match (key.as_str(), reach) {
                    ("properties", Reach::Root | Reach::Property) => Reach::Property,
                    _ => Reach::Elsewhere,
                };
                for (k, sub) in value.as_object().into_iter().flatten() {
                    let sub_at = format!("{under}/{}", escape(k));
                    self.schema(sub, sub_at, child_reach, depth + 1);
                }
            } else if SCHEMA_VALUES.contains(&key.as_str()) {
                match value {
                    Value::Array(items) => {
                        for (i, sub) in items.iter().enumerate() {
                            self.schema(sub, format!("{under}/{i}"), Reach::Elsewhere, depth + 1);
                        }
                    }
                    sub => self.schema(sub, under, Reach::Elsewhere, depth + 1),
                }
            }
        }
    }

    fn annotation(&mut self, schema: &Value, name: &Value, at: &str, reach: Reach) {
        let mut issue = |reason: String| {
            self.issues.push(HeaderIssue {
                pointer: at.to_owned(),
                reason,
            })
        };
        let Some(name) = name.as_str() else {
            return issue(format!("`{ANNOTATION}` must be a string, found {name}"));
        };
        if !is_token(name) {
            return issue(format!(
                "`{ANNOTATION}` {name:?} is not an HTTP header name token \
                 (1 or more of A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~)"
            ));
        }
        match reach {
            Reach::Root => {
                return issue(format!(
                    "`{ANNOTATION}` belongs on a property, not on the schema's root"
                ));
            }
            Reach::Elsewhere => {
                return issue(format!(
                    "`{ANNOTATION}` {name:?} is on a schema not reached from the root through \
                     `properties` alone (not under items, allOf/anyOf/oneOf/not, if/then/else, \
                     $defs or $ref)"
                ));
            }
            Reach::Property => {}
        }
        if let Err(found) = primitive_type(schema) {
            return issue(format!(
                "`{ANNOTATION}` {name:?} needs a property of type string, integer or boolean \
                 (number is not allowed), found {found}"
            ));
        }
        match self.seen.get(&name.to_ascii_lowercase()) {
            Some(first) => issue(format!(
                "header Mcp-Param-{name} is also declared by property `{}` \
                 (header names are case-insensitive)",
                property_path(first)
            )),
            None => {
                self.seen.insert(name.to_ascii_lowercase(), at.to_owned());
            }
        }
    }
}

/// `a.b` for the pointer `/properties/a/properties/b` (a chain of
/// `properties` keys).
fn property_path(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(2)
        .step_by(2)
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// The property's one type, string, integer or boolean (with `null` beside
/// it allowed: a null argument sends no header); else the `type` found.
fn primitive_type(schema: &Value) -> Result<&str, String> {
    let is_primitive = |t: &str| matches!(t, "string" | "integer" | "boolean");
    match schema.get("type") {
        Some(Value::String(t)) if is_primitive(t) => Ok(t),
        Some(Value::Array(types)) => {
            let named: Vec<&str> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            match named[..] {
                [t] if is_primitive(t) && types.len() <= 2 => Ok(t),
                _ => Err(Value::Array(types.clone()).to_string()),
            }
        }
        Some(other) => Err(other.to_string()),
        None => Err("no `type`".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reasons(schema: Value) -> Vec<(String, String)> {
        header_issues(&schema)
            .into_iter()
            .map(|i| (i.pointer, i.reason))
            .collect()
    }

    #[test]
    fn annotated_properties_along_properties_are_accepted() {
        let schema = json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "n": {"type": ["integer", "null"], "x-mcp-header": "N"},
                "nested": {"type": "object", "properties": {
                    "flag": {"type": "boolean", "x-mcp-header": "Flag"}
                }}
            }
        });
        assert_eq!(reasons(schema), vec![]);
    }

    #[test]
    fn each_broken_rule_is_located() {
        let schema = json!({
            "type": "object",
            "x-mcp-header": "Root",
            "properties": {
                "price": {"type": "number", "x-mcp-header": "Price"},
                "tags": {"type": "array", "items": {"type": "string", "x-mcp-header": "Tag"}},
                "bad name": {"type": "string", "x-mcp-header": "a b"},
                "a": {"type": "string", "x-mcp-header": "Tenant"},
                "b": {"type": "string", "x-mcp-header": "TENANT"},
                "untyped": {"x-mcp-header": "U"},
                "n": {"type": "string", "x-mcp-header": 3}
            },
            "anyOf": [{"properties": {"x": {"type": "string", "x-mcp-header": "X"}}}],
            "$defs": {"d": {"type": "string", "x-mcp-header": "D"}}
        });
        let found = reasons(schema);
        let at: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            at,
            [
                "",
                "/properties/price",
                "/properties/tags/items",
                "/properties/bad name",
                "/properties/b",
                "/properties/untyped",
                "/properties/n",
                "/anyOf/0/properties/x",
                "/$defs/d",
            ]
        );
        assert!(
            found[1].1.contains("number is not allowed"),
            "{}",
            found[1].1
        );
        assert!(found[2].1.contains("not reached"), "{}", found[2].1);
        assert!(found[3].1.contains("token"), "{}", found[3].1);
        assert!(found[4].1.contains("property `a`"), "{}", found[4].1);
        assert!(found[6].1.contains("must be a string"), "{}", found[6].1);
    }
}

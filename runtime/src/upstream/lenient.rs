//! The output schema an upstream tool declares to clients: the document's
//! response schema with every assertion below the root taken out.
//!
//! Real APIs send what their document does not promise (`null` for a
//! string, a required field missing, an extra field, another format), and
//! an MCP client that validates `structuredContent` against `outputSchema`
//! (the TypeScript SDK does) would turn such a successful call into an
//! exception. The declared schema therefore keeps the shape for the model
//! to read (properties, items, titles, descriptions, `$ref`s and `$defs`)
//! but accepts every JSON object; the document's own schema is still
//! checked by the runtime, and a departure becomes a note, not a failure.

use serde_json::{Map, Value};

/// Keywords that only constrain (and so could refuse a real response).
const ASSERTIONS: &[&str] = &[
    "type",
    "required",
    "enum",
    "const",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "minContains",
    "maxContains",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
];

/// Keywords whose value is a map of name → schema.
const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "$defs", "definitions"];

/// Keywords whose value is one schema (or, for `items`, a list of them).
const SCHEMA_VALUES: &[&str] = &["additionalProperties", "items", "additionalItems"];

/// Keywords whose value is a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "prefixItems"];

/// The declared output schema for `schema`: the root stays an object, every
/// subschema accepts any value.
pub(crate) fn relax_output_schema(schema: &Value) -> Value {
    let mut out = relax(schema);
    if let Value::Object(m) = &mut out {
        m.insert("type".into(), "object".into());
    }
    out
}

fn relax(schema: &Value) -> Value {
    let Value::Object(m) = schema else {
        // `false` (or anything else where a schema belongs) accepts all.
        return Value::Bool(true);
    };
    let mut out = Map::new();
    for (key, value) in m {
        let key = key.as_str();
        if ASSERTIONS.contains(&key) {
            continue;
        }
        let relaxed = if SCHEMA_MAPS.contains(&key) {
            match value {
                Value::Object(map) => {
                    Value::Object(map.iter().map(|(k, v)| (k.clone(), relax(v))).collect())
                }
                _ => continue,
            }
        } else if SCHEMA_VALUES.contains(&key) {
            match value {
                Value::Array(list) => Value::Array(list.iter().map(relax).collect()),
                // `true` is the default and `false` an assertion.
                Value::Bool(_) => continue,
                v => relax(v),
            }
        } else if SCHEMA_LISTS.contains(&key) || key == "oneOf" {
            match value {
                Value::Array(list) => Value::Array(list.iter().map(relax).collect()),
                _ => continue,
            }
        } else {
            value.clone()
        };
        if key == "oneOf" {
            // Relaxed branches overlap, and `oneOf` refuses a value that
            // more than one accepts: `anyOf` keeps the alternatives.
            match out.get_mut("anyOf") {
                Some(Value::Array(any)) => {
                    any.extend(relaxed.as_array().cloned().unwrap_or_default())
                }
                _ => {
                    out.insert("anyOf".into(), relaxed);
                }
            }
            continue;
        }
        if key == "anyOf"
            && let Some(Value::Array(any)) = out.get_mut("anyOf")
        {
            any.extend(relaxed.as_array().cloned().unwrap_or_default());
            continue;
        }
        out.insert(key.to_owned(), relaxed);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accepts(schema: &Value, instance: &Value) -> bool {
        jsonschema::validator_for(schema)
            .map(|v| v.is_valid(instance))
            .unwrap_or(false)
    }

    #[test]
    fn keeps_the_shape_and_drops_the_assertions() {
        let doc = json!({
            "type": "object",
            "required": ["id"],
            "additionalProperties": false,
            "properties": {
                "id": {"type": "integer", "description": "the id", "minimum": 1},
                "when": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}}
            },
            "$defs": {"Tag": {"type": "string", "enum": ["a", "b"]}}
        });
        assert_eq!(
            relax_output_schema(&doc),
            json!({
                "type": "object",
                "properties": {
                    "id": {"description": "the id"},
                    "when": {},
                    "tags": {"items": {"$ref": "#/$defs/Tag"}}
                },
                "$defs": {"Tag": {}}
            })
        );
    }

    #[test]
    fn every_deviation_the_document_forbids_is_accepted() {
        let doc = json!({
            "type": "object",
            "required": ["id", "name"],
            "additionalProperties": false,
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string", "format": "email"},
                "kind": {"oneOf": [{"type": "string"}, {"type": "string", "minLength": 1}]},
                "child": {"allOf": [{"$ref": "#/definitions/Child"}]}
            },
            "definitions": {"Child": {"type": "object", "required": ["x"], "properties": {"x": false}}}
        });
        let strict = jsonschema::validator_for(&doc).unwrap();
        let lenient = relax_output_schema(&doc);
        for deviation in [
            json!({"id": null, "name": "a@b.c", "kind": "k"}),
            json!({"name": "a@b.c"}),
            json!({"id": 1, "name": "a@b.c", "extra": [1]}),
            json!({"id": "1", "name": "not an email"}),
            json!({"id": 1, "name": "x", "kind": "both branches"}),
            json!({"id": 1, "name": "x", "child": {"x": 3}}),
        ] {
            assert!(!strict.is_valid(&deviation), "{deviation}");
            assert!(accepts(&lenient, &deviation), "{deviation}");
        }
        assert!(!accepts(&lenient, &json!([1])), "the root stays an object");
    }
}

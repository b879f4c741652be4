//! JSON Schema helpers: the properties of an input schema and the Rust
//! field types they map to (pure functions over `serde_json::Value`).

use serde_json::Value;

/// The properties of an object schema, in document order.
pub(crate) fn properties(schema: &Value) -> impl Iterator<Item = (&str, &Value)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
}

/// The names an object schema lists as `required`.
pub(crate) fn required(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A Rust type a property maps to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RustType {
    /// `String`.
    String,
    /// `i64`.
    I64,
    /// `f64`.
    F64,
    /// `bool`.
    Bool,
    /// `Vec<T>`.
    Vec(Box<RustType>),
    /// `serde_json::Value`: anything the other types do not express.
    Value,
}

impl RustType {
    /// The type as Rust source (a fixed vocabulary, never spec text).
    pub(crate) fn render(&self) -> String {
        match self {
            RustType::String => "String".into(),
            RustType::I64 => "i64".into(),
            RustType::F64 => "f64".into(),
            RustType::Bool => "bool".into(),
            RustType::Vec(inner) => format!("Vec<{}>", inner.render()),
            RustType::Value => "mcpgen_runtime::prelude::Value".into(),
        }
    }

    fn scalar(json_type: &str) -> Option<RustType> {
        match json_type {
            "string" => Some(RustType::String),
            "integer" => Some(RustType::I64),
            "number" => Some(RustType::F64),
            "boolean" => Some(RustType::Bool),
            _ => None,
        }
    }
}

/// Keywords that make a property more than a plain typed value.
const COMPOSITE: &[&str] = &[
    "$ref",
    "$dynamicRef",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "if",
    "const",
];

fn is_composite(schema: &Value) -> bool {
    schema
        .as_object()
        .is_some_and(|o| COMPOSITE.iter().any(|k| o.contains_key(*k)))
}

/// The `type` of a schema and whether `null` is also allowed.
fn simple_type(schema: &Value) -> Option<(&str, bool)> {
    match schema.get("type")? {
        Value::String(t) => Some((t.as_str(), false)),
        Value::Array(types) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            let non_null: Vec<&str> = names.iter().copied().filter(|t| *t != "null").collect();
            match non_null.as_slice() {
                [one] => Some((one, names.len() > non_null.len())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Map a property schema to a Rust type; the flag says `null` is allowed.
pub(crate) fn rust_type(schema: &Value) -> (RustType, bool) {
    if is_composite(schema) {
        return (RustType::Value, false);
    }
    let Some((ty, nullable)) = simple_type(schema) else {
        return (RustType::Value, false);
    };
    if let Some(scalar) = RustType::scalar(ty) {
        return (scalar, nullable);
    }
    if ty == "array" {
        let item = schema
            .get("items")
            .filter(|i| !is_composite(i))
            .and_then(simple_type);
        if let Some((item_type, false)) = item
            && let Some(scalar) = RustType::scalar(item_type)
        {
            return (RustType::Vec(Box::new(scalar)), nullable);
        }
    }
    (RustType::Value, false)
}

/// Like [`rust_type`], but a local `$ref` (`#/$defs/…`, `#/definitions/…`)
/// of the property or of its array items is first resolved in `root`, the
/// input schema: `items: {$ref: "#/$defs/tag"}` with a string `tag` is
/// `Vec<String>`, not `Value`.
pub(crate) fn rust_type_in(schema: &Value, root: &Value) -> (RustType, bool) {
    let resolved = resolve_local(schema, root);
    let Some(items) = resolved.get("items").filter(|i| i.get("$ref").is_some()) else {
        return rust_type(resolved);
    };
    let mut copy = resolved.clone();
    if let Some(obj) = copy.as_object_mut() {
        obj.insert("items".into(), resolve_local(items, root).clone());
    }
    rust_type(&copy)
}

/// The schema a local `$ref` points to (one level, only when `$ref` is the
/// only keyword besides annotations), else `schema` itself.
fn resolve_local<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let Some(target) = schema.get("$ref").and_then(Value::as_str) else {
        return schema;
    };
    let only_ref = schema.as_object().is_some_and(|o| {
        o.keys()
            .all(|k| matches!(k.as_str(), "$ref" | "description" | "title"))
    });
    let found = ["#/$defs/", "#/definitions/"].iter().find_map(|prefix| {
        let name = target.strip_prefix(prefix)?;
        let section = &prefix[2..prefix.len() - 1];
        root.get(section)?.get(name)
    });
    match found {
        // A target that is itself a reference stays `Value`.
        Some(t) if only_ref && t.get("$ref").is_none() => t,
        _ => schema,
    }
}

/// A default value as a Rust expression, when it fits `ty` exactly.
/// Strings are returned separately so that the template can make literals.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DefaultExpr {
    /// `String::from(<literal>)`
    String {
        /// The string (spec text: rendered as a literal).
        value: String,
    },
    /// A numeric or boolean literal rendered by Rust (not spec text).
    Literal {
        /// The literal, e.g. `1.5_f64`.
        code: String,
    },
    /// `vec![...]` of further defaults.
    Vec {
        /// The items.
        items: Vec<DefaultExpr>,
    },
}

impl DefaultExpr {
    /// Is this what `Default::default()` gives (false, 0, "", empty)?
    /// Then `#[serde(default)]` says it without a function.
    pub fn is_type_default(&self) -> bool {
        match self {
            DefaultExpr::String { value } => value.is_empty(),
            DefaultExpr::Literal { code } => {
                matches!(code.as_str(), "false" | "0_i64" | "0.0_f64")
            }
            DefaultExpr::Vec { items } => items.is_empty(),
        }
    }
}

/// The Rust default for a property of type `ty`, if `value` fits it.
pub(crate) fn default_expr(ty: &RustType, value: &Value) -> Option<DefaultExpr> {
    match (ty, value) {
        (RustType::String, Value::String(s)) => Some(DefaultExpr::String { value: s.clone() }),
        (RustType::I64, Value::Number(n)) => n.as_i64().map(|i| DefaultExpr::Literal {
            code: format!("{i}_i64"),
        }),
        (RustType::F64, Value::Number(n)) => {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| DefaultExpr::Literal {
                    code: format!("{f:?}_f64"),
                })
        }
        (RustType::Bool, Value::Bool(b)) => Some(DefaultExpr::Literal {
            code: b.to_string(),
        }),
        (RustType::Vec(inner), Value::Array(items)) => items
            .iter()
            .map(|item| default_expr(inner, item))
            .collect::<Option<Vec<_>>>()
            .map(|items| DefaultExpr::Vec { items }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types() {
        assert_eq!(
            rust_type(&json!({"type": "string"})),
            (RustType::String, false)
        );
        assert_eq!(
            rust_type(&json!({"type": ["integer", "null"]})),
            (RustType::I64, true)
        );
        assert_eq!(
            rust_type(&json!({"type": "array", "items": {"type": "number"}})),
            (RustType::Vec(Box::new(RustType::F64)), false)
        );
        assert_eq!(
            rust_type(&json!({"type": "array", "items": {"$ref": "#/$defs/x"}})).0,
            RustType::Value
        );
        assert_eq!(rust_type(&json!({"type": "object"})).0, RustType::Value);
        assert_eq!(rust_type(&json!({"$ref": "#/$defs/x"})).0, RustType::Value);
        assert_eq!(rust_type(&json!({})).0, RustType::Value);
    }

    #[test]
    fn local_refs_of_items_resolve_to_typed_vecs() {
        let root = json!({"$defs": {"tag": {"type": "string"}, "obj": {"type": "object"},
            "loop": {"$ref": "#/$defs/tag"}}});
        let items = |r: &str| json!({"type": "array", "items": {"$ref": r}});
        assert_eq!(
            rust_type_in(&items("#/$defs/tag"), &root).0,
            RustType::Vec(Box::new(RustType::String))
        );
        assert_eq!(
            rust_type_in(&items("#/$defs/obj"), &root).0,
            RustType::Value
        );
        assert_eq!(
            rust_type_in(&items("#/$defs/loop"), &root).0,
            RustType::Value
        );
        assert_eq!(
            rust_type_in(&items("#/$defs/missing"), &root).0,
            RustType::Value
        );
        assert_eq!(
            rust_type_in(&json!({"$ref": "#/$defs/tag"}), &root).0,
            RustType::String
        );
    }

    #[test]
    fn type_defaults_are_recognised() {
        assert!(default_expr(&RustType::Bool, &json!(false)).is_some_and(|d| d.is_type_default()));
        assert!(default_expr(&RustType::I64, &json!(0)).is_some_and(|d| d.is_type_default()));
        assert!(default_expr(&RustType::F64, &json!(0)).is_some_and(|d| d.is_type_default()));
        assert!(default_expr(&RustType::String, &json!("")).is_some_and(|d| d.is_type_default()));
        assert!(!default_expr(&RustType::I64, &json!(10)).is_some_and(|d| d.is_type_default()));
        assert!(!default_expr(&RustType::Bool, &json!(true)).is_some_and(|d| d.is_type_default()));
    }

    #[test]
    fn defaults() {
        assert_eq!(
            default_expr(&RustType::F64, &json!(1)),
            Some(DefaultExpr::Literal {
                code: "1.0_f64".into()
            })
        );
        assert_eq!(default_expr(&RustType::I64, &json!(1.5)), None);
        assert_eq!(
            default_expr(&RustType::F64, &json!(1e300)),
            Some(DefaultExpr::Literal {
                code: "1e300_f64".into()
            })
        );
    }
}

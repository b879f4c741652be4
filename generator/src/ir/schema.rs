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
        if let Some((item_type, false)) = item {
            if let Some(scalar) = RustType::scalar(item_type) {
                return (RustType::Vec(Box::new(scalar)), nullable);
            }
        }
    }
    (RustType::Value, false)
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

//! The shared-definitions rule. An OpenAPI document's schema definitions are
//! emitted once, in a table; each tool schema gets back the definitions it
//! reaches when the server starts. mcpgen shares a schema only when this
//! rule gives it back byte for byte, and mcpgen-runtime applies it at start
//! up: one function, so the two cannot drift.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A `#/$defs/<name>` reference to a definition the table does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDefinition(pub String);

impl std::fmt::Display for UnknownDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no shared definition {:?}", self.0)
    }
}

impl std::error::Error for UnknownDefinition {}

/// Push the name of every `#/$defs/<name>` reference in `v`, outside nested
/// `$defs`, to `out`.
pub fn refs_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "$ref" {
                    if let Some(name) = child.as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
                        out.push(name.to_owned());
                    }
                } else if k != "$defs" {
                    refs_in(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs_in(i, out)),
        _ => {}
    }
}

/// Give `schema` the definitions of `table` it reaches, sorted by name, as
/// `$defs` (its last key). A schema that has `$defs` already, or reaches
/// none, is left alone.
pub fn attach_shared_defs(
    schema: &mut Value,
    table: &Map<String, Value>,
) -> Result<(), UnknownDefinition> {
    if !schema.is_object() || schema.get("$defs").is_some() {
        return Ok(());
    }
    let mut stack = Vec::new();
    refs_in(schema, &mut stack);
    let mut seen = BTreeSet::new();
    while let Some(name) = stack.pop() {
        if seen.contains(&name) {
            continue;
        }
        let body = table
            .get(&name)
            .ok_or_else(|| UnknownDefinition(name.clone()))?;
        refs_in(body, &mut stack);
        seen.insert(name);
    }
    if seen.is_empty() {
        return Ok(());
    }
    let defs: Map<String, Value> = seen
        .into_iter()
        .filter_map(|n| table.get(&n).map(|b| (n, b.clone())))
        .collect();
    if let Value::Object(m) = schema {
        m.insert("$defs".into(), Value::Object(defs));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Map<String, Value> {
        let t = json!({
            "B": {"type": "object", "properties": {"c": {"$ref": "#/$defs/C"}}},
            "A": {"type": "string"},
            "C": {"type": "array", "items": {"$ref": "#/$defs/B"}},
            "Unused": {"type": "null"}
        });
        t.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn reached_definitions_come_back_sorted_and_last() {
        let mut s = json!({"type": "object", "properties": {
            "b": {"$ref": "#/$defs/B"}, "a": {"$ref": "#/$defs/A"}}});
        attach_shared_defs(&mut s, &table()).unwrap();
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().map(|k| k.as_str()), Some("$defs"));
        let names: Vec<&String> = s["$defs"].as_object().unwrap().keys().collect();
        assert_eq!(
            names,
            ["A", "B", "C"],
            "recursion followed, Unused left out"
        );
    }

    #[test]
    fn own_defs_and_no_refs_are_left_alone() {
        let own = json!({"$ref": "#/$defs/X", "$defs": {"X": {}}});
        let mut s = own.clone();
        attach_shared_defs(&mut s, &table()).unwrap();
        assert_eq!(s, own);
        let mut plain = json!({"type": "object"});
        attach_shared_defs(&mut plain, &table()).unwrap();
        assert_eq!(plain, json!({"type": "object"}));
    }

    #[test]
    fn an_unknown_name_is_an_error() {
        let mut s = json!({"items": {"$ref": "#/$defs/Missing"}});
        let e = attach_shared_defs(&mut s, &table()).unwrap_err();
        assert_eq!(e, UnknownDefinition("Missing".into()));
        assert_eq!(e.to_string(), "no shared definition \"Missing\"");
    }
}

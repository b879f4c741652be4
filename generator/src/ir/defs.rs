//! One definitions table per document. Clients receive each OpenAPI tool's
//! input and output schema with the `$defs` it reaches; repeating them in
//! every tool would make output grow as operations × schemas. The OpenAPI
//! front end names definitions by `#/$defs/<name>` and collects them once,
//! in [`Upstream::defs`]; the runtime puts them back at start-up
//! (`ServerBuilder::upstream_defs`), so clients still see self-contained
//! schemas. Schemas that do carry their own `$defs` (`inline_refs`) are
//! moved into the table by [`Upstream::shared`] only when [`assemble`] (the
//! same rule as the runtime's) gives them back byte for byte; otherwise
//! they stay whole.

use mcpgen_contract::defs::attach_shared_defs;
use serde_json::{Map, Value};

use super::{Upstream, UpstreamItem};

/// The upstream tables with schemas sharing one definitions table.
#[derive(Debug, Clone, Default)]
pub struct SharedDefs {
    /// Definition name → body, in the order first met.
    pub table: Map<String, Value>,
    /// The tools' descriptors, in order, with shared `$defs` removed.
    pub tools: Vec<Map<String, Value>>,
}

impl Upstream {
    /// The tool descriptors with their `$defs` moved into one table (the
    /// front end's [`Upstream::defs`] first).
    pub fn shared(&self) -> SharedDefs {
        let mut shared = SharedDefs {
            table: self.defs.clone(),
            tools: Vec::with_capacity(self.tools.len()),
        };
        for t in &self.tools {
            let d = share_item(t, &mut shared.table);
            shared.tools.push(d);
        }
        shared
    }

    /// `item`'s descriptor as clients receive it: each schema with the
    /// definitions of [`Upstream::defs`] it reaches as `$defs` (the
    /// runtime's rule). A name missing from the table leaves that schema
    /// as it is.
    pub fn whole_descriptor(&self, item: &UpstreamItem) -> Map<String, Value> {
        let mut d = item.descriptor.clone();
        for key in ["inputSchema", "outputSchema"] {
            if let Some(schema) = d.get_mut(key) {
                let mut whole = schema.clone();
                if assemble(&mut whole, &self.defs).is_ok() {
                    *schema = whole;
                }
            }
        }
        d
    }
}

fn share_item(t: &UpstreamItem, table: &mut Map<String, Value>) -> Map<String, Value> {
    let mut d = t.descriptor.clone();
    for key in ["inputSchema", "outputSchema"] {
        if let Some(schema) = d.get_mut(key) {
            share_schema(schema, table);
        }
    }
    d
}

/// Move `schema`'s `$defs` into `table` when that loses nothing.
fn share_schema(schema: &mut Value, table: &mut Map<String, Value>) {
    let Some(Value::Object(defs)) = schema.get("$defs") else {
        return;
    };
    // A name the table already holds with another body stays local.
    if defs
        .iter()
        .any(|(n, body)| table.get(n).is_some_and(|b| b != body))
    {
        return;
    }
    let mut bare = schema.clone();
    if let Value::Object(m) = &mut bare {
        m.shift_remove("$defs");
    }
    // The schema's own `$defs` agree with the table on every shared name,
    // so assembling from them is assembling from the table.
    let mut rebuilt = bare.clone();
    if assemble(&mut rebuilt, defs).is_err() || !same_text(&rebuilt, schema) {
        return;
    }
    for (n, body) in defs {
        if !table.contains_key(n) {
            table.insert(n.clone(), body.clone());
        }
    }
    *schema = bare;
}

/// Equal as JSON text: `Value`'s `==` ignores key order, which clients see.
fn same_text(a: &Value, b: &Value) -> bool {
    serde_json::to_vec(a).ok() == serde_json::to_vec(b).ok()
}

/// Give `schema` the definitions of `table` it reaches: the runtime's rule
/// (`mcpgen_contract::defs`), so sharing is checked against what it does.
pub fn assemble(schema: &mut Value, table: &Map<String, Value>) -> Result<(), String> {
    attach_shared_defs(schema, table).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(defs: Value) -> Value {
        json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "$defs": defs})
    }

    #[test]
    fn a_name_with_two_bodies_stays_in_its_schema() {
        let mut table = Map::new();
        let mut first = schema(json!({"A": {"type": "string"}}));
        let mut second = schema(json!({"A": {"type": "integer"}}));
        share_schema(&mut first, &mut table);
        share_schema(&mut second, &mut table);
        assert!(first.get("$defs").is_none(), "{first}");
        assert_eq!(second["$defs"], json!({"A": {"type": "integer"}}));
        assert_eq!(Value::Object(table), json!({"A": {"type": "string"}}));
    }

    #[test]
    fn defs_that_the_rule_would_not_give_back_stay() {
        // `B` is not reachable from the schema: assembling would drop it.
        let mut table = Map::new();
        let original = schema(json!({"A": {"type": "string"}, "B": {"type": "null"}}));
        let mut s = original.clone();
        share_schema(&mut s, &mut table);
        assert_eq!(s.to_string(), original.to_string());
        assert!(table.is_empty());
    }

    #[test]
    fn assembling_follows_references_and_sorts() {
        let table: Map<String, Value> = serde_json::from_value(json!({
            "Z": {"$ref": "#/$defs/A"}, "A": {"type": "string"}, "Unused": {}
        }))
        .unwrap();
        let mut s = json!({"type": "object", "properties": {"z": {"$ref": "#/$defs/Z"}}});
        assemble(&mut s, &table).unwrap();
        assert_eq!(
            s["$defs"].to_string(),
            r##"{"A":{"type":"string"},"Z":{"$ref":"#/$defs/A"}}"##
        );
        let mut dangling = json!({"$ref": "#/$defs/Nope"});
        assert!(assemble(&mut dangling, &table).is_err());
    }
}

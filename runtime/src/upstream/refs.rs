//! The shared definitions a tool's schemas name, read from its descriptor
//! text without building it, so that a dangling `#/$defs/<name>` still
//! stops the server at start-up while the `$defs` themselves are attached
//! only when the tool is first listed or called.

use mcpgen_contract::defs::{UnknownDefinition, refs_in};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;

/// A descriptor's name (if it is a string) and the `#/$defs/<name>`
/// references of its `inputSchema` and `outputSchema` that
/// `attach_shared_defs` would follow: outside nested `$defs`, in schemas
/// that are objects without `$defs` of their own. One pass over the text.
pub(super) fn scan(
    descriptor_json: &str,
) -> Result<(Option<String>, Vec<String>), serde_json::Error> {
    #[derive(Deserialize)]
    struct Schemas {
        #[serde(default)]
        name: Option<Value>,
        #[serde(rename = "inputSchema", default)]
        input: Option<Schema>,
        #[serde(rename = "outputSchema", default)]
        output: Option<Schema>,
    }
    let s: Schemas = serde_json::from_str(descriptor_json)?;
    let name = match s.name {
        Some(Value::String(n)) => Some(n),
        _ => None,
    };
    let refs = s
        .input
        .into_iter()
        .chain(s.output)
        .filter(|s| s.object && !s.has_defs)
        .flat_map(|s| s.refs)
        .collect();
    Ok((name, refs))
}

/// One schema, as far as its references go.
#[derive(Default)]
struct Schema {
    object: bool,
    has_defs: bool,
    refs: Vec<String>,
}

impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut s = Schema::default();
        let top = Scan {
            refs: &mut s.refs,
            top: Some((&mut s.object, &mut s.has_defs)),
        };
        d.deserialize_any(top)?;
        Ok(s)
    }
}

/// Walks a JSON value, pushing the names of `$ref`s to `#/$defs/…`
/// outside nested `$defs`; nothing else is kept.
struct Scan<'a> {
    refs: &'a mut Vec<String>,
    /// At the schema's top: (is an object, has `$defs`).
    top: Option<(&'a mut bool, &'a mut bool)>,
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Scan {
                refs: &mut *self.refs,
                top: None,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Scan { refs, top } = self;
        let mut has_defs = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Ref => {
                    // Usually a string; anything else is no reference.
                    if let Value::String(r) = map.next_value::<Value>()?
                        && let Some(name) = r.strip_prefix("#/$defs/")
                    {
                        refs.push(name.to_owned());
                    }
                }
                Key::Defs => {
                    has_defs = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Other => map.next_value_seed(Scan {
                    refs: &mut *refs,
                    top: None,
                })?,
            }
        }
        if let Some((object, defs)) = top {
            *object = true;
            *defs = has_defs;
        }
        Ok(())
    }
}

/// A member name, told apart without keeping it.
enum Key {
    Ref,
    Defs,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E>(self, k: &str) -> Result<Key, E> {
                Ok(match k {
                    "$ref" => Key::Ref,
                    "$defs" => Key::Defs,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Checks references against the shared table, remembering the names whose
/// definitions (and all they reach) are known to be there.
#[derive(Default)]
pub(super) struct Checked(HashSet<String>);

impl Checked {
    /// Forget everything: the table changed.
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }

    /// Every definition `names` reach is in `table`, or the first that is not.
    pub(super) fn check(
        &mut self,
        table: &Map<String, Value>,
        names: Vec<String>,
    ) -> Result<(), UnknownDefinition> {
        let mut stack = names;
        let mut seen = HashSet::new();
        while let Some(name) = stack.pop() {
            if self.0.contains(&name) || seen.contains(&name) {
                continue;
            }
            let body = table
                .get(&name)
                .ok_or_else(|| UnknownDefinition(name.clone()))?;
            refs_in(body, &mut stack);
            seen.insert(name);
        }
        self.0.extend(seen);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The names `attach_shared_defs` follows from the top of each schema.
    fn by_value(descriptor: &Value) -> Vec<String> {
        let mut out = vec![];
        for key in ["inputSchema", "outputSchema"] {
            if let Some(s) = descriptor.get(key)
                && s.is_object()
                && s.get("$defs").is_none()
            {
                refs_in(s, &mut out);
            }
        }
        out
    }

    #[test]
    fn reads_the_references_that_attaching_follows() {
        for d in [
            json!({"name": "t", "inputSchema": {"type": "object", "properties": {
                "a": {"$ref": "#/$defs/A"}, "b": {"items": [{"$ref": "#/$defs/B"}, 1, null]},
                "c": {"$ref": "#/other/C"}, "d": {"$ref": 5},
                "e": {"$defs": {"X": {"$ref": "#/$defs/Nested"}}, "$ref": "#/$defs/E"}}},
                "outputSchema": {"$ref": "#/$defs/O", "description": "#/$defs/NotARef"}}),
            json!({"name": "t", "inputSchema": {"type": "object", "$ref": "#/$defs/A",
                "$defs": {"A": {}}}, "outputSchema": true}),
            json!({"name": "t", "inputSchema": {"type": "object"}}),
        ] {
            let text = serde_json::to_string_pretty(&d).unwrap();
            let (name, refs) = scan(&text).unwrap();
            assert_eq!(name.as_deref(), Some("t"));
            assert_eq!(refs, by_value(&d), "{d}");
        }
    }

    #[test]
    fn a_missing_definition_is_found_through_the_table_once() {
        let table = json!({"A": {"$ref": "#/$defs/B"}, "B": {"items": {"$ref": "#/$defs/A"}},
            "C": {"$ref": "#/$defs/Gone"}});
        let table = table.as_object().unwrap();
        let mut checked = Checked::default();
        assert!(checked.check(table, vec!["A".into()]).is_ok());
        assert!(checked.0.contains("B"));
        let e = checked.check(table, vec!["C".into()]).unwrap_err();
        assert_eq!(e, UnknownDefinition("Gone".into()));
        assert!(!checked.0.contains("C"));
    }
}

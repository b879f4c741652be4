//! Comparing two JSON Schemas (2020-12) the way a client of the schema
//! experiences the difference.
//!
//! Every difference is first described neutrally as an [`Effect`]: does the
//! new schema accept *fewer* instances ([`Effect::Tightened`]), *more*
//! ([`Effect::Loosened`]), a *different* set ([`Effect::Changed`]), or is it
//! only documentation? Whether that breaks a client depends on who produces
//! the instances ([`Direction`]): a client *sends* arguments (an input schema
//! that tightens rejects calls that used to work) and *receives* structured
//! results (an output schema that loosens hands it values it did not
//! expect).
//!
//! Local `$ref`s (`#/$defs/...`, any JSON pointer into the same document)
//! are followed on both sides, with cycles cut; the reported place is the
//! logical field path (`address.zip`) and the pointer of the node in the
//! document where it lives.

use std::collections::{BTreeSet, HashSet};

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::{Code, Severity};

/// Who produces the instances of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// The client sends them (tool arguments).
    Input,
    /// The server sends them (structured tool results).
    Output,
}

/// What a difference does to the set of instances the schema accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    /// Fewer instances are valid.
    Tightened,
    /// More instances are valid.
    Loosened,
    /// Some become valid, others invalid (or we cannot tell).
    Changed,
    /// A documented property disappeared: breaking both ways.
    Removed,
    /// A new optional property: compatible both ways (clients that do not
    /// know it neither send it nor read it).
    Added,
    /// A default value changed: same instances, different meaning when omitted.
    Default,
    /// Documentation only (`description`, `title`, `examples`, …).
    Cosmetic,
}

impl Effect {
    pub(super) fn severity(self, direction: Direction) -> Severity {
        match (self, direction) {
            (Effect::Tightened, Direction::Input) | (Effect::Loosened, Direction::Output) => {
                Severity::Breaking
            }
            (Effect::Tightened, Direction::Output) | (Effect::Loosened, Direction::Input) => {
                Severity::Compatible
            }
            (Effect::Changed | Effect::Removed, _) => Severity::Breaking,
            (Effect::Default, Direction::Input) => Severity::Behavioural,
            (Effect::Default, Direction::Output) | (Effect::Added | Effect::Cosmetic, _) => {
                Severity::Compatible
            }
        }
    }
}

/// One difference between two schemas.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SchemaChange {
    pub code: Code,
    pub effect: Effect,
    /// Logical field path: `address.zip`, `tags[]`, empty for the root.
    pub field: String,
    /// JSON pointer of the node, relative to the schema root, in the new
    /// schema (in the old one when the node is gone).
    pub pointer: String,
    pub message: String,
}

/// Compare `old` with `new`; the changes come in document order.
pub(super) fn compare(old: &Value, new: &Value) -> Vec<SchemaChange> {
    let mut c = Comparer {
        old_root: old,
        new_root: new,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    c.compare_any(old, new, &Place::root());
    c.out
}

/// Where the comparison is: the logical field and both document pointers.
#[derive(Debug, Clone)]
struct Place {
    field: String,
    old_ptr: String,
    new_ptr: String,
}

impl Place {
    fn root() -> Place {
        Place {
            field: String::new(),
            old_ptr: String::new(),
            new_ptr: String::new(),
        }
    }

    /// Into a keyword (the field stays).
    fn keyword(&self, segments: &[&str]) -> Place {
        let mut p = self.clone();
        for s in segments {
            p.old_ptr.push('/');
            p.old_ptr.push_str(&escape(s));
            p.new_ptr.push('/');
            p.new_ptr.push_str(&escape(s));
        }
        p
    }

    /// Into a property.
    fn property(&self, name: &str) -> Place {
        let mut p = self.keyword(&["properties", name]);
        if !p.field.is_empty() {
            p.field.push('.');
        }
        p.field.push_str(name);
        p
    }

    /// Into array items.
    fn items(&self, segments: &[&str], suffix: &str) -> Place {
        let mut p = self.keyword(segments);
        p.field.push_str(suffix);
        p
    }

    fn with_pointers(&self, old_ptr: String, new_ptr: String) -> Place {
        Place {
            field: self.field.clone(),
            old_ptr,
            new_ptr,
        }
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `the schema` or `` `field` ``, for messages.
fn subject(field: &str) -> String {
    if field.is_empty() {
        String::from("the schema")
    } else {
        format!("`{field}`")
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn show_list(values: &[&Value]) -> String {
    values
        .iter()
        .map(|v| show(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keywords that only document.
const COSMETIC: &[&str] = &[
    "description",
    "title",
    "examples",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Keywords handled specifically (or deliberately ignored).
const HANDLED: &[&str] = &[
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "prefixItems",
    "anyOf",
    "oneOf",
    "allOf",
    "default",
    "pattern",
    "format",
    "contentEncoding",
    "contentMediaType",
    "uniqueItems",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "maxContains",
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
    "minContains",
    // Containers and identifiers: differences show through `$ref`s.
    "$ref",
    "$defs",
    "definitions",
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
];

/// Upper bounds: a smaller value accepts less.
const UPPER: &[(&str, &str)] = &[
    ("maximum", "maximum"),
    ("exclusiveMaximum", "exclusive maximum"),
    ("maxLength", "maximum length"),
    ("maxItems", "maximum number of items"),
    ("maxProperties", "maximum number of properties"),
    ("maxContains", "maximum number of matching items"),
];

/// Lower bounds: a larger value accepts less.
const LOWER: &[(&str, &str)] = &[
    ("minimum", "minimum"),
    ("exclusiveMinimum", "exclusive minimum"),
    ("minLength", "minimum length"),
    ("minItems", "minimum number of items"),
    ("minProperties", "minimum number of properties"),
    ("minContains", "minimum number of matching items"),
];

/// Restrictions that are either present or not: adding one accepts less.
const RESTRICTIONS: &[(&str, &str)] = &[
    ("pattern", "pattern"),
    ("format", "format"),
    ("contentEncoding", "content encoding"),
    ("contentMediaType", "content media type"),
];

struct Comparer<'a> {
    old_root: &'a Value,
    new_root: &'a Value,
    /// `$ref` pairs already being compared (cycles).
    seen: HashSet<(String, String)>,
    out: Vec<SchemaChange>,
}

/// A schema with its `$ref`s resolved.
struct Resolved {
    obj: Map<String, Value>,
    ptr: String,
    reference: Option<String>,
}

impl Comparer<'_> {
    /// The new schema accepts less here (reported at its new place).
    fn tightened(&mut self, place: &Place, message: String) {
        self.push(
            Code::ConstraintTightened,
            Effect::Tightened,
            place,
            true,
            message,
        );
    }

    /// The new schema accepts more here; `at_new` when the keyword remains.
    fn loosened(&mut self, place: &Place, at_new: bool, message: String) {
        self.push(
            Code::ConstraintLoosened,
            Effect::Loosened,
            place,
            at_new,
            message,
        );
    }

    fn push(&mut self, code: Code, effect: Effect, place: &Place, at_new: bool, message: String) {
        self.out.push(SchemaChange {
            code,
            effect,
            field: place.field.clone(),
            pointer: if at_new {
                place.new_ptr.clone()
            } else {
                place.old_ptr.clone()
            },
            message,
        });
    }

    /// Follow `$ref` chains (local only) from `schema`, at `ptr`: the object
    /// to compare (siblings of `$ref` laid over the target), where it lives,
    /// and the last reference followed. `None` for non-schemas.
    fn resolve(root: &Value, schema: &Value, ptr: &str) -> Option<Resolved> {
        let mut current = schema;
        let mut ptr = ptr.to_string();
        let mut reference = None;
        let mut siblings: Option<&Map<String, Value>> = None;
        for _ in 0..32 {
            let obj = match current {
                Value::Object(o) => o,
                Value::Bool(true) => {
                    return Some(Resolved {
                        obj: siblings.cloned().unwrap_or_default(),
                        ptr,
                        reference,
                    });
                }
                _ => return None,
            };
            let target = obj
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .filter(|r| r.is_empty() || r.starts_with('/'))
                // `#/$defs/a%20b` → `/$defs/a b`: a fragment is URI-escaped.
                .map(|r| percent_decode_str(r).decode_utf8_lossy().into_owned());
            match target.and_then(|t| root.pointer(&t).map(|v| (t, v))) {
                Some((t, next)) => {
                    if siblings.is_none() {
                        siblings = Some(obj);
                    }
                    reference = Some(t.clone());
                    ptr = t;
                    current = next;
                }
                None => {
                    let mut merged = obj.clone();
                    if let Some(s) = siblings {
                        for (k, v) in s {
                            if k != "$ref" {
                                merged.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    return Some(Resolved {
                        obj: merged,
                        ptr,
                        reference,
                    });
                }
            }
        }
        None
    }

    fn compare_objects(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        self.types(o, n, place);
        self.enums(o, n, place);
        self.bounds(o, n, place);
        self.restrictions(o, n, place);
        self.object_keywords(o, n, place);
        self.array_keywords(o, n, place);
        self.alternatives(o, n, place);
        self.documentation(o, n, place);
        self.others(o, n, place);
    }

    fn types(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let (old, new) = (types(o), types(n));
        let f = subject(&place.field);
        let here = place.keyword(&["type"]);
        match (old, new) {
            (None, None) => {}
            (None, Some(new)) => {
                let msg = format!("{f} must now be of type {}", join(&new));
                self.push(Code::TypeNarrowed, Effect::Tightened, &here, true, msg);
            }
            (Some(old), None) => {
                let msg = format!("{f} may now be of any type (was {})", join(&old));
                self.push(Code::TypeWidened, Effect::Loosened, &here, false, msg);
            }
            (Some(old), Some(new)) => {
                let covers = |set: &BTreeSet<String>, t: &str| {
                    set.contains(t) || (t == "integer" && set.contains("number"))
                };
                let removed: Vec<&String> = old.iter().filter(|t| !covers(&new, t)).collect();
                let added: Vec<&String> = new.iter().filter(|t| !covers(&old, t)).collect();
                let (code, effect) = match (removed.is_empty(), added.is_empty()) {
                    (true, true) => return,
                    (false, true) => (Code::TypeNarrowed, Effect::Tightened),
                    (true, false) => (Code::TypeWidened, Effect::Loosened),
                    (false, false) => (Code::TypeChanged, Effect::Changed),
                };
                let msg = format!("{f} changed type from {} to {}", join(&old), join(&new));
                self.push(code, effect, &here, true, msg);
            }
        }
    }

    fn enums(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        let key = |m: &Map<String, Value>| {
            if m.contains_key("const") {
                "const"
            } else {
                "enum"
            }
        };
        match (allowed(o), allowed(n)) {
            (None, None) => {}
            (None, Some(new)) => {
                let here = place.keyword(&[key(n)]);
                let msg = format!("{f} is now restricted to {}", show_list(&new));
                self.push(Code::EnumNarrowed, Effect::Tightened, &here, true, msg);
            }
            (Some(old), None) => {
                let here = place.keyword(&[key(o)]);
                let msg = format!("{f} is no longer restricted to {}", show_list(&old));
                self.push(Code::EnumWidened, Effect::Loosened, &here, false, msg);
            }
            (Some(old), Some(new)) => {
                let removed: Vec<&Value> =
                    old.iter().copied().filter(|v| !new.contains(v)).collect();
                let added: Vec<&Value> = new.iter().copied().filter(|v| !old.contains(v)).collect();
                let here = place.keyword(&[key(n)]);
                if !removed.is_empty() {
                    let msg = format!("{f} no longer allows {}", show_list(&removed));
                    self.push(Code::EnumNarrowed, Effect::Tightened, &here, true, msg);
                }
                if !added.is_empty() {
                    let msg = format!("{f} now also allows {}", show_list(&added));
                    self.push(Code::EnumWidened, Effect::Loosened, &here, true, msg);
                }
            }
        }
    }

    fn bounds(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        self.limits(o, n, place);
        self.multiple_of(o, n, place);
        self.unique_items(o, n, place);
    }

    /// Upper and lower bounds (`maximum`, `maxLength`, `minItems`…).
    fn limits(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        for (list, upper) in [(UPPER, true), (LOWER, false)] {
            for (key, what) in list {
                let here = place.keyword(&[key]);
                let (old, new) = (o.get(*key), n.get(*key));
                let (oldf, newf) = (old.and_then(Value::as_f64), new.and_then(Value::as_f64));
                let (code, effect, msg) = match (old, new) {
                    (None, None) => continue,
                    (None, Some(v)) => (
                        Code::ConstraintTightened,
                        Effect::Tightened,
                        format!("{f} has a new {what} of {}", show(v)),
                    ),
                    (Some(v), None) => (
                        Code::ConstraintLoosened,
                        Effect::Loosened,
                        format!("{f} no longer has a {what} (was {})", show(v)),
                    ),
                    (Some(a), Some(b)) if a == b => continue,
                    (Some(a), Some(b)) => {
                        let msg = format!("{f} {what} changed from {} to {}", show(a), show(b));
                        match (oldf, newf) {
                            (Some(x), Some(y)) if (y < x) == upper => {
                                (Code::ConstraintTightened, Effect::Tightened, msg)
                            }
                            (Some(_), Some(_)) => (Code::ConstraintLoosened, Effect::Loosened, msg),
                            _ => (Code::ConstraintChanged, Effect::Changed, msg),
                        }
                    }
                };
                self.push(code, effect, &here, new.is_some(), msg);
            }
        }
    }

    /// `multipleOf`: a multiple of the old step accepts less.
    fn multiple_of(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        let here = place.keyword(&["multipleOf"]);
        match (o.get("multipleOf"), n.get("multipleOf")) {
            (None, None) => {}
            (a, b) if a == b => {}
            (None, Some(v)) => {
                let msg = format!("{f} must now be a multiple of {}", show(v));
                self.tightened(&here, msg);
            }
            (Some(v), None) => {
                let msg = format!("{f} no longer has to be a multiple of {}", show(v));
                self.loosened(&here, false, msg);
            }
            (Some(a), Some(b)) => {
                let msg = format!("{f} multipleOf changed from {} to {}", show(a), show(b));
                let is_multiple =
                    |x: f64, y: f64| y != 0.0 && ((x / y) - (x / y).round()).abs() < 1e-9;
                let (code, effect) = match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) if is_multiple(y, x) => {
                        (Code::ConstraintTightened, Effect::Tightened)
                    }
                    (Some(x), Some(y)) if is_multiple(x, y) => {
                        (Code::ConstraintLoosened, Effect::Loosened)
                    }
                    _ => (Code::ConstraintChanged, Effect::Changed),
                };
                self.push(code, effect, &here, true, msg);
            }
        }
    }

    /// `uniqueItems`.
    fn unique_items(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        let unique = |m: &Map<String, Value>| {
            m.get("uniqueItems")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let here = place.keyword(&["uniqueItems"]);
        match (unique(o), unique(n)) {
            (false, true) => {
                let msg = format!("{f} must now hold unique items");
                self.tightened(&here, msg);
            }
            (true, false) => {
                let msg = format!("{f} may now hold duplicate items");
                self.loosened(&here, false, msg);
            }
            _ => {}
        }
    }

    fn restrictions(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        for (key, what) in RESTRICTIONS {
            let here = place.keyword(&[key]);
            match (o.get(*key), n.get(*key)) {
                (None, None) => {}
                (a, b) if a == b => {}
                (None, Some(v)) => {
                    let msg = format!("{f} has a new {what} {}", show(v));
                    self.tightened(&here, msg);
                }
                (Some(v), None) => {
                    let msg = format!("{f} no longer has the {what} {}", show(v));
                    self.loosened(&here, false, msg);
                }
                (Some(a), Some(b)) => {
                    let msg = format!("{f} {what} changed from {} to {}", show(a), show(b));
                    self.push(Code::ConstraintChanged, Effect::Changed, &here, true, msg);
                }
            }
        }
    }

    fn object_keywords(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let empty = Map::new();
        let old_props = o
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let new_props = n
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let old_req = required(o);
        let new_req = required(n);
        for (name, old_schema) in old_props {
            let here = place.property(name);
            match new_props.get(name) {
                None => {
                    let msg = format!("property `{}` was removed", here.field);
                    self.push(Code::PropertyRemoved, Effect::Removed, &here, false, msg);
                }
                Some(new_schema) => {
                    // Owned copies keep the borrow checker simple; schemas are small.
                    let (a, b) = (old_schema.clone(), new_schema.clone());
                    self.compare_owned(&a, &b, &here);
                }
            }
        }
        for name in new_props.keys().filter(|k| !old_props.contains_key(*k)) {
            let here = place.property(name);
            if new_req.contains(name.as_str()) {
                let msg = format!("new required property `{}`", here.field);
                self.push(
                    Code::RequiredPropertyAdded,
                    Effect::Tightened,
                    &here,
                    true,
                    msg,
                );
            } else {
                let msg = format!("new optional property `{}`", here.field);
                self.push(Code::PropertyAdded, Effect::Added, &here, true, msg);
            }
        }
        for name in new_req.iter().filter(|r| !old_req.contains(*r)) {
            if new_props.contains_key(*name) && !old_props.contains_key(*name) {
                continue; // reported as a new required property
            }
            let here = place.property(name);
            let msg = format!("`{}` is now required", here.field);
            self.push(
                Code::BecameRequired,
                Effect::Tightened,
                &place.keyword(&["required"]),
                true,
                msg,
            );
        }
        for name in old_req.iter().filter(|r| !new_req.contains(*r)) {
            if old_props.contains_key(*name) && !new_props.contains_key(*name) {
                continue; // reported as a removed property
            }
            let here = place.property(name);
            let msg = format!("`{}` is no longer required", here.field);
            self.push(
                Code::BecameOptional,
                Effect::Loosened,
                &place.keyword(&["required"]),
                false,
                msg,
            );
        }
        for key in ["additionalProperties", "unevaluatedProperties"] {
            self.additional(o, n, place, key);
        }
    }

    fn additional(
        &mut self,
        o: &Map<String, Value>,
        n: &Map<String, Value>,
        place: &Place,
        key: &str,
    ) {
        let f = subject(&place.field);
        let here = place.keyword(&[key]);
        let open = |v: Option<&Value>| match v {
            None | Some(Value::Bool(true)) => Some(true),
            Some(Value::Bool(false)) => Some(false),
            Some(_) => None, // a schema
        };
        let what = if key == "additionalProperties" {
            "additional"
        } else {
            "unevaluated"
        };
        match (open(o.get(key)), open(n.get(key))) {
            (Some(a), Some(b)) if a == b => {}
            (Some(true), _) | (None, Some(false)) => {
                let msg = if n.get(key) == Some(&Value::Bool(false)) {
                    format!("{f} no longer allows {what} properties")
                } else {
                    format!("{f} now constrains {what} properties")
                };
                self.push(
                    Code::AdditionalPropertiesClosed,
                    Effect::Tightened,
                    &here,
                    true,
                    msg,
                );
            }
            (Some(false), _) | (None, Some(true)) => {
                let msg = if matches!(n.get(key), None | Some(Value::Bool(true))) {
                    format!("{f} now allows {what} properties")
                } else {
                    format!("{f} now allows some {what} properties")
                };
                self.push(
                    Code::AdditionalPropertiesOpened,
                    Effect::Loosened,
                    &here,
                    true,
                    msg,
                );
            }
            (None, None) => {
                if let (Some(a), Some(b)) = (o.get(key), n.get(key)) {
                    let (a, b) = (a.clone(), b.clone());
                    let inner = place.items(&[key], "{*}");
                    self.compare_owned(&a, &b, &inner);
                }
            }
        }
    }

    fn array_keywords(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        match (o.get("items"), n.get("items")) {
            (Some(a), Some(b)) => {
                let (a, b) = (a.clone(), b.clone());
                self.compare_owned(&a, &b, &place.items(&["items"], "[]"));
            }
            (None, Some(_)) => {
                let msg = format!("{f} now constrains its items");
                self.tightened(&place.keyword(&["items"]), msg);
            }
            (Some(_), None) => {
                let msg = format!("{f} no longer constrains its items");
                self.loosened(&place.keyword(&["items"]), false, msg);
            }
            (None, None) => {}
        }
        let empty = Vec::new();
        let old_prefix = o
            .get("prefixItems")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let new_prefix = n
            .get("prefixItems")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        for i in 0..old_prefix.len().max(new_prefix.len()) {
            let idx = i.to_string();
            let here = place.items(&["prefixItems", &idx], &format!("[{i}]"));
            match (old_prefix.get(i), new_prefix.get(i)) {
                (Some(a), Some(b)) => {
                    let (a, b) = (a.clone(), b.clone());
                    self.compare_owned(&a, &b, &here);
                }
                (None, Some(_)) => {
                    let msg = format!("{f} constrains item {i} now");
                    self.tightened(&here, msg);
                }
                (Some(_), None) => {
                    let msg = format!("{f} no longer constrains item {i}");
                    self.loosened(&here, false, msg);
                }
                (None, None) => {}
            }
        }
    }

    fn alternatives(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        for key in ["anyOf", "oneOf", "allOf"] {
            let all = key == "allOf";
            let (old, new) = match (o.get(key), n.get(key)) {
                (None, None) => continue,
                (a, b) if a == b => continue,
                (a, b) => (
                    a.and_then(Value::as_array).cloned().unwrap_or_default(),
                    b.and_then(Value::as_array).cloned().unwrap_or_default(),
                ),
            };
            let removed: Vec<usize> = (0..old.len()).filter(|i| !new.contains(&old[*i])).collect();
            let added: Vec<usize> = (0..new.len()).filter(|i| !old.contains(&new[*i])).collect();
            if removed.len() == 1 && added.len() == 1 {
                let idx = added[0].to_string();
                let mut here = place.keyword(&[key, &idx]);
                here.old_ptr = place.keyword(&[key, &removed[0].to_string()]).old_ptr;
                let (a, b) = (old[removed[0]].clone(), new[added[0]].clone());
                self.compare_owned(&a, &b, &here);
                continue;
            }
            // An extra alternative of anyOf/oneOf accepts more; of allOf, less.
            for i in removed {
                let here = place.keyword(&[key, &i.to_string()]);
                let msg = format!("{f}: `{key}` member {} was removed", show(&old[i]));
                let (code, effect) = if all {
                    (Code::ConstraintLoosened, Effect::Loosened)
                } else {
                    (Code::AlternativeRemoved, Effect::Tightened)
                };
                self.push(code, effect, &here, false, msg);
            }
            for i in added {
                let here = place.keyword(&[key, &i.to_string()]);
                let msg = format!("{f}: `{key}` member {} was added", show(&new[i]));
                let (code, effect) = if all {
                    (Code::ConstraintTightened, Effect::Tightened)
                } else {
                    (Code::AlternativeAdded, Effect::Loosened)
                };
                self.push(code, effect, &here, true, msg);
            }
        }
    }

    fn documentation(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        for key in COSMETIC {
            if o.get(*key) != n.get(*key) {
                let msg = format!("{f} {key} changed");
                let at_new = n.contains_key(*key);
                let code = if *key == "description" || *key == "title" {
                    Code::DescriptionChanged
                } else {
                    Code::DocumentationChanged
                };
                self.push(code, Effect::Cosmetic, &place.keyword(&[key]), at_new, msg);
            }
        }
        if o.get("default") != n.get("default") {
            let msg = match (o.get("default"), n.get("default")) {
                (Some(a), Some(b)) => {
                    format!("{f} default changed from {} to {}", show(a), show(b))
                }
                (None, Some(b)) => format!("{f} now defaults to {}", show(b)),
                (Some(a), None) => format!("{f} no longer defaults to {}", show(a)),
                (None, None) => String::new(),
            };
            let at_new = n.contains_key("default");
            self.push(
                Code::DefaultChanged,
                Effect::Default,
                &place.keyword(&["default"]),
                at_new,
                msg,
            );
        }
    }

    fn others(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, place: &Place) {
        let f = subject(&place.field);
        let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for key in keys {
            if HANDLED.contains(&key.as_str()) || COSMETIC.contains(&key.as_str()) {
                continue;
            }
            if o.get(key) != n.get(key) {
                let msg = format!(
                    "{f} keyword `{key}` changed (mcpgen cannot tell whether this is compatible)"
                );
                let at_new = n.contains_key(key);
                self.push(
                    Code::KeywordChanged,
                    Effect::Changed,
                    &place.keyword(&[key]),
                    at_new,
                    msg,
                );
            }
        }
    }

    fn compare_owned(&mut self, old: &Value, new: &Value, place: &Place) {
        self.compare_any(old, new, place);
    }

    fn compare_any(&mut self, old: &Value, new: &Value, place: &Place) {
        if old == new && !contains_ref(old) {
            return;
        }
        match (old, new) {
            (Value::Bool(false), Value::Bool(false)) => return,
            (_, Value::Bool(false)) => {
                let msg = format!("{} no longer accepts any value", subject(&place.field));
                self.tightened(place, msg);
                return;
            }
            (Value::Bool(false), _) => {
                let msg = format!("{} now accepts values", subject(&place.field));
                self.loosened(place, true, msg);
                return;
            }
            _ => {}
        }
        let o = Self::resolve(self.old_root, old, &place.old_ptr);
        let n = Self::resolve(self.new_root, new, &place.new_ptr);
        let (Some(o), Some(n)) = (o, n) else {
            if old != new {
                let msg = format!("{} changed", subject(&place.field));
                self.push(Code::KeywordChanged, Effect::Changed, place, true, msg);
            }
            return;
        };
        if o.reference.is_some() || n.reference.is_some() {
            let key = (
                o.reference.unwrap_or_else(|| place.old_ptr.clone()),
                n.reference.unwrap_or_else(|| place.new_ptr.clone()),
            );
            if !self.seen.insert(key) {
                return;
            }
        }
        let place = place.with_pointers(o.ptr, n.ptr);
        self.compare_objects(&o.obj, &n.obj, &place);
    }
}

fn contains_ref(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.contains_key("$ref") || o.values().any(contains_ref),
        Value::Array(a) => a.iter().any(contains_ref),
        _ => false,
    }
}

fn types(m: &Map<String, Value>) -> Option<BTreeSet<String>> {
    match m.get("type")? {
        Value::String(t) => Some(BTreeSet::from([t.clone()])),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
        ),
        _ => None,
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" | ")
}

fn allowed(m: &Map<String, Value>) -> Option<Vec<&Value>> {
    if let Some(c) = m.get("const") {
        return Some(vec![c]);
    }
    m.get("enum")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
}

fn required(m: &Map<String, Value>) -> BTreeSet<&str> {
    m.get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escaped_ref_fragments_resolve_and_odd_ones_do_not_panic() {
        let schema = |max: u64| json!({"$ref": "#/$defs/a%20b", "$defs": {"a b": {"type": "string", "maxLength": max}}});
        let changes = compare(&schema(5), &schema(3));
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].code, Code::ConstraintTightened);
        // A `%` before a multi-byte character used to split it and panic.
        let odd = json!({"$ref": "#/$defs/%€x"});
        compare(&odd, &json!({"type": "string"}));
    }
}

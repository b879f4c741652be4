//! OpenAPI Schema Objects (Swagger 2.0, OpenAPI 3.0, 3.1) → JSON Schema
//! 2020-12.
//!
//! Every `$ref` target becomes one entry of a shared table of definitions,
//! named after the component (`#/components/schemas/Pet`,
//! `#/definitions/Pet` and `schemas/Pet.yaml` all become `Pet`); references
//! are rewritten to `#/$defs/<name>`. A tool's schema later gets only the
//! definitions reachable from it ([`Schemas::attach_defs`]), optionally with
//! the non-recursive ones inlined.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use mcpgen_contract::defs::refs_in;
use serde_json::{Map, Value, json};

use super::doc::{Docs, Findings, Loc};

/// Which dialect the description's schemas are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Swagger 2.0 and OpenAPI 3.0: a JSON Schema draft-4/5 subset with
    /// `nullable`, boolean `exclusiveMinimum`, `$ref` siblings ignored.
    Legacy,
    /// OpenAPI 3.1 and later: JSON Schema 2020-12.
    Modern,
}

const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "string", "integer",
];
const UINT_KEYWORDS: &[&str] = &[
    "maxLength",
    "minLength",
    "maxItems",
    "minItems",
    "maxProperties",
    "minProperties",
    "maxContains",
    "minContains",
];
const NUMBER_KEYWORDS: &[&str] = &["minimum", "maximum", "multipleOf"];
const SCHEMA_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
];
const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
const SCHEMA_MAP_KEYWORDS: &[&str] = &["properties", "patternProperties", "dependentSchemas"];
/// Dropped: OpenAPI-only or would change how `$ref`s resolve.
const DROPPED: &[&str] = &[
    "xml",
    "externalDocs",
    "$id",
    "id",
    "$schema",
    "$anchor",
    "$dynamicAnchor",
    "$comment",
    "$vocabulary",
    "$defs",
    "definitions",
    "nullable",
    "x-nullable",
];
/// Keys that only annotate: merged into an inlined reference.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
];

/// Type names that are not JSON Schema's but whose meaning is clear.
fn alias(t: &str) -> Option<&'static str> {
    Some(match t.to_ascii_lowercase().as_str() {
        "int" | "int32" | "int64" | "long" => "integer",
        "float" | "double" | "decimal" => "number",
        "bool" => "boolean",
        "str" | "text" => "string",
        "dict" | "map" => "object",
        "list" => "array",
        _ => return None,
    })
}

/// The shared table of converted definitions.
pub struct Schemas {
    dialect: Dialect,
    names: HashMap<Loc, String>,
    taken: HashSet<String>,
    /// Converted definitions by name.
    pub defs: HashMap<String, Value>,
    pending: Vec<(String, Loc)>,
    patterns: HashMap<String, bool>,
    edges: HashMap<String, Vec<String>>,
    recursive: HashSet<String>,
    inlined: HashMap<String, Value>,
    /// The definitions tool schemas share ([`Schemas::share`]), in the
    /// order first met.
    pub shared: Map<String, Value>,
    /// Bytes of each definition's compact JSON text.
    text_len: HashMap<String, usize>,
    /// Why a definition is not a valid schema, or reaches one that is not
    /// (filled once, on first use).
    problems: Option<HashMap<String, String>>,
}

/// Sanitise a definition name so that `#/$defs/<name>` is a plain URI
/// fragment.
fn clean_name(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        String::from("schema")
    } else {
        s
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// One keyword of a Schema Object being converted.
struct Keyword<'a> {
    key: &'a String,
    value: &'a Value,
    /// Where the keyword's value is.
    at: Loc,
    /// The Schema Object it belongs to (for keywords that read siblings).
    parent: &'a Map<String, Value>,
    /// Whether `items` is a list (2.0/3.0 tuple).
    tuple: bool,
}

/// `required`: the property names, each once.
fn append_required(kw: &Keyword<'_>, out: &mut Map<String, Value>, f: &mut Findings) {
    match kw.value {
        Value::Array(items) => {
            let mut seen = BTreeSet::new();
            let list: Vec<Value> = items
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| seen.insert(*s))
                .map(|s| Value::String(s.to_string()))
                .collect();
            out.insert("required".into(), Value::Array(list));
        }
        Value::Bool(_) => f.warn(
            &kw.at,
            "`required: true/false` inside a schema has no meaning (list required properties on the parent object); ignored",
        ),
        other => f.warn(
            &kw.at,
            format!("`required` must be an array, found {}; ignored", kind_name(other)),
        ),
    }
}

/// `example` (unless `examples` is there) and `examples` (a list; OpenAPI
/// named examples and single values become one).
fn append_examples(kw: &Keyword<'_>, out: &mut Map<String, Value>) {
    let list = match (kw.key.as_str(), kw.value) {
        ("example", _) if kw.parent.contains_key("examples") => return,
        ("example", value) => vec![value.clone()],
        (_, Value::Array(list)) => list.clone(),
        // OpenAPI-style named examples in the wrong place.
        (_, Value::Object(map)) => map
            .values()
            .map(|e| e.get("value").cloned().unwrap_or_else(|| e.clone()))
            .collect(),
        (_, other) => vec![other.clone()],
    };
    out.insert("examples".into(), Value::Array(list));
}

/// `exclusiveMinimum`/`exclusiveMaximum`: a number, or (2.0/3.0) `true`
/// that makes `minimum`/`maximum` exclusive.
fn append_exclusive(kw: &Keyword<'_>, out: &mut Map<String, Value>, f: &mut Findings) {
    let k = kw.key.as_str();
    match kw.value {
        Value::Number(_) => {
            out.insert(kw.key.clone(), kw.value.clone());
        }
        Value::Bool(true) => {
            let bound = if k == "exclusiveMinimum" {
                "minimum"
            } else {
                "maximum"
            };
            if let Some(n @ Value::Number(_)) = kw.parent.get(bound) {
                out.insert(kw.key.clone(), n.clone());
            }
        }
        Value::Bool(false) => {}
        other => f.warn(
            &kw.at,
            format!(
                "`{k}` must be a number, found {}; ignored",
                kind_name(other)
            ),
        ),
    }
}

/// `minimum`, `maximum` (left out when a boolean exclusive bound took
/// them), `multipleOf` (positive).
fn append_number(kw: &Keyword<'_>, out: &mut Map<String, Value>, f: &mut Findings) {
    let k = kw.key.as_str();
    match kw.value {
        Value::Number(n) if k != "multipleOf" || n.as_f64().is_some_and(|x| x > 0.0) => {
            let exclusive = match k {
                "minimum" => kw.parent.get("exclusiveMinimum"),
                "maximum" => kw.parent.get("exclusiveMaximum"),
                _ => None,
            };
            if exclusive != Some(&Value::Bool(true)) {
                out.insert(kw.key.clone(), kw.value.clone());
            }
        }
        other => f.warn(
            &kw.at,
            format!(
                "`{k}` must be a {}number, found {}; ignored",
                if k == "multipleOf" { "positive " } else { "" },
                kind_name(other)
            ),
        ),
    }
}

/// `maxLength` and the other counts: non-negative integers (integral
/// floats accepted).
fn append_count(kw: &Keyword<'_>, out: &mut Map<String, Value>, f: &mut Findings) {
    let n = match kw.value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|x| *x >= 0.0 && x.fract() == 0.0 && *x < 9e15)
                .map(|x| x as u64)
        }),
        _ => None,
    };
    match n {
        Some(n) => {
            out.insert(kw.key.clone(), n.into());
        }
        None => f.warn(
            &kw.at,
            format!(
                "`{}` must be a non-negative integer, found {}; ignored",
                kw.key, kw.value
            ),
        ),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Schemas {
    pub fn new(dialect: Dialect) -> Schemas {
        Schemas {
            dialect,
            names: HashMap::new(),
            taken: HashSet::new(),
            defs: HashMap::new(),
            pending: Vec::new(),
            patterns: HashMap::new(),
            edges: HashMap::new(),
            recursive: HashSet::new(),
            inlined: HashMap::new(),
            shared: Map::new(),
            text_len: HashMap::new(),
            problems: None,
        }
    }

    /// Reserve the natural names of the entry document's components first,
    /// so that they keep them whatever else refers to what.
    pub fn reserve(&mut self, docs: &Docs, container: &Loc) {
        let Some(Value::Object(map)) = docs.get(container) else {
            return;
        };
        for key in map.keys() {
            let loc = container.at(key);
            let name = self.unique(clean_name(key));
            self.names.insert(loc, name);
        }
    }

    fn unique(&mut self, base: String) -> String {
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    /// The definition name of the schema at `target`, queuing its
    /// conversion the first time.
    fn def_name(&mut self, docs: &Docs, target: &Loc) -> String {
        if let Some(name) = self.names.get(target) {
            if !self.defs.contains_key(name) && !self.pending.iter().any(|(n, _)| n == name) {
                self.defs.insert(name.clone(), json!({}));
                self.pending.push((name.clone(), target.clone()));
            }
            return name.clone();
        }
        let segments: Vec<&str> = target.ptr.split('/').skip(1).collect();
        let base = match segments.as_slice() {
            [] => docs
                .path(target.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            [.., "components", "schemas", name] | [.., "definitions", name] => unescape(name),
            [.., parent, last]
                if matches!(
                    *last,
                    "schema" | "items" | "additionalProperties" | "not" | "0" | "1" | "2"
                ) =>
            {
                format!("{}_{}", unescape(parent), last)
            }
            [.., last] => unescape(last),
        };
        let name = self.unique(clean_name(&base));
        self.names.insert(target.clone(), name.clone());
        self.defs.insert(name.clone(), json!({}));
        self.pending.push((name.clone(), target.clone()));
        name
    }

    /// Convert every queued definition (iteratively: reference chains do
    /// not recurse).
    pub fn drain(&mut self, docs: &Docs, f: &mut Findings) {
        while let Some((name, loc)) = self.pending.pop() {
            let value = docs.get(&loc).cloned().unwrap_or(Value::Null);
            let converted = self.convert(docs, &loc, &value, f);
            self.defs.insert(name, converted);
        }
    }

    /// Convert the schema `v` found at `loc`.
    pub fn convert(&mut self, docs: &Docs, loc: &Loc, v: &Value, f: &mut Findings) -> Value {
        match v {
            Value::Bool(_) => v.clone(),
            Value::Object(m) => self.convert_object(docs, loc, m, f),
            Value::Null => {
                f.warn(loc, "a null schema is read as `{}` (any value)");
                json!({})
            }
            other => {
                f.warn(
                    loc,
                    format!(
                        "a schema must be an object, found {}; read as `{{}}` (any value)",
                        kind_name(other)
                    ),
                );
                json!({})
            }
        }
    }

    fn convert_object(
        &mut self,
        docs: &Docs,
        loc: &Loc,
        m: &Map<String, Value>,
        f: &mut Findings,
    ) -> Value {
        let mut out = Map::new();
        if let Some(r) = m.get("$ref")
            && let Some(done) = self.append_ref(docs, loc, m, r, &mut out, f)
        {
            return done;
        }
        let tuple = matches!(m.get("items"), Some(Value::Array(_)));
        for (key, value) in m {
            let k = key.as_str();
            if k == "$ref" || k.starts_with("x-") || DROPPED.contains(&k) {
                continue;
            }
            let kw = Keyword {
                key,
                value,
                at: loc.at(key),
                parent: m,
                tuple,
            };
            self.append_keyword(docs, &kw, &mut out, f);
        }
        self.finish_nullable(loc, m, out)
    }

    /// `$ref` → `#/$defs/<name>`. Some(schema) when the conversion ends
    /// here: 2.0/3.0 ignore `$ref` siblings, and a dangling reference is
    /// an error.
    fn append_ref(
        &mut self,
        docs: &Docs,
        loc: &Loc,
        m: &Map<String, Value>,
        r: &Value,
        out: &mut Map<String, Value>,
        f: &mut Findings,
    ) -> Option<Value> {
        let Value::String(r) = r else {
            f.warn(
                &loc.at("$ref"),
                format!("`$ref` must be a string, found {}; ignored", kind_name(r)),
            );
            return None;
        };
        match docs.target(loc.file, r) {
            Ok(target) if docs.get(&target).is_some() => {
                let name = self.def_name(docs, &target);
                out.insert("$ref".into(), format!("#/$defs/{name}").into());
                if self.dialect == Dialect::Modern {
                    return None;
                }
                // Siblings of `$ref` are ignored in 2.0/3.0; keep the
                // harmless annotations people write there.
                for key in ["description", "title"] {
                    if let Some(Value::String(s)) = m.get(key) {
                        out.insert(key.into(), s.clone().into());
                    }
                }
                Some(self.finish_nullable(loc, m, std::mem::take(out)))
            }
            Ok(_) => {
                f.error(&loc.at("$ref"), format!("$ref {r:?} points to nothing"));
                Some(json!({}))
            }
            Err(message) => {
                f.error(&loc.at("$ref"), message);
                Some(json!({}))
            }
        }
    }

    /// One keyword of a Schema Object into `out`: one arm (or `append_*`)
    /// per kind of keyword.
    fn append_keyword(
        &mut self,
        docs: &Docs,
        kw: &Keyword<'_>,
        out: &mut Map<String, Value>,
        f: &mut Findings,
    ) {
        let (key, value, at) = (kw.key, kw.value, &kw.at);
        match key.as_str() {
            "type" => {
                if let Some(t) = self.convert_type(at, value, out, f) {
                    out.insert("type".into(), t);
                }
            }
            "items" | "additionalItems" => self.append_items(docs, kw, out, f),
            k if SCHEMA_KEYWORDS.contains(&k) => {
                let s = self.convert(docs, at, value, f);
                out.insert(key.clone(), s);
            }
            k if SCHEMA_LIST_KEYWORDS.contains(&k) => self.append_schema_list(docs, kw, out, f),
            k if SCHEMA_MAP_KEYWORDS.contains(&k) => self.append_schema_map(docs, kw, out, f),
            "required" => append_required(kw, out, f),
            "enum" => match value {
                Value::Array(items) if !items.is_empty() => {
                    out.insert("enum".into(), value.clone());
                }
                _ => f.warn(at, "`enum` must be a non-empty array; ignored"),
            },
            "example" | "examples" => append_examples(kw, out),
            "exclusiveMinimum" | "exclusiveMaximum" => append_exclusive(kw, out, f),
            k if NUMBER_KEYWORDS.contains(&k) => append_number(kw, out, f),
            k if UINT_KEYWORDS.contains(&k) => append_count(kw, out, f),
            "pattern" => match value {
                Value::String(p) if self.pattern_ok(p) => {
                    out.insert("pattern".into(), value.clone());
                }
                _ => f.warn(
                    at,
                    "`pattern` is not a valid regular expression (ECMA 262); dropped",
                ),
            },
            "uniqueItems" | "readOnly" | "writeOnly" | "deprecated" => {
                if value.is_boolean() {
                    out.insert(key.clone(), value.clone());
                }
            }
            "title" | "description" | "format" | "contentMediaType" | "contentEncoding" => {
                if value.is_string() {
                    out.insert(key.clone(), value.clone());
                }
            }
            "discriminator" => {
                let d = self.convert_discriminator(docs, at, value);
                out.insert(key.clone(), d);
            }
            k @ ("$dynamicRef" | "$recursiveRef") => f.warn(
                at,
                format!("`{k}` is not supported; the schema accepts any value there"),
            ),
            _ => {
                // `default`, `const`, `dependentRequired` and unknown
                // keywords: kept as they are (validators ignore unknown
                // keywords).
                out.insert(key.clone(), value.clone());
            }
        }
    }

    /// `items` (a list of schemas is a tuple: `prefixItems`) and, after a
    /// tuple, `additionalItems` (→ `items`).
    fn append_items(
        &mut self,
        docs: &Docs,
        kw: &Keyword<'_>,
        out: &mut Map<String, Value>,
        f: &mut Findings,
    ) {
        match (kw.key.as_str(), kw.value) {
            ("items", Value::Array(items)) => {
                let list = items
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.convert(docs, &kw.at.idx(i), s, f))
                    .collect();
                out.insert("prefixItems".into(), Value::Array(list));
            }
            ("items", value) => {
                let s = self.convert(docs, &kw.at, value, f);
                out.insert("items".into(), s);
            }
            (_, value) if kw.tuple => {
                let s = self.convert(docs, &kw.at, value, f);
                out.insert("items".into(), s);
            }
            _ => {}
        }
    }

    /// `allOf`, `anyOf`, `oneOf`, `prefixItems`: non-empty lists of schemas.
    fn append_schema_list(
        &mut self,
        docs: &Docs,
        kw: &Keyword<'_>,
        out: &mut Map<String, Value>,
        f: &mut Findings,
    ) {
        let k = kw.key.as_str();
        match kw.value {
            Value::Array(items) if !items.is_empty() => {
                let list = items
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.convert(docs, &kw.at.idx(i), s, f))
                    .collect();
                out.insert(kw.key.clone(), Value::Array(list));
            }
            Value::Array(_) => f.warn(&kw.at, format!("empty `{k}` ignored")),
            other => f.warn(
                &kw.at,
                format!(
                    "`{k}` must be an array, found {}; ignored",
                    kind_name(other)
                ),
            ),
        }
    }

    /// `properties`, `patternProperties` (valid patterns only),
    /// `dependentSchemas`: maps of schemas.
    fn append_schema_map(
        &mut self,
        docs: &Docs,
        kw: &Keyword<'_>,
        out: &mut Map<String, Value>,
        f: &mut Findings,
    ) {
        let k = kw.key.as_str();
        let Value::Object(props) = kw.value else {
            f.warn(
                &kw.at,
                format!(
                    "`{k}` must be an object, found {}; ignored",
                    kind_name(kw.value)
                ),
            );
            return;
        };
        let mut converted = Map::new();
        for (name, s) in props {
            if k == "patternProperties" && !self.pattern_ok(name) {
                f.warn(
                    &kw.at.at(name),
                    format!("pattern {name:?} is not a valid regular expression; property pattern dropped"),
                );
                continue;
            }
            let s = self.convert(docs, &kw.at.at(name), s, f);
            converted.insert(name.clone(), s);
        }
        out.insert(kw.key.clone(), Value::Object(converted));
    }

    /// `type`, checked: unknown type names are dropped, `file` (2.0) is a
    /// binary string.
    fn convert_type(
        &mut self,
        at: &Loc,
        value: &Value,
        out: &mut Map<String, Value>,
        f: &mut Findings,
    ) -> Option<Value> {
        match value {
            Value::String(t) if t == "file" => {
                out.insert("format".into(), "binary".into());
                Some("string".into())
            }
            Value::String(t) if TYPES.contains(&t.as_str()) => Some(value.clone()),
            Value::String(t) if alias(t).is_some() => {
                let real = alias(t).unwrap_or("string");
                f.warn(at, format!("unknown type {t:?} read as {real:?}"));
                Some(real.into())
            }
            Value::Array(list) => {
                let mut types = Vec::new();
                for t in list {
                    match t.as_str() {
                        Some(t) if TYPES.contains(&t) => {
                            if !types.contains(&t) {
                                types.push(t);
                            }
                        }
                        _ => f.warn(at, format!("unknown type {t} ignored")),
                    }
                }
                match types.as_slice() {
                    [] => None,
                    [one] => Some((*one).into()),
                    _ => Some(types.into_iter().map(Value::from).collect()),
                }
            }
            other => {
                f.warn(
                    at,
                    format!("unknown type {other}; the schema accepts any type"),
                );
                None
            }
        }
    }

    /// 3.0 `nullable: true` (and 2.0 `x-nullable`) → `null` in `type` (and
    /// `enum`), or `anyOf` with `{"type": "null"}`.
    fn finish_nullable(
        &self,
        _loc: &Loc,
        m: &Map<String, Value>,
        mut out: Map<String, Value>,
    ) -> Value {
        let nullable = m.get("nullable") == Some(&Value::Bool(true))
            || m.get("x-nullable") == Some(&Value::Bool(true));
        if !nullable {
            return Value::Object(out);
        }
        let add_null_to_enum = |out: &mut Map<String, Value>| {
            if let Some(Value::Array(values)) = out.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
        };
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = std::mem::take(t);
                if t != "null" {
                    out.insert("type".into(), json!([t, "null"]));
                }
                add_null_to_enum(&mut out);
                Value::Object(out)
            }
            Some(Value::Array(types)) => {
                if !types.contains(&Value::from("null")) {
                    types.push("null".into());
                }
                add_null_to_enum(&mut out);
                Value::Object(out)
            }
            _ => {
                let composite = ["$ref", "allOf", "anyOf", "oneOf", "enum", "const", "not"]
                    .iter()
                    .any(|k| out.contains_key(*k));
                if composite {
                    let mut outer = Map::new();
                    for key in ["description", "title"] {
                        if let Some(v) = out.remove(key) {
                            outer.insert(key.into(), v);
                        }
                    }
                    outer.insert(
                        "anyOf".into(),
                        json!([Value::Object(out), {"type": "null"}]),
                    );
                    Value::Object(outer)
                } else {
                    Value::Object(out)
                }
            }
        }
    }

    /// The discriminator stays as an annotation; mapping values that are
    /// references are rewritten to the definitions they name.
    fn convert_discriminator(&mut self, docs: &Docs, at: &Loc, value: &Value) -> Value {
        let mut d = value.clone();
        if let Some(Value::Object(mapping)) = d.get_mut("mapping") {
            for v in mapping.values_mut() {
                if let Some(r) = v.as_str()
                    && (r.contains('#')
                        || r.contains('/')
                        || r.contains(".yaml")
                        || r.contains(".json"))
                    && let Ok(target) = docs.target(at.file, r)
                    && docs.get(&target).is_some()
                {
                    let name = self.def_name(docs, &target);
                    *v = Value::String(format!("#/$defs/{name}"));
                }
            }
        }
        if let Value::Object(m) = &mut d {
            m.retain(|k, _| !k.starts_with("x-"));
        }
        d
    }

    /// Whether the JSON Schema validator the runtime uses accepts `pattern`.
    fn pattern_ok(&mut self, pattern: &str) -> bool {
        if let Some(ok) = self.patterns.get(pattern) {
            return *ok;
        }
        let ok = jsonschema::validator_for(&json!({ "pattern": pattern })).is_ok();
        self.patterns.insert(pattern.to_string(), ok);
        ok
    }

    /// Follow `#/$defs/...` references to the schema they name.
    pub fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match v
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|n| self.defs.get(n))
            {
                Some(next) => v = next,
                None => return v,
            }
        }
        v
    }

    /// The JSON type a schema certainly has, if exactly one (besides null).
    pub fn single_type(&self, v: &Value) -> Option<String> {
        let v = self.resolve(v);
        match v.get("type") {
            Some(Value::String(t)) => Some(t.clone()),
            Some(Value::Array(ts)) => {
                let non_null: Vec<&str> = ts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .collect();
                match non_null.as_slice() {
                    [one] => Some((*one).to_string()),
                    _ => None,
                }
            }
            _ => {
                if v.get("properties").is_some() {
                    return Some("object".into());
                }
                let parts = v.get("allOf").and_then(Value::as_array)?;
                let types: Vec<Option<String>> =
                    parts.iter().map(|p| self.single_type(p)).collect();
                if !types.is_empty() && types.iter().all(|t| t.as_deref() == Some("object")) {
                    Some("object".into())
                } else {
                    None
                }
            }
        }
    }

    /// Whether instances of `v` are always JSON objects (never null).
    pub fn is_object(&self, v: &Value) -> bool {
        let r = self.resolve(v);
        let nullable = match r.get("type") {
            Some(Value::Array(ts)) => ts.contains(&Value::from("null")),
            _ => r.get("anyOf").is_some() && r.get("type").is_none(),
        };
        !nullable && self.single_type(v).as_deref() == Some("object")
    }

    /// Compute the reference graph and the recursive definitions; call once
    /// every definition is converted.
    pub fn finish(&mut self) {
        let mut names: Vec<&String> = self.defs.keys().collect();
        names.sort();
        let mut edges = HashMap::new();
        for name in names {
            let mut out = Vec::new();
            if let Some(v) = self.defs.get(name) {
                refs_in(v, &mut out);
            }
            out.sort();
            out.dedup();
            edges.insert(name.clone(), out);
        }
        self.edges = edges;
        self.recursive = recursive_nodes(&self.edges);
    }

    /// Definitions reachable from `roots`, sorted.
    fn reachable(&self, roots: Vec<String>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = roots;
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone())
                && let Some(next) = self.edges.get(&n)
            {
                stack.extend(next.iter().cloned());
            }
        }
        seen
    }

    /// Give `schema` (a tool's input or output schema) the `$defs` it uses;
    /// with `inline`, non-recursive references are replaced by their
    /// definitions first.
    pub fn attach_defs(&mut self, schema: &mut Value, inline: bool) {
        if inline {
            *schema = self.inline(schema);
        }
        let mut roots = Vec::new();
        refs_in(schema, &mut roots);
        if roots.is_empty() {
            return;
        }
        let mut defs = Map::new();
        if inline {
            // Reachability over the inlined bodies: what was inlined into a
            // recursive definition is no longer referenced.
            let mut seen = BTreeMap::new();
            let mut stack = roots;
            while let Some(name) = stack.pop() {
                if seen.contains_key(&name) {
                    continue;
                }
                let body = self.defs.get(&name).cloned().unwrap_or(json!({}));
                let body = self.inline(&body);
                refs_in(&body, &mut stack);
                seen.insert(name, body);
            }
            defs.extend(seen);
        } else {
            for name in self.reachable(roots) {
                let body = self.defs.get(&name).cloned().unwrap_or(json!({}));
                defs.insert(name, body);
            }
        }
        if let Value::Object(m) = schema {
            m.insert("$defs".into(), Value::Object(defs));
        }
    }

    /// Add the definitions `schema` reaches to [`Schemas::shared`], the
    /// table the runtime gives each schema its `$defs` from at start-up
    /// (`mcpgen_contract::defs`). Each schema's new names go in sorted, so
    /// the table's order is what per-tool `$defs` moved into one table
    /// would give. A name already in the table brought everything it
    /// reaches with it, so the walk stops there: the work is linear in the
    /// definitions, not in tools × definitions.
    pub fn share(&mut self, schema: &Value) {
        let mut stack = Vec::new();
        refs_in(schema, &mut stack);
        let mut new = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if self.shared.contains_key(&n) || new.contains(&n) {
                continue;
            }
            if let Some(next) = self.edges.get(&n) {
                stack.extend(next.iter().cloned());
            }
            new.insert(n);
        }
        for n in new {
            let body = self.defs.get(&n).cloned().unwrap_or(json!({}));
            self.shared.insert(n, body);
        }
    }

    /// Whether `schema` with the `$defs` it reaches attached (what a client
    /// receives) is longer than `limit` bytes of compact JSON. The walk
    /// stops as soon as the answer is yes.
    pub fn whole_len_exceeds(&mut self, schema: &Value, limit: usize) -> bool {
        let bare = schema.to_string().len();
        let mut stack = Vec::new();
        refs_in(schema, &mut stack);
        if stack.is_empty() || !schema.is_object() {
            return bare > limit;
        }
        // `{…,"$defs":{"A":…,"B":…}}`: the bare object's closing brace
        // moves after the table; a comma unless the object was empty.
        let mut total = bare + usize::from(bare > 2) + "\"$defs\":{}".len();
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            let body = match self.text_len.get(&n) {
                Some(len) => *len,
                None => {
                    let len = self.defs.get(&n).map_or(2, |b| b.to_string().len());
                    self.text_len.insert(n.clone(), len);
                    len
                }
            };
            let key = Value::from(n.as_str()).to_string().len();
            total += key + 1 + body + usize::from(seen.len() > 1);
            if total > limit {
                return true;
            }
            if let Some(next) = self.edges.get(&n) {
                stack.extend(next.iter().cloned());
            }
        }
        false
    }

    /// Why `schema`, with the definitions it reaches, would not be a valid
    /// JSON Schema 2020-12 for the runtime's validator; None when it is.
    /// The schema is checked alone (each name it reaches stands in as
    /// `{}`) and every definition once, so a large document is not
    /// compiled once per tool.
    pub fn problem(&mut self, schema: &Value) -> Option<String> {
        let mut roots = Vec::new();
        refs_in(schema, &mut roots);
        if let Err(e) = check_alone(schema, &roots) {
            return Some(e);
        }
        if roots.is_empty() {
            return None;
        }
        if self.problems.is_none() {
            self.problems = Some(self.definition_problems());
        }
        let problems = self.problems.as_ref()?;
        roots.sort();
        roots.iter().find_map(|r| problems.get(r).cloned())
    }

    /// Every definition that is not a valid schema or reaches one that is
    /// not, with the first such definition's error.
    fn definition_problems(&self) -> HashMap<String, String> {
        let mut names: Vec<&String> = self.defs.keys().collect();
        names.sort();
        let mut users: HashMap<&str, Vec<&str>> = HashMap::new();
        for (from, to) in &self.edges {
            for t in to {
                users.entry(t.as_str()).or_default().push(from.as_str());
            }
        }
        let mut problems: HashMap<String, String> = HashMap::new();
        for name in names {
            let mut refs = Vec::new();
            refs_in(&self.defs[name], &mut refs);
            let Err(e) = check_alone(&self.defs[name], &refs) else {
                continue;
            };
            let message = format!("{e}, in definition {name:?}");
            let mut stack = vec![name.as_str()];
            while let Some(n) = stack.pop() {
                if problems.contains_key(n) {
                    continue;
                }
                problems.insert(n.to_string(), message.clone());
                if let Some(u) = users.get(n) {
                    stack.extend(u.iter().copied());
                }
            }
        }
        problems
    }

    fn inline(&mut self, v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                if let Some(name) = m
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    && !self.recursive.contains(name)
                    && self.defs.contains_key(name)
                {
                    let name = name.to_string();
                    let body = self.inlined_def(&name);
                    let siblings: Vec<(&String, &Value)> =
                        m.iter().filter(|(k, _)| *k != "$ref").collect();
                    if siblings.is_empty() {
                        return body;
                    }
                    let only_annotations = siblings
                        .iter()
                        .all(|(k, _)| ANNOTATIONS.contains(&k.as_str()));
                    return match body {
                        Value::Object(mut b) if only_annotations => {
                            for (k, v) in siblings {
                                b.insert(k.clone(), v.clone());
                            }
                            Value::Object(b)
                        }
                        other => {
                            let mut o = Map::new();
                            o.insert("allOf".into(), json!([other]));
                            for (k, v) in siblings {
                                let v = self.inline(v);
                                o.insert(k.clone(), v);
                            }
                            Value::Object(o)
                        }
                    };
                }
                let mut out = Map::new();
                for (k, child) in m {
                    let c = if k == "enum" || k == "const" || k == "default" || k == "examples" {
                        child.clone()
                    } else {
                        self.inline(child)
                    };
                    out.insert(k.clone(), c);
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|i| self.inline(i)).collect()),
            other => other.clone(),
        }
    }

    fn inlined_def(&mut self, name: &str) -> Value {
        if let Some(v) = self.inlined.get(name) {
            return v.clone();
        }
        let body = self.defs.get(name).cloned().unwrap_or(json!({}));
        let v = self.inline(&body);
        self.inlined.insert(name.to_string(), v.clone());
        v
    }
}

/// Whether the runtime's validator accepts `schema` on its own, each
/// definition it names (`refs`) standing in as `{}`.
fn check_alone(schema: &Value, refs: &[String]) -> Result<(), String> {
    let result = match schema {
        Value::Object(m) if !refs.is_empty() => {
            let mut m = m.clone();
            let stubs: Map<String, Value> = refs.iter().map(|r| (r.clone(), json!({}))).collect();
            m.insert("$defs".into(), Value::Object(stubs));
            jsonschema::validator_for(&Value::Object(m)).map(drop)
        }
        _ => jsonschema::validator_for(schema).map(drop),
    };
    result.map_err(|e| e.to_string())
}

/// Nodes on a cycle of `edges` (Tarjan's strongly connected components,
/// with an explicit stack).
fn recursive_nodes(edges: &HashMap<String, Vec<String>>) -> HashSet<String> {
    let mut names: Vec<&String> = edges.keys().collect();
    names.sort();
    let index_of: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let succ: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            edges[*n]
                .iter()
                .filter_map(|m| index_of.get(m.as_str()).copied())
                .collect()
        })
        .collect();
    let n = names.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut result = HashSet::new();
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i < succ[v].len() {
                let w = succ[v][*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = succ[v].contains(&v);
                    if component.len() > 1 || self_loop {
                        result.extend(component.into_iter().map(|c| names[c].clone()));
                    }
                }
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas(defs: Value) -> Schemas {
        let mut s = Schemas::new(Dialect::Modern);
        for (k, v) in defs.as_object().unwrap() {
            s.defs.insert(k.clone(), v.clone());
        }
        s.finish();
        s
    }

    fn refs(names: &[&str]) -> Value {
        let props: Map<String, Value> = names
            .iter()
            .map(|n| (n.to_lowercase(), json!({"$ref": format!("#/$defs/{n}")})))
            .collect();
        json!({"type": "object", "properties": props})
    }

    #[test]
    fn the_shared_table_grows_in_sorted_batches_of_new_names() {
        let mut s = schemas(json!({
            "A": {"type": "string"},
            "B": {"type": "integer"},
            "C": {"items": {"$ref": "#/$defs/B"}},
            "D": {"items": {"$ref": "#/$defs/C"}},
            "E": {"items": {"$ref": "#/$defs/E"}},
        }));
        s.share(&refs(&["C"]));
        s.share(&refs(&["A", "D"]));
        s.share(&refs(&["E", "B"]));
        s.share(&json!({"type": "string"}));
        let names: Vec<&String> = s.shared.keys().collect();
        assert_eq!(names, ["B", "C", "A", "D", "E"]);
        assert_eq!(s.shared["C"], s.defs["C"]);
    }

    #[test]
    fn the_output_limit_counts_the_bytes_clients_receive() {
        let mut s = schemas(json!({
            "A": {"type": "string", "description": "a \"quoted\" é"},
            "B": {"items": {"$ref": "#/$defs/A"}},
            "Loop": {"items": {"$ref": "#/$defs/Loop"}},
        }));
        for schema in [
            refs(&["B"]),
            refs(&["Loop", "A"]),
            json!({"$ref": "#/$defs/B"}),
            json!({"type": "object"}),
        ] {
            let mut whole = schema.clone();
            s.attach_defs(&mut whole, false);
            let len = whole.to_string().len();
            assert!(!s.whole_len_exceeds(&schema, len), "{whole}");
            assert!(s.whole_len_exceeds(&schema, len - 1), "{whole}");
        }
    }

    #[test]
    fn a_schema_reaching_an_invalid_definition_is_invalid() {
        let mut s = schemas(json!({
            "Bad": {"type": 5},
            "UsesBad": {"items": {"$ref": "#/$defs/Bad"}},
            "Fine": {"type": "string"},
        }));
        assert_eq!(s.problem(&refs(&["Fine"])), None);
        let e = s.problem(&refs(&["Fine", "UsesBad"])).unwrap();
        assert!(e.contains("\"Bad\""), "{e}");
        assert!(s.problem(&json!({"type": 5})).is_some());
        assert!(
            s.problem(&json!({"type": "object", "properties": {"x": {"type": 5}}}))
                .is_some()
        );
    }

    #[test]
    fn cycles() {
        let mut edges = HashMap::new();
        edges.insert("a".to_string(), vec!["b".to_string()]);
        edges.insert("b".to_string(), vec!["a".to_string(), "c".to_string()]);
        edges.insert("c".to_string(), vec![]);
        edges.insert("d".to_string(), vec!["d".to_string()]);
        let r = recursive_nodes(&edges);
        assert!(r.contains("a") && r.contains("b") && r.contains("d"));
        assert!(!r.contains("c"));
    }
}

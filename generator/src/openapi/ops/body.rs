//! Request bodies: media types and their preference, the body descriptor
//! (JSON, forms, multipart encoding).

use serde_json::{Map, Value, json};

use super::{Builder, s, strings};
use crate::openapi::doc::Loc;
use crate::openapi::schema::Schemas;

pub(super) struct Body {
    pub(super) media_type: String,
    pub(super) schema: Value,
    pub(super) required: bool,
    pub(super) description: Option<String>,
    pub(super) encoding: Map<String, Value>,
    pub(super) loc: Loc,
}

pub(super) fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub(super) fn is_json(media: &str) -> bool {
    let e = essence(media);
    e == "application/json" || e.ends_with("+json") || e == "*/*" || e == "application/*"
}

/// Preference among request media types: JSON first (merge-patch before
/// other JSON flavours), then forms, text, binary.
pub(super) fn media_rank(media: &str) -> u8 {
    let e = essence(media);
    match e.as_str() {
        "application/json" => 0,
        "application/merge-patch+json" => 1,
        _ if e.ends_with("+json") => 2,
        "application/x-www-form-urlencoded" => 3,
        "multipart/form-data" => 4,
        _ if e.starts_with("text/") => 5,
        "application/octet-stream" => 6,
        _ if e.contains('/') && !e.contains('*') => 7,
        _ => 8,
    }
}

impl Builder<'_> {
    /// The body descriptor; adds the body's arguments to the input schema.
    pub(super) fn body(
        &mut self,
        b: Body,
        args: &[String],
        properties: &mut Map<String, Value>,
        required: &mut Vec<Value>,
    ) -> Value {
        let media = b.media_type.clone();
        let e = essence(&media);
        let structured = is_json(&media)
            || e == "application/x-www-form-urlencoded"
            || e == "multipart/form-data";
        let mut d = Map::new();
        let resolved = self.schemas.resolve(&b.schema).clone();
        let object_props = resolved
            .get("properties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
            .cloned();
        let composite = ["allOf", "anyOf", "oneOf", "not", "if", "patternProperties"]
            .iter()
            .any(|k| resolved.get(*k).is_some());
        let open_map = matches!(
            resolved.get("additionalProperties"),
            Some(Value::Object(_)) | Some(Value::Bool(true))
        );
        let body_required = strings(&resolved, "required");
        let multipart = e == "multipart/form-data";
        let mut binary_fields = Vec::new();
        if structured && !is_json(&media) {
            if let Some(props) = &object_props {
                for (name, ps) in props {
                    let r = self.schemas.resolve(ps);
                    let items = r.get("items").map(|i| self.schemas.resolve(i));
                    let is_bin = |v: &Value| {
                        v.get("format") == Some(&Value::from("binary"))
                            || v.get("contentMediaType").is_some()
                                && v.get("type") == Some(&Value::from("string"))
                                && v.get("contentEncoding").is_none()
                    };
                    if multipart && (is_bin(r) || items.is_some_and(is_bin)) {
                        binary_fields.push(name.clone());
                    }
                }
            }
        }
        let readonly = |v: &Value, schemas: &Schemas| {
            schemas.resolve(v).get("readOnly") == Some(&Value::Bool(true))
        };
        let flatten = structured
            && !composite
            && !open_map
            && object_props.as_ref().is_some_and(|props| {
                props
                    .keys()
                    .all(|k| !args.contains(k) && !properties.contains_key(k))
            });
        let file_schema = |description: Option<&Value>| {
            let mut v = json!({
                "description": "File contents: base64 text (or a data: URL), an object {\"data\": base64, \"filename\": …, \"contentType\": …}, or a resource link {\"uri\": …} to one of this server's resources.",
                "oneOf": [
                    {"type": "string", "contentEncoding": "base64"},
                    {"type": "object", "properties": {
                        "data": {"type": "string", "contentEncoding": "base64"},
                        "filename": {"type": "string"},
                        "contentType": {"type": "string"}
                    }, "required": ["data"]},
                    {"type": "object", "properties": {
                        "type": {"const": "resource_link"},
                        "uri": {"type": "string"},
                        "name": {"type": "string"},
                        "mimeType": {"type": "string"}
                    }, "required": ["uri"], "not": {"required": ["data"]}}
                ]
            });
            if let Some(Value::String(d)) = description {
                v["description"] = Value::String(format!(
                    "{d} ({})",
                    v["description"].as_str().unwrap_or_default()
                ));
            }
            v
        };
        let prop_schema = |name: &str, ps: &Value, schemas: &Schemas| -> Value {
            if binary_fields.iter().any(|f| f == name) {
                let r = schemas.resolve(ps);
                if r.get("type") == Some(&Value::from("array")) {
                    json!({"type": "array", "items": file_schema(ps.get("description"))})
                } else {
                    file_schema(ps.get("description"))
                }
            } else {
                ps.clone()
            }
        };
        if flatten {
            let props = object_props.unwrap_or_default();
            let mut lifted = Vec::new();
            for (name, ps) in &props {
                if readonly(ps, &self.schemas) {
                    continue;
                }
                properties.insert(name.clone(), prop_schema(name, ps, &self.schemas));
                if b.required && body_required.contains(name) {
                    required.push(name.clone().into());
                }
                lifted.push(Value::from(name.clone()));
            }
            d.insert("flattened".into(), Value::Array(lifted));
        } else {
            let mut arg = String::from("body");
            while args.contains(&arg) || properties.contains_key(&arg) {
                arg = format!("request_{arg}");
            }
            let mut schema = if !structured {
                if e.starts_with("text/")
                    || e == "application/xml"
                    || e.ends_with("+xml")
                    || e.contains("yaml")
                {
                    json!({"type": "string"})
                } else {
                    // Sent as bytes: the same file shapes as a multipart field.
                    file_schema(Some(&json!("The request body")))
                }
            } else if !binary_fields.is_empty() {
                // Rewrite file fields of a form body kept whole.
                let mut r = resolved.clone();
                if let Some(Value::Object(props)) = r.get_mut("properties") {
                    for (name, ps) in props.iter_mut() {
                        *ps = prop_schema(name, ps, &self.schemas);
                    }
                }
                r
            } else {
                b.schema.clone()
            };
            if let (Some(desc), Value::Object(m)) = (&b.description, &mut schema) {
                if !m.contains_key("description") {
                    m.insert("description".into(), desc.clone().into());
                }
            }
            properties.insert(arg.clone(), schema);
            if b.required {
                required.push(arg.clone().into());
            }
            d.insert("arg".into(), arg.into());
        }
        d.insert("required".into(), b.required.into());
        d.insert("mediaType".into(), media.into());
        if !binary_fields.is_empty() {
            d.insert(
                "binaryFields".into(),
                binary_fields.into_iter().map(Value::from).collect(),
            );
        }
        if !b.encoding.is_empty() && (e == "application/x-www-form-urlencoded" || multipart) {
            let mut enc = Map::new();
            for (prop, v) in &b.encoding {
                let mut o = Map::new();
                if let Some(ct) = s(v, "contentType") {
                    o.insert("contentType".into(), ct.into());
                }
                if let Some(st) = s(v, "style") {
                    if matches!(
                        st,
                        "form" | "spaceDelimited" | "pipeDelimited" | "deepObject"
                    ) {
                        o.insert("style".into(), st.into());
                    } else {
                        self.f.warn(&b.loc, format!("encoding style {st:?} of {prop:?} is not allowed in a body; ignored"));
                    }
                }
                if let Some(x) = v.get("explode").and_then(Value::as_bool) {
                    o.insert("explode".into(), x.into());
                }
                if let Some(x) = v.get("allowReserved").and_then(Value::as_bool) {
                    o.insert("allowReserved".into(), x.into());
                }
                enc.insert(prop.clone(), Value::Object(o));
            }
            d.insert("encoding".into(), Value::Object(enc));
        }
        Value::Object(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media() {
        assert!(media_rank("application/json") < media_rank("multipart/form-data"));
        assert!(is_json("application/vnd.api+json; charset=utf-8"));
    }
}

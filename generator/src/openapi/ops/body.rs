//! Request bodies: media types and their preference, the body descriptor
//! (JSON, forms, multipart encoding).

use mcpgen_contract::{self as contract, NamedMap, Style};
use serde_json::{Map, Value, json};

use super::draft::Arguments;
use super::params::parse_style;
use super::{ApiLowering, s, strings};
use crate::openapi::doc::Loc;

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

/// What the body's schema allows: lifting its properties into arguments,
/// and which of them carry files.
struct Shape {
    /// The resolved schema.
    resolved: Value,
    /// JSON, urlencoded or multipart: a body with properties.
    structured: bool,
    /// Its non-empty `properties`.
    properties: Option<Map<String, Value>>,
    /// Properties (multipart only) that carry files.
    binary_fields: Vec<String>,
    /// Whether its properties become top-level arguments.
    flatten: bool,
}

impl ApiLowering<'_> {
    /// The body descriptor; adds the body's arguments to the input schema.
    pub(super) fn body(&mut self, b: Body, args: &[String], out: &mut Arguments) -> contract::Body {
        let shape = self.shape(&b, args, &out.properties);
        let (arg, flattened) = if shape.flatten {
            (None, self.append_flattened(&b, &shape, out))
        } else {
            (Some(self.append_whole(&b, &shape, args, out)), Vec::new())
        };
        let e = essence(&b.media_type);
        let encoded = e == "application/x-www-form-urlencoded" || e == "multipart/form-data";
        let encoding = match encoded {
            true => self.encoding(&b),
            false => NamedMap::new(),
        };
        contract::Body {
            arg,
            flattened,
            required: b.required,
            media_type: b.media_type,
            binary_fields: shape.binary_fields,
            encoding,
            binary: None,
        }
    }

    fn shape(&self, b: &Body, args: &[String], taken: &Map<String, Value>) -> Shape {
        let e = essence(&b.media_type);
        let structured = is_json(&b.media_type)
            || e == "application/x-www-form-urlencoded"
            || e == "multipart/form-data";
        let resolved = self.schemas.resolve(&b.schema).clone();
        let properties = resolved
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
        let mut binary_fields = Vec::new();
        if e == "multipart/form-data"
            && let Some(props) = &properties
        {
            for (name, ps) in props {
                let r = self.schemas.resolve(ps);
                let items = r.get("items").map(|i| self.schemas.resolve(i));
                if is_file(r) || items.is_some_and(is_file) {
                    binary_fields.push(name.clone());
                }
            }
        }
        // Only a body with a property to lift is flattened: one whose
        // properties are all read-only is sent whole (`flattened` may not
        // be empty).
        let free = |k: &String| !args.contains(k) && !taken.contains_key(k);
        let flatten = structured
            && !composite
            && !open_map
            && properties.as_ref().is_some_and(|props| {
                props.keys().all(free)
                    && strings(&resolved, "required").iter().all(free)
                    && props.values().any(|ps| !self.read_only(ps))
            });
        Shape {
            resolved,
            structured,
            properties,
            binary_fields,
            flatten,
        }
    }

    fn read_only(&self, schema: &Value) -> bool {
        self.schemas.resolve(schema).get("readOnly") == Some(&Value::Bool(true))
    }

    /// The schema of a property as an argument (files as file shapes).
    fn property_schema(&self, shape: &Shape, name: &str, ps: &Value) -> Value {
        if !shape.binary_fields.iter().any(|f| f == name) {
            return ps.clone();
        }
        if self.schemas.resolve(ps).get("type") == Some(&Value::from("array")) {
            json!({"type": "array", "items": file_schema(ps.get("description"))})
        } else {
            file_schema(ps.get("description"))
        }
    }

    /// Each writable property as a top-level argument; their names.
    fn append_flattened(&mut self, b: &Body, shape: &Shape, out: &mut Arguments) -> Vec<String> {
        let body_required = strings(&shape.resolved, "required");
        let mut lifted = Vec::new();
        for (name, ps) in shape.properties.iter().flatten() {
            if self.read_only(ps) {
                continue;
            }
            out.properties
                .insert(name.clone(), self.property_schema(shape, name, ps));
            if b.required && body_required.contains(name) {
                out.required.push(name.clone().into());
            }
            lifted.push(name.clone());
        }
        // Required but not described (Figma's putWebhook `team_id`):
        // dropping it would make every call fail, so it is kept, free-form.
        let props = shape.properties.as_ref();
        for name in body_required {
            if props.is_some_and(|p| p.contains_key(&name)) || lifted.contains(&name) {
                continue;
            }
            self.f.warn(
                &b.loc,
                format!("required body property `{name}` is missing from `properties`; kept as a free-form argument"),
            );
            out.properties.insert(
                name.clone(),
                json!({"description": "Required by the API; its description gives no schema."}),
            );
            if b.required {
                out.required.push(name.clone().into());
            }
            lifted.push(name);
        }
        lifted
    }

    /// The whole body as one argument (`body`, or `request_body`… when that
    /// is taken); its name.
    fn append_whole(
        &self,
        b: &Body,
        shape: &Shape,
        args: &[String],
        out: &mut Arguments,
    ) -> String {
        let mut arg = String::from("body");
        while args.contains(&arg) || out.properties.contains_key(&arg) {
            arg = format!("request_{arg}");
        }
        let e = essence(&b.media_type);
        let mut schema = if !shape.structured {
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
        } else if !shape.binary_fields.is_empty() {
            // Rewrite file fields of a form body kept whole.
            let mut r = shape.resolved.clone();
            if let Some(Value::Object(props)) = r.get_mut("properties") {
                for (name, ps) in props.iter_mut() {
                    *ps = self.property_schema(shape, name, ps);
                }
            }
            r
        } else {
            b.schema.clone()
        };
        if let (Some(desc), Value::Object(m)) = (&b.description, &mut schema)
            && !m.contains_key("description")
        {
            m.insert("description".into(), desc.clone().into());
        }
        out.properties.insert(arg.clone(), schema);
        if b.required {
            out.required.push(arg.clone().into());
        }
        arg
    }

    /// The Encoding Objects of a form or multipart body.
    fn encoding(&mut self, b: &Body) -> NamedMap<contract::Encoding> {
        let mut enc = NamedMap::new();
        for (prop, v) in &b.encoding {
            let mut o = contract::Encoding {
                content_type: s(v, "contentType").map(str::to_string),
                explode: v.get("explode").and_then(Value::as_bool),
                allow_reserved: v.get("allowReserved").and_then(Value::as_bool),
                ..contract::Encoding::default()
            };
            if let Some(st) = s(v, "style") {
                match parse_style(st) {
                    Some(
                        style @ (Style::Form
                        | Style::SpaceDelimited
                        | Style::PipeDelimited
                        | Style::DeepObject),
                    ) => o.style = Some(style),
                    _ => self.f.warn(
                        &b.loc,
                        format!(
                            "encoding style {st:?} of {prop:?} is not allowed in a body; ignored"
                        ),
                    ),
                }
            }
            enc.insert(prop.clone(), o);
        }
        enc
    }
}

/// A string that carries a file: `format: binary`, or a media type without
/// an encoding.
fn is_file(v: &Value) -> bool {
    v.get("format") == Some(&Value::from("binary"))
        || v.get("contentMediaType").is_some()
            && v.get("type") == Some(&Value::from("string"))
            && v.get("contentEncoding").is_none()
}

/// The schema of a file argument: base64, a file object or a resource link.
fn file_schema(description: Option<&Value>) -> Value {
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

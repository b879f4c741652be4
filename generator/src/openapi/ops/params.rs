//! Parameters: reading them (2.0 and 3.x) and their serialization
//! metadata (style, explode).

use serde_json::{Map, Value, json};

use super::body::Body;
use super::{Builder, Version, is_token, s};
use crate::openapi::doc::Loc;

/// Keys of a Parameter Object (2.0 or 3.x) that describe the parameter, not
/// its value: never copied into a 2.0 parameter's schema.
const PARAMETER_KEYS: &[&str] = &[
    "name",
    "in",
    "required",
    "description",
    "deprecated",
    "collectionFormat",
    "allowEmptyValue",
    "style",
    "explode",
    "allowReserved",
    "schema",
    "content",
    "examples",
];

pub(super) struct Param {
    pub(super) name: String,
    pub(super) location: String,
    pub(super) required: bool,
    pub(super) schema: Value,
    pub(super) description: Option<String>,
    pub(super) deprecated: bool,
    pub(super) style: Option<String>,
    pub(super) explode: Option<bool>,
    pub(super) allow_reserved: bool,
    pub(super) content_type: Option<String>,
    pub(super) loc: Loc,
}

impl Builder<'_> {
    pub(super) fn params(
        &mut self,
        list_loc: &Loc,
        consumes_form: bool,
        out: &mut Vec<Param>,
        body: &mut Option<Body>,
        form: &mut Vec<Param>,
    ) {
        let Some(list) = self.docs.get(list_loc).cloned() else {
            return;
        };
        let Some(items) = list.as_array() else {
            self.f
                .warn(list_loc, "`parameters` must be an array; ignored");
            return;
        };
        let _ = consumes_form;
        for i in 0..items.len() {
            let Some((loc, p)) = self.deref(&list_loc.idx(i)) else {
                continue;
            };
            let (Some(name), Some(location)) = (s(&p, "name"), s(&p, "in")) else {
                self.f
                    .warn(&loc, "a parameter needs `name` and `in`; ignored");
                continue;
            };
            let name = name.to_string();
            let location = location.to_string();
            let required = p.get("required") == Some(&Value::Bool(true));
            let description = s(&p, "description").map(str::to_string);
            if location == "body" {
                let schema_loc = loc.at("schema");
                let schema = match p.get("schema") {
                    Some(v) => self.schemas.convert(self.docs, &schema_loc, v, self.f),
                    None => json!({}),
                };
                *body = Some(Body {
                    media_type: String::from("application/json"),
                    schema,
                    required,
                    description,
                    encoding: Map::new(),
                    loc: loc.clone(),
                });
                continue;
            }
            let mut param = Param {
                name,
                location: location.clone(),
                required,
                schema: json!({}),
                description,
                deprecated: p.get("deprecated") == Some(&Value::Bool(true)),
                style: s(&p, "style").map(str::to_string),
                explode: p.get("explode").and_then(Value::as_bool),
                allow_reserved: p.get("allowReserved") == Some(&Value::Bool(true)),
                content_type: None,
                loc: loc.clone(),
            };
            let swagger2 = self.version == Version::Swagger2;
            if swagger2 {
                // OpenAPI 3 keys in a 2.0 parameter: the document mixes
                // versions. They are read as OpenAPI 3 would read them.
                let oas3: Vec<&str> = ["schema", "content", "style", "explode", "allowReserved"]
                    .into_iter()
                    .filter(|k| p.get(*k).is_some())
                    .collect();
                if !oas3.is_empty() {
                    let keys = oas3
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.f.warn(
                        &loc,
                        format!(
                            "this Swagger 2.0 parameter uses OpenAPI 3 keys ({keys}): the document mixes versions; they are read as OpenAPI 3 reads them"
                        ),
                    );
                }
            }
            if swagger2 && p.get("schema").is_none() && p.get("content").is_none() {
                // The parameter itself is the schema (type, items, enum…),
                // without the parameter's own keys.
                let mut schema = Map::new();
                if let Some(m) = p.as_object() {
                    for (k, v) in m {
                        if !PARAMETER_KEYS.contains(&k.as_str()) {
                            schema.insert(k.clone(), v.clone());
                        }
                    }
                }
                param.schema =
                    self.schemas
                        .convert(self.docs, &loc, &Value::Object(schema), self.f);
                let format = s(&p, "collectionFormat");
                let is_array = s(&p, "type") == Some("array");
                // An OpenAPI 3 `style` stands when no collectionFormat says otherwise.
                if is_array
                    && (format.is_some() || (param.style.is_none() && param.explode.is_none()))
                {
                    let format = format.unwrap_or("csv");
                    let (style, explode) = match (format, location.as_str()) {
                        ("multi", "query" | "formData") => ("form", true),
                        ("ssv", "query" | "formData") => ("spaceDelimited", false),
                        ("pipes", "query" | "formData") => ("pipeDelimited", false),
                        ("csv", "query" | "formData" | "cookie") => ("form", false),
                        ("csv", _) => ("simple", false),
                        (other, _) => {
                            self.f.warn(
                                &loc.at("collectionFormat"),
                                format!("collectionFormat {other:?} is not supported here; comma-separated values are sent"),
                            );
                            if matches!(location.as_str(), "query" | "formData" | "cookie") {
                                ("form", false)
                            } else {
                                ("simple", false)
                            }
                        }
                    };
                    param.style = Some(style.into());
                    param.explode = Some(explode);
                }
            } else if let Some(schema) = p.get("schema") {
                param.schema = self
                    .schemas
                    .convert(self.docs, &loc.at("schema"), schema, self.f);
            } else if let Some(Value::Object(content)) = p.get("content") {
                if let Some((media, m)) = content.iter().next() {
                    let sl = loc.at("content").at(media).at("schema");
                    param.schema = match m.get("schema") {
                        Some(sv) => self.schemas.convert(self.docs, &sl, sv, self.f),
                        None => json!({}),
                    };
                    param.content_type = Some(media.clone());
                }
            }
            if location == "formData" {
                form.push(param);
                continue;
            }
            match location.as_str() {
                "path" | "query" | "header" | "cookie" => {}
                other => {
                    self.f.warn(
                        &loc.at("in"),
                        format!("parameters in {other:?} are not supported; ignored"),
                    );
                    continue;
                }
            }
            if location == "header" {
                let lower = param.name.to_ascii_lowercase();
                if matches!(lower.as_str(), "accept" | "content-type" | "authorization") {
                    continue; // OpenAPI: such header parameters are ignored
                }
                if matches!(
                    lower.as_str(),
                    "host" | "content-length" | "transfer-encoding" | "connection" | "cookie"
                ) || !is_token(&param.name)
                {
                    self.f.warn(
                        &loc,
                        format!(
                            "header parameter {:?} cannot be set by a tool; ignored",
                            param.name
                        ),
                    );
                    continue;
                }
            }
            // Operation-level parameters override path-level ones (name + in).
            if let Some(existing) = out
                .iter_mut()
                .find(|e| e.name == param.name && e.location == param.location)
            {
                *existing = param;
            } else {
                out.push(param);
            }
        }
    }

    pub(super) fn style(&mut self, p: &Param, kind: &str) -> (String, bool) {
        let allowed: &[&str] = match p.location.as_str() {
            "path" => &["simple", "label", "matrix"],
            "query" => &["form", "spaceDelimited", "pipeDelimited", "deepObject"],
            "header" => &["simple"],
            _ => &["form"],
        };
        let default = if matches!(p.location.as_str(), "path" | "header") {
            "simple"
        } else {
            "form"
        };
        let mut style = p.style.clone().unwrap_or_else(|| default.to_string());
        if !allowed.contains(&style.as_str()) || (style == "deepObject" && kind != "object") {
            self.f.warn(
                &p.loc,
                format!(
                    "style {style:?} is not allowed for a {kind} {} parameter; {default:?} is used",
                    p.location
                ),
            );
            style = default.to_string();
        }
        let explode = p.explode.unwrap_or(style == "form");
        (style, explode)
    }
}

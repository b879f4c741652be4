//! Parameters: reading them (2.0 and 3.x) and their serialization
//! metadata (style, explode).

use mcpgen_contract::{Kind, Style};
use serde_json::{Map, Value, json};

use super::body::Body;
use super::{ApiLowering, Version, is_token, s};
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
    /// `x-mcp: {header: Name}`: the argument is mirrored into the HTTP
    /// header `Mcp-Param-{Name}` (MCP 2026-07-28, SEP-2243).
    pub(super) header: Option<String>,
    pub(super) loc: Loc,
}

impl Param {
    /// A path parameter the template uses but no Parameter Object declares.
    pub(super) fn undeclared_path(name: &str, loc: &Loc) -> Param {
        Param {
            name: name.to_string(),
            location: "path".into(),
            required: true,
            schema: json!({"type": "string"}),
            description: None,
            deprecated: false,
            style: None,
            explode: None,
            allow_reserved: false,
            content_type: None,
            header: None,
            loc: loc.clone(),
        }
    }

    /// The argument's schema: the parameter's, with its description
    /// (`Deprecated.` first when it is).
    pub(super) fn argument_schema(&self) -> Value {
        let mut schema = self.schema.clone();
        let mut description = self.description.clone();
        if self.deprecated {
            description = Some(
                format!("Deprecated. {}", description.unwrap_or_default())
                    .trim()
                    .to_string(),
            );
        }
        if let Some(d) = description {
            match &mut schema {
                Value::Object(m) => {
                    m.insert("description".into(), d.into());
                }
                Value::Bool(true) => schema = json!({"description": d}),
                _ => {}
            }
        }
        schema
    }
}

/// The Parameter Objects of one `parameters` list.
#[derive(Default)]
pub(super) struct ParamList {
    /// Path, query, header and cookie parameters.
    pub(super) params: Vec<Param>,
    /// A 2.0 `in: body` parameter.
    pub(super) body: Option<Body>,
    /// 2.0 `in: formData` parameters.
    pub(super) form: Vec<Param>,
}

/// What one Parameter Object is.
enum Read {
    Param(Param),
    Body(Body),
    Form(Param),
}

impl ApiLowering<'_> {
    pub(super) fn params(&mut self, list_loc: &Loc) -> ParamList {
        let mut out = ParamList::default();
        let Some(list) = self.docs.get(list_loc).cloned() else {
            return out;
        };
        let Some(items) = list.as_array() else {
            self.f
                .warn(list_loc, "`parameters` must be an array; ignored");
            return out;
        };
        for i in 0..items.len() {
            let Some((loc, p)) = self.deref(&list_loc.idx(i)) else {
                continue;
            };
            match self.param(&loc, &p) {
                Some(Read::Body(b)) => out.body = Some(b),
                Some(Read::Form(param)) => out.form.push(param),
                Some(Read::Param(param)) => {
                    // A later parameter of the same name and place wins.
                    match out
                        .params
                        .iter_mut()
                        .find(|e| e.name == param.name && e.location == param.location)
                    {
                        Some(existing) => *existing = param,
                        None => out.params.push(param),
                    }
                }
                None => {}
            }
        }
        out
    }

    /// `x-mcp: {header: Name}` on a Parameter Object. Whether the name and
    /// the parameter's type are allowed is checked on the tool's input
    /// schema (`ir::headers`).
    fn x_mcp_header(&mut self, loc: &Loc, p: &Value) -> Option<String> {
        match p.get("x-mcp")?.get("header")? {
            Value::String(h) => Some(h.clone()),
            _ => {
                self.f.error(
                    &loc.at("x-mcp").at("header"),
                    "x-mcp header must be a string: the name in the header Mcp-Param-{name}",
                );
                None
            }
        }
    }

    /// One Parameter Object; None (with a warning where it is worth one)
    /// when it is ignored.
    fn param(&mut self, loc: &Loc, p: &Value) -> Option<Read> {
        let (Some(name), Some(location)) = (s(p, "name"), s(p, "in")) else {
            self.f
                .warn(loc, "a parameter needs `name` and `in`; ignored");
            return None;
        };
        if name.is_empty() {
            self.f.warn(
                &loc.at("name"),
                "a parameter needs a non-empty `name`; ignored",
            );
            return None;
        }
        let required = p.get("required") == Some(&Value::Bool(true));
        let description = self.describe(s(p, "description"));
        if location == "body" {
            let schema = match p.get("schema") {
                Some(v) => self
                    .schemas
                    .convert(self.docs, &loc.at("schema"), v, self.f),
                None => json!({}),
            };
            return Some(Read::Body(Body {
                media_type: String::from("application/json"),
                schema,
                required,
                description,
                encoding: Map::new(),
                loc: loc.clone(),
            }));
        }
        let mut param = Param {
            name: name.to_string(),
            location: location.to_string(),
            required,
            schema: json!({}),
            description,
            deprecated: p.get("deprecated") == Some(&Value::Bool(true)),
            style: s(p, "style").map(str::to_string),
            explode: p.get("explode").and_then(Value::as_bool),
            allow_reserved: p.get("allowReserved") == Some(&Value::Bool(true)),
            content_type: None,
            header: self.x_mcp_header(loc, p),
            loc: loc.clone(),
        };
        self.param_schema(loc, p, &mut param);
        if location == "formData" {
            return Some(Read::Form(param));
        }
        if !matches!(location, "path" | "query" | "header" | "cookie") {
            self.f.warn(
                &loc.at("in"),
                format!("parameters in {location:?} are not supported; ignored"),
            );
            return None;
        }
        if location == "header" && !self.settable_header(loc, &param.name) {
            return None;
        }
        Some(Read::Param(param))
    }

    /// The parameter's schema (and, for 2.0, style from `collectionFormat`).
    fn param_schema(&mut self, loc: &Loc, p: &Value, param: &mut Param) {
        let swagger2 = self.version == Version::Swagger2;
        if swagger2 {
            self.warn_mixed_versions(loc, p);
        }
        if swagger2 && p.get("schema").is_none() && p.get("content").is_none() {
            self.swagger2_schema(loc, p, param);
        } else if let Some(schema) = p.get("schema") {
            param.schema = self
                .schemas
                .convert(self.docs, &loc.at("schema"), schema, self.f);
        } else if let Some(Value::Object(content)) = p.get("content")
            && let Some((media, m)) = content.iter().next()
        {
            let sl = loc.at("content").at(media).at("schema");
            param.schema = match m.get("schema") {
                Some(sv) => self.schemas.convert(self.docs, &sl, sv, self.f),
                None => json!({}),
            };
            param.content_type = Some(media.clone());
        }
    }

    /// OpenAPI 3 keys in a 2.0 parameter: the document mixes versions. They
    /// are read as OpenAPI 3 would read them.
    fn warn_mixed_versions(&mut self, loc: &Loc, p: &Value) {
        let oas3: Vec<&str> = ["schema", "content", "style", "explode", "allowReserved"]
            .into_iter()
            .filter(|k| p.get(*k).is_some())
            .collect();
        if oas3.is_empty() {
            return;
        }
        let keys = oas3
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        self.f.warn(
            loc,
            format!(
                "this Swagger 2.0 parameter uses OpenAPI 3 keys ({keys}): the document mixes versions; they are read as OpenAPI 3 reads them"
            ),
        );
    }

    /// 2.0: the parameter itself is the schema (type, items, enum…),
    /// without the parameter's own keys; `collectionFormat` gives the style.
    fn swagger2_schema(&mut self, loc: &Loc, p: &Value, param: &mut Param) {
        let mut schema = Map::new();
        if let Some(m) = p.as_object() {
            for (k, v) in m {
                if !PARAMETER_KEYS.contains(&k.as_str()) {
                    schema.insert(k.clone(), v.clone());
                }
            }
        }
        param.schema = self
            .schemas
            .convert(self.docs, loc, &Value::Object(schema), self.f);
        let format = s(p, "collectionFormat");
        let is_array = s(p, "type") == Some("array");
        // An OpenAPI 3 `style` stands when no collectionFormat says otherwise.
        if !is_array || (format.is_none() && (param.style.is_some() || param.explode.is_some())) {
            return;
        }
        let format = format.unwrap_or("csv");
        let formish = matches!(param.location.as_str(), "query" | "formData" | "cookie");
        let (style, explode) = match (format, param.location.as_str()) {
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
                if formish {
                    ("form", false)
                } else {
                    ("simple", false)
                }
            }
        };
        param.style = Some(style.into());
        param.explode = Some(explode);
    }

    /// Whether a tool may set header `name`: OpenAPI ignores Accept,
    /// Content-Type and Authorization; others would break the request.
    fn settable_header(&mut self, loc: &Loc, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        if matches!(lower.as_str(), "accept" | "content-type" | "authorization") {
            return false;
        }
        if matches!(
            lower.as_str(),
            "host" | "content-length" | "transfer-encoding" | "connection" | "cookie"
        ) || !is_token(name)
        {
            self.f.warn(
                loc,
                format!("header parameter {name:?} cannot be set by a tool; ignored"),
            );
            return false;
        }
        true
    }

    /// The style and explode the runtime will use; a style the location
    /// does not allow (or `deepObject` for a non-object) falls back to the
    /// default with a warning.
    pub(super) fn style(&mut self, p: &Param, kind: Kind) -> (Style, bool) {
        let kind = match kind {
            Kind::Primitive => "primitive",
            Kind::Array => "array",
            Kind::Object => "object",
        };
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
        (parse_style(&style).unwrap_or(Style::Form), explode)
    }
}

/// An OpenAPI style name.
pub(super) fn parse_style(style: &str) -> Option<Style> {
    Some(match style {
        "simple" => Style::Simple,
        "label" => Style::Label,
        "matrix" => Style::Matrix,
        "form" => Style::Form,
        "spaceDelimited" => Style::SpaceDelimited,
        "pipeDelimited" => Style::PipeDelimited,
        "deepObject" => Style::DeepObject,
        _ => return None,
    })
}

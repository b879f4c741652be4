//! One operation → a draft tool (or resource), phase by phase: inputs
//! (parameters and body), arguments, the operation descriptor, name and
//! text, annotations, and whether it is a resource.

use mcpgen_contract::{self as contract, Location};
use serde_json::{Map, Value, json};

use super::body::{Body, essence, media_rank};
use super::params::{Param, ParamList};
use super::walk::{Globals, OpRef, Selected, split_fixed_query, template_variables};
use super::{ApiLowering, Draft, Version, s};
use crate::ir::headers;
use crate::openapi::doc::Loc;
use crate::openapi::{Override, describe, names};
use crate::yaml::escape_pointer;

/// The inputs of an operation: parameters and request body.
struct Inputs {
    params: Vec<Param>,
    body: Option<Body>,
}

/// The tool's arguments: the input schema's `properties` and `required`,
/// and the descriptor's parameters.
pub(super) struct Arguments {
    pub(super) properties: Map<String, Value>,
    pub(super) required: Vec<Value>,
    pub(super) parameters: Vec<contract::Parameter>,
}

/// What the responses say: output schema, wrapping, media type, `Accept`.
struct Output {
    schema: Option<Value>,
    wrapped: bool,
    mime: Option<String>,
    accept: Option<String>,
}

/// Name, title and description of the tool.
struct Text {
    base_name: String,
    explicit_name: bool,
    title: Option<String>,
    description: Option<String>,
}

impl ApiLowering<'_> {
    /// The draft of one selected operation.
    pub(super) fn draft(
        &mut self,
        r: &OpRef<'_>,
        globals: &Globals<'_>,
        selected: Selected,
    ) -> Option<Draft> {
        let Inputs { params, body } = self.inputs(r, globals)?;
        // Every definition used so far is converted before types are read.
        self.schemas.drain(self.docs, self.f);
        let args = arg_names(&params);
        let mut arguments = self.arguments(&params, &args);
        let base_url = self.operation_server((r.op, r.loc), (r.item, r.item_loc));
        let body = body.map(|b| self.body(b, &args, &mut arguments));
        let security = self.operation_security(r, globals);
        let scopes = self.operation_scopes(r, globals);
        let output = self.output(r, globals);
        let (path, fixed_query) = split_fixed_query(r.path);
        if path != r.path {
            let message = match fixed_query.is_empty() {
                true => format!("path {:?} ends in a fragment; called as `{path}`", r.path),
                false => format!(
                    "path {:?} writes a query into the path; sent as the query `{}` of `{path}`",
                    r.path,
                    fixed_query.join("&")
                ),
            };
            self.f.warn(r.loc, message);
        }
        let lro = self.lro(r, &selected);
        let operation = contract::Operation {
            method: r.method.to_string(),
            path: path.to_string(),
            fixed_query,
            base_url,
            parameters: arguments.parameters,
            body,
            security,
            idempotent: None,
            success_schema_wrapped: output.wrapped,
            accept: output.accept,
            poll: lro.poll,
        };
        let mut input = Map::new();
        input.insert("type".into(), "object".into());
        input.insert("properties".into(), Value::Object(arguments.properties));
        if !arguments.required.is_empty() {
            input.insert("required".into(), Value::Array(arguments.required));
        }
        let input = Value::Object(input);
        self.header_annotations(r, &params, &args, &input);
        let text = self.text(r, &selected);
        let annotations = annotations(r.method, &selected);
        let resource = if self.opts.get_as_resources && r.method == "GET" {
            self.as_resource(r.path, &params, &args, &operation, output.mime)
        } else {
            None
        };
        Some(Draft {
            loc: r.loc.clone(),
            method: r.method.to_string(),
            path: r.path.to_string(),
            base_name: text.base_name,
            explicit_name: text.explicit_name,
            title: text.title,
            description: text.description,
            input,
            output: output.schema,
            operation,
            annotations,
            task: lro.task,
            resource,
            toolset: selected.toolset.clone(),
            scopes,
        })
    }

    /// Parameters (path item's, replaced by the operation's by name and
    /// location), path template checks, and the request body. None when
    /// the request body cannot be sent (the operation is left out).
    fn inputs(&mut self, r: &OpRef<'_>, globals: &Globals<'_>) -> Option<Inputs> {
        let item = self.params(&r.item_loc.at("parameters"));
        let own = self.params(&r.loc.at("parameters"));
        let ParamList {
            mut params,
            mut body,
            mut form,
        } = item;
        for p in own.params {
            match params
                .iter_mut()
                .find(|e| e.name == p.name && e.location == p.location)
            {
                Some(e) => *e = p,
                None => params.push(p),
            }
        }
        if own.body.is_some() {
            body = own.body;
        }
        for p in own.form {
            match form.iter_mut().find(|e| e.name == p.name) {
                Some(e) => *e = p,
                None => form.push(p),
            }
        }
        self.path_params(r, &mut params);
        let consumes =
            r.op.get("consumes")
                .cloned()
                .or_else(|| globals.consumes.clone());
        if self.version != Version::Swagger2 {
            body = match r.op.get("requestBody") {
                // A requestBody without content leaves any 2.0-style `in: body`.
                Some(_) => self.request_body(r)?.or(body),
                None => body,
            };
        } else if let Some(b) = body.as_mut() {
            swagger2_media_type(b, consumes.as_ref());
        }
        if !form.is_empty() {
            body = Some(self.form_body(r.loc, &form, consumes.as_ref()));
        }
        Some(Inputs { params, body })
    }

    /// Path parameters must all be declared and are always required;
    /// undeclared ones are added as strings, unused ones dropped.
    fn path_params(&mut self, r: &OpRef<'_>, params: &mut Vec<Param>) {
        // The walk checked the template already.
        let template_vars = template_variables(r.path).unwrap_or_default();
        for v in &template_vars {
            if !params.iter().any(|p| p.location == "path" && &p.name == v) {
                self.f.warn(
                    r.loc,
                    format!(
                        "path parameter {v:?} is not declared; it is added as a required string"
                    ),
                );
                params.push(Param::undeclared_path(v, r.loc));
            }
        }
        params.retain(|p| p.location != "path" || template_vars.contains(&p.name));
        for p in params.iter_mut().filter(|p| p.location == "path") {
            p.required = true;
        }
    }

    /// OpenAPI 3.x `requestBody`: the preferred media type that names one.
    /// Some(None) when there is none to send; None (with a warning) when a
    /// required body has no usable media type.
    fn request_body(&mut self, r: &OpRef<'_>) -> Option<Option<Body>> {
        let Some((rb_loc, rb)) = self.deref(&r.loc.at("requestBody")) else {
            return Some(None);
        };
        let Some(Value::Object(content)) = rb.get("content") else {
            return Some(None);
        };
        let mut usable = Vec::new();
        for media in content.keys() {
            if is_media_type(media) {
                usable.push(media.clone());
            } else {
                self.f.warn(
                    &rb_loc.at("content").at(media),
                    format!("{media:?} is not a media type; ignored"),
                );
            }
        }
        let required = rb.get("required") == Some(&Value::Bool(true));
        let Some(media) = usable.into_iter().min_by_key(|k| media_rank(k)) else {
            if required && !content.is_empty() {
                self.f.warn(
                    &rb_loc.at("content"),
                    "the required request body has no usable media type; the operation is left out",
                );
                return None;
            }
            return Some(None);
        };
        let m = &content[&media];
        let sl = rb_loc.at("content").at(&media).at("schema");
        let schema = match m.get("schema") {
            Some(sv) => self.schemas.convert(self.docs, &sl, sv, self.f),
            None => json!({}),
        };
        let encoding = m
            .get("encoding")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let media = if media.contains('*') {
            String::from("application/json")
        } else {
            media
        };
        Some(Some(Body {
            media_type: media,
            schema,
            required,
            description: self.describe(s(&rb, "description")),
            encoding,
            loc: rb_loc.clone(),
        }))
    }

    /// Swagger 2.0 `formData` parameters as one urlencoded or multipart body.
    fn form_body(&mut self, loc: &Loc, form: &[Param], consumes: Option<&Value>) -> Body {
        let has_file = form
            .iter()
            .any(|p| self.schemas.resolve(&p.schema).get("format") == Some(&Value::from("binary")));
        let wants = |media: &str| {
            consumes.and_then(Value::as_array).is_some_and(|l| {
                l.iter()
                    .any(|m| m.as_str().is_some_and(|m| essence(m) == media))
            })
        };
        let media = if has_file
            || (wants("multipart/form-data") && !wants("application/x-www-form-urlencoded"))
        {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut props = Map::new();
        let mut required = Vec::new();
        let mut encoding = Map::new();
        for p in form {
            let mut schema = p.schema.clone();
            if let (Some(d), Value::Object(m)) = (&p.description, &mut schema) {
                m.insert("description".into(), d.clone().into());
            }
            props.insert(p.name.clone(), schema);
            if p.required {
                required.push(Value::from(p.name.clone()));
            }
            if let Some(style) = &p.style {
                encoding.insert(
                    p.name.clone(),
                    json!({"style": style, "explode": p.explode.unwrap_or(false)}),
                );
            }
        }
        let required_body = !required.is_empty();
        let mut schema = json!({"type": "object", "properties": props});
        if required_body {
            schema["required"] = Value::Array(required);
        }
        Body {
            media_type: media.into(),
            schema,
            required: required_body,
            description: None,
            encoding,
            loc: loc.at("parameters"),
        }
    }

    /// Each parameter as an argument of the input schema and a parameter
    /// of the operation descriptor.
    fn arguments(&mut self, params: &[Param], args: &[String]) -> Arguments {
        let mut out = Arguments {
            properties: Map::new(),
            required: Vec::new(),
            parameters: Vec::new(),
        };
        for (p, arg) in params.iter().zip(args) {
            let Some(location) = location(&p.location) else {
                continue; // `params` keeps only the four locations
            };
            let kind = match self.schemas.single_type(&p.schema).as_deref() {
                _ if p.content_type.is_some() => contract::Kind::Primitive,
                Some("array") => contract::Kind::Array,
                Some("object") => contract::Kind::Object,
                _ => contract::Kind::Primitive,
            };
            let (style, explode) = self.style(p, kind);
            out.properties.insert(arg.clone(), self.annotated_schema(p));
            if p.required {
                out.required.push(arg.clone().into());
            }
            out.parameters.push(contract::Parameter {
                name: p.name.clone(),
                location,
                arg: arg.clone(),
                style: Some(style),
                explode: Some(explode),
                required: p.required,
                kind,
                allow_reserved: p.allow_reserved && location == Location::Query,
                content_type: p.content_type.clone(),
            });
        }
        out
    }

    /// A parameter's argument schema, with its `x-mcp-header` and (when the
    /// schema is a reference) the `type` it resolves to, which clients
    /// read to format the header.
    fn annotated_schema(&self, p: &Param) -> Value {
        let mut schema = p.argument_schema();
        let Some(header) = &p.header else {
            return schema;
        };
        if schema == Value::Bool(true) {
            schema = json!({});
        }
        if let Value::Object(m) = &mut schema {
            if !m.contains_key("type")
                && let Some(t) = self.schemas.single_type(&p.schema)
            {
                m.insert("type".into(), t.into());
            }
            m.insert(headers::ANNOTATION.into(), header.clone().into());
        }
        schema
    }

    /// `x-mcp-header` where MCP 2026-07-28 allows it: each problem at the
    /// parameter's `x-mcp` (else at the operation).
    fn header_annotations(
        &mut self,
        r: &OpRef<'_>,
        params: &[Param],
        args: &[String],
        input: &Value,
    ) {
        for issue in headers::header_issues(input) {
            let loc = params
                .iter()
                .zip(args)
                .find(|(_, a)| issue.pointer == format!("/properties/{}", escape_pointer(a)))
                .map_or_else(|| r.loc.clone(), |(p, _)| p.loc.at("x-mcp").at("header"));
            let message = format!(
                "invalid x-mcp header (inputSchema {}): {}",
                issue.pointer, issue.reason
            );
            self.f.error(&loc, message);
        }
    }

    /// The operation's `security`, else the document's.
    fn operation_security(&mut self, r: &OpRef<'_>, globals: &Globals<'_>) -> Vec<Vec<String>> {
        match r.op.get("security") {
            Some(sec) => self.security(&r.loc.at("security"), sec, globals.schemes),
            None => match &globals.security {
                Some(sec) => self.security(&self.root.at("security"), sec, globals.schemes),
                None => Vec::new(),
            },
        }
    }

    /// The OAuth scopes of the first security alternative (the operation's,
    /// else the document's) that names oauth2 or openIdConnect schemes with
    /// scopes; one alternative, since a tool has one scope list (docs/auth.md).
    /// Scopes that are not RFC 6749 scope tokens are left out.
    fn operation_scopes(&self, r: &OpRef<'_>, globals: &Globals<'_>) -> Vec<String> {
        let req = r.op.get("security").or(globals.security.as_ref());
        for alt in req.and_then(Value::as_array).into_iter().flatten() {
            let Some(m) = alt.as_object() else { continue };
            let mut scopes: Vec<String> = m
                .iter()
                .filter(|(name, _)| self.is_oauth_scheme(name))
                .flat_map(|(_, v)| v.as_array().into_iter().flatten())
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            // Silently: most servers never use these (auth.operationScopes).
            scopes.retain(|s| crate::spec::Scope::is_valid(s));
            scopes.sort();
            scopes.dedup();
            if !scopes.is_empty() {
                return scopes;
            }
        }
        Vec::new()
    }

    /// Whether the document declares `name` as an oauth2 or openIdConnect scheme.
    fn is_oauth_scheme(&self, name: &str) -> bool {
        let root = self.root();
        let escaped = name.replace('~', "~0").replace('/', "~1");
        let def = root
            .pointer(&format!("/components/securitySchemes/{escaped}"))
            .or_else(|| root.get("securityDefinitions").and_then(|d| d.get(name)));
        matches!(
            def.and_then(|d| d.get("type")).and_then(Value::as_str),
            Some("oauth2" | "openIdConnect")
        )
    }

    /// Output: the first 2xx response with a JSON schema; and `Accept`.
    fn output(&mut self, r: &OpRef<'_>, globals: &Globals<'_>) -> Output {
        let produces =
            r.op.get("produces")
                .cloned()
                .or_else(|| globals.produces.clone());
        let (schema, wrapped, mime) = self.success(r.loc, r.op, produces.as_ref());
        let produces_loc = if r.op.get("produces").is_some() {
            r.loc.at("produces")
        } else {
            self.root.at("produces")
        };
        let accept = self.accept(r.loc, r.op, produces.as_ref(), &produces_loc);
        Output {
            schema,
            wrapped,
            mime,
            accept,
        }
    }

    /// Name (override, `x-mcp`, else from operationId or method and path),
    /// title and description.
    fn text(&mut self, r: &OpRef<'_>, selected: &Selected) -> Text {
        let (op, x_mcp, ov) = (r.op, &selected.x_mcp, selected.ov.as_ref());
        let x_name = s(x_mcp, "name").map(str::to_string);
        let ov_name = ov.and_then(|o| o.name.clone());
        let explicit_name = ov_name.is_some() || x_name.is_some();
        let base_name = match ov_name.or(x_name) {
            Some(n) if valid_tool_name(&n) => n,
            Some(n) => {
                self.f.error(
                    r.loc,
                    format!("tool name {n:?} is invalid: 1-128 characters of A-Z a-z 0-9 _ - ."),
                );
                // Carry on with a derived name so that later steps
                // (uniqueness, truncation) only ever see valid names.
                names::tool_name(s(op, "operationId"), r.method, r.path)
            }
            None => {
                let id = s(op, "operationId");
                if id == Some("") {
                    self.f.warn(
                        &r.loc.at("operationId"),
                        "empty operationId; the name comes from the method and path",
                    );
                }
                names::tool_name(id, r.method, r.path)
            }
        };
        let summary = s(op, "summary")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let title = ov
            .and_then(|o| o.title.clone())
            .or_else(|| s(x_mcp, "title").map(str::to_string))
            .or_else(|| summary.clone());
        let description = ov
            .and_then(|o| o.description.clone())
            .or_else(|| s(x_mcp, "description").map(str::to_string))
            .or_else(|| Some(description(r, summary.as_ref(), self.opts.raw_descriptions)));
        Text {
            base_name,
            explicit_name,
            title,
            description,
        }
    }
}

impl ApiLowering<'_> {
    /// A GET operation whose required inputs are all path parameters, as a
    /// resource (no variables) or resource template: (URI, media type,
    /// whether a template).
    fn as_resource(
        &mut self,
        path: &str,
        params: &[Param],
        args: &[String],
        operation: &contract::Operation,
        mime: Option<String>,
    ) -> Option<(String, Option<String>, bool)> {
        if operation.body.as_ref().is_some_and(|b| b.required) {
            return None;
        }
        if params.iter().any(|p| p.required && p.location != "path") {
            return None;
        }
        // An operation on a server of its own is a resource of that server.
        let mut uri = match &operation.base_url {
            Some(own) => own.clone(),
            None => self.uri_base.trim_end_matches('/').to_string(),
        };
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            uri.push_str(&rest[..open]);
            let close = rest[open..].find('}')? + open;
            let name = &rest[open + 1..close];
            let i = params
                .iter()
                .position(|p| p.location == "path" && p.name == name)?;
            uri.push('{');
            uri.push_str(&args[i]);
            uri.push('}');
            rest = &rest[close + 1..];
        }
        uri.push_str(rest);
        let query: Vec<&str> = params
            .iter()
            .zip(args)
            .filter(|(p, _)| {
                p.location == "query"
                    && self
                        .schemas
                        .single_type(&p.schema)
                        .is_some_and(|t| t != "array" && t != "object")
            })
            .map(|(_, a)| a.as_str())
            .collect();
        if !query.is_empty() {
            uri.push_str("{?");
            uri.push_str(&query.join(","));
            uri.push('}');
        }
        let is_template = uri.contains('{');
        if crate::spec::validate::template_variables(&uri).is_err() {
            return None;
        }
        if uri.contains(' ') || uri.chars().any(char::is_control) {
            return None;
        }
        Some((uri, mime, is_template))
    }
}

/// Argument names: snake case, prefixed by location when two collide.
fn arg_names(params: &[Param]) -> Vec<String> {
    let bases: Vec<String> = params.iter().map(|p| names::arg_name(&p.name)).collect();
    let mut args: Vec<String> = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let clash = bases
            .iter()
            .enumerate()
            .any(|(j, b)| j != i && *b == bases[i]);
        let mut arg = if clash {
            format!("{}_{}", p.location, bases[i])
        } else {
            bases[i].clone()
        };
        let mut n = 2;
        while args.contains(&arg) {
            arg = format!("{}_{n}", bases[i]);
            n += 1;
        }
        args.push(arg);
    }
    args
}

fn location(l: &str) -> Option<Location> {
    match l {
        "path" => Some(Location::Path),
        "query" => Some(Location::Query),
        "header" => Some(Location::Header),
        "cookie" => Some(Location::Cookie),
        _ => None,
    }
}

/// 2.0: the body's media type from `consumes` (the operation's, else the
/// document's): the preferred concrete type, JSON first, so an upload that
/// consumes only `application/octet-stream` sends raw bytes (Netlify).
/// Form types are for `formData` parameters, not a body: skipped.
fn swagger2_media_type(b: &mut Body, consumes: Option<&Value>) {
    let best = consumes.and_then(Value::as_array).and_then(|list| {
        list.iter()
            .filter_map(Value::as_str)
            .filter(|m| !m.contains('*') && is_media_type(m) && !matches!(media_rank(m), 3 | 4))
            .min_by_key(|m| media_rank(m))
    });
    if let Some(m) = best {
        b.media_type = m.trim().to_string();
    }
}

/// `type/subtype` (wildcards allowed: they become JSON), as the runtime
/// will want a media type to send.
fn is_media_type(media: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let e = essence(media);
    matches!(e.split_once('/'), Some((t, st)) if token(t) && token(st))
        && media
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

fn valid_tool_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 128
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// The description from the operation: `Deprecated.`, summary and
/// description, else `METHOD /path` (`describe::compose`).
fn description(r: &OpRef<'_>, summary: Option<&String>, raw: bool) -> String {
    describe::compose(
        r.op.get("deprecated") == Some(&Value::Bool(true)),
        summary.map(String::as_str),
        s(r.op, "description"),
        &format!("{} {}", r.method, r.path),
        raw,
    )
}

/// Annotations from the method, then `x-mcp`, then overrides.
fn annotations(method: &str, selected: &Selected) -> Map<String, Value> {
    let mut annotations = Map::new();
    let read_only = matches!(method, "GET" | "HEAD" | "OPTIONS");
    annotations.insert("readOnlyHint".into(), read_only.into());
    if !read_only {
        annotations.insert("destructiveHint".into(), (method == "DELETE").into());
        annotations.insert(
            "idempotentHint".into(),
            matches!(method, "PUT" | "DELETE").into(),
        );
    }
    annotations.insert("openWorldHint".into(), true.into());
    if let Some(Value::Object(a)) = selected.x_mcp.get("annotations") {
        for (k, v) in a {
            annotations.insert(k.clone(), v.clone());
        }
    }
    let from_override = selected
        .ov
        .as_ref()
        .and_then(|o: &Override| o.annotations.clone());
    if let Some(Value::Object(a)) = from_override {
        for (k, v) in a {
            annotations.insert(k, v);
        }
    }
    annotations
}

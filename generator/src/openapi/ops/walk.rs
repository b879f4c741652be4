//! The operation walk: paths and methods, filters and overrides; one
//! operation → a draft tool (or resource).

use serde_json::{Map, Value, json};

use super::body::{Body, essence, media_rank};
use super::filter::Facts;
use super::params::Param;
use super::{Builder, Draft, Version, s, strings};
use crate::openapi::doc::Loc;
use crate::openapi::{Override, names};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace", "query",
];

impl Builder<'_> {
    pub(super) fn operations(&mut self, schemes: &Map<String, Value>) -> Vec<Draft> {
        let mut drafts = Vec::new();
        let paths_loc = self.root.at("paths");
        let Some(Value::Object(paths)) = self.docs.get(&paths_loc).cloned() else {
            if self.docs.get(&paths_loc).is_none() {
                self.f
                    .warn(&self.root, "the document has no `paths`: no tools");
            }
            return drafts;
        };
        let global_security = self.root().get("security").cloned();
        let global_consumes = self.root().get("consumes").cloned();
        let global_produces = self.root().get("produces").cloned();
        for (path, _) in &paths {
            let item_loc = paths_loc.at(path);
            if path.starts_with("x-") {
                continue;
            }
            let Some((item_loc, item)) = self.deref(&item_loc) else {
                continue;
            };
            if !item.is_object() {
                if !item.is_null() {
                    self.f
                        .warn(&item_loc, "a path item must be an object; ignored");
                }
                continue;
            }
            if !path.starts_with('/') {
                self.f
                    .warn(&item_loc, format!("path {path:?} does not start with `/`"));
            }
            let mut ops: Vec<(String, Loc)> = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_ascii_uppercase(), item_loc.at(m)))
                .collect();
            if let Some(Value::Object(extra)) = item.get("additionalOperations") {
                for m in extra.keys() {
                    ops.push((
                        m.to_ascii_uppercase(),
                        item_loc.at("additionalOperations").at(m),
                    ));
                }
            }
            for (method, op_loc) in ops {
                let Some(op) = self.docs.get(&op_loc).cloned() else {
                    continue;
                };
                if !op.is_object() {
                    self.f
                        .warn(&op_loc, "an operation must be an object; ignored");
                    continue;
                }
                let operation_id = s(&op, "operationId").map(str::to_string);
                let tags = strings(&op, "tags");
                let facts = Facts {
                    method: &method,
                    path,
                    operation_id: operation_id.as_deref(),
                    tags: &tags,
                };
                if !self.opts.include.includes(&facts) || self.opts.exclude.excludes(&facts) {
                    continue;
                }
                let key = format!("{method} {path}");
                let found = self
                    .opts
                    .overrides
                    .iter()
                    .find(|(k, _)| Some(k.as_str()) == operation_id.as_deref() || *k == key)
                    .cloned();
                let ov: Option<Override> = found.map(|(k, o)| {
                    self.matched.insert(k);
                    o
                });
                let x_mcp = op.get("x-mcp").cloned().unwrap_or(Value::Null);
                let hidden = ov.as_ref().and_then(|o| o.hidden).unwrap_or(false)
                    || (ov.as_ref().and_then(|o| o.hidden).is_none()
                        && x_mcp.get("hidden") == Some(&Value::Bool(true)));
                if hidden {
                    continue;
                }
                let ctx = OpCtx {
                    item: &item,
                    item_loc: &item_loc,
                    global_security: &global_security,
                    global_consumes: &global_consumes,
                    global_produces: &global_produces,
                    schemes,
                };
                if let Some(d) = self.operation(&method, path, &op_loc, &op, &ctx, ov, &x_mcp) {
                    drafts.push(d);
                }
            }
        }
        drafts
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        method: &str,
        path: &str,
        loc: &Loc,
        op: &Value,
        ctx: &OpCtx<'_>,
        ov: Option<Override>,
        x_mcp: &Value,
    ) -> Option<Draft> {
        let mut params: Vec<Param> = Vec::new();
        let mut body: Option<Body> = None;
        let mut form: Vec<Param> = Vec::new();
        self.params(
            &ctx.item_loc.at("parameters"),
            false,
            &mut params,
            &mut body,
            &mut form,
        );
        // Operation-level parameters replace path-level ones by (name, in).
        let mut op_params = Vec::new();
        let mut op_body = None;
        let mut op_form = Vec::new();
        self.params(
            &loc.at("parameters"),
            false,
            &mut op_params,
            &mut op_body,
            &mut op_form,
        );
        for p in op_params {
            if let Some(e) = params
                .iter_mut()
                .find(|e| e.name == p.name && e.location == p.location)
            {
                *e = p;
            } else {
                params.push(p);
            }
        }
        if op_body.is_some() {
            body = op_body;
        }
        for p in op_form {
            if let Some(e) = form.iter_mut().find(|e| e.name == p.name) {
                *e = p;
            } else {
                form.push(p);
            }
        }
        let _ = ctx.item;

        // Path parameters must all be declared and are always required.
        let template_vars: Vec<String> = path
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(v, _)| v.to_string()))
            .collect();
        for v in &template_vars {
            if !params.iter().any(|p| p.location == "path" && &p.name == v) {
                self.f.warn(
                    loc,
                    format!(
                        "path parameter {v:?} is not declared; it is added as a required string"
                    ),
                );
                params.push(Param {
                    name: v.clone(),
                    location: "path".into(),
                    required: true,
                    schema: json!({"type": "string"}),
                    description: None,
                    deprecated: false,
                    style: None,
                    explode: None,
                    allow_reserved: false,
                    content_type: None,
                    loc: loc.clone(),
                });
            }
        }
        params.retain(|p| p.location != "path" || template_vars.contains(&p.name));
        for p in params.iter_mut().filter(|p| p.location == "path") {
            p.required = true;
        }

        // Request body (3.x).
        let consumes = op
            .get("consumes")
            .cloned()
            .or_else(|| ctx.global_consumes.clone());
        if self.version != Version::Swagger2 {
            if let Some(rb) = op.get("requestBody") {
                let _ = rb;
                if let Some((rb_loc, rb)) = self.deref(&loc.at("requestBody")) {
                    if let Some(Value::Object(content)) = rb.get("content") {
                        let best = content.keys().min_by_key(|k| media_rank(k)).cloned();
                        if let Some(media) = best {
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
                            body = Some(Body {
                                media_type: media,
                                schema,
                                required: rb.get("required") == Some(&Value::Bool(true)),
                                description: s(&rb, "description").map(str::to_string),
                                encoding,
                                loc: rb_loc.clone(),
                            });
                        }
                    }
                }
            }
        } else if let Some(b) = body.as_mut() {
            // 2.0: the body's media type from `consumes`.
            if let Some(list) = consumes.as_ref().and_then(Value::as_array) {
                let best = list
                    .iter()
                    .filter_map(Value::as_str)
                    .min_by_key(|m| media_rank(m));
                if let Some(m) = best {
                    if !m.contains('*') && media_rank(m) <= 2 {
                        b.media_type = m.to_string();
                    }
                }
            }
        }
        if !form.is_empty() {
            let has_file = form.iter().any(|p| {
                self.schemas.resolve(&p.schema).get("format") == Some(&Value::from("binary"))
            });
            let wants_multipart = consumes
                .as_ref()
                .and_then(Value::as_array)
                .is_some_and(|l| {
                    l.iter().any(|m| {
                        m.as_str()
                            .is_some_and(|m| essence(m) == "multipart/form-data")
                    })
                });
            let wants_urlencoded = consumes
                .as_ref()
                .and_then(Value::as_array)
                .is_some_and(|l| {
                    l.iter().any(|m| {
                        m.as_str()
                            .is_some_and(|m| essence(m) == "application/x-www-form-urlencoded")
                    })
                });
            let media = if has_file || (wants_multipart && !wants_urlencoded) {
                "multipart/form-data"
            } else {
                "application/x-www-form-urlencoded"
            };
            let mut props = Map::new();
            let mut required = Vec::new();
            let mut encoding = Map::new();
            for p in &form {
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
            body = Some(Body {
                media_type: media.into(),
                schema,
                required: required_body,
                description: None,
                encoding,
                loc: loc.at("parameters"),
            });
        }

        // Every definition used so far is converted before types are read.
        self.schemas.drain(self.docs, self.f);

        // Argument names: snake case, prefixed by location when two collide.
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

        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        let mut op_params = Vec::new();
        for (p, arg) in params.iter().zip(&args) {
            let mut schema = p.schema.clone();
            let mut description = p.description.clone();
            if p.deprecated {
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
            let kind = match self.schemas.single_type(&p.schema).as_deref() {
                Some("array") => "array",
                Some("object") => "object",
                _ => "primitive",
            };
            let kind = if p.content_type.is_some() {
                "primitive"
            } else {
                kind
            };
            let (style, explode) = self.style(p, kind);
            properties.insert(arg.clone(), schema);
            if p.required {
                required.push(arg.clone().into());
            }
            let mut entry = Map::new();
            entry.insert("name".into(), p.name.clone().into());
            entry.insert("in".into(), p.location.clone().into());
            entry.insert("arg".into(), arg.clone().into());
            entry.insert("style".into(), style.into());
            entry.insert("explode".into(), explode.into());
            entry.insert("required".into(), p.required.into());
            entry.insert("kind".into(), kind.into());
            if p.allow_reserved && p.location == "query" {
                entry.insert("allowReserved".into(), true.into());
            }
            if let Some(ct) = &p.content_type {
                entry.insert("contentType".into(), ct.clone().into());
            }
            op_params.push(Value::Object(entry));
        }

        let mut operation = Map::new();
        operation.insert("method".into(), method.into());
        operation.insert("path".into(), path.into());
        if let Some(url) = self.operation_server((op, loc), (ctx.item, ctx.item_loc)) {
            operation.insert("baseUrl".into(), url.into());
        }
        operation.insert("parameters".into(), Value::Array(op_params));
        if let Some(b) = body {
            let descriptor = self.body(b, &args, &mut properties, &mut required);
            operation.insert("body".into(), descriptor);
        }
        let security = match op.get("security") {
            Some(sec) => self.security(&loc.at("security"), sec, ctx.schemes),
            None => match ctx.global_security {
                Some(sec) => self.security(&self.root.at("security"), &sec.clone(), ctx.schemes),
                None => json!([]),
            },
        };
        operation.insert("security".into(), security);

        // Output: the first 2xx response with a JSON schema.
        let produces = op
            .get("produces")
            .cloned()
            .or_else(|| ctx.global_produces.clone());
        let (output, wrapped, mime) = self.success(loc, op, produces.as_ref());
        operation.insert("successSchemaWrapped".into(), wrapped.into());
        let produces_loc = if op.get("produces").is_some() {
            loc.at("produces")
        } else {
            self.root.at("produces")
        };
        if let Some(accept) = self.accept(loc, op, produces.as_ref(), &produces_loc) {
            operation.insert("accept".into(), accept.into());
        }

        let mut input = Map::new();
        input.insert("type".into(), "object".into());
        input.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            input.insert("required".into(), Value::Array(required.clone()));
        }

        // Name, title, description.
        let x_name = s(x_mcp, "name").map(str::to_string);
        let ov_name = ov.as_ref().and_then(|o| o.name.clone());
        let explicit_name = ov_name.is_some() || x_name.is_some();
        let base_name = match ov_name.or(x_name) {
            Some(n) => {
                let valid = !n.is_empty()
                    && n.len() <= 128
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
                if valid {
                    n
                } else {
                    self.f.error(
                        loc,
                        format!(
                            "tool name {n:?} is invalid: 1-128 characters of A-Z a-z 0-9 _ - ."
                        ),
                    );
                    // Carry on with a derived name so that later steps
                    // (uniqueness, truncation) only ever see valid names.
                    names::tool_name(s(op, "operationId"), method, path)
                }
            }
            None => {
                let id = s(op, "operationId");
                if let Some(id) = id {
                    if id.is_empty() {
                        self.f.warn(
                            &loc.at("operationId"),
                            "empty operationId; the name comes from the method and path",
                        );
                    }
                }
                names::tool_name(id, method, path)
            }
        };
        let summary = s(op, "summary")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let title = ov
            .as_ref()
            .and_then(|o| o.title.clone())
            .or_else(|| s(x_mcp, "title").map(str::to_string))
            .or_else(|| summary.clone());
        let deprecated = op.get("deprecated") == Some(&Value::Bool(true));
        let description = ov
            .as_ref()
            .and_then(|o| o.description.clone())
            .or_else(|| s(x_mcp, "description").map(str::to_string))
            .or_else(|| {
                let d = s(op, "description")
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty());
                let mut parts: Vec<String> = Vec::new();
                if deprecated {
                    parts.push("Deprecated.".into());
                }
                if let Some(sm) = &summary {
                    parts.push(sm.clone());
                }
                if let Some(d) = d {
                    if Some(&d) != summary.as_ref() {
                        parts.push(d);
                    }
                }
                if parts.is_empty() || parts == ["Deprecated."] {
                    parts.push(format!("{method} {path}"));
                }
                Some(parts.join("\n\n"))
            });

        // Annotations from the method, then x-mcp, then overrides.
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
        if let Some(Value::Object(a)) = x_mcp.get("annotations") {
            for (k, v) in a {
                annotations.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(a)) = ov.as_ref().and_then(|o| o.annotations.clone()) {
            for (k, v) in a {
                annotations.insert(k, v);
            }
        }

        let resource = if self.opts.get_as_resources && method == "GET" {
            self.as_resource(path, &params, &args, &operation, mime)
        } else {
            None
        };

        Some(Draft {
            loc: loc.clone(),
            method: method.to_string(),
            path: path.to_string(),
            base_name,
            explicit_name,
            title,
            description,
            input: Value::Object(input),
            output,
            operation,
            annotations,
            resource,
        })
    }

    /// A GET operation whose required inputs are all path parameters, as a
    /// resource (no variables) or resource template.
    fn as_resource(
        &mut self,
        path: &str,
        params: &[Param],
        args: &[String],
        operation: &Map<String, Value>,
        mime: Option<String>,
    ) -> Option<(String, Option<String>, bool)> {
        if operation
            .get("body")
            .is_some_and(|b| b.get("required") == Some(&Value::Bool(true)))
        {
            return None;
        }
        if params.iter().any(|p| p.required && p.location != "path") {
            return None;
        }
        // An operation on a server of its own is a resource of that server.
        let mut uri = match operation.get("baseUrl").and_then(Value::as_str) {
            Some(own) => own.to_string(),
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
        let query: Vec<&String> = params
            .iter()
            .zip(args)
            .filter(|(p, _)| {
                p.location == "query"
                    && self
                        .schemas
                        .single_type(&p.schema)
                        .is_some_and(|t| t != "array" && t != "object")
            })
            .map(|(_, a)| a)
            .collect();
        if !query.is_empty() {
            uri.push_str("{?");
            uri.push_str(
                &query
                    .iter()
                    .map(|q| q.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            );
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

struct OpCtx<'a> {
    item: &'a Value,
    item_loc: &'a Loc,
    global_security: &'a Option<Value>,
    global_consumes: &'a Option<Value>,
    global_produces: &'a Option<Value>,
    schemes: &'a Map<String, Value>,
}

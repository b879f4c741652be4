//! The YAML spec front end's lowering: a loaded, validated [`LoadedSpec`]
//! → [`ir::Server`]. Identifiers come from `crate::names`, Rust types from
//! `ir::schema`; descriptors are built here, in the order the MCP schema
//! lists their keys.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::collections::HashSet;

use super::validate::{decode_base64, template_variables_presence};
use super::{Annotations, Icon, LoadedSpec, OrderedMap, Param};
use crate::ir::{
    Completion, Contents, DefaultFn, Enum, Field, Prompt, Resource, RuntimeDep, Server, Struct,
    Template, Tool, Variant,
};
use crate::ir::{headers, schema};
use crate::names;
use crate::spec;

/// Lower a loaded, validated spec to IR.
pub fn lower(loaded: &LoadedSpec, runtime: RuntimeDep) -> Server {
    let spec = &loaded.spec;
    let server = &spec.server;
    // Validation guarantees a usable package name; the fallback is defensive.
    let package = names::package_name(&server.name).unwrap_or_else(|_| String::from("mcp-server"));
    let crate_ident = package.replace('-', "_");
    let mut b = SpecLowering {
        loaded,
        structs: Vec::new(),
        completions: Vec::new(),
        type_names: type_names(spec),
    };
    let tools = spec.tools.iter().map(|t| b.tool(t)).collect::<Vec<_>>();
    let resources = spec
        .resources
        .iter()
        .map(|r| b.resource(r))
        .collect::<Vec<_>>();
    let templates = spec
        .resource_templates
        .iter()
        .map(|t| b.template(t))
        .collect::<Vec<_>>();
    let prompts = spec.prompts.iter().map(|p| b.prompt(p)).collect::<Vec<_>>();
    let has_handlers = has_handlers(&tools, &resources, &templates, &prompts);
    let (rate_limits, rate_limit_rows) = rate_limits(spec);
    let (auth, auth_rows) = auth(spec);
    Server {
        spec_file: names::source_file_name(&loaded.path),
        name: server.name.clone(),
        title: server.title.clone(),
        description: server.description.clone(),
        package,
        crate_ident,
        crate_version: if is_semver(&server.version) {
            server.version.clone()
        } else {
            String::from("0.1.0")
        },
        version: server.version.clone(),
        runtime,
        info_json: server_info(server),
        instructions: server.instructions.clone(),
        cache: server.cache.as_ref().and_then(cache_defaults),
        list_cache: server.cache.as_ref().map(list_cache).unwrap_or_default(),
        tools,
        resources,
        templates,
        prompts,
        completions: b.completions,
        structs: b.structs,
        has_handlers,
        upstream: None,
        rate_limits,
        rate_limit_rows,
        auth,
        auth_rows,
    }
}

/// The names taken before any enum is named: the imported types and every
/// arguments/params struct. Struct names come first: an enum named after a
/// tool's field must not take the name of a later tool's arguments struct.
fn type_names(spec: &spec::Spec) -> HashSet<String> {
    IMPORTED_TYPES
        .iter()
        .map(|s| s.to_string())
        .chain(spec.tools.iter().map(|t| names::tool_args(&t.name)))
        .chain(
            spec.resource_templates
                .iter()
                .map(|t| names::template_params(&t.name)),
        )
        .chain(spec.prompts.iter().map(|p| names::prompt_args(&p.name)))
        .collect()
}

/// Whether the crate has a `Handlers` trait: some tool, template, resource
/// or prompt calls user code.
fn has_handlers(
    tools: &[Tool],
    resources: &[Resource],
    templates: &[Template],
    prompts: &[Prompt],
) -> bool {
    !tools.is_empty()
        || !templates.is_empty()
        || resources
            .iter()
            .any(|r| matches!(r.contents, Contents::Handler { .. }))
        || prompts.iter().any(|p| p.method.is_some())
}

/// The server's MCP `Implementation` object, keys in the schema's order.
fn server_info(server: &spec::ServerInfo) -> Value {
    let mut info = Map::new();
    info.insert("name".into(), server.name.clone().into());
    insert_opt(&mut info, "title", &server.title);
    info.insert("version".into(), server.version.clone().into());
    insert_opt(&mut info, "description", &server.description);
    insert_icons(&mut info, &server.icons);
    insert_opt(&mut info, "websiteUrl", &server.website_url);
    Value::Object(info)
}

/// `AUTH` (`ServerBuilder::auth`): the `auth:` section and the tools'
/// `scopes:`, when the spec has either; the crate then builds the runtime's
/// `auth` feature. Auth is still off until an issuer is given.
/// Also the README rows: (tool, its scopes).
fn auth(spec: &spec::Spec) -> (Option<String>, Vec<(String, String)>) {
    let scoped = spec.tools.iter().filter(|t| !t.scopes.is_empty());
    let rows = scoped
        .clone()
        .map(|t| {
            let list: Vec<String> = t.scopes.iter().map(|s| format!("`{}`", s.0)).collect();
            (t.name.clone(), list.join(", "))
        })
        .collect();
    let tool_scopes: Map<String, Value> = scoped
        .map(|t| (t.name.clone(), scope_list(&t.scopes)))
        .collect();
    if spec.auth.is_none() && tool_scopes.is_empty() {
        return (None, rows);
    }
    let declared = spec.auth.clone().unwrap_or_default();
    let mut json = Map::new();
    if let Some(issuer) = declared.issuer {
        json.insert("issuer".into(), issuer.into());
    }
    if let Some(resource) = declared.resource {
        json.insert("resource".into(), resource.into());
    }
    json.insert("scopes".into(), scope_list(&declared.scopes));
    json.insert("hideTools".into(), declared.hide_tools.into());
    json.insert("toolScopes".into(), Value::Object(tool_scopes));
    (Some(Value::Object(json).to_string()), rows)
}

/// With `auth.operationScopes`, the OpenAPI import's tools need their
/// operations' scopes: added to `AUTH` (and the README rows) after the
/// import, for tools that have no scopes of their own.
pub(crate) fn add_operation_scopes(spec: &spec::Spec, server: &mut Server) {
    if !spec.auth.as_ref().is_some_and(|a| a.operation_scopes) {
        return;
    }
    let Some(up) = &server.upstream else { return };
    let Some(mut json) = server
        .auth
        .as_deref()
        .and_then(|a| serde_json::from_str::<Map<String, Value>>(a).ok())
    else {
        return;
    };
    let Some(Value::Object(tools)) = json.get_mut("toolScopes") else {
        return;
    };
    for (name, scopes) in &up.scopes {
        if tools.contains_key(name) {
            continue;
        }
        tools.insert(
            name.clone(),
            scopes.iter().map(|s| Value::from(s.as_str())).collect(),
        );
        let list: Vec<String> = scopes.iter().map(|s| format!("`{s}`")).collect();
        server.auth_rows.push((name.clone(), list.join(", ")));
    }
    server.auth = Some(Value::Object(json).to_string());
}

fn scope_list(scopes: &[spec::Scope]) -> Value {
    scopes.iter().map(|s| Value::from(s.0.clone())).collect()
}

/// The declared rate limits as `RATE_LIMITS` JSON (`ServerBuilder::
/// rate_limits`) and as README rows; a tool's own `rateLimit` wins over
/// `rateLimits.tools`. Loading has checked every limit.
fn rate_limits(spec: &spec::Spec) -> (Option<String>, Vec<(String, String)>) {
    let mut json = Map::new();
    let mut rows = vec![];
    let mut level = |key: &str, what: &str, r: Option<&spec::RateLimit>| {
        if let Some(rate) = r.and_then(|r| r.canonical().ok()) {
            rows.push((what.to_owned(), rate.clone()));
            json.insert(key.to_owned(), rate.into());
        }
    };
    let declared = spec.rate_limits.clone().unwrap_or_default();
    level(
        "perClient",
        "HTTP requests per client",
        declared.per_client.as_ref(),
    );
    level(
        "server",
        "HTTP requests to this server",
        declared.server.as_ref(),
    );
    level(
        "global",
        "HTTP requests to all servers sharing the store",
        declared.global.as_ref(),
    );
    let mut tools = Map::new();
    let own = spec
        .tools
        .iter()
        .filter_map(|t| Some((t.name.clone(), t.rate_limit.clone()?)));
    for (name, r) in declared
        .tools
        .map(|m| m.0)
        .unwrap_or_default()
        .into_iter()
        .chain(own)
    {
        if let Ok(rate) = r.canonical() {
            tools.insert(name, rate.into());
        }
    }
    for (name, rate) in &tools {
        rows.push((
            format!("calls of tool `{name}`"),
            rate.as_str().unwrap_or("").to_owned(),
        ));
    }
    if !tools.is_empty() {
        json.insert("tools".into(), Value::Object(tools));
    }
    let text = (!json.is_empty()).then(|| Value::Object(json).to_string());
    (text, rows)
}

/// Lowers the spec's items one by one, collecting on the side the argument
/// structs and completions they declare (in spec order).
struct SpecLowering<'a> {
    loaded: &'a LoadedSpec,
    structs: Vec<Struct>,
    completions: Vec<Completion>,
    /// Every generated type name so far (and the names generated code
    /// imports), so that enum names never collide with them.
    type_names: HashSet<String>,
}

/// The fields of an arguments struct and what they need beside it.
#[derive(Default)]
struct FieldsOf {
    fields: Vec<Field>,
    defaults: Vec<DefaultFn>,
    enums: Vec<Enum>,
}

/// Names in scope in `generated.rs` besides its own types.
const IMPORTED_TYPES: &[&str] = &[
    "Serialize",
    "Deserialize",
    "JsonSchema",
    "Handlers",
    "Server",
    "ServerBuilder",
    "RequestContext",
    "BuildError",
    "McpError",
    "ToolError",
    "CallToolResult",
    "Content",
    "GetPromptResult",
    "LogLevel",
    "PromptMessage",
    "ReadResourceResult",
    "ResourceContents",
    "Role",
    "Value",
    "String",
    "Vec",
    "Option",
];

impl SpecLowering<'_> {
    fn tool(&mut self, tool: &spec::Tool) -> Tool {
        let input_schema = match (&tool.params, &tool.input_schema) {
            (_, Some(schema)) => schema.clone(),
            (Some(params), None) => expand_params(params),
            (None, None) => empty_object(),
        };
        let args = names::tool_args(&tool.name);
        let fields = self.fields_from_schema(&tool.name, &input_schema);
        let struct_doc = vec![format!(" Arguments of the `{}` tool.", tool.name)];
        self.structs.push(Struct {
            ident: args.clone(),
            doc: struct_doc,
            fields: fields.fields,
            defaults: fields.defaults,
            enums: fields.enums,
        });

        let mut d = Map::new();
        d.insert("name".into(), tool.name.clone().into());
        insert_opt(&mut d, "title", &tool.title);
        insert_opt(&mut d, "description", &tool.description);
        d.insert("inputSchema".into(), input_schema);
        if let Some(output) = &tool.output_schema {
            d.insert("outputSchema".into(), output.clone());
        }
        if let Some(a) = &tool.annotations {
            let mut m = Map::new();
            insert_opt(&mut m, "title", &a.title);
            insert_opt_bool(&mut m, "readOnlyHint", a.read_only_hint);
            insert_opt_bool(&mut m, "destructiveHint", a.destructive_hint);
            insert_opt_bool(&mut m, "idempotentHint", a.idempotent_hint);
            insert_opt_bool(&mut m, "openWorldHint", a.open_world_hint);
            d.insert("annotations".into(), Value::Object(m));
        }
        insert_icons(&mut d, &tool.icons);
        if let Some(t) = tool.task_support() {
            d.insert("execution".into(), json!({ "taskSupport": t.as_str() }));
            if tool.input_before_task == Some(true) {
                // Read by the runtime (`modern::tasks::input_before_task`).
                d.insert(
                    "_meta".into(),
                    json!({ "dev.mcpgen/inputBeforeTask": true }),
                );
            }
        }
        Tool {
            name: tool.name.clone(),
            method: names::tool_method(&tool.name),
            args,
            descriptor: Value::Object(d),
            doc: doc_lines(
                &format!("Tool `{}`", tool.name),
                tool.description.as_deref(),
            ),
        }
    }

    /// Fields of an arguments struct, from the (expanded) input schema;
    /// `owner` (the tool's name) prefixes the names of its enums.
    fn fields_from_schema(&mut self, owner: &str, schema: &Value) -> FieldsOf {
        let required = schema::required(schema);
        let mut out = FieldsOf::default();
        for (name, prop) in schema::properties(schema) {
            let ident = names::snake(name);
            let is_required = required.contains(&name);
            let doc = prop
                .get("description")
                .and_then(Value::as_str)
                .map(|d| doc_lines("", Some(d)))
                .unwrap_or_default();
            let rename = names::serde_rename(&ident, name);
            let field = |ty: String, default: bool, default_fn: Option<String>| Field {
                ident: ident.clone(),
                rename: rename.clone(),
                ty,
                default,
                default_fn,
                doc: doc.clone(),
            };
            let declared_default = prop.get("default").filter(|_| !is_required);
            if let Some((e, ty)) = self.string_enum(owner, name, prop, declared_default) {
                let field = match (e.has_default, is_required) {
                    (true, _) => field(ty, true, None),
                    (false, true) => field(ty, false, None),
                    (false, false) => field(format!("Option<{ty}>"), true, None),
                };
                out.enums.push(e);
                out.fields.push(field);
                continue;
            }
            let (ty, nullable) = schema::rust_type_in(prop, schema);
            let declared_default = declared_default.filter(|_| !nullable);
            let default = declared_default.and_then(|v| schema::default_expr(&ty, v));
            let field = match default {
                // `#[serde(default)]` gives false, 0 and empty already.
                Some(expr) if expr.is_type_default() => field(ty.render(), true, None),
                Some(expr) => {
                    // An associated function of the struct: field names are
                    // unique within it, so these never collide.
                    let fn_ident = format!("default_{}", ident.trim_start_matches("r#"));
                    out.defaults.push(DefaultFn {
                        ident: fn_ident.clone(),
                        ty: ty.render(),
                        expr,
                    });
                    field(ty.render(), false, Some(fn_ident))
                }
                None if is_required && !nullable => field(ty.render(), false, None),
                None => field(format!("Option<{}>", ty.render()), true, None),
            };
            out.fields.push(field);
        }
        out
    }

    /// A property whose values are a non-empty list of strings becomes an
    /// enum (or `Vec` of one, for an array whose items are): the enum and
    /// the field's type. A declared default that is one of the values
    /// becomes the enum's `#[default]` variant.
    fn string_enum(
        &mut self,
        owner: &str,
        field: &str,
        prop: &Value,
        default: Option<&Value>,
    ) -> Option<(Enum, String)> {
        let (values_of, in_vec) = match prop.get("type").and_then(Value::as_str)? {
            "string" => (prop, false),
            "array" => (prop.get("items")?, true),
            _ => return None,
        };
        if in_vec && values_of.get("type").and_then(Value::as_str) != Some("string") {
            return None;
        }
        let values = values_of
            .get("enum")?
            .as_array()?
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<&str>>>()
            .filter(|v| !v.is_empty())?;
        let default = default.and_then(Value::as_str).filter(|_| !in_vec);
        let ident = names::unique(&names::field_enum(owner, field), |c| {
            self.type_names.contains(c)
        });
        self.type_names.insert(ident.clone());
        let variants: Vec<Variant> = names::enum_variants(&values)
            .into_iter()
            .zip(&values)
            .map(|(ident, value)| Variant {
                ident,
                value: (*value).to_string(),
                default: default == Some(*value),
            })
            .collect();
        let has_default = variants.iter().any(|v| v.default);
        let doc = vec![format!(" Values of `{field}` of `{owner}`.")];
        let ty = if in_vec {
            format!("Vec<{ident}>")
        } else {
            ident.clone()
        };
        let e = Enum {
            ident,
            doc,
            variants,
            has_default,
        };
        Some((e, ty))
    }

    fn resource(&mut self, res: &spec::Resource) -> Resource {
        let mut mime_type = res.mime_type.clone();
        let (contents, size) = if let Some(text) = &res.text {
            (Contents::Text { text: text.clone() }, Some(text.len()))
        } else if let Some(blob) = &res.blob {
            let bytes = decode_base64(blob).unwrap_or_default();
            let size = bytes.len();
            (
                Contents::Blob {
                    base64: base64::engine::general_purpose::STANDARD.encode(bytes),
                },
                Some(size),
            )
        } else if let Some(file) = &res.file {
            let bytes = self.loaded.files.get(file).cloned().unwrap_or_default();
            if mime_type.is_none() {
                mime_type = guess_mime(file).map(String::from);
            }
            let size = bytes.len();
            let textual = mime_type.as_deref().is_none_or(is_textual_mime);
            match String::from_utf8(bytes) {
                Ok(text) if textual => (Contents::Text { text }, Some(size)),
                Ok(text) => (
                    Contents::Blob {
                        base64: base64::engine::general_purpose::STANDARD.encode(text),
                    },
                    Some(size),
                ),
                Err(e) => {
                    let base64 = base64::engine::general_purpose::STANDARD.encode(e.into_bytes());
                    (Contents::Blob { base64 }, Some(size))
                }
            }
        } else {
            (
                Contents::Handler {
                    method: names::resource_method(&res.name),
                },
                None,
            )
        };
        let mut d = Map::new();
        d.insert("uri".into(), res.uri.clone().into());
        d.insert("name".into(), res.name.clone().into());
        insert_opt(&mut d, "title", &res.title);
        insert_opt(&mut d, "description", &res.description);
        insert_opt(&mut d, "mimeType", &mime_type);
        insert_annotations(&mut d, &res.annotations);
        if let Some(size) = size {
            d.insert("size".into(), size.into());
        }
        insert_icons(&mut d, &res.icons);
        Resource {
            name: res.name.clone(),
            uri: res.uri.clone(),
            descriptor: Value::Object(d),
            contents,
            doc: doc_lines(
                &format!("Resource `{}` ({})", res.name, res.uri),
                res.description.as_deref(),
            ),
        }
    }

    fn template(&mut self, tpl: &spec::ResourceTemplate) -> Template {
        let params = names::template_params(&tpl.name);
        let fields = template_variables_presence(&tpl.uri_template)
            .into_iter()
            .map(|(v, always)| {
                let ident = names::snake(&v);
                let doc = if always {
                    format!(" The `{v}` variable of the URI template.")
                } else {
                    format!(" The `{v}` variable of the URI template (absent when the URI leaves it out).")
                };
                Field {
                    rename: names::serde_rename(&ident, &v),
                    ident,
                    ty: String::from(if always { "String" } else { "Option<String>" }),
                    default: !always,
                    default_fn: None,
                    doc: vec![doc],
                }
            })
            .collect();
        let doc = vec![format!(
            " Variables of the `{}` resource template.",
            tpl.name
        )];
        self.structs.push(Struct {
            ident: params.clone(),
            doc,
            fields,
            defaults: Vec::new(),
            enums: Vec::new(),
        });

        let mut d = Map::new();
        d.insert("uriTemplate".into(), tpl.uri_template.clone().into());
        d.insert("name".into(), tpl.name.clone().into());
        insert_opt(&mut d, "title", &tpl.title);
        insert_opt(&mut d, "description", &tpl.description);
        insert_opt(&mut d, "mimeType", &tpl.mime_type);
        insert_annotations(&mut d, &tpl.annotations);
        insert_icons(&mut d, &tpl.icons);

        if let Some(complete) = &tpl.complete {
            let reference = serde_json::json!({"type": "ref/resource", "uri": tpl.uri_template});
            for (variable, values) in complete.iter() {
                self.completions.push(Completion {
                    reference: reference.clone(),
                    argument: variable.clone(),
                    values: values.clone(),
                });
            }
        }
        Template {
            name: tpl.name.clone(),
            uri_template: tpl.uri_template.clone(),
            method: names::template_method(&tpl.name),
            params,
            descriptor: Value::Object(d),
            doc: doc_lines(
                &format!("Resource template `{}` ({})", tpl.name, tpl.uri_template),
                tpl.description.as_deref(),
            ),
        }
    }

    fn prompt(&mut self, prompt: &spec::Prompt) -> Prompt {
        let descriptor = prompt_descriptor(prompt);
        self.prompt_completions(prompt);
        let (messages, method, args) = if prompt.handler {
            let args = self.prompt_args_struct(prompt);
            (None, Some(names::prompt_method(&prompt.name)), Some(args))
        } else {
            let messages: Vec<Value> = prompt
                .messages
                .iter()
                .flatten()
                .map(|m| self.message(m))
                .collect();
            (Some(Value::Array(messages)), None, None)
        };
        Prompt {
            name: prompt.name.clone(),
            descriptor,
            messages,
            method,
            args,
            doc: doc_lines(
                &format!("Prompt `{}`", prompt.name),
                prompt.description.as_deref(),
            ),
        }
    }

    /// Static completion values of the prompt's arguments.
    fn prompt_completions(&mut self, prompt: &spec::Prompt) {
        let reference = serde_json::json!({"type": "ref/prompt", "name": prompt.name});
        for arg in &prompt.arguments {
            if let Some(values) = &arg.complete {
                self.completions.push(Completion {
                    reference: reference.clone(),
                    argument: arg.name.clone(),
                    values: values.clone(),
                });
            }
        }
    }

    /// The arguments struct of a handler-backed prompt; returns its name.
    fn prompt_args_struct(&mut self, prompt: &spec::Prompt) -> String {
        let args = names::prompt_args(&prompt.name);
        let fields = prompt
            .arguments
            .iter()
            .map(|a| {
                let ident = names::snake(&a.name);
                let (ty, default) = if a.required {
                    ("String", false)
                } else {
                    ("Option<String>", true)
                };
                Field {
                    rename: names::serde_rename(&ident, &a.name),
                    ident,
                    ty: ty.into(),
                    default,
                    default_fn: None,
                    doc: a
                        .description
                        .as_deref()
                        .map(|d| doc_lines("", Some(d)))
                        .unwrap_or_default(),
                }
            })
            .collect();
        let doc = vec![format!(" Arguments of the `{}` prompt.", prompt.name)];
        self.structs.push(Struct {
            ident: args.clone(),
            doc,
            fields,
            defaults: Vec::new(),
            enums: Vec::new(),
        });
        args
    }

    fn message(&self, m: &spec::PromptMessage) -> Value {
        let mut content = Map::new();
        if let Some(text) = &m.text {
            content.insert("type".into(), "text".into());
            content.insert("text".into(), text.clone().into());
        } else if let Some((kind, media)) = m
            .image
            .as_ref()
            .map(|i| ("image", i))
            .or(m.audio.as_ref().map(|a| ("audio", a)))
        {
            content.insert("type".into(), kind.into());
            content.insert(
                "data".into(),
                self.base64_of(media.data.as_deref(), media.file.as_deref())
                    .into(),
            );
            content.insert("mimeType".into(), media.mime_type.clone().into());
        } else if let Some(r) = &m.resource {
            let mut res = Map::new();
            res.insert("uri".into(), r.uri.clone().into());
            let mut mime_type = r.mime_type.clone();
            if mime_type.is_none() {
                mime_type = r.file.as_deref().and_then(guess_mime).map(String::from);
            }
            insert_opt(&mut res, "mimeType", &mime_type);
            if let Some(text) = &r.text {
                res.insert("text".into(), text.clone().into());
            } else if let Some(blob) = &r.blob {
                res.insert("blob".into(), self.base64_of(Some(blob), None).into());
            } else if let Some(file) = &r.file {
                let bytes = self.loaded.files.get(file).cloned().unwrap_or_default();
                let textual = mime_type.as_deref().is_none_or(is_textual_mime);
                match String::from_utf8(bytes) {
                    Ok(text) if textual => res.insert("text".into(), text.into()),
                    Ok(text) => res.insert(
                        "blob".into(),
                        base64::engine::general_purpose::STANDARD
                            .encode(text)
                            .into(),
                    ),
                    Err(e) => res.insert(
                        "blob".into(),
                        base64::engine::general_purpose::STANDARD
                            .encode(e.into_bytes())
                            .into(),
                    ),
                };
            }
            content.insert("type".into(), "resource".into());
            content.insert("resource".into(), Value::Object(res));
        }
        let mut msg = Map::new();
        msg.insert("role".into(), m.role.as_str().into());
        msg.insert("content".into(), Value::Object(content));
        Value::Object(msg)
    }

    /// Canonical base64 of inline data or a bundled file.
    fn base64_of(&self, data: Option<&str>, file: Option<&str>) -> String {
        let bytes = match (data, file) {
            (Some(data), _) => decode_base64(data).unwrap_or_default(),
            (None, Some(file)) => self.loaded.files.get(file).cloned().unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

/// Expand short-hand params into a JSON Schema object (`type`,
/// `properties`, `required`). `additionalProperties` is left open.
pub(super) fn expand_params(params: &OrderedMap<Param>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, param) in params.iter() {
        let (ty, detail) = match param {
            Param::Type(ty) => (*ty, None),
            Param::Detailed(d) => (d.ty, Some(d)),
        };
        let (json_type, item_type) = ty.json_types();
        let mut prop = Map::new();
        prop.insert("type".into(), json_type.into());
        let mut enum_values = detail.and_then(|d| d.enum_values.clone());
        if let Some(item) = item_type {
            let mut items = Map::new();
            items.insert("type".into(), item.into());
            // For arrays the allowed values constrain the items.
            if let Some(values) = enum_values.take() {
                items.insert("enum".into(), Value::Array(values));
            }
            prop.insert("items".into(), Value::Object(items));
        }
        if let Some(d) = detail {
            if let Some(description) = &d.description {
                prop.insert("description".into(), description.clone().into());
            }
            if let Some(values) = enum_values {
                prop.insert("enum".into(), Value::Array(values));
            }
            if let Some(default) = &d.default {
                prop.insert("default".into(), default.clone());
            }
            if let Some(header) = &d.x_mcp_header {
                prop.insert(headers::ANNOTATION.into(), header.clone().into());
            }
        }
        let is_required = match detail {
            None => true,
            Some(d) => d.required.unwrap_or(d.default.is_none()),
        };
        if is_required {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name.clone(), Value::Object(prop));
    }
    let mut schema = Map::new();
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    Value::Object(schema)
}

/// The input schema of a tool that declares no arguments.
pub(super) fn empty_object() -> Value {
    json!({"type": "object", "properties": {}})
}

/// MCP `Prompt` descriptor.
fn prompt_descriptor(prompt: &spec::Prompt) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), prompt.name.clone().into());
    insert_opt(&mut d, "title", &prompt.title);
    insert_opt(&mut d, "description", &prompt.description);
    if !prompt.arguments.is_empty() {
        let args = prompt
            .arguments
            .iter()
            .map(|a| {
                let mut m = Map::new();
                m.insert("name".into(), a.name.clone().into());
                insert_opt(&mut m, "title", &a.title);
                insert_opt(&mut m, "description", &a.description);
                if a.required {
                    m.insert("required".into(), true.into());
                }
                Value::Object(m)
            })
            .collect();
        d.insert("arguments".into(), Value::Array(args));
    }
    insert_icons(&mut d, &prompt.icons);

    Value::Object(d)
}

fn insert_opt(m: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        m.insert(key.into(), v.clone().into());
    }
}

fn insert_opt_bool(m: &mut Map<String, Value>, key: &str, value: Option<bool>) {
    if let Some(v) = value {
        m.insert(key.into(), v.into());
    }
}

fn insert_icons(m: &mut Map<String, Value>, icons: &[Icon]) {
    if icons.is_empty() {
        return;
    }
    let list = icons
        .iter()
        .map(|i| {
            let mut o = Map::new();
            o.insert("src".into(), i.src.clone().into());
            insert_opt(&mut o, "mimeType", &i.mime_type);
            if !i.sizes.is_empty() {
                o.insert("sizes".into(), i.sizes.clone().into());
            }
            if let Some(theme) = i.theme {
                let theme = match theme {
                    spec::IconTheme::Light => "light",
                    spec::IconTheme::Dark => "dark",
                };
                o.insert("theme".into(), theme.into());
            }
            Value::Object(o)
        })
        .collect();
    m.insert("icons".into(), Value::Array(list));
}

fn insert_annotations(m: &mut Map<String, Value>, annotations: &Option<Annotations>) {
    let Some(a) = annotations else { return };
    let mut o = Map::new();
    if let Some(audience) = &a.audience {
        o.insert(
            "audience".into(),
            audience.iter().map(|r| Value::from(r.as_str())).collect(),
        );
    }
    if let Some(p) = a.priority {
        o.insert("priority".into(), p.into());
    }
    insert_opt(&mut o, "lastModified", &a.last_modified);
    m.insert("annotations".into(), Value::Object(o));
}

/// Doc-comment lines (each starting with a space, `///` style): a heading
/// and the description's lines. Control characters are dropped.
fn doc_lines(heading: &str, description: Option<&str>) -> Vec<String> {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect()
    };
    let mut lines = Vec::new();
    if !heading.is_empty() {
        lines.push(format!(" {}", clean(heading)));
    }
    if let Some(d) = description {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(d.lines().map(|l| format!(" {}", clean(l))));
    }
    lines
}

/// `MAJOR.MINOR.PATCH` with optional `-pre` and `+build` parts.
fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p.len() == 1 || !p.starts_with('0'))
    };
    let rest_ok = v[core.len()..]
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-+.".contains(c));
    parts.len() == 3 && parts.iter().all(numeric) && rest_ok && !v.ends_with(['-', '+', '.'])
}

/// MIME type from a file extension, for bundled files without `mimeType`.
fn guess_mime(file: &str) -> Option<&'static str> {
    let ext = file.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "txt" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "json" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "toml" => "application/toml",
        "xml" => "application/xml",
        "js" => "text/javascript",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "pdf" => "application/pdf",
        _ => return None,
    })
}

/// Whether contents of this MIME type are text (served as `text` when UTF-8).
fn is_textual_mime(mime: &str) -> bool {
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/toml"
                | "application/javascript"
                | "application/ecmascript"
                | "application/sql"
                | "application/graphql"
                | "image/svg+xml"
        )
}

/// The server's default caching hints, when the spec gives either value
/// (the other is the runtime's default).
pub(crate) fn cache_defaults(c: &crate::spec::CacheHints) -> Option<crate::ir::CacheHints> {
    (c.ttl_ms.is_some() || c.scope.is_some()).then(|| crate::ir::CacheHints {
        ttl_ms: c.ttl_ms.unwrap_or(0),
        scope: c.scope.map_or("private", |s| s.as_str()).to_owned(),
    })
}

/// The per-list hints, each value the list's own, else the server's, else
/// the runtime's default.
pub(crate) fn list_cache(c: &crate::spec::CacheHints) -> Vec<crate::ir::ListCache> {
    c.lists()
        .into_iter()
        .filter_map(|(method, l)| {
            let l = l?;
            Some(crate::ir::ListCache {
                method: method.to_owned(),
                ttl_ms: l.ttl_ms.or(c.ttl_ms).unwrap_or(0),
                scope: l
                    .scope
                    .or(c.scope)
                    .map_or("private", |s| s.as_str())
                    .to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver() {
        for ok in ["0.1.0", "1.2.3-beta.1", "1.0.0+build.5"] {
            assert!(is_semver(ok), "{ok}");
        }
        for bad in ["1.0", "01.0.0", "1.0.0-", "v1.0.0", ""] {
            assert!(!is_semver(bad), "{bad}");
        }
    }

    #[test]
    fn mime() {
        assert!(is_textual_mime("text/markdown; charset=utf-8"));
        assert!(is_textual_mime("application/ld+json"));
        assert!(!is_textual_mime("image/png"));
        assert_eq!(guess_mime("a/b.PNG"), Some("image/png"));
    }
}

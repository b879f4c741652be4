//! The intermediate representation between a validated spec and emitted
//! files. Everything the templates need is computed here: identifiers
//! (validated, see [`names`]), Rust types, and every MCP descriptor as
//! ready-made JSON text (serde_json with `preserve_order`, so key order is the
//! order we insert in, and output is deterministic). Upstream (OpenAPI)
//! descriptors are the exception: typed values ([`Upstream`], the
//! `mcpgen_contract` types) that become JSON text only when `emit` renders
//! the templates.
//!
//! Strings in the IR that come from the spec are *data*: templates only ever
//! put them into Rust code through the `lit` filter.

pub mod names;
pub mod schema;

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::spec::validate::{decode_base64, template_variables_presence};
use crate::spec::{self, Annotations, Icon, LoadedSpec};
use schema::DefaultExpr;

/// How the generated crate depends on the runtime.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuntimeDep {
    /// `mcpgen-runtime = { path = "..." }`, relative to the crate directory.
    Path { path: String },
    /// `mcpgen-runtime = "..."` from crates.io.
    Version { version: String },
}

/// The whole server.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// The spec's file name (no directories), for `@generated` headers.
    pub spec_file: String,
    /// The server name as in the spec.
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Cargo package (and binary) name.
    pub package: String,
    /// The library crate's identifier (`package` in snake case).
    pub crate_ident: String,
    /// Crate version: the server version if it is semver, else `0.1.0`.
    pub crate_version: String,
    pub version: String,
    pub runtime: RuntimeDep,
    /// MCP `Implementation` JSON.
    pub info_json: String,
    pub instructions: Option<String>,
    pub tools: Vec<Tool>,
    pub resources: Vec<Resource>,
    pub templates: Vec<Template>,
    pub prompts: Vec<Prompt>,
    pub completions: Vec<Completion>,
    /// Every argument/parameter struct, in spec order.
    pub structs: Vec<Struct>,
    /// Whether any `Handlers` method exists (otherwise `handlers` is unused).
    pub has_handlers: bool,
    /// Tools, resources and templates that call an upstream API (OpenAPI).
    pub upstream: Option<Upstream>,
}

/// What an OpenAPI description contributes: descriptor tables only (the
/// runtime makes the calls, see `docs/upstream.md`). Descriptors are typed
/// values (`mcpgen_contract`); templates see them as JSON text.
#[derive(Debug, Clone, Serialize)]
pub struct Upstream {
    /// `UPSTREAM_JSON`.
    #[serde(serialize_with = "json_text")]
    pub config: mcpgen_contract::Upstream,
    /// The description's file name.
    pub source: String,
    pub base_url: Option<String>,
    pub tools: Vec<UpstreamItem>,
    pub resources: Vec<UpstreamItem>,
    pub templates: Vec<UpstreamItem>,
    /// Environment variables the security schemes read.
    pub env: Vec<EnvVar>,
    /// Remarks for the README (skipped security schemes…).
    pub notes: Vec<String>,
}

/// An environment variable the generated server reads.
#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    pub name: String,
    /// What it holds, for the README.
    pub what: String,
}

/// One upstream tool, resource or template.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamItem {
    pub name: String,
    pub method: String,
    pub path: String,
    pub title: Option<String>,
    /// The MCP `Tool`, `Resource` or `ResourceTemplate` object.
    #[serde(serialize_with = "json_text")]
    pub descriptor: Map<String, Value>,
    /// `OPERATION_JSON`.
    #[serde(serialize_with = "json_text")]
    pub operation: mcpgen_contract::Operation,
    /// For resources and templates: the URI (template).
    pub uri: Option<String>,
}

/// A descriptor as the JSON text the templates put into a string literal.
fn json_text<T: Serialize, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

/// A generated struct (tool arguments, template variables, prompt arguments).
#[derive(Debug, Clone, Serialize)]
pub struct Struct {
    pub ident: String,
    pub doc: Vec<String>,
    pub fields: Vec<Field>,
    /// Default-value functions used by `#[serde(default = "...")]`.
    pub defaults: Vec<DefaultFn>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub ident: String,
    /// The wire name when it differs from the identifier.
    pub rename: Option<String>,
    /// Rust type source text (fixed vocabulary, see `schema::RustType`).
    pub ty: String,
    /// `#[serde(default)]` (for `Option` fields).
    pub default: bool,
    /// `#[serde(default = "...")]` function name.
    pub default_fn: Option<String>,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DefaultFn {
    pub ident: String,
    pub ty: String,
    pub expr: DefaultExpr,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: String,
    pub method: String,
    pub args: String,
    pub descriptor: String,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Contents {
    Text { text: String },
    Blob { base64: String },
    Handler { method: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub name: String,
    pub uri: String,
    pub descriptor: String,
    pub contents: Contents,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Template {
    pub name: String,
    pub uri_template: String,
    pub method: String,
    pub params: String,
    pub descriptor: String,
    pub doc: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Prompt {
    pub name: String,
    pub descriptor: String,
    /// Static messages (MCP `PromptMessage[]` JSON) or a handler.
    pub messages: Option<String>,
    pub method: Option<String>,
    pub args: Option<String>,
    pub doc: Vec<String>,
}

/// Static completion values for one argument of a prompt or template.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    /// MCP reference JSON (`ref/prompt` or `ref/resource`).
    pub reference: String,
    pub argument: String,
    pub values: Vec<String>,
}

/// Build the IR. `spec_file` is the name shown in headers.
pub fn build(loaded: &LoadedSpec, runtime: RuntimeDep) -> Server {
    let spec = &loaded.spec;
    let server = &spec.server;
    // Validation guarantees a usable package name; the fallback is defensive.
    let package = names::package_name(&server.name).unwrap_or_else(|_| String::from("mcp-server"));
    let crate_ident = package.replace('-', "_");
    let spec_file = loaded
        .path
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "._-+".contains(*c))
                .collect()
        })
        .unwrap_or_default();

    let mut b = Builder {
        loaded,
        structs: Vec::new(),
        completions: Vec::new(),
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
    let has_handlers = !tools.is_empty()
        || !templates.is_empty()
        || resources
            .iter()
            .any(|r| matches!(r.contents, Contents::Handler { .. }))
        || prompts.iter().any(|p| p.method.is_some());

    let mut info = Map::new();
    info.insert("name".into(), server.name.clone().into());
    insert_opt(&mut info, "title", &server.title);
    info.insert("version".into(), server.version.clone().into());
    insert_opt(&mut info, "description", &server.description);
    insert_icons(&mut info, &server.icons);
    insert_opt(&mut info, "websiteUrl", &server.website_url);

    Server {
        spec_file,
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
        info_json: Value::Object(info).to_string(),
        instructions: server.instructions.clone(),
        tools,
        resources,
        templates,
        prompts,
        completions: b.completions,
        structs: b.structs,
        has_handlers,
        upstream: None,
    }
}

struct Builder<'a> {
    loaded: &'a LoadedSpec,
    structs: Vec<Struct>,
    completions: Vec<Completion>,
}

impl Builder<'_> {
    fn tool(&mut self, tool: &spec::Tool) -> Tool {
        let input_schema = match (&tool.params, &tool.input_schema) {
            (_, Some(schema)) => schema.clone(),
            (Some(params), None) => schema::expand_params(params),
            (None, None) => schema::empty_object(),
        };
        let args = names::tool_args(&tool.name);
        let fields = self.fields_from_schema(&input_schema);
        let struct_doc = vec![format!(" Arguments of the `{}` tool.", tool.name)];
        self.structs.push(Struct {
            ident: args.clone(),
            doc: struct_doc,
            fields: fields.0,
            defaults: fields.1,
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
        Tool {
            name: tool.name.clone(),
            method: names::tool_method(&tool.name),
            args,
            descriptor: Value::Object(d).to_string(),
            doc: doc_lines(
                &format!("Tool `{}`", tool.name),
                tool.description.as_deref(),
            ),
        }
    }

    /// Fields of an arguments struct, from the (expanded) input schema.
    fn fields_from_schema(&self, schema: &Value) -> (Vec<Field>, Vec<DefaultFn>) {
        let required = schema::required(schema);
        let mut fields = Vec::new();
        let mut defaults = Vec::new();
        for (name, prop) in schema::properties(schema) {
            let ident = names::snake(name);
            let (ty, nullable) = schema::rust_type(prop);
            let is_required = required.contains(&name);
            let doc = prop
                .get("description")
                .and_then(Value::as_str)
                .map(|d| doc_lines("", Some(d)))
                .unwrap_or_default();
            let declared_default = prop.get("default").filter(|_| !is_required && !nullable);
            let default = declared_default.and_then(|v| schema::default_expr(&ty, v));
            let field = if let Some(expr) = default {
                // An associated function of the struct: field names are
                // unique within it, so these never collide.
                let fn_ident = format!("default_{}", ident.trim_start_matches("r#"));
                defaults.push(DefaultFn {
                    ident: fn_ident.clone(),
                    ty: ty.render(),
                    expr,
                });
                Field {
                    rename: names::serde_rename(&ident, name),
                    ident,
                    ty: ty.render(),
                    default: false,
                    default_fn: Some(fn_ident),
                    doc,
                }
            } else if is_required && !nullable {
                Field {
                    rename: names::serde_rename(&ident, name),
                    ident,
                    ty: ty.render(),
                    default: false,
                    default_fn: None,
                    doc,
                }
            } else {
                let ty = format!("Option<{}>", ty.render());
                Field {
                    rename: names::serde_rename(&ident, name),
                    ident,
                    ty,
                    default: true,
                    default_fn: None,
                    doc,
                }
            };
            fields.push(field);
        }
        (fields, defaults)
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
            descriptor: Value::Object(d).to_string(),
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
            let reference =
                serde_json::json!({"type": "ref/resource", "uri": tpl.uri_template}).to_string();
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
            descriptor: Value::Object(d).to_string(),
            doc: doc_lines(
                &format!("Resource template `{}` ({})", tpl.name, tpl.uri_template),
                tpl.description.as_deref(),
            ),
        }
    }

    fn prompt(&mut self, prompt: &spec::Prompt) -> Prompt {
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

        let reference = serde_json::json!({"type": "ref/prompt", "name": prompt.name}).to_string();
        for arg in &prompt.arguments {
            if let Some(values) = &arg.complete {
                self.completions.push(Completion {
                    reference: reference.clone(),
                    argument: arg.name.clone(),
                    values: values.clone(),
                });
            }
        }

        let (messages, method, args) = if prompt.handler {
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
            });
            (None, Some(names::prompt_method(&prompt.name)), Some(args))
        } else {
            let messages: Vec<Value> = prompt
                .messages
                .iter()
                .flatten()
                .map(|m| self.message(m))
                .collect();
            (Some(Value::Array(messages).to_string()), None, None)
        };
        Prompt {
            name: prompt.name.clone(),
            descriptor: Value::Object(d).to_string(),
            messages,
            method,
            args,
            doc: doc_lines(
                &format!("Prompt `{}`", prompt.name),
                prompt.description.as_deref(),
            ),
        }
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

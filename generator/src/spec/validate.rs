//! Semantic checks on a deserialized [`Spec`]. Every problem is returned with
//! the JSON pointer of the offending node (`/tools/2/name`); `/~key` as the
//! last segment points at a mapping key rather than its value.
//!
//! Validation also reads the bundled files (`file:`), so that a spec that
//! validates can be generated without further I/O errors.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use super::{
    Annotations, EmbeddedResource, Media, OpenApiImport, Param, ParamType, Prompt, PromptMessage,
    Resource, ResourceTemplate, ServerInfo, Spec, Tool,
};
use crate::error::Problem;
use crate::ir::{headers, schema};
use crate::names;
use crate::yaml::{Node, Pos, escape_pointer};

/// What validation found.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Problems with the JSON pointer of the node to blame.
    pub problems: Vec<(String, Problem)>,
    /// Bundled files that could be read: spec-relative path → contents.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// What `{{placeholders}}` in a prompt's text may name.
struct PromptText<'a> {
    prompt: &'a Prompt,
    /// The prompt's argument names.
    declared: &'a [String],
}

struct Checker<'a> {
    root: &'a Node,
    base_dir: &'a Path,
    report: Report,
}

/// The parts of a spec to check, each list element with its index in the
/// document. A spec that did not deserialize as a whole still has parts that
/// did, and their problems belong in the same report.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sections {
    pub server: Option<ServerInfo>,
    pub tools: Vec<(usize, Tool)>,
    pub resources: Vec<(usize, Resource)>,
    pub resource_templates: Vec<(usize, ResourceTemplate)>,
    pub prompts: Vec<(usize, Prompt)>,
    pub openapi: Option<OpenApiImport>,
}

impl Sections {
    pub(crate) fn of(spec: &Spec) -> Sections {
        fn indexed<T: Clone>(items: &[T]) -> Vec<(usize, T)> {
            items.iter().cloned().enumerate().collect()
        }
        Sections {
            server: Some(spec.server.clone()),
            tools: indexed(&spec.tools),
            resources: indexed(&spec.resources),
            resource_templates: indexed(&spec.resource_templates),
            prompts: indexed(&spec.prompts),
            openapi: spec.openapi.clone(),
        }
    }
}

/// Check `spec` (deserialized from `root`); bundled files are relative to `base_dir`.
pub(crate) fn validate(spec: &Spec, root: &Node, base_dir: &Path) -> Report {
    validate_sections(&Sections::of(spec), root, base_dir)
}

/// Check the parts of a spec that deserialized.
pub(crate) fn validate_sections(spec: &Sections, root: &Node, base_dir: &Path) -> Report {
    let mut c = Checker {
        root,
        base_dir,
        report: Report::default(),
    };
    if let Some(server) = &spec.server {
        c.server(server);
    }
    // One namespace for every section: a tool and a prompt must not both
    // become the same handler method.
    let mut idents = Idents {
        methods: Names::new("handler method"),
        types: Names::new("generated type"),
    };
    c.tools(&spec.tools, &mut idents);
    c.resources(&spec.resources, &mut idents);
    c.templates(&spec.resource_templates, &mut idents);
    c.prompts(&spec.prompts, &mut idents);
    if let Some(import) = &spec.openapi {
        c.openapi(import);
    }
    c.report
}

impl Checker<'_> {
    /// The import's settings that reach the runtime: `{{ env.NAME }}`
    /// syntax, header names and values. TLS combinations are the
    /// runtime's to judge: start-up flags may complete them.
    fn openapi(&mut self, import: &OpenApiImport) {
        if let Some(url) = &import.base_url {
            self.env_template(url, "baseUrl", "/openapi/baseUrl");
        }
        for (name, value) in import.headers.iter().flat_map(|h| h.iter()) {
            let at = ptr("/openapi/headers", name);
            if !names::is_token(name) {
                self.problem(
                    format!("{at}/~key"),
                    Problem::UpstreamSetting(format!("header name {name:?} is not an HTTP token")),
                );
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                self.problem(
                    at.clone(),
                    Problem::UpstreamSetting(format!(
                        "the value of header {name:?} contains a control character"
                    )),
                );
            }
            self.env_template(value, &format!("headers.{name}"), &at);
        }
        let Some(tls) = &import.tls else {
            return;
        };
        for (value, field) in [
            (&tls.ca_cert, "caCert"),
            (&tls.client_cert, "clientCert"),
            (&tls.client_key, "clientKey"),
        ] {
            if let Some(v) = value {
                let at = format!("/openapi/tls/{field}");
                self.non_empty(v, "TLS file path", &at);
                self.env_template(v, &format!("tls.{field}"), &at);
            }
        }
    }

    fn env_template(&mut self, text: &str, field: &str, at: &str) {
        if let Err(e) = mcpgen_contract::template::parse(text) {
            self.problem(
                at,
                Problem::InvalidEnvTemplate {
                    field: field.to_owned(),
                    message: e.message,
                },
            );
        }
    }

    fn tools(&mut self, tools: &[(usize, Tool)], idents: &mut Idents) {
        let mut tool_names = Names::new("tool");
        for (i, tool) in tools {
            let at = format!("/tools/{i}");
            self.tool(tool, &at);
            let name_at = format!("{at}/name");
            if self.unique(&mut tool_names, &tool.name, &tool.name, &name_at) {
                let method = names::tool_method(&tool.name);
                let ty = names::tool_args(&tool.name);
                let what = format!("tool {:?}", tool.name);
                self.idents(idents, &method, Some(&ty), &what, &name_at);
            }
        }
    }

    fn resources(&mut self, resources: &[(usize, Resource)], idents: &mut Idents) {
        let mut resource_names = Names::new("resource name");
        let mut uris = Names::new("resource URI");
        for (i, res) in resources {
            let at = format!("/resources/{i}");
            self.resource(res, &at);
            let _ = self.unique(&mut uris, &res.uri, &res.uri, &format!("{at}/uri"));
            let name_at = format!("{at}/name");
            if self.unique(&mut resource_names, &res.name, &res.name, &name_at) && res.handler {
                let method = names::resource_method(&res.name);
                let what = format!("resource {:?}", res.name);
                self.idents(idents, &method, None, &what, &name_at);
            }
        }
    }

    fn templates(&mut self, templates: &[(usize, ResourceTemplate)], idents: &mut Idents) {
        let mut template_names = Names::new("resource template name");
        let mut uri_templates = Names::new("URI template");
        for (i, tpl) in templates {
            let at = format!("/resourceTemplates/{i}");
            self.template(tpl, &at);
            let uri = &tpl.uri_template;
            let _ = self.unique(&mut uri_templates, uri, uri, &format!("{at}/uriTemplate"));
            let name_at = format!("{at}/name");
            if self.unique(&mut template_names, &tpl.name, &tpl.name, &name_at) {
                let method = names::template_method(&tpl.name);
                let ty = names::template_params(&tpl.name);
                let what = format!("resource template {:?}", tpl.name);
                self.idents(idents, &method, Some(&ty), &what, &name_at);
            }
        }
    }

    fn prompts(&mut self, prompts: &[(usize, Prompt)], idents: &mut Idents) {
        let mut prompt_names = Names::new("prompt");
        for (i, prompt) in prompts {
            let at = format!("/prompts/{i}");
            self.prompt(prompt, &at);
            let name_at = format!("{at}/name");
            let unique = self.unique(&mut prompt_names, &prompt.name, &prompt.name, &name_at);
            if unique && prompt.handler {
                let method = names::prompt_method(&prompt.name);
                let ty = names::prompt_args(&prompt.name);
                let what = format!("prompt {:?}", prompt.name);
                self.idents(idents, &method, Some(&ty), &what, &name_at);
            }
        }
    }
}

/// Generated identifiers that share a namespace across the whole spec.
struct Idents {
    methods: Names,
    types: Names,
}

/// Names seen so far in one namespace: name → (what, first position).
struct Names {
    what: &'static str,
    seen: BTreeMap<String, (String, Pos)>,
}

impl Names {
    fn new(what: &'static str) -> Self {
        Names {
            what,
            seen: BTreeMap::new(),
        }
    }
}

fn ptr(base: &str, segment: &str) -> String {
    format!("{base}/{}", escape_pointer(segment))
}

impl Checker<'_> {
    fn problem(&mut self, at: impl Into<String>, problem: Problem) {
        self.report.problems.push((at.into(), problem));
    }

    /// `key` must be unique in `names`; `shown` is the name in messages.
    fn unique(&mut self, names: &mut Names, key: &str, shown: &str, at: &str) -> bool {
        let pos = self.root.locate(at);
        if let Some((_, first)) = names.seen.get(key) {
            let problem = Problem::Duplicate {
                what: names.what,
                name: shown.to_string(),
                first: *first,
            };
            self.problem(at, problem);
            false
        } else {
            names.seen.insert(key.to_string(), (shown.to_string(), pos));
            true
        }
    }

    /// Generated identifier `ident` (for `what`) must not collide.
    fn ident(&mut self, names: &mut Names, ident: &str, what: &str, at: &str) -> bool {
        let pos = self.root.locate(at);
        if let Some((other, first)) = names.seen.get(ident) {
            let problem = Problem::IdentCollision {
                what: names.what,
                name: what.to_string(),
                other: other.clone(),
                ident: ident.to_string(),
                first: *first,
            };
            self.problem(at, problem);
            false
        } else {
            names
                .seen
                .insert(ident.to_string(), (what.to_string(), pos));
            true
        }
    }

    /// The handler method and struct of one item must not collide with
    /// another item's (a type collision is only reported when the method did
    /// not already collide: they have the same cause).
    fn idents(
        &mut self,
        idents: &mut Idents,
        method: &str,
        ty: Option<&str>,
        what: &str,
        at: &str,
    ) {
        if self.ident(&mut idents.methods, method, what, at)
            && let Some(ty) = ty
        {
            let _ = self.ident(&mut idents.types, ty, what, at);
        }
    }

    fn non_empty(&mut self, value: &str, what: &'static str, at: &str) {
        if value.trim().is_empty() {
            self.problem(at, Problem::EmptyName { what });
        }
    }

    fn server(&mut self, server: &ServerInfo) {
        if let Err(reason) = names::package_name(&server.name) {
            self.problem(
                "/server/name",
                Problem::InvalidCrateName {
                    name: server.name.clone(),
                    reason,
                },
            );
        }
        self.non_empty(&server.version, "server version", "/server/version");
    }

    fn tool(&mut self, tool: &Tool, at: &str) {
        // The `Handlers` trait's tool-call hook owns one method name.
        let checked = match check_tool_name(&tool.name) {
            Ok(()) if names::tool_method(&tool.name) == names::HOOK_METHOD => Err(
                "its handler method would be `wrap_tool_call`, the tool-call hook of the `Handlers` trait",
            ),
            other => other,
        };
        if let Err(reason) = checked {
            self.problem(
                format!("{at}/name"),
                Problem::InvalidToolName {
                    name: tool.name.clone(),
                    reason,
                },
            );
        }
        if tool.params.is_some() && tool.input_schema.is_some() {
            self.problem(
                format!("{at}/inputSchema/~key"),
                Problem::ParamsAndInputSchema,
            );
        }
        if tool.input_before_task == Some(true) && tool.task_support().is_none() {
            self.problem(
                format!("{at}/inputBeforeTask"),
                Problem::InputBeforeTaskWithoutTask,
            );
        }
        if let Some(params) = &tool.params {
            for (name, param) in params.iter() {
                self.param(param, &ptr(&format!("{at}/params"), name));
            }
            let keys: Vec<(String, String)> = params
                .iter()
                .map(|(n, _)| (n.clone(), ptr(&format!("{at}/params"), n) + "/~key"))
                .collect();
            self.fields(&keys, "parameter");
        }
        if let Some(s) = &tool.input_schema {
            let schema_at = format!("{at}/inputSchema");
            if self.json_schema(s, "inputSchema", &schema_at) {
                let keys: Vec<(String, String)> = schema::properties(s)
                    .map(|(n, _)| {
                        (
                            n.to_string(),
                            ptr(&format!("{schema_at}/properties"), n) + "/~key",
                        )
                    })
                    .collect();
                self.fields(&keys, "property");
            }
        }
        if let Some(s) = &tool.output_schema {
            self.json_schema(s, "outputSchema", &format!("{at}/outputSchema"));
        }
        self.header_annotations(tool, at);
    }

    /// `x-mcp-header` where the revision allows it (SEP-2243), located at
    /// the annotation: in `params` or anywhere in `inputSchema`.
    fn header_annotations(&mut self, tool: &Tool, at: &str) {
        let (schema, base) = match (&tool.params, &tool.input_schema) {
            (Some(params), None) => (super::lower::expand_params(params), format!("{at}/params")),
            (None, Some(s)) => (s.clone(), format!("{at}/inputSchema")),
            _ => return,
        };
        let from_params = tool.params.is_some();
        for issue in headers::header_issues(&schema) {
            // Expanded params are `/properties/{name}`: `params/{name}` in the spec.
            let pointer = match issue.pointer.strip_prefix("/properties") {
                Some(rest) if from_params => rest.to_owned(),
                _ => issue.pointer,
            };
            self.problem(
                format!("{base}{pointer}/{}", headers::ANNOTATION),
                Problem::HeaderAnnotation(issue.reason),
            );
        }
    }

    /// Names that become fields of one struct must stay distinct.
    fn fields(&mut self, names: &[(String, String)], what: &'static str) {
        let mut seen = Names::new("struct field");
        for (name, at) in names {
            self.ident(
                &mut seen,
                &names::snake(name),
                &format!("{what} {name:?}"),
                at,
            );
        }
    }

    fn param(&mut self, param: &Param, at: &str) {
        let Param::Detailed(d) = param else { return };
        if let Some(default) = &d.default {
            if !json_matches(default, d.ty) {
                let problem = Problem::ParamValueType {
                    what: "default",
                    value: default.to_string(),
                    ty: type_name(d.ty),
                };
                self.problem(format!("{at}/default"), problem);
            }
            if d.required == Some(true) {
                self.problem(format!("{at}/required"), Problem::RequiredWithDefault);
            }
        }
        if let Some(values) = &d.enum_values {
            let item_type = match d.ty.json_types() {
                (_, Some(item)) => item,
                (ty, None) => ty,
            };
            for (i, v) in values.iter().enumerate() {
                if !json_scalar_matches(v, item_type) {
                    let problem = Problem::ParamValueType {
                        what: "enum value",
                        value: v.to_string(),
                        ty: item_type.into(),
                    };
                    self.problem(format!("{at}/enum/{i}"), problem);
                }
            }
        }
    }

    /// Check a JSON Schema; returns whether it is usable (valid, object root).
    fn json_schema(&mut self, schema: &Value, field: &'static str, at: &str) -> bool {
        if let Some(dialect) = schema.get("$schema").and_then(Value::as_str) {
            let d = dialect.trim_end_matches('#');
            if d != "https://json-schema.org/draft/2020-12/schema" {
                let reason =
                    format!("only the 2020-12 dialect is supported, `$schema` is {dialect:?}");
                self.problem(
                    format!("{at}/$schema"),
                    Problem::InvalidSchema { field, reason },
                );
                return false;
            }
        }
        let meta = jsonschema::draft202012::meta::validator();
        let mut ok = true;
        for error in meta.iter_errors(schema) {
            ok = false;
            let path = error.instance_path().as_str().to_string();
            let reason = error.to_string();
            self.problem(
                format!("{at}{path}"),
                Problem::InvalidSchema { field, reason },
            );
        }
        if !ok {
            return false;
        }
        match schema.get("type") {
            Some(Value::String(t)) if t == "object" => {}
            other => {
                let found = other.map(|t| t.to_string());
                let target = if other.is_some() {
                    format!("{at}/type")
                } else {
                    at.to_string()
                };
                self.problem(target, Problem::SchemaRootNotObject { field, found });
                return false;
            }
        }
        if let Err(error) = jsonschema::draft202012::new(schema) {
            let path = error.instance_path().as_str().to_string();
            self.problem(
                format!("{at}{path}"),
                Problem::InvalidSchema {
                    field,
                    reason: error.to_string(),
                },
            );
            return false;
        }
        true
    }

    fn annotations(&mut self, annotations: &Option<Annotations>, at: &str) {
        if let Some(p) = annotations.as_ref().and_then(|a| a.priority)
            && !(0.0..=1.0).contains(&p)
        {
            self.problem(
                format!("{at}/annotations/priority"),
                Problem::InvalidPriority(p),
            );
        }
    }

    fn resource(&mut self, res: &Resource, at: &str) {
        self.non_empty(&res.uri, "resource URI", &format!("{at}/uri"));
        self.non_empty(&res.name, "resource", &format!("{at}/name"));
        self.annotations(&res.annotations, at);
        let mut found = Vec::new();
        if res.text.is_some() {
            found.push("text");
        }
        if res.blob.is_some() {
            found.push("blob");
        }
        if res.file.is_some() {
            found.push("file");
        }
        if res.handler {
            found.push("handler: true");
        }
        if found.len() != 1 {
            let expected = vec!["text", "blob", "file", "handler: true"];
            self.problem(
                at,
                Problem::ExactlyOne {
                    what: "a resource",
                    expected,
                    found,
                },
            );
        }
        if let Some(blob) = &res.blob {
            self.base64(blob, "blob", &format!("{at}/blob"));
        }
        if let Some(file) = &res.file {
            self.file(file, &format!("{at}/file"));
        }
    }

    fn base64(&mut self, data: &str, field: &'static str, at: &str) {
        if let Err(e) = decode_base64(data) {
            self.problem(
                at,
                Problem::InvalidBase64 {
                    field,
                    reason: e.to_string(),
                },
            );
        }
    }

    fn file(&mut self, file: &str, at: &str) {
        if self.report.files.contains_key(file) {
            return;
        }
        let path = self.base_dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) if path.is_file() => {
                self.report.files.insert(file.to_string(), bytes);
            }
            Ok(_) => self.problem(
                at,
                Problem::MissingFile {
                    path: file.into(),
                    reason: "not a regular file".into(),
                },
            ),
            Err(e) => {
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        format!("no such file (looked for {})", path.display())
                    }
                    _ => e.to_string(),
                };
                self.problem(
                    at,
                    Problem::MissingFile {
                        path: file.into(),
                        reason,
                    },
                );
            }
        }
    }

    fn template(&mut self, tpl: &ResourceTemplate, at: &str) {
        self.non_empty(&tpl.name, "resource template", &format!("{at}/name"));
        self.annotations(&tpl.annotations, at);
        let variables = match template_variables(&tpl.uri_template) {
            Ok(vars) => vars,
            Err(reason) => {
                let problem = Problem::InvalidUriTemplate {
                    template: tpl.uri_template.clone(),
                    reason,
                };
                self.problem(format!("{at}/uriTemplate"), problem);
                return;
            }
        };
        let keys: Vec<(String, String)> = variables
            .iter()
            .map(|v| (v.clone(), format!("{at}/uriTemplate")))
            .collect();
        self.fields(&keys, "template variable");
        if let Some(complete) = &tpl.complete {
            for (variable, _) in complete.iter() {
                if !variables.contains(variable) {
                    let problem = Problem::UnknownTemplateVariable {
                        variable: variable.clone(),
                        variables: variables.clone(),
                    };
                    self.problem(ptr(&format!("{at}/complete"), variable) + "/~key", problem);
                }
            }
        }
    }

    fn prompt(&mut self, prompt: &Prompt, at: &str) {
        self.prompt_arguments(prompt, at);
        match (&prompt.messages, prompt.handler) {
            (Some(_), true) | (None, false) => {
                let found = match prompt.handler {
                    true => vec!["messages", "handler: true"],
                    false => vec![],
                };
                let expected = vec!["messages", "handler: true"];
                self.problem(
                    at,
                    Problem::ExactlyOne {
                        what: "a prompt",
                        expected,
                        found,
                    },
                );
            }
            _ => {}
        }
        let Some(messages) = &prompt.messages else {
            return;
        };
        if messages.is_empty() {
            self.problem(format!("{at}/messages"), Problem::EmptyMessages);
        }
        let declared: Vec<String> = prompt.arguments.iter().map(|a| a.name.clone()).collect();
        for (i, message) in messages.iter().enumerate() {
            let text = PromptText {
                prompt,
                declared: &declared,
            };
            self.prompt_message(message, &text, &format!("{at}/messages/{i}"));
        }
    }

    /// Argument names: present, unique, and distinct as Rust fields when a
    /// handler gets them as a struct.
    fn prompt_arguments(&mut self, prompt: &Prompt, at: &str) {
        self.non_empty(&prompt.name, "prompt", &format!("{at}/name"));
        let mut arg_names = Names::new("prompt argument");
        for (i, arg) in prompt.arguments.iter().enumerate() {
            let name_at = format!("{at}/arguments/{i}/name");
            self.non_empty(&arg.name, "prompt argument", &name_at);
            let _ = self.unique(&mut arg_names, &arg.name, &arg.name, &name_at);
        }
        if prompt.handler {
            let keys: Vec<(String, String)> = prompt
                .arguments
                .iter()
                .enumerate()
                .map(|(i, a)| (a.name.clone(), format!("{at}/arguments/{i}/name")))
                .collect();
            self.fields(&keys, "prompt argument");
        }
    }

    /// One message: exactly one kind of content, placeholders declared.
    fn prompt_message(&mut self, message: &PromptMessage, text: &PromptText<'_>, m_at: &str) {
        let (prompt, declared) = (text.prompt, text.declared);
        let mut found = Vec::new();
        if let Some(text) = &message.text {
            found.push("text");
            self.placeholders(text, prompt, declared, &format!("{m_at}/text"));
        }
        if let Some(media) = &message.image {
            found.push("image");
            self.media(media, &format!("{m_at}/image"));
        }
        if let Some(media) = &message.audio {
            found.push("audio");
            self.media(media, &format!("{m_at}/audio"));
        }
        if let Some(res) = &message.resource {
            found.push("resource");
            self.embedded_resource(res, text, &format!("{m_at}/resource"));
        }
        if found.len() != 1 {
            let expected = vec!["text", "image", "audio", "resource"];
            self.problem(
                m_at,
                Problem::ExactlyOne {
                    what: "a prompt message",
                    expected,
                    found,
                },
            );
        }
    }

    /// An embedded resource: exactly one of text, blob, file.
    fn embedded_resource(&mut self, res: &EmbeddedResource, text: &PromptText<'_>, r_at: &str) {
        let mut content = Vec::new();
        if let Some(t) = &res.text {
            content.push("text");
            self.placeholders(t, text.prompt, text.declared, &format!("{r_at}/text"));
        }
        if let Some(blob) = &res.blob {
            content.push("blob");
            self.base64(blob, "blob", &format!("{r_at}/blob"));
        }
        if let Some(file) = &res.file {
            content.push("file");
            self.file(file, &format!("{r_at}/file"));
        }
        if content.len() != 1 {
            let expected = vec!["text", "blob", "file"];
            self.problem(
                r_at,
                Problem::ExactlyOne {
                    what: "an embedded resource",
                    expected,
                    found: content,
                },
            );
        }
    }

    fn media(&mut self, media: &Media, at: &str) {
        match (&media.data, &media.file) {
            (Some(data), None) => self.base64(data, "data", &format!("{at}/data")),
            (None, Some(file)) => self.file(file, &format!("{at}/file")),
            (data, file) => {
                let mut found = Vec::new();
                if data.is_some() {
                    found.push("data");
                }
                if file.is_some() {
                    found.push("file");
                }
                let expected = vec!["data", "file"];
                self.problem(
                    at,
                    Problem::ExactlyOne {
                        what: "image or audio content",
                        expected,
                        found,
                    },
                );
            }
        }
    }

    fn placeholders(&mut self, text: &str, prompt: &Prompt, declared: &[String], at: &str) {
        for name in placeholders(text) {
            if !declared.iter().any(|d| d == name) {
                let problem = Problem::UnknownPlaceholder {
                    placeholder: name.to_string(),
                    prompt: prompt.name.clone(),
                    arguments: declared.to_vec(),
                };
                self.problem(at, problem);
            }
        }
    }
}

/// Names inside `{{name}}` placeholders (surrounding spaces trimmed).
pub(crate) fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = &after[..end];
        if !inner.contains(['{', '}']) {
            out.push(inner.trim());
        }
        rest = &after[end + 2..];
    }
    out
}

/// Tool names: 1–128 characters of `A-Z a-z 0-9 _ - .`.
pub(crate) fn check_tool_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it must not be empty");
    }
    if name.chars().count() > 128 {
        return Err("it must be at most 128 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err("only A-Z, a-z, 0-9, `_`, `-` and `.` are allowed");
    }
    Ok(())
}

/// Decode base64 (standard alphabet, padding optional), ignoring ASCII
/// whitespace so long blobs can be wrapped in YAML.
pub(crate) fn decode_base64(data: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(compact)
}

/// The variables of an RFC 6570 URI template, in order, without repeats.
pub(crate) fn template_variables(template: &str) -> Result<Vec<String>, String> {
    let parsed = iri_string::template::UriTemplateStr::new(template).map_err(|e| e.to_string())?;
    let mut vars: Vec<String> = Vec::new();
    for var in parsed.variables() {
        if !vars.iter().any(|v| v == var.as_str()) {
            vars.push(var.as_str().to_string());
        }
    }
    Ok(vars)
}

/// The variables of a (valid) URI template, each with whether a matching URI
/// always gives it a value: only a lone variable in a simple (`{id}`) or
/// reserved (`{+path}`) expression does; query (`{?q}`), fragment, label,
/// path-segment and multi-variable expressions may leave variables out.
pub(crate) fn template_variables_presence(template: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| c + open) else {
            break;
        };
        let body = &rest[open + 1..close];
        let (op, names) = match body.chars().next() {
            Some(c @ ('+' | '#' | '.' | '/' | ';' | '?' | '&' | '=' | ',' | '!' | '@' | '|')) => {
                (Some(c), &body[1..])
            }
            _ => (None, body),
        };
        let vars: Vec<&str> = names
            .split(',')
            .map(|v| v.trim_end_matches('*').split(':').next().unwrap_or(""))
            .collect();
        let always = matches!(op, None | Some('+')) && vars.len() == 1;
        for var in vars {
            match out.iter_mut().find(|(name, _)| name == var) {
                Some(entry) => entry.1 |= always,
                None => out.push((var.to_string(), always)),
            }
        }
        rest = &rest[close + 1..];
    }
    out
}

fn type_name(ty: ParamType) -> String {
    match ty.json_types() {
        (_, Some(item)) => format!("{item}[]"),
        (ty, None) => ty.to_string(),
    }
}

fn json_scalar_matches(value: &Value, json_type: &str) -> bool {
    match json_type {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    }
}

fn json_matches(value: &Value, ty: ParamType) -> bool {
    match ty.json_types() {
        (_, Some(item)) => value
            .as_array()
            .is_some_and(|items| items.iter().all(|v| json_scalar_matches(v, item))),
        (t, None) => json_scalar_matches(value, t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_scan() {
        assert_eq!(
            placeholders("Hi {{name}}, {{ topic }}!"),
            vec!["name", "topic"]
        );
        assert_eq!(placeholders("{{"), Vec::<&str>::new());
        assert_eq!(placeholders("{{a}"), Vec::<&str>::new());
    }

    #[test]
    fn tool_names() {
        assert!(check_tool_name("notes.add_note-v2").is_ok());
        assert!(check_tool_name("a b").is_err());
        assert!(check_tool_name("").is_err());
        assert!(check_tool_name(&"x".repeat(129)).is_err());
        assert!(check_tool_name(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn uri_templates() {
        assert_eq!(
            template_variables("notes://{id}{?q,page}").unwrap(),
            vec!["id", "q", "page"]
        );
        assert!(template_variables("notes://{id").is_err());
        assert_eq!(
            template_variables_presence("x://{id}/{+path}{?q,page}{/seg*}"),
            vec![
                ("id".into(), true),
                ("path".into(), true),
                ("q".into(), false),
                ("page".into(), false),
                ("seg".into(), false)
            ]
        );
    }

    #[test]
    fn base64_wrapped() {
        assert_eq!(decode_base64("aGVs\n bG8=").unwrap(), b"hello");
        assert!(decode_base64("not base64!").is_err());
    }
}

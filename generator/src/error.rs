//! Typed errors: [`Problem`]s in a spec (each located by a [`Diagnostic`])
//! and the library's [`Error`].

use std::fmt;
use std::path::PathBuf;

use crate::yaml::{Pos, YamlProblem};

/// Everything that can be wrong with a spec. The `Display` of each variant
/// is the message shown after `file:line:col: error:`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    // --- reading the file ---
    /// The file is not UTF-8.
    #[error("the spec is not valid UTF-8")]
    NotUtf8,
    /// The file holds no YAML document.
    #[error("the spec is empty; it must be a YAML mapping with at least a `server` section")]
    Empty,
    /// The document is not a mapping.
    #[error("the spec must be a YAML mapping (with `server`, `tools`, …), found {found}")]
    NotAMapping {
        /// What it is instead (`a sequence`, `a string`…).
        found: &'static str,
    },
    /// A YAML syntax error (or a document too large or too deep).
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// A mapping key given twice.
    #[error("duplicate key `{key}` (first given at {first})")]
    DuplicateKey {
        /// The key.
        key: String,
        /// Where it was first given.
        first: Pos,
    },

    // --- structure (serde) ---
    /// A key the format does not have.
    #[error("{}", unknown_field_message(.field, .context, .expected))]
    UnknownField {
        /// The key.
        field: String,
        /// The mapping it is in (a spec type name), or empty.
        context: &'static str,
        /// The keys that mapping accepts.
        expected: Vec<&'static str>,
    },
    /// Any other structural error, as serde words it (reworded for YAML).
    #[error("{}", humanize_serde(.0))]
    Serde(String),

    // --- semantics ---
    /// A tool name MCP does not allow.
    #[error("tool name {name:?} is invalid: {reason}")]
    InvalidToolName {
        /// The name.
        name: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// An empty name.
    #[error("{what} name must not be empty")]
    EmptyName {
        /// What is named (`tool`, `prompt`…).
        what: &'static str,
    },
    /// A server name that gives no usable Cargo package name.
    #[error("server name {name:?} cannot be used as a crate name: {reason}")]
    InvalidCrateName {
        /// The server name.
        name: String,
        /// Why it cannot be a package name.
        reason: String,
    },
    /// Two items with the same name (or URI).
    #[error("duplicate {what} {name:?} (first defined at {first})")]
    Duplicate {
        /// What kind of item.
        what: &'static str,
        /// The name or URI.
        name: String,
        /// Where the first one is.
        first: Pos,
    },
    /// Two names that become the same Rust identifier.
    #[error(
        "{name} and {other} (at {first}) would both become the {what} `{ident}`; rename one of them"
    )]
    IdentCollision {
        /// What the identifier is (`method`, `type`).
        what: &'static str,
        /// The later name.
        name: String,
        /// The earlier name.
        other: String,
        /// The identifier both become.
        ident: String,
        /// Where the earlier name is.
        first: Pos,
    },
    /// A URI template that is not RFC 6570.
    #[error("invalid URI template {template:?}: {reason}")]
    InvalidUriTemplate {
        /// The template.
        template: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `complete` key that is not a variable of the template.
    #[error("`complete` names {variable:?}, which is not a variable of the URI template (variables: {})", list_or_none(.variables))]
    UnknownTemplateVariable {
        /// The key.
        variable: String,
        /// The template's variables.
        variables: Vec<String>,
    },
    /// A `{{placeholder}}` in a prompt message that is not an argument.
    #[error("placeholder `{{{{{placeholder}}}}}` is not a declared argument of prompt {prompt:?} (arguments: {})", list_or_none(.arguments))]
    UnknownPlaceholder {
        /// The placeholder's name.
        placeholder: String,
        /// The prompt.
        prompt: String,
        /// The prompt's arguments.
        arguments: Vec<String>,
    },
    /// A bundled file that cannot be read.
    #[error("bundled file {path:?} cannot be read: {reason}")]
    MissingFile {
        /// The path as written in the spec.
        path: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// Inline data that is not base64.
    #[error("invalid base64 in `{field}`: {reason}")]
    InvalidBase64 {
        /// The key holding it.
        field: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// A schema that is not JSON Schema 2020-12.
    #[error("`{field}` is not a valid JSON Schema (2020-12): {reason}")]
    InvalidSchema {
        /// The key holding it.
        field: &'static str,
        /// What the meta-schema check said.
        reason: String,
    },
    /// An input or output schema whose root is not an object.
    #[error("the root of `{field}` must be `type: object`{}", found_suffix(.found))]
    SchemaRootNotObject {
        /// The key holding it.
        field: &'static str,
        /// The root's `type`, if it has one.
        found: Option<String>,
    },
    /// Not exactly one of a set of alternative keys.
    #[error("{what} must have exactly one of {}, found {}", .expected.join(", "), found_list(.found))]
    ExactlyOne {
        /// What must have them.
        what: &'static str,
        /// The alternatives.
        expected: Vec<&'static str>,
        /// The ones given.
        found: Vec<&'static str>,
    },
    /// A tool with both `params` and `inputSchema`.
    #[error("give either `params` or `inputSchema`, not both")]
    ParamsAndInputSchema,
    /// An `x-mcp-header` annotation MCP 2026-07-28 does not allow.
    #[error("{0}")]
    HeaderAnnotation(String),
    /// `inputBeforeTask` on a tool that does not run as a task.
    #[error(
        "`inputBeforeTask` needs `task: optional` or `task: required` (or `longRunning: true`)"
    )]
    InputBeforeTaskWithoutTask,
    /// A default or enum value that does not fit the parameter's type.
    #[error("{what} {value} does not match the parameter type `{ty}`")]
    ParamValueType {
        /// `default` or `enum value`.
        what: &'static str,
        /// The value, as JSON.
        value: String,
        /// The parameter type.
        ty: String,
    },
    /// A parameter both required and defaulted.
    #[error("`required: true` contradicts `default`: a parameter with a default is optional")]
    RequiredWithDefault,
    /// A priority outside 0..=1.
    #[error("priority must be between 0 and 1, found {0}")]
    InvalidPriority(f64),
    /// A prompt without a handler whose `messages` list is empty.
    #[error("`messages` must not be empty")]
    EmptyMessages,
    /// A malformed `{{ env.NAME }}` template in an upstream setting.
    #[error("invalid template in `{field}`: {message}")]
    InvalidEnvTemplate {
        /// The setting (`baseUrl`, `headers.X-Tenant`, `tls.caCert`).
        field: String,
        /// What is wrong, quoting the bad part.
        message: String,
    },
    /// An upstream setting of the `openapi` import that cannot work.
    #[error("{0}")]
    UpstreamSetting(String),

    // --- OpenAPI documents ---
    /// A problem in an OpenAPI document, with the JSON pointer of the node.
    #[error("{message} (at {})", pointer_display(.pointer))]
    OpenApi {
        /// The JSON pointer of the node.
        pointer: String,
        /// What is wrong.
        message: String,
    },
}

impl From<YamlProblem> for Problem {
    fn from(p: YamlProblem) -> Problem {
        match p {
            YamlProblem::Syntax(m) => Problem::Yaml(m),
            YamlProblem::DuplicateKey { key, first } => Problem::DuplicateKey { key, first },
        }
    }
}

/// A JSON pointer as shown in messages: `#/paths/~1pets/get`.
pub(crate) fn pointer_display(pointer: &str) -> String {
    format!("#{pointer}")
}

/// Something questionable that generation worked around (OpenAPI input):
/// shown as `file:line:col: warning: message (at #/pointer)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// The file the node is in.
    pub file: PathBuf,
    /// Where the node starts.
    pub pos: Pos,
    /// The JSON pointer of the node.
    pub pointer: String,
    /// What was worked around.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: warning: {} (at {})",
            self.file.display(),
            self.pos.line,
            self.pos.column,
            self.message,
            pointer_display(&self.pointer)
        )
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        String::from("none")
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn found_list(found: &[&str]) -> String {
    if found.is_empty() {
        String::from("none")
    } else {
        found.join(", ")
    }
}

fn found_suffix(found: &Option<String>) -> String {
    match found {
        Some(f) => format!(", found {f}"),
        None => String::from(", but it has no `type`"),
    }
}

fn unknown_field_message(field: &str, context: &str, expected: &[&str]) -> String {
    let context = match context {
        "" => String::new(),
        c => format!(" in {}", describe_struct(c)),
    };
    let mut msg = format!("unknown key `{field}`{context}");
    if let Some(close) = did_you_mean(field, expected) {
        msg.push_str(&format!("; did you mean `{close}`?"));
    }
    let list = expected
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ");
    msg.push_str(&format!(" (expected one of {list})"));
    msg
}

/// serde speaks of Rust types and fields; speak of YAML keys and mappings.
fn humanize_serde(message: &str) -> String {
    let mut out = message
        .replace("missing field", "missing required key")
        .replace("unknown field", "unknown key");
    while let Some(i) = out.find("struct ") {
        let rest = &out[i + 7..];
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let name = &rest[..end];
        let replacement = format!("a mapping ({})", describe_struct(name));
        out.replace_range(i..i + 7 + end, &replacement);
    }
    out
}

/// A human name for a spec struct, for messages.
fn describe_struct(name: &str) -> &str {
    match name {
        "Spec" => "the spec",
        "OpenApiImport" => "`openapi`",
        "OperationFilter" => "an operation filter",
        "OperationOverride" => "an operation override",
        "ServerInfo" => "`server`",
        "Icon" => "an icon",
        "Tool" => "a tool",
        "ToolAnnotations" => "tool annotations",
        "ParamDetail" => "a parameter",
        "Resource" => "a resource",
        "Annotations" => "annotations",
        "ResourceTemplate" => "a resource template",
        "Prompt" => "a prompt",
        "PromptArgument" => "a prompt argument",
        "PromptMessage" => "a prompt message",
        "Media" => "image/audio content",
        "EmbeddedResource" => "an embedded resource",
        other => other,
    }
}

/// The expected name closest to `field`, if it is plausibly a typo.
fn did_you_mean<'a>(field: &str, expected: &[&'a str]) -> Option<&'a str> {
    let lower = field.to_ascii_lowercase().replace(['_', '-'], "");
    expected
        .iter()
        .map(|e| {
            let d = if e.to_ascii_lowercase() == lower {
                0
            } else {
                edit_distance(field, e)
            };
            (d, *e)
        })
        .filter(|(d, e)| *d <= (e.len() / 3).clamp(1, 2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e)
}

/// Optimal string alignment distance (Levenshtein plus transpositions).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// A problem at a place in a spec file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// Where the problem is.
    pub pos: Pos,
    /// What the problem is.
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file.display(),
            self.pos.line,
            self.pos.column,
            self.problem
        )
    }
}

/// Every problem found in a spec, sorted by position.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Errors of the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The spec has problems; every one of them is listed.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// A template failed to render (a generator bug).
    #[error("internal error: template `{template}` failed to render: {message}")]
    Template {
        /// The template.
        template: &'static str,
        /// minijinja's message.
        message: String,
    },
    /// A template rendered something that is not valid Rust (a generator bug).
    #[error(
        "internal error: template `{template}` produced invalid Rust at {line}:{column}: {message}\n{excerpt}"
    )]
    InvalidRust {
        /// The template.
        template: &'static str,
        /// 1-based line in the rendered text.
        line: usize,
        /// 1-based column in the rendered text.
        column: usize,
        /// `syn`'s message.
        message: String,
        /// The rendered lines around the error.
        excerpt: String,
    },
    /// The generated crate could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why it cannot be written.
        source: std::io::Error,
    },
    /// A generated path would escape the output directory.
    #[error("refusing to write {}: not a relative path inside the output directory", .0.display())]
    UnsafePath(PathBuf),
    /// The output directory holds something mcpgen did not generate.
    #[error("refusing to generate into {}: {reason}; pass --force to write there anyway", .dir.display())]
    NotGenerated {
        /// The output directory.
        dir: PathBuf,
        /// What it holds.
        reason: String,
    },
    /// A file that would be created exists already.
    #[error("{} already exists; pass --force to overwrite it", .0.display())]
    Exists(PathBuf),
    /// `mcpgen::build` was used outside a Cargo build script.
    #[error("{0}")]
    BuildScript(String),
    /// `mcpgen init` cannot write a starter spec as asked.
    #[error("{0}")]
    Init(String),
}

impl Error {
    /// The spec diagnostics, if this is a validation error.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            Error::Invalid(d) => Some(d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("inputschema", &["name", "inputSchema"]),
            Some("inputSchema")
        );
        assert_eq!(
            did_you_mean("mimetype", &["uri", "mimeType"]),
            Some("mimeType")
        );
        assert_eq!(
            did_you_mean("descripton", &["description", "title"]),
            Some("description")
        );
        assert_eq!(did_you_mean("zzz", &["description", "title"]), None);
        assert_eq!(did_you_mean("titel", &["name", "title"]), Some("title"));
        assert_eq!(
            humanize_serde("invalid type: sequence, expected struct ServerInfo"),
            "invalid type: sequence, expected a mapping (`server`)"
        );
    }
}

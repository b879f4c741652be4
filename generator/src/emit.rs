//! IR → files: minijinja templates (embedded in the binary, strict about
//! undefined values), then for Rust `syn` (a template that renders invalid
//! Rust is a typed generator error) and `prettyplease`, then the
//! `@generated` header (after formatting: prettyplease drops comments).

use std::path::PathBuf;

use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};

use crate::error::Error;
use crate::files::GeneratedFile;
use crate::ir;
use crate::names;

/// The templates, compiled into the binary.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "Cargo.toml.jinja",
        include_str!("../../templates/Cargo.toml.jinja"),
    ),
    (
        "README.md.jinja",
        include_str!("../../templates/README.md.jinja"),
    ),
    ("lib.rs.jinja", include_str!("../../templates/lib.rs.jinja")),
    (
        "main.rs.jinja",
        include_str!("../../templates/main.rs.jinja"),
    ),
    (
        "generated.rs.jinja",
        include_str!("../../templates/generated.rs.jinja"),
    ),
    (
        "handlers.rs.jinja",
        include_str!("../../templates/handlers.rs.jinja"),
    ),
    (
        "generated_server.rs.jinja",
        include_str!("../../templates/generated_server.rs.jinja"),
    ),
];

/// A Rust string literal with full escaping: spec text stays data.
pub(crate) fn rust_literal(s: &str) -> String {
    proc_macro2::Literal::string(s).to_string()
}

/// JSON text (a descriptor) as a raw string literal of the same JSON, pretty
/// printed so people can read it. Spec text stays data: the delimiter has
/// one `#` more than any `"#…` run inside, and every character that is
/// neither printable ASCII nor alphanumeric (bidi controls, line separators,
/// which rustc refuses or hides in literals) becomes a JSON `\u` escape,
/// legal because such characters occur only inside JSON strings.
pub(crate) fn json_literal(json: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON text: {e}"))?;
    let pretty = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    let mut body = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        if c == '\n' || (' '..='~').contains(&c) || (!c.is_ascii() && c.is_alphanumeric()) {
            body.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                body.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    let mut longest = 0;
    for (i, _) in body.match_indices('"') {
        let run = body[i + 1..].bytes().take_while(|b| *b == b'#').count();
        longest = longest.max(run);
    }
    let hashes = "#".repeat(longest + 1);
    Ok(format!("r{hashes}\"{body}\"{hashes}"))
}

/// A TOML basic string.
pub(crate) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn filter_error(message: String) -> minijinja::Error {
    minijinja::Error::new(ErrorKind::InvalidOperation, message)
}

fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| Error::Template {
            template: "(syntax)",
            message: e.to_string(),
        })?;
    env.set_syntax(syntax);
    env.add_filter("lit", |value: Value| -> Result<String, minijinja::Error> {
        match value.as_str() {
            Some(s) => Ok(rust_literal(s)),
            None => Err(filter_error(format!(
                "`lit` expects a string, got {}",
                value.kind()
            ))),
        }
    });
    env.add_filter("json", |value: Value| -> Result<String, minijinja::Error> {
        match value.as_str() {
            Some(s) => json_literal(s).map_err(filter_error),
            None => Err(filter_error(format!(
                "`json` expects JSON text, got {}",
                value.kind()
            ))),
        }
    });
    env.add_filter("toml", |value: Value| -> Result<String, minijinja::Error> {
        match value.as_str() {
            Some(s) => Ok(toml_string(s)),
            None => Err(filter_error(format!(
                "`toml` expects a string, got {}",
                value.kind()
            ))),
        }
    });
    env.add_filter(
        "ident",
        |value: Value| -> Result<String, minijinja::Error> {
            match value.as_str() {
                Some(s) if names::is_valid_ident(s) => Ok(s.to_string()),
                _ => Err(filter_error(format!("{value:?} is not a valid identifier"))),
            }
        },
    );
    // Numeric/boolean literals the IR rendered itself (never spec text).
    env.add_filter("code", |value: Value| -> Result<String, minijinja::Error> {
        match value.as_str() {
            Some(s)
                if !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c)) =>
            {
                Ok(s.to_string())
            }
            _ => Err(filter_error(format!("{value:?} is not a literal"))),
        }
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| Error::Template {
                template: name,
                message: describe(&e),
            })?;
    }
    Ok(env)
}

fn describe(e: &minijinja::Error) -> String {
    let mut msg = e.to_string();
    if let Some(line) = e.line() {
        msg.push_str(&format!(" (template line {line})"));
    }
    msg
}

fn render(env: &Environment<'_>, template: &'static str, ctx: &Value) -> Result<String, Error> {
    env.get_template(template)
        .and_then(|t| t.render(ctx))
        .map_err(|e| Error::Template {
            template,
            message: describe(&e),
        })
}

/// Parse and pretty-print Rust, or say where the template went wrong.
pub(crate) fn format_rust(template: &'static str, code: &str) -> Result<String, Error> {
    match syn::parse_file(code) {
        Ok(file) => Ok(space_items(&prettyplease::unparse(&file))),
        Err(e) => {
            let start = e.span().start();
            let excerpt = code
                .lines()
                .enumerate()
                .skip(start.line.saturating_sub(3))
                .take(5)
                .map(|(i, l)| format!("{:>5} | {l}", i + 1))
                .collect::<Vec<_>>()
                .join("\n");
            Err(Error::InvalidRust {
                template,
                line: start.line,
                column: start.column + 1,
                message: e.to_string(),
                excerpt,
            })
        }
    }
}

/// prettyplease puts no blank lines between items; add one before every item
/// (at the top level and one level in) that follows the end of another. Safe
/// because only `json` literals span lines, and their lines open with JSON
/// (`{`, `}`, `[`, `]`, `"`, a number, `true`, `false`, `null`), never with
/// an item keyword.
fn space_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 16);
    let mut prev: Option<&str> = None;
    for line in code.lines() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        let starts_item = (indent == 0 || indent == 4)
            && [
                "///",
                "#[",
                "pub ",
                "fn ",
                "async fn ",
                "impl",
                "const ",
                "struct ",
                "use ",
                "mod ",
                "trait ",
            ]
            .iter()
            .any(|p| body.starts_with(p));
        if let Some(p) = prev {
            let p_indent = p.len() - p.trim_start().len();
            let p_body = p.trim_start();
            let ended = p_indent <= indent
                && (p_body.ends_with('}') || p_body.ends_with(';') || p_body.ends_with("*/"));
            let same_kind_use = p_body.starts_with("use ") && body.starts_with("use ");
            if starts_item && ended && !same_kind_use {
                out.push('\n');
            }
            let inner = |l: &str| l.starts_with("#![") || l.starts_with("//!");
            if inner(p_body) && !inner(body) {
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
        prev = Some(line);
    }
    out
}

/// The comment lines that open every file.
struct Headers {
    /// `@generated by mcpgen from "spec.yaml". Do not edit by hand: …`
    generated: String,
    /// `generated` as a Rust line comment, then a blank line.
    rust: String,
    /// What `src/handlers.rs`, which is the user's, starts with.
    handlers: String,
}

impl Headers {
    fn of(server: &ir::Server) -> Headers {
        let generated = format!(
            "@generated by mcpgen from {:?}. Do not edit by hand: change the spec and run `mcpgen generate` again.",
            server.spec_file
        );
        Headers {
            rust: format!("// {generated}\n\n"),
            handlers: format!(
                "// Created by mcpgen from {:?} as a starting point. This file is yours:\n// mcpgen never overwrites it.\n\n",
                server.spec_file
            ),
            generated,
        }
    }
}

/// Whether the crate has a `Handlers` trait: for the spec's handler
/// methods, or for the tool-call hook (`wrap_tool_call`) of an OpenAPI
/// server, whose tools are upstream calls.
fn has_trait(server: &ir::Server) -> bool {
    server.has_handlers || server.upstream.is_some()
}

/// The context of `lib.rs`: the crate's doc-comment lines and whether it
/// has handlers.
fn lib_context(server: &ir::Server) -> Value {
    let mut doc = vec![format!(
        " {}",
        server.title.clone().unwrap_or_else(|| server.name.clone())
    )];
    if let Some(description) = &server.description {
        doc.push(String::new());
        doc.extend(description.lines().map(|l| {
            format!(
                " {}",
                l.chars().filter(|c| !c.is_control()).collect::<String>()
            )
        }));
    }
    doc.push(String::new());
    doc.push(String::from(if has_trait(server) {
        " Generated by mcpgen; implement the server in [`handlers`]."
    } else {
        " Generated by mcpgen: the spec declares nothing a handler implements."
    }));
    let lib_ctx = serde_json::json!({"doc": doc, "has_handlers": has_trait(server)});
    Value::from(minijinja::value::Serde(&lib_ctx))
}

/// Upstream descriptors larger than this (bytes of compact JSON, shared
/// definitions included) go to data files under `src/upstream/` instead of
/// string literals in `generated.rs`: rustc, syn and prettyplease then read
/// megabytes of data as one blob instead of parsing it as code.
pub(crate) const DATA_FILES_OVER: usize = 1 << 20;

/// The upstream lists of `generated.rs` and the data file each becomes when
/// the descriptors are large: (context key, file under `src/`).
const UPSTREAM_LISTS: &[(&str, &str)] = &[
    ("tools", "src/upstream/tools.jsonl"),
    ("resources", "src/upstream/resources.jsonl"),
    ("templates", "src/upstream/templates.jsonl"),
];

/// Where each tool's name and texts are in `src/upstream/tools.jsonl`.
const TOOLS_INDEX: &str = "src/upstream/tools.index";

/// Whether `schema` carries `$defs` of its own (`inline_refs`): then the
/// descriptors go through [`ir::Upstream::shared`].
fn has_own_defs(item: &ir::UpstreamItem) -> bool {
    ["inputSchema", "outputSchema"].iter().any(|k| {
        item.descriptor
            .get(*k)
            .is_some_and(|s| s.get("$defs").is_some())
    })
}

/// The IR as the templates see it: upstream tools share one definitions
/// table (`upstream.defs`, see `ir::defs`) instead of a copy per tool.
fn context(server: &ir::Server) -> serde_json::Value {
    let mut ctx = serde_json::to_value(server).unwrap_or_default();
    // `has_handlers`: whether the crate has a `Handlers` trait (and
    // `handlers.rs`); `own_methods`: whether the trait has required methods.
    ctx["own_methods"] = server.has_handlers.into();
    ctx["has_handlers"] = has_trait(server).into();
    let Some(up) = &server.upstream else {
        return ctx;
    };
    let Some(u) = ctx.get_mut("upstream").and_then(|u| u.as_object_mut()) else {
        return ctx;
    };
    let table = if up.tools.iter().any(has_own_defs) {
        let shared = up.shared();
        if let Some(serde_json::Value::Array(tools)) = u.get_mut("tools") {
            for (t, d) in tools.iter_mut().zip(shared.tools) {
                t["descriptor"] = serde_json::Value::Object(d).to_string().into();
            }
        }
        shared.table
    } else {
        up.defs.clone()
    };
    u.insert(
        "defs".into(),
        serde_json::Value::Object(table).to_string().into(),
    );
    ctx
}

/// Bytes of upstream descriptor text in `ctx` (see [`context`]).
fn upstream_bytes(ctx: &serde_json::Value) -> usize {
    let Some(u) = ctx.get("upstream") else {
        return 0;
    };
    let text = |v: &serde_json::Value| v.as_str().map_or(0, str::len);
    let lists = UPSTREAM_LISTS
        .iter()
        .flat_map(|(key, _)| u.get(*key).and_then(|l| l.as_array()).into_iter().flatten());
    text(&u["defs"])
        + lists
            .map(|i| text(&i["descriptor"]) + text(&i["operation"]))
            .sum::<usize>()
}

/// Move the upstream descriptors of `ctx` into data files (`upstream.data`
/// is then true): after a `#` `@generated` header line, one compact JSON
/// text per line: the definitions table in `defs.jsonl`; per item, its MCP
/// descriptor then its operation descriptor in the others. `tools.index`
/// gives per tool `NAME DESCRIPTOR_BYTES OPERATION_BYTES`, so that start-up
/// finds each tool's name and texts without reading the data. Compact JSON
/// never holds a line break (serde_json escapes them in strings), and the
/// files are only ever read as data (`include_str!`).
fn data_files(ctx: &mut serde_json::Value, header: &str) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    let Some(u) = ctx.get_mut("upstream").and_then(|u| u.as_object_mut()) else {
        return files;
    };
    let file = |path: &str, lines: Vec<String>| {
        let size = lines.iter().map(|l| l.len() + 1).sum::<usize>() + header.len() + 3;
        let mut contents = String::with_capacity(size);
        contents.push_str("# ");
        contents.push_str(header);
        contents.push('\n');
        for l in lines {
            contents.push_str(&l);
            contents.push('\n');
        }
        GeneratedFile {
            path: PathBuf::from(path),
            contents,
            user_owned: false,
        }
    };
    let take = |v: &mut serde_json::Value| match v.take() {
        serde_json::Value::String(s) => s,
        _ => String::new(),
    };
    let defs = u.get_mut("defs").map(take).unwrap_or_default();
    files.push(file("src/upstream/defs.jsonl", vec![defs]));
    for (key, path) in UPSTREAM_LISTS {
        let mut lines = Vec::new();
        let mut index = Vec::new();
        if let Some(serde_json::Value::Array(items)) = u.get_mut(*key) {
            for item in items {
                let (descriptor, operation) =
                    (take(&mut item["descriptor"]), take(&mut item["operation"]));
                let name = item["name"].as_str().unwrap_or_default();
                index.push(format!("{name} {} {}", descriptor.len(), operation.len()));
                lines.extend([descriptor, operation]);
            }
        }
        files.push(file(path, lines));
        if *key == "tools" {
            files.push(file(TOOLS_INDEX, index));
        }
    }
    u.insert("data".into(), true.into());
    files
}

/// Render every file of the crate from the IR.
pub(crate) fn emit(server: &ir::Server) -> Result<Vec<GeneratedFile>, Error> {
    emit_with(server, DATA_FILES_OVER)
}

/// [`emit`], with upstream data files when the descriptors exceed
/// `data_files_over` bytes.
fn emit_with(server: &ir::Server, data_files_over: usize) -> Result<Vec<GeneratedFile>, Error> {
    let env = environment()?;
    let h = Headers::of(server);
    let mut ctx = context(server);
    let data = match upstream_bytes(&ctx) > data_files_over {
        true => data_files(&mut ctx, &h.generated),
        false => Vec::new(),
    };
    if let Some(u) = ctx.get_mut("upstream").and_then(|u| u.as_object_mut()) {
        u.entry("data").or_insert(false.into());
    }
    let ctx = Value::from(minijinja::value::Serde(&ctx));
    crate::tick("template context");
    let lib_ctx = lib_context(server);
    let generated = |path: &str, contents: String| GeneratedFile {
        path: PathBuf::from(path),
        contents,
        user_owned: false,
    };
    let rust = |template: &'static str, ctx: &Value, header: &str| -> Result<String, Error> {
        let code = render(&env, template, ctx)?;
        crate::tick(&format!("{template} rendered"));
        let formatted = format_rust(template, &code)?;
        crate::tick(&format!("{template} formatted"));
        Ok(format!("{header}{formatted}"))
    };
    let cargo_toml = render(&env, "Cargo.toml.jinja", &ctx)?;
    let readme = render(&env, "README.md.jinja", &ctx)?;
    let mut files = vec![
        generated("Cargo.toml", format!("# {}\n\n{cargo_toml}", h.generated)),
        generated(
            "README.md",
            format!("<!-- {} -->\n\n{readme}", h.generated.replace("--", "-")),
        ),
        generated("src/main.rs", rust("main.rs.jinja", &ctx, &h.rust)?),
        generated("src/lib.rs", rust("lib.rs.jinja", &lib_ctx, &h.rust)?),
        generated(
            "src/generated.rs",
            rust("generated.rs.jinja", &ctx, &h.rust)?,
        ),
        generated(
            "tests/generated_server.rs",
            rust("generated_server.rs.jinja", &ctx, &h.rust)?,
        ),
    ];
    // Without tools, handler-backed resources, templates or prompts or an
    // upstream API there is no `Handlers` trait, so no file to implement it in.
    if has_trait(server) {
        files.insert(
            5,
            GeneratedFile {
                path: PathBuf::from("src/handlers.rs"),
                contents: rust("handlers.rs.jinja", &ctx, &h.handlers)?,
                user_owned: true,
            },
        );
    }
    files.extend(data);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_everything() {
        let nasty = "\"#; panic!() // */ {{ x }} \\ \n\r\t\u{0}";
        let lit = rust_literal(nasty);
        let parsed: syn::LitStr = syn::parse_str(&lit).unwrap();
        assert_eq!(parsed.value(), nasty);
    }

    #[test]
    fn json_literals_keep_the_json_and_close_after_every_hash_run() {
        let text = r####"{"$ref":"#/$defs/A","d":"\"## x \"### \u202e\u2028 é 😀 \n","n":[1,2.5,null]}"####;
        let lit = json_literal(text).unwrap();
        assert!(lit.starts_with("r####\""), "{lit}");
        // rustc refuses bidi controls in literals: they stay escaped.
        assert!(
            !lit.contains('\u{202e}') && !lit.contains('\u{2028}'),
            "{lit}"
        );
        assert!(lit.contains("\\u202e") && lit.contains('é'), "{lit}");
        let parsed: syn::LitStr = syn::parse_str(&lit).unwrap();
        let back: serde_json::Value = serde_json::from_str(&parsed.value()).unwrap();
        let want: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(back.to_string(), want.to_string());
        assert!(parsed.value().lines().count() > 3, "pretty printed");
        assert!(json_literal("{oops").is_err());
    }

    #[test]
    fn large_upstream_descriptors_go_to_data_files() {
        let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../specs/openapi/petstore-oas30.json");
        let ir = crate::load_ir(&crate::Options::new(spec)).unwrap().server;
        let file = |files: &[GeneratedFile], path: &str| {
            files
                .iter()
                .find(|f| f.path == std::path::Path::new(path))
                .map(|f| f.contents.clone())
        };
        let small = emit_with(&ir, usize::MAX).unwrap();
        assert!(file(&small, "src/upstream/tools.jsonl").is_none());
        let code = file(&small, "src/generated.rs").unwrap();
        assert!(code.contains("pub const UPSTREAM_TOOLS: &[(&str, &str, &str)]"));

        let large = emit_with(&ir, 0).unwrap();
        let code = file(&large, "src/generated.rs").unwrap();
        assert!(
            code.contains("include_str!(\"upstream/tools.jsonl\")"),
            "{code}"
        );
        assert!(!code.contains("UPSTREAM_TOOLS:"), "{code}");
        // The data files hold exactly the texts the literals would.
        let ctx = context(&ir);
        let up = &ctx["upstream"];
        let defs = file(&large, "src/upstream/defs.jsonl").unwrap();
        assert!(crate::files::is_generated(&defs), "{defs}");
        assert_eq!(
            defs.lines().skip(1).collect::<Vec<_>>(),
            [up["defs"].as_str().unwrap()]
        );
        let tools = file(&large, "src/upstream/tools.jsonl").unwrap();
        assert!(crate::files::is_generated(&tools), "{tools}");
        let listed = up["tools"].as_array().unwrap();
        let want: Vec<&str> = listed
            .iter()
            .flat_map(|t| {
                [
                    t["descriptor"].as_str().unwrap(),
                    t["operation"].as_str().unwrap(),
                ]
            })
            .collect();
        assert!(want.len() > 2);
        assert_eq!(tools.lines().skip(1).collect::<Vec<_>>(), want);
        // Per tool: the name its descriptor bears and its lines' lengths.
        let index = file(&large, TOOLS_INDEX).unwrap();
        assert!(crate::files::is_generated(&index), "{index}");
        let want: Vec<String> = listed
            .iter()
            .map(|t| {
                let (d, o) = (
                    t["descriptor"].as_str().unwrap(),
                    t["operation"].as_str().unwrap(),
                );
                let name = serde_json::from_str::<serde_json::Value>(d).unwrap()["name"].clone();
                format!("{} {} {}", name.as_str().unwrap(), d.len(), o.len())
            })
            .collect();
        assert_eq!(index.lines().skip(1).collect::<Vec<_>>(), want);
        let readme = file(&large, "README.md").unwrap();
        assert!(readme.contains("`src/upstream/*.jsonl`"), "{readme}");
        assert!(!file(&small, "README.md").unwrap().contains("src/upstream"));
        for path in [
            "src/upstream/resources.jsonl",
            "src/upstream/templates.jsonl",
        ] {
            assert_eq!(file(&large, path).unwrap().lines().count(), 1, "{path}");
        }
    }

    #[test]
    fn toml_strings() {
        assert_eq!(toml_string("a\"b\\c\n\u{7f}"), "\"a\\\"b\\\\c\\n\\u007F\"");
    }

    #[test]
    fn invalid_rust_is_a_typed_error() {
        let err = format_rust("test", "fn main() {\n    let x = ;\n}\n").unwrap_err();
        match err {
            Error::InvalidRust { line, template, .. } => {
                assert_eq!(template, "test");
                assert_eq!(line, 2);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

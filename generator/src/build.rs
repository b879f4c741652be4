//! Generating from a Cargo build script, in the manner of `prost-build`:
//! the spec lives in your crate, the generated code goes to `OUT_DIR`, and
//! `cargo build` regenerates it whenever the spec (or any file it reads)
//! changes.
//!
//! ```toml
//! # Cargo.toml
//! [dependencies]
//! # Add `features = ["upstream"]` when the spec imports an OpenAPI document.
//! mcpgen-runtime = "0.1"
//!
//! [dev-dependencies]
//! # `mcpgen_runtime::testing`, the in-process client, for your tests.
//! mcpgen-runtime = { version = "0.1", features = ["testing"] }
//!
//! [build-dependencies]
//! mcpgen = { version = "0.1", default-features = false }
//! ```
//!
//! ```no_run
//! // build.rs, in `fn main()`:
//! mcpgen::build::Builder::new("specs/server.yaml")
//!     .generate()
//!     // An invalid spec shows as `file:line:col: error: ...` lines.
//!     .unwrap_or_else(|e| panic!("{e}"));
//! ```
//!
//! ```ignore
//! // src/lib.rs
//! pub mod mcp {
//!     include!(concat!(env!("OUT_DIR"), "/mcpgen.rs"));
//! }
//!
//! #[derive(Default)]
//! pub struct MyHandlers;
//!
//! impl mcp::Handlers for MyHandlers { /* one method per tool … */ }
//!
//! // src/main.rs
//! fn main() -> std::process::ExitCode {
//!     mcpgen_runtime::cli::run(|| my_crate::mcp::server(my_crate::MyHandlers))
//! }
//! ```
//!
//! The included code is what `src/generated.rs` holds in a generated crate
//! (argument structs, the `Handlers` trait, `server()`), without inner
//! attributes so that `include!` accepts it; upstream descriptors over
//! 1 MiB are data files in `upstream/` next to it, as in a crate's `src/`. A change to the spec that adds
//! or removes a handler method is a compile error in your `impl` naming it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::{Options, emit};

/// The file written into the output directory unless told otherwise.
pub const DEFAULT_FILE_NAME: &str = "mcpgen.rs";

/// Configures generation from a build script.
#[derive(Debug, Clone)]
pub struct Builder {
    options: Options,
    out_dir: Option<PathBuf>,
    file_name: String,
    rerun_if_changed: bool,
}

/// What [`Builder::generate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The file written (`$OUT_DIR/mcpgen.rs`).
    pub path: PathBuf,
    /// Every file the spec read (the spec, bundled files, every file of a
    /// multi-file OpenAPI description): each got a `cargo:rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
}

impl Builder {
    /// Generate from `spec` (relative to the crate's directory, where Cargo
    /// runs build scripts).
    pub fn new(spec: impl Into<PathBuf>) -> Builder {
        Builder {
            options: Options::new(spec),
            out_dir: None,
            file_name: DEFAULT_FILE_NAME.to_string(),
            rerun_if_changed: true,
        }
    }

    /// Write into this directory instead of `$OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out_dir = Some(dir.into());
        self
    }

    /// Name of the generated file (default `mcpgen.rs`), for crates that
    /// generate from several specs.
    pub fn file_name(mut self, name: impl Into<String>) -> Builder {
        self.file_name = name.into();
        self
    }

    /// How OpenAPI input becomes tools (as on the command line).
    pub fn openapi(mut self, openapi: crate::OpenApiOptions) -> Builder {
        self.options = self.options.openapi(openapi);
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (default: yes).
    pub fn emit_rerun_if_changed(mut self, yes: bool) -> Builder {
        self.rerun_if_changed = yes;
        self
    }

    /// Generate, printing `cargo:` instructions to standard output.
    pub fn generate(&self) -> Result<Generated, Error> {
        self.generate_with(&mut std::io::stdout().lock())
    }

    /// Generate, writing `cargo:` instructions to `cargo` (for tests).
    pub fn generate_with(&self, cargo: &mut dyn Write) -> Result<Generated, Error> {
        let stdout_error = |source| Error::Write {
            path: PathBuf::from("<stdout>"),
            source,
        };
        // Rerun when the spec changes even if it is broken now.
        if self.rerun_if_changed {
            writeln!(
                cargo,
                "cargo:rerun-if-changed={}",
                self.options.spec.display()
            )
            .map_err(stdout_error)?;
        }
        let loaded = crate::load_ir(&self.options)?;
        if self.rerun_if_changed {
            for input in loaded.inputs.iter().skip(1) {
                writeln!(cargo, "cargo:rerun-if-changed={}", input.display())
                    .map_err(stdout_error)?;
            }
        }
        let files = emit::emit(&loaded.server)?;
        let generated = files
            .iter()
            .find(|f| f.path == Path::new("src/generated.rs"))
            .ok_or_else(|| Error::Template {
                template: "generated.rs.jinja",
                message: String::from("no src/generated.rs was emitted"),
            })?;
        let code = include_ready(&generated.contents, &loaded.server.spec_file)?;
        let dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or_else(|| {
                Error::BuildScript(String::from(
                    "OUT_DIR is not set: call mcpgen::build from a Cargo build script, or set Builder::out_dir",
                ))
            })?,
        };
        let path = dir.join(&self.file_name);
        write_if_changed(&path, &code)?;
        // Large upstream descriptors are data files that the code reads
        // with `include_str!("upstream/…")`, relative to itself.
        let base = path.parent().unwrap_or(&dir);
        for f in &files {
            let Ok(relative) = f.path.strip_prefix("src") else {
                continue;
            };
            if relative.starts_with("upstream") {
                let target = base.join(relative);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                        path: parent.to_path_buf(),
                        source,
                    })?;
                }
                write_if_changed(&target, &f.contents)?;
            }
        }
        Ok(Generated {
            path,
            inputs: loaded.inputs,
        })
    }
}

/// Generate `$OUT_DIR/mcpgen.rs` from `spec`, with `cargo:rerun-if-changed`
/// for every file it reads.
pub fn generate_to_out_dir(spec: impl AsRef<Path>) -> Result<Generated, Error> {
    Builder::new(spec.as_ref()).generate()
}

/// `generated.rs` as `include!` accepts it: no inner attributes or inner
/// doc comments; the lints they allowed are allowed on each item instead.
fn include_ready(generated_rs: &str, spec_file: &str) -> Result<String, Error> {
    let mut file = syn::parse_file(generated_rs).map_err(|e| Error::InvalidRust {
        template: "generated.rs.jinja",
        line: e.span().start().line,
        column: e.span().start().column + 1,
        message: e.to_string(),
        excerpt: String::new(),
    })?;
    file.attrs.clear();
    file.shebang = None;
    let allow: syn::Attribute = syn::parse_quote!(#[allow(clippy::all, unused_imports, dead_code)]);
    for item in &mut file.items {
        if let Some(attrs) = item_attrs(item) {
            attrs.insert(0, allow.clone());
        }
    }
    Ok(format!(
        "// @generated by mcpgen::build from {spec_file:?}: include it with\n// `include!(concat!(env!(\"OUT_DIR\"), \"/{DEFAULT_FILE_NAME}\"))` inside a module.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

fn item_attrs(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    use syn::Item;
    Some(match item {
        Item::Const(i) => &mut i.attrs,
        Item::Enum(i) => &mut i.attrs,
        Item::Fn(i) => &mut i.attrs,
        Item::Impl(i) => &mut i.attrs,
        Item::Mod(i) => &mut i.attrs,
        Item::Static(i) => &mut i.attrs,
        Item::Struct(i) => &mut i.attrs,
        Item::Trait(i) => &mut i.attrs,
        Item::Type(i) => &mut i.attrs,
        Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}

/// Write `contents` unless the file already holds them (keeps its mtime, so
/// Cargo does not rebuild for nothing).
fn write_if_changed(path: &Path, contents: &str) -> Result<(), Error> {
    if std::fs::read(path).ok().as_deref() == Some(contents.as_bytes()) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, contents).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

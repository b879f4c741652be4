//! mcpgen: generate a complete Rust MCP server crate from a YAML spec or
//! an OpenAPI description.
//!
//! The library API:
//!
//! * [`generate`] with [`Options`] makes a [`GeneratedCrate`] in memory;
//!   [`GeneratedCrate::write`] and [`GeneratedCrate::plan`] put it on disk
//!   or say what would change;
//! * [`build::Builder`] does the same from a Cargo build script, into
//!   `OUT_DIR`;
//! * [`validate`], [`load_ir`] and [`generate_ir`] are the steps one by one;
//! * [`diff::compare`] says what changed between two versions of a server
//!   for its MCP clients;
//! * every failure is an [`Error`], whose `Display` is the message to show:
//!   for a spec with problems, one `file:line:col: error: …` line per
//!   [`Diagnostic`].
//!
//! Inside, the pipeline is spec → IR → files (`docs/architecture.md`): the
//! front ends ([`spec`] for YAML, `openapi`) lower into the types of [`ir`],
//! `emit` renders the templates, `files` writes the crate.
//!
//! Cargo features: `cli` (default) builds the `mcpgen` binary (clap) and
//! turns on `remote-refs`, fetching OpenAPI `$ref`s on other hosts (blocking
//! reqwest). A build script depends on mcpgen with `default-features =
//! false` and compiles neither.
//!
//! ```no_run
//! let crate_ = mcpgen::generate(&mcpgen::Options::new("specs/example.yaml").runtime_path("../../runtime"))?;
//! crate_.write(std::path::Path::new("examples/notes"))?;
//! # Ok::<(), mcpgen::Error>(())
//! ```

// The public API is what the crate root re-exports plus `build` (build
// scripts), `diff` (`mcpgen diff` as a library), `ir` (the model `diff`
// compares and `LoadedIr` carries) and `spec` (the YAML format). Everything
// else is private, so that it can change without breaking users.
pub mod build;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
pub mod diff;
mod emit;
mod error;
mod files;
#[cfg(feature = "cli")]
mod init;
pub mod ir;
mod names;
// The OpenAPI front end's `pub` items are not narrowed to `pub(crate)` here:
// that edit belongs to the owners of `openapi/**` (issue 7 split the work
// so). The module is private either way: only `OpenApiOptions`, `Filter`,
// `Override` and `DEFAULT_MAX_OUTPUT_SCHEMA` are public, re-exported below.
#[allow(unreachable_pub)]
mod openapi;
pub mod spec;
mod yaml;

use std::path::{Path, PathBuf};

pub use error::{Diagnostic, Diagnostics, Error, Problem, Warning};
pub use files::{FileChange, GeneratedCrate, GeneratedFile, Plan, WriteAction, WriteOptions};
pub use ir::RuntimeDep;
pub use openapi::{
    DEFAULT_MAX_OUTPUT_SCHEMA, Filter, OpenApiOptions, Override, ToolSurface, Toolset,
};
pub use spec::{LoadedSpec, Spec};
pub use yaml::Pos;

/// The version requirement generated crates use for `mcpgen-runtime` when
/// no path is given.
pub const RUNTIME_VERSION: &str = "0.1";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The spec file.
    pub spec: PathBuf,
    /// Depend on the runtime by this path (relative to the generated crate's
    /// directory, written as given) instead of by version.
    pub runtime_path: Option<String>,
    /// The registry version requirement of the runtime when no path is
    /// given (default: [`RUNTIME_VERSION`]).
    pub runtime_version: Option<String>,
    /// How OpenAPI input (a description given as the spec, or a spec's
    /// `openapi` import) becomes tools.
    pub openapi: OpenApiOptions,
}

impl Options {
    /// Generate from `spec`, depending on the runtime by version, with the
    /// default OpenAPI options.
    pub fn new(spec: impl Into<PathBuf>) -> Self {
        Options {
            spec: spec.into(),
            runtime_path: None,
            runtime_version: None,
            openapi: OpenApiOptions::default(),
        }
    }

    /// How OpenAPI input becomes tools.
    pub fn openapi(mut self, openapi: OpenApiOptions) -> Self {
        self.openapi = openapi;
        self
    }

    /// Depend on the runtime by this path (relative to the generated crate).
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = Some(path.into());
        self
    }

    /// Depend on this registry version of the runtime (when no path is set).
    pub fn runtime_version(mut self, version: impl Into<String>) -> Self {
        self.runtime_version = Some(version.into());
        self
    }

    fn runtime(&self) -> RuntimeDep {
        match &self.runtime_path {
            Some(path) => RuntimeDep::Path { path: path.clone() },
            None => RuntimeDep::Version {
                version: self
                    .runtime_version
                    .clone()
                    .unwrap_or_else(|| RUNTIME_VERSION.to_string()),
            },
        }
    }
}

/// With `MCPGEN_TIMINGS` set, print on stderr how long generation has run
/// and its resident memory (Linux) when it reaches `phase`: a profile of
/// large documents (docs/scale.md).
pub(crate) fn tick(phase: &str) {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let start = START.get_or_init(std::time::Instant::now);
    if std::env::var_os("MCPGEN_TIMINGS").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .map_or(String::new(), |r| format!(", {} resident", r.trim()));
    eprintln!(
        "mcpgen: {:.3} s{rss}: {phase}",
        start.elapsed().as_secs_f64()
    );
}

/// Load and validate a spec; every problem is in the error.
pub fn validate(spec: &Path) -> Result<LoadedSpec, Error> {
    spec::load(spec)
}

/// Generate the crate described by `options.spec`, in memory.
pub fn generate(options: &Options) -> Result<GeneratedCrate, Error> {
    generate_ir(load_ir(options)?)
}

/// A spec turned into IR, with every file that was read to make it.
#[derive(Debug, Clone)]
pub struct LoadedIr {
    /// The server, lowered.
    pub server: ir::Server,
    /// The spec first, then every other file read (bundled files; every
    /// file of a multi-file document), as paths usable from the current
    /// directory.
    pub inputs: Vec<PathBuf>,
    /// What generation worked around (OpenAPI input); empty for specs.
    pub warnings: Vec<Warning>,
}

/// Load, validate and lower a spec to IR (what `generate` and `diff` use).
/// An OpenAPI description (told apart by its `openapi`/`swagger` version
/// key) is lowered to a server of its own.
pub fn load_ir(options: &Options) -> Result<LoadedIr, Error> {
    let text = std::fs::read(&options.spec).map_err(|source| Error::Read {
        path: options.spec.clone(),
        source,
    })?;
    if openapi::sniff(&String::from_utf8_lossy(&text)) {
        let l = openapi::lower(&options.spec, &options.openapi, options.runtime())?;
        return Ok(LoadedIr {
            server: l.server,
            inputs: l.inputs,
            warnings: l.warnings,
        });
    }
    let loaded = spec::load(&options.spec)?;
    let mut ir = load_ir_from(&loaded, options.runtime());
    let (inputs, warnings) = openapi::import(&loaded, &mut ir.server, &options.openapi)?;
    openapi::check_rate_limit_tools(&loaded, &ir.server)?;
    spec::add_operation_scopes(&loaded.spec, &mut ir.server);
    ir.inputs.extend(inputs);
    ir.warnings = warnings;
    Ok(ir)
}

fn load_ir_from(loaded: &LoadedSpec, runtime: RuntimeDep) -> LoadedIr {
    let mut inputs = vec![loaded.path.clone()];
    inputs.extend(loaded.files.keys().map(|f| loaded.base_dir.join(f)));
    LoadedIr {
        server: spec::lower(loaded, runtime),
        inputs,
        warnings: Vec::new(),
    }
}

/// Emit the crate for already lowered IR.
pub fn generate_ir(loaded: LoadedIr) -> Result<GeneratedCrate, Error> {
    tick("IR ready");
    let files = emit::emit(&loaded.server)?;
    Ok(GeneratedCrate {
        package: loaded.server.package,
        files,
        inputs: loaded.inputs,
    })
}

//! mcpgen: generate a complete Rust MCP server crate from a YAML spec.
//!
//! The pipeline is spec → IR → files:
//!
//! * [`spec`]: the YAML format (serde + schemars types), positioned parsing
//!   ([`yaml`]) and semantic checks ([`spec::validate`]); every
//!   problem is reported with its line and column; [`spec::lower`] lowers a
//!   loaded spec to IR;
//! * [`ir`]: plain types both front ends lower into: identifiers (from
//!   [`names`]), Rust types and MCP descriptor JSON, computed once;
//! * [`emit`]: minijinja templates → `syn` → `prettyplease`;
//! * [`files`]: the crate in memory and the `write` step.
//!
//! ```no_run
//! let crate_ = mcpgen::generate(&mcpgen::Options::new("specs/example.yaml").runtime_path("../../runtime"))?;
//! crate_.write(std::path::Path::new("examples/notes"))?;
//! # Ok::<(), mcpgen::Error>(())
//! ```

pub mod build;
pub mod cli;
pub mod diff;
pub mod emit;
pub mod error;
pub mod files;
pub mod init;
pub mod ir;
pub mod names;
pub mod openapi;
pub mod spec;
pub mod yaml;

use std::path::{Path, PathBuf};

pub use error::{Diagnostic, Diagnostics, Error, Problem, Warning};
pub use files::{GeneratedCrate, GeneratedFile, Plan, WriteAction, WriteOptions};
pub use ir::RuntimeDep;
pub use openapi::OpenApiOptions;
pub use spec::{LoadedSpec, Spec};

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
    /// How OpenAPI input (a description given as the spec, or a spec's
    /// `openapi` import) becomes tools.
    pub openapi: OpenApiOptions,
}

impl Options {
    pub fn new(spec: impl Into<PathBuf>) -> Self {
        Options {
            spec: spec.into(),
            runtime_path: None,
            openapi: OpenApiOptions::default(),
        }
    }

    pub fn openapi(mut self, openapi: OpenApiOptions) -> Self {
        self.openapi = openapi;
        self
    }

    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = Some(path.into());
        self
    }

    fn runtime(&self) -> RuntimeDep {
        match &self.runtime_path {
            Some(path) => RuntimeDep::Path { path: path.clone() },
            None => RuntimeDep::Version {
                version: RUNTIME_VERSION.to_string(),
            },
        }
    }
}

/// Load and validate a spec; every problem is in the error.
pub fn validate(spec: &Path) -> Result<LoadedSpec, Error> {
    spec::load(spec)
}

/// Generate the crate described by `options.spec`, in memory.
pub fn generate(options: &Options) -> Result<GeneratedCrate, Error> {
    generate_ir(load_ir(options)?)
}

/// Generate from an already loaded spec.
pub fn generate_loaded(loaded: &LoadedSpec, runtime: RuntimeDep) -> Result<GeneratedCrate, Error> {
    let mut ir = load_ir_from(loaded, runtime);
    let (inputs, warnings) = openapi::import(loaded, &mut ir.server, &OpenApiOptions::default())?;
    ir.inputs.extend(inputs);
    ir.warnings = warnings;
    generate_ir(ir)
}

/// A spec turned into IR, with every file that was read to make it.
#[derive(Debug, Clone)]
pub struct LoadedIr {
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
    ir.inputs.extend(inputs);
    ir.warnings = warnings;
    Ok(ir)
}

fn load_ir_from(loaded: &LoadedSpec, runtime: RuntimeDep) -> LoadedIr {
    let mut inputs = vec![loaded.path.clone()];
    inputs.extend(loaded.files.keys().map(|f| loaded.base_dir.join(f)));
    LoadedIr {
        server: spec::lower::lower(loaded, runtime),
        inputs,
        warnings: Vec::new(),
    }
}

/// Emit the crate for already lowered IR.
pub fn generate_ir(loaded: LoadedIr) -> Result<GeneratedCrate, Error> {
    let files = emit::emit(&loaded.server)?;
    Ok(GeneratedCrate {
        package: loaded.server.package,
        files,
        inputs: loaded.inputs,
    })
}
